"""Every knob of the dataset builder, with the reason for its default.

The resolved options are written into each dataset's manifest, so a dataset
always says how it was made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from au2bs.errors import InputError
from au2bs.formats import DEFAULT_MIN_CONFIDENCE


@dataclass(frozen=True)
class AuOptions:
    """How an OpenFace stream is cleaned; prediction reuses these exactly."""

    # Frames below this OpenFace confidence are missing data, like success = 0.
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # Which face of a multi-face file; None = the face with the most frames.
    face_id: int | None = None
    # Gaps of failed tracking up to this long are interpolated; a blink lasts
    # 0.1-0.4 s, so longer gaps would invent facial motion and are cut instead.
    max_gap_s: float = 0.25
    # Centred moving average over this many frames on both streams; 0/1 = off
    # (the research used 6; off keeps fast motion such as blinks intact).
    smooth_frames: int = 0


@dataclass(frozen=True)
class LagMode:
    """How the offset between the two recordings is found."""

    kind: str = "xcorr"  # "xcorr" (AU26 vs JawOpen), "fixed" or "none"
    frames: int = 0  # the offset when kind == "fixed"

    @classmethod
    def parse(cls, text: str) -> LagMode:
        """Parses `xcorr`, `none` or `fixed:N` (N frames at 60 fps, may be negative)."""
        text = text.strip().lower()
        if text in ("xcorr", "none"):
            return cls(kind=text)
        match = re.fullmatch(r"fixed:(-?\d+)", text)
        if match:
            return cls(kind="fixed", frames=int(match.group(1)))
        raise InputError(f"--lag must be xcorr, none or fixed:N, got {text!r}")

    def __str__(self) -> str:
        return f"fixed:{self.frames}" if self.kind == "fixed" else self.kind


@dataclass(frozen=True)
class BuildOptions:
    """How raw pairs become a dataset."""

    au: AuOptions = field(default_factory=AuOptions)
    lag: LagMode = field(default_factory=LagMode)
    # The research measured offsets of 17-44 frames; 1.5 s leaves room for
    # other rigs without letting the search lock onto a distant repeat.
    max_lag_s: float = 1.5
    # Below this correlation the AU26 / JawOpen peak is noise, not an offset.
    min_lag_correlation: float = 0.3
    # The research dropped pairs whose lengths differ by more than 60 frames.
    max_duration_diff_s: float = 1.0
    # Stretches between long tracking gaps shorter than this (0.5 s) are too
    # short to learn dynamics from and are dropped.
    min_segment_frames: int = 30
    # Keep only sequences shorter than this many frames (the research's 500).
    max_frames: int | None = None
    split_by: str = "utterance"  # or "speaker" for speaker-disjoint splits
    split_fractions: tuple[float, float, float] = (0.7, 0.1, 0.2)
    seed: int = 0
    # Record bad pairs in the manifest and go on instead of stopping.
    skip_bad: bool = False

    def __post_init__(self) -> None:
        if self.split_by not in ("utterance", "speaker"):
            raise InputError(f"--split-by must be utterance or speaker, got {self.split_by!r}")
        fractions = self.split_fractions
        if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
            raise InputError(f"split fractions must be 3 non-negative numbers summing to 1, got {fractions}")
        if self.max_frames is not None and self.max_frames < self.min_segment_frames:
            raise InputError(f"--max-frames must be at least {self.min_segment_frames}")
        if self.max_duration_diff_s < 0 or self.max_lag_s < 0 or self.au.max_gap_s < 0:
            raise InputError("durations and gaps must not be negative")
