"""The deterministic limit: stable states, bistability of the chosen constants, lumpability."""

import numpy as np
import pytest

from homeoplastic.reduced.params import (
    Activation,
    Plasticity,
    PopulationModel,
    model_for,
    trained_weights,
    two_population_plane,
)
from homeoplastic.reduced.wilson_cowan import drift, is_stable, stable_states


def test_bistable_when_trained_monostable_when_uniform(two_pop):
    theta = Plasticity().theta
    uniform = stable_states(trained_weights(two_pop, "uniform"), two_pop)
    assert uniform.shape == (1, 2)
    assert np.all(uniform < theta)
    trained = stable_states(trained_weights(two_pop, "diagonal"), two_pop)
    assert trained.shape == (3, 2)  # (low, high), (low, low), (high, low)
    assert trained[2, 0] > theta + 0.5 and trained[2, 1] < 0.2
    assert np.allclose(trained[1], uniform[0])
    for x in trained:
        assert np.max(np.abs(drift(x, trained_weights(two_pop, "diagonal"), two_pop))) < 1e-10


def test_bistability_onset_on_the_diagonal(two_pop):
    """Documented onset W11 = W22 = 0.867 (config/README.md, schema); never below 0.8 for these w_inh."""
    ws = (0.8, 0.866, 0.868, 0.99)
    counts = [len(stable_states(two_population_plane(two_pop, w, w), two_pop)) for w in ws]
    assert counts == [1, 1, 3, 3]


def test_four_population_pairs_lump_into_two_population_states():
    two = model_for(2, 16.0)
    four = model_for(4, 16.0)
    assert four.system_size == 8.0 and four.w_max == 0.5 and four.w_inh == 0.1
    s2 = stable_states(trained_weights(two, "diagonal"), two)
    for pairing, partner in (("13_24", [0, 1, 0, 1]), ("12_34", [0, 0, 1, 1])):
        s4 = stable_states(trained_weights(four, pairing), four)
        assert s4.shape == (3, 4)
        lumped = np.array([[x[np.array(partner) == g].mean() for g in (0, 1)] for x in s4])
        assert np.allclose(np.sort(lumped, axis=0), np.sort(s2, axis=0), atol=1e-7)


def test_unstable_point_detected():
    model = PopulationModel(n_pops=1, w_max=1.0, w_inh=0.2, activation=Activation())
    w = np.array([[1.0]])
    xs = np.linspace(0.01, 3.2, 20000)
    g = np.array([drift(np.array([x]), w, model)[0] for x in xs])
    roots = xs[np.nonzero(np.diff(np.sign(g)))[0]]
    assert len(roots) == 3
    assert [is_stable(np.array([r]), w, model) for r in roots] == [True, False, True]


def test_invalid_parameters_raise():
    with pytest.raises(ValueError, match="system_size"):
        PopulationModel(system_size=0.0)
    with pytest.raises(ValueError, match="n_pops"):
        model_for(3, 16.0)
    with pytest.raises(ValueError, match="weights must have shape"):
        stable_states(np.zeros((3, 3)), model_for(2, 16.0))
