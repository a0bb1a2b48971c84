"""What a recording can plausibly hold: checked when it is read, so nothing implausible reaches a dataset.

A value of 1e30 in a blendshape column would otherwise be stored as is, and
training would blame the learning rate; an AU far above OpenFace's 0-5 would
be clipped without a word; a 30 fps Live Link take would be stored as 60 fps
with a wrong lag. Each check raises InputError naming file:line (column).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from au2bs.constants import LIVELINK_FPS
from au2bs.errors import InputError

# ARKit blendshape coefficients are 0-1; a little slack for rounding.
BLENDSHAPE_RANGE = (-0.05, 1.05)
# Head and eye rotations, in radians.
ROTATION_RANGE = (-np.pi, np.pi)
# OpenFace AU intensities are 0-5; a little slack, then it is not an intensity.
AU_RANGE = (-0.5, 5.5)
# OpenFace timestamps are seconds from the start of the video: a day is already a lot.
MAX_TIMESTAMP_S = 86400.0
# Live Link Face rows are one 60 fps frame apart; 25 % either way is still 60 fps with jitter.
_FRAME_S = 1.0 / LIVELINK_FPS


def check_range(
    values: np.ndarray,
    columns: list[str],
    low: float,
    high: float,
    what: str,
    path: Path,
    lines: np.ndarray,
    only: np.ndarray | None = None,
) -> None:
    """InputError at the first value of `values` (rows x columns) outside [low, high].

    `lines` is each row's line in the file; `only` (bool per row) limits the check.
    """
    bad = (values < low) | (values > high)
    if only is not None:
        bad &= only[:, None]
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    raise InputError(
        f"value {values[row, col]:g} is outside the plausible {low:g}..{high:g} of {what}",
        path,
        line=int(lines[row]),
        column=columns[col],
    )


def check_livelink_rate(seconds: np.ndarray, path: Path, column: str, first_line: int) -> None:
    """A take must be 60 fps: rows one frame apart, and frame numbers that reach past 29."""
    if len(seconds) < 10:
        return
    step = float(np.median(np.diff(seconds)))
    if not 0.75 * _FRAME_S <= step <= 1.25 * _FRAME_S:
        raise InputError(
            f"rows are {step * 1000:.1f} ms apart: a {1 / step:.0f} fps take; au2bs reads 60 fps "
            "Live Link Face takes (record at 60 fps)",
            path,
            line=first_line,
            column=column,
        )
    frames = np.floor(np.mod(seconds, 1.0) * LIVELINK_FPS + 1e-6)
    if seconds[-1] - seconds[0] >= 2.0 and frames.max() < LIVELINK_FPS // 2:
        raise InputError(
            f"timecode frame numbers only count 0-{int(frames.max())} over "
            f"{seconds[-1] - seconds[0]:.0f} s: a 30 fps take; au2bs reads 60 fps Live Link Face takes",
            path,
            line=first_line,
            column=column,
        )
