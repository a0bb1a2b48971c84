"""Typed configuration of a model and the research's training defaults.

`ModelConfig` holds every number a builder reads; `TrainingDefaults` holds
what the research trained each version with, for the trainer to start from.
Both are frozen: a resolved config is a value that can be saved next to its
results (`dataclasses.asdict`) and compared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """What a builder needs; each architecture reads the fields it uses.

    `ArchitectureSpec.hyperparameters` names the fields an architecture
    actually reads, so a search never tunes a knob that does nothing.
    """

    # The research's only size (GRU state, attention and MLP width).
    hidden_size: int = 128
    # The research's rate; applied to the features the output Linear reads.
    dropout: float = 0.1
    # w in `MSE + w * mean(relu(-y_hat))` (0.2, 0.4-0.6); w = 1 in the research,
    # 0 turns the penalty off.
    negrelu_weight: float = 1.0
    # Weight of 0.8's BCE term on its activation head; the research added
    # the two losses unweighted.
    activation_weight: float = 1.0
    # Every parameter (biases included) drawn from N(0, init_std), as the
    # research did with 0.01; None keeps PyTorch's default initialisation.
    init_std: float | None = 0.01

    def __post_init__(self) -> None:
        if self.hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, got {self.hidden_size}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.negrelu_weight < 0 or self.activation_weight < 0:
            raise ValueError("loss weights must be >= 0")
        if self.init_std is not None and self.init_std <= 0:
            raise ValueError(f"init_std must be > 0 or None, got {self.init_std}")


@dataclass(frozen=True)
class TrainingDefaults:
    """How the research trained a version; the trainer's starting point."""

    # Adam at the research's rate for every version.
    learning_rate: float = 1e-3
    # Small batches: the corpus had a few hundred utterances per voice type.
    batch_size: int = 4
    # 0.1 and 0.2 saw only utterances shorter than 500 frames (the research's
    # MAX_LENGTH); None = every length.
    max_frames: int | None = None
