"""Brian2 reference for one E cell with plastic E->E and I->E inputs (docs/models/assemblies.md, 1-5).

An independent Brian2 model (runtime mode, numpy target, dt = 0.1 ms, method "euler") of a single E
cell -- AdEx with adaptive threshold and adaptation current, conductance synapses whose rise/decay
variables jump by J, voltage STDP (u, v-bar, x traces; LTD at presynaptic spikes, LTP every step
while V > theta_LTP and v-bar > theta_LTD; bounds), iSTDP on its I->E synapses and the 20-ms E->E
row normalisation -- is driven by exactly the presynaptic spike trains that the engine produced,
and compared with the engine's cell: membrane potential every step, spike times and final weights.

Engine set-up. N = 50 (40 E, 10 I), every ordered pair connected (p = 1, no size scaling), no
external drive, plasticity from t = 0. Post cell = E 39. E cells 0-23 and I cells 40-44 are made to
fire at pre-drawn times by setting their V above threshold before a one-step ``Simulation.run``;
every other cell stays silent (checked), but its synapses onto the post cell exist and are part of
the normalisation, so the reference contains them too. A few I spikes are forced in the very step
in which the post cell fires (it fires for sure when V > V_T + 16 mV), to exercise the iSTDP order
for coincident pre and post spikes. The spike times of all cells except the post cell are read
from the engine's record and replayed in Brian2 with ``SpikeGeneratorGroup``.

Where Brian2's update order differs from the engine's (kernels/step.py docstring) and how it is handled:

1. Conductances / delay. Brian2 integrates all equations of a step from the old values and runs
   ``on_pre`` in the "synapses" slot after that; the engine first advances x_rise/x_decay (adding
   the input from the previous step) and then uses the new values in V's Euler step. These are the
   same discrete map if Brian2's synaptic delay is 0: Brian2's x after step n equals the engine's
   x after step n + 1, and V(n + 1) reads it in both. So the engine's one-step delay
   (docs/models/assemblies.md, 2.4) is Brian2's ``delay = 0``; ``delay = dt`` would be a two-step delay
   (``test_one_step_delivery`` shows both).
2. Refractoriness. Brian2's ``refractory = 1 ms`` counts the spike step (V held 9 steps); the model
   (docs/models/assemblies.md, 1.1) and the engine integrate again only when t > t_spike + tau_ref (V held 10
   steps after the spike step). The reference uses ``refractory = tau_ref + dt``.
3. Resets. Brian2 resets after the "synapses" slot; the engine applies the spike's jumps in phase 1,
   before any spike-triggered plasticity. The post cell's resetter is moved to "after_thresholds",
   so the iSTDP update of an I spike in the post cell's spike step sees y_post including its jump
   (nothing in the "synapses" slot reads the reset V, w or V_T).
4. iSTDP order. Engine phase 2 handles E spikes before I spikes and an I cell transmits before its
   own update. The I->E pathways run as "trace" (y_pre += 1), then "post" (E-spike potentiation
   with the new y_pre), then "pre" (transmit, then w += eta (y_post - alpha)). (Brian2's default
   order, transmission before the E-spike potentiation, moves this run's weights by < 0.7 % and V
   by 0.01 mV RMS: an order-dt effect inside the tolerances.)
5. LTP. Engine phase 4 comes after transmission and LTD, with the V after reset, the v-bar advanced
   with the old V and x including this step's jumps. The reference runs LTP as a ``run_regularly``
   in the "end" slot, where all of these hold; LTD is in ``on_pre`` after the transmission.
6. Normalisation. The engine shifts rows at the start of every 200th step. The reference uses a
   20-ms ``run_regularly`` in the "start" slot and moves the summed-variable updater to "start",
   before it, so the row sum includes last step's LTD and LTP.

With these choices the two are the same discrete map and differ by floating-point rounding only
(Euler written x + dt*(-x/tau) against x*(1 - dt/tau), summation order); the observed differences
are ~1e-10 mV and ~1e-12 pF. The tolerances -- spike times within 0.5 ms, V RMS below 0.1 mV
outside +-1 ms of any spike, final weights within 2 % and every weight *change* within 2 % (+2e-3 pF)
-- leave room for a rounding-induced one-step spike shift in the exponential upswing, yet a 10 %
change of A_LTP in the reference alone fails them (``test_reference_detects_a_ltp_change``). What is
not covered: the authors' cell-by-cell interleaving of plasticity within a step (the engine
documents a two-phase order that differs at order dt, docs/models/assemblies.md, 3.1), external
Poisson drive, I cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

b2 = pytest.importorskip("brian2", reason="brian2 is needed for the reference simulation")

from homeoplastic.assemblies.engine import RecordSpec, Simulation  # noqa: E402
from homeoplastic.assemblies.params import NetworkParams  # noqa: E402

DT_MS = 0.1
N_NEURONS = 50
N_EXC = 40
POST = 39
DURATION_MS = 500.0
DRIVEN_E = np.arange(24)
DRIVEN_I = np.arange(40, 45)
RATE_E_HZ = 40.0
RATE_I_HZ = 10.0
DEAD_STEPS = 20  # >= the 10 refractory steps, so a forced spike is never swallowed
N_COINCIDENT_I = 4  # I spikes forced into post-spike steps
NETWORK_SEED = 3
DRIVE_SEED = 7

# tolerances (see the module docstring)
SPIKE_TOL_MS = 0.5
V_RMS_TOL_MV = 0.1
SPIKE_WINDOW_MS = 1.0
W_REL_TOL = 0.02
DW_ABS_TOL_PF = 2e-3


def _params(**vstdp: float) -> NetworkParams:
    return NetworkParams.from_dict({
        "connectivity": {"n_neurons": N_NEURONS, "p_connect": 1.0, "size_scaling": "none"},
        "external": {"rate_to_e_hz": 0.0, "rate_to_i_hz": 0.0},
        "plasticity": {"start_s": 0.0},
        "guard": {"enabled": False},
        "vstdp": dict(vstdp),
    })


def _spike_trains(rng: np.random.Generator, cells: np.ndarray, rate_hz: float, n_steps: int
                  ) -> dict[int, np.ndarray]:
    """Poisson trains with a dead time, as step indices."""
    mean_steps = 1000.0 / (rate_hz * DT_MS)
    trains = {}
    for c in cells:
        steps = []
        s = int(rng.exponential(mean_steps))
        while s < n_steps:
            steps.append(s)
            s += DEAD_STEPS + int(rng.exponential(mean_steps))
        trains[int(c)] = np.array(steps, dtype=np.int64)
    return trains


@dataclass
class EngineRun:
    """The engine's post cell and everything needed to replay its inputs."""

    params: NetworkParams
    n_steps: int
    v_mv: np.ndarray  # post V after every step
    xd_e_pf: np.ndarray  # post x_decay of the E conductance after every step
    spike_steps: np.ndarray  # all spikes of the run
    spike_cells: np.ndarray
    init: dict[str, float]
    pre_e: np.ndarray  # presynaptic E cells of the post cell's E->E synapses
    w0_e: np.ndarray
    w1_e: np.ndarray
    pre_i: np.ndarray  # presynaptic I cells (local index) of its I->E synapses
    w0_i: np.ndarray
    w1_i: np.ndarray
    forced: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def post_steps(self) -> np.ndarray:
        return self.spike_steps[self.spike_cells == POST]


