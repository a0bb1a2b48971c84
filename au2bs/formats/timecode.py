"""Live Link Face timecodes: `HH:MM:SS:FF.fff` (or `HH:MM:SS:FF`) at 60 fps.

Seconds = 3600 h + 60 m + s + FF.fff / 60. Timecodes are a time of day, so a
take that runs past midnight wraps to 00:00:00:00; `unwrap_midnight` undoes
that before times are checked for order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from au2bs.constants import LIVELINK_FPS

_DAY_SECONDS = 86400.0
# Sub-frame fractions have 3 decimals: work in thousandths of a frame so that
# formatting never rounds 59.9996 up to a non-existent frame 60.
_MILLIFRAMES_PER_SECOND = LIVELINK_FPS * 1000
_PATTERN = r"^\s*(\d{1,2}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s*$"


def parse_timecodes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parses timecode strings to seconds of the day.

    Returns (seconds float64, ok bool): rows that do not parse have ok False.
    """
    parts = values.astype(str).str.extract(_PATTERN)
    ok = parts[0].notna().to_numpy().copy()
    filled = parts.fillna("0")
    hours = filled[0].astype(np.int64).to_numpy()
    minutes = filled[1].astype(np.int64).to_numpy()
    seconds = filled[2].astype(np.int64).to_numpy()
    frames = filled[3].astype(np.int64).to_numpy()
    fraction = ("0." + filled[4]).astype(np.float64).to_numpy()
    ok &= (hours < 24) & (minutes < 60) & (seconds < 60) & (frames < LIVELINK_FPS)
    total = 3600.0 * hours + 60.0 * minutes + seconds + (frames + fraction) / LIVELINK_FPS
    return total.astype(np.float64), ok


def unwrap_midnight(seconds: np.ndarray) -> np.ndarray:
    """Adds a day after every backwards jump of more than half a day."""
    jumps = np.diff(seconds, prepend=seconds[:1]) < -_DAY_SECONDS / 2
    return seconds + _DAY_SECONDS * np.cumsum(jumps)


def format_timecodes(seconds: np.ndarray) -> list[str]:
    """Formats seconds (of the day, or from 0) as `HH:MM:SS:FF.fff`."""
    millis = np.rint(np.asarray(seconds, dtype=np.float64) * _MILLIFRAMES_PER_SECOND)
    millis = millis.astype(np.int64) % int(_DAY_SECONDS * _MILLIFRAMES_PER_SECOND)
    whole_seconds, subsecond = np.divmod(millis, _MILLIFRAMES_PER_SECOND)
    frames, thousandths = np.divmod(subsecond, 1000)
    hours, rest = np.divmod(whole_seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    return [
        f"{h:02d}:{m:02d}:{s:02d}:{f:02d}.{t:03d}"
        for h, m, s, f, t in zip(hours, minutes, secs, frames, thousandths)
    ]
