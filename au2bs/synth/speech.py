"""Speech: scripts (what is said) and the mouth motion of saying them.

A script is shared by every speaker and voice (the research corpus had
each speaker read the same sentences and vowels in four voices); the timing
is drawn anew for each reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from au2bs.synth.signals import plateaus, raised_cosines, smooth_noise

# (jaw openness, lip spread) of a few vowel qualities: a, e, i, o, u, schwa.
_VOWELS = np.array([(0.85, 0.0), (0.55, 0.5), (0.3, 0.9), (0.6, 0.05), (0.35, 0.0), (0.4, 0.15)])
# Rounding weights are drawn independently of the vowel, with mean exactly 1
# (0.6 w.p. 0.7, else 1.933...), so funnel/pucker = jaw part x rounding has a
# known conditional mean given the AUs: the jaw part itself.
_ROUND_LOW, _ROUND_P = 0.6, 0.3
_ROUND_HIGH = (1.0 - (1.0 - _ROUND_P) * _ROUND_LOW) / _ROUND_P
# Share of scripts that are sustained vowels rather than sentences.
VOWEL_SHARE = 0.2
# Syllables of a sentence: log-normal around 26 (about 7 s read aloud), which
# puts about 70 % of utterances under 500 frames at 60 fps.
_SENTENCE_SYLLABLES, _SENTENCE_SPREAD = 26.5, 0.45


@dataclass(frozen=True)
class Script:
    """What is said: one row per syllable (or per held vowel)."""

    vowel: bool  # a sustained-vowel item instead of a sentence
    openness: np.ndarray  # (S,) jaw target 0-1
    spread: np.ndarray  # (S,) lip spread (AU20) 0-1
    rounding: np.ndarray  # (S,) lip rounding weight, mean 1, hidden from OpenFace
    bilabial: np.ndarray  # (S,) bool: starts with p/b/m, the lips close
    upper: np.ndarray  # (S,) upper-lip raise (AU10) for f/v/sh-like onsets
    pause: np.ndarray  # (S,) bool: a word/phrase pause follows
    hold: np.ndarray  # (S,) seconds a sustained vowel is held (0 in sentences)


@dataclass(frozen=True)
class Timing:
    """When each syllable of one reading happens (seconds from speech onset)."""

    onsets: np.ndarray
    durations: np.ndarray

    @property
    def end(self) -> float:
        return float(self.onsets[-1] + self.durations[-1]) if len(self.onsets) else 0.0

    def first(self, count: int) -> Timing:
        return Timing(self.onsets[:count], self.durations[:count])


def script_quantiles(rng: np.random.Generator, count: int) -> np.ndarray:
    """Stratified length quantiles for `count` scripts, in random order.

    One quantile per 1/count slice, so even 20 scripts follow the length
    distribution (about 70 % under 500 frames) instead of a lucky draw.
    """
    return (rng.permutation(count) + rng.random(count)) / count


def draw_script(rng: np.random.Generator, quantile: float) -> Script:
    """Draws a sentence (most items) or a sustained vowel repeated 1-3 times.

    Args:
        quantile: 0-1 position in the length distribution: the lowest
            `VOWEL_SHARE` are vowels, the rest sentences of growing length.
    """
    vowel = bool(quantile < VOWEL_SHARE)
    if vowel:
        count = int(rng.integers(1, 4))
        quality = np.full(count, rng.integers(0, len(_VOWELS)))
    else:
        normal = ndtri(np.clip((quantile - VOWEL_SHARE) / (1.0 - VOWEL_SHARE), 1e-6, 1 - 1e-6))
        count = int(np.clip(round(_SENTENCE_SYLLABLES * np.exp(_SENTENCE_SPREAD * normal)), 5, 70))
        quality = rng.integers(0, len(_VOWELS), count)
    scale = rng.uniform(0.8, 1.2, count)
    rounding = np.where(rng.random(count) < _ROUND_P, _ROUND_HIGH, _ROUND_LOW)
    return Script(
        vowel=vowel,
        openness=np.clip(_VOWELS[quality, 0] * scale, 0.0, 1.0),
        spread=np.clip(_VOWELS[quality, 1] * scale, 0.0, 1.0),
        rounding=rounding,
        bilabial=(rng.random(count) < 0.25) & ~vowel,
        upper=np.where((rng.random(count) < 0.15) & ~vowel, rng.uniform(0.2, 0.6, count), 0.0),
        pause=np.ones(count, bool) if vowel else rng.random(count) < 0.12,
        hold=rng.uniform(0.5, 1.5, count) if vowel else np.zeros(count),
    )


def time_script(rng: np.random.Generator, script: Script, tempo: float) -> Timing:
    """Draws one reading's syllable timing (about 4-6 syllables per second)."""
    count = len(script.openness)
    base = np.where(script.vowel, script.hold, 0.19)
    durations = base * tempo * np.exp(rng.normal(0.0, 0.2, count))
    gaps = np.where(script.pause, rng.uniform(0.12, 0.4, count), 0.0)
    onsets = np.concatenate(([0.0], np.cumsum(durations + gaps)[:-1]))
    return Timing(onsets, durations)