def run_engine(params: NetworkParams, n_steps: int, trains: dict[int, np.ndarray],
               coincident_i: int = 0, e_weights: tuple[float, float] = (14.0, 21.0),
               i_weights: tuple[float, float] = (50.0, 90.0)) -> EngineRun:
    """Step the engine one dt at a time, forcing the scheduled spikes, and record the post cell."""
    sim = Simulation.build(params, NETWORK_SEED)
    rng = np.random.default_rng(DRIVE_SEED + 1)
    ee, ie = sim.pathways["e_to_e"], sim.pathways["i_to_e"]
    nrn = sim.neurons
    sl_e = slice(ee.post_ptr[POST], ee.post_ptr[POST + 1])
    sl_i = slice(ie.post_ptr[POST], ie.post_ptr[POST + 1])
    pre_e = ee.pre_idx[sl_e].astype(np.int64)  # (uint16 in the engine; Brian2 wants signed)
    pre_i = ie.pre_idx[sl_i].astype(np.int64)
    w = ee.weight_pf[sl_e].copy()
    driven = np.isin(pre_e, DRIVEN_E)
    w[driven] = rng.uniform(*e_weights, driven.sum())
    ee.weight_pf[sl_e] = w
    nrn.ee_row_target_pf[POST] = w.sum()  # normalise towards the row sum chosen here
    wi = ie.weight_pf[sl_i].copy()
    driven_i = np.isin(pre_i + N_EXC, DRIVEN_I)
    wi[driven_i] = rng.uniform(*i_weights, driven_i.sum())
    ie.weight_pf[sl_i] = wi
    due: dict[int, list[int]] = {}
    for cell, steps in trains.items():
        for s in steps:
            due.setdefault(int(s), []).append(cell)
    forced = {c: list(s) for c, s in trains.items()}
    init = {"v": nrn.v_mv[POST], "vth": nrn.vth_mv[POST], "w": nrn.w_adapt_pa[POST],
            "u": nrn.u_mv[POST], "vbar": nrn.vbar_mv[POST]}
    rec_spec = RecordSpec(spikes=True, rate_bin_ms=DT_MS, weight_interval_s=0.0, chunk_s=DT_MS * 1e-3)
    v_post = np.empty(n_steps)
    xd_post = np.empty(n_steps)
    steps_out, cells_out = [], []
    w0_e, w0_i = ee.weight_pf[sl_e].copy(), ie.weight_pf[sl_i].copy()
    n_coinc = 0
    for n in range(n_steps):
        for cell in due.get(n, ()):
            nrn.v_mv[cell] = 25.0 if cell < N_EXC else -40.0
        # the post cell will fire in this step: force an idle driven I cell into the same step
        if (n_coinc < coincident_i and nrn.ref_left[POST] == 0
                and nrn.v_mv[POST] > nrn.vth_mv[POST] + 16.0):
            idle = [c for c in DRIVEN_I if nrn.ref_left[c] == 0 and nrn.v_mv[c] < -50.0]
            if idle:
                nrn.v_mv[idle[0]] = -40.0
                forced[int(idle[0])].append(n)
                n_coinc += 1
        rec = sim.run(DT_MS * 1e-3, None, rec_spec, progress=False)
        v_post[n] = nrn.v_mv[POST]
        xd_post[n] = nrn.xd_exc[POST]
        if rec.spike_steps:
            steps_out.append(rec.spike_steps[0])
            cells_out.append(rec.spike_cells[0])
    return EngineRun(
        params=sim.params, n_steps=n_steps, v_mv=v_post, xd_e_pf=xd_post,
        spike_steps=np.concatenate(steps_out) if steps_out else np.zeros(0, np.int64),
        spike_cells=np.concatenate(cells_out) if cells_out else np.zeros(0, np.int32),
        init={k: float(v) for k, v in init.items()}, pre_e=pre_e, w0_e=w0_e,
        w1_e=ee.weight_pf[sl_e].copy(), pre_i=pre_i, w0_i=w0_i, w1_i=ie.weight_pf[sl_i].copy(),
        forced={c: np.sort(np.array(s, np.int64)) for c, s in forced.items()},
    )


