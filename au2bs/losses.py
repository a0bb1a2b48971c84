"""Training losses over padded batches; padding never counts.

Every function takes a padded batch and a (B, T) bool mask of valid frames.
Masking uses `torch.where` before any arithmetic on the target, so whatever
sits in padded targets (zeros, NaN) reaches neither the loss nor the
gradients. The research counted padding in
the losses of 0.1-0.5; here it never does.

An architecture's loss is a `SequenceLoss`, built from its spec's
`LossRecipe` and its `ModelConfig` weights, and called as
`loss(output, target, mask)` with the full (B, T, 61) Live Link Face target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from au2bs.constants import LIVELINK_NAMES, NUM_BLENDSHAPES
from au2bs.metrics import ACTIVATION_EPS

if TYPE_CHECKING:
    from au2bs.models.interface import ModelOutput


def _valid(mask: Tensor) -> Tensor:
    return mask.unsqueeze(-1)  # (B, T, 1)


def _valid_count(mask: Tensor) -> Tensor:
    return mask.sum().clamp_min(1)


def masked_mse(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean of (y_hat - y)^2 over valid frames and all channels.

    Args:
        prediction: (B, T, C).
        target: (B, T, C).
        mask: (B, T) bool, True at valid frames.

    Returns:
        Scalar. Every valid frame weighs the same (the research's 0.3
        summed per-utterance means instead, which weighs short utterances'
        frames more).
    """
    error = torch.where(_valid(mask), prediction - target, 0.0)  # (B, T, C)
    return error.square().sum() / (_valid_count(mask) * prediction.shape[-1])


def masked_column_sum_mse(prediction: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-channel MSE over valid frames, summed over channels (0.75).

    Equals `masked_mse * C`: every blendshape column contributes its own
    error instead of a 1/C share of the average.
    """
    error = torch.where(_valid(mask), prediction - target, 0.0)  # (B, T, C)
    return error.square().sum() / _valid_count(mask)


def negrelu_penalty(prediction: Tensor, mask: Tensor) -> Tensor:
    """mean(relu(-y_hat)) over valid frames and the 52 blendshape channels.

    The blendshape channels are the first 52 in both the 61- and the
    52-channel layouts. The 9 rotation channels are signed, so the research's
    penalty on all 61 outputs pushed legitimate negative rotations to zero;
    they are left out here.
    """
    negative = torch.relu(-prediction[..., :NUM_BLENDSHAPES])  # (B, T, 52)
    negative = torch.where(_valid(mask), negative, 0.0)
    return negative.sum() / (_valid_count(mask) * negative.shape[-1])


def masked_activation_bce(
    logits: Tensor, target: Tensor, mask: Tensor, eps: float = ACTIVATION_EPS
) -> Tensor:
    """BCE of "active" logits against `target > eps`, mean over valid frames and channels (0.8).

    Args:
        logits: (B, T, C) activation logits.
        target: (B, T, C) blendshape targets (not yet thresholded).
        mask: (B, T) bool.
        eps: a target above this is active (the metrics' threshold).
    """
    active = (target > eps).to(logits.dtype)  # (B, T, C)
    bce = F.binary_cross_entropy_with_logits(logits, active, reduction="none")  # (B, T, C)
    bce = torch.where(_valid(mask), bce, 0.0)
    return bce.sum() / (_valid_count(mask) * logits.shape[-1])


@dataclass(frozen=True)
class SequenceLoss:
    """One architecture's training objective, `loss(output, target, mask)`.

    `target` is the (B, T, 61) Live Link Face target (or already the model's
    C channels); the model predicts its first `channels` channels.
    """

    # 61 (blendshapes + rotations) or 52 (blendshapes only, 0.7 on).
    channels: int
    # Weight of `negrelu_penalty`; 0 = off.
    negrelu_weight: float = 0.0
    # Sum per-channel MSE over channels instead of averaging (0.75).
    column_sum: bool = False
    # Weight of `masked_activation_bce`; 0 = off (only 0.8 has logits).
    activation_weight: float = 0.0

    def __call__(self, output: ModelOutput, target: Tensor, mask: Tensor) -> Tensor:
        """Scalar loss for a batch; see the fields for its terms."""
        target = target[..., : self.channels]  # (B, T, C)
        prediction = output.prediction  # (B, T, C)
        if prediction.shape[-1] != self.channels:
            raise ValueError(f"loss expects {self.channels} channels, model gave {prediction.shape[-1]}")
        mse = masked_column_sum_mse if self.column_sum else masked_mse
        loss = mse(prediction, target, mask)
        if self.negrelu_weight > 0:
            loss = loss + self.negrelu_weight * negrelu_penalty(prediction, mask)
        if self.activation_weight > 0:
            if output.activation_logits is None:
                raise ValueError("activation loss needs the model's activation_logits")
            blend = target[..., :NUM_BLENDSHAPES]
            loss = loss + self.activation_weight * masked_activation_bce(
                output.activation_logits, blend, mask
            )
        return loss


@dataclass(frozen=True)
class LossRecipe:
    """Which terms an architecture's loss has; their weights come from its config."""

    negrelu: bool = False  # + negrelu_weight * NegReLU penalty
    column_sum: bool = False  # MSE summed over channels (0.75)
    activation: bool = False  # + activation_weight * BCE on the activation logits (0.8)

    def build(self, channels: int, negrelu_weight: float, activation_weight: float) -> SequenceLoss:
        """The loss for a model with `channels` outputs and the given weights."""
        if not 0 < channels <= len(LIVELINK_NAMES):
            raise ValueError(f"channels must be in 1..{len(LIVELINK_NAMES)}, got {channels}")
        return SequenceLoss(
            channels=channels,
            negrelu_weight=negrelu_weight if self.negrelu else 0.0,
            column_sum=self.column_sum,
            activation_weight=activation_weight if self.activation else 0.0,
        )

    def describe(self) -> str:
        """A short name, e.g. "masked MSE + w*NegReLU"."""
        text = "masked column-sum MSE" if self.column_sum else "masked MSE"
        if self.negrelu:
            text += " + w*NegReLU(52)"
        if self.activation:
            text += " + w*BCE(activation)"
        return text
