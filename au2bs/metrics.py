"""Evaluation metrics on a split: plain numpy in, a JSON-ready dict out.

Inputs are the valid frames only: a list of per-utterance (T_i, C) arrays,
or one (N, C) concatenation with the utterance lengths. Targets may carry
all 61 Live Link Face channels; the model's C channels are its first C
(61, or the 52 blendshapes).

Every figure is given twice: for the 52 blendshapes, the comparable one
across architectures, and for all the channels the model predicts.

Two poolings, because the research reported one and it is not the usual:
    - `mse`, `r2`, ...: pooled over all frames of the split and all channels
      (every frame weighs the same);
    - `research_mse`, `research_r2`: per utterance on the flattened
      frames x channels vector, then averaged over utterances, as the
      research computed them (short utterances weigh as much as long ones).
Neither is R2 per channel: `r2_per_channel` averages the R2 of each
channel, leaving out channels whose target is constant or barely moves
(standard deviation under `ACTIVATION_EPS`: their R2 is undefined or
explodes) and saying how many were left out.

Activation precision / recall compare the prediction with the target
(predicted active = y_hat > eps, target active = y > eps); one version of
the research compared the prediction with itself. Precision is 0 when
nothing is predicted active, recall 0 when nothing is active. A figure
that is undefined on the split (R2 of a constant target) is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from au2bs.constants import BLENDSHAPE_NAMES, LIVELINK_NAMES, NUM_BLENDSHAPES

# A channel counts as active above this value (blendshapes live in 0-1): 1 %
# of the range, below what a rig shows, and above the small non-zero values
# smoothing leaves around exact zeros.
ACTIVATION_EPS = 0.01

# A target vector whose variance is at most this is constant: no R2.
_CONSTANT_VARIANCE = 1e-12
# Per channel, a target that barely moves (standard deviation under the
# activation threshold, 1 % of the range) counts as constant too: its R2
# divides by almost nothing, and one such channel (a MouthLeft active in
# 0.05 % of frames, variance 7e-9) turned a per-channel mean of 0.64 into
# -340 for a model whose MSE was as good as the others'.
_STILL_CHANNEL_VARIANCE = ACTIVATION_EPS**2

ArrayLike = np.ndarray | Sequence[np.ndarray]


def unpad(batch: np.ndarray, lengths: Sequence[int] | np.ndarray) -> list[np.ndarray]:
    """Cuts a padded (B, T, C) batch into its B valid (T_i, C) arrays."""
    batch = np.asarray(batch)
    return [batch[i, : int(n)] for i, n in enumerate(lengths)]


def channel_names(channels: int) -> tuple[str, ...]:
    """Names of a model's C output channels: all 61, or the 52 blendshapes."""
    if channels == len(LIVELINK_NAMES):
        return LIVELINK_NAMES
    if channels == NUM_BLENDSHAPES:
        return BLENDSHAPE_NAMES
    raise ValueError(f"expected {len(LIVELINK_NAMES)} or {NUM_BLENDSHAPES} channels, got {channels}")


def compute_metrics(
    predictions: ArrayLike,
    targets: ArrayLike,
    lengths: Sequence[int] | np.ndarray | None = None,
    eps: float = ACTIVATION_EPS,
) -> dict:
    """Every metric of one split.

    Args:
        predictions: per-utterance (T_i, C) arrays, or their (N, C) concatenation.
        targets: the same layout with C or more channels (61 Live Link Face).
        lengths: utterance lengths when predictions/targets are concatenations;
            without them a concatenation counts as one utterance.
        eps: activation threshold (`ACTIVATION_EPS`).

    Returns:
        {"frames", "utterances", "activation_eps", "blendshapes": {...},
        "all": {...}, "per_channel": {"mse": {name: v}, "r2": {name: v | None}}}.
        Group keys: mse, rmse, mae, r2, research_mse, research_r2,
        research_r2_utterances, r2_per_channel, r2_channels, r2_constant_channels,
        precision, recall, f1.
    """
    pred, true, bounds = _concatenate(predictions, targets, lengths)
    names = channel_names(pred.shape[1])
    true = true[:, : len(names)]
    result: dict = {
        "frames": int(pred.shape[0]),
        "utterances": len(bounds) - 1,
        "activation_eps": float(eps),
        "blendshapes": _group(pred[:, :NUM_BLENDSHAPES], true[:, :NUM_BLENDSHAPES], bounds, eps),
        "all": _group(pred, true, bounds, eps),
    }
    per_mse = ((pred - true) ** 2).mean(axis=0)  # (C,)
    per_r2 = _r2_per_channel(pred, true)  # (C,), NaN where constant
    result["per_channel"] = {
        "mse": {name: float(v) for name, v in zip(names, per_mse)},
        "r2": {name: (None if np.isnan(v) else float(v)) for name, v in zip(names, per_r2)},
    }
    return result


