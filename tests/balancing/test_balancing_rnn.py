"""RNN experiment checks: BPTT against finite differences, training invariants
(docs/models/balancing.md, 10, item 8)."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.balancing import RateNetwork, robustness_cost, transform_network
from homeoplastic.balancing.rnn import (
    TrainConfig,
    balance_quantity,
    forward,
    heldout_r2,
    imbalance_null,
    init_network,
    loss_and_grads,
    mean_gains,
    noise_robustness,
    train,
)
from homeoplastic.balancing.solvers import SolverOptions, balance_costs
from homeoplastic.balancing.task import IntegrationTask, all_conditions, generate_trials

SMALL = IntegrationTask(n_timesteps=6)


def _small_net(seed: int, n: int = 8) -> RateNetwork:
    rng = np.random.default_rng(seed)
    net = init_network(n, rng, rec_scale=1.5)
    return RateNetwork(net.J, net.W_in, rng.normal(0, 0.2, n), net.W_out)


def test_task_targets_integrate_attended_modality():
    u, target, cond = generate_trials(IntegrationTask(n_timesteps=20), np.random.default_rng(0), 2)
    assert u.shape == (16, 20, 6) and target.shape == (16, 20, 2)
    conds = all_conditions()[cond]
    for k in range(16):
        ch = 2 if conds[k, 0] == 0 else 4
        np.testing.assert_allclose(target[k, -1], u[k, :, ch : ch + 2].sum(axis=0))
    # Noise-free: the attended channel that carries the evidence integrates to T.
    u0, t0, c0 = generate_trials(IntegrationTask(5, 0.0, 0.0), np.random.default_rng(0))
    conds = all_conditions()[c0]
    assert np.all(t0[:, -1].max(axis=1) == 5.0)
    assert np.all(u0[np.arange(8), 0, conds[:, 0]] == 1.0)


@pytest.mark.parametrize(("l2", "all_w"), [(0.0, False), (0.3, False), (0.2, True)])
def test_bptt_gradient_matches_finite_differences(l2, all_w):
    net = _small_net(1)
    u, target, _ = generate_trials(SMALL, np.random.default_rng(2))
    _, _, grads = loss_and_grads(net, u, target, 0.1, 3, l2, all_w)
    rng = np.random.default_rng(3)
    names = ("J", "W_in", "b", "W_out")
    direction = {k: rng.standard_normal(getattr(net, k).shape) for k in names}

    def objective(step: float) -> float:
        moved = RateNetwork(**{k: getattr(net, k) + step * direction[k] for k in names})
        return loss_and_grads(moved, u, target, 0.1, 3, l2, all_w)[0]

    eps = 1e-5
    fd = (objective(eps) - objective(-eps)) / (2 * eps)
    analytic = sum(float(np.sum(grads[k] * direction[k])) for k in names)
    assert abs(fd - analytic) < 1e-6 * max(1.0, abs(analytic))
    # Per-entry check of a few recurrent weights.
    for i, j in ((0, 1), (3, 3), (7, 2)):
        Jp, Jm = net.J.copy(), net.J.copy()
        Jp[i, j] += eps
        Jm[i, j] -= eps
        plus = loss_and_grads(RateNetwork(Jp, net.W_in, net.b, net.W_out), u, target, 0.1, 3,
                              l2, all_w)[0]
        minus = loss_and_grads(RateNetwork(Jm, net.W_in, net.b, net.W_out), u, target, 0.1, 3,
                               l2, all_w)[0]
        assert abs((plus - minus) / (2 * eps) - grads["J"][i, j]) < 1e-7


def test_loss_invariant_under_transformation():
    net = _small_net(4)
    u, target, _ = generate_trials(SMALL, np.random.default_rng(5))
    h = np.random.default_rng(6).normal(0, 0.5, net.n)
    rmse0 = loss_and_grads(net, u, target, 0.1, 3)[1]
    rmse1 = loss_and_grads(transform_network(net, h), u, target, 0.1, 3)[1]
    assert abs(rmse1 - rmse0) < 1e-12 * rmse0


def test_training_invariant_conserved_without_penalty_and_decays_with_it():
    net = _small_net(7, n=12)
    lr, steps = 1e-3, 200
    base = dict(n_iterations=steps, learning_rate=lr, clip_norm=1e9, substeps=3, log_every=steps,
                optimizer="sgd", lr_final_factor=1.0)  # gradient flow: Q is conserved
    q0 = balance_quantity(net)
    plain, _ = train(net, SMALL, TrainConfig(arm="plain", **base), np.random.default_rng(8))
    moved = np.linalg.norm(plain.J - net.J) + np.linalg.norm(plain.W_out - net.W_out)
    dq_plain = np.linalg.norm(balance_quantity(plain) - q0)
    assert moved > 1e-2  # the weights did change ...
    assert dq_plain < 1e-3 * np.linalg.norm(q0)  # ... but Q is conserved up to O(lr^2 steps)
    lam = 1.0
    l2, _ = train(net, SMALL, TrainConfig(arm="l2", l2_lambda=lam, l2_all_weights=True, **base),
                  np.random.default_rng(8))
    expected = q0 * np.exp(-4 * lam * lr * steps)
    q1 = balance_quantity(l2)
    assert np.linalg.norm(q1 - expected) < 0.02 * np.linalg.norm(q0)
    assert np.linalg.norm(q1) < 0.5 * np.linalg.norm(q0)


def test_balancing_arm_preserves_function_and_reduces_imbalance():
    net = _small_net(9, n=12)
    cfg = TrainConfig(arm="balance", balance_rate=5.0, n_iterations=100, learning_rate=1e-2,
                      substeps=3, log_every=10)
    _, hist = train(net, SMALL, cfg, np.random.default_rng(10))
    assert hist["imbalance_norm"][-1] < 0.1 * hist["imbalance_norm"][0]
    plain_cfg = TrainConfig(arm="plain", n_iterations=100, learning_rate=1e-2, substeps=3,
                            log_every=10)
    _, plain_hist = train(net, SMALL, plain_cfg, np.random.default_rng(10))
    # Same batches, the balancing step only moves along the function-preserving manifold:
    # the task loss stays close to the plain arm's.
    np.testing.assert_allclose(hist["loss"], plain_hist["loss"], rtol=0.05)


def test_robustness_balanced_network_same_noiseless_output_and_less_noise_sensitive():
    rng = np.random.default_rng(11)
    net = _small_net(12, n=30)
    u, target, _ = generate_trials(IntegrationTask(n_timesteps=10), rng, n_sets=4)
    gains = mean_gains(net, u, 0.1, 5)
    res = balance_costs(robustness_cost(net.J, gains, gain_floor=1e-3), 2.0, "newton",
                        SolverOptions(tol=1e-10))
    balanced = transform_network(net, res.h)
    _, y0 = forward(net, u, 0.1, 5)
    _, y1 = forward(balanced, u, 0.1, 5)
    assert np.max(np.abs(y1 - y0)) < 1e-10 * max(1.0, np.max(np.abs(y0)))
    sig = np.array([0.0, 0.3])
    a = noise_robustness(net, u, target, sig, seed=1, dt=0.1, substeps=5)
    b = noise_robustness(balanced, u, target, sig, seed=1, dt=0.1, substeps=5)
    np.testing.assert_allclose(a["mse_trial"][0], b["mse_trial"][0], rtol=1e-10)
    assert res.cost_after < res.cost_before


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_lowers_the_loss(optimizer):
    """Held-out error falls well below the initial network's: the optimiser really trains."""
    task = IntegrationTask(n_timesteps=6)
    net = init_network(16, np.random.default_rng(0))
    u, target, _ = generate_trials(task, np.random.default_rng(1), 4)
    cfg = TrainConfig(arm="plain", n_iterations=300, optimizer=optimizer,
                      learning_rate=0.02 if optimizer == "adam" else 0.05, substeps=3,
                      dt=1 / 3, log_every=50)
    trained, hist = train(net, task, cfg, np.random.default_rng(2), (u, target))
    assert hist["val_loss"][-1] < 0.3 * hist["val_loss"][0]
    assert heldout_r2(trained, u, target, 1 / 3, 3) > 0.9 > heldout_r2(net, u, target, 1 / 3, 3)


