"""Solvers never report false convergence; bad input is refused; hand-computed reference values.

Each test here was checked against a mutation of the code it guards (see the docstrings).
"""

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
    check_balanceable,
    cost_bounds,
    imbalance,
    laplacian,
    power_law_cost,
    simulate_relu,
)
from homeoplastic.balancing.bounds import descent_upper_bound
from homeoplastic.balancing.rnn import TrainConfig, forward, mean_gains, noise_robustness
from homeoplastic.balancing.solvers import flow_trajectory
from homeoplastic.balancing.task import IntegrationTask, generate_trials

METHODS = ("flow", "newton", "sweeps")


def _random_cost(n: int = 30, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return power_law_cost(rng.normal(size=(n, n)) / np.sqrt(n), 2.0)


# Convergence flags ------------------------------------------------------------------------------
def test_converged_only_at_the_requested_tolerance():
    """A flow run stopped by its cap at ||g||/C ~ 1e-7 (> tol = 1e-12) is not converged.

    Guards against a loose threshold (10 x tol, 1e6 x tol) in the converged flag.
    """
    c = _random_cost()
    res = balance_costs(c, 2.0, "flow", SolverOptions(tol=1e-12, max_iter=50))
    assert 1e-10 < res.rel_imbalance < 1e-6  # the setup: between tol and 1e6 tol
    assert not res.converged and res.status == "max_iter"
    # The same run with tol just below the reached value (so 10 x tol lies above it).
    tight = balance_costs(c, 2.0, "flow", SolverOptions(tol=res.rel_imbalance / 3, max_iter=50))
    assert tight.rel_imbalance == res.rel_imbalance and not tight.converged
    for method in METHODS:
        ok = balance_costs(c, 2.0, method, SolverOptions(tol=1e-12, max_iter=10_000))
        assert ok.converged and ok.status == "converged" and ok.rel_imbalance < 1e-12
        assert np.all(np.isfinite(ok.h)) and np.isfinite(ok.cost_after)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("policy", ["warn", "ignore"])
def test_single_synapse_never_converges(method, policy):
    """Without a balanced network g^2 underflows; the result must not claim convergence."""
    c = power_law_cost(np.array([[0.0, 1.6], [0.0, 0.0]]), 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoBalancedNetworkWarning)
        res = balance_costs(c, 2.0, method, SolverOptions(on_missing=policy, max_iter=2000))
    assert not res.converged
    assert res.status in ("no_minimum", "non_finite")
    assert not (res.rel_imbalance == 0.0)  # NaN (cost underflowed) or the true O(1) value


@pytest.mark.parametrize("method", METHODS)
def test_chain_under_every_solver_is_not_converged(method):
    c = power_law_cost(np.diag(np.ones(4), k=1), 2.0)  # 4 -> 3 -> 2 -> 1 -> 0, no cycle
    res = balance_costs(c, 2.0, method, SolverOptions(on_missing="ignore", max_iter=5000))
    assert not res.converged and res.status in ("no_minimum", "non_finite")


def test_nan_anywhere_is_an_error_naming_it():
    c = _random_cost(5)
    with pytest.raises(ValueError, match="h0"):
        balance_costs(c, 2.0, "flow", h0=np.array([np.nan, 0, 0, 0, 0]))
    bad = c.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="c0"):
        balance_costs(bad, 2.0)
    with pytest.raises(ValueError, match="U"):
        FactoredNetwork.create(np.full((4, 1), np.nan), np.ones((4, 1)))


def test_factored_solver_refuses_networks_without_cycles():
    """J = e0 e1^T (one synapse 1 -> 0) and a block-triangular rank-2 J have no balanced network."""
    e0, e1 = np.zeros((6, 1)), np.zeros((6, 1))
    e0[0], e1[1] = 1.0, 1.0
    net = FactoredNetwork.create(e0, e1)
    with pytest.raises(NoBalancedNetworkError):
        balance_factored(net)
    with pytest.warns(NoBalancedNetworkWarning):
        res = balance_factored(net, "flow", SolverOptions(on_missing="warn", max_iter=500))
    assert not res.converged
    # Rank 2, every neuron with cost on both sides, but J[0:3, 3:6] = 0: 0-2 never reach 3-5.
    rng = np.random.default_rng(0)
    U = np.zeros((6, 2))
    V = np.zeros((6, 2))
    U[:3, 0], V[:3, 0] = rng.normal(size=3), rng.normal(size=3)  # block 0-2 -> 0-2
    U[3:, 1], V[3:, 1] = rng.normal(size=3), rng.normal(size=3)  # block 3-5 -> 3-5
    U[3:, 0] = rng.normal(size=3)  # 0-2 -> 3-5 only
    with pytest.raises(NoBalancedNetworkError, match="no directed cycle"):
        balance_factored(FactoredNetwork.create(U, V))
    # A generic rank-2 network is balanceable and converges at the requested tolerance.
    good = FactoredNetwork.create(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)))
    res = balance_factored(good, "sweeps", SolverOptions(tol=1e-10))
    assert res.converged and res.rel_imbalance < 1e-10


