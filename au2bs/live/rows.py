"""One OpenFace CSV line at a time, for a file still being written."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from au2bs.constants import AU_NAMES
from au2bs.data.options import AuOptions
from au2bs.errors import InputError
from au2bs.formats.openface import REQUIRED_COLUMNS, is_tracked
from au2bs.formats.plausible import AU_RANGE, MAX_TIMESTAMP_S


@dataclass(frozen=True)
class OpenFaceRow:
    time: float  # `timestamp`, seconds
    aus: np.ndarray  # (17,) 0-5, AU_NAMES order
    tracked: bool  # success = 1 and confidence >= min_confidence
    face_id: int | None


class RowParser:
    """Parses data lines against a header line (`", "` or `","` separators, names stripped)."""

    def __init__(self, header: str, options: AuOptions, path: object = None) -> None:
        names = [name.strip().lstrip("\ufeff") for name in header.strip().split(",")]
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise InputError(f"not an OpenFace CSV header: missing column(s) {', '.join(missing)}", path, 1)
        self.width = len(names)
        self.options = options
        self._time = names.index("timestamp")
        self._aus = [names.index(name) for name in AU_NAMES]
        self._optional = {
            name: names.index(name) for name in ("face_id", "confidence", "success") if name in names
        }

    def parse(self, line: str) -> OpenFaceRow:
        """ValueError for a malformed line: wrong field count, a non-number, an implausible value."""
        fields = line.strip().split(",")
        if len(fields) != self.width:
            raise ValueError(f"{len(fields)} fields, the header has {self.width}")
        time = float(fields[self._time])
        aus = np.array([float(fields[i]) for i in self._aus])
        extra = {name: float(fields[i]) for name, i in self._optional.items()}
        if not (math.isfinite(time) and 0.0 <= time <= MAX_TIMESTAMP_S) or not np.isfinite(aus).all():
            raise ValueError("timestamp or AU not a finite, plausible number")
        tracked = bool(is_tracked(extra.get("success"), extra.get("confidence"), self.options.min_confidence))
        if tracked and ((aus < AU_RANGE[0]) | (aus > AU_RANGE[1])).any():
            raise ValueError("an AU intensity outside OpenFace's 0-5")
        face = int(extra["face_id"]) if "face_id" in extra else None
        return OpenFaceRow(time, aus.astype(np.float32), tracked, face)
