"""Every registered architecture has a search space that holds the research's configuration."""

from __future__ import annotations

import pytest

from au2bs.models import ARCHITECTURES
from au2bs.models.space import architecture_space, describe_space, research_point
from au2bs.search_space import Choice, LogUniform, Uniform
from tune.experiment.spaces import to_ray


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_space_covers_the_research_configuration(arch):
    space, point = architecture_space(arch), research_point(arch)
    assert set(space) == set(point) and {"batch_size", "learning_rate", "hidden_size"} <= set(space)
    for name, domain in space.items():
        value = point[name]
        if isinstance(domain, Choice):
            assert value in domain.values, (name, value)
        elif isinstance(domain, (Uniform, LogUniform)):
            assert domain.low <= value <= domain.high, (name, value)
    domains = to_ray(space)
    assert set(domains) == set(space)
    assert all(name in describe_space(arch) for name in space)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_negrelu_weight_is_tuned_only_where_outputs_can_be_negative(arch):
    spec = ARCHITECTURES[arch]  # no final ReLU: outputs can be negative, and the loss penalises it
    assert ("negrelu_weight" in architecture_space(arch)) == (not spec.final_relu) == spec.loss.negrelu
