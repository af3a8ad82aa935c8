"""Wall time of the Numba engine against the same network in Brian2 C++ standalone (one thread).

Both simulate the LKD 2014 network of ``docs/models/assemblies.md`` (sections 1-5) with the
engine's parameters: the *same* connectivity (the engine's synapse lists are handed to Brian2),
the same weights, bounds and (size-scaled) plasticity amplitudes, the same initial conditions, and
statistically the same Poisson drive. Brian2's Euler map matches the engine's as established in
``tests/assemblies/test_brian2_reference.py`` (delay 0 = the engine's one-step delay, refractory
tau_ref + dt, resets before the synaptic slot, I->E "post" pathway before "pre").

Brian2 side, what differs from the engine:

* External drive: ``PoissonInput`` with 1000 sources of rate/1000 per cell, a binomial count per step
  (variance 0.99955 of the engine's Poisson count), kicking x_decay in the "before_groups" slot,
  so a kick first acts on V one step later, as in the engine. The conductance is carried as
  x_decay and s = x_decay - x_rise (ds/dt = -x_d/tau_d + (x_d - s)/tau_r), so a kick of J is a jump
  of x_decay alone: the same Euler map, one variable to kick. Random streams differ, so only
  rates are comparable, not spikes.
* Voltage LTP runs on a custom event "ltp" (V > theta_LTP, V <= V_peak, v-bar > theta_LTD) of the E
  group through an ``on_post`` pathway, which runs after the ``on_pre`` pathway (transmission and
  LTD) in the "synapses" slot: the engine's phase 4, and only for cells above threshold (a
  ``run_regularly`` over all 3.2 M synapses every step would be far slower).
* Normalisation: a 20-ms ``run_regularly`` on the E->E synapses in the "start" slot, after the
  summed-variable updater (row sums), whose clock is set to the same 20-ms clock (otherwise it
  would sum 3.2 M weights every step). Nothing of the model is left out.
* The run guard and recording of the engine have no Brian2 counterpart; Brian2 counts spikes
  (``SpikeMonitor(record=False)``). The engine's time includes its normal recording (binned rates
  and a start and an end weight snapshot, ~0.17 s per run at N = 5000); its guard is off.

Timing: Brian2's ``device._last_run_time`` (the network run inside the binary, without loading the
synapse arrays) and, separately, code generation plus compilation (``make -j1``). Engine:
``Simulation.run`` wall time after a warm-up run on a small network (Numba compilation). Both are
wall-clock times on a possibly shared machine; the 1-min load average before each timed part is
printed with them. Prints one JSON line. Usage::

    python benchmarks/compare_brian2.py                     # N = 5000, 2 s, plastic
    python benchmarks/compare_brian2.py --static
    python benchmarks/compare_brian2.py --n-neurons 1000    # quick mode
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.kernels import KernelConstants
from homeoplastic.assemblies.params import NetworkParams

DT_MS = 0.1
POISSON_SOURCES = 1000


def network_params(n_neurons: int, plastic: bool) -> NetworkParams:
    """The paper's network at size ``n_neurons``; plasticity on from t = 0, or fully static."""
    plasticity: dict[str, Any] = {"start_s": 0.0}
    if not plastic:
        plasticity.update(ee_rule="none", istdp=False, normalisation=False)
    return NetworkParams.from_dict({
        "connectivity": {"n_neurons": n_neurons},
        "plasticity": plasticity,
        "guard": {"enabled": False},
    })


def run_engine(params: NetworkParams, seed: int, sim_seconds: float) -> dict[str, Any]:
    """Warm up Numba on a small network, then time ``Simulation.run`` on a fresh network."""
    small = params.replace(**{"connectivity.n_neurons": 100})
    Simulation.build(small, seed).run(0.01, None, RecordSpec(spikes=False), progress=False)
    sim = Simulation.build(params, seed)
    load = os.getloadavg()[0]
    rec_spec = RecordSpec(spikes=False, rate_bin_ms=10.0, weight_interval_s=0.0, chunk_s=1.0)
    t0 = time.perf_counter()
    rec = sim.run(sim_seconds, None, rec_spec, progress=False)
    wall = time.perf_counter() - t0
    c = params.connectivity
    return {
        "wall_s": wall,
        "rate_e_hz": float(rec.counts_exc.sum()) / (c.n_exc * sim_seconds),
        "rate_i_hz": float(rec.counts_inh.sum()) / (c.n_inh * sim_seconds),
        "status": rec.status,
        "load_avg": load,
    }


