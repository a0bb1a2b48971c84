"""`build`: a raw corpus folder -> a validated, split Parquet dataset.

The dataset is written into a temporary sibling folder and renamed into
place at the end, so a failed build never leaves a partial dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

import au2bs
from au2bs.constants import (
    AU_NAMES,
    CORPUS_META_FILE,
    DATASET_FORMAT_VERSION,
    FRAMES_FILE,
    LIVELINK_FPS,
    LIVELINK_NAMES,
    MANIFEST_FILE,
    NUM_BLENDSHAPES,
    NUM_LIVELINK,
    SPLITS,
)
from au2bs.data.hashing import sha256_of
from au2bs.data.options import BuildOptions
from au2bs.data.pair import PairRejected, PairResult, process_pair
from au2bs.data.sources import PairSource, find_pairs
from au2bs.data.splits import split_utterances
from au2bs.errors import InputError


def build_dataset(
    source: str | Path,
    out: str | Path,
    options: BuildOptions | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
    workers: int | None = None,
) -> dict:
    """Builds a dataset from `source` into the folder `out`; returns its manifest.

    Pairs are processed by `workers` processes (default: one per CPU, at
    most 8); results keep the pairs' order, so the output does not depend
    on the number of workers.

    Raises:
        InputError: bad input (unless `options.skip_bad`), `out` already
            exists without `force`, or no pair survives.
    """
    options = options or BuildOptions()
    source, out = Path(source).resolve(), Path(out).resolve()
    if out.exists():
        if not force:
            raise InputError("output already exists; use --force to replace it", out)
        if out.is_file() or (any(out.iterdir()) and not (out / MANIFEST_FILE).is_file()):
            raise InputError("exists and is not a dataset; refusing to replace it even with --force", out)
    pairs = find_pairs(source)

    kept: list[PairResult] = []
    rejected: list[dict] = []
    outcomes = _process_all(pairs, options, workers)
    # disable=None: a bar on a terminal only, never carriage returns in a log file.
    for pair, (status, payload) in tqdm(
        zip(pairs, outcomes),
        total=len(pairs),
        desc="pairs",
        unit="pair",
        disable=None if progress else True,
        leave=False,
    ):
        if status == "filtered":
            rejected.append({"id": pair.id, "kind": "filtered", "reason": payload})
        elif status == "bad":
            if not options.skip_bad:
                raise payload
            rejected.append({"id": pair.id, "kind": "bad input", "reason": str(payload)})
        else:
            kept.append(payload)
            for note in payload.info["notes"]:
                log(f"{pair.id}: {note}")
    if not kept:
        raise InputError(f"no usable pair among {len(pairs)}: " + _first_reasons(rejected), source)

    split_of = split_utterances(
        {result.source.id: result.source.speaker for result in kept},
        options.split_by,
        options.split_fractions,
        options.seed,
    )
    manifest = _manifest(source, options, kept, rejected, split_of)
    _write_atomically(out, force, kept, split_of, manifest)
    counts = manifest["counts"]
    log(
        f"kept {counts['utterances']} utterances ({counts['sequences']} sequences, "
        f"{counts['frames']} frames), rejected {len(rejected)}; dataset at {out}"
    )
    return manifest


def _process_one(pair: PairSource, options: BuildOptions) -> tuple[str, object]:
    """Runs in a worker: outcomes come back as values, never as raised errors."""
    try:
        return "ok", process_pair(pair, options)
    except PairRejected as reason:
        return "filtered", str(reason)
    except InputError as error:
        return "bad", error


def _process_all(pairs: list[PairSource], options: BuildOptions, workers: int | None) -> Iterator:
    workers = workers or min(8, os.cpu_count() or 1)
    if workers <= 1 or len(pairs) < 8:
        return (_process_one(pair, options) for pair in pairs)
    pool = ProcessPoolExecutor(workers)
    results = pool.map(_process_one, pairs, [options] * len(pairs), chunksize=4)
    pool.shutdown(wait=False)  # map has queued everything; results stream in order
    return results


def _first_reasons(rejected: list[dict], limit: int = 3) -> str:
    return "; ".join(f"{r['id']}: {r['reason']}" for r in rejected[:limit])


def _ordered_sequences(kept: list[PairResult], split_of: dict[str, str]):
    """Yields (split, result, sequence) in file order: by split, then by id."""
    for split in SPLITS:
        for result in kept:
            if split_of[result.source.id] == split:
                for sequence in result.sequences:
                    yield split, result, sequence


def _frames_table(kept: list[PairResult], split_of: dict[str, str]) -> pa.Table:
    rows = list(_ordered_sequences(kept, split_of))
    lengths = np.array([len(seq.x) for _, _, seq in rows])

    def repeated(values: list[str]) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(np.arange(len(values), dtype=np.int32), lengths)), pa.array(values)
        )

    x = np.concatenate([seq.x for _, _, seq in rows])
    y = np.concatenate([seq.y for _, _, seq in rows])
    columns = {
        "split": repeated([split for split, _, _ in rows]),
        "utterance": repeated([seq.id for _, _, seq in rows]),
        "speaker": repeated([result.source.speaker for _, result, _ in rows]),
        "voice": repeated([result.source.voice for _, result, _ in rows]),
        "frame": pa.array(np.concatenate([np.arange(n, dtype=np.int32) for n in lengths])),
        "time": pa.array(np.concatenate([seq.times for _, _, seq in rows]).astype(np.float32)),
    }
    columns.update({name: pa.array(x[:, i]) for i, name in enumerate(AU_NAMES)})
    columns.update({name: pa.array(y[:, i]) for i, name in enumerate(LIVELINK_NAMES)})
    return pa.table(columns)


def _manifest(
    source: Path,
    options: BuildOptions,
    kept: list[PairResult],
    rejected: list[dict],
    split_of: dict[str, str],
) -> dict:
    rows = list(_ordered_sequences(kept, split_of))
    splits = {split: [seq.id for s, _, seq in rows if s == split] for split in SPLITS}
    frames = {split: int(sum(len(seq.x) for s, _, seq in rows if s == split)) for split in SPLITS}
    options_dict = asdict(options)
    options_dict["lag"] = str(options.lag)
    return {
        "format_version": DATASET_FORMAT_VERSION,
        "created_by": f"au2bs {au2bs.__version__} (python -m au2bs.data build)",
        "source": str(source),
        "fps": LIVELINK_FPS,
        "channels": {"aus": list(AU_NAMES), "livelink": list(LIVELINK_NAMES)},
        "au_scale": "OpenFace 0-5 intensities divided by 5, clipped to 0-1",
        "options": options_dict,
        "seed": options.seed,
        "splits": splits,
        "sequence_frames": {seq.id: len(seq.x) for _, _, seq in rows},
        "counts": {
            "pairs": len(kept) + len(rejected),
            "utterances": len(kept),
            "rejected": len(rejected),
            "sequences": len(rows),
            "frames": sum(frames.values()),
            "per_split": {
                split: {"sequences": len(splits[split]), "frames": frames[split]} for split in SPLITS
            },
            "speakers": sorted({r.source.speaker for r in kept}),
            "voices": sorted({r.source.voice for r in kept}),
        },
        "pairs": {
            r.source.id: {
                "split": split_of[r.source.id],
                "speaker": r.source.speaker,
                "voice": r.source.voice,
                "openface": {"path": str(r.source.openface), "sha256": sha256_of(r.source.openface)},
                "livelink": {"path": str(r.source.livelink), "sha256": sha256_of(r.source.livelink)},
                **r.info,
            }
            for r in kept
        },
        "rejected": rejected,
        "oracle": _oracle(source, kept, split_of),
    }


def _oracle(source: Path, kept: list[PairResult], split_of: dict[str, str]) -> dict | None:
    """Per-split oracle MSE when the source is a synthetic corpus that knows it.

    Computed from the generator's per-utterance squared errors, over the
    generator's frames (alignment trims a few), so it is a close estimate.
    """
    path = source / CORPUS_META_FILE
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    known = meta.get("utterances", {})
    if not meta.get("oracle") or any(known.get(r.source.id, {}).get("oracle_sse_61") is None for r in kept):
        return None
    figures = {}
    for split in SPLITS:
        ids = [r.source.id for r in kept if split_of[r.source.id] == split]
        frames = sum(known[i]["frames"] for i in ids)
        if frames:
            figures[split] = {
                "mse_61": sum(known[i]["oracle_sse_61"] for i in ids) / (frames * NUM_LIVELINK),
                "mse_52": sum(known[i]["oracle_sse_52"] for i in ids) / (frames * NUM_BLENDSHAPES),
            }
    return {"definition": meta["oracle"].get("definition"), "per_split": figures}


def _write_atomically(
    out: Path, force: bool, kept: list[PairResult], split_of: dict[str, str], manifest: dict
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        pq.write_table(_frames_table(kept, split_of), staging / FRAMES_FILE)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
        if out.exists() and force:
            retired = out.with_name(f".{out.name}.replaced")
            shutil.rmtree(retired, ignore_errors=True)
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
