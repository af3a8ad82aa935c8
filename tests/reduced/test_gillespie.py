"""Gillespie kernel: Wilson-Cowan limit, reproducibility, row sums held under plasticity."""

import numpy as np
import pytest

from homeoplastic.reduced.gillespie import simulate
from homeoplastic.reduced.params import (
    Plasticity,
    four_population_plane,
    trained_weights,
    two_population_model,
    two_population_plane,
)
from homeoplastic.reduced.wilson_cowan import stable_states


def test_mean_rates_converge_to_wilson_cowan_fixed_point_as_n_grows():
    base = two_population_model(16.0)
    weights = trained_weights(base, "uniform")
    x_star = stable_states(weights, base)[0]
    errors = []
    for n in (8.0, 64.0, 512.0):
        model = base.with_size(n)
        traj = simulate(
            model, weights, 1500.0, np.random.default_rng(11), bin_width=1500.0, initial_rates=x_star
        )
        errors.append(np.max(np.abs(traj.rates[0] - x_star)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 5e-3


def test_same_seed_same_run_and_different_seed_differs(two_pop):
    w = trained_weights(two_pop, "diagonal")
    a = simulate(two_pop, w, 200.0, np.random.default_rng(5), bin_width=10.0)
    b = simulate(two_pop, w, 200.0, np.random.default_rng(5), bin_width=10.0)
    c = simulate(two_pop, w, 200.0, np.random.default_rng(6), bin_width=10.0)
    assert np.array_equal(a.rates, b.rates) and a.events == b.events
    assert not np.array_equal(a.rates, c.rates)


def test_row_sums_held_under_plasticity(two_pop, four_pop):
    plast = Plasticity(eta=0.01)
    w2 = two_population_plane(two_pop, 0.95, 0.9)
    t2 = simulate(
        two_pop, w2, 3000.0, np.random.default_rng(1), plasticity=plast, plastic=True, bin_width=10.0
    )
    assert np.max(np.abs(t2.weights.sum(axis=2) - w2.sum(axis=1))) < 1e-12
    assert np.ptp(t2.weights[:, 0, 0]) > 0.02  # the weights did move
    assert np.all((t2.weights >= 0) & (t2.weights <= two_pop.w_max))
    w4 = four_population_plane(four_pop, 0.3, 0.2)
    t4 = simulate(
        four_pop, w4, 3000.0, np.random.default_rng(2), plasticity=plast, plastic=True, bin_width=10.0
    )
    # clipping can leave a residual that the next event corrects (docs/models/assemblies.md, 4)
    assert np.max(np.abs(t4.weights.sum(axis=2) - w4.sum(axis=1))) < 1e-3
    assert np.all((t4.weights >= 0) & (t4.weights <= four_pop.w_max))


def test_frozen_weights_integrate_drift_exactly(two_pop):
    """drift_integral / T equals the time average of x_l x_k (x_k - theta) within a run."""
    w = trained_weights(two_pop, "uniform")
    traj = simulate(two_pop, w, 500.0, np.random.default_rng(4), bin_width=500.0)
    assert np.array_equal(traj.final_weights, w)
    x = traj.rates[0]
    # cross term <x_2 x_1 (x_1 - theta)> is negative in the low state
    assert traj.drift_integral[-1, 0, 1] < 0
    assert traj.drift_integral[-1].shape == (2, 2)
    assert np.all(x > 0)


def test_simulate_rejects_bad_input(two_pop):
    with pytest.raises(ValueError, match="duration"):
        simulate(two_pop, trained_weights(two_pop, "uniform"), -1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="w_max"):
        simulate(two_pop, np.full((2, 2), 2.0), 1.0, np.random.default_rng(0))


def test_binned_rates_integrate_to_the_same_total_for_any_bin_width(two_pop):
    """Bins split waiting times exactly: sum over bins of rate x width is bin-independent."""
    w = trained_weights(two_pop, "diagonal")
    whole = simulate(two_pop, w, 300.0, np.random.default_rng(9), bin_width=300.0)
    for width in (0.1, 0.7, 5.0):
        traj = simulate(two_pop, w, 300.0, np.random.default_rng(9), bin_width=width)
        total = (traj.rates * np.diff(traj.bin_edges)[:, None]).sum(axis=0)
        assert np.allclose(total, whole.rates[0] * 300.0, rtol=1e-12, atol=1e-9)
        assert np.allclose(traj.drift_integral[-1], whole.drift_integral[-1], rtol=1e-12)
