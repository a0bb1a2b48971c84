"""Stream alignment helpers (`au2bs/align.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from au2bs.align import moving_average


def _padded_convolution(values: np.ndarray, frames: int) -> np.ndarray:
    """The former implementation, the reference: edge padding, then a box kernel per column."""
    columns = values.reshape(len(values), -1)
    padded = np.pad(columns, (((frames - 1) // 2, frames // 2), (0, 0)), mode="edge")
    kernel = np.ones(frames) / frames
    out = np.stack([np.convolve(padded[:, c], kernel, mode="valid") for c in range(columns.shape[1])], 1)
    return out.reshape(values.shape)


@pytest.mark.parametrize("frames", range(2, 10))
@pytest.mark.parametrize("length", [1, 2, 3, 7, 500])
def test_moving_average_equals_the_padded_convolution(frames: int, length: int) -> None:
    rng = np.random.default_rng(frames * 1000 + length)
    for values in (
        rng.normal(1.0, 3.0, length),
        rng.normal(1.0, 3.0, (length, 4)),
        rng.uniform(0.0, 1.0, (length, 3)).astype(np.float32),
        rng.integers(0, 5, (length, 2)),
    ):
        ours = moving_average(values, frames)
        assert ours.dtype == np.float64 and ours.shape == values.shape
        # A running sum (scipy) against direct sums: equal up to rounding.
        np.testing.assert_allclose(ours, _padded_convolution(values, frames), rtol=0, atol=1e-12)


def test_moving_average_known_values() -> None:
    spike = np.array([0.0, 0.0, 6.0, 0.0, 0.0])
    np.testing.assert_allclose(moving_average(spike, 3), [0, 2, 2, 2, 0], atol=1e-15)
    # An even window reaches one frame further ahead than back.
    np.testing.assert_allclose(moving_average(spike, 2), [0, 3, 3, 0, 0], atol=1e-15)
    np.testing.assert_allclose(moving_average(spike, 4), [1.5, 1.5, 1.5, 1.5, 0], atol=1e-15)
    # Edges repeat the end values.
    np.testing.assert_allclose(
        moving_average(np.array([3.0, 0.0, 0.0, 0.0, 9.0]), 3), [2, 1, 0, 3, 6], atol=1e-15
    )


@pytest.mark.parametrize("frames", [0, 1])
def test_moving_average_of_one_frame_returns_the_input(frames: int) -> None:
    values = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert moving_average(values, frames) is values
