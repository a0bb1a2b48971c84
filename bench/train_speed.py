"""Training speed of every architecture, and the 0.4-0.6 rewrites against their step-by-step references.

At the research's settings (hidden 128, batch 4, Adam) on the built-in
synthetic corpus limited to sequences under 500 frames, one epoch per
architecture: seconds per epoch and training frames per second. For those
with a step-by-step reference (0.4-0.6: bench/reference_seq2seq.py, the
research's algorithm) the reference trains the same epoch in the same run,
with the same weights, and the ratio is printed. Last, the throughput of
`au2bs.predict` (read OpenFace CSV, preprocess, predict, write Live Link
Face CSV) with a causal model: live use needs 60 frames per second per
stream.

    python bench/train_speed.py                  # every architecture, full epoch
    python bench/train_speed.py --sequences 40   # a quicker look
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from reference_seq2seq import load_from, reference_for  # noqa: E402

from au2bs.data import SplitArrays, load_dataset  # noqa: E402
from au2bs.data.default import default_dataset  # noqa: E402
from au2bs.models import ARCHITECTURES, ModelOutput, build_loss, build_model  # noqa: E402
from au2bs.train.batches import collate, epoch_batches  # noqa: E402

LIVE_ARCH = "grunet0.3"  # what the predict throughput runs: live use needs a causal model


def epoch_seconds(model, forward, loss, split: SplitArrays, indices: np.ndarray) -> float:
    """One epoch (batches of 4, length-bucketed as the trainer does) of forward, loss, backward, Adam."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for batch_indices in epoch_batches(split, indices, 4, seed=0, epoch=0):
        batch = collate(split, batch_indices, torch.device("cpu"))
        optimizer.zero_grad(set_to_none=True)
        loss(forward(batch.x, batch.lengths), batch.y, batch.mask).backward()
        optimizer.step()
    return time.perf_counter() - start


def predict_throughput(raw_openface: Path, architecture: str = LIVE_ARCH) -> tuple[float, int]:
    """Frames per second of the whole predict command path on the corpus's OpenFace files."""
    from au2bs import predict
    from au2bs.train import TrainConfig, Trainer

    files = sorted(raw_openface.glob("*.csv"))[:40]
    with tempfile.TemporaryDirectory() as tmp:
        data = load_dataset(default_dataset(progress=False), ("train", "val"))
        trainer = Trainer(
            TrainConfig.for_architecture(architecture, epochs=0), data["train"], data["val"], "cpu"
        )
        checkpoint = trainer.save(Path(tmp) / "model.pt")
        inputs = Path(tmp) / "in"
        inputs.mkdir()
        for path in files:
            (inputs / path.name).write_bytes(path.read_bytes())
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # one line per file is noise here
            predict.main(
                ["--checkpoint", str(checkpoint), "--openface", str(inputs), "--out", str(Path(tmp) / "out")]
            )
        seconds = time.perf_counter() - start
        frames = sum(len(p.read_text().splitlines()) - 1 for p in (Path(tmp) / "out").glob("*.csv"))
    return frames / seconds, len(files)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sequences", type=int, help="use only this many training sequences (default: all under 500 frames)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads (default: %(default)s, as one search trial)"
    )
    parser.add_argument("--arch", help="comma-separated architectures (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = default_dataset(progress=False)
    train = load_dataset(dataset, ("train",))["train"]
    indices = np.flatnonzero(train.lengths < 500)
    if args.sequences:
        indices = indices[: args.sequences]
    frames = int(train.lengths[indices].sum())
    names = args.arch.split(",") if args.arch else list(ARCHITECTURES)
    print(
        f"{len(indices)} training sequences under 500 frames ({frames} frames), batch 4, hidden 128, {args.threads} thread(s)"
    )
    print(f"{'architecture':<14}{'s/epoch':>10}{'frames/s':>12}{'reference s/epoch':>20}{'speed-up':>10}")
    for name in names:
        model = build_model(name, seed=0)
        loss = build_loss(name)
        ours = epoch_seconds(model, model, loss, train, indices)
        line = f"{name:<14}{ours:>10.1f}{frames / ours:>12,.0f}"
        fresh = build_model(name, seed=0)
        reference = reference_for(fresh)
        if reference is not None:
            load_from(reference, fresh)
            ref = epoch_seconds(
                reference, lambda x, lengths, r=reference: ModelOutput(r(x, lengths)), loss, train, indices
            )
            line += f"{ref:>20.1f}{ref / ours:>9.1f}x"
        print(line, flush=True)
    raw = dataset.parent / "raw" / "openface"
    if raw.is_dir():
        fps, count = predict_throughput(raw)
        print(
            f"au2bs.predict with {LIVE_ARCH} (causal), {count} OpenFace files end to end: {fps:,.0f} frames/s "
            f"({fps / 60:,.0f}x real time at 60 fps)"
        )


if __name__ == "__main__":
    main()