# Bad input ---------------------------------------------------------------------------------------
_NET = RateNetwork(np.zeros((2, 2)), np.zeros((2, 6)), np.zeros(2), np.eye(2))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: check_balanceable(np.ones((3, 4))), "square"),
        (lambda: check_balanceable(np.array([[0.0, np.nan], [1.0, 0.0]])), "NaN"),
        (lambda: check_balanceable(-np.ones((2, 2))), "non-negative"),
        (lambda: laplacian(np.ones((2, 3))), "square"),
        (lambda: laplacian(np.zeros((0, 0))), "at least one"),
        (lambda: imbalance(np.ones((2, 3))), "square"),
        (lambda: imbalance(np.array([[1.0, np.inf], [1.0, 1.0]])), "NaN"),
        (lambda: cost_bounds(np.zeros((3, 3))), "zero total cost"),
        (lambda: cost_bounds(-np.ones((3, 3))), "non-negative"),
        (lambda: simulate_relu(_NET, np.full((5, 6), np.nan)), "inputs"),
        (lambda: simulate_relu(_NET, np.zeros((5, 6)), dt=float("nan")), "dt"),
        (lambda: simulate_relu(_NET, np.zeros((5, 6)), noise_sigma=-0.1), "noise_sigma"),
        (lambda: forward(_NET, np.full((1, 5, 6), np.nan)), "inputs"),
        (lambda: forward(_NET, np.zeros((1, 5, 6)), dt=float("nan")), "dt"),
        (lambda: forward(_NET, np.zeros((1, 5, 6)), noise_sigma=-1.0,
                         rng=np.random.default_rng(0)), "noise_sigma"),
        (lambda: forward(_NET, np.zeros((0, 5, 6))), "empty"),
    ],
)
def test_public_functions_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# Hand-computed values ----------------------------------------------------------------------------
def test_descent_bound_hand_computed():
    """c = [[0, 4], [1, 0]]: M = 2 * 5, ||g||^2 = 18, bound 5 - 18/20 = 4.1; the optimum is 4."""
    c = np.array([[0.0, 4.0], [1.0, 0.0]])
    assert descent_upper_bound(c) == pytest.approx(4.1, rel=1e-14)
    b = cost_bounds(c)
    assert b.lower == pytest.approx(4.0) and b.upper_ratio == pytest.approx(4.1 / 5)
    # Three neurons, degrees of cbar: 1 + 2 = 3, 1 + 4 = 5, 2 + 4 = 6 -> M = 12.
    c3 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 4.0], [2.0, 0.0, 0.0]])
    g = imbalance(c3)
    assert descent_upper_bound(c3) == pytest.approx(7.0 - g @ g / 24.0, rel=1e-14)
    res = balance_costs(c3, 2.0, "newton", SolverOptions(tol=1e-12))
    assert res.cost_after <= descent_upper_bound(c3) + 1e-12


def test_mean_gains_hand_computed():
    """Neuron 0 always on (b > 0), neuron 1 never (b < 0), neuron 2 on in context 0 only."""
    W_in = np.zeros((3, 6))
    W_in[2, 0], W_in[2, 1] = 1.0, -1.0
    net = RateNetwork(np.zeros((3, 3)), W_in, np.array([1.0, -1.0, 0.0]), np.zeros((2, 3)))
    u, _, _ = generate_trials(IntegrationTask(6, 0.0, 0.0), np.random.default_rng(0), 2)
    np.testing.assert_array_equal(mean_gains(net, u, 0.1, 4), [1.0, 0.0, 0.5])


