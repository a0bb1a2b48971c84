"""The attention decoder's hand-written backward pieces (`au2bs/models/attention_recurrence.py`).

The decoder as a whole is gradchecked in `tests/test_models.py`.
"""

from __future__ import annotations

import pytest
import torch

from au2bs.models.attention_recurrence import DecoderInputs, decode_with_attention, softmax_backward


def _autograd_softmax_grad(scores: torch.Tensor, grad_output: torch.Tensor, dim: int) -> torch.Tensor:
    scores = scores.detach().requires_grad_()
    torch.softmax(scores, dim=dim).backward(grad_output)
    assert scores.grad is not None
    return scores.grad


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_backward_matches_autograd(dim: int, dtype: torch.dtype) -> None:
    generator = torch.Generator().manual_seed(dim + 7)
    scores = torch.randn(4, 9, 3, generator=generator, dtype=dtype) * 3
    grad_output = torch.randn(4, 9, 3, generator=generator, dtype=dtype)
    expected = _autograd_softmax_grad(scores, grad_output, dim)
    ours = softmax_backward(grad_output, torch.softmax(scores, dim=dim), dim)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12 if dtype == torch.float64 else 1e-6)


def test_softmax_backward_is_zero_where_masked_and_reuses_out() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(3, 8, generator=generator, dtype=torch.float64)
    masked = torch.zeros(3, 8, dtype=torch.bool)
    masked[1, 5:] = masked[2, 1:] = True  # row 2 keeps one position
    scores.masked_fill_(masked, float("-inf"))
    grad_output = torch.randn(3, 8, generator=generator, dtype=torch.float64)
    out = torch.full_like(scores, float("nan"))

    result = softmax_backward(grad_output, torch.softmax(scores, dim=1), 1, out=out)

    assert result.data_ptr() == out.data_ptr()
    assert torch.equal(out[masked], torch.zeros(int(masked.sum()), dtype=torch.float64))
    torch.testing.assert_close(out, _autograd_softmax_grad(scores, grad_output, 1), rtol=0, atol=1e-12)


def _decoder_inputs(masked: bool) -> DecoderInputs:
    batch, steps, hidden, attention = 2, 5, 3, 4
    generator = torch.Generator().manual_seed(1)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    return DecoderInputs(
        keys=rand(batch, steps, attention),
        energy_weight=rand(attention),
        memory=rand(batch, steps, hidden),
        input_x=rand(batch, steps, 3 * hidden),
        h0=rand(batch, hidden),
        weight_hh=rand(3 * hidden, hidden),
        bias_hh=rand(3 * hidden),
        query_weight=rand(attention, hidden),
        context_weight=rand(3 * hidden, hidden),
        padding=torch.tensor([[False] * 5, [False, False, False, True, True]]) if masked else None,
    )


def test_decoder_takes_its_inputs_by_position_or_by_name() -> None:
    inputs = _decoder_inputs(masked=True)
    by_position = decode_with_attention(*inputs)
    by_name = decode_with_attention(**inputs._asdict())
    for ours, theirs in zip(by_position, by_name):
        assert torch.equal(ours, theirs)
    with pytest.raises(TypeError, match="padding"):
        decode_with_attention(*inputs[:-1])
