"""What the registry knows about an architecture."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from torch import nn

from au2bs.constants import LIVELINK_NAMES
from au2bs.losses import LossRecipe, SequenceLoss
from au2bs.models.config import ModelConfig, TrainingDefaults
from au2bs.models.interface import init_parameters
from au2bs.search_space import Range, search_space

_CONFIG_FIELDS = frozenset(f.name for f in fields(ModelConfig))


@dataclass(frozen=True)
class ArchitectureSpec:
    """One registered architecture: how to build it, train it and use it."""

    name: str
    # The research's version number, names being `grunet<version>`; None for a
    # baseline outside the numbered line. The registry lists versions in this
    # order, baselines last.
    version: str | None
    summary: str  # one line for listings
    # Builds the untrained module from a config; the module is called as
    # `model(x, lengths) -> ModelOutput` (see `au2bs.models.interface`).
    builder: Callable[[ModelConfig], nn.Module]
    # The target channels the model predicts: a prefix of the Live Link Face
    # order (all 61, or the 52 blendshapes).
    output_names: tuple[str, ...]
    loss: LossRecipe
    # Output at frame t depends on frames <= t only: usable frame by frame
    # in real time.
    causal: bool
    # A final ReLU keeps the 52 blendshape outputs >= 0 (the 9 rotation channels
    # stay signed; see `OutputHead`). Without it outputs can go negative, and
    # the loss's NegReLU penalty is what pushes them back up.
    final_relu: bool
    # Padding added after a sequence never changes its outputs. False only
    # for 0.5, which attends over padded positions as the research did.
    padding_invariant: bool = True
    # The research's model defaults for this version.
    defaults: ModelConfig = field(default_factory=ModelConfig)
    # The research's training settings for this version.
    training: TrainingDefaults = field(default_factory=TrainingDefaults)
    # The ModelConfig fields this architecture reads; a search tunes only these.
    hyperparameters: tuple[str, ...] = ("hidden_size", "dropout")
    # Ranges that differ from `au2bs.search_space.DEFAULT_RANGES` for this version.
    search_overrides: dict[str, Range] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.output_names != LIVELINK_NAMES[: len(self.output_names)]:
            raise ValueError(f"{self.name}: output_names must be a prefix of LIVELINK_NAMES")
        unknown = set(self.hyperparameters) - _CONFIG_FIELDS
        if unknown:
            raise ValueError(f"{self.name}: unknown hyperparameters {sorted(unknown)}")

    @property
    def search_space(self) -> dict[str, Range]:
        """What a search tunes for this version: its hyperparameters and the training ones."""
        return search_space(self.hyperparameters, self.search_overrides)

    @property
    def channels(self) -> int:
        """C, the number of output channels."""
        return len(self.output_names)

    def build(self, config: ModelConfig | None = None) -> nn.Module:
        """The untrained module for `config` (this version's defaults when None).

        Parameters are drawn from N(0, config.init_std) as in the research,
        or left at PyTorch's initialisation when init_std is None.
        """
        config = config or self.defaults
        model = self.builder(config)
        init_parameters(model, config.init_std)
        return model

    def build_loss(self, config: ModelConfig | None = None) -> SequenceLoss:
        """`loss(output, target (B, T, 61), mask (B, T))` with `config`'s weights."""
        config = config or self.defaults
        return self.loss.build(self.channels, config.negrelu_weight, config.activation_weight)
