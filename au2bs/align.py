"""Putting an AU stream and a blendshape stream on one clock.

Numpy and scipy, shared by the dataset builder and by prediction so that a model
sees at inference exactly the preprocessing it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from au2bs.constants import AU_MAX_INTENSITY, LIVELINK_FPS

# The research smoothed both signals with a 6-frame rolling mean (then a
# Savitzky-Golay filter) before cross-correlating; two moving averages give
# the same low-pass effect.
LAG_SMOOTHING_FRAMES = (6, 5)


@dataclass(frozen=True)
class GapReport:
    """What `fill_gaps` did to an AU stream."""

    interpolated_frames: int  # failed frames filled from their neighbours
    long_gaps: tuple[tuple[float, float], ...]  # (start s, end s) of gaps left unusable


def fill_gaps(
    times: np.ndarray, values: np.ndarray, tracked: np.ndarray, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray, GapReport]:
    """Interpolates untracked frames; marks gaps longer than `max_gap_s` unusable.

    A failed frame is missing data, not a neutral face: every untracked frame
    takes values interpolated linearly between the tracked frames around it
    (so the stream stays continuous for resampling and lag estimation), and
    `usable` says whether that is trustworthy. Gaps at the start or end of
    the stream have only one side and are never usable.

    Returns:
        (filled values, usable (N,) bool, report)
    """
    tracked = np.asarray(tracked, dtype=bool)
    good = np.flatnonzero(tracked)
    filled = np.empty_like(values)
    for column in range(values.shape[1]):
        filled[:, column] = np.interp(times, times[good], values[good, column])
    usable = tracked.copy()
    long_gaps: list[tuple[float, float]] = []
    interpolated = 0
    for start, stop in _runs(~tracked):  # [start, stop) of untracked frames
        inner = start > 0 and stop < len(times)
        span = times[stop] - times[start - 1] if inner else np.inf
        if span <= max_gap_s:
            usable[start:stop] = True
            interpolated += stop - start
        else:
            long_gaps.append((float(times[start]), float(times[stop - 1])))
    return filled, usable, GapReport(interpolated, tuple(long_gaps))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges where `mask` is True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def usable_runs(usable: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of at least `min_frames` consecutive usable frames."""
    return [(a, b) for a, b in _runs(np.asarray(usable, dtype=bool)) if b - a >= min_frames]


def resample(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Linear interpolation of each column of `values` (sampled at `times`) at `at`."""
    out = np.empty((len(at), values.shape[1]), dtype=np.float64)
    for column in range(values.shape[1]):
        out[:, column] = np.interp(at, times, values[:, column])
    return out


def au_features(times: np.ndarray, aus: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Model inputs: AU intensities (0-5, gaps filled) resampled at `at`, scaled to 0-1.

    The dataset builder and prediction both call this, so a model sees at
    inference exactly the inputs it was trained on.
    """
    return scale_aus(resample(times, aus, at))


def scale_aus(aus: np.ndarray) -> np.ndarray:
    """OpenFace's 0-5 AU intensities as model inputs: 0-1, clipped."""
    return np.clip(aus / AU_MAX_INTENSITY, 0.0, 1.0)


def resample_mask(times: np.ndarray, mask: np.ndarray, at: np.ndarray) -> np.ndarray:
    """True where both source frames around each point of `at` are True."""
    return np.interp(at, times, np.asarray(mask, dtype=np.float64)) > 1.0 - 1e-9


def moving_average(values: np.ndarray, frames: int) -> np.ndarray:
    """Centred moving average along axis 0 with edge-replicating padding, as float64.

    An even window reaches one frame further ahead than back (frames // 2
    after, (frames - 1) // 2 before): scipy's `origin=-1` for even sizes.
    """
    if frames <= 1:
        return values
    return uniform_filter1d(values, frames, axis=0, output=np.float64, mode="nearest", origin=frames % 2 - 1)


def estimate_lag(reference: np.ndarray, delayed: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Finds the shift L maximising corr(reference[k], delayed[k + L]).

    Both signals are on the same 60 fps grid. L > 0 means `delayed` starts L
    frames earlier than `reference`, so dropping L frames from its start
    aligns the two. Each candidate shift is scored by the Pearson
    correlation over the frames the two share (at least half of the shorter
    signal), so long overlaps are not favoured merely for their length.

    Returns:
        (L, correlation at L); correlation is NaN when no shift is scorable.
    """
    a = _smooth_for_lag(reference)
    b = _smooth_for_lag(delayed)
    min_overlap = max(2, min(len(a), len(b)) // 2)
    best_lag, best_corr = 0, -np.inf
    for lag in range(-max_lag, max_lag + 1):
        first = max(0, -lag)
        last = min(len(a), len(b) - lag)
        if last - first < min_overlap:
            continue
        corr = _pearson(a[first:last], b[first + lag : last + lag])
        if corr > best_corr:
            best_lag, best_corr = lag, corr
    return best_lag, float(best_corr) if np.isfinite(best_corr) else float("nan")


def _smooth_for_lag(signal: np.ndarray) -> np.ndarray:
    out = np.asarray(signal, dtype=np.float64)
    for frames in LAG_SMOOTHING_FRAMES:
        out = moving_average(out, frames)
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 1e-12 else -np.inf


def frame_times(count: int, start: float = 0.0) -> np.ndarray:
    """Times of `count` frames on the 60 fps blendshape clock."""
    return start + np.arange(count) / LIVELINK_FPS
