"""Signal primitives of the generator: smooth noise, episodes, bumps, skin dynamics.

Everything works on a regular time grid (seconds) and returns float64
arrays; randomness comes only from the `numpy.random.Generator` passed in,
so a seed fixes every signal.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

Range = tuple[float, float]


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a C1-smooth S curve between (muscle on/offsets)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def smooth_noise(rng: np.random.Generator, count: int, dt: float, tau: float, std: float) -> np.ndarray:
    """Zero-mean, stationary, twice-low-passed Gaussian noise.

    Two cascaded one-pole filters (time constant `tau` each) give a process
    that is smooth at 60 fps (a single Ornstein-Uhlenbeck process has a
    lag-1 autocorrelation of only exp(-dt/tau) and looks jittery). A burn-in
    of 8 tau makes it stationary from the first sample.
    """
    a = float(np.exp(-dt / tau))
    burn = int(np.ceil(8.0 * tau / dt))
    white = rng.standard_normal(count + burn)
    twice = lfilter([1.0], [1.0, -a], lfilter([1.0], [1.0, -a], white))[burn:]
    # Stationary variance of white noise through two AR(1) filters.
    variance = (1.0 + a * a) / (1.0 - a * a) ** 3
    return twice * (std / np.sqrt(variance))


def episodes(
    rng: np.random.Generator,
    t: np.ndarray,
    rate: float,
    amplitude: Range,
    attack: Range,
    hold: Range,
    release: Range,
) -> np.ndarray:
    """A sum-free union of expression episodes (rise, hold, fall), values 0-1.

    Episodes start as a Poisson process of `rate` per second (also shortly
    before the grid, so a take can begin mid-expression). Overlapping
    episodes combine as a soft union 1 - prod(1 - e), which never exceeds 1.
    """
    lead = 3.0  # seconds before t[0] where an episode may start and still show
    span = float(t[-1] - t[0]) + lead
    count = int(rng.poisson(max(rate, 0.0) * span))
    out = np.zeros_like(t)
    for _ in range(count):
        start = t[0] - lead + rng.uniform(0.0, span)
        amp = rng.uniform(*amplitude)
        rise, keep, fall = rng.uniform(*attack), rng.uniform(*hold), rng.uniform(*release)
        up = smoothstep((t - start) / rise)
        down = 1.0 - smoothstep((t - start - rise - keep) / fall)
        out = 1.0 - (1.0 - out) * (1.0 - amp * up * down)
    return out


def raised_cosines(t: np.ndarray, centres: np.ndarray, widths: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Sum of raised-cosine bumps (support = width, peak = height at the centre)."""
    out = np.zeros_like(t)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    heights = np.broadcast_to(heights, np.shape(centres))
    for centre, width, height in zip(centres, widths, heights):
        lo = max(int(np.floor((centre - width / 2 - t[0]) / dt)), 0)
        hi = min(int(np.ceil((centre + width / 2 - t[0]) / dt)) + 1, len(t))
        if hi <= lo:
            continue
        phase = (t[lo:hi] - centre) / width
        out[lo:hi] += height * np.where(np.abs(phase) < 0.5, 0.5 + 0.5 * np.cos(2.0 * np.pi * phase), 0.0)
    return out


def plateaus(
    t: np.ndarray, starts: np.ndarray, ends: np.ndarray, heights: np.ndarray, ramp: float
) -> np.ndarray:
    """Sum of flat-topped pulses with smoothstep ramps of `ramp` seconds."""
    out = np.zeros_like(t)
    for start, end, height in zip(starts, ends, heights):
        out += height * smoothstep((t - start) / ramp) * (1.0 - smoothstep((t - end + ramp) / ramp))
    return out


def attack_release(x: np.ndarray, fps: float, attack_s: np.ndarray, release_s: np.ndarray) -> np.ndarray:
    """Skin dynamics: follows rises with `attack_s`, falls with `release_s`.

    A one-pole follower whose time constant depends on the direction of
    change: soft tissue is pushed quickly by a contracting muscle and settles
    back slowly, so the surface a depth camera sees depends on the recent
    history of the muscle, not only on its present state.

    Args:
        x: (T, C) muscle activations at `fps`.
        attack_s, release_s: (C,) time constants in seconds; 0 = instantaneous.
    """
    x = np.asarray(x, dtype=np.float64)
    up = 1.0 - np.exp(-1.0 / (fps * np.maximum(attack_s, 1e-9)))
    down = 1.0 - np.exp(-1.0 / (fps * np.maximum(release_s, 1e-9)))
    out = np.empty_like(x)
    state = x[0].copy()
    for i, row in enumerate(x):
        step = row - state
        state += np.where(step > 0.0, up, down) * step
        out[i] = state
    return out