def test_imbalance_null_permutes_rows():
    """Null ||g||: incoming costs paired at random with outgoing ones (docs/models/balancing.md, 7.2)."""
    c = np.diag([1.0, 2.0, 3.0]) + 0.0
    c[0, 1] = 5.0
    null = imbalance_null(c, 2000, np.random.default_rng(0))
    rows, cols = c.sum(axis=1), c.sum(axis=0)
    import itertools

    expected = sorted({round(float(np.linalg.norm(rows[list(p)] - cols)), 12)
                       for p in itertools.permutations(range(3))})
    assert sorted({round(float(v), 12) for v in null}) == expected


def test_training_batches_hold_batch_sets_fresh_sets_of_all_conditions():
    """One iteration with ``batch_sets = 3`` steps on the gradient of 3 x 8 fresh trials.

    Reproduced by hand from the same random stream; a trainer that ignored ``batch_sets`` (one set
    of 8 trials) would step elsewhere.
    """
    net = _small_net(3)
    cfg = TrainConfig(arm="plain", n_iterations=1, batch_sets=3, optimizer="sgd",
                      learning_rate=0.05, lr_final_factor=1.0, clip_norm=1e9, substeps=3,
                      dt=1 / 3)
    trained, _ = train(net, SMALL, cfg, np.random.default_rng(11))
    u, target, _ = generate_trials(SMALL, np.random.default_rng(11), 3)
    assert u.shape[0] == 24
    _, _, grads = loss_and_grads(net, u, target, 1 / 3, 3)
    for name in ("J", "W_in", "b", "W_out"):
        np.testing.assert_allclose(getattr(trained, name),
                                   getattr(net, name) - 0.05 * grads[name], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="batch_sets"):
        TrainConfig(batch_sets=0)
