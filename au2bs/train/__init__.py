"""Training: `Trainer` (pure PyTorch loop), `TrainConfig`, checkpoints.

`python -m au2bs.train --arch grunet0.3` trains one architecture.
"""

from au2bs.train.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from au2bs.train.config import TrainConfig
from au2bs.train.trainer import SELECTION_METRIC, DivergedError, EpochRecord, Trainer, default_device

__all__ = [
    "CHECKPOINT_FILE",
    "SELECTION_METRIC",
    "DivergedError",
    "EpochRecord",
    "TrainConfig",
    "Trainer",
    "default_device",
    "load_checkpoint",
    "save_checkpoint",
]
