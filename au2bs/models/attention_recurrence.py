"""The attention decoder's step loop with a hand-written backward pass (0.5 / 0.6).

Autograd through a Python step loop records ~25 nodes per step and, per
step, a full weight gradient and a full (B, T, H) memory gradient. Here the
loop runs without a graph and the backward walks the steps in reverse doing
only what is inherently sequential: the weight, memory and input gradients
are gathered per step and formed after the loop by one matmul each. The
attention energies are recomputed in the backward instead of stored, so
memory stays O(B T^2) (the attention weights) instead of O(B T^2 A).

`tests/test_models.py` holds it equal to a step-by-step autograd reference
(outputs and gradients). Not twice differentiable.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable


class DecoderInputs(NamedTuple):
    """The decoder's inputs in call order; the backward returns their gradients in the same order."""

    keys: Tensor  # (B, T, A) prepared attention keys (see `AdditiveAttention.prepare`)
    energy_weight: Tensor  # (A,) prepared v_a
    memory: Tensor  # (B, T, H) encoder outputs
    input_x: Tensor  # (B, T, 3H) the x_t share of the GRU input projection, b_ih included
    h0: Tensor  # (B, H) initial decoder state
    weight_hh: Tensor  # (3H, H) the GRU cell's hidden projection
    bias_hh: Tensor  # (3H,)
    query_weight: Tensor  # (A, H) prepared W_a
    context_weight: Tensor  # (3H, H) the context's share of the GRU cell's W_ih
    padding: Tensor | None  # (B, T) bool, True where scores are masked out; None attends everywhere


def decode_with_attention(*args: Tensor | None, **kwargs: Tensor | None) -> tuple[Tensor, Tensor]:
    """Runs the decoder over all steps.

    At step t, with h = h_{t-1}: scores = sigmoid(keys + query_weight h) @
    energy_weight (masked at `padding`), alpha = softmax(scores), c_t =
    alpha @ memory, then a GRU cell with input projection
    input_x[:, t] + context_weight c_t and hidden projection weight_hh h + bias_hh.

    Args:
        *args, **kwargs: the fields of `DecoderInputs`, positionally or by name.

    Returns:
        states (B, T, H) = h_1..h_T and contexts (B, T, H) = c_1..c_T.
    """
    # autograd.Function.apply sees only positional tensors, so the tuple is spread.
    return _AttentionDecoder.apply(*DecoderInputs(*args, **kwargs))


def softmax_backward(grad_output: Tensor, output: Tensor, dim: int, out: Tensor | None = None) -> Tensor:
    """The gradient of a softmax's input from its output y and output gradient g.

    y (g - sum(g y)) along `dim`: 0 wherever y is 0 (masked positions).
    `out` may be given to reuse a buffer; it must not alias the arguments.
    """
    out = torch.mul(grad_output, output, out=out)  # g y, as scratch
    dot = out.sum(dim, keepdim=True)  # sum(g y)
    return torch.sub(grad_output, dot, out=out).mul_(output)


def _gate_slices(hidden: int) -> tuple[slice, slice, slice, slice, slice]:
    """r, z, n, (r, z) and the query within a (3H + A) projection row."""
    return (
        slice(0, hidden),
        slice(hidden, 2 * hidden),
        slice(2 * hidden, 3 * hidden),
        slice(0, 2 * hidden),
        slice(3 * hidden, None),
    )


