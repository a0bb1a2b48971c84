"""Search spaces at the Ray boundary: the registry's ranges as Ray Tune domains."""

from __future__ import annotations

from ray import tune as ray_tune

from au2bs.search_space import Choice, LogUniform, Range, Uniform


def to_ray(space: dict[str, Range]) -> dict:
    """Ray Tune domains for plain ranges."""
    domains = {}
    for name, value in space.items():
        if isinstance(value, Choice):
            domains[name] = ray_tune.choice(list(value.values))
        elif isinstance(value, LogUniform):
            domains[name] = ray_tune.loguniform(value.low, value.high)
        elif isinstance(value, Uniform):
            domains[name] = ray_tune.uniform(value.low, value.high)
        else:
            raise TypeError(f"{name}: unsupported range {value!r}")
    return domains