@dataclass
class BrianRun:
    """The reference cell's trajectory and final weights."""

    v_mv: np.ndarray
    post_steps: np.ndarray
    w1_e: np.ndarray
    w1_i: np.ndarray
    xd_e_pf: np.ndarray


E_EQS = """
dv/dt = ((EL - v) + DeltaT*exp((v - vth)/DeltaT))/tau_m + (ge*(EE - v) + gi*(EI - v) - w_ad)/C : volt (unless refractory)
dvth/dt = (VT0 - vth)/tau_th : volt
dw_ad/dt = (a*(v - EL) - w_ad)/tau_w : amp
du/dt = (v - u)/tau_u : volt
dvbar/dt = (v - vbar)/tau_v : volt
dy/dt = -y/tau_y : 1
dxr_e/dt = -xr_e/tau_re : farad
dxd_e/dt = -xd_e/tau_de : farad
dxr_i/dt = -xr_i/tau_ri : farad
dxd_i/dt = -xd_i/tau_di : farad
ge = (xd_e - xr_e)/(tau_de - tau_re) : siemens
gi = (xd_i - xr_i)/(tau_di - tau_ri) : siemens
wsum : farad
w_target : farad
n_in : 1
"""  # noqa: E501


def _namespace(p: NetworkParams, a_ltp_scale: float) -> dict:
    from brian2 import ms, mV, nS, pA, pF

    x, s, v, c, ist = p.exc, p.synapses, p.vstdp, p.connectivity, p.istdp
    return {
        "EL": x.e_leak_mv * mV, "DeltaT": x.delta_t_mv * mV, "tau_m": x.tau_m_ms * ms,
        "C": x.c_pf * pF, "EE": s.e_rev_exc_mv * mV, "EI": s.e_rev_inh_mv * mV,
        "VT0": x.v_thresh_rest_mv * mV, "AT": x.v_thresh_jump_mv * mV,
        "tau_th": x.tau_thresh_ms * ms, "a": x.a_adapt_ns * nS, "b": x.b_adapt_pa * pA,
        "tau_w": x.tau_adapt_ms * ms, "v_peak": x.v_peak_mv * mV, "v_reset": x.v_reset_mv * mV,
        "tau_u": v.tau_u_ms * ms, "tau_v": v.tau_v_ms * ms, "tau_x": v.tau_x_ms * ms,
        "tau_y": ist.tau_y_ms * ms, "tau_re": s.tau_rise_exc_ms * ms,
        "tau_de": s.tau_decay_exc_ms * ms, "tau_ri": s.tau_rise_inh_ms * ms,
        "tau_di": s.tau_decay_inh_ms * ms,
        "A_LTD": v.a_ltd_pf_per_mv * pF / mV,
        "A_LTP": a_ltp_scale * v.a_ltp_pf_per_mv2 * pF / mV**2,
        "theta_ltd": v.theta_ltd_mv * mV, "theta_ltp": v.theta_ltp_mv * mV,
        "wmin_ee": c.j_e_to_e_min_pf * pF, "wmax_ee": c.j_e_to_e_max_pf * pF,
        "wmin_ie": c.j_i_to_e_min_pf * pF, "wmax_ie": c.j_i_to_e_max_pf * pF,
        "eta": ist.eta_pf * pF, "alpha": 2.0 * ist.target_rate_hz * 1e-3 * ist.tau_y_ms,
    }


