"""What a training run needs beyond the model: a typed, frozen config."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from au2bs.models import ModelConfig, get_architecture


@dataclass(frozen=True)
class TrainConfig:
    """One training run. `for_architecture` fills in the research's defaults."""

    arch: str
    model: ModelConfig = field(default_factory=ModelConfig)
    # Adam, as in the research.
    learning_rate: float = 1e-3
    batch_size: int = 4
    epochs: int = 80
    # Stop after this many epochs without a better validation MSE (the
    # research used 5-10); None trains every epoch.
    patience: int | None = 10
    # Clip the gradient norm; recurrent nets occasionally spike. None = off.
    grad_clip: float | None = 1.0
    # Train only on sequences shorter than this (0.1 / 0.2: the research's 500).
    max_frames: int | None = None
    # Seeds the initialisation, dropout and batch order.
    seed: int = 0
    # Sequences per evaluation batch; larger is faster and changes nothing.
    eval_batch_size: int = 32

    def __post_init__(self) -> None:
        get_architecture(self.arch)  # a clear error for an unknown name
        if (
            not math.isfinite(self.learning_rate)
            or self.learning_rate <= 0
            or self.batch_size < 1
            or self.epochs < 0
        ):
            raise ValueError("learning_rate must be > 0, batch_size >= 1, epochs >= 0")
        if self.patience is not None and self.patience < 1:
            raise ValueError("patience must be >= 1 or None")

    @classmethod
    def for_architecture(cls, arch: str, **overrides) -> TrainConfig:
        """The research's settings for `arch`, with `overrides` applied.

        Model fields (hidden_size, dropout, ...) may be given directly.
        """
        spec = get_architecture(arch)
        model_fields = {f.name for f in fields(ModelConfig)}
        model_overrides = {k: overrides.pop(k) for k in list(overrides) if k in model_fields}
        model = ModelConfig(**{**asdict(spec.defaults), **model_overrides})
        settings = {
            "learning_rate": spec.training.learning_rate,
            "batch_size": spec.training.batch_size,
            "max_frames": spec.training.max_frames,
        }
        return cls(arch=arch, model=model, **{**settings, **overrides})

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        values = dict(values)
        values["model"] = ModelConfig(**values["model"])
        return cls(**values)
