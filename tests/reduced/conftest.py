"""Shared fixtures: the paper's two- and four-population models with the chosen activation."""

import pytest

from homeoplastic.reduced.params import (
    Activation,
    PopulationModel,
    four_population_model,
    two_population_model,
)


@pytest.fixture
def two_pop():
    return two_population_model(16.0)


@pytest.fixture
def four_pop():
    return four_population_model(8.0)


def one_population(system_size: float, self_weight_minus_inh: float) -> PopulationModel:
    """A single population (w_inh = 0) with self-coupling given through W = [[w]]."""
    return PopulationModel(
        n_pops=1,
        system_size=system_size,
        w_max=max(1.0, self_weight_minus_inh),
        w_inh=0.0,
        activation=Activation(),
    )
