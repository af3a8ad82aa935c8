"""Spec §10 checklist, items 1-7, plus bad-input errors (synaptic balancing library)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from homeoplastic.balancing import (
    FactoredNetwork,
    NoBalancedNetworkError,
    NoBalancedNetworkWarning,
    RateNetwork,
    SolverOptions,
    balance_costs,
    balance_factored,
    balance_rank_one,
    balanced_costs,
    check_balanceable,
    cost_bounds,
    cost_hessian,
    imbalance,
    lax_vector_field,
    power_law_cost,
    robustness_cost,
    scale_matrix,
    scaled_cost,
    simulate_relu,
    transform_network,
)
from homeoplastic.balancing.ensembles import random_factors, random_network
from homeoplastic.balancing.perturbation import neural_sheet, rebalance_after_potentiation
from homeoplastic.balancing.solvers import flow_trajectory
from homeoplastic.balancing.two_neuron import reciprocal_pair_trajectory, single_synapse_cost

TIGHT = SolverOptions(tol=1e-12, max_iter=200_000)


def _random_net(n: int, seed: int) -> RateNetwork:
    rng = np.random.default_rng(seed)
    return RateNetwork(
        J=rng.normal(0, 1.5 / np.sqrt(n), (n, n)),
        W_in=rng.normal(0, 1, (n, 3)),
        b=rng.normal(0, 0.3, n),
        W_out=rng.normal(0, 1 / np.sqrt(n), (2, n)),
    )


# 1. Function preservation ---------------------------------------------------------------------
def test_relu_network_function_preserved_to_1e12():
    net = _random_net(30, seed=1)
    res = balance_costs(power_law_cost(net.J, 2.0), 2.0, "newton", TIGHT)
    assert np.ptp(res.h) > 0.1  # a real transformation, not the identity
    balanced = transform_network(net, res.h)
    u = np.random.default_rng(2).normal(0, 1, (200, 3))
    x0, y0 = simulate_relu(net, u, dt=0.1)
    x1, y1 = simulate_relu(balanced, u, dt=0.1)
    assert np.max(np.abs(y0)) > 0.1
    assert np.max(np.abs(y1 - y0)) < 1e-12 * max(1.0, np.max(np.abs(y0)))
    np.testing.assert_allclose(x1, x0 * np.exp(-res.h)[None, :], rtol=1e-10, atol=1e-13)
    # The balanced network really is balanced.
    assert np.linalg.norm(imbalance(power_law_cost(balanced.J, 2.0))) < 1e-10 * res.cost_after


def test_lax_vector_field_is_derivative_of_transformation():
    net = _random_net(12, seed=21)
    g = imbalance(power_law_cost(net.J, 2.0))
    field = lax_vector_field(net, g)
    for eps in (1e-4, 1e-5):
        moved = transform_network(net, eps * g)
        for name in ("J", "W_in", "b", "W_out"):
            fd = (getattr(moved, name) - getattr(net, name)) / eps
            scale = np.abs(field[name]).max()
            assert np.abs(fd - field[name]).max() < 50 * eps * scale * np.abs(g).max(), name


# 2. Isospectrality and conservation of sum(h) ---------------------------------------------------
def test_isospectral_and_sum_h_conserved():
    J = random_network(40, "full", np.random.default_rng(3))
    res = balance_costs(power_law_cost(J, 2.0), 2.0, "flow", TIGHT)
    Jb = scale_matrix(J, res.h)
    ev0 = np.sort_complex(np.linalg.eigvals(J))
    ev1 = np.sort_complex(np.linalg.eigvals(Jb))
    np.testing.assert_allclose(ev1, ev0, atol=1e-8)
    assert abs(res.h.sum()) < 1e-12
    assert res.iterations > 5  # the flow moved
    # Cycle products (J_ii, J_ij J_ji) are invariant.
    np.testing.assert_allclose(Jb * Jb.T, J * J.T, rtol=1e-10, atol=1e-15)


# 3. Two neurons -------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_two_neuron_closed_form_trajectory(p):
    a, b, c, d = 0.3, 1.7, 0.4, -0.2
    J = np.array([[a, b], [c, d]])
    kappa = abs(b * c) ** (p / 2)
    errors = []
    for dt in (1e-4, 5e-5):  # Euler to t = 0.5 against tanh(z/2) = tanh(z0/2) exp(-4 p kappa t)
        steps = round(0.5 / dt)
        t, h = flow_trajectory(power_law_cost(J, p), p, dt, steps, record_every=steps // 50)
        exact = reciprocal_pair_trajectory(b, c, p, t)
        z_num = p * (h[:, 1] - h[:, 0]) + np.log(abs(b) ** p / kappa)
        errors.append(np.max(np.abs(z_num - exact["z"])))
    assert errors[0] < 3e-4
    assert 1.8 < errors[0] / errors[1] < 2.2  # first-order convergence to the closed form
    # Balanced limit: symmetric magnitudes sqrt|bc| and C_min = |a|^p + |d|^p + 2|bc|^{p/2}.
    res = balance_costs(power_law_cost(J, p), p, "newton", TIGHT)
    Jb = scale_matrix(J, res.h)
    np.testing.assert_allclose(Jb[0, 1], Jb[1, 0], rtol=1e-10)
    np.testing.assert_allclose(abs(Jb[0, 1]), np.sqrt(b * c), rtol=1e-10)
    np.testing.assert_allclose(
        res.cost_after, abs(a) ** p + abs(d) ** p + 2 * abs(b * c) ** (p / 2), rtol=1e-12
    )


def test_single_synapse_decays_algebraically_without_minimum():
    J = np.array([[0.0, 1.3], [0.0, 0.0]])
    c0 = power_law_cost(J, 2.0)
    assert not check_balanceable(c0).exists
    with pytest.raises(NoBalancedNetworkError, match="no directed cycle"):
        balance_costs(c0, 2.0)
    t, h = flow_trajectory(c0, 2.0, 1e-4, 20000, record_every=1000)
    s_num = c0[0, 1] * np.exp(2.0 * (h[:, 1] - h[:, 0]))
    np.testing.assert_allclose(s_num, single_synapse_cost(1.3, 2.0, t), rtol=2e-3)
    with pytest.warns(NoBalancedNetworkWarning):
        res = balance_costs(c0, 2.0, "flow", SolverOptions(max_iter=200, on_missing="warn"))
    assert not res.converged and res.cost_after < 0.2 * res.cost_before


# 4. Solvers agree ---------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, -1.0])
def test_solvers_reach_same_balanced_network(p):
    rng = np.random.default_rng(4)
    J = rng.normal(0, 1, (25, 25)) * (rng.random((25, 25)) < 0.5)
    c0 = power_law_cost(J, p)
    assert check_balanceable(c0).exists
    hs = {m: balance_costs(c0, p, m, TIGHT) for m in ("flow", "newton", "sweeps")}
    for m, res in hs.items():
        assert res.rel_imbalance < 1e-11, m
        np.testing.assert_allclose(res.h, hs["newton"].h, atol=1e-8, err_msg=m)
        assert abs(res.h.mean()) < 1e-12
    # Hessian = p^2 L against central differences of C(h).
    h = hs["newton"].h
    H = cost_hessian(balanced_costs(c0, h, p), p)
    eps = 1e-4
    e0, e1 = np.eye(25)[0], np.eye(25)[1]

    def C(x):
        return balanced_costs(c0, x, p).sum()

    fd = (C(h + eps * e0 + eps * e1) - C(h + eps * e0 - eps * e1) - C(h - eps * e0 + eps * e1)
          + C(h - eps * e0 - eps * e1)) / (4 * eps**2)
    np.testing.assert_allclose(fd, H[0, 1], rtol=1e-5, atol=1e-8)


def test_scaled_cost_solvers_and_rank_one_closed_form():
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=30), rng.normal(size=30)
    a, b = rng.uniform(0.2, 1.0, 30), rng.uniform(0.2, 1.0, 30)
    J = np.outer(u, v)
    for p in (2.0, 1.5):
        c0 = scaled_cost(J, np.outer(a, b), p)
        h_closed = balance_rank_one(u, v, p, a, b)
        res = balance_costs(c0, p, "newton", TIGHT)
        np.testing.assert_allclose(res.h, h_closed, atol=1e-8)
        # Symmetric balanced magnitudes |J'_ij| = sqrt|u_i v_i| sqrt|u_j v_j| when a = b = 1.
    Jb = np.abs(scale_matrix(J, balance_rank_one(u, v, 2.0)))
    w = np.sqrt(np.abs(u * v))
    np.testing.assert_allclose(Jb, np.outer(w, w), rtol=1e-10)


@pytest.mark.parametrize("method", ["flow", "sweeps"])
def test_factored_solver_matches_dense(method):
    rng = np.random.default_rng(6)
    U, V = random_factors(150, 4, rng)
    gains = rng.uniform(0.3, 1.0, 150)
    net = FactoredNetwork.create(U, V, b=gains)
    res = balance_factored(net, method, SolverOptions(tol=1e-11, max_iter=100_000))
    dense = balance_costs(robustness_cost(net.dense(), gains), 2.0, "newton", TIGHT)
    assert res.rel_imbalance < 1e-10
    np.testing.assert_allclose(res.h, dense.h, atol=1e-7)
    np.testing.assert_allclose(res.cost_after, dense.cost_after, rtol=1e-10)
    c_dense = robustness_cost(net.dense(), gains)
    np.testing.assert_allclose(res.cost_before, c_dense.sum(), rtol=1e-12)


# 5. Bounds ------------------------------------------------------------------------------------
@pytest.mark.parametrize("rank", [1, 2, 5, "full"])
@pytest.mark.parametrize("p", [2.0, 1.0])
def test_bounds_hold(rank, p):
    for seed in range(3):
        J = random_network(60, rank, np.random.default_rng(100 + seed))
        c0 = power_law_cost(J, p)
        bounds = cost_bounds(c0)
        res = balance_costs(c0, p, "newton", TIGHT)
        assert bounds.lower <= res.cost_after * (1 + 1e-10)
        assert res.cost_after <= bounds.upper
        assert bounds.upper < bounds.cost_before
        if rank == 1:  # symmetric balanced costs attain the geometric bound
            np.testing.assert_allclose(res.cost_after, bounds.lower, rtol=1e-10)


# 6. Random-ensemble ratios ----------------------------------------------------------------------
def test_random_ensemble_cost_ratios():
    rank1 = []
    full = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        for store, rank in ((rank1, 1), (full, "full")):
            c0 = power_law_cost(random_network(100, rank, rng), 2.0)
            res = balance_costs(c0, 2.0, "newton", SolverOptions(tol=1e-10))
            store.append(res.cost_after / res.cost_before)
    # Spec §4.2: rank 1 -> (2/pi)^2 ~ 0.41 (0.41 at N = 100); full rank -> 1 - 1/N.
    assert 0.35 < np.mean(rank1) < 0.47
    assert abs(np.mean(full) - (1 - 1 / 100)) < 0.003


# 7. Perturbation -----------------------------------------------------------------------------
def test_linear_perturbation_prediction_within_one_percent():
    J, _ = neural_sheet(6)
    out = rebalance_after_potentiation(J, post=7, pre=8, eps=0.01)
    err = np.linalg.norm(out["dh_linear"] - out["dh_exact"]) / np.linalg.norm(out["dh_exact"])
    assert err < 0.01
    # Postsynaptic neuron goes up, presynaptic down (heterosynaptic dipole).
    assert out["dh_exact"][7] > 0 > out["dh_exact"][8]
    # Random sparse balanced network, 5% perturbation.
    rng = np.random.default_rng(7)
    Jr = rng.normal(0, 1, (30, 30)) * (rng.random((30, 30)) < 0.3)
    res = balance_costs(power_law_cost(Jr, 2.0), 2.0, "newton", TIGHT)
    Jb = scale_matrix(Jr, res.h)
    post, pre = np.argwhere(Jb != 0)[3]
    out = rebalance_after_potentiation(Jb, int(post), int(pre), eps=0.05)
    err = np.linalg.norm(out["dh_linear"] - out["dh_exact"]) / np.linalg.norm(out["dh_exact"])
    assert err < 0.01


# Existence and dead neurons ---------------------------------------------------------------------
def test_dead_neuron_robustness_cost():
    rng = np.random.default_rng(8)
    J = rng.normal(0, 1, (20, 20))
    gains = rng.uniform(0.2, 0.9, 20)
    gains[3] = 0.0
    c0 = robustness_cost(J, gains)
    report = check_balanceable(c0)
    assert not report.exists and 3 in report.dead_neurons
    with pytest.raises(NoBalancedNetworkError, match="dead"):
        balance_costs(c0, 2.0)
    res = balance_costs(c0, 2.0, "newton", SolverOptions(tol=1e-11, dead="freeze"))
    assert res.frozen[3] and res.frozen.sum() == 1 and res.h[3] == 0.0
    keep = np.arange(20) != 3
    cb = balanced_costs(c0, res.h, 2.0)[np.ix_(keep, keep)]
    assert np.linalg.norm(imbalance(cb)) < 1e-10 * cb.sum()
    floored = balance_costs(robustness_cost(J, gains, gain_floor=1e-2), 2.0, "newton", TIGHT)
    assert floored.converged and np.all(np.isfinite(floored.h))


def test_feedforward_chain_warns_and_ignores():
    J = np.diag(np.ones(4), k=1)  # 4 -> 3 -> 2 -> 1 -> 0 chain, no cycle
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NoBalancedNetworkWarning):
            balance_costs(power_law_cost(J, 2.0), 2.0, "flow",
                          SolverOptions(max_iter=10, on_missing="warn"))


# Bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: power_law_cost(np.ones((3, 4))), "square"),
        (lambda: power_law_cost(np.array([[1.0, np.nan], [1.0, 1.0]])), "NaN"),
        (lambda: power_law_cost(np.ones((3, 3)), p=0.0), "non-zero"),
        (lambda: robustness_cost(np.ones((3, 3)), np.array([0.5, -0.1, 0.2])), "non-negative"),
        (lambda: robustness_cost(np.ones((3, 3)), np.ones(4)), "shape"),
        (lambda: scaled_cost(np.ones((3, 3)), np.ones((2, 3))), "shape"),
        (lambda: balance_costs(np.ones((3, 3)), 2.0, method="bfgs"), "method"),
        (lambda: balance_costs(-np.ones((3, 3)), 2.0), "non-negative"),
        (lambda: scale_matrix(np.ones((3, 3)), np.zeros(2)), "h must have shape"),
        (lambda: RateNetwork(np.ones((3, 3)), np.ones((2, 1)), np.zeros(3), np.ones((1, 3))),
         "W_in"),
        (lambda: FactoredNetwork.create(np.ones((4, 2)), np.ones((4, 3))), "equal shape"),
        (lambda: balance_rank_one(np.ones(3), np.array([1.0, 0.0, 1.0])), "non-zero"),
        (lambda: SolverOptions(tol=0.0), "tol"),
    ],
)
def test_bad_input_raises_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.slow
def test_spec_table_ratios_n200_and_factored_large():
    """Spec §4.2 table at N = 200 (5 draws) and a factored N = 20000 network against (2/pi)^2."""
    ratios = {1: [], 2: [], "full": []}
    for seed in range(5):
        for rank in ratios:
            c0 = power_law_cost(random_network(200, rank, np.random.default_rng([seed, 200])), 2.0)
            res = balance_costs(c0, 2.0, "sweeps", SolverOptions(tol=1e-10, max_iter=10_000))
            ratios[rank].append(res.cost_after / res.cost_before)
    assert 0.34 < np.mean(ratios[1]) < 0.44  # spec: 0.39
    assert 0.55 < np.mean(ratios[2]) < 0.70  # spec: 0.63
    assert abs(np.mean(ratios["full"]) - (1 - 1 / 200)) < 0.002  # spec: 0.995
    U, V = random_factors(20_000, 1, np.random.default_rng(9))
    res = balance_factored(FactoredNetwork.create(U, V), "sweeps", SolverOptions(tol=1e-9))
    np.testing.assert_allclose(res.cost_after / res.cost_before, (2 / np.pi) ** 2, rtol=0.05)
    np.testing.assert_allclose(res.h, balance_rank_one(U[:, 0], V[:, 0]), atol=1e-6)


def test_strong_components_match_mutual_reachability_on_random_sparse_graphs():
    """scipy's strong components give the same partition as brute-force mutual reachability."""
    from homeoplastic.balancing.diagnostics import strongly_connected_components

    rng = np.random.default_rng(11)
    for density in (0.05, 0.1, 0.2):
        c = rng.random((25, 25)) * (rng.random((25, 25)) < density)
        reach = (c > 0) | np.eye(25, dtype=bool)
        for _ in range(25):  # transitive closure by repeated squaring of the boolean matrix
            reach = reach | ((reach.astype(int) @ reach.astype(int)) > 0)
        mutual = reach & reach.T
        labels = strongly_connected_components(c)
        np.testing.assert_array_equal(labels[:, None] == labels[None, :], mutual)
        # and existence: every off-diagonal edge inside one component
        rows, cols = np.nonzero(c > 0)
        off = rows != cols
        assert check_balanceable(c).exists == bool(np.all(mutual[rows[off], cols[off]]))