E_EQS = """
dv/dt = ((EL - v) + DeltaT*exp((v - vth)/DeltaT))/tau_m + (ge*(EE - v) + gi*(EI - v) - w_ad)/C : volt (unless refractory)
dvth/dt = (VT0 - vth)/tau_th : volt
dw_ad/dt = (a*(v - EL) - w_ad)/tau_w : amp
dxd_e/dt = -xd_e/tau_de : farad
ds_e/dt = -xd_e/tau_de + (xd_e - s_e)/tau_re : farad
dxd_i/dt = -xd_i/tau_di : farad
ds_i/dt = -xd_i/tau_di + (xd_i - s_i)/tau_ri : farad
ge = s_e/(tau_de - tau_re) : siemens
gi = s_i/(tau_di - tau_ri) : siemens
"""  # noqa: E501
E_PLASTIC_EQS = """
du/dt = (v - u)/tau_u : volt
dvbar/dt = (v - vbar)/tau_v : volt
dx/dt = -x/tau_x : 1/second
dy/dt = -y/tau_y : 1
wsum : farad
w_target : farad
n_in : 1
"""
I_EQS = """
dv/dt = (ELI - v)/tau_mi + (ge*(EE - v) + gi*(EI - v))/CI : volt (unless refractory)
dxd_e/dt = -xd_e/tau_de : farad
ds_e/dt = -xd_e/tau_de + (xd_e - s_e)/tau_re : farad
dxd_i/dt = -xd_i/tau_di : farad
ds_i/dt = -xd_i/tau_di + (xd_i - s_i)/tau_ri : farad
ge = s_e/(tau_de - tau_re) : siemens
gi = s_i/(tau_di - tau_ri) : siemens
dy/dt = -y/tau_y : 1
"""


def brian2_namespace(p: NetworkParams, k: KernelConstants) -> dict[str, Any]:
    """Model constants in Brian2 units; plastic amplitudes and bounds as the engine uses them."""
    from brian2 import Hz, ms, mV, nS, pA, pF

    e, i, s, v = p.exc, p.inh, p.synapses, p.vstdp
    return {
        "EL": e.e_leak_mv * mV, "DeltaT": e.delta_t_mv * mV, "tau_m": e.tau_m_ms * ms,
        "C": e.c_pf * pF, "VT0": e.v_thresh_rest_mv * mV, "AT": e.v_thresh_jump_mv * mV,
        "tau_th": e.tau_thresh_ms * ms, "a": e.a_adapt_ns * nS, "b": e.b_adapt_pa * pA,
        "tau_w": e.tau_adapt_ms * ms, "v_peak": e.v_peak_mv * mV, "v_reset": e.v_reset_mv * mV,
        "ELI": i.e_leak_mv * mV, "tau_mi": i.tau_m_ms * ms, "CI": i.c_pf * pF,
        "vth_i": i.v_thresh_mv * mV, "v_reset_i": i.v_reset_mv * mV,
        "EE": s.e_rev_exc_mv * mV, "EI": s.e_rev_inh_mv * mV,
        "tau_re": s.tau_rise_exc_ms * ms, "tau_de": s.tau_decay_exc_ms * ms,
        "tau_ri": s.tau_rise_inh_ms * ms, "tau_di": s.tau_decay_inh_ms * ms,
        "tau_u": v.tau_u_ms * ms, "tau_v": v.tau_v_ms * ms, "tau_x": v.tau_x_ms * ms,
        "tau_y": p.istdp.tau_y_ms * ms,
        "A_LTD": k.a_ltd * pF / mV, "A_LTP": k.a_ltp * pF / mV**2,
        "theta_ltd": v.theta_ltd_mv * mV, "theta_ltp": v.theta_ltp_mv * mV,
        "wmin_ee": k.j_ee_min_pf * pF, "wmax_ee": k.j_ee_max_pf * pF,
        "wmin_ie": k.j_ie_min_pf * pF, "wmax_ie": k.j_ie_max_pf * pF,
        "eta": k.eta_istdp_pf * pF,
        "alpha": 2.0 * p.istdp.target_rate_hz * 1e-3 * p.istdp.tau_y_ms,
        "rate_src_e": p.external.rate_to_e_hz / POISSON_SOURCES * Hz,
        "rate_src_i": p.external.rate_to_i_hz / POISSON_SOURCES * Hz,
    }


