"""Summary statistics of Live Link Face streams, to compare synthetic and real takes.

The same figures as ../shared/data/README.md reports for the real takes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from au2bs.constants import BLENDSHAPE_NAMES, LIVELINK_NAMES, NUM_BLENDSHAPES, NUM_LIVELINK

_EYE_ROTATIONS = [LIVELINK_NAMES.index(n) for n in LIVELINK_NAMES[NUM_BLENDSHAPES:] if "Eye" in n]
_HEAD_ROTATIONS = [LIVELINK_NAMES.index(n) for n in LIVELINK_NAMES[NUM_BLENDSHAPES:] if "Head" in n]
TOP_SPREAD = 6  # how many of the widest-spread blendshapes to list
MOSTLY_ZERO = 0.8  # a channel exactly 0 in at least this share of frames is "mostly zero"


def blendshape_statistics(values: np.ndarray | Sequence[np.ndarray]) -> dict:
    """Statistics of (frames, 61) Live Link Face values.

    Args:
        values: one array, or a list of per-take arrays (autocorrelations
            are computed within each take, never across a cut).

    Returns:
        A dict: `frames`, `takes`; over the 52 blendshapes `min_52`,
        `mean_52`, `max_52`, `negative_share_52`, `zero_share` (per channel),
        `median_zero_share` (median over channels of the share of frames
        exactly 0), `mostly_zero` (channels 0 in >= 80 % of frames), `std`
        (per channel, all 61), `top_spread` (the 6 blendshapes of largest
        std, largest first); `median_lag1_autocorrelation` (median over
        takes x non-constant channels); `eye_rotation_min`/`_max` and
        `head_rotation_max_abs`.
    """
    takes = [np.asarray(values, dtype=np.float64)] if isinstance(values, np.ndarray) else list(values)
    takes = [np.asarray(take, dtype=np.float64) for take in takes]
    for take in takes:
        if take.ndim != 2 or take.shape[1] != NUM_LIVELINK:
            raise ValueError(f"expected (frames, {NUM_LIVELINK}) arrays, got {take.shape}")
    every = np.concatenate(takes)
    shapes = every[:, :NUM_BLENDSHAPES]
    zero = (shapes == 0.0).mean(axis=0)
    std = every.std(axis=0)
    order = np.argsort(-std[:NUM_BLENDSHAPES], kind="stable")
    return {
        "frames": int(len(every)),
        "takes": len(takes),
        "min_52": float(shapes.min()),
        "mean_52": float(shapes.mean()),
        "max_52": float(shapes.max()),
        "negative_share_52": float((shapes < 0).mean()),
        "zero_share": dict(zip(BLENDSHAPE_NAMES, zero.tolist())),
        "median_zero_share": float(np.median(zero)),
        "mostly_zero": [BLENDSHAPE_NAMES[i] for i in np.flatnonzero(zero >= MOSTLY_ZERO)],
        "std": dict(zip(LIVELINK_NAMES, std.tolist())),
        "top_spread": [BLENDSHAPE_NAMES[i] for i in order[:TOP_SPREAD]],
        "median_lag1_autocorrelation": _median_autocorrelation(takes),
        "eye_rotation_min": float(every[:, _EYE_ROTATIONS].min()),
        "eye_rotation_max": float(every[:, _EYE_ROTATIONS].max()),
        "head_rotation_max_abs": float(np.abs(every[:, _HEAD_ROTATIONS]).max()),
    }


def _median_autocorrelation(takes: list[np.ndarray]) -> float:
    """Median lag-1 autocorrelation over every (take, non-constant channel)."""
    found = []
    for take in takes:
        if len(take) < 3:
            continue
        before, after = take[:-1] - take[:-1].mean(0), take[1:] - take[1:].mean(0)
        scale = np.sqrt((before**2).sum(0) * (after**2).sum(0))
        moving = scale > 1e-12
        found.extend(((before * after).sum(0)[moving] / scale[moving]).tolist())
    return float(np.median(found)) if found else float("nan")
