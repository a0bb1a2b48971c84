"""0.5 and 0.6: a GRU decoder that attends over the encoder outputs at every step."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from au2bs.constants import NUM_AUS
from au2bs.models.attention import AdditiveAttention
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
        - W_hh h_{t-1} and W_a q share one matmul (the query is h_{t-1});
        - sigmoid-based scores (see `AdditiveAttention`);
        - the output Linear runs once over all steps after the loop.
    Other deviations: dropout acts on the features the output Linear reads;
    no final ReLU (the loss adds the NegReLU penalty).
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
        hidden = self.decoder.hidden_size
        valid = sequence_mask(lengths, steps)  # (B, T)
        memory, h = self.encoder(x, lengths)  # (B, T, H), (B, H)
        memory = memory * valid.unsqueeze(-1).to(memory.dtype)  # (B, T, H) zero at padding
        prepared = self.attention.prepare(memory)
        padding = ~valid if self.mask_padding else None  # (B, T)

        w_input = self.decoder.weight_ih  # (3H, 17 + H)
        # unbind, not input_x[:, t]: each indexing's backward would zero-fill a (B, T, 3H) tensor.
        input_x = F.linear(x, w_input[:, :NUM_AUS], self.decoder.bias_ih).unbind(1)  # T x (B, 3H)
        w_context = w_input[:, NUM_AUS:].t()  # (H, 3H)
        w_state = torch.cat([self.decoder.weight_hh, prepared.query_weight]).t()  # (H, 3H + A)
        b_state = F.pad(self.decoder.bias_hh, (0, prepared.query_weight.shape[0]))  # (3H + A,)

        states, contexts = [], []
        for t in range(steps):
            projected = torch.addmm(b_state, h, w_state)  # (B, 3H + A)
            gate_h, query = projected.split([3 * hidden, projected.shape[1] - 3 * hidden], dim=1)
            scores = self.attention.scores(prepared, query)  # (B, T)
            if padding is not None:
                scores = scores.masked_fill(padding, float("-inf"))
            alpha = torch.softmax(scores, dim=1)  # (B, T)
            context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)  # (B, H)
            h = _gru_update(torch.addmm(input_x[t], context, w_context), gate_h, h, hidden)  # (B, H)
            states.append(h)
            contexts.append(context)

        states_all = torch.stack(states, dim=1)  # (B, T, H)
        context = torch.stack(contexts, dim=1)  # (B, T, H)
        features = torch.cat([states_all, context, x], dim=-1)  # (B, T, 2H + 17)
        return ModelOutput(self.head(features))  # (B, T, C)


def _gru_update(gate_x: Tensor, gate_h: Tensor, h: Tensor, hidden: int) -> Tensor:
    """One GRU cell step from precomputed projections (nn.GRUCell's equations).

    Args:
        gate_x: (B, 3H) W_ih [x ; c] + b_ih, gates in (r, z, n) order.
        gate_h: (B, 3H) W_hh h + b_hh.
        h: (B, H) previous state.
    """
    rz = torch.sigmoid(gate_x[:, : 2 * hidden] + gate_h[:, : 2 * hidden])  # (B, 2H)
    r, z = rz.split(hidden, dim=1)
    n = torch.tanh(gate_x[:, 2 * hidden :] + r * gate_h[:, 2 * hidden :])  # (B, H)
    return n + z * (h - n)  # (1 - z) n + z h