@dataclass(frozen=True)
class SpeechMotion:
    """Speech's contribution to the muscle drivers, on the caller's grid."""

    jaw: np.ndarray  # AU26 jaw drop
    lips: np.ndarray  # AU25 lips part
    spread: np.ndarray  # AU20 lip stretch
    press: np.ndarray  # AU23 lip press at bilabial closures
    upper: np.ndarray  # AU10 upper-lip raise
    rounding: np.ndarray  # hidden rounding factor, mean 1 (1 outside speech)


def speech_motion(
    rng: np.random.Generator, t: np.ndarray, script: Script, timing: Timing, start: float, amplitude: float
) -> SpeechMotion:
    """Renders a reading that begins at `start` seconds onto the grid `t`."""
    count = len(timing.onsets)
    onsets = start + timing.onsets
    durations = timing.durations
    centres = onsets + durations / 2
    openness = script.openness[:count] * amplitude
    if script.vowel:
        # A held vowel: the jaw opens, stays (with a slight tremor) and closes.
        jaw = plateaus(t, onsets, onsets + durations, openness, ramp=0.12)
        jaw *= 1.0 + smooth_noise(rng, len(t), float(t[1] - t[0]), 0.15, 0.04)
        rounded = plateaus(t, onsets, onsets + durations, script.rounding[:count], ramp=0.12)
        weights = plateaus(t, onsets, onsets + durations, np.ones(count), ramp=0.12)
    else:
        # Overlapping bumps: each syllable's jaw gesture blends into the next.
        jaw = raised_cosines(t, centres, 1.6 * durations, openness)
        rounded = raised_cosines(t, centres, 1.6 * durations, script.rounding[:count])
        weights = raised_cosines(t, centres, 1.6 * durations, np.ones(count))
    # Lips part from shortly before the first syllable of a run to its end.
    run_start = np.concatenate(([True], script.pause[: count - 1]))
    run_end = script.pause[:count].copy()
    run_end[-1] = True
    lips = plateaus(
        t, onsets[run_start] - 0.06, (onsets + durations)[run_end] + 0.06, np.ones(run_start.sum()), 0.08
    )
    closures = raised_cosines(
        t, onsets[script.bilabial[:count]], np.full(script.bilabial[:count].sum(), 0.14), 1.0
    )
    lips = np.clip(lips - closures, 0.0, 1.0)
    # The syllables' rounding weights averaged with the jaw gestures' own
    # weights: mean 1 at every instant whatever the timing; exactly 1 where
    # no syllable is.
    tiny = 1e-3
    rounding = (rounded + tiny) / (weights + tiny)
    return SpeechMotion(
        jaw=np.clip(jaw, 0.0, 1.0),
        lips=lips * min(1.0, 0.6 + 0.4 * amplitude),
        spread=np.clip(raised_cosines(t, centres, 1.4 * durations, script.spread[:count] * amplitude), 0, 1),
        press=0.6 * closures,
        upper=raised_cosines(t, onsets + 0.3 * durations, durations, script.upper[:count] * amplitude),
        rounding=rounding,
    )