class _AttentionDecoder(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, *args: Tensor | None) -> tuple[Tensor, Tensor]:
        inputs = DecoderInputs(*args)
        keys, energy_weight, memory, h0 = inputs.keys, inputs.energy_weight, inputs.memory, inputs.h0
        padding = inputs.padding
        batch, steps, _ = keys.shape
        hidden = h0.shape[1]
        r_, z_, n_, rz_, q_ = _gate_slices(hidden)
        # W_hh h and W_a h in one matmul: the query is the previous state.
        state_weight = torch.cat([inputs.weight_hh, inputs.query_weight]).t().contiguous()  # (H, 3H + A)
        bias_hh, attention = inputs.bias_hh, inputs.query_weight.shape[0]
        state_bias = torch.cat([bias_hh, bias_hh.new_zeros(attention)])  # (3H + A,)
        context_t = inputs.context_weight.t().contiguous()  # (H, 3H)

        # Everything the backward needs, written in place step by step.
        states = h0.new_empty(steps + 1, batch, hidden)  # (T + 1, B, H): h_0 .. h_T
        states[0] = h0
        contexts = h0.new_empty(steps, batch, hidden)  # (T, B, H)
        weights = h0.new_empty(steps, batch, steps)  # (T, B, T) attention weights
        projections = h0.new_empty(steps, batch, state_weight.shape[1])  # (T, B, 3H + A)
        gates = h0.new_empty(steps, batch, 3 * hidden)  # (T, B, 3H): r, z, n after their nonlinearity
        energy = torch.empty_like(keys)  # (B, T, A), reused every step
        gate_x = h0.new_empty(batch, 3 * hidden)  # (B, 3H), reused every step

        # Per-step views, made once: indexing inside the loop costs ~4 us a view.
        h, p = states.unbind(0), projections.unbind(0)
        p_rz, p_n = projections[..., rz_].unbind(0), projections[..., n_].unbind(0)
        p_query = projections[..., q_].unsqueeze(2).unbind(0)  # (B, 1, A) each
        g_r, g_z, g_n, g_rz = (gates[..., s].unbind(0) for s in (r_, z_, n_, rz_))
        alpha, alpha_row = weights.unbind(0), weights.unsqueeze(2).unbind(0)  # (B, T), (B, 1, T)
        context, context_row = contexts.unbind(0), contexts.unsqueeze(2).unbind(0)  # (B, H), (B, 1, H)
        x_t = inputs.input_x.unbind(1)  # (B, 3H) each
        gate_x_rz, gate_x_n = gate_x[:, rz_], gate_x[:, n_]

        for t in range(steps):
            torch.addmm(state_bias, h[t], state_weight, out=p[t])  # (B, 3H + A)
            torch.add(keys, p_query[t], out=energy).sigmoid_()  # (B, T, A)
            scores = energy @ energy_weight  # (B, T)
            if padding is not None:
                scores.masked_fill_(padding, float("-inf"))
            torch.softmax(scores, dim=1, out=alpha[t])  # (B, T)
            torch.bmm(alpha_row[t], memory, out=context_row[t])  # (B, 1, H)
            torch.addmm(x_t[t], context[t], context_t, out=gate_x)  # (B, 3H)
            torch.add(gate_x_rz, p_rz[t], out=g_rz[t]).sigmoid_()
            torch.addcmul(gate_x_n, g_r[t], p_n[t], out=g_n[t]).tanh_()
            torch.lerp(g_n[t], h[t], g_z[t], out=h[t + 1])  # (1 - z) n + z h

        ctx.save_for_backward(
            keys, energy_weight, memory, state_weight, context_t, states, contexts, weights, projections, gates
        )  # fmt: skip
        return states[1:].transpose(0, 1), contexts.transpose(0, 1)  # (B, T, H) each

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad_states: Tensor, grad_contexts: Tensor) -> tuple[Tensor | None, ...]:
        (keys, energy_weight, memory, state_weight, context_t, states, contexts, weights, projections, gates) = (
            ctx.saved_tensors
        )  # fmt: skip
        steps, batch, hidden = contexts.shape
        r_, z_, n_, rz_, q_ = _gate_slices(hidden)
        attention = energy_weight.shape[0]
        # Per-step gradients, turned into weight gradients after the loop.
        grad_projected = torch.empty_like(projections)  # (T, B, 3H + A)
        grad_gate_x = torch.empty_like(gates)  # (T, B, 3H)
        grad_context_all = torch.empty_like(contexts)  # (T, B, H)
        grad_keys = torch.zeros_like(keys)  # (B, T, A), without the v_a factor until the end
        grad_energy_weight = energy_weight.new_zeros(1, attention)  # (1, A)
        energy = torch.empty_like(keys)  # (B, T, A)
        energy_rows = energy.view(-1, attention)  # (B T, A)
        # (B, 1, H) @ (B, H, T) is ~10x faster here than (B, T, H) @ (B, H, 1).
        memory_t = memory.transpose(1, 2).contiguous()  # (B, H, T)
        context_w, state_w = context_t.t(), state_weight.t()  # (3H, H), (3H + A, H)
        dh = torch.zeros_like(states[0])  # (B, H)
        ones = torch.ones_like(dh)
        d_alpha = weights.new_empty(batch, 1, steps)  # (B, 1, T), reused
        d_scores = weights.new_empty(batch, steps)  # (B, T), reused
        d_query = energy_weight.new_empty(batch, 1, attention)  # (B, 1, A), reused

        # Per-step views, made once (see forward).
        h, alpha = states.unbind(0), weights.unbind(0)
        g_r, g_z, g_n, g_rz = (gates[..., s].unbind(0) for s in (r_, z_, n_, rz_))
        p_n, p_query = projections[..., n_].unbind(0), projections[..., q_].unsqueeze(2).unbind(0)
        dx, dx_r, dx_z, dx_n, dx_rz = (grad_gate_x[..., s].unbind(0) for s in (slice(None), r_, z_, n_, rz_))
        dp, dp_rz, dp_n, dp_q = (grad_projected[..., s].unbind(0) for s in (slice(None), rz_, n_, q_))
        d_context, d_context_row = grad_context_all.unbind(0), grad_context_all.unsqueeze(2).unbind(0)
        grad_h, grad_c = grad_states.unbind(1), grad_contexts.unbind(1)  # (B, H) each
        d_alpha_flat, d_query_flat = d_alpha.squeeze(1), d_query.squeeze(1)  # (B, T), (B, A)
        d_scores_col, d_scores_row, d_scores_flat = (
            d_scores.unsqueeze(2),
            d_scores.unsqueeze(1),
            d_scores.view(1, -1),
        )

        for t in range(steps - 1, -1, -1):
            dh += grad_h[t]
            # h' = n + z (h - n); n = tanh(x_n + r p_n); r, z = sigmoid(x_rz + p_rz)
            dh_z = dh * g_z[t]  # the direct path to h
            torch.sub(dh, dh_z, out=dx_n[t])  # dh (1 - z)
            dx_n[t].mul_(torch.addcmul(ones, g_n[t], g_n[t], value=-1.0))  # tanh' = 1 - n^2
            torch.mul(dx_n[t], p_n[t], out=dx_r[t])
            torch.mul(dh, h[t] - g_n[t], out=dx_z[t])
            dx_rz[t].mul_(torch.addcmul(g_rz[t], g_rz[t], g_rz[t], value=-1.0))  # s (1 - s)
            dp_rz[t].copy_(dx_rz[t])
            torch.mul(dx_n[t], g_r[t], out=dp_n[t])
            # The context fed both the GRU input and the output head.
            torch.addmm(grad_c[t], dx[t], context_w, out=d_context[t])  # (B, H)
            torch.bmm(d_context_row[t], memory_t, out=d_alpha)  # (B, 1, T)
            # through the softmax; 0 at masked positions, where alpha is 0
            softmax_backward(d_alpha_flat, alpha[t], 1, out=d_scores)
            # The energies, recomputed: scores = sigmoid(keys + q) @ v.
            torch.add(keys, p_query[t], out=energy).sigmoid_()  # (B, T, A)
            grad_energy_weight.addmm_(d_scores_flat, energy_rows)  # (1, A)
            energy.addcmul_(energy, energy, value=-1.0)  # sigmoid' = e (1 - e)
            grad_keys.addcmul_(d_scores_col, energy)
            torch.bmm(d_scores_row, energy, out=d_query)  # (B, 1, A)
            torch.mul(d_query_flat, energy_weight, out=dp_q[t])
            dh = torch.addmm(dh_z, dp[t], state_w)  # (B, H)

        grad_keys.mul_(energy_weight)
        flat_states = states[:-1].reshape(steps * batch, hidden)  # h_0 .. h_{T-1}
        grad_state_weight = flat_states.t() @ grad_projected.view(steps * batch, -1)  # (H, 3H + A)
        grad_context_weight = grad_gate_x.view(steps * batch, -1).t() @ contexts.view(steps * batch, hidden)
        # d memory = alpha^T d_context, all steps at once.
        grad_memory = torch.bmm(weights.permute(1, 2, 0), grad_context_all.transpose(0, 1))  # (B, T, H)
        return DecoderInputs(
            keys=grad_keys,
            energy_weight=grad_energy_weight.squeeze(0),
            memory=grad_memory,
            input_x=grad_gate_x.transpose(0, 1),
            h0=dh,
            weight_hh=grad_state_weight[:, : 3 * hidden].t(),
            bias_hh=grad_projected[..., : 3 * hidden].sum((0, 1)),
            query_weight=grad_state_weight[:, 3 * hidden :].t(),
            context_weight=grad_context_weight,
            padding=None,
        )