def run_brian2(run: EngineRun, *, a_ltp_scale: float = 1.0, delay_steps: int = 0) -> BrianRun:
    """Simulate the post cell in Brian2 with the engine's presynaptic spikes replayed."""
    from brian2 import (
        Network,
        NeuronGroup,
        SpikeGeneratorGroup,
        SpikeMonitor,
        StateMonitor,
        Synapses,
        ms,
        mV,
        pA,
        pF,
    )

    p = run.params
    ns = _namespace(p, a_ltp_scale)
    old_target, old_dt = b2.prefs.codegen.target, b2.defaultclock.dt
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT_MS * ms
    try:
        post = NeuronGroup(
            1, E_EQS, threshold="v > v_peak",
            reset="v = v_reset; w_ad += b; vth = VT0 + AT; y += 1",
            refractory=(p.exc.t_ref_ms + DT_MS) * ms,  # point 2 of the module docstring
            method="euler", namespace=ns, name="post",
        )
        post.resetter["spike"].when = "after_thresholds"  # point 3
        post.v = run.init["v"] * mV
        post.vth = run.init["vth"] * mV
        post.w_ad = run.init["w"] * pA
        post.u = run.init["u"] * mV
        post.vbar = run.init["vbar"] * mV
        post.w_target = run.w0_e.sum() * pF
        post.n_in = run.w0_e.size
        steps, cells = run.spike_steps, run.spike_cells
        is_e = (cells < N_EXC) & (cells != POST)
        is_i = cells >= N_EXC
        src_e = SpikeGeneratorGroup(N_EXC, cells[is_e], steps[is_e] * DT_MS * ms, name="src_e")
        src_i = SpikeGeneratorGroup(N_NEURONS - N_EXC, cells[is_i] - N_EXC,
                                    steps[is_i] * DT_MS * ms, name="src_i")
        delay = delay_steps * DT_MS * ms
        ee = Synapses(
            src_e, post,
            model="""w : farad
                     dxpre/dt = -xpre/tau_x : 1/second (clock-driven)
                     wsum_post = w : farad (summed)""",
            on_pre="""xd_e_post += w
                      xr_e_post += w
                      xpre += 1/tau_x
                      w = clip(w - A_LTD*(u_post - theta_ltd)*int(u_post > theta_ltd), wmin_ee, wmax_ee)""",
            delay=delay, method="euler", namespace=ns, name="ee",
        )
        ee.connect(i=run.pre_e, j=0)
        ee.w = run.w0_e * pF
        # point 5: LTP after spikes, resets, transmission and LTD
        ee.run_regularly(
            "w = clip(w + dt*A_LTP*xpre*(v_post - theta_ltp)*(vbar_post - theta_ltd)"
            "*int(v_post > theta_ltp)*int(vbar_post > theta_ltd), wmin_ee, wmax_ee)",
            when="end", name="ee_ltp",
        )
        # point 6: the row sum first, then the shift, at the start of every 200th step
        ee.summed_updaters["wsum_post"].when = "start"
        ee.summed_updaters["wsum_post"].order = -1
        ee.run_regularly("w = clip(w - (wsum_post - w_target_post)/n_in_post, wmin_ee, wmax_ee)",
                         dt=p.plasticity.normalisation_interval_ms * ms, when="start", order=0,
                         name="ee_norm")
        ie = Synapses(
            src_i, post,
            model="""w : farad
                     dypre/dt = -ypre/tau_y : 1 (clock-driven)""",
            on_pre={"trace": "ypre += 1",
                    "pre": """xd_i_post += w
                              xr_i_post += w
                              w = clip(w + eta*(y_post - alpha), wmin_ie, wmax_ie)"""},
            on_post={"post": "w = clip(w + eta*ypre, 0*pF, wmax_ie)"},
            delay={"pre": delay}, method="euler", namespace=ns, name="ie",
        )
        ie.connect(i=run.pre_i, j=0)
        ie.w = run.w0_i * pF
        ie.trace.order, ie.post.order, ie.pre.order = -3, -2, -1  # point 4
        v_mon = StateMonitor(post, ["v", "xd_e"], record=0, when="end", name="v_mon")
        s_mon = SpikeMonitor(post, name="s_mon")
        net = Network(post, src_e, src_i, ee, ie, v_mon, s_mon)
        net.run(run.n_steps * DT_MS * ms)
        return BrianRun(
            v_mv=np.asarray(v_mon.v[0] / mV), xd_e_pf=np.asarray(v_mon.xd_e[0] / pF),
            post_steps=np.round(np.asarray(s_mon.t / ms) / DT_MS).astype(np.int64),
            w1_e=np.asarray(ee.w / pF), w1_i=np.asarray(ie.w / pF),
        )
    finally:
        b2.prefs.codegen.target = old_target
        b2.defaultclock.dt = old_dt


