"""Small, valid OpenFace + Live Link Face pairs written by the tests themselves.

Independent of the synthetic generator, so builder tests fail for builder
reasons only. Bad-input tests start from these files and break one thing.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from au2bs.constants import AU_NAMES, LIVELINK_FPS, LIVELINK_NAMES, PAIRS_FILE
from au2bs.formats import write_livelink, write_openface

JAW_OPEN = LIVELINK_NAMES.index("JawOpen")
AU26 = AU_NAMES.index("AU26_r")


def smooth_motion(rng: np.random.Generator, frames: int, channels: int) -> np.ndarray:
    """Smooth 0-1 signals: a few random sinusoids per channel, clipped at 0."""
    t = np.arange(frames)[:, None] / LIVELINK_FPS
    out = np.zeros((frames, channels))
    for _ in range(3):
        freq = rng.uniform(0.3, 4.0, channels)
        phase = rng.uniform(0, 2 * np.pi, channels)
        out += rng.uniform(0.05, 0.3, channels) * np.sin(2 * np.pi * freq * t + phase)
    return np.clip(out + 0.1, 0.0, 1.0)


def write_pair(
    folder: Path,
    pair_id: str,
    seed: int = 0,
    frames: int = 360,
    lag_frames: int = 24,
    au_fps: float = 58.0,
    failed: slice | None = None,
) -> tuple[Path, Path]:
    """Writes openface/<id>.csv and livelink/<id>.csv whose true lag is `lag_frames`.

    The Live Link take starts `lag_frames` frames before the video; the AU
    stream is derived from the blendshapes (AU26 = 5 * JawOpen, others mixed).
    """
    rng = np.random.default_rng(seed)
    values = np.zeros((frames, len(LIVELINK_NAMES)))
    values[:, :52] = smooth_motion(rng, frames, 52)
    values[:, JAW_OPEN] = smooth_motion(rng, frames, 1)[:, 0] * 0.8
    (folder / "openface").mkdir(parents=True, exist_ok=True)
    (folder / "livelink").mkdir(parents=True, exist_ok=True)
    livelink = write_livelink(folder / "livelink" / f"{pair_id}.csv", values, start_seconds=67438.5)

    video_seconds = (frames - lag_frames) / LIVELINK_FPS
    au_times = np.arange(0.0, video_seconds, 1.0 / au_fps)
    bs_at = au_times * LIVELINK_FPS + lag_frames  # fractional blendshape frame per AU frame

    def bs_interp(channel: int) -> np.ndarray:
        return np.interp(bs_at, np.arange(frames), values[:, channel])

    aus = np.stack([bs_interp(i % 52) for i in range(len(AU_NAMES))], axis=1) * 5.0
    aus[:, AU26] = 5.0 * bs_interp(JAW_OPEN)
    tracked = np.ones(len(au_times), dtype=bool)
    if failed is not None:
        tracked[failed] = False
    openface = write_openface(folder / "openface" / f"{pair_id}.csv", au_times, aus, tracked)
    return openface, livelink


def write_corpus(
    folder: Path, count: int = 6, speakers: int = 3, lag_frames_base: int = 18, **pair_args
) -> Path:
    """Writes `count` pairs (pair i lags by `lag_frames_base` + 3 i frames) and a pairs.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(count):
        pair_id = f"utt{index:02d}"
        write_pair(folder, pair_id, seed=index, lag_frames=lag_frames_base + 3 * index, **pair_args)
        rows.append(
            [
                pair_id,
                f"openface/{pair_id}.csv",
                f"livelink/{pair_id}.csv",
                f"spk{index % speakers}",
                "normal",
            ]
        )
    with open(folder / PAIRS_FILE, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "openface", "livelink", "speaker", "voice"])
        writer.writerows(rows)
    return folder
