"""Architectures: one registry of names -> specs, one calling convention.

>>> from au2bs.models import ARCHITECTURES, build_model, build_loss, sequence_mask
>>> model = build_model("grunet0.3")
>>> output = model(x, lengths)  # x (B, T, 17), lengths (B,) -> output.prediction (B, T, 61)
>>> loss = build_loss("grunet0.3")(output, target, sequence_mask(lengths, x.shape[1]))
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
