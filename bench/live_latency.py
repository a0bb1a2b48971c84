"""Live latency: per-frame compute of every causal architecture, and the live path end to end.

On one CPU thread (live use is one stream beside a game engine):

- compute: `StreamingPredictor.step` on one preprocessed frame, carrying the
  recurrent state, for every causal architecture of the registry at hidden
  sizes 64, 128 and 256: p50 / p99 in ms;
- end to end: an OpenFace CSV line parsed (`au2bs.live.RowParser`), pushed
  through the stream (causal resampling, model step) and every due frame
  encoded and sent as a Live Link Face datagram to a socket on 127.0.0.1:
  p50 / p99 per line, at hidden 128.

The budget at 60 fps is 16.7 ms a frame; the targets are compute p99 under
1 ms at hidden 128 and end to end p99 under 3 ms.

    python bench/live_latency.py              # 2000 frames per measurement
    python bench/live_latency.py --frames 500 # a quicker look
"""

from __future__ import annotations

import argparse
import socket
import time

import numpy as np
import torch

from au2bs.constants import AU_NAMES, LIVELINK_FPS, NUM_AUS
from au2bs.data.options import AuOptions
from au2bs.live import RowParser, encode_datagram, wire_order
from au2bs.live.udp import new_device_id
from au2bs.models import ModelConfig, build_model, get_architecture
from au2bs.models.speed import FRAME_BUDGET_MS
from au2bs.stream import StreamingPredictor, step_timings_ms, streamable_architectures

HIDDEN_SIZES = (64, 128, 256)
TARGET_COMPUTE_P99_MS, TARGET_END_TO_END_P99_MS = 1.0, 3.0


def stream_of(arch: str, hidden: int) -> StreamingPredictor:
    config = ModelConfig(**{**vars(get_architecture(arch).defaults), "hidden_size": hidden})
    return StreamingPredictor(build_model(arch, config, seed=0), arch, AuOptions())


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 99))


def openface_lines(count: int, rng: np.random.Generator) -> tuple[str, list[str]]:
    """A header and `count` data lines as OpenFace writes them at 60 fps (every frame tracked)."""
    header = ", ".join(["frame", "face_id", "timestamp", "confidence", "success", *AU_NAMES])
    lines = []
    for index in range(count):
        aus = ", ".join(f"{value:.2f}" for value in rng.uniform(0, 3, NUM_AUS))
        lines.append(f"{index + 1}, 0, {index / LIVELINK_FPS:.3f}, 0.98, 1, {aus}")
    return header, lines


def end_to_end_ms(stream: StreamingPredictor, header: str, lines: list[str]) -> tuple[list[float], int]:
    """Per line: parsed, pushed, each due frame encoded and sent. Returns the timings and datagrams sent."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.connect(receiver.getsockname())
    parser, device, sent, timings = RowParser(header, stream.au_options), new_device_id(), 0, []
    order = wire_order()  # the slot order au2bs.live sends in
    try:
        for line in lines:
            start = time.perf_counter()
            row = parser.parse(line)
            for values in stream.push(row.time, row.aus, row.tracked):
                sender.send(encode_datagram(device, "bench", sent, np.asarray(values)[order]))
                sent += 1
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        sender.close()
        receiver.close()
    return timings, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--frames", type=int, default=2000, help="frames per measurement (default: %(default)s)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    frames = rng.uniform(0, 0.6, (args.frames, NUM_AUS)).astype(np.float32)
    warmed = np.concatenate([frames[:50], frames])  # 50 calls warm the allocator up, then every frame timed

    print(
        f"per-frame compute, one CPU thread, {args.frames} frames (budget {FRAME_BUDGET_MS:.1f} ms at 60 fps)"
    )
    print(f"{'arch':<12}" + "".join(f"{f'hidden {h} p50/p99 ms':>26}" for h in HIDDEN_SIZES))
    at_128 = {}
    for arch in streamable_architectures():
        cells = []
        for hidden in HIDDEN_SIZES:
            p50, p99 = percentiles(step_timings_ms(stream_of(arch, hidden), warmed, warmup=50))
            cells.append(f"{p50:.3f} / {p99:.3f}")
            if hidden == 128:
                at_128[arch] = p99
        print(f"{arch:<12}" + "".join(f"{cell:>26}" for cell in cells))
    worst = max(at_128, key=at_128.get)
    print(
        f"hidden 128: worst compute p99 {at_128[worst]:.3f} ms ({worst}); "
        f"target < {TARGET_COMPUTE_P99_MS:g} ms: {'met' if at_128[worst] < TARGET_COMPUTE_P99_MS else 'NOT met'}"
    )

    header, lines = openface_lines(args.frames, rng)
    print(f"\nend to end at hidden 128 (line parsed -> datagram sent to 127.0.0.1), {args.frames} lines")
    worst_e2e = 0.0
    for arch in streamable_architectures():
        stream = stream_of(arch, 128)
        end_to_end_ms(stream, header, lines[:50])  # warm-up
        stream.reset()
        timings, sent = end_to_end_ms(stream, header, lines)
        p50, p99 = percentiles(timings)
        worst_e2e = max(worst_e2e, p99)
        print(f"{arch:<12}{p50:>10.3f} / {p99:.3f} ms   ({sent} datagrams)")
    verdict = "met" if worst_e2e < TARGET_END_TO_END_P99_MS else "NOT met"
    print(f"worst end-to-end p99 {worst_e2e:.3f} ms; target < {TARGET_END_TO_END_P99_MS:g} ms: {verdict}")


if __name__ == "__main__":
    main()
