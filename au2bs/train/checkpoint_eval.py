"""A saved checkpoint run over one split of the dataset it was trained on: metrics, and Live Link CSVs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from au2bs.data import SplitArrays, load_dataset
from au2bs.errors import InputError
from au2bs.formats.livelink import as_livelink, write_livelink
from au2bs.metrics import compute_metrics
from au2bs.train.checkpoint import open_checkpoint
from au2bs.train.evaluate import model_from_checkpoint, predict_split


@dataclass(frozen=True)
class CheckpointEvaluation:
    """A checkpoint's model, run once over one split."""

    model: nn.Module
    split: SplitArrays
    predictions: list[np.ndarray]  # (T_i, C) per sequence, in split order
    metrics: dict  # au2bs.metrics.compute_metrics of those predictions
    dataset: str  # the dataset folder the split came from (the checkpoint's provenance)


def evaluate_checkpoint(path: str | Path, split: str = "test") -> CheckpointEvaluation:
    """Loads the checkpoint and predicts every sequence of `split` of its dataset, on the CPU.

    InputError, one line, when the checkpoint is damaged or its dataset is not on this machine.
    """
    state = open_checkpoint(path)  # truncated, empty or foreign: one line
    dataset = state.get("provenance", {}).get("dataset")
    if not dataset or not Path(dataset).is_dir():
        raise InputError(f"the dataset the checkpoint was trained on is not here ({dataset})", path)
    arrays = load_dataset(dataset, (split,))[split]
    model = model_from_checkpoint(state, weights="model")
    predictions = predict_split(model, arrays, "cpu")
    targets = [arrays.sequence(i)[1] for i in range(len(arrays))]
    return CheckpointEvaluation(model, arrays, predictions, compute_metrics(predictions, targets), dataset)


def export_livelink(evaluation: CheckpointEvaluation, folder: Path) -> int:
    """Writes each sequence's prediction and truth as Live Link Face CSVs; returns how many sequences."""
    folder.mkdir(parents=True, exist_ok=True)
    split = evaluation.split
    for index, name in enumerate(split.ids):
        safe = name.replace("#", "_part")
        write_livelink(folder / f"{safe}.predicted.csv", as_livelink(evaluation.predictions[index]))
        write_livelink(folder / f"{safe}.truth.csv", split.sequence(index)[1])
    return len(split.ids)
