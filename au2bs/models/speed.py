"""How fast a model runs on this machine: a whole utterance, and one live frame."""

from __future__ import annotations

import statistics
import time

import torch

from au2bs.constants import LIVELINK_FPS, NUM_AUS

FRAME_BUDGET_MS = 1000.0 / LIVELINK_FPS  # 16.7 ms: one frame at 60 fps


@torch.no_grad()
def inference_speed(model: torch.nn.Module, seconds: float = 10.0, repeats: int = 3) -> tuple[float, float]:
    """(frames per second over a whole utterance, median ms for a one-frame call)."""
    frames = int(seconds * LIVELINK_FPS)
    x = torch.rand(1, frames, NUM_AUS)
    lengths = torch.tensor([frames])
    model(x, lengths)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        model(x, lengths)
    fps = frames * repeats / (time.perf_counter() - start)
    one, one_length = torch.rand(1, 1, NUM_AUS), torch.tensor([1])
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        model(one, one_length)
        timings.append((time.perf_counter() - start) * 1000)
    return fps, statistics.median(timings)
