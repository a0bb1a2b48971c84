"""The causal GRU regressors: 0.1, 0.2, 0.3, 0.7, 0.75 and 0.8.

All six are one module: a GRU encoder read frame by frame by an output
head, with 0.8's activation gate as an optional part. What tells them apart
lives in their specs (`registry.py`): outputs, final ReLU, loss, defaults.
"""

from __future__ import annotations

from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.encoder import GRUEncoder
from au2bs.models.heads import ActivationGate, OutputHead
from au2bs.models.interface import ModelOutput, check_inputs


class GRURegressor(nn.Module):
    """GRU (17 -> H), dropout, Linear (H -> C), optional final ReLU and gate.

    Output at frame t depends on frames <= t only, so it runs in real time.

    Deviations from the research: see `au2bs.models.registry`.
    """

    def __init__(
        self,
        hidden_size: int,
        out_channels: int,
        dropout: float,
        clamp: bool,
        gated: bool = False,
    ) -> None:
        """Builds the parts.

        Args:
            hidden_size: GRU state size H.
            out_channels: C, 61 or 52.
            dropout: rate on the GRU outputs.
            clamp: final ReLU on the blendshape channels.
            gated: add 0.8's activation gate (its logits are returned too).
        """
        super().__init__()
        self.encoder = GRUEncoder(NUM_AUS, hidden_size)
        self.head = OutputHead(hidden_size, out_channels, dropout, clamp)
        self.gate = ActivationGate(NUM_AUS, out_channels) if gated else None

    def forward(self, x: Tensor, lengths: Tensor) -> ModelOutput:
        """(B, T, 17), (B,) -> prediction (B, T, C) [+ activation logits (B, T, C)]."""
        check_inputs(x, lengths)
        states, _ = self.encoder(x, lengths)  # (B, T, H)
        prediction = self.head(states)  # (B, T, C)
        if self.gate is None:
            return ModelOutput(prediction)
        prediction, logits = self.gate(x, prediction)  # (B, T, C) each
        return ModelOutput(prediction, logits)

    def continue_from(self, x: Tensor, hidden: Tensor | None) -> tuple[Tensor, Tensor]:
        """Unpadded frames (B, t, 17) from GRU state `hidden` (1, B, H), None = zeros ->
        prediction (B, t, C) and the state after them: what `forward` computes, a piece at a time
        (frame-by-frame streaming, ONNX step models)."""
        states, hidden = self.encoder.gru(x, hidden)  # (B, t, H), (1, B, H)
        prediction = self.head(states)  # (B, t, C)
        if self.gate is not None:
            prediction, _ = self.gate(x, prediction)
        return prediction, hidden
