"""Membrane equations of the engine against closed forms (docs/models/assemblies.md, 1.1, 1.2)."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import quiet_sim, spikes_of, step


def test_lif_passive_relaxation_matches_euler_and_exponential():
    sim = quiet_sim()
    n_exc = sim.params.connectivity.n_exc
    cell = n_exc + 3
    sim.neurons.v_mv[cell] = -55.0
    p = sim.params.inh
    dt = sim.params.dt_ms
    trace = []
    for _ in range(300):
        step(sim)
        trace.append(sim.neurons.v_mv[cell])
    n = np.arange(1, 301)
    euler = p.e_leak_mv + (-55.0 - p.e_leak_mv) * (1 - dt / p.tau_m_ms) ** n
    exact = p.e_leak_mv + (-55.0 - p.e_leak_mv) * np.exp(-n * dt / p.tau_m_ms)
    np.testing.assert_allclose(trace, euler, rtol=0, atol=1e-11)
    # forward Euler error at dt = 0.1 ms against the analytic solution: O(dt/tau) of the excursion
    assert np.max(np.abs(np.array(trace) - exact)) < 7.0 * 0.5 * dt / p.tau_m_ms


def test_lif_with_constant_conductance_relaxes_to_conductance_weighted_rest():
    # a decay time of 1e9 ms makes the E conductance constant to 1e-6 over the test
    tau_d = 1e9
    sim = quiet_sim(synapses={"tau_decay_exc_ms": tau_d})
    n_exc = sim.params.connectivity.n_exc
    cell = n_exc + 1
    g_ns = 2.0
    sim.neurons.xd_exc[cell] = g_ns * (tau_d - sim.params.synapses.tau_rise_exc_ms)
    sim.neurons.v_mv[cell] = -62.0
    p, s, dt = sim.params.inh, sim.params.synapses, sim.params.dt_ms
    rate = 1 / p.tau_m_ms + g_ns / p.c_pf
    v_inf = (p.e_leak_mv / p.tau_m_ms + g_ns * s.e_rev_exc_mv / p.c_pf) / rate
    trace = []
    for _ in range(2000):
        step(sim)
        trace.append(sim.neurons.v_mv[cell])
    n = np.arange(1, 2001)
    euler = v_inf + (-62.0 - v_inf) * (1 - dt * rate) ** n
    exact = v_inf + (-62.0 - v_inf) * np.exp(-n * dt * rate)
    np.testing.assert_allclose(trace, euler, atol=1e-4)
    assert abs(trace[-1] - v_inf) < 1e-3  # 200 ms = 11 effective time constants
    assert np.max(np.abs(np.array(trace) - exact)) < 0.05
    assert v_inf == pytest.approx(-54.706, abs=1e-3)


def test_adex_spike_reset_refractory_threshold_and_adaptation():
    sim = quiet_sim()
    e, dt = sim.params.exc, sim.params.dt_ms
    cell = 5
    w_before = sim.neurons.w_adapt_pa[cell]
    sim.neurons.v_mv[cell] = 25.0  # above V_peak: the next Euler step must register a spike
    rec = step(sim)
    steps, cells = spikes_of(rec)
    assert list(cells) == [cell] and list(steps) == [0]
    assert sim.neurons.v_mv[cell] == e.v_reset_mv
    assert sim.neurons.vth_mv[cell] == e.v_thresh_rest_mv + e.v_thresh_jump_mv
    # w advanced once with the old V (25 mV), then jumped by b
    w_expected = w_before + dt * (e.a_adapt_ns * (25.0 - e.e_leak_mv) - w_before) / e.tau_adapt_ms
    assert sim.neurons.w_adapt_pa[cell] == pytest.approx(w_expected + e.b_adapt_pa, rel=1e-12)
    assert sim.neurons.x_trace[cell] == pytest.approx(1.0 / sim.params.vstdp.tau_x_ms)
    assert sim.neurons.y_trace[cell] == pytest.approx(1.0)
    w_after_spike = sim.neurons.w_adapt_pa[cell]
    ref_steps = round(e.t_ref_ms / dt)
    held, vth, wad = [], [], []
    for _ in range(ref_steps + 1):
        step(sim)
        held.append(sim.neurons.v_mv[cell])
        vth.append(sim.neurons.vth_mv[cell])
        wad.append(sim.neurons.w_adapt_pa[cell])
    # clamped at V_r for exactly t_ref, integrated again afterwards
    assert all(v == e.v_reset_mv for v in held[:ref_steps])
    assert held[ref_steps] != e.v_reset_mv
    n = np.arange(1, ref_steps + 2)
    np.testing.assert_allclose(
        vth, e.v_thresh_rest_mv + e.v_thresh_jump_mv * (1 - dt / e.tau_thresh_ms) ** n, rtol=1e-12
    )
    w_inf = e.a_adapt_ns * (e.v_reset_mv - e.e_leak_mv)
    np.testing.assert_allclose(
        wad, w_inf + (w_after_spike - w_inf) * (1 - dt / e.tau_adapt_ms) ** n, rtol=1e-12
    )


def test_adex_rheobase_behaviour_spikes_only_above_threshold_drive():
    """A constant conductance that holds V below the AdEx saddle gives no spike; a larger one fires."""
    tau_d = 1e9
    for g_ns, should_fire in ((1.0, False), (12.0, True)):
        sim = quiet_sim(synapses={"tau_decay_exc_ms": tau_d})
        sim.neurons.xd_exc[7] = g_ns * (tau_d - sim.params.synapses.tau_rise_exc_ms)
        rec = step(sim, 2000)
        fired = 7 in spikes_of(rec)[1]
        assert fired == should_fire


def test_inhibitory_cell_spikes_at_fixed_threshold_and_resets():
    sim = quiet_sim()
    n_exc = sim.params.connectivity.n_exc
    cell = n_exc + 2
    sim.neurons.v_mv[cell] = -40.0
    rec = step(sim)
    assert list(spikes_of(rec)[1]) == [cell]
    assert sim.neurons.v_mv[cell] == sim.params.inh.v_reset_mv
    assert sim.neurons.ref_left[cell] == round(sim.params.inh.t_ref_ms / sim.params.dt_ms)


def test_inlined_exp_is_accurate_to_a_few_ulp_and_keeps_nan():
    """The E update's exp (kernels.fastexp) against an 80-bit reference: within 2.5e-16 relative
    over the AdEx term's range and the whole clamped range (libm itself: 1.3e-16 here)."""
    from homeoplastic.assemblies.kernels.testing import fast_exp

    rng = np.random.default_rng(3)
    for lo, hi in ((-30.0, 45.0), (-708.0, 709.0), (-0.4, 0.4)):
        x = np.concatenate([rng.uniform(lo, hi, 200_000), np.arange(np.ceil(lo), np.floor(hi))])
        out = np.empty_like(x)
        fast_exp(x, out)
        exact = np.exp(x.astype(np.longdouble))
        assert float(np.max(np.abs(out - exact) / exact)) < 2.5e-16
    edge = np.array([0.0, 1.0, np.nan, np.inf, -np.inf, 1e4, -1e4])
    out = np.empty_like(edge)
    fast_exp(edge, out)
    assert out[0] == 1.0
    assert out[1] == pytest.approx(np.e, rel=3e-16)
    assert np.isnan(out[2])
    # clamped to [-708, 709]: finite and positive, so a huge (V - V_T) still reads as a spike
    assert out[3] == out[5] == pytest.approx(np.exp(709.0), rel=3e-16)
    assert out[4] == out[6] == pytest.approx(np.exp(-708.0), rel=3e-16)


@pytest.mark.parametrize("cell_kind", ["exc", "inh"])
def test_a_nan_membrane_potential_stops_the_run_as_nonfinite(cell_kind):
    """The branch-free cell loops still catch a NaN V (and only in a cell that is not refractory)."""
    sim = quiet_sim()
    cell = 3 if cell_kind == "exc" else sim.params.connectivity.n_exc + 2
    assert step(sim, 2).status == "completed"
    sim.neurons.ref_left[cell] = 2
    sim.neurons.v_mv[cell] = np.nan
    assert step(sim, 2).status == "completed"  # refractory: V is not integrated, not checked
    sim.neurons.v_mv[cell] = np.nan
    rec = step(sim, 3)
    assert rec.status == "nonfinite"
    assert rec.abort_reason["checker"] == "nonfinite_state"
    assert rec.steps_done == 1
