"""Shared fixtures: the paper's two- and four-population models with the chosen activation."""

import pytest

from homeoplastic.reduced.params import four_population_model, two_population_model


@pytest.fixture
def two_pop():
    return two_population_model(16.0)


@pytest.fixture
def four_pop():
    return four_population_model(8.0)
