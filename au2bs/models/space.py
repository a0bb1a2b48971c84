"""An architecture's search space and the research's point in it, from the registry."""

from __future__ import annotations

from au2bs.models.registry import get_architecture
from au2bs.search_space import Range


def architecture_space(arch: str) -> dict[str, Range]:
    """The hyperparameters `arch` tunes and their ranges (from the registry)."""
    return get_architecture(arch).search_space


def research_point(arch: str) -> dict:
    """The research's hand-set values of every tuned hyperparameter of `arch`."""
    spec = get_architecture(arch)
    known = {
        **vars(spec.defaults),
        "batch_size": spec.training.batch_size,
        "learning_rate": spec.training.learning_rate,
    }
    return {name: known[name] for name in architecture_space(arch)}


def describe_space(arch: str) -> str:
    """The space as a table, with the research's value of each hyperparameter."""
    space, research = architecture_space(arch), research_point(arch)
    lines = [
        f"{arch}: {get_architecture(arch).summary}",
        f"  {'hyperparameter':<18}{'range':<34}research value",
    ]
    for name, value in space.items():
        lines.append(f"  {name:<18}{value.describe():<34}{research[name]}")
    lines.append("  (the research's values are evaluated first, so the search can only improve on them)")
    return "\n".join(lines)