def _noise_only_net() -> RateNetwork:
    """J = W_in = b = 0, y = x: the output is the Ornstein-Uhlenbeck noise of two neurons."""
    return RateNetwork(np.zeros((2, 2)), np.zeros((2, 6)), np.zeros(2), np.eye(2))


def _ou_variance(sigma: float, dt: float, substeps: int, t_len: int) -> np.ndarray:
    """Exact variance of x_{s+1} = (1 - dt) x_s + sqrt(dt) sigma xi at the readout steps."""
    s = substeps * np.arange(1, t_len + 1)
    return dt * sigma**2 * (1 - (1 - dt) ** (2 * s)) / (1 - (1 - dt) ** 2)


def test_neural_noise_reaches_the_output_with_the_right_variance():
    """Euler-Maruyama noise sqrt(dt) sigma xi: removing or mis-scaling it fails here."""
    task = IntegrationTask(30, 0.0, 0.0)
    u, _, _ = generate_trials(task, np.random.default_rng(1), 25)
    sigma, dt, sub = 0.5, 0.1, 5
    _, y0 = forward(_noise_only_net(), u, dt, sub)
    _, y = forward(_noise_only_net(), u, dt, sub, sigma, np.random.default_rng(2))
    assert np.all(y0 == 0.0)
    expected = _ou_variance(sigma, dt, sub, task.n_timesteps)
    measured = (y**2).mean(axis=(0, 2))
    np.testing.assert_allclose(measured.mean(), expected.mean(), rtol=0.08)
    np.testing.assert_allclose(measured[-10:].mean(), expected[-10:].mean(), rtol=0.15)


def test_trial_averaged_mse_averages_over_trial_sets():
    """Pure noise output, target 0: averaging K trial sets divides the MSE by K."""
    task = IntegrationTask(30, 0.0, 0.0)
    k_sets = 20
    u, _, _ = generate_trials(task, np.random.default_rng(1), k_sets)
    target = np.zeros((u.shape[0], task.n_timesteps, 2))
    out = noise_robustness(_noise_only_net(), u, target, np.array([0.0, 0.5]), seed=3,
                           dt=0.1, substeps=5)
    assert out["mse_trial"][0] == 0.0 and out["mse_avg"][0] == 0.0
    expected = _ou_variance(0.5, 0.1, 5, task.n_timesteps).mean()
    np.testing.assert_allclose(out["mse_trial"][1], expected, rtol=0.08)
    np.testing.assert_allclose(out["mse_avg"][1], expected / k_sets, rtol=0.15)


def test_pinned_balancing_keeps_silent_neurons_and_the_gauge():
    """Pinned neurons keep h = 0, the free ones keep mean h = 0, and the cost still falls."""
    from homeoplastic.balancing.solvers import balance_pinned

    c = _random_cost(12, seed=5)
    pinned = np.zeros(12, dtype=bool)
    pinned[[2, 7]] = True
    res = balance_pinned(c, pinned, 2.0, SolverOptions(tol=1e-11))
    assert res.converged and res.status == "converged"
    np.testing.assert_array_equal(res.h[pinned], 0.0)
    assert abs(res.h[~pinned].mean()) < 1e-12
    assert res.cost_after < res.cost_before
    # At the constrained optimum every free neuron carries the same imbalance (the multiplier).
    g = imbalance(c * np.exp(2.0 * (res.h[None, :] - res.h[:, None])))[~pinned]
    assert np.ptp(g) < 1e-9 * c.sum()
    # Without pinned neurons it is the ordinary balanced network.
    free = balance_pinned(c, np.zeros(12, dtype=bool), 2.0, SolverOptions(tol=1e-11))
    ref = balance_costs(c, 2.0, "newton", SolverOptions(tol=1e-11))
    np.testing.assert_allclose(free.h, ref.h, atol=1e-9)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: IntegrationTask(10, float("nan"), 0.3), "sigma_ctx"),
        (lambda: TrainConfig(learning_rate=float("nan")), "learning_rate"),
        (lambda: TrainConfig(arm="l2", l2_lambda=float("nan")), "l2_lambda"),
        (lambda: FactoredNetwork.create(np.zeros((0, 1)), np.zeros((0, 1))), "at least one"),
        (lambda: flow_trajectory(np.ones((2, 2)), 2.0, float("nan"), 10), "dt"),
    ],
)
def test_settings_reject_nan(call, match):
    with pytest.raises(ValueError, match=match):
        call()
