"""Loading a built dataset for training: per split, ragged numpy arrays."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from au2bs.constants import (
    AU_NAMES,
    DATASET_FORMAT_VERSION,
    FRAMES_FILE,
    LIVELINK_NAMES,
    MANIFEST_FILE,
    SPLITS,
)
from au2bs.errors import InputError


@dataclass(frozen=True)
class SplitArrays:
    """The sequences of one split, concatenated.

    Plain numpy (no pandas) so it goes into the Ray object store as
    zero-copy buffers. Sequence i is rows offsets[i]:offsets[i + 1].
    """

    x: np.ndarray  # (frames, 17) float32, AUs scaled to 0-1
    y: np.ndarray  # (frames, 61) float32, Live Link Face channels
    offsets: np.ndarray  # (n + 1,) int64
    ids: tuple[str, ...]  # (n,) sequence ids

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sequence(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.offsets[index], self.offsets[index + 1]
        return self.x[start:stop], self.y[start:stop]

    def subset(self, fraction: float, seed: int) -> SplitArrays:
        """A seeded share of the sequences, as a compact copy (quick searches train on it)."""
        if fraction >= 1:
            return self
        rng = np.random.default_rng(seed)
        count = max(1, int(round(fraction * len(self))))
        chosen = np.sort(rng.choice(len(self), size=count, replace=False))
        xs, ys = zip(*(self.sequence(i) for i in chosen))
        lengths = np.array([len(x) for x in xs], dtype=np.int64)
        return SplitArrays(
            x=np.ascontiguousarray(np.concatenate(xs)),
            y=np.ascontiguousarray(np.concatenate(ys)),
            offsets=np.concatenate(([0], np.cumsum(lengths))).astype(np.int64),
            ids=tuple(self.ids[i] for i in chosen),
        )


def read_manifest(dataset: str | Path) -> dict:
    """Reads and checks a dataset's manifest; InputError if it is not a dataset."""
    dataset = Path(dataset)
    path = dataset / MANIFEST_FILE
    if not dataset.is_dir():
        raise InputError("dataset folder not found", dataset)
    if not path.is_file() or not (dataset / FRAMES_FILE).is_file():
        raise InputError(
            f"not a dataset (needs {MANIFEST_FILE} and {FRAMES_FILE}; build one with "
            "`python -m au2bs.data build SOURCE OUT`)",
            dataset,
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"unreadable manifest: {error}", path) from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != DATASET_FORMAT_VERSION:
        raise InputError(
            f"dataset format version {version!r}, this au2bs reads {DATASET_FORMAT_VERSION}", path
        )
    return manifest


def load_dataset(dataset: str | Path, splits: tuple[str, ...] = SPLITS) -> dict[str, SplitArrays]:
    """Loads the named splits of a dataset built by `au2bs.data build`.

    Returns:
        split name -> SplitArrays, in the order of the manifest's split ids.
    """
    dataset = Path(dataset)
    manifest = read_manifest(dataset)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise InputError(f"unknown split(s) {unknown}; splits are {list(SPLITS)}")
    try:
        table = pq.read_table(dataset / FRAMES_FILE, columns=list(AU_NAMES + LIVELINK_NAMES), memory_map=True)
    except Exception as error:  # pyarrow raises several types for a bad file
        raise InputError(f"unreadable frames table: {error}", dataset / FRAMES_FILE) from None
    lengths = manifest["sequence_frames"]
    # Rows are stored split by split, sequence by sequence, in manifest order.
    start = 0
    out: dict[str, SplitArrays] = {}
    for split in SPLITS:
        ids = tuple(manifest["splits"][split])
        sizes = np.array([lengths[i] for i in ids], dtype=np.int64)
        stop = start + int(sizes.sum())
        if split in splits:
            out[split] = SplitArrays(
                x=_block(table, AU_NAMES, start, stop),
                y=_block(table, LIVELINK_NAMES, start, stop),
                offsets=np.concatenate(([0], np.cumsum(sizes))).astype(np.int64),
                ids=ids,
            )
        start = stop
    if start != table.num_rows:
        raise InputError(f"frames table has {table.num_rows} rows, the manifest describes {start}", dataset)
    return out


def _block(table, names: tuple[str, ...], start: int, stop: int) -> np.ndarray:
    """Columns `names` of rows [start, stop) as one C-contiguous float32 array."""
    block = np.empty((stop - start, len(names)), dtype=np.float32)
    for index, name in enumerate(names):
        block[:, index] = table.column(name).slice(start, stop - start).to_numpy()
    return block
