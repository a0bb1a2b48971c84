"""OpenFace 2.x FeatureExtraction CSVs: reading (tolerant) and writing (for the generator and tests)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from au2bs.constants import AU_NAMES, AU_PRESENCE_NAMES
from au2bs.errors import InputError
from au2bs.formats._csv import HEADER_LINES, first_non_increasing, numeric_block, numeric_column, read_table
from au2bs.formats.plausible import AU_RANGE, MAX_TIMESTAMP_S, check_range

# OpenFace's own tracking confidence is 0-1; below this a frame is treated
# as failed even when `success` says 1 (OpenFace's docs suggest about 0.75-0.8).
DEFAULT_MIN_CONFIDENCE = 0.75
REQUIRED_COLUMNS = ("timestamp", *AU_NAMES)  # every other OpenFace column is optional


def is_tracked(success, confidence, min_confidence: float):
    """Frames OpenFace tracked: success > 0.5 and confidence >= min_confidence (arrays or one row's
    values); a column the file lacks (None) does not count against a frame."""
    tracked = True
    if success is not None:
        tracked = tracked & (success > 0.5)
    if confidence is not None:
        tracked = tracked & (confidence >= min_confidence)
    return tracked


@dataclass(frozen=True)
class OpenFaceTake:
    """The AU stream of one face in one OpenFace CSV.

    Attributes:
        path: the file it came from.
        times: (N,) float64 seconds (`timestamp`), strictly increasing.
        aus: (N, 17) float32 intensities on OpenFace's 0-5 scale, in
            `AU_NAMES` order. Rows where `tracked` is False hold whatever
            OpenFace wrote (usually 0) and are missing data, not a face.
        tracked: (N,) bool: `success` is 1 and `confidence` reaches the
            threshold (all True when the file has neither column).
        face_id: the face kept, or None when the file has no `face_id`.
        notes: what a user should know about how the file was read.
    """

    path: Path
    times: np.ndarray
    aus: np.ndarray
    tracked: np.ndarray
    face_id: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def duration(self) -> float:
        """Seconds covered: first to last frame plus one frame's length."""
        frame = float(np.median(np.diff(self.times))) if len(self.times) > 1 else 0.0
        return float(self.times[-1] - self.times[0]) + frame


def read_openface(
    path: str | Path,
    face_id: int | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> OpenFaceTake:
    """Reads the AU stream of one face from an OpenFace CSV.

    Accepts `", "` or `","` separators, CRLF endings, a UTF-8 BOM, any subset
    of OpenFace's optional column groups, and files without
    frame / face_id / confidence / success.

    Args:
        path: the CSV.
        face_id: the face to keep when the file tracks several; default the
            face with the most frames (and a note says so).
        min_confidence: frames below this confidence count as failed.

    Raises:
        InputError: naming the file, line and column of the first problem.
    """
    path = Path(path)
    wanted = {"timestamp", "face_id", "confidence", "success", *AU_NAMES}
    table = read_table(path, "OpenFace", usecols=wanted)
    missing = [name for name in REQUIRED_COLUMNS if name not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path, line=1)

    notes: list[str] = []
    rows = np.arange(len(table))
    chosen_face = None
    if "face_id" in table.columns:
        faces = numeric_column(table, "face_id", path).astype(np.int64)
        frequency = Counter(faces.tolist())
        if face_id is not None and face_id not in frequency:
            raise InputError(f"face_id {face_id} not in file (faces: {sorted(frequency)})", path)
        chosen_face = face_id if face_id is not None else max(sorted(frequency), key=frequency.get)
        if len(frequency) > 1:
            how = "as asked" if face_id is not None else "the most frequent"
            notes.append(
                f"{len(frequency)} faces tracked ({dict(sorted(frequency.items()))} frames); "
                f"kept face_id {chosen_face}, {how}"
            )
        rows = np.flatnonzero(faces == chosen_face)
        table = table.iloc[rows]

    times = numeric_column(table, "timestamp", path)
    aus = numeric_block(table, list(AU_NAMES), path).astype(np.float32)
    lines = rows + HEADER_LINES + 1
    check_range(times[:, None], ["timestamp"], 0.0, MAX_TIMESTAMP_S, "a timestamp in seconds", path, lines)
    bad_row = first_non_increasing(times)
    if bad_row is not None:
        raise InputError(
            "timestamp is not after the previous frame's (duplicate or decreasing)",
            path,
            line=int(rows[bad_row]) + HEADER_LINES + 1,
            column="timestamp",
        )

    present = {name: numeric_column(table, name, path) for name in ("success", "confidence") if name in table}
    tracked = np.ones(len(table), dtype=bool) & is_tracked(
        present.get("success"), present.get("confidence"), min_confidence
    )
    # Failed frames carry no intensities worth checking: they are masked out anyway.
    check_range(aus, list(AU_NAMES), *AU_RANGE, "an OpenFace AU intensity", path, lines, only=tracked)
    if not tracked.any():
        raise InputError(
            f"every frame failed (success = 0 or confidence < {min_confidence}): no face to learn from",
            path,
        )
    return OpenFaceTake(path, times, aus, tracked, chosen_face, tuple(notes))


def write_openface(
    path: str | Path,
    times: np.ndarray,
    aus: np.ndarray,
    tracked: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    face_id: int = 0,
    separator: str = ", ",
) -> Path:
    """Writes an AU stream as OpenFace FeatureExtraction writes it.

    Columns: frame, face_id, timestamp, confidence, success, the 17 AU
    intensities (2 decimals) and the 18 presence columns (1 decimal).
    Untracked frames get success 0, low confidence and all AUs 0, as OpenFace
    writes them. Written to a temporary file and renamed.
    """
    path = Path(path)
    count = len(times)
    tracked = np.ones(count, dtype=bool) if tracked is None else np.asarray(tracked, dtype=bool)
    if confidence is None:
        confidence = np.where(tracked, 0.98, 0.03)
    intensities = np.where(tracked[:, None], np.clip(aus, 0.0, 5.0), 0.0)
    presence = np.zeros((count, len(AU_PRESENCE_NAMES)))
    for index, name in enumerate(AU_PRESENCE_NAMES):
        intensity_name = name.replace("_c", "_r")
        if intensity_name in AU_NAMES:
            presence[:, index] = intensities[:, AU_NAMES.index(intensity_name)] >= 1.0

    header = ["frame", "face_id", "timestamp", "confidence", "success", *AU_NAMES, *AU_PRESENCE_NAMES]
    columns = [
        np.char.mod("%d", np.arange(1, count + 1)),
        np.char.mod("%d", np.full(count, face_id)),
        np.char.mod("%.3f", times),
        np.char.mod("%.2f", confidence),
        np.char.mod("%d", tracked.astype(int)),
        *[np.char.mod("%.2f", intensities[:, i]) for i in range(intensities.shape[1])],
        *[np.char.mod("%.1f", presence[:, i]) for i in range(presence.shape[1])],
    ]
    lines = [separator.join(row) for row in zip(*[c.tolist() for c in columns])]
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(separator.join(header) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
