"""One utterance in memory, and the conventions both of its generators follow.

The synthetic generator (`utterance.py`) and the real-targets generator
(`targets.py`) both build `Utterance`s from per-kind seed streams, with the
same ids and the same outlier rule; both import these from here, so neither
imports the other's module for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from au2bs.constants import LIVELINK_FPS
from au2bs.synth.observe import OpenFaceStream

# Streams of seeds: each kind of draw has its own, so adding speakers or
# voices never changes the others (items share stratified script lengths).
SPEAKER_SEEDS, SCRIPT_SEEDS, READING_SEEDS, SESSION_SEEDS, TAKE_SEEDS = 1, 2, 3, 4, 5
# Only utterances of 4 s or more can lose over 1 s of video and keep a
# usable rest; about 80 % are that long, so their outlier chance is scaled up.
OUTLIER_MIN_FRAMES, OUTLIER_ELIGIBLE = 4 * LIVELINK_FPS, 0.8


@dataclass(frozen=True)
class Utterance:
    """Both recordings of one utterance and what the generator knows about it."""

    id: str
    speaker: str
    voice: str
    lag_frames: float  # Live Link starts this many 60 fps frames before the video
    livelink: np.ndarray  # (N, 61) channel values as written
    livelink_times: np.ndarray  # (N,) seconds of the day, for the timecodes
    openface: OpenFaceStream
    known: np.ndarray | None  # (N, 61) AU-determined part; None for real targets


def rng_for(seed: int, *parts: int) -> np.random.Generator:
    """An independent generator for one (kind, index, ...) of one master seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, *parts]))


def utterance_id(speaker: str, voice: str, item: int) -> str:
    return f"{speaker}_{voice}_{item + 1:03d}"
