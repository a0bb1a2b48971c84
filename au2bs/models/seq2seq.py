"""0.4: an encoder summarises the utterance, a decoder re-reads it with the summary."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.encoder import GRUEncoder
from au2bs.models.heads import OutputHead
from au2bs.models.interface import ModelOutput, check_inputs


class Seq2Seq(nn.Module):
    """GRUNet 0.4.

    The encoder GRU's final state `h_enc` summarises the whole utterance;
    the decoder GRU, started from zeros, reads `[x_t ; h_enc]`; the output
    Linear reads `[x_t ; h_dec_t ; h_enc]`. Not causal.

    No decoder step depends on an earlier output, so the decoder is one
    `nn.GRU` call over the sequence where the research stepped a GRUCell
    frame by frame (same numbers, see `tests/reference_seq2seq.py`).

    Deviations from the research: see `au2bs.models.registry`.
    """

    def __init__(self, hidden_size: int, out_channels: int, dropout: float) -> None:
        super().__init__()
        self.encoder = GRUEncoder(NUM_AUS, hidden_size)
        self.decoder = GRUEncoder(NUM_AUS + hidden_size, hidden_size)
        self.head = OutputHead(NUM_AUS + 2 * hidden_size, out_channels, dropout, clamp=False)

    def forward(self, x: Tensor, lengths: Tensor) -> ModelOutput:
        """(B, T, 17), (B,) -> prediction (B, T, C)."""
        check_inputs(x, lengths)
        _, summary = self.encoder(x, lengths)  # (B, H)
        summary = summary.unsqueeze(1).expand(-1, x.shape[1], -1)  # (B, T, H)
        decoded, _ = self.decoder(torch.cat([x, summary], dim=-1), lengths)  # (B, T, H)
        features = torch.cat([x, decoded, summary], dim=-1)  # (B, T, 17 + 2H)
        return ModelOutput(self.head(features))  # (B, T, C)
