"""Step-by-step reference implementations of GRUNet 0.4, 0.5 and 0.6 (test-only).

Written from the seed's description the way the research computed them: a
packed encoder GRU, then a Python loop over time with `nn.GRUCell`; 0.5 and
0.6 recompute the attention keys U_a E and use tanh at every step. Slow on
purpose. The tests copy a packaged model's weights in (`load_from`) and hold
outputs and gradients equal.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from au2bs.constants import NUM_AUS
from au2bs.models.attention_decoder import AttentionSeq2Seq
from au2bs.models.seq2seq import Seq2Seq


def _encode(gru: nn.GRU, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Packed encoder: outputs (B, T, H) with zeros at padding, final state (B, H)."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, final = gru(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
    return outputs, final[0]


class ReferenceSeq2Seq(nn.Module):
    """0.4: decoder GRUCell reads [x_t ; h_enc] from a zero state, one frame at a time."""

    # reference parameter name -> packaged model (au2bs.models.seq2seq.Seq2Seq) name
    PARAMETER_MAP = {
        **{
            f"encoder.{n}": f"encoder.gru.{n}"
            for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        },
        **{f"decoder.{n}": f"decoder.gru.{n}_l0" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
        "out.weight": "head.linear.weight",
        "out.bias": "head.linear.bias",
    }

    def __init__(self, hidden_size: int, out_channels: int) -> None:
        super().__init__()
        self.encoder = nn.GRU(NUM_AUS, hidden_size, batch_first=True)
        self.decoder = nn.GRUCell(NUM_AUS + hidden_size, hidden_size)
        self.out = nn.Linear(NUM_AUS + 2 * hidden_size, out_channels)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        _, summary = _encode(self.encoder, x, lengths)  # (B, H)
        h = x.new_zeros(x.shape[0], self.decoder.hidden_size)
        outputs = []
        for t in range(x.shape[1]):
            h = self.decoder(torch.cat([x[:, t], summary], dim=1), h)
            outputs.append(self.out(torch.cat([x[:, t], h, summary], dim=1)))
        return torch.stack(outputs, dim=1)  # (B, T, C)


class ReferenceAttention(nn.Module):
    """0.5 (`mask_padding=False`) / 0.6: Bahdanau attention, keys recomputed every step."""

    PARAMETER_MAP = {
        **{
            f"encoder.{n}": f"encoder.gru.{n}"
            for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        },
        "W_a.weight": "attention.query.weight",
        "W_a.bias": "attention.query.bias",
        "U_a.weight": "attention.key.weight",
        "U_a.bias": "attention.key.bias",
        "v_a.weight": "attention.energy.weight",
        **{f"decoder.{n}": f"decoder.{n}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
        "out.weight": "head.linear.weight",
        "out.bias": "head.linear.bias",
    }

    def __init__(self, hidden_size: int, out_channels: int, mask_padding: bool) -> None:
        super().__init__()
        self.encoder = nn.GRU(NUM_AUS, hidden_size, batch_first=True)
        self.W_a = nn.Linear(hidden_size, hidden_size)
        self.U_a = nn.Linear(hidden_size, hidden_size)
        self.v_a = nn.Linear(hidden_size, 1, bias=False)
        self.decoder = nn.GRUCell(NUM_AUS + hidden_size, hidden_size)
        self.out = nn.Linear(2 * hidden_size + NUM_AUS, out_channels)
        self.mask_padding = mask_padding

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        memory, h = _encode(self.encoder, x, lengths)  # (B, T, H), (B, H)
        padding = torch.arange(x.shape[1])[None, :] >= lengths[:, None]  # (B, T)
        outputs = []
        for t in range(x.shape[1]):
            energy = torch.tanh(self.W_a(h).unsqueeze(1) + self.U_a(memory))  # (B, T, H)
            scores = self.v_a(energy).squeeze(-1)  # (B, T)
            if self.mask_padding:
                scores = scores.masked_fill(padding, float("-inf"))
            alpha = torch.softmax(scores, dim=1)  # (B, T)
            context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)  # (B, H)
            h = self.decoder(torch.cat([x[:, t], context], dim=1), h)
            outputs.append(self.out(torch.cat([h, context, x[:, t]], dim=1)))
        return torch.stack(outputs, dim=1)  # (B, T, C)


def load_from(reference: nn.Module, model: nn.Module) -> None:
    """Copies a packaged model's weights into a reference module."""
    source = dict(model.named_parameters())
    with torch.no_grad():
        for name, parameter in reference.named_parameters():
            parameter.copy_(source[reference.PARAMETER_MAP[name]])


def reference_for(model: nn.Module) -> nn.Module | None:
    """The step-by-step reference of a packaged model, sized like it; None for a kind without one.

    Chosen by the model's class, so any registered architecture built from
    `Seq2Seq` or `AttentionSeq2Seq` is held to its reference.
    """
    if not isinstance(model, (Seq2Seq, AttentionSeq2Seq)):
        return None
    hidden_size, out_channels = model.encoder.gru.hidden_size, model.head.linear.out_features
    if isinstance(model, Seq2Seq):
        return ReferenceSeq2Seq(hidden_size, out_channels)
    return ReferenceAttention(hidden_size, out_channels, model.mask_padding)
