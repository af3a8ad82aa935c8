"""iSTDP's fixed point under correlated inhibition (the non-recurrent control's settle)."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.assemblies.connectivity import build_pathway
from homeoplastic.assemblies.experiments.istdp_fixed_point import istdp_fixed_point

DT_MS, TAU_MS = 1.0, 10.0  # the first 5 tau = 50 steps only warm the traces
# The mean trace per Hz of a stationary train on the 1-ms grid, the step's own spike excluded
# (9.5 ms here; tau = 10 ms in continuous time).
MEAN_TRACE_PER_HZ_S = DT_MS * 1e-3 * np.exp(-DT_MS / TAU_MS) / (1 - np.exp(-DT_MS / TAU_MS))


def _spikes(*trains):
    """(step, cell) pairs of several trains, in time order."""
    steps = np.concatenate([np.asarray(t, np.int64) for t, _ in trains])
    cells = np.concatenate([np.full(len(t), c, np.int32) for t, c in trains])
    order = np.argsort(steps, kind="stable")
    return steps[order], cells[order]


def test_traces_at_the_other_cells_spikes_by_hand():
    """One I->E synapse: each E spike 2 ms after an I spike. rho and kappa are the traces at the
    other cell's spikes over r tau, written out here from their definitions."""
    i_steps, e_steps = np.arange(100, 1000, 200), np.arange(102, 1000, 200)  # 5 each in 1 s
    steps, cells = _spikes((e_steps, 0), (i_steps, 1))  # E cell 0, I cell 0 = global 1
    ie = build_pathway([0], [0], 50.0, n_pre=1, n_post=1)
    out = istdp_fixed_point(steps, cells, 1, ie, np.array([3.0]), dt_ms=DT_MS, tau_y_ms=TAU_MS,
                            start_step=0, end_step=1050)
    window_s = 1.0
    assert out["window_s"] == pytest.approx(window_s)
    x_at_e = [sum(np.exp(-(t - s) / TAU_MS) for s in i_steps if s < t) for t in e_steps]
    y_at_i = [sum(np.exp(-(t - s) / TAU_MS) for s in e_steps if s < t) for t in i_steps]
    rho = np.mean(x_at_e) / (5 / window_s * MEAN_TRACE_PER_HZ_S)
    kappa = np.mean(y_at_i) / (5 / window_s * MEAN_TRACE_PER_HZ_S)
    assert rho == pytest.approx(np.exp(-0.2) / (5 * MEAN_TRACE_PER_HZ_S), rel=1e-6)
    assert out["rho"][0] == pytest.approx(rho, rel=1e-12)
    assert out["kappa"][0] == pytest.approx(kappa, rel=1e-12)
    assert out["fixed_point_hz"][0] == pytest.approx(2 * 3.0 / (kappa + rho), rel=1e-12)


def test_spikes_before_the_window_or_in_its_warm_up_are_not_read():
    i_steps = np.array([10, 40, 100])
    e_steps = np.array([20, 45, 102])
    steps, cells = _spikes((e_steps, 0), (i_steps, 1))
    ie = build_pathway([0], [0], 50.0, n_pre=1, n_post=1)
    out = istdp_fixed_point(steps, cells, 1, ie, np.array([3.0]), dt_ms=DT_MS, tau_y_ms=TAU_MS,
                            start_step=5, end_step=1050)
    # reads from step 55 on: one E spike (102) and one I spike (100) in 0.995 s; the traces
    # still hold the earlier spikes
    assert out["window_s"] == pytest.approx(0.995)
    x = np.exp(-2 / TAU_MS) + np.exp(-62 / TAU_MS) + np.exp(-92 / TAU_MS)
    assert out["rho"][0] == pytest.approx(x / (1 / 0.995 * MEAN_TRACE_PER_HZ_S), rel=1e-12)
    y = np.exp(-55 / TAU_MS) + np.exp(-80 / TAU_MS)
    assert out["kappa"][0] == pytest.approx(y / (1 / 0.995 * MEAN_TRACE_PER_HZ_S), rel=1e-12)


