"""Plasticity rule, row-sum holding, and the weight vector field's fixed points (paper Fig. 7b, d)."""

import numpy as np

from homeoplastic.reduced.params import (
    Plasticity,
    four_population_plane,
    two_population_plane,
)
from homeoplastic.reduced.plasticity import (
    drift_matrix,
    held_drift,
    hold_row_sums,
    metastable_field,
    sampled_field,
)


def test_drift_matrix_signs():
    d = drift_matrix(np.array([2.5, 0.3]), theta=1.8)
    assert d[0, 0] > 0 and d[0, 1] > 0  # post above threshold: potentiation
    assert d[1, 0] < 0 and d[1, 1] < 0  # post below threshold: depression
    assert np.isclose(d[0, 1], 0.3 * 2.5 * (2.5 - 1.8))


def test_hold_row_sums_restores_target_and_bounds():
    w = np.array([[0.9, 0.3], [0.2, 0.7]])
    out = hold_row_sums(w, np.array([1.0, 1.0]), 1.0)
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out, [[0.8, 0.2], [0.25, 0.75]])
    clipped = hold_row_sums(np.array([[1.2, -0.1]]), np.array([1.0]), 1.0)
    assert np.all((clipped >= 0) & (clipped <= 1.0))


def test_held_drift_has_zero_row_sum_and_respects_bounds():
    v = held_drift(np.array([[0.5, 0.5]]), np.array([[3.0, 1.0]]), 1.0)
    assert np.allclose(v.sum(axis=1), 0.0)
    at_bound = held_drift(np.array([[1.0, 0.0]]), np.array([[3.0, 1.0]]), 1.0)
    assert np.all(at_bound == 0.0)


def test_two_population_field_assembly_corner_stable_and_uniform_neutral(two_pop):
    plast = Plasticity()
    near, _ = metastable_field(two_population_plane(two_pop, 0.93, 0.93), two_pop, plast)
    assert near[0, 0] > 0 and near[1, 1] > 0  # flows into (w_max, w_max)
    corner, chain = metastable_field(two_population_plane(two_pop, 1.0, 1.0), two_pop, plast)
    assert np.all(corner == 0.0) and len(chain.states) == 3
    flat, chain = metastable_field(two_population_plane(two_pop, 0.6, 0.7), two_pop, plast)
    assert len(chain.states) == 1 and np.allclose(flat, 0.0, atol=1e-12)


def test_four_population_both_pairings_stable(four_pop):
    plast = Plasticity()
    w13 = four_population_plane(four_pop, 0.05, 0.05)  # near the (1,3)(2,4) pairing
    w12 = four_population_plane(four_pop, 0.45, 0.45)  # near the (1,2)(3,4) pairing
    v13, _ = metastable_field(w13, four_pop, plast)
    v12, _ = metastable_field(w12, four_pop, plast)
    assert v13[0, 1] < 0 and v13[2, 3] < 0
    assert v12[0, 1] > 0 and v12[2, 3] > 0
    s13, _ = sampled_field(w13, four_pop, plast, 20000.0, np.random.default_rng(0))
    s12, _ = sampled_field(w12, four_pop, plast, 20000.0, np.random.default_rng(1))
    assert s13[0, 1] < 0 and s13[2, 3] < 0
    assert s12[0, 1] > 0 and s12[2, 3] > 0
