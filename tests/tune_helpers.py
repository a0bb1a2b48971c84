"""Helpers for the tests: small datasets and tiny checkpoints, reading a run's per-trial results."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pairs_factory import write_corpus
from run_results import trial_results  # noqa: F401  (bench/run_results.py; the tests' too)

from au2bs.data import BuildOptions, SplitArrays, build_dataset, load_dataset
from au2bs.train import TrainConfig, Trainer
from au2bs.train.checkpoint import CHECKPOINT_FILE


def small_dataset(root: Path, count: int = 10, frames: int = 150) -> Path:
    write_corpus(root / "raw", count=count, frames=frames, lag_frames_base=10)
    build_dataset(root / "raw", root / "ds", BuildOptions(), progress=False, log=lambda _: None)
    return root / "ds"


def small_splits(root: Path, count: int = 6, frames: int = 120) -> dict[str, SplitArrays]:
    """The train and val splits of a small dataset built under `root` (raw corpus in root/raw)."""
    return load_dataset(small_dataset(root, count, frames), ("train", "val"))


def tiny_checkpoint(
    splits: dict[str, SplitArrays], arch: str, folder: Path, provenance: dict | None = None, **config
) -> Path:
    """A one-epoch, hidden-size-8 checkpoint of `arch` at folder/checkpoint.pt; `config` overrides."""
    settings = {"hidden_size": 8, "epochs": 1, "batch_size": 4, **config}
    trainer = Trainer(
        TrainConfig.for_architecture(arch, **settings), splits["train"], splits["val"], "cpu", provenance
    )
    trainer.run()
    trainer.save(folder / CHECKPOINT_FILE)
    return folder / CHECKPOINT_FILE


def search_command(dataset: Path, storage: Path, name: str, samples: int, epochs: int) -> list[str]:
    """tune.run as a user starts it: grunet0.6 (epochs long enough to interrupt), FIFO, all the data."""
    return [
        sys.executable, "-m", "tune.run", "--arch", "grunet0.6", "--data", str(dataset),
        "--num-samples", str(samples), "--max-epochs", str(epochs), "--scheduler", "fifo",
        "--train-fraction", "1", "--storage", str(storage), "--name", name,
    ]  # fmt: skip


def start_driver_until(
    command: list[str], log: Path, ready: Callable[[], bool], seconds: float = 240
) -> subprocess.Popen:
    """Starts a driver in its own process group; returns it once `ready()`, failing if it ended first."""
    with open(log, "w") as output:
        driver = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + seconds
    while not ready() and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert driver.poll() is None, (
        "the search ended before it could be interrupted:\n" + log.read_text()[-3000:]
    )
    return driver
