"""Frame-by-frame prediction: one OpenFace sample in, the 60 fps Live Link frames it makes due out.

`StreamingPredictor` carries a causal model's recurrent state between calls
and resamples the AU stream onto the 60 fps clock as samples arrive, with
the preprocessing `au2bs.predict.prepare_openface` applies offline (the
checkpoint's `AuOptions`, `align.au_features` scaling).

Resampling: linear interpolation, emitted on arrival. The output frame at
grid time t (t = k / 60 s after the first sample) is interpolated between
the tracked samples on either side of t, exactly as offline, so it is due
as soon as the first tracked sample at or after t arrives: the latency is
at most one input frame interval (17 ms at 58 fps, 40 ms at 25 fps) after
t, plus the model's compute. Untracked samples (success = 0 or confidence
below `min_confidence`) are missing data: a gap up to `max_gap_s` is
waited out and interpolated across as offline (latency grows by the gap);
once a gap is longer, frames are sent holding the last tracked values
instead of waiting (offline interpolates across the long gap: the only
place where the two differ when smoothing is off).

Smoothing: a centred moving average needs frames from the future. When the
checkpoint's `smooth_frames` N > 1 the stream uses a trailing average over
the last N frames instead: the same values as the centred one, delayed by
N // 2 frames (50 ms for N = 6), except at the very start.
"""

from __future__ import annotations

import math
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch
from torch import nn

from au2bs.align import scale_aus
from au2bs.constants import LIVELINK_FPS, NUM_AUS
from au2bs.data.options import AuOptions
from au2bs.errors import InputError
from au2bs.formats.livelink import as_livelink
from au2bs.models import ARCHITECTURES, get_architecture
from au2bs.models.fcnet import FCNet
from au2bs.models.grunet import GRURegressor
from au2bs.train.checkpoint import au_options_of, open_checkpoint
from au2bs.train.evaluate import model_from_checkpoint


def streamable_architectures() -> tuple[str, ...]:
    """The registered architectures whose output at frame t depends on frames <= t only."""
    return tuple(name for name in ARCHITECTURES if get_architecture(name).causal)


