"""Running a model over a whole split, and scoring it."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from au2bs.data import SplitArrays
from au2bs.metrics import compute_metrics, unpad
from au2bs.models import ModelConfig, build_model
from au2bs.train.batches import collate, evaluation_batches


@torch.no_grad()
def predict_split(
    model: nn.Module, split: SplitArrays, device: torch.device, batch_size: int = 32
) -> list[np.ndarray]:
    """The model's (T_i, C) prediction for every sequence, in split order."""
    model.eval()
    out: list[np.ndarray | None] = [None] * len(split)
    for indices in evaluation_batches(split, batch_size):
        batch = collate(split, indices, device)
        prediction = model(batch.x, batch.lengths).prediction.float().cpu().numpy()
        for index, values in zip(indices, unpad(prediction, batch.lengths.cpu().numpy())):
            out[index] = values
    return out  # type: ignore[return-value]


def evaluate_model(model: nn.Module, split: SplitArrays, device: torch.device, batch_size: int = 32) -> dict:
    """Every metric of `au2bs.metrics` on `split` (padding never counts)."""
    predictions = predict_split(model, split, device, batch_size)
    targets = [split.sequence(i)[1] for i in range(len(split))]
    return compute_metrics(predictions, targets)


def model_from_checkpoint(
    state: dict, weights: str = "model", device: str | torch.device = "cpu"
) -> nn.Module:
    """Rebuilds the model a checkpoint describes, with its `weights` ("model" or "best")."""
    config = ModelConfig(**state["train_config"]["model"])
    model = build_model(state["arch"], config)
    chosen = state["best"]["model"] if weights == "best" and state["best"]["model"] else state["model"]
    model.load_state_dict(chosen)
    return model.to(device).eval()
