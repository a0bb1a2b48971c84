"""Architectures: one registry of names -> specs, one calling convention.

>>> import torch
>>> from au2bs.models import build_loss, build_model, sequence_mask
>>> x, lengths = torch.rand(2, 50, 17), torch.tensor([50, 30])  # zero-padded AUs / 5
>>> output = build_model("grunet0.3", seed=0)(x, lengths)
>>> output.prediction.shape
torch.Size([2, 50, 61])
>>> loss = build_loss("grunet0.3")(output, torch.rand(2, 50, 61), sequence_mask(lengths, 50))
"""

from au2bs.models.config import ModelConfig, TrainingDefaults
from au2bs.models.interface import ModelOutput, sequence_mask
from au2bs.models.registry import (
    ARCHITECTURES,
    UnknownArchitectureError,
    build_loss,
    build_model,
    get_architecture,
)
from au2bs.models.spec import ArchitectureSpec

__all__ = [
    "ARCHITECTURES",
    "ArchitectureSpec",
    "ModelConfig",
    "ModelOutput",
    "TrainingDefaults",
    "UnknownArchitectureError",
    "build_loss",
    "build_model",
    "get_architecture",
    "sequence_mask",
]
