"""One utterance pair, from two files to aligned (x, y) sequences."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from au2bs import align
from au2bs.constants import AU_MAX_INTENSITY, AU_NAMES, LIVELINK_FPS, LIVELINK_NAMES
from au2bs.data.options import BuildOptions
from au2bs.data.sources import PairSource
from au2bs.errors import InputError
from au2bs.formats import read_livelink, read_openface

_AU26 = AU_NAMES.index("AU26_r")
_JAW_OPEN = LIVELINK_NAMES.index("JawOpen")


class PairRejected(Exception):
    """A valid pair that a filter of the build options leaves out."""


@dataclass(frozen=True)
class Sequence:
    """An aligned stretch of one utterance on the 60 fps blendshape clock."""

    id: str
    x: np.ndarray  # (T, 17) float32 AUs scaled to 0-1
    y: np.ndarray  # (T, 61) float32 Live Link Face channels
    times: np.ndarray  # (T,) float64 seconds since the Live Link take began


@dataclass(frozen=True)
class PairResult:
    source: PairSource
    sequences: list[Sequence]
    info: dict = field(default_factory=dict)  # lag, gaps, notes: for the manifest


def process_pair(source: PairSource, options: BuildOptions) -> PairResult:
    """Reads, validates, aligns and cuts one pair.

    Raises:
        InputError: a file is missing or malformed, or the streams never overlap.
        PairRejected: the pair is valid but a filter leaves it out.
    """
    for path in (source.openface, source.livelink):
        if not path.is_file():
            raise InputError(f"file named by pair {source.id!r} not found", path)
    aus = read_openface(source.openface, options.au.face_id, options.au.min_confidence)
    blend = read_livelink(source.livelink)
    au_times = aus.times - aus.times[0]
    bs_times = blend.times - blend.times[0]

    difference = abs(aus.duration - blend.duration)
    if difference > options.max_duration_diff_s:
        raise PairRejected(
            f"stream durations differ by {difference:.2f} s (OpenFace {aus.duration:.2f} s, "
            f"Live Link {blend.duration:.2f} s; limit {options.max_duration_diff_s:g} s)"
        )

    filled, usable, gaps = align.fill_gaps(au_times, aus.aus, aus.tracked, options.au.max_gap_s)
    lag, correlation = _find_lag(au_times, filled, blend.values[:, _JAW_OPEN], options)

    # Blendshape frame j shows the face the AU stream saw at bs_times[j] - lag.
    query = bs_times - lag / LIVELINK_FPS
    inside = np.flatnonzero((query >= 0.0) & (query <= au_times[-1]))
    if inside.size == 0:
        raise InputError(
            f"the streams do not overlap in time after removing a lag of {lag} frames",
            source.livelink,
        )
    frames = np.arange(inside[0], inside[-1] + 1)
    x = align.au_features(au_times, filled, query[frames])
    y = blend.values[frames]
    ok = align.resample_mask(au_times, usable, query[frames])
    if options.au.smooth_frames > 1:
        x = align.moving_average(x, options.au.smooth_frames)
        y = align.moving_average(y, options.au.smooth_frames)

    runs = align.usable_runs(ok, options.min_segment_frames)
    if not runs:
        raise PairRejected(f"no stretch of {options.min_segment_frames}+ frames with tracked AUs")
    too_long = [b - a for a, b in runs if options.max_frames is not None and b - a >= options.max_frames]
    runs = [(a, b) for a, b in runs if options.max_frames is None or b - a < options.max_frames]
    if not runs:
        raise PairRejected(f"{max(too_long)} frames, not shorter than --max-frames {options.max_frames}")

    sequences = [
        Sequence(
            id=source.id if len(runs) == 1 else f"{source.id}#{index}",
            x=x[a:b].astype(np.float32),
            y=y[a:b].astype(np.float32),
            times=bs_times[frames[a:b]],
        )
        for index, (a, b) in enumerate(runs, start=1)
    ]
    info = {
        "lag_frames": int(lag),
        "lag_correlation": None if np.isnan(correlation) else round(float(correlation), 4),
        "openface_duration_s": round(aus.duration, 3),
        "livelink_duration_s": round(blend.duration, 3),
        "interpolated_frames": gaps.interpolated_frames,
        "long_gaps_s": [[round(a, 3), round(b, 3)] for a, b in gaps.long_gaps],
        "has_rotations": blend.has_rotations,
        "face_id": aus.face_id,
        "notes": list(aus.notes),
        "sequences": {s.id: len(s.x) for s in sequences},
        "dropped_too_long": too_long,
    }
    return PairResult(source, sequences, info)


def _find_lag(
    au_times: np.ndarray, aus: np.ndarray, jaw_open: np.ndarray, options: BuildOptions
) -> tuple[int, float]:
    if options.lag.kind == "none":
        return 0, float("nan")
    if options.lag.kind == "fixed":
        return options.lag.frames, float("nan")
    grid = align.frame_times(int(au_times[-1] * LIVELINK_FPS) + 1)
    jaw_drop = np.interp(grid, au_times, aus[:, _AU26]) / AU_MAX_INTENSITY
    max_lag = int(round(options.max_lag_s * LIVELINK_FPS))
    lag, correlation = align.estimate_lag(jaw_drop, jaw_open, max_lag)
    if not correlation >= options.min_lag_correlation:
        raise PairRejected(
            f"cannot estimate the lag: AU26 and JawOpen correlate at most {correlation:.2f} "
            f"(< {options.min_lag_correlation}); use --lag fixed:N or --lag none"
        )
    return lag, correlation
