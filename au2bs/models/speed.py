"""How fast a model runs over a whole utterance on this machine (one live frame: au2bs.stream)."""

from __future__ import annotations

import time

import torch

from au2bs.constants import LIVELINK_FPS, NUM_AUS

FRAME_BUDGET_MS = 1000.0 / LIVELINK_FPS  # 16.7 ms: one frame at 60 fps


@torch.no_grad()
def utterance_fps(model: torch.nn.Module, seconds: float = 10.0, repeats: int = 3) -> float:
    """Frames per second over a whole utterance of `seconds`."""
    frames = int(seconds * LIVELINK_FPS)
    x = torch.rand(1, frames, NUM_AUS)
    lengths = torch.tensor([frames])
    model(x, lengths)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        model(x, lengths)
    return frames * repeats / (time.perf_counter() - start)
