"""Real targets (`--targets-from`): real Live Link Face takes, synthetic AUs.

Each take is cut into consecutive utterance-length pieces whose blendshape
values are written unchanged. Muscle drivers are read back from the
blendshapes by the FACS correspondences (AU12 from the smile channels,
AU26 from JawOpen, ...), and OpenFace's view of them is simulated exactly
as for synthetic faces. What the real face did beyond those drivers is
unknown, so such a corpus has no oracle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from au2bs.constants import AU_NAMES, LIVELINK_FPS, LIVELINK_NAMES, NUM_AUS
from au2bs.errors import InputError
from au2bs.formats import LiveLinkTake, read_livelink
from au2bs.synth.config import SynthConfig
from au2bs.synth.observe import observe
from au2bs.synth.record import (
    OUTLIER_ELIGIBLE,
    OUTLIER_MIN_FRAMES,
    TAKE_SEEDS,
    Utterance,
    rng_for,
    utterance_id,
)
from au2bs.synth.speakers import draw_speaker

# Driver = sum of weight x channel (clipped to 0-1). Weights above 1 stretch
# channels that ARKit keeps small (JawOpen rarely passes 0.4, MouthPress 0.1).
_SOURCES: dict[str, tuple[tuple[str, float], ...]] = {
    "AU01_r": (("BrowInnerUp", 1.0),),
    "AU02_r": (("BrowOuterUpLeft", 0.5), ("BrowOuterUpRight", 0.5)),
    "AU04_r": (("BrowDownLeft", 0.5), ("BrowDownRight", 0.5)),
    "AU05_r": (("EyeWideLeft", 0.5), ("EyeWideRight", 0.5)),
    "AU06_r": (("CheekSquintLeft", 0.6), ("CheekSquintRight", 0.6)),
    "AU07_r": (("EyeSquintLeft", 0.5), ("EyeSquintRight", 0.5)),
    "AU09_r": (("NoseSneerLeft", 0.6), ("NoseSneerRight", 0.6)),
    "AU10_r": (("MouthUpperUpLeft", 0.6), ("MouthUpperUpRight", 0.6)),
    "AU12_r": (("MouthSmileLeft", 0.5), ("MouthSmileRight", 0.5)),
    "AU14_r": (("MouthDimpleLeft", 1.2), ("MouthDimpleRight", 1.2)),
    "AU15_r": (("MouthFrownLeft", 0.8), ("MouthFrownRight", 0.8)),
    "AU17_r": (("MouthShrugLower", 1.5),),
    "AU20_r": (("MouthStretchLeft", 1.0), ("MouthStretchRight", 1.0)),
    "AU23_r": (("MouthPressLeft", 3.0), ("MouthPressRight", 3.0)),
    "AU25_r": (("JawOpen", 3.0), ("MouthLowerDownLeft", 1.0), ("MouthLowerDownRight", 1.0)),
    "AU26_r": (("JawOpen", 2.0),),
    "AU45_r": (("EyeBlinkLeft", 0.5), ("EyeBlinkRight", 0.5)),
}


def _source_matrix() -> np.ndarray:
    matrix = np.zeros((len(LIVELINK_NAMES), NUM_AUS))
    for au, terms in _SOURCES.items():
        for channel, weight in terms:
            matrix[LIVELINK_NAMES.index(channel), AU_NAMES.index(au)] = weight
    return matrix


_SOURCE = _source_matrix()


def drivers_from_blendshapes(values: np.ndarray) -> np.ndarray:
    """(T, 17) muscle drivers (0-1) read back from (T, 61) Live Link values."""
    return np.clip(np.asarray(values, dtype=np.float64) @ _SOURCE, 0.0, 1.0)


def load_takes(folder: str | Path) -> tuple[list[LiveLinkTake], list[str]]:
    """Reads every *.csv of `folder` (sorted); returns (takes, problems of skipped files).

    Raises:
        InputError: the folder is missing or holds no readable take.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("targets folder not found", folder)
    takes, skipped = [], []
    for path in sorted(folder.glob("*.csv")):
        try:
            takes.append(read_livelink(path))
        except InputError as error:
            skipped.append(str(error))
    if not takes:
        detail = f" ({len(skipped)} unreadable: {skipped[0]})" if skipped else ""
        raise InputError(f"no readable Live Link Face CSV in the targets folder{detail}", folder)
    return takes, skipped


def piece_lengths(rng: np.random.Generator, frames: int, config: SynthConfig, most: int) -> list[int]:
    """Consecutive utterance lengths cut from a take of `frames` frames.

    Lengths follow the synthetic corpus: a fifth short (vowel-like), the
    rest log-normal around 420 frames, so about 70 % stay under 500.
    """
    lengths: list[int] = []
    left = frames
    while left >= config.min_frames and len(lengths) < most:
        if rng.random() < 0.2:
            length = rng.uniform(config.min_frames, 2.5 * config.min_frames)
        else:
            length = 420.0 * np.exp(0.45 * rng.standard_normal())
        length = int(np.clip(round(length), config.min_frames, config.max_frames))
        length = min(length, left)
        lengths.append(length)
        left -= length
    return lengths


def real_target_utterances(
    config: SynthConfig, takes: list[LiveLinkTake] | None = None
) -> Iterator[Utterance]:
    """Utterances cut from the takes of `config.targets_from`, take by take.

    Uses the first `config.speakers` takes (sorted by name; speaker = file
    stem) and at most `len(voices) x utterances_per_voice` pieces of each;
    voice labels cycle through `config.voices`. `takes`: already read
    takes (default: read `config.targets_from`).
    """
    if takes is None:
        takes, _ = load_takes(config.targets_from)
    most = len(config.voices) * config.utterances_per_voice
    for take_index, take in enumerate(takes[: config.speakers]):
        profile = draw_speaker(rng_for(config.seed, TAKE_SEEDS, take_index))
        lengths = piece_lengths(
            rng_for(config.seed, TAKE_SEEDS, take_index, 0), len(take.values), config, most
        )
        first = 0
        for piece, length in enumerate(lengths):
            rng = rng_for(config.seed, TAKE_SEEDS, take_index, piece + 1)
            values = take.values[first : first + length]
            times = take.times[first : first + length]
            first += length
            lag = rng.uniform(*config.lag_range_s)
            end_offset = rng.uniform(-0.2, 0.0)  # the piece holds no frames past its end
            if rng.random() < config.outlier_share / OUTLIER_ELIGIBLE and length >= OUTLIER_MIN_FRAMES:
                end_offset = lag - rng.uniform(1.1, 2.0)
            clock = np.arange(length) / LIVELINK_FPS
            drivers = drivers_from_blendshapes(values)
            end = length / LIVELINK_FPS + end_offset
            fps = config.au_fps * rng.uniform(0.995, 1.005)
            stream = observe(rng, clock, drivers, profile, lag, end, fps, clock_skew=rng.normal(0.0, 2e-4))
            voice = config.voices[piece % len(config.voices)]
            speaker = take.path.stem
            yield Utterance(
                id=utterance_id(speaker, voice, piece // len(config.voices)),
                speaker=speaker,
                voice=voice,
                lag_frames=float(lag * LIVELINK_FPS),
                livelink=values,
                livelink_times=times,
                openface=stream,
                known=None,
            )
