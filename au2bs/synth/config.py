"""The generator's settings: one frozen dataclass, written into corpus.json."""

from __future__ import annotations

from dataclasses import dataclass

from au2bs.errors import InputError
from au2bs.synth.speakers import VOICES

GENERATOR_VERSION = 1  # bump when the same config would produce different data


@dataclass(frozen=True)
class SynthConfig:
    """What corpus to generate. The same config and seed give byte-identical files."""

    # The research corpus had 9 speakers; 8 keeps the default corpus quick.
    speakers: int = 8
    # The research's four voice types, each changing how the face moves.
    voices: tuple[str, ...] = ("high", "low", "muffled", "normal")
    # Per speaker and voice (the research read 105 items per voice); item k
    # is the same sentence or vowel for every speaker and voice.
    utterances_per_voice: int = 20
    # Master seed: speakers, scripts and every reading derive from it.
    seed: int = 0
    # A folder of real Live Link Face CSVs: cut them into utterances and use
    # them as the blendshape streams instead of synthetic faces.
    targets_from: str | None = None
    # The research's OpenFace videos ran at about 58 fps against 60 fps.
    au_fps: float = 58.0
    # The research measured offsets of 17-44 frames (0.28-0.73 s).
    lag_range_s: tuple[float, float] = (0.25, 0.75)
    # The research dropped 30 of 3780 pairs whose streams differ by > 1 s.
    outlier_share: float = 0.01
    # Live Link frames per utterance: short vowels to long sentences.
    min_frames: int = 100
    max_frames: int = 900

    def __post_init__(self) -> None:
        object.__setattr__(self, "voices", tuple(self.voices))
        object.__setattr__(self, "lag_range_s", tuple(self.lag_range_s))
        if self.speakers < 1 or self.utterances_per_voice < 1:
            raise InputError("speakers and utterances per voice must be positive")
        if not self.voices or len(set(self.voices)) != len(self.voices):
            raise InputError(f"voices must be distinct and not empty, got {list(self.voices)}")
        unknown = [voice for voice in self.voices if voice not in VOICES]
        if unknown:
            raise InputError(f"unknown voice(s) {', '.join(unknown)}; known: {', '.join(VOICES)}")
        if self.seed < 0:
            raise InputError(f"seed must not be negative, got {self.seed}")
        if self.au_fps <= 0:
            raise InputError(f"AU frame rate must be positive, got {self.au_fps}")
        low, high = self.lag_range_s
        if not 0 <= low <= high <= 1.0:
            raise InputError(f"lag range must satisfy 0 <= low <= high <= 1 s, got {self.lag_range_s}")
        if not 0 <= self.outlier_share <= 1:
            raise InputError(f"outlier share must be within 0-1, got {self.outlier_share}")
        if not 60 <= self.min_frames <= self.max_frames:
            raise InputError(f"need 60 <= min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
