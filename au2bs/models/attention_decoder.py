"""0.5 and 0.6: a GRU decoder that attends over the encoder outputs at every step."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.attention import AdditiveAttention
from au2bs.models.attention_recurrence import decode_with_attention
from au2bs.models.encoder import GRUEncoder
from au2bs.models.heads import OutputHead
from au2bs.models.interface import ModelOutput, check_inputs, sequence_mask


class AttentionSeq2Seq(nn.Module):
    """GRUNet 0.5 (`mask_padding=False`) and 0.6 (`mask_padding=True`).

    Encoder GRU outputs E (zero at padding, as the research's unpacked
    packed-sequence outputs were) and final state h_enc. The decoder starts
    from h_enc; at step t, with query q = h_{t-1}, additive attention gives
    weights alpha over the T positions and context c_t = alpha E; the decoder
    GRU cell reads [x_t ; c_t]; the output Linear reads [h_t ; c_t ; x_t].
    Not causal. The step loop is inherent (the query is the previous state).

    0.5 attends over all T positions, padding included, as the research did:
    a sequence's outputs then depend on how much padding its batch adds
    (its spec says `padding_invariant=False`). 0.6 masks padding out of the
    softmax and is padding invariant.

    Exact to rounding, faster than the research's step:
        - keys U_a E and the x_t share of the GRU input projection are
          computed for all steps before the loop;
        - the loop itself (`attention_recurrence.py`) runs outside autograd
          with a hand-written backward; W_hh h_{t-1} and W_a q share one
          matmul, scores use sigmoid instead of tanh (see
          `AdditiveAttention`), and weight and memory gradients are formed
          once after the loop instead of per step;
        - the output Linear runs once over all steps after the loop.

    Deviations from the research: see `au2bs.models.registry`.
    """

    def __init__(self, hidden_size: int, out_channels: int, dropout: float, mask_padding: bool) -> None:
        super().__init__()
        self.encoder = GRUEncoder(NUM_AUS, hidden_size)
        self.attention = AdditiveAttention(hidden_size)
        self.decoder = nn.GRUCell(NUM_AUS + hidden_size, hidden_size)  # reads [x_t ; c_t]
        self.head = OutputHead(2 * hidden_size + NUM_AUS, out_channels, dropout, clamp=False)
        self.mask_padding = mask_padding

    def forward(self, x: Tensor, lengths: Tensor) -> ModelOutput:
        """(B, T, 17), (B,) -> prediction (B, T, C)."""
        check_inputs(x, lengths)
        steps = x.shape[1]
        valid = sequence_mask(lengths, steps)  # (B, T)
        memory, h = self.encoder(x, lengths)  # (B, T, H), (B, H)
        memory = memory * valid.unsqueeze(-1).to(memory.dtype)  # (B, T, H) zero at padding
        prepared = self.attention.prepare(memory)
        padding = ~valid if self.mask_padding else None  # (B, T)

        w_input = self.decoder.weight_ih  # (3H, 17 + H): [x_t ; c_t] columns
        input_x = F.linear(x, w_input[:, :NUM_AUS], self.decoder.bias_ih)  # (B, T, 3H)
        states, context = decode_with_attention(
            prepared.keys,
            prepared.energy_weight,
            memory,
            input_x,
            h,
            self.decoder.weight_hh,
            self.decoder.bias_hh,
            prepared.query_weight,
            w_input[:, NUM_AUS:],
            padding,
        )  # (B, T, H) each
        features = torch.cat([states, context, x], dim=-1)  # (B, T, 2H + 17)
        return ModelOutput(self.head(features))  # (B, T, C)