def flatten_metrics(metrics: dict) -> dict[str, float]:
    """The scalars of `compute_metrics` as "group/name" keys, e.g. "blendshapes/r2"."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if key == "per_channel":
            continue
        if isinstance(value, dict):
            flat.update({f"{key}/{name}": v for name, v in value.items()})
        else:
            flat[key] = value
    return flat


def _concatenate(
    predictions: ArrayLike, targets: ArrayLike, lengths: Sequence[int] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, C) float64 predictions, (N, >= C) targets and (U + 1,) utterance bounds."""
    if isinstance(predictions, np.ndarray) and predictions.ndim == 2:
        pred = predictions.astype(np.float64)
        true = np.asarray(targets, dtype=np.float64)
        sizes = np.asarray([len(pred)] if lengths is None else lengths, dtype=np.int64)
    else:
        if len(predictions) != len(targets):
            raise ValueError(f"{len(predictions)} predictions but {len(targets)} targets")
        pred = np.concatenate([np.asarray(p, dtype=np.float64) for p in predictions])
        true = np.concatenate([np.asarray(t, dtype=np.float64) for t in targets])
        sizes = np.asarray([len(p) for p in predictions], dtype=np.int64)
    if pred.ndim != 2 or true.ndim != 2 or len(pred) != len(true) or true.shape[1] < pred.shape[1]:
        raise ValueError(f"predictions {pred.shape} and targets {true.shape} do not match")
    if sizes.sum() != len(pred) or len(pred) == 0:
        raise ValueError(f"utterance lengths sum to {sizes.sum()}, expected {len(pred)} frames (> 0)")
    return pred, true, np.concatenate([[0], np.cumsum(sizes)])


def _r2(pred: np.ndarray, true: np.ndarray) -> float:
    """R2 of a flattened vector (sklearn's r2_score on ravel()); NaN if the target is constant."""
    ss_tot = ((true - true.mean()) ** 2).sum()
    if ss_tot <= _CONSTANT_VARIANCE * true.size:
        return float("nan")
    return float(1.0 - ((true - pred) ** 2).sum() / ss_tot)


def _r2_per_channel(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(C,) R2 of each channel over all frames; NaN for (nearly) constant channels."""
    ss_tot = ((true - true.mean(axis=0)) ** 2).sum(axis=0)  # (C,)
    ss_res = ((true - pred) ** 2).sum(axis=0)  # (C,)
    constant = ss_tot <= _STILL_CHANNEL_VARIANCE * len(true)
    return np.where(constant, np.nan, 1.0 - ss_res / np.where(constant, 1.0, ss_tot))


def _group(pred: np.ndarray, true: np.ndarray, bounds: np.ndarray, eps: float) -> dict[str, float]:
    """Every scalar metric of one channel group."""
    error = pred - true  # (N, C)
    mse = float((error**2).mean())
    research_mse, research_r2 = [], []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        research_mse.append(float((error[start:stop] ** 2).mean()))
        research_r2.append(_r2(pred[start:stop], true[start:stop]))
    research_r2_valid = [v for v in research_r2 if not np.isnan(v)]
    per_channel = _r2_per_channel(pred, true)
    used = per_channel[~np.isnan(per_channel)]
    predicted, actual = pred > eps, true > eps
    hits = float((predicted & actual).sum())
    precision = hits / predicted.sum() if predicted.any() else 0.0
    recall = hits / actual.sum() if actual.any() else 0.0
    return {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.abs(error).mean()),
        "r2": _r2(pred, true),
        "research_mse": float(np.mean(research_mse)),
        "research_r2": float(np.mean(research_r2_valid)) if research_r2_valid else float("nan"),
        "research_r2_utterances": float(len(research_r2_valid)),
        "r2_per_channel": float(used.mean()) if used.size else float("nan"),
        "r2_channels": float(used.size),
        "r2_constant_channels": float(per_channel.size - used.size),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(2 * precision * recall / (precision + recall)) if precision + recall > 0 else 0.0,
    }
