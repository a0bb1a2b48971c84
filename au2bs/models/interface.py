"""What every architecture returns, and the helpers all of them share.

Every model is called as `model(x, lengths)`:

- `x`: (B, T, 17) float32, AU intensities / 5, zero-padded after each
  sequence's end;
- `lengths`: (B,) int64, valid frames per sequence (any order, each >= 1).

It returns a `ModelOutput` whose `prediction` is (B, T, C). Values at padded
frames are unspecified; losses and metrics never read them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from au2bs.constants import NUM_AUS


class ModelOutput(NamedTuple):
    """A model's answer for a padded batch."""

    prediction: Tensor  # (B, T, C) channels in `ArchitectureSpec.output_names` order
    # (B, T, 52) logits of "blendshape is active" (0.8 only), trained with BCE.
    activation_logits: Tensor | None = None


def sequence_mask(lengths: Tensor, max_len: int) -> Tensor:
    """True at valid frames.

    Args:
        lengths: (B,) valid frames per sequence.
        max_len: T, the padded length.

    Returns:
        (B, T) bool.
    """
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] < lengths[:, None]  # (B, T)


def last_valid(outputs: Tensor, lengths: Tensor) -> Tensor:
    """The output at each sequence's last valid frame.

    For a forward recurrence run over the padded batch this is exactly the
    final state a packed run would return: padding only ever follows the
    valid frames, so it cannot reach them.

    Args:
        outputs: (B, T, H).
        lengths: (B,).

    Returns:
        (B, H).
    """
    index = (lengths - 1).to(outputs.device).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])  # (B, 1, H)
    return outputs.gather(1, index).squeeze(1)  # (B, H)


def init_parameters(module: nn.Module, std: float | None) -> None:
    """Draws every parameter from N(0, std), as the research did; None keeps PyTorch's init."""
    if std is None:
        return
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, std)


def check_inputs(x: Tensor, lengths: Tensor) -> None:
    """Raises ValueError for a batch that breaks the calling convention."""
    if x.dim() != 3 or x.shape[-1] != NUM_AUS:
        raise ValueError(f"x must be (B, T, {NUM_AUS}), got shape {tuple(x.shape)}")
    if lengths.shape != (x.shape[0],):
        raise ValueError(f"lengths must be ({x.shape[0]},), got shape {tuple(lengths.shape)}")
