"""The training loop: pure PyTorch, one epoch at a time, with callbacks.

The search layer drives the same `Trainer` and reports through a callback,
so a trial trains exactly as `python -m au2bs.train` does.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from au2bs.data import SplitArrays
from au2bs.metrics import flatten_metrics
from au2bs.models import build_loss, build_model, get_architecture
from au2bs.train.batches import collate, epoch_batches, usable_indices
from au2bs.train.checkpoint import load_checkpoint, save_checkpoint
from au2bs.train.config import TrainConfig
from au2bs.train.evaluate import evaluate_model, predict_split

# Model selection and early stopping watch this: the 52 blendshapes are
# what every architecture predicts, so it compares across versions.
SELECTION_METRIC = "blendshapes/mse"


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite: the run cannot go on."""


@dataclass
class EpochRecord:
    """What one epoch produced; callbacks receive it."""

    epoch: int  # 1-based number of epochs completed
    train_loss: float
    val: dict  # flat validation metrics ("blendshapes/mse", "all/r2", ...)
    seconds: float
    is_best: bool


@dataclass
class _BestSoFar:
    epoch: int = 0
    metric: float = math.inf
    model: dict = field(default_factory=dict)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Trainer:
    """Trains one architecture on a train split, validating on another."""

    def __init__(
        self,
        config: TrainConfig,
        train: SplitArrays,
        val: SplitArrays,
        device: torch.device | str | None = None,
        provenance: dict | None = None,
    ) -> None:
        """
        Args:
            config: the run's settings.
            train, val: the splits (never written to: batches copy).
            device: default CUDA when present, else CPU.
            provenance: plain values saved with checkpoints (the dataset, the
                AU preprocessing options) so prediction can repeat them.
        """
        self.config = config
        self.spec = get_architecture(config.arch)
        self.train_split, self.val_split = train, val
        self.device = torch.device(device) if device is not None else default_device()
        self.provenance = provenance or {}
        torch.manual_seed(config.seed)
        self.model = build_model(config.arch, config.model, seed=config.seed).to(self.device)
        self.loss = build_loss(config.arch, config.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.train_indices = usable_indices(train, config.max_frames)
        if len(self.train_indices) == 0:
            raise ValueError(f"no training sequence shorter than max_frames={config.max_frames}")
        self.epoch = 0
        self.best = _BestSoFar()
        self.history: list[dict] = []

    # -- one epoch -------------------------------------------------------------

    def fit_epoch(self) -> float:
        """Trains one epoch; returns the mean training loss over its batches."""
        self.model.train()
        batches = epoch_batches(
            self.train_split, self.train_indices, self.config.batch_size, self.config.seed, self.epoch
        )
        total = 0.0
        for number, indices in enumerate(batches, start=1):
            batch = collate(self.train_split, indices, self.device)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(self.model(batch.x, batch.lengths), batch.y, batch.mask)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise DivergedError(
                    f"{self.config.arch}: training loss became {value} at epoch {self.epoch + 1}, "
                    f"batch {number}/{len(batches)} (learning rate {self.config.learning_rate:g}); "
                    + (
                        "lower the learning rate or enable gradient clipping"
                        if self.config.grad_clip is None
                        else f"gradients were clipped at norm {self.config.grad_clip:g}: lower the learning "
                        "rate or check the data for extreme values"
                    )
                )
            loss.backward()
            if self.config.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            total += value
        self.epoch += 1
        return total / len(batches)

    def predict_split(self, split: SplitArrays) -> list[np.ndarray]:
        """The model's (T_i, C) prediction for every sequence, in split order."""
        return predict_split(self.model, split, self.device, self.config.eval_batch_size)

    def evaluate(self, split: SplitArrays) -> dict:
        """Every metric of `au2bs.metrics` on `split` (padding never counts)."""
        return evaluate_model(self.model, split, self.device, self.config.eval_batch_size)

    # -- the loop ----------------------------------------------------------------

    def run(
        self,
        epochs: int | None = None,
        callbacks: tuple[Callable[[EpochRecord, Trainer], bool | None], ...] = (),
    ) -> list[dict]:
        """Trains until `epochs` (total, default the config's) or early stopping.

        Each callback gets (record, trainer) after every epoch; returning True
        stops training. Returns the history (one flat dict per epoch).
        """
        target = self.config.epochs if epochs is None else epochs
        while self.epoch < target:
            if self._patience_exhausted():
                break
            start = time.perf_counter()
            train_loss = self.fit_epoch()
            val = flatten_metrics(self.evaluate(self.val_split))
            metric = val[SELECTION_METRIC]
            is_best = metric < self.best.metric
            if is_best:
                self.best = _BestSoFar(self.epoch, metric, copy.deepcopy(self.model.state_dict()))
            record = EpochRecord(self.epoch, train_loss, val, time.perf_counter() - start, is_best)
            self.history.append(
                {"epoch": self.epoch, "train_loss": train_loss, "seconds": record.seconds, **val}
            )
            if any(callback(record, self) for callback in callbacks):
                break
        return self.history

    def _patience_exhausted(self) -> bool:
        patience = self.config.patience
        return patience is not None and self.best.epoch > 0 and self.epoch - self.best.epoch >= patience

    def load_best_weights(self) -> None:
        if self.best.model:
            self.model.load_state_dict(self.best.model)

    # -- checkpoints -----------------------------------------------------------

    def state(self) -> dict:
        """Everything to resume exactly or to predict (tensors and plain values)."""
        return {
            "arch": self.config.arch,
            "train_config": self.config.to_dict(),
            "output_names": list(self.spec.output_names),
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "best": {"epoch": self.best.epoch, "metric": self.best.metric, "model": self.best.model},
            "history": self.history,
            "provenance": self.provenance,
        }

    def save(self, path: str | Path) -> Path:
        return save_checkpoint(self.state(), path)

    def restore(self, state: dict) -> None:
        """Continues from `state` (from `state()` or a checkpoint file's contents)."""
        if state["arch"] != self.config.arch:
            raise ValueError(f"checkpoint is {state['arch']}, this trainer {self.config.arch}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.epoch = state["epoch"]
        best = state["best"]
        self.best = _BestSoFar(best["epoch"], best["metric"], best["model"])
        self.history = list(state["history"])

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, train: SplitArrays, val: SplitArrays, device: torch.device | str | None = None
    ) -> Trainer:
        state = load_checkpoint(path, map_location="cpu")
        trainer = cls(
            TrainConfig.from_dict(state["train_config"]), train, val, device, state.get("provenance")
        )
        trainer.restore(state)
        return trainer
