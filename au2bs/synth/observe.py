"""How OpenFace sees the drivers: a noisy, nonlinear, ~58 fps AU stream.

The video clock starts `start_s` seconds after the Live Link take (the lag);
frames arrive at about 58 fps with jitter and the odd dropped frame;
intensities pass a per-AU response curve, a per-speaker gain and bias, a
little cross-talk between AUs, sensor noise and OpenFace's 2-decimal
rounding; tracking fails in bursts, written as success 0 with all AUs 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from au2bs.constants import AU_MAX_INTENSITY, AU_NAMES, NUM_AUS
from au2bs.synth.signals import smooth_noise
from au2bs.synth.speakers import SpeakerProfile

_AU = {name: index for index, name in enumerate(AU_NAMES)}

# OpenFace's intensity regressors are not linear in muscle activation:
# exponents < 1 read small activations early (AU25/AU45 act almost as
# detectors), > 1 lag behind until the expression is clear.
_RESPONSE_POWER = np.ones(NUM_AUS)
for _name, _power in {"AU45_r": 0.7, "AU25_r": 0.6, "AU12_r": 1.25, "AU06_r": 1.2, "AU04_r": 0.85}.items():
    _RESPONSE_POWER[_AU[_name]] = _power

# (observed AU, driver it leaks from, weight): OpenFace confuses cheek raise
# and lip-corner pull, reads parted lips as some jaw drop and squints as
# half-blinks.
_CROSSTALK = (
    ("AU06_r", "AU12_r", 0.2),
    ("AU12_r", "AU06_r", 0.1),
    ("AU26_r", "AU25_r", 0.08),
    ("AU45_r", "AU07_r", 0.12),
)

_WHITE_NOISE = 0.025  # frame-to-frame sensor noise, driver units (0.125 on the 0-5 scale)
_SLOW_NOISE = 0.008  # slowly wandering bias (lighting, head pose), driver units
_JITTER_S = 0.0015  # std of frame time jitter, clipped to +-4 ms
_DROP_RATE = 0.003  # share of video frames lost before OpenFace saw them
_SHORT_FAILURES_PER_S = 0.1  # bursts of 1-5 untracked frames
_LONG_FAILURE_SHARE = 0.05  # utterances with one 0.5-1.2 s tracking loss


@dataclass(frozen=True)
class OpenFaceStream:
    """One OpenFace CSV's content plus where each frame lies in real time."""

    timestamps: np.ndarray  # (M,) seconds on the video clock, 3 decimals, from 0
    aus: np.ndarray  # (M, 17) 0-5 intensities, 2 decimals, 0 where untracked
    tracked: np.ndarray  # (M,) bool: success
    confidence: np.ndarray  # (M,) 2 decimals
    real_times: np.ndarray  # (M,) seconds since the Live Link take began


def _mixing() -> np.ndarray:
    matrix = np.eye(NUM_AUS)
    for observed, source, weight in _CROSSTALK:
        matrix[_AU[source], _AU[observed]] += weight
    return matrix


_MIXING = _mixing()


def frame_times(rng: np.random.Generator, duration: float, fps: float) -> np.ndarray:
    """Video-clock times of the frames of a `duration`-second video, from 0."""
    count = int(duration * fps) + 1
    times = np.arange(count) / fps + np.clip(rng.normal(0.0, _JITTER_S, count), -0.004, 0.004)
    times[0] = 0.0
    keep = rng.random(count) >= _DROP_RATE
    keep[0] = True
    times = np.round(times[keep & (times <= duration)], 3)
    return times


def failures(rng: np.random.Generator, count: int, fps: float) -> np.ndarray:
    """(count,) bool tracked: short bursts of 1-5 frames, sometimes one long loss."""
    tracked = np.ones(count, bool)
    bursts = rng.poisson(_SHORT_FAILURES_PER_S * count / fps)
    for _ in range(bursts):
        length = min(int(rng.geometric(0.45)), 5)
        start = rng.integers(0, max(count - length, 1))
        tracked[start : start + length] = False
    if rng.random() < _LONG_FAILURE_SHARE:
        length = min(int(rng.uniform(0.5, 1.2) * fps), count // 4)
        start = rng.integers(0, max(count - length, 1))
        tracked[start : start + length] = False
    tracked[[0, -1]] = True  # the take starts and ends on a tracked face
    return tracked


def observe(
    rng: np.random.Generator,
    t: np.ndarray,
    drivers: np.ndarray,
    speaker: SpeakerProfile,
    start_s: float,
    end_s: float,
    fps: float,
    clock_skew: float = 0.0,
) -> OpenFaceStream:
    """OpenFace's view of `drivers` (sampled at times `t`) from `start_s` to `end_s`.

    Args:
        clock_skew: relative rate error of the video clock against the
            phone's (timestamps run 1 + skew times as fast), so the two
            streams drift apart slowly over a take.
    """
    timestamps = frame_times(rng, (end_s - start_s) * (1.0 + clock_skew), fps)
    real = start_s + timestamps / (1.0 + clock_skew)
    sampled = np.stack([np.interp(real, t, drivers[:, k]) for k in range(NUM_AUS)], axis=1)
    response = np.clip(sampled @ _MIXING, 0.0, 1.0) ** _RESPONSE_POWER
    count = len(timestamps)
    noise = rng.normal(0.0, _WHITE_NOISE * speaker.au_noise, (count, NUM_AUS))
    dt = 1.0 / fps
    noise += np.stack([smooth_noise(rng, count, dt, 2.0, _SLOW_NOISE) for _ in range(NUM_AUS)], axis=1)
    level = np.clip(speaker.au_gain * response + speaker.au_offset + noise, 0.0, 1.0)
    tracked = failures(rng, count, fps)
    aus = np.where(tracked[:, None], np.round(level * AU_MAX_INTENSITY, 2), 0.0)
    confidence = np.where(
        tracked, np.clip(rng.normal(0.95, 0.02, count), 0.8, 0.98), rng.uniform(0.0, 0.4, count)
    )
    return OpenFaceStream(timestamps, aus, tracked, np.round(confidence, 2), real)
