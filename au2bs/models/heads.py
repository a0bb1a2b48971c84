"""Output heads: features per frame -> channels per frame."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from au2bs.constants import NUM_BLENDSHAPES


class OutputHead(nn.Module):
    """Dropout, then one Linear, then optionally a ReLU on the blendshape channels.

    `clamp` is the research's final ReLU (0.1, 0.3, 0.7-0.8, FCNet). It
    applies to the blendshape channels only (the first 52 of the Live Link
    Face order): the research clamped all 61 outputs, which forced the 9
    signed head / eye rotation channels to be >= 0 and made every negative
    rotation unlearnable.
    """

    def __init__(self, in_features: int, out_channels: int, dropout: float, clamp: bool) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_features, out_channels)
        self.clamp = clamp

    def forward(self, features: Tensor) -> Tensor:
        """(B, T, F) -> (B, T, C)."""
        out = self.linear(self.dropout(features))  # (B, T, C)
        if not self.clamp:
            return out
        if out.shape[-1] <= NUM_BLENDSHAPES:
            return torch.relu(out)
        blend, rotation = out.split([NUM_BLENDSHAPES, out.shape[-1] - NUM_BLENDSHAPES], dim=-1)
        return torch.cat([torch.relu(blend), rotation], dim=-1)  # (B, T, C)


class ActivationGate(nn.Module):
    """0.8's per-frame "is this blendshape active" head: Linear(17 -> 52) on the AUs.

    The gate is closed where sigmoid(logit) <= 0.5, i.e. logit <= 0. It is a
    hard 0/1 mask: the regression gets no gradient where the gate is closed
    and the gate learns only from its BCE term.
    """

    def __init__(self, input_size: int, out_channels: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_size, out_channels)

    def forward(self, x: Tensor, prediction: Tensor) -> tuple[Tensor, Tensor]:
        """Gates a prediction.

        Args:
            x: (B, T, I) inputs.
            prediction: (B, T, C) ungated outputs.

        Returns:
            The gated prediction (B, T, C) and the logits (B, T, C).
        """
        logits = self.linear(x)  # (B, T, C)
        return prediction * (logits > 0).to(prediction.dtype), logits
