"""Live Link Face CSV takes: reading (tolerant) and writing (exactly the app's layout)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from au2bs.constants import (
    BLENDSHAPE_NAMES,
    LIVELINK_COUNT_COLUMN,
    LIVELINK_COUNT_SPELLINGS,
    LIVELINK_DECIMALS,
    LIVELINK_FPS,
    LIVELINK_NAMES,
    LIVELINK_TIMECODE_COLUMN,
    NUM_LIVELINK,
)
from au2bs.errors import InputError
from au2bs.formats._csv import HEADER_LINES, first_non_increasing, numeric_block, read_table
from au2bs.formats.plausible import BLENDSHAPE_RANGE, ROTATION_RANGE, check_livelink_rate, check_range
from au2bs.formats.timecode import format_timecodes, parse_timecodes, unwrap_midnight

_CANONICAL = {name.lower(): name for name in LIVELINK_NAMES}


@dataclass(frozen=True)
class LiveLinkTake:
    """One Live Link Face take.

    Attributes:
        path: the file it came from.
        times: (N,) float64 seconds on the take's timecode clock, strictly
            increasing (a midnight roll-over is unwrapped).
        values: (N, 61) float64 in `LIVELINK_NAMES` order.
        has_rotations: False for 52-channel files, whose 9 rotation channels
            are filled with 0 in `values`.
    """

    path: Path
    times: np.ndarray
    values: np.ndarray
    has_rotations: bool

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) + 1.0 / LIVELINK_FPS


def read_livelink(path: str | Path) -> LiveLinkTake:
    """Reads a Live Link Face CSV (52 or 61 channels, any count-column spelling).

    Channel names match case-insensitively (`eyeBlinkLeft` is EyeBlinkLeft).
    Raises InputError with the file, line and column of the first problem.
    """
    path = Path(path)
    table = read_table(path, "Live Link Face")
    columns = list(table.columns)
    if not columns or columns[0].lower() != LIVELINK_TIMECODE_COLUMN.lower():
        raise InputError(f"first column must be {LIVELINK_TIMECODE_COLUMN!r}", path, line=1)
    count_column = columns[1] if len(columns) > 1 else ""
    if count_column.lower() not in {s.lower() for s in LIVELINK_COUNT_SPELLINGS}:
        raise InputError(f"second column must be {LIVELINK_COUNT_COLUMN!r}", path, line=1)

    channel_columns = _channel_columns(columns[2:], path)
    present = set(channel_columns.values())
    has_rotations = present == set(LIVELINK_NAMES)
    if not has_rotations and present != set(BLENDSHAPE_NAMES):
        missing = [name for name in BLENDSHAPE_NAMES if name not in present]
        raise InputError(
            f"wrong blendshape channel count: {len(present)} channels, expected 52 or 61"
            + (f" (missing {', '.join(missing[:5])}{'...' if len(missing) > 5 else ''})" if missing else ""),
            path,
            line=1,
        )

    counts = numeric_block(table, [count_column], path)[:, 0]
    wrong = np.flatnonzero(counts != len(present))
    if wrong.size:
        row = int(wrong[0])
        raise InputError(
            f"{count_column} says {counts[row]:g} but the header has {len(present)} channels",
            path,
            line=row + HEADER_LINES + 1,
            column=count_column,
        )

    seconds, ok = parse_timecodes(table[columns[0]])
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise InputError(
            f"unparseable timecode {table[columns[0]].iloc[row]!r} (expected HH:MM:SS:FF.fff)",
            path,
            line=row + HEADER_LINES + 1,
            column=columns[0],
        )
    times = unwrap_midnight(seconds)
    row = first_non_increasing(times)
    if row is not None:
        raise InputError(
            "timecode is not after the previous row's (duplicate or decreasing)",
            path,
            line=row + HEADER_LINES + 1,
            column=columns[0],
        )

    check_livelink_rate(times, path, columns[0], HEADER_LINES + 1)

    values = np.zeros((len(table), NUM_LIVELINK), dtype=np.float64)
    file_names = list(channel_columns)
    block = numeric_block(table, file_names, path)
    lines = np.arange(len(table)) + HEADER_LINES + 1
    shapes = [i for i, name in enumerate(file_names) if channel_columns[name] in BLENDSHAPE_NAMES]
    turns = [i for i, name in enumerate(file_names) if channel_columns[name] not in BLENDSHAPE_NAMES]
    for indices, (low, high), what in (
        (shapes, BLENDSHAPE_RANGE, "a blendshape coefficient"),
        (turns, ROTATION_RANGE, "a rotation in radians"),
    ):
        if indices:
            check_range(block[:, indices], [file_names[i] for i in indices], low, high, what, path, lines)
    for source_index, file_name in enumerate(file_names):
        values[:, LIVELINK_NAMES.index(channel_columns[file_name])] = block[:, source_index]
    return LiveLinkTake(path=path, times=times, values=values, has_rotations=has_rotations)


def _channel_columns(names: list[str], path: Path) -> dict[str, str]:
    """Maps each file column name to its canonical channel name."""
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    for name in names:
        canonical = _CANONICAL.get(name.lower())
        if canonical is None:
            raise InputError(f"unknown Live Link Face channel {name!r}", path, line=1, column=name)
        if canonical in seen:
            raise InputError(f"channel {canonical!r} appears twice", path, line=1, column=name)
        seen.add(canonical)
        mapping[name] = canonical
    return mapping


def write_livelink(
    path: str | Path,
    values: np.ndarray,
    times: np.ndarray | None = None,
    start_seconds: float = 0.0,
) -> Path:
    """Writes a take exactly as the Live Link Face app lays it out.

    Args:
        path: destination; written to a temporary file and renamed, so a
            failure never leaves half a file.
        values: (N, 61) channel values in `LIVELINK_NAMES` order.
        times: (N,) seconds for the timecodes; default: 60 fps from
            `start_seconds`.
        start_seconds: time of the first frame when `times` is not given.
    """
    path = Path(path)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != NUM_LIVELINK:
        raise ValueError(f"values must be (N, {NUM_LIVELINK}), got {values.shape}")
    if times is None:
        times = start_seconds + np.arange(len(values)) / LIVELINK_FPS
    elif len(times) != len(values):
        raise ValueError(f"{len(times)} times for {len(values)} frames")

    header = ",".join((LIVELINK_TIMECODE_COLUMN, LIVELINK_COUNT_COLUMN) + LIVELINK_NAMES)
    cells = np.char.mod(f"%.{LIVELINK_DECIMALS}f", values)
    prefix = [f"{code},{NUM_LIVELINK}," for code in format_timecodes(times)]
    lines = [p + ",".join(row) for p, row in zip(prefix, cells.tolist())]
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    os.replace(temporary, path)
    return path


def as_livelink(prediction: np.ndarray) -> np.ndarray:
    """(T, C) model output -> (T, 61) Live Link channels; the channels a model lacks are 0."""
    out = np.zeros((len(prediction), NUM_LIVELINK), dtype=np.float64)
    out[:, : prediction.shape[1]] = prediction
    return out