def compare(run: EngineRun, ref: BrianRun) -> dict[str, float]:
    """Agreement numbers; ``ok`` is 1.0 when every tolerance holds."""
    out: dict[str, float] = {"n_spikes_engine": run.post_steps.size, "n_spikes_brian2": ref.post_steps.size}
    same_count = run.post_steps.size == ref.post_steps.size
    dt_spk = (np.abs(run.post_steps - ref.post_steps) * DT_MS if same_count else np.array([np.inf]))
    out["max_spike_dt_ms"] = float(dt_spk.max()) if dt_spk.size else 0.0
    near = np.zeros(run.n_steps, dtype=bool)
    half = int(round(SPIKE_WINDOW_MS / DT_MS))
    for s in np.concatenate([run.post_steps, ref.post_steps]):
        near[max(0, s - half):s + half + 1] = True
    dv = run.v_mv - ref.v_mv
    out["v_rms_mv"] = float(np.sqrt(np.mean(dv[~near] ** 2)))
    out["v_max_abs_all_steps_mv"] = float(np.abs(dv).max())
    w0 = np.concatenate([run.w0_e, run.w0_i])
    w1 = np.concatenate([run.w1_e, run.w1_i])
    w1_ref = np.concatenate([ref.w1_e, ref.w1_i])
    out["w_max_rel_diff"] = float(np.max(np.abs(w1 - w1_ref) / w1_ref))
    dw, dw_ref = w1 - w0, w1_ref - w0
    excess = np.abs(dw - dw_ref) - (W_REL_TOL * np.abs(dw_ref) + DW_ABS_TOL_PF)
    out["dw_max_abs_diff_pf"] = float(np.abs(dw - dw_ref).max())
    out["dw_worst_excess_pf"] = float(excess.max())
    ok = (same_count and out["max_spike_dt_ms"] <= SPIKE_TOL_MS + 1e-9
          and out["v_rms_mv"] <= V_RMS_TOL_MV and out["w_max_rel_diff"] <= W_REL_TOL
          and out["dw_worst_excess_pf"] <= 0.0)
    out["ok"] = float(ok)
    return out


