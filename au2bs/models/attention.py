"""Bahdanau (additive) attention, with the keys projected once per batch."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor, nn


class PreparedKeys(NamedTuple):
    """What one batch's attention steps reuse; built once by `prepare`."""

    keys: Tensor  # (B, T, A) = 2 (U_a E + b_U + b_W)
    query_weight: Tensor  # (A, H) = 2 W_a, for the caller to fuse with its own matmul
    energy_weight: Tensor  # (A,) = 2 v_a


class AdditiveAttention(nn.Module):
    """score_j = v_a . tanh(W_a q + U_a e_j); alpha = softmax(score).

    Computed exactly but faster than written:
        - `U_a E` once per batch, not once per decoder step;
        - tanh(p) = 2 sigmoid(2p) - 1, and the constant -sum(v_a) it adds to
          every score cancels in the softmax, so a step computes
          `sigmoid(2 W_a q + 2 (U_a E + b)) @ 2 v_a`: one sigmoid instead of
          a tanh, which is about 6x slower on this CPU build;
        - v_a has no bias, since a constant added to every score cancels in
          the softmax (it would never receive a gradient).
    The factors of 2 are folded into the prepared keys and weights; the
    decoder's step loop (`attention_recurrence.py`) computes, per step,
    `softmax(sigmoid(keys + query_weight q) @ energy_weight)`.
    """

    def __init__(self, hidden_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        attention_size = attention_size or hidden_size
        self.query = nn.Linear(hidden_size, attention_size)  # W_a (its bias is folded into the keys)
        self.key = nn.Linear(hidden_size, attention_size)  # U_a
        self.energy = nn.Linear(attention_size, 1, bias=False)  # v_a

    def prepare(self, memory: Tensor) -> PreparedKeys:
        """Projects the memory once.

        Args:
            memory: (B, T, H) encoder outputs E.
        """
        keys = 2.0 * (self.key(memory) + self.query.bias)  # (B, T, A)
        return PreparedKeys(keys, 2.0 * self.query.weight, 2.0 * self.energy.weight.squeeze(0))
