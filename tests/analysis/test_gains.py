"""Per-assembly gains after spontaneous activity (paper Fig. 5b, c): the spread index and the
potentiated fraction on synthetic group weights, one winner against all equal."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.analysis.assemblies import ANALYZE_VARIABLES
from homeoplastic.analysis.gains import GAIN_VARIABLES, gain_scalars, gini

N = 8
W0 = 2.86  # pF: every block starts at J^0, so absolute weights would hide the spread of gains


def test_gini_is_zero_when_equal_and_n_minus_1_over_n_for_one_winner():
    assert gini(np.full(N, 3.0)) == pytest.approx(0.0, abs=1e-15)
    assert gini(np.eye(N)[2] * 5.0) == pytest.approx((N - 1) / N)
    assert gini(np.array([0.0, 0.0, 1.0, 1.0])) == pytest.approx(0.5)
    # a lost gain counts as none, not as a negative share
    assert gini(np.array([-4.0, 0.0, 1.0, 1.0])) == pytest.approx(0.5)
    assert np.isnan(gini(np.zeros(N)))
    np.testing.assert_allclose(gini(np.stack([np.ones(N), np.eye(N)[0]])), [0.0, (N - 1) / N])


def _stores(trained_gain: np.ndarray, end_gain: np.ndarray, noise_pf: float = 0.05, seed: int = 0):
    """Training and spontaneous group weights, (snapshot, N + 1, N + 1): the diagonal carries
    the gains, the between blocks change by noise of s.d. ``noise_pf``."""
    rng = np.random.default_rng(seed)
    train = np.full((3, N + 1, N + 1), W0)
    train[1] += rng.normal(0.0, noise_pf, (N + 1, N + 1))
    train[2] += rng.normal(0.0, noise_pf, (N + 1, N + 1))
    spont = np.repeat(train[2:], 2, axis=0)
    spont[-1] += rng.normal(0.0, noise_pf / 4, (N + 1, N + 1))
    idx = np.arange(N)
    train[1, idx, idx] = W0 + 0.5 * trained_gain
    train[2, idx, idx] = W0 + trained_gain
    spont[0, idx, idx] = W0 + trained_gain
    spont[-1, idx, idx] = W0 + end_gain
    return train, spont


def _values(train, spont):
    return {name: value for name, (value, _, _) in gain_scalars(train, spont).items()}


def test_one_winner_after_spontaneous_activity_passes_both_nulls():
    trained = np.full(N, 2.0) + np.linspace(-0.1, 0.1, N)
    end = np.full(N, 0.02)
    end[3] = 4.0  # one assembly takes over, the others lose their gain
    v = _values(*_stores(trained, end))
    assert v["assembly_gain_gini_end"] > 0.8
    assert v["assembly_gain_gini_trained"] < 0.05
    assert v["assembly_gain_gini_end"] > v["assembly_gain_gini_equal_q95"]
    assert v["assembly_gain_potentiated_end"] == pytest.approx(1 / N)
    assert v["assembly_gain_potentiated_trained"] == 1.0
    assert v["assembly_gain_max_over_mean_end"] > 5.0
    # the noise is the between blocks' (s.d. ~0.05 x sqrt(1 + 1/16)), not the gains'
    assert 0.03 < v["assembly_gain_noise_pf"] < 0.08


def test_assemblies_that_keep_equal_gains_stay_within_the_equal_gain_null():
    trained = np.full(N, 2.0)
    rng = np.random.default_rng(5)
    end = 2.2 + rng.normal(0.0, 0.05, N)  # all grow alike, up to noise like the between blocks'
    v = _values(*_stores(trained, end))
    assert v["assembly_gain_gini_end"] < v["assembly_gain_gini_equal_q95"]
    assert v["assembly_gain_potentiated_end"] == v["assembly_gain_potentiated_trained"] == 1.0
    assert v["assembly_gain_max_over_mean_end"] < 1.1


def test_no_gain_within_the_noise_counts_as_not_potentiated():
    v = _values(*_stores(np.full(N, 0.03), np.full(N, 0.03)))
    assert v["assembly_gain_potentiated_end"] == v["assembly_gain_potentiated_trained"] == 0.0


def test_the_null_is_seeded_and_every_scalar_is_an_analyze_variable():
    stores = _stores(np.full(N, 2.0), np.linspace(0.0, 3.0, N))
    assert _values(*stores) == _values(*stores)
    assert set(GAIN_VARIABLES) == set(gain_scalars(*stores)) <= set(ANALYZE_VARIABLES)