@pytest.fixture(scope="module")
def engine_run() -> EngineRun:
    n_steps = int(round(DURATION_MS / DT_MS))
    rng = np.random.default_rng(DRIVE_SEED)
    trains = _spike_trains(rng, DRIVEN_E, RATE_E_HZ, n_steps)
    trains.update(_spike_trains(rng, DRIVEN_I, RATE_I_HZ, n_steps))
    return run_engine(_params(), n_steps, trains, coincident_i=N_COINCIDENT_I)


def test_one_step_delivery() -> None:
    """A spike in step n enters x_rise/x_decay in step n + 1; Brian2 needs delay 0
    (docs/models/assemblies.md, 2.4).

    One presynaptic E spike (J = 20 pF) onto a resting cell: the engine's x_decay is 0 after step n
    and J after step n + 1; Brian2's (delay 0) already holds J after step n, because V(n + 1) reads
    the values of the end of step n. The V traces agree to 1e-9 mV; with ``delay = dt`` they do not.
    """
    n_steps, spike_step, j_pf = 300, 50, 20.0
    params = _params()
    trains = {0: np.array([spike_step])}
    run = run_engine(params, n_steps, trains, e_weights=(j_pf, j_pf))
    assert run.xd_e_pf[spike_step] == 0.0
    assert run.xd_e_pf[spike_step + 1] == pytest.approx(j_pf, rel=1e-12)
    assert set(run.spike_cells.tolist()) == {0}
    ref = run_brian2(run)
    assert ref.xd_e_pf[spike_step - 1] == 0.0
    assert ref.xd_e_pf[spike_step] == pytest.approx(j_pf, rel=1e-12)
    assert np.abs(run.v_mv - ref.v_mv).max() < 1e-9
    ref_late = run_brian2(run, delay_steps=1)
    assert np.abs(run.v_mv - ref_late.v_mv).max() > 1e-3


def test_matches_brian2_reference(engine_run: EngineRun) -> None:
    """Post V, spike times and every final weight agree with the Brian2 reference."""
    run = engine_run
    # the set-up did what it should: forced spikes where scheduled, no other cell fired
    for cell, steps in run.forced.items():
        np.testing.assert_array_equal(run.spike_steps[run.spike_cells == cell], steps)
    assert set(run.spike_cells.tolist()) == set(run.forced) | {POST}
    assert run.post_steps.size >= 15
    coincident = sum(np.intersect1d(run.spike_steps[run.spike_cells == c], run.post_steps).size
                     for c in DRIVEN_I)
    assert coincident >= 2
    assert np.max(np.abs(run.w1_i - run.w0_i)) > 1.0  # iSTDP acted
    assert np.max(np.abs(run.w1_e - run.w0_e)) > 0.2  # vSTDP acted
    ref = run_brian2(run)
    m = compare(run, ref)
    print("brian2 reference agreement:", m)
    assert m["n_spikes_engine"] == m["n_spikes_brian2"], m
    assert m["max_spike_dt_ms"] <= SPIKE_TOL_MS, m
    assert m["v_rms_mv"] <= V_RMS_TOL_MV, m
    assert m["w_max_rel_diff"] <= W_REL_TOL, m
    assert m["dw_worst_excess_pf"] <= 0.0, m


def test_reference_detects_a_ltp_change(engine_run: EngineRun) -> None:
    """The comparison can fail: a reference with A_LTP 10 % larger is out of tolerance."""
    m = compare(engine_run, run_brian2(engine_run, a_ltp_scale=1.1))
    print("brian2 reference with A_LTP x 1.1:", m)
    assert m["ok"] == 0.0, m
