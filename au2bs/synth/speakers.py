"""Who speaks and how: voice conditions and per-speaker face and sensor traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from au2bs.constants import AU_NAMES, BLENDSHAPE_NAMES, NUM_AUS, NUM_LIVELINK

_AU = {name: index for index, name in enumerate(AU_NAMES)}


@dataclass(frozen=True)
class VoiceProfile:
    """How a voice condition changes facial motion (multipliers of a normal voice)."""

    mouth: float  # jaw and lip amplitude: a muffled voice barely opens the mouth
    tempo: float  # syllable durations: a low voice is drawn out
    brow_raise: float  # AU01/02/05 episode rate and size: high pitch lifts the brows
    brow_lower: float  # AU04 episodes: a low voice comes with a furrowed brow
    smile: float  # AU12 episode rate


# The four voice types of the research corpus.
VOICES: dict[str, VoiceProfile] = {
    "high": VoiceProfile(mouth=0.95, tempo=0.94, brow_raise=1.9, brow_lower=0.5, smile=1.25),
    "low": VoiceProfile(mouth=1.1, tempo=1.1, brow_raise=0.6, brow_lower=1.7, smile=0.8),
    "muffled": VoiceProfile(mouth=0.55, tempo=1.0, brow_raise=0.9, brow_lower=1.2, smile=0.7),
    "normal": VoiceProfile(mouth=1.0, tempo=1.0, brow_raise=1.0, brow_lower=1.0, smile=1.0),
}

# Drivers with a resting tone that differs between faces (driver units 0-1):
# a face that looks slightly furrowed, squinting or spread at rest. OpenFace
# sees these, so they also fingerprint the speaker in the AU stream.
_REST_RANGES: dict[str, tuple[float, float]] = {
    "AU01_r": (0.0, 0.1),
    "AU04_r": (0.0, 0.3),
    "AU05_r": (0.0, 0.2),
    "AU06_r": (0.0, 0.15),
    "AU07_r": (0.1, 0.4),
    "AU20_r": (0.05, 0.3),
    "AU23_r": (0.0, 0.1),
    "AU25_r": (0.0, 0.15),
}


@dataclass(frozen=True)
class SpeakerProfile:
    """One speaker's face, habits and how OpenFace sees them.

    Attributes:
        rest: (17,) resting tone of each AU's muscle driver (0-1).
        smile, brow_raise, brow_lower, other: expressiveness multipliers of
            episode rates (some people smile a lot, some frown).
        jaw: amplitude of speech jaw motion.
        tempo: syllable duration multiplier.
        blink_rate: blinks per second.
        bs_gain: (61,) how strongly this face moves each blendshape.
        bs_asym: (61,) fixed left/right imbalance, +b on a Left channel and
            -b on its Right partner.
        au_gain: (17,) OpenFace's sensitivity to this face per AU.
        au_offset: (17,) OpenFace's person-specific bias per AU (driver
            units): a neutral face rarely reads exactly 0.
        au_noise: multiplier of OpenFace's frame-to-frame noise (lighting,
            skin, glasses).
        gaze_centre: (2,) where this speaker's eyes rest (yaw, pitch).
    """

    rest: np.ndarray
    smile: float
    brow_raise: float
    brow_lower: float
    other: float
    jaw: float
    tempo: float
    blink_rate: float
    bs_gain: np.ndarray
    bs_asym: np.ndarray
    au_gain: np.ndarray
    au_offset: np.ndarray
    au_noise: float
    gaze_centre: np.ndarray


def lateral_pairs() -> list[tuple[int, int]]:
    """(left, right) channel indices of every Left/Right blendshape pair."""
    pairs = []
    for index, name in enumerate(BLENDSHAPE_NAMES):
        if name.endswith("Left"):
            pairs.append((index, BLENDSHAPE_NAMES.index(name[: -len("Left")] + "Right")))
    return pairs


def draw_speaker(rng: np.random.Generator) -> SpeakerProfile:
    """Draws one speaker's traits."""
    rest = np.zeros(NUM_AUS)
    for name, (lo, hi) in _REST_RANGES.items():
        rest[_AU[name]] = rng.uniform(lo, hi)
    bs_asym = np.zeros(NUM_LIVELINK)
    for left, right in lateral_pairs():
        bias = rng.normal(0.0, 0.04)
        bs_asym[left], bs_asym[right] = bias, -bias
    au_offset = np.where(rng.random(NUM_AUS) < 0.3, rng.uniform(0.0, 0.08, NUM_AUS), 0.0)
    return SpeakerProfile(
        rest=rest,
        smile=float(rng.uniform(0.4, 1.6)),
        brow_raise=float(rng.uniform(0.5, 1.5)),
        brow_lower=float(rng.uniform(0.5, 1.5)),
        other=float(rng.uniform(0.6, 1.4)),
        jaw=float(rng.uniform(0.8, 1.2)),
        tempo=float(rng.uniform(0.88, 1.12)),
        blink_rate=float(rng.uniform(0.15, 0.4)),
        bs_gain=np.exp(rng.normal(0.0, 0.05, NUM_LIVELINK)),
        bs_asym=bs_asym,
        au_gain=np.exp(rng.normal(0.0, 0.06, NUM_AUS)),
        au_offset=au_offset,
        au_noise=float(rng.uniform(0.8, 1.25)),
        gaze_centre=np.array([rng.normal(0.02, 0.01), rng.normal(-0.06, 0.01)]),
    )