def run_brian2(sim: Simulation, sim_seconds: float, plastic: bool, seed: int, directory: str,
               standalone: bool = True) -> dict[str, float]:
    """Build, compile and run the network in C++ standalone mode; return timings and rates.

    ``standalone=False`` runs the same model in runtime mode (numpy target), for debugging only.
    """
    import brian2 as b2
    from brian2 import Clock, Network, NeuronGroup, PoissonInput, SpikeMonitor, Synapses, ms, mV, pA, pF

    if standalone:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
    else:
        b2.prefs.codegen.target = "numpy"
    b2.prefs.devices.cpp_standalone.openmp_threads = 0  # no OpenMP: one thread
    b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j1"]
    b2.defaultclock.dt = DT_MS * ms
    b2.seed(seed)
    p = sim.params
    k = sim.constants(run_start_step=0)
    ns = brian2_namespace(p, k)
    c = p.connectivity
    nrn = sim.neurons
    n_exc, n_inh = c.n_exc, c.n_inh
    refractory_e = (p.exc.t_ref_ms + DT_MS) * ms  # t > t_spike + tau_ref (docs/models/assemblies.md, 1.1)
    refractory_i = (p.inh.t_ref_ms + DT_MS) * ms
    e_reset = "v = v_reset; w_ad += b; vth = VT0 + AT"
    if plastic:
        e_reset += "; x += 1/tau_x; y += 1"
    exc = NeuronGroup(
        n_exc, E_EQS + (E_PLASTIC_EQS if plastic else ""), threshold="v > v_peak", reset=e_reset,
        refractory=refractory_e, method="euler", namespace=ns, name="exc",
        events={"ltp": "v > theta_ltp and v <= v_peak and vbar > theta_ltd"} if plastic else None,
    )
    inh = NeuronGroup(n_inh, I_EQS, threshold="v > vth_i", reset="v = v_reset_i; y += 1",
                      refractory=refractory_i, method="euler", namespace=ns, name="inh")
    for group in (exc, inh):
        group.resetter["spike"].when = "after_thresholds"  # jumps before spike-triggered plasticity
    exc.v = nrn.v_mv[:n_exc] * mV
    inh.v = nrn.v_mv[n_exc:] * mV
    exc.vth = nrn.vth_mv * mV
    exc.w_ad = nrn.w_adapt_pa * pA
    if plastic:
        exc.u = nrn.u_mv * mV
        exc.vbar = nrn.vbar_mv * mV
    ext_e = PoissonInput(exc, "xd_e", POISSON_SOURCES, ns["rate_src_e"], weight=k.j_ext_to_e_pf * pF,
                         when="before_groups")
    ext_i = PoissonInput(inh, "xd_e", POISSON_SOURCES, ns["rate_src_i"], weight=k.j_ext_to_i_pf * pF,
                         when="before_groups")
    pw = sim.pathways
    if plastic:
        ee = Synapses(
            exc, exc,
            model="w : farad\nwsum_post = w : farad (summed)",
            on_pre="xd_e_post += w\n"
                   "w = clip(w - A_LTD*(u_post - theta_ltd)*int(u_post > theta_ltd), wmin_ee, wmax_ee)",
            on_post={"ltp": "w = clip(w + dt*A_LTP*x_pre*(v_post - theta_ltp)*(vbar_post - theta_ltd),"
                            " wmin_ee, wmax_ee)"},
            on_event={"ltp": "ltp"}, namespace=ns, name="ee",
        )
        ie = Synapses(
            inh, exc, model="w : farad",
            on_pre="xd_i_post += w\nw = clip(w + eta*(y_post - alpha), wmin_ie, wmax_ie)",
            on_post="w = clip(w + eta*y_pre, 0*pF, wmax_ie)",
            namespace=ns, name="ie",
        )
        ie.post.order = -2  # E-spike potentiation before the I cell transmits and updates
    else:
        ee = Synapses(exc, exc, model="w : farad", on_pre="xd_e_post += w", namespace=ns, name="ee")
        ie = Synapses(inh, exc, model="w : farad", on_pre="xd_i_post += w", namespace=ns, name="ie")
    ei = Synapses(exc, inh, model="w : farad", on_pre="xd_e_post += w", namespace=ns, name="ei")
    ii = Synapses(inh, inh, model="w : farad", on_pre="xd_i_post += w", namespace=ns, name="ii")
    for syn, name in ((ee, "e_to_e"), (ie, "i_to_e"), (ei, "e_to_i"), (ii, "i_to_i")):
        syn.connect(i=pw[name].pre_idx.astype(np.int32), j=pw[name].post_idx.astype(np.int32))
        syn.w = pw[name].weight_pf * pF
    if plastic:
        n_in = np.diff(pw["e_to_e"].post_ptr)
        exc.n_in = np.maximum(n_in, 1)
        exc.w_target = nrn.ee_row_target_pf * pF
        norm_clock = Clock(dt=p.plasticity.normalisation_interval_ms * ms, name="norm_clock")
        summed = ee.summed_updaters["wsum_post"]
        summed._clock = norm_clock  # row sums only when they are used
        summed.when, summed.order = "start", -1
        ee.run_regularly("w = clip(w - (wsum_post - w_target_post)/n_in_post, wmin_ee, wmax_ee)",
                         clock=norm_clock, when="start", order=0, name="ee_norm")
    mon_e = SpikeMonitor(exc, record=False, name="mon_e")
    mon_i = SpikeMonitor(inh, record=False, name="mon_i")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    net = Network(exc, inh, ext_e, ext_i, ee, ie, ei, ii, mon_e, mon_i)
    net.run(sim_seconds * 1000.0 * ms)
    if standalone:
        b2.device.build(directory=directory, compile=True, run=True, with_output=False)
        total = time.perf_counter() - t0
        device = b2.get_device()
        run_s = float(device._last_run_time)
        binary_s = float(device.timers["run_binary"])
        completed = float(device._last_run_completed_fraction)
    else:
        run_s = binary_s = total = time.perf_counter() - t0
        completed = 1.0
    return {
        "run_s": run_s,
        "compile_s": total - binary_s,
        "binary_s": binary_s,
        "rate_e_hz": int(mon_e.num_spikes) / (n_exc * sim_seconds),
        "rate_i_hz": int(mon_i.num_spikes) / (n_inh * sim_seconds),
        "completed": completed,
        "load_avg": load,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-neurons", type=int, default=5000, help="network size (1000 = quick mode)")
    ap.add_argument("--sim-seconds", type=float, default=2.0)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--static", dest="plastic", action="store_false", help="no plasticity")
    mode.add_argument("--plastic", dest="plastic", action="store_true",
                      help="vSTDP, iSTDP and normalisation from t = 0 (default)")
    ap.set_defaults(plastic=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--build-dir", default=None, help="Brian2 project directory (default: a tmpdir)")
    args = ap.parse_args(argv)
    params = network_params(args.n_neurons, args.plastic)
    eng = run_engine(params, args.seed, args.sim_seconds)
    # a fresh copy of the initial network for Brian2 (the engine run changed weights and state)
    sim0 = Simulation.build(params, args.seed)
    with tempfile.TemporaryDirectory(prefix="brian2_lkd_") as tmp:
        directory = args.build_dir or os.path.join(tmp, "project")
        br = run_brian2(sim0, args.sim_seconds, args.plastic, args.seed, directory)
    result = {
        "n_neurons": args.n_neurons,
        "sim_seconds": args.sim_seconds,
        "plastic": args.plastic,
        "brian2_wall_s_per_sim_s": round(br["run_s"] / args.sim_seconds, 4),
        "brian2_compile_s": round(br["compile_s"], 2),
        "engine_wall_s_per_sim_s": round(eng["wall_s"] / args.sim_seconds, 4),
        "ratio_brian2_over_engine": round(br["run_s"] / eng["wall_s"], 3),
        "brian2_rate_e_hz": round(br["rate_e_hz"], 3),
        "brian2_rate_i_hz": round(br["rate_i_hz"], 3),
        "engine_rate_e_hz": round(eng["rate_e_hz"], 3),
        "engine_rate_i_hz": round(eng["rate_i_hz"], 3),
        "brian2_binary_wall_s": round(br["binary_s"], 2),
        "load_avg_1min_engine": round(eng["load_avg"], 2),
        "load_avg_1min_brian2": round(br["load_avg"], 2),
        "n_synapses": int(sum(pw.weight_pf.size for pw in sim0.pathways.values())),
    }
    print(json.dumps(result))
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