class StreamingPredictor:
    """A causal checkpoint run one sample at a time.

    >>> stream = StreamingPredictor.from_checkpoint("runs/x/checkpoint.pt")  # doctest: +SKIP
    >>> for time, aus, tracked in samples:  # doctest: +SKIP
    ...     for frame in stream.push(time, aus, tracked):  # (61,) Live Link values
    ...         send(frame)
    >>> leftover = stream.flush()  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, arch: str, au_options: AuOptions, device: str = "cpu") -> None:
        if not isinstance(model, (GRURegressor, FCNet)):
            raise InputError(f"{arch} has no frame-by-frame step here; streamable: {_listing()}")
        self.model = model.eval()
        self.arch = arch
        self.au_options = au_options
        self.device = torch.device(device)
        self.reset()

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu") -> StreamingPredictor:
        """Loads a checkpoint; InputError (one line) when it is damaged or its architecture is not causal."""
        state = open_checkpoint(path)
        arch = state["arch"]
        if not get_architecture(arch).causal:
            raise InputError(
                f"{arch} needs the whole utterance before its first output and cannot stream; "
                f"architectures that can: {_listing()}",
                path,
            )
        model = model_from_checkpoint(state, weights="best", device=device)
        return cls(model, arch, au_options_of(state), device)

    def reset(self) -> None:
        """Forgets the stream: the next sample starts a new utterance."""
        self._hidden: torch.Tensor | None = None  # (1, 1, H) GRU state
        self._start: float | None = None  # time of the first sample; the grid starts there
        self._last: float | None = None  # time of the latest sample, relative to the start
        self._tracked: tuple[float, np.ndarray] | None = None  # latest tracked sample (time, (17,) AUs)
        self._next_frame = 0  # index of the next 60 fps output frame
        # The last smooth_frames inputs (trailing average).
        self._window: deque[np.ndarray] = deque(maxlen=max(1, self.au_options.smooth_frames))

    @torch.no_grad()
    def step(self, x: np.ndarray) -> np.ndarray:
        """One preprocessed input frame (17,) on the 60 fps clock, 0-1 -> (61,) Live Link values.

        Fed the frames of `prepare_openface(...).x` one by one, this gives what
        `Predictor.predict` gives for the whole file.
        """
        inputs = torch.as_tensor(np.asarray(x, dtype=np.float32), device=self.device).view(1, 1, NUM_AUS)
        model = self.model
        if isinstance(model, GRURegressor):
            prediction, self._hidden = model.continue_from(inputs, self._hidden)  # (1, 1, C), (1, 1, H)
        else:  # FCNet: each frame on its own
            prediction = model.head(model.body(inputs))  # (1, 1, C)
        return as_livelink(prediction[0].float().cpu().numpy())[0]

    def push(self, time: float, aus: np.ndarray, tracked: bool = True) -> list[np.ndarray]:
        """One OpenFace sample -> the (61,) frames that became due (often 1, sometimes 0 or 2).

        Args:
            time: the sample's `timestamp` in seconds; must increase.
            aus: (17,) AU intensities on OpenFace's 0-5 scale, `AU_NAMES` order.
            tracked: `success` is 1 and `confidence` reaches the checkpoint's
                `min_confidence`; untracked samples are missing data.

        Raises:
            ValueError: a timestamp not after the previous sample's.
        """
        if self._start is None:
            self._start = float(time)
        now = float(time) - self._start
        if self._last is not None and now <= self._last:
            raise ValueError(f"timestamp {time} is not after the previous sample's")
        self._last = now
        if tracked:
            values = np.asarray(aus, dtype=np.float64).reshape(NUM_AUS)
            previous = self._tracked
            self._tracked = (now, values)
            return self._emit_until(now, previous)
        if self._tracked is not None and now - self._tracked[0] > self.au_options.max_gap_s:
            return self._emit_until(now, None)  # a long gap: hold the last tracked values
        return []

    def flush(self) -> list[np.ndarray]:
        """At the end of the stream: the frames up to the last sample, holding the last tracked values."""
        if self._last is None or self._tracked is None:
            return []
        return self._emit_until(self._last, None)

    def _emit_until(self, now: float, previous: tuple[float, np.ndarray] | None) -> list[np.ndarray]:
        """Frames k with k / 60 <= now, interpolated from `previous` to the latest tracked sample."""
        assert self._tracked is not None
        last = math.floor(now * LIVELINK_FPS)
        out = []
        while self._next_frame <= last:
            at = self._next_frame / LIVELINK_FPS
            out.append(self._frame(_interpolate(previous, self._tracked, at)))
            self._next_frame += 1
        return out

    def _frame(self, aus: np.ndarray) -> np.ndarray:
        x = scale_aus(aus)
        frames = self.au_options.smooth_frames
        if frames > 1:
            if not self._window:
                self._window.extend([x] * (frames - 1))  # edge replication, as the offline average
            self._window.append(x)
            x = np.mean(self._window, axis=0)
        return self.step(x.astype(np.float32))


def _interpolate(previous: tuple[float, np.ndarray] | None, latest: tuple[float, np.ndarray], at: float):
    """Linear interpolation between two samples at `at`, holding an end outside them (as np.interp)."""
    t1, a1 = latest
    if previous is None or at >= t1:
        return a1
    t0, a0 = previous
    if at <= t0:
        return a0
    slope = (a1 - a0) / (t1 - t0)
    return slope * (at - t0) + a0


def _listing() -> str:
    return ", ".join(streamable_architectures())


def step_timings_ms(stream: StreamingPredictor, inputs: np.ndarray, warmup: int = 20) -> list[float]:
    """ms of each `step` over `inputs` (frames, 17), the recurrent state carried, as a live stream pays
    them; the first `warmup` calls (the allocator warming up) are not counted. Resets the stream."""
    timings = []
    for index, frame in enumerate(inputs):
        start = time.perf_counter()
        stream.step(frame)
        if index >= warmup:
            timings.append((time.perf_counter() - start) * 1000)
    stream.reset()
    return timings


def streaming_frame_ms(stream: StreamingPredictor, frames: int = 200) -> float:
    """Median ms of one streamed frame (tune.compare's ms/frame)."""
    inputs = np.random.default_rng(0).uniform(0, 0.6, (frames + 20, NUM_AUS)).astype(np.float32)
    return float(np.median(step_timings_ms(stream, inputs)))
