"""Search ranges of the hyperparameters, in plain Python (no Ray).

An architecture's search space is the ranges of the hyperparameters it
reads (`ArchitectureSpec.hyperparameters`) plus the training ones, with any
per-architecture overrides its registry entry declares. The `tune` package
turns these into Ray Tune domains; nothing here imports Ray.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """One of a few values (sizes, batch sizes)."""

    values: tuple

    def describe(self) -> str:
        return "choice " + ", ".join(str(v) for v in self.values)


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def describe(self) -> str:
        return f"uniform {self.low:g} .. {self.high:g}"


@dataclass(frozen=True)
class LogUniform:
    """Scale parameters (rates, weights): equal odds per decade."""

    low: float
    high: float

    def describe(self) -> str:
        return f"log-uniform {self.low:g} .. {self.high:g}"


Range = Choice | Uniform | LogUniform

# The training hyperparameters every architecture tunes.
TRAINING_HYPERPARAMETERS = ("batch_size", "learning_rate")

DEFAULT_RANGES: dict[str, Range] = {
    # Around the research's 128; wider costs CPU time faster than it helps.
    "hidden_size": Choice((32, 64, 128, 256)),
    "dropout": Uniform(0.0, 0.5),
    # The research used 1; the penalty's useful strength spans decades.
    "negrelu_weight": LogUniform(1e-3, 10.0),
    "activation_weight": LogUniform(0.1, 10.0),
    # The research's 4 sits in the middle; larger batches run much faster on CPUs.
    "batch_size": Choice((2, 4, 8, 16)),
    "learning_rate": LogUniform(1e-4, 1e-2),
}


def search_space(
    hyperparameters: tuple[str, ...], overrides: dict[str, Range] | None = None
) -> dict[str, Range]:
    """The ranges of `hyperparameters` and the training ones, overrides applied."""
    names = tuple(hyperparameters) + tuple(n for n in TRAINING_HYPERPARAMETERS if n not in hyperparameters)
    overrides = overrides or {}
    unknown = [name for name in names if name not in DEFAULT_RANGES and name not in overrides]
    if unknown:
        raise ValueError(f"no search range for {unknown}")
    return {name: overrides.get(name, DEFAULT_RANGES.get(name)) for name in names}
