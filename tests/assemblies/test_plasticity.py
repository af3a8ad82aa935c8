"""Plasticity kernels against hand computation (docs/models/assemblies.md, 3, 4, 5)."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams

from .helpers import quiet_sim, spikes_of, step


def _synapse(pathway, pre: int, post: int) -> int:
    hits = np.nonzero((pathway.pre_idx == pre) & (pathway.post_idx == post))[0]
    assert hits.size == 1
    return int(hits[0])


def _some_synapse(pathway):
    return int(pathway.pre_idx[0]), int(pathway.post_idx[0]), 0


def test_voltage_ltd_at_a_presynaptic_spike_equals_hand_computation():
    sim = quiet_sim()
    ee = sim.pathways["e_to_e"]
    pre, post, syn = _some_synapse(ee)
    v = sim.params.vstdp
    dt = sim.params.dt_ms
    # post depolarised: u moves towards the old V before it is used (docs/models/assemblies.md, 3.1, step 4.4)
    sim.neurons.v_mv[post] = -58.0
    sim.neurons.u_mv[post] = -61.0
    sim.neurons.v_mv[pre] = 25.0  # forces a spike of pre in the next step
    w0 = 5.0
    ee.weight_pf[syn] = w0
    step(sim)
    u_new = -61.0 + dt * (-58.0 - -61.0) / v.tau_u_ms
    expected = w0 - v.a_ltd_pf_per_mv * (u_new - v.theta_ltd_mv)
    assert ee.weight_pf[syn] == pytest.approx(expected, rel=1e-12)
    assert ee.weight_pf[syn] < w0


def test_voltage_ltd_is_zero_below_theta_and_clipped_at_the_minimum():
    sim = quiet_sim()
    ee = sim.pathways["e_to_e"]
    pre, post, syn = _some_synapse(ee)
    c = sim.params.connectivity
    sim.neurons.v_mv[post] = -75.0
    sim.neurons.u_mv[post] = -75.0  # below theta_LTD = -70 mV
    sim.neurons.v_mv[pre] = 25.0
    before = ee.weight_pf[syn]
    step(sim)
    assert ee.weight_pf[syn] == before
    # strongly depolarised post, weight just above the bound: clipped at J_min
    sim2 = quiet_sim()
    ee2 = sim2.pathways["e_to_e"]
    sim2.neurons.v_mv[post] = 0.0
    sim2.neurons.u_mv[post] = 0.0
    sim2.neurons.v_mv[pre] = 25.0
    ee2.weight_pf[syn] = c.j_e_to_e_min_pf + 1e-3
    step(sim2)
    assert ee2.weight_pf[syn] == c.j_e_to_e_min_pf


def test_voltage_ltp_equals_hand_computation_with_fresh_v_and_traces():
    sim = quiet_sim()
    ee = sim.pathways["e_to_e"]
    pre, post, syn = _some_synapse(ee)
    v, dt = sim.params.vstdp, sim.params.dt_ms
    sim.neurons.v_mv[post] = -45.0
    sim.neurons.vbar_mv[post] = -50.0
    sim.neurons.x_trace[pre] = 0.2
    w0 = ee.weight_pf[syn]
    step(sim)
    v_new = sim.neurons.v_mv[post]  # the freshly integrated V of this step
    assert v_new > v.theta_ltp_mv  # no spike, above theta_LTP
    vbar_new = -50.0 + dt * (-45.0 - -50.0) / v.tau_v_ms
    x_new = 0.2 * (1 - dt / v.tau_x_ms)
    expected = w0 + dt * v.a_ltp_pf_per_mv2 * x_new * (v_new - v.theta_ltp_mv) * (
        vbar_new - v.theta_ltd_mv
    )
    assert ee.weight_pf[syn] == pytest.approx(expected, rel=1e-12)
    # every other synapse onto post with a silent presynaptic trace is unchanged
    others = np.nonzero((ee.post_idx == post) & (ee.pre_idx != pre))[0]
    assert np.all(ee.weight_pf[others] == w0)


def test_voltage_ltp_clipped_at_the_maximum_and_absent_when_frozen():
    sim = quiet_sim()
    ee = sim.pathways["e_to_e"]
    pre, post, syn = _some_synapse(ee)
    jmax = sim.params.connectivity.j_e_to_e_max_pf
    sim.neurons.v_mv[post] = -45.0
    sim.neurons.vbar_mv[post] = -30.0
    sim.neurons.x_trace[pre] = 50.0
    ee.weight_pf[syn] = jmax - 1e-3
    step(sim)
    assert ee.weight_pf[syn] == jmax
    frozen = quiet_sim(plasticity={"ee_rule": "none"})
    ee_f = frozen.pathways["e_to_e"]
    frozen.neurons.v_mv[post] = -45.0
    frozen.neurons.vbar_mv[post] = -30.0
    frozen.neurons.x_trace[pre] = 50.0
    before = ee_f.weight_pf.copy()
    step(frozen)
    np.testing.assert_array_equal(ee_f.weight_pf, before)


def test_plasticity_waits_for_its_start_time():
    sim = quiet_sim(plasticity={"start_s": 0.001})  # 10 steps
    ee = sim.pathways["e_to_e"]
    pre, post, syn = _some_synapse(ee)
    sim.neurons.v_mv[post] = -45.0
    sim.neurons.vbar_mv[post] = -30.0
    sim.neurons.x_trace[pre] = 1.0
    w0 = ee.weight_pf[syn]
    step(sim)
    assert ee.weight_pf[syn] == w0


def test_istdp_on_postsynaptic_e_spike_adds_eta_times_presynaptic_trace():
    sim = quiet_sim()
    ie = sim.pathways["i_to_e"]
    n_exc = sim.params.connectivity.n_exc
    pre_i, post_e, syn = _some_synapse(ie)
    tau_y, eta = sim.params.istdp.tau_y_ms, sim.params.istdp.eta_pf
    dt = sim.params.dt_ms
    sim.neurons.y_trace[n_exc + pre_i] = 0.5
    sim.neurons.v_mv[post_e] = 25.0  # E spike
    w0 = ie.weight_pf[syn]
    step(sim)
    assert ie.weight_pf[syn] == pytest.approx(w0 + eta * 0.5 * (1 - dt / tau_y), rel=1e-12)


def test_istdp_on_presynaptic_i_spike_moves_by_trace_minus_alpha_within_bounds():
    sim = quiet_sim()
    ie = sim.pathways["i_to_e"]
    n_exc = sim.params.connectivity.n_exc
    c = sim.params.connectivity
    pre_i, post_e, syn = _some_synapse(ie)
    tau_y, eta, r0 = (sim.params.istdp.tau_y_ms, sim.params.istdp.eta_pf,
                      sim.params.istdp.target_rate_hz)
    dt = sim.params.dt_ms
    alpha = 2 * r0 * 1e-3 * tau_y
    assert alpha == pytest.approx(0.12)
    sim.neurons.y_trace[post_e] = 0.3
    ie.weight_pf[syn] = 100.0
    sim.neurons.v_mv[n_exc + pre_i] = -40.0  # I spike
    step(sim)
    assert ie.weight_pf[syn] == pytest.approx(100.0 + eta * (0.3 * (1 - dt / tau_y) - alpha), rel=1e-12)
    # a silent post depresses, but never below the minimum (= the initial weight)
    sim2 = quiet_sim()
    ie2 = sim2.pathways["i_to_e"]
    sim2.neurons.v_mv[n_exc + pre_i] = -40.0
    step(sim2)
    assert ie2.weight_pf[syn] == c.j_i_to_e_min_pf
    # potentiation is capped at the maximum
    sim3 = quiet_sim()
    ie3 = sim3.pathways["i_to_e"]
    ie3.weight_pf[syn] = c.j_i_to_e_max_pf - 0.01
    sim3.neurons.y_trace[post_e] = 5.0
    sim3.neurons.v_mv[n_exc + pre_i] = -40.0
    step(sim3)
    assert ie3.weight_pf[syn] == c.j_i_to_e_max_pf


def test_istdp_target_rates_per_cell_set_alpha():
    sim = quiet_sim()
    sim.set_istdp_target_rates(np.linspace(1.0, 5.0, sim.params.connectivity.n_exc))
    assert sim.neurons.istdp_alpha[0] == pytest.approx(2 * 1.0e-3 * 20.0)
    assert sim.neurons.istdp_alpha[-1] == pytest.approx(2 * 5.0e-3 * 20.0)
    with pytest.raises(ValueError, match="istdp target"):
        sim.set_istdp_target_rates(-1.0)


NORMALISING = {"normalisation": True}


def test_normalisation_restores_every_row_sum_by_an_equal_shift():
    sim = quiet_sim(plasticity=NORMALISING)
    ee = sim.pathways["e_to_e"]
    c = sim.params.connectivity
    rng = np.random.default_rng(0)
    # per-row offsets and per-synapse jitter small enough that no weight hits a bound
    row_offset = rng.uniform(-0.3, 0.3, c.n_exc)[ee.post_idx]
    before = c.j_e_to_e_pf + row_offset + rng.uniform(-0.3, 0.3, ee.weight_pf.size)
    ee.weight_pf[:] = before
    target = sim.neurons.ee_row_target_pf.copy()
    step(sim)  # step 0 is a normalisation step
    after = ee.weight_pf
    for i in range(c.n_exc):
        rows = slice(ee.post_ptr[i], ee.post_ptr[i + 1])
        if ee.post_ptr[i + 1] == ee.post_ptr[i]:
            continue
        shift = before[rows] - after[rows]
        expected_shift = (before[rows].sum() - target[i]) / shift.size
        np.testing.assert_allclose(shift, expected_shift, atol=1e-12)
        assert after[rows].sum() == pytest.approx(target[i], rel=1e-12)


def test_normalisation_clips_and_carries_the_residual():
    sim = quiet_sim(plasticity=NORMALISING)
    ee = sim.pathways["e_to_e"]
    c = sim.params.connectivity
    post = int(np.argmax(np.diff(ee.post_ptr)))
    rows = slice(ee.post_ptr[post], ee.post_ptr[post + 1])
    n_in = ee.post_ptr[post + 1] - ee.post_ptr[post]
    w = np.full(n_in, c.j_e_to_e_min_pf)
    w[0] = c.j_e_to_e_max_pf  # one maximal synapse, the rest at the floor: the shift pushes them below J_min
    ee.weight_pf[rows] = w
    target = sim.neurons.ee_row_target_pf[post]
    step(sim)
    shift = (w.sum() - target) / n_in
    expected = np.clip(w - shift, c.j_e_to_e_min_pf, c.j_e_to_e_max_pf)
    np.testing.assert_allclose(ee.weight_pf[rows], expected, rtol=1e-12)
    # the floor leaves a residual that the next normalisation (20 ms later) reduces further
    residual = ee.weight_pf[rows].sum() - target
    assert residual > 0
    step(sim, 200)
    assert abs(ee.weight_pf[rows].sum() - target) < residual


def test_normalisation_runs_every_interval_only():
    sim = quiet_sim(plasticity={**NORMALISING, "normalisation_interval_ms": 1.0})  # every 10 steps
    ee = sim.pathways["e_to_e"]
    step(sim)  # step 0 normalises (nothing to do)
    ee.weight_pf[:] += 0.5
    step(sim, 9)  # steps 1..9: no normalisation
    assert np.allclose(ee.weight_pf, sim.params.connectivity.j_e_to_e_pf + 0.5)
    step(sim)  # step 10
    assert np.allclose(ee.weight_pf, sim.params.connectivity.j_e_to_e_pf)


def test_fused_flush_and_normalisation_equal_the_two_passes_bit_for_bit():
    """The engine's one-pass epoch end (deferred LTP flush + normalisation) against the flush and
    then the normalisation, on random rows with pending LTP, bounds hit and empty rows."""
    from homeoplastic.assemblies.kernels.testing import flush_and_normalise

    rng = np.random.default_rng(5)
    n, n_cols, e0 = 60, 21, 1000
    sizes = rng.integers(0, 40, n)
    sizes[[3, 17]] = 0
    post_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    pre_idx = rng.integers(0, n, post_ptr[-1]).astype(np.int32)
    weight = rng.uniform(0.5, 3.0, post_ptr[-1])
    last = rng.integers(0, n_cols, n).astype(np.int64)
    last[rng.random(n) < 0.3] = 0  # rows with nothing pending
    hist = np.cumsum(rng.uniform(0.0, 0.2, (n, n_cols)), axis=1)
    cum = hist[np.arange(n), last] + rng.uniform(0.0, 0.1, n)
    seg = (e0 + rng.integers(0, n_cols, n)).astype(np.int64)
    xi = rng.uniform(0.0, 2.0, n)
    target = np.array([rng.uniform(0.8, 2.6) * k for k in sizes])
    outs = []
    for fused in (True, False):
        w = weight.copy()
        flush_and_normalise(post_ptr, pre_idx, w, cum, hist, last, seg, xi, e0, 2.9, target,
                            0.6, fused)
        outs.append(w)
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], weight)
    assert np.any(outs[0] == 2.9) and np.any(outs[0] == 0.6)  # both bounds were hit


def test_blocked_transmission_silences_epsps_but_not_plasticity():
    """The non-recurrent control: E spikes reach neither E nor I targets, yet LTD still acts."""
    sim = quiet_sim(ee_transmission=False, ei_transmission=False)
    ee, ei = sim.pathways["e_to_e"], sim.pathways["e_to_i"]
    pre, post, syn = _some_synapse(ee)
    n_exc = sim.params.connectivity.n_exc
    sim.neurons.v_mv[post] = -58.0
    sim.neurons.u_mv[post] = -61.0
    sim.neurons.v_mv[pre] = 25.0
    w0 = ee.weight_pf[syn]
    step(sim)
    assert np.all(sim.neurons.pend_exc_pf == 0.0)  # nothing arrives next step
    assert ee.weight_pf[syn] < w0  # LTD saw the spike
    open_sim = quiet_sim()
    open_sim.neurons.v_mv[pre] = 25.0
    step(open_sim)
    targets_i = ei.post_idx[ei.pre_idx == pre]
    assert np.all(open_sim.neurons.pend_exc_pf[n_exc + targets_i] > 0)


def _driven(**vstdp) -> Simulation:
    """A 400-cell driven network, all plasticity on from t = 0."""
    return Simulation.build(NetworkParams.from_dict({
        "connectivity": {"n_neurons": 400}, "plasticity": {"start_s": 0.0},
        "guard": {"enabled": False}, "vstdp": vstdp,
    }), 11)


def test_deferred_ltp_equals_ltp_applied_every_step():
    """One 60-ms run defers LTP (applied at presynaptic spikes, every 20-ms epoch, run end);
    600 one-step runs apply it every step (each run ends with a flush). Same spikes, same
    weights to rounding, and the snapshots taken mid-run see the deferred LTP."""
    n_steps = 600
    lazy = _driven()
    rec = lazy.run(n_steps * 1e-4, record=RecordSpec(rate_bin_ms=0.1, weight_interval_s=0.0137,
                                                       chunk_s=0.0031), progress=False)
    eager = _driven()
    eager_steps, eager_cells, within = [], [], {}
    for _ in range(n_steps):
        r = step(eager)
        s, c = spikes_of(r)
        eager_steps.append(s)
        eager_cells.append(c)
        within[int(eager.clock[0])] = eager.assembly_weights()[1]
    s_lazy, c_lazy = spikes_of(rec)
    assert s_lazy.size > 100  # an active network: LTP, LTD and iSTDP all happen
    np.testing.assert_array_equal(s_lazy, np.concatenate(eager_steps))
    np.testing.assert_array_equal(c_lazy, np.concatenate(eager_cells))
    w_lazy = lazy.pathways["e_to_e"].weight_pf
    w_eager = eager.pathways["e_to_e"].weight_pf
    np.testing.assert_allclose(w_lazy, w_eager, rtol=1e-12, atol=0)
    for at, value in zip(rec.snap_steps[1:], rec.snap_w_within[1:], strict=True):
        assert value == pytest.approx(within[at], rel=1e-13)
    # LTP did change weights: without it the result is measurably different
    no_ltp = _driven(a_ltp_pf_per_mv2=0.0)
    no_ltp.run(n_steps * 1e-4, record=RecordSpec(rate_bin_ms=0.1), progress=False)
    assert np.max(np.abs(no_ltp.pathways["e_to_e"].weight_pf - w_lazy)) > 1e-6


def test_istdp_without_bounds_passes_both_bounds_but_not_zero():
    """``istdp_bounded = false`` (the paper's non-recurrent control) removes the clipping to
    [j_i_to_e_min_pf, j_i_to_e_max_pf]; only the physical floor of 0 pF stays."""
    c = quiet_sim().params.connectivity
    unbounded = {"plasticity": {"start_s": 0.0, "normalisation": False, "istdp_bounded": False}}
    sim = quiet_sim(**unbounded)
    ie, n_exc = sim.pathways["i_to_e"], sim.params.connectivity.n_exc
    pre_i, post_e, syn = _some_synapse(ie)
    ie.weight_pf[syn] = c.j_i_to_e_max_pf - 0.01
    sim.neurons.y_trace[post_e] = 5.0
    sim.neurons.v_mv[n_exc + pre_i] = -40.0
    step(sim)
    dt, tau_y = sim.params.dt_ms, sim.params.istdp.tau_y_ms
    alpha = 2 * sim.params.istdp.target_rate_hz * 1e-3 * tau_y
    expected = c.j_i_to_e_max_pf - 0.01 + sim.params.istdp.eta_pf * (5.0 * (1 - dt / tau_y) - alpha)
    assert ie.weight_pf[syn] == pytest.approx(expected, rel=1e-12) and expected > c.j_i_to_e_max_pf
    # a silent post depresses below the old minimum, down to 0 pF and no further
    sim2 = quiet_sim(**unbounded)
    ie2 = sim2.pathways["i_to_e"]
    ie2.weight_pf[syn] = 0.5 * sim2.params.istdp.eta_pf * alpha
    sim2.neurons.v_mv[n_exc + pre_i] = -40.0
    step(sim2)
    assert ie2.weight_pf[syn] == 0.0


def test_nonrecurrent_control_removes_istdp_bounds_by_default():
    from homeoplastic.assemblies.protocol import nonrecurrent_params
    from homeoplastic.assemblies.settings import Protocol

    params = quiet_sim().params
    assert params.plasticity.istdp_bounded
    assert not nonrecurrent_params(params, Protocol()).plasticity.istdp_bounded
    kept = nonrecurrent_params(params, Protocol(nonrecurrent_istdp_bounds=True))
    assert kept.plasticity.istdp_bounded


def test_settle_summary_measures_the_final_quarter_against_the_targets():
    """The control's settle check: per-cell rates over the last quarter of the bins only, E cells
    only, against each cell's own target."""
    from homeoplastic.assemblies.engine import RunRecord
    from homeoplastic.assemblies.protocol import settle_summary

    bin_steps, start = 10_000, 500  # 1-s bins at dt = 0.1 ms
    end = start + 8 * bin_steps
    final = end - 2 * bin_steps  # the last quarter of 8 bins
    steps = np.r_[np.full(2, final), np.full(4, final + 1), np.full(8, end - 1),
                  np.full(50, start + 1), np.full(30, final + 5)]
    cells = np.r_[np.zeros(2), np.ones(4), np.full(8, 2), np.full(50, 3), np.full(30, 4)]
    rec = RunRecord(start_step=start, n_steps=8 * bin_steps, dt_ms=0.1, rate_bin_steps=bin_steps,
                    n_assemblies=1, counts_exc=np.arange(8.0) * 4, counts_inh=np.zeros(8),
                    counts_groups=np.zeros((8, 2)), spike_steps=[steps.astype(np.int64)],
                    spike_cells=[cells.astype(np.int32)])
    trace, attrs = settle_summary(rec, np.array([1.0, 2.0, 3.0, 0.0]))
    assert attrs["settle_window_s"] == pytest.approx(2.0)
    assert attrs["settle_rate_exc_hz"] == pytest.approx((1 + 2 + 4 + 0) / 4)
    assert attrs["settle_target_rate_exc_hz"] == pytest.approx(1.5)
    assert attrs["settle_cell_rate_error"] == pytest.approx((1.0 / 4) / 1.5)
    np.testing.assert_allclose(trace.rate_exc_hz.values, np.arange(8.0))  # 4 cells, 1-s bins
    np.testing.assert_allclose(trace.time.values, np.arange(1, 9.0))


def test_restart_variants_change_only_the_named_mechanism():
    """Restarts continue the stored state exactly: 'as run' twice gives the same numbers, freezing
    E->E leaves the within weight where it was, and a bad duration is refused."""
    from homeoplastic.assemblies.experiments.restarts import restart_variants

    sim = quiet_sim(external={"rate_to_e_hz": 3000.0, "rate_to_i_hz": 3000.0},
                    assemblies={"n_assemblies": 2, "p_member": 0.3})
    sim.run(0.05, None, RecordSpec(spikes=False, weight_interval_s=0.0, chunk_s=0.05),
            progress=False)
    state = sim.state_dataset()
    ds = restart_variants(state, {"as run": {}, "again": {}, "frozen": {"plasticity.ee_rule": "none"}},
                          0.05)
    assert float(ds.w_within_change_pf.sel(variant="as run")) == float(
        ds.w_within_change_pf.sel(variant="again"))
    assert float(ds.w_within_change_pf.sel(variant="frozen")) == 0.0
    assert float(ds.w_within_change_pf.sel(variant="as run")) != 0.0
    assert float(ds.rate_exc_hz.sel(variant="as run")) > 0
    with pytest.raises(ValueError, match="seconds"):
        restart_variants(state, {"as run": {}}, 0.0)
