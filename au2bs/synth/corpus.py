"""Writing a raw corpus: OpenFace and Live Link Face CSVs, pairs.csv, corpus.json.

The corpus is written into a hidden sibling folder and renamed into place
at the end, so a failure never leaves half a corpus behind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from au2bs.constants import (
    CORPUS_META_FILE,
    LIVELINK_DIR,
    LIVELINK_FPS,
    NUM_BLENDSHAPES,
    NUM_LIVELINK,
    OPENFACE_DIR,
    PAIRS_FILE,
)
from au2bs.errors import InputError
from au2bs.formats import LiveLinkTake, write_livelink, write_openface
from au2bs.synth.config import GENERATOR_VERSION, SynthConfig
from au2bs.synth.targets import load_takes, real_target_utterances
from au2bs.synth.utterance import Utterance, count_utterances, simulate

PAIRS_HEADER = ("id", "openface", "livelink", "speaker", "voice")
ORACLE_DEFINITION = (
    "Per-channel squared error, over every Live Link frame, of predicting each channel from the "
    "generator's noise-free muscle drivers and speaker/voice parameters, with every part independent "
    "of them (AU-less motion, left/right wobble, jitter, lip rounding) replaced by its corpus-wide mean."
)
NO_ORACLE_REASON = "the blendshape targets are real takes: what drove them beyond the derived AUs is unknown"


@dataclass
class _OracleSums:
    """Per-utterance sums that give the oracle error once the corpus mean is known."""

    frames: dict[str, int] = field(default_factory=dict)
    residual_sum: dict[str, np.ndarray] = field(default_factory=dict)  # (61,) sum of y - known
    residual_square: dict[str, np.ndarray] = field(default_factory=dict)  # (61,) sum of (y - known)^2

    def add(self, utterance: Utterance) -> None:
        residual = utterance.livelink - utterance.known
        self.frames[utterance.id] = len(residual)
        self.residual_sum[utterance.id] = residual.sum(axis=0)
        self.residual_square[utterance.id] = (residual**2).sum(axis=0)

    def errors(self) -> dict[str, np.ndarray]:
        """(61,) oracle sum of squared errors per utterance, with the corpus-mean residual as constant.

        sum (r - m)^2 = sum r^2 - 2 m sum r + n m^2, so no frame is kept in memory.
        """
        total = sum(self.frames.values())
        mean = sum(self.residual_sum.values()) / total
        return {
            key: self.residual_square[key] - 2.0 * mean * self.residual_sum[key] + self.frames[key] * mean**2
            for key in self.frames
        }


def generate_corpus(
    out_dir: Path, config: SynthConfig, progress: bool = True, overwrite: bool = False
) -> Path:
    """Writes a raw corpus in the real file formats into `out_dir`.

    Args:
        out_dir: must not exist or be empty (unless `overwrite`).
        config: what to generate; the same config gives byte-identical files.
        progress: show a progress bar on stderr.
        overwrite: replace an existing corpus (a folder holding corpus.json)
            once the new one is complete.

    Returns:
        out_dir.

    Raises:
        InputError: out_dir is in the way, or the targets folder is unusable.
    """
    out_dir = Path(out_dir)
    _check_destination(out_dir, overwrite)
    # Read the takes before touching the disk: a bad folder writes nothing.
    takes, skipped = load_takes(config.targets_from) if config.targets_from is not None else (None, [])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # A fixed name (not mkdtemp's private 0700 folder) so the corpus gets
    # the user's usual permissions; a stale one is from a killed run.
    staging = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _write(staging, config, takes, skipped, progress)
        if out_dir.exists():
            retired = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, retired)
            os.replace(staging, out_dir)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_destination(out_dir: Path, overwrite: bool) -> None:
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError("output exists and is not a folder", out_dir)
    if not any(out_dir.iterdir()):
        return
    if not overwrite:
        raise InputError("output folder exists and is not empty (use --force to replace a corpus)", out_dir)
    if not (out_dir / CORPUS_META_FILE).is_file():
        raise InputError(
            f"refusing to replace a folder that is not a corpus (no {CORPUS_META_FILE})", out_dir
        )


def _write(
    folder: Path, config: SynthConfig, takes: list[LiveLinkTake] | None, skipped: list[str], progress: bool
) -> None:
    (folder / OPENFACE_DIR).mkdir()
    (folder / LIVELINK_DIR).mkdir()
    rows: list[tuple[str, ...]] = []
    info: dict[str, dict] = {}
    sums = _OracleSums()
    utterances = simulate(config) if takes is None else real_target_utterances(config, takes)
    # disable=None: a bar on a terminal only, never carriage returns in a log file.
    bar = tqdm(
        total=count_utterances(config), desc="synth corpus", unit="utt", disable=None if progress else True
    )
    for utterance in utterances:
        openface = f"{OPENFACE_DIR}/{utterance.id}.csv"
        livelink = f"{LIVELINK_DIR}/{utterance.id}.csv"
        stream = utterance.openface
        write_openface(folder / openface, stream.timestamps, stream.aus, stream.tracked, stream.confidence)
        write_livelink(folder / livelink, utterance.livelink, times=utterance.livelink_times)
        rows.append((utterance.id, openface, livelink, utterance.speaker, utterance.voice))
        info[utterance.id] = {
            "lag_frames": round(utterance.lag_frames, 4),
            "frames": len(utterance.livelink),
            "oracle_sse_61": None,
            "oracle_sse_52": None,
            "speaker": utterance.speaker,
            "voice": utterance.voice,
            "openface_frames": len(stream.timestamps),
            "untracked_frames": int((~stream.tracked).sum()),
        }
        if utterance.known is not None:
            sums.add(utterance)
        bar.update()
    bar.close()
    if not rows:
        raise InputError("the takes are shorter than one utterance", config.targets_from)

    with (folder / PAIRS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PAIRS_HEADER)
        writer.writerows(rows)
    (folder / CORPUS_META_FILE).write_text(
        json.dumps(_meta(config, info, sums, skipped), indent=1) + "\n", encoding="utf-8"
    )


def _meta(config: SynthConfig, info: dict[str, dict], sums: _OracleSums, skipped: list[str]) -> dict:
    if sums.frames:
        errors = sums.errors()
        for key, sse in errors.items():
            info[key]["oracle_sse_61"] = float(sse.sum())
            info[key]["oracle_sse_52"] = float(sse[:NUM_BLENDSHAPES].sum())
        frames = sum(sums.frames.values())
        oracle = {
            "mse_61": float(sum(e.sum() for e in errors.values()) / (frames * NUM_LIVELINK)),
            "mse_52": float(
                sum(e[:NUM_BLENDSHAPES].sum() for e in errors.values()) / (frames * NUM_BLENDSHAPES)
            ),
            "definition": ORACLE_DEFINITION,
        }
    else:
        oracle = {"mse_61": None, "mse_52": None, "definition": ORACLE_DEFINITION, "reason": NO_ORACLE_REASON}
    return {
        "generator": "au2bs.synth",
        "version": GENERATOR_VERSION,
        "config": asdict(config),
        "fps": LIVELINK_FPS,
        "oracle": oracle,
        "skipped_takes": skipped,
        "utterances": info,
    }
