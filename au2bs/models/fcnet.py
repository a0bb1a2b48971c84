"""The per-frame baseline: no recurrence, each frame mapped on its own."""

from __future__ import annotations

from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.heads import OutputHead
from au2bs.models.interface import ModelOutput, check_inputs


class FCNet(nn.Module):
    """Per-frame baseline: three Linear layers, no recurrence.

    Linear (17 -> H), ReLU, dropout, Linear (H -> H), ReLU, dropout,
    Linear (H -> C), final ReLU on the blendshape channels. The research log
    names FCNet without its details; this is the plainest reading of "three
    Linear layers", sized like the GRUs so the comparison is about
    recurrence, not width.
    """

    def __init__(self, hidden_size: int, out_channels: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(NUM_AUS, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
        )
        self.head = OutputHead(hidden_size, out_channels, dropout, clamp=True)

    def forward(self, x: Tensor, lengths: Tensor) -> ModelOutput:
        """(B, T, 17), (B,) -> prediction (B, T, C); `lengths` is not needed."""
        check_inputs(x, lengths)
        return ModelOutput(self.head(self.body(x)))  # (B, T, C)