def test_independent_poisson_trains_sit_at_their_targets():
    """No correlation: kappa = rho = 1 and the fixed point is the target (statistically); the
    trains share steps, so this also checks that a step's own spikes are not read."""
    rng = np.random.default_rng(4)
    n_exc, n_inh, n_steps = 20, 40, 200_000  # 200 s at 1 ms
    trains = [(np.flatnonzero(rng.random(n_steps) < 10e-3), c) for c in range(n_exc)]
    trains += [(np.flatnonzero(rng.random(n_steps) < 20e-3), n_exc + c) for c in range(n_inh)]
    steps, cells = _spikes(*trains)
    pre, post = np.meshgrid(np.arange(n_inh), np.arange(n_exc))
    ie = build_pathway(pre.ravel(), post.ravel(), 50.0, n_pre=n_inh, n_post=n_exc)
    targets = np.linspace(1.0, 5.0, n_exc)
    out = istdp_fixed_point(steps, cells, n_exc, ie, targets, dt_ms=DT_MS, tau_y_ms=TAU_MS,
                            start_step=0, end_step=n_steps)
    assert out["rho"].mean() == pytest.approx(1.0, abs=0.01)
    assert out["kappa"].mean() == pytest.approx(1.0, abs=0.01)
    np.testing.assert_allclose(out["fixed_point_hz"] / targets, 1.0, atol=0.05)
    np.testing.assert_allclose(out["rate_hz"], 10.0, rtol=0.1)


def test_inhibition_that_delays_the_next_spike_lowers_rho_and_raises_the_fixed_point():
    """E spikes deleted within 5 ms after any of its I inputs' spikes: rho < 1, kappa ~ 1."""
    rng = np.random.default_rng(5)
    n_exc, n_inh, n_steps = 10, 20, 200_000
    i_trains = [np.flatnonzero(rng.random(n_steps) < 20e-3) for _ in range(n_inh)]
    recent = np.zeros(n_steps, bool)
    for t in i_trains:
        for lag in range(1, 6):
            recent[np.minimum(t + lag, n_steps - 1)] = True
    e_trains = [np.flatnonzero((rng.random(n_steps) < 10e-3) & ~recent) for _ in range(n_exc)]
    steps, cells = _spikes(*[(t, c) for c, t in enumerate(e_trains)],
                           *[(t, n_exc + c) for c, t in enumerate(i_trains)])
    pre, post = np.meshgrid(np.arange(n_inh), np.arange(n_exc))
    ie = build_pathway(pre.ravel(), post.ravel(), 50.0, n_pre=n_inh, n_post=n_exc)
    out = istdp_fixed_point(steps, cells, n_exc, ie, np.full(n_exc, 2.0), dt_ms=DT_MS,
                            tau_y_ms=TAU_MS, start_step=0, end_step=n_steps)
    assert out["rho"].mean() < 0.9
    assert out["kappa"].mean() == pytest.approx(1.0, abs=0.02)
    assert (out["fixed_point_hz"] > 2.0).all()


def test_a_window_no_longer_than_the_warm_up_is_refused():
    ie = build_pathway([0], [0], 50.0, n_pre=1, n_post=1)
    with pytest.raises(ValueError, match="longer than 5 tau_y"):
        istdp_fixed_point(np.zeros(0, np.int64), np.zeros(0, np.int32), 1, ie, np.ones(1),
                          dt_ms=DT_MS, tau_y_ms=TAU_MS, start_step=0, end_step=50)


def test_a_cells_inputs_count_with_their_rates_and_a_silenced_input_not_at_all():
    """The cell's total inhibition stops where the rate-weighted drifts cancel, so rho averages
    its inputs' rho weighted by their rates; an input at zero weight (clipped) does not count."""
    e_steps = np.arange(102, 1000, 100)  # 9 E spikes, 2 ms after B's and C's
    a_steps = np.arange(60, 1000, 20)  # 47 spikes of input A, 8 or 18 ms before each E spike
    b_steps = np.arange(100, 1000, 100)  # 9 spikes of input B
    steps, cells = _spikes((e_steps, 0), (a_steps, 1), (b_steps, 2), (b_steps, 3))
    ie = build_pathway([0, 1, 2], [0, 0, 0], [50.0, 50.0, 0.0], n_pre=3, n_post=1)
    out = istdp_fixed_point(steps, cells, 1, ie, np.array([3.0]), dt_ms=DT_MS, tau_y_ms=TAU_MS,
                            start_step=0, end_step=1050)

    def rho_of(pre_steps):
        x = [sum(np.exp(-(t - s) / TAU_MS) for s in pre_steps if s < t) for t in e_steps]
        return np.mean(x) / (len(pre_steps) / 1.0 * MEAN_TRACE_PER_HZ_S)

    rate_a, rate_b = len(a_steps), len(b_steps)
    expected = (rate_a * rho_of(a_steps) + rate_b * rho_of(b_steps)) / (rate_a + rate_b)
    assert out["rho"][0] == pytest.approx(expected, rel=1e-12)
