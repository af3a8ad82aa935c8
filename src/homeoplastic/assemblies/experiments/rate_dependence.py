"""Rate dependence of the E->E rules (paper Fig. 5a): mean weight change per second of a synapse
against its pre- and postsynaptic rates.

All three rules run through the engine's own compiled code:

* ``triplet`` and ``calcium``: pre- and postsynaptic cells fire independent Poisson trains on the dt
  grid, and each step's spikes go through the engine's ``_triplet_step`` / ``_calcium_step``
  (:func:`homeoplastic.assemblies.kernels.poisson_rule_drift`).
* ``voltage``: the rule needs the postsynaptic membrane potential, so the engine itself
  (:class:`~homeoplastic.assemblies.engine.Simulation`) runs E cells (AdEx with adaptive threshold)
  without recurrent transmission, each driven only by its own external Poisson input, at the rate
  found (by a calibration run) to give the target output rate. Presynaptic cells are such cells
  too; their trains are not Poisson, but with pre and post independent the voltage rule's mean
  drift depends on the presynaptic train only through its rate (LTD is a sum over presynaptic
  spikes, LTP is linear in the presynaptic trace), so this is the same as Poisson input.

Layout: ``n_replicas`` presynaptic and ``n_replicas`` postsynaptic cells per rate, with a synapse
from every presynaptic to every postsynaptic cell (n_replicas^2 synapses per grid point; synapses
sharing a cell are correlated, which does not bias the mean). The weight starts at ``w0_pf``
(default: the middle of the calcium rule's weight range [W_DOWN, W_UP], where its bistable term
vanishes for rho_star = 0.5) and is measured over windows of ``window_s`` after ``warmup_s`` with the
plasticity off, so that traces and calcium are stationary. The triplet and voltage rules are
additive (their updates do not depend on W), so their weight bounds are lifted: the map shows the
rule, not the bounds. The calcium rule needs its bounds (they define rho), and its weight is reset
to ``w0_pf`` at the start of every window: the value is the mean change over a window from w0, per
second (close to the initial drift when ``window_s`` is short against rho's relaxation, ~0.3 s of
calcium above threshold with GB's rates). Units: the result is in pF/s at the reference size
(N = 5000, no size scaling) and learning speed of ``params``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import xarray as xr

from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.connectivity import build_pathway
from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.network import (
    calcium_weight_range,
    initial_state,
    poisson_tables,
    seed_streams,
)
from homeoplastic.assemblies.output import spike_arrays
from homeoplastic.assemblies.params import NetworkParams, ParameterError, steps_of_seconds
from homeoplastic.assemblies.settings import variant_overrides
from homeoplastic.parameters import check_fields, param

RULES = ("voltage", "triplet", "calcium", "calcium_plain")
"""Rules mapped: E->E rules and ``calcium_plain``, the rule variant (:data:`RULE_VARIANTS
<homeoplastic.assemblies.settings.RULE_VARIANTS>`) whose calcium settings replace those of
``params`` (no cubic term, no noise, rho on [J_min, J_max], its own tau_rho)."""
DEFAULT_RATES_HZ = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 70.0, 100.0)


@dataclasses.dataclass(frozen=True)
class RateMapSettings:
    """How the map is measured (seconds, Hz). ``measure_s`` is the total measured time."""

    n_replicas: int = param(10, unit="1", minimum=1, description="Independent synapse sets per grid point.")
    warmup_s: float = param(1.0, unit="s", minimum=0, description="Unmeasured start of each map run.")
    measure_s: float = param(10.0, unit="s", exclusive_minimum=0,
                             description="Measured time per grid point.")
    window_s: float = param(0.1, unit="s", exclusive_minimum=0,
                            description="Weights are reset to the reference every window (keeps them away "
                                        "from the bounds).")
    calibration_s: float = param(10.0, unit="s", exclusive_minimum=0,
                                 description="Time used to calibrate the drive of the AdEx cells of the "
                                             "voltage map to the target rates.")

    def __post_init__(self) -> None:
        check_fields(self, "assemblies.rate_dependence")


def _bipartite_sim(params: NetworkParams, n_side: int, w0_pf: float, seed: int) -> Simulation:
    """A network of 2 n_side E cells (and idle I cells, at least one and enough for the
    parameters' minimum network size) with a synapse from every one of the first n_side cells to
    every one of the last n_side, no other synapses, no transmission."""
    n_exc = 2 * n_side
    n_inh = max(1, 10 - n_exc)
    p = params.replace(**{
        "connectivity.n_neurons": n_exc + n_inh,
        "connectivity.exc_fraction": n_exc / (n_exc + n_inh),
        "connectivity.size_scaling": "none",
        "connectivity.j_e_to_e_pf": w0_pf,
        "ee_transmission": False,
        "ei_transmission": False,
        "plasticity.istdp": False,
        "plasticity.normalisation": False,
        "assemblies.n_assemblies": 0,
        "guard.enabled": False,
    })
    if p.connectivity.n_exc != n_exc:  # round(n * fraction) can miss for huge n
        raise ParameterError(f"rate_dependence: the bipartite network needs {n_exc} E cells but "
                             f"exc_fraction rounds to {p.connectivity.n_exc}; lower n_replicas "
                             f"or the number of rates")
    pre = np.repeat(np.arange(n_side), n_side)
    post = n_side + np.tile(np.arange(n_side), n_side)
    empty = np.zeros(0, dtype=np.int32)
    pathways = {
        "e_to_e": build_pathway(pre, post, w0_pf, n_exc, n_exc),
        "i_to_e": build_pathway(empty, empty, 0.0, n_inh, n_exc),
        "e_to_i": build_pathway(empty, empty, 0.0, n_exc, n_inh),
        "i_to_i": build_pathway(empty, empty, 0.0, n_inh, n_inh),
    }
    neurons = initial_state(p, seed, pathways["e_to_e"])
    rng_state = seed_streams(seed)["engine"].generate_state(1, dtype=np.uint64)
    return Simulation(p, seed, pathways, np.zeros(1, np.int64), np.zeros(0, np.int32), neurons,
                      rng_state, np.zeros(2, np.int64), np.array([1.0]))


def _set_drive(sim: Simulation, ext_rate_hz: np.ndarray) -> None:
    n = sim.neurons
    n.ext_rate_hz[: ext_rate_hz.size] = ext_rate_hz
    n.ext_rate_hz[ext_rate_hz.size:] = 0.0
    n.ext_cdf[:] = poisson_tables(n.ext_rate_hz, sim.params.dt_ms * 1e-3)


def _measured_rates(rec, n_cells: int, from_step: int, seconds: float) -> np.ndarray:
    steps, cells = spike_arrays(rec)
    keep = (steps >= from_step) & (cells < n_cells)
    return np.bincount(cells[keep], minlength=n_cells)[:n_cells] / seconds


def calibrate_drive(params: NetworkParams, target_hz: Sequence[float], *, seconds: float = 10.0,
                    seed: int = 1) -> np.ndarray:
    """External Poisson rate (Hz) that makes an isolated E cell fire at each ``target_hz``.

    Runs the engine on 64 unconnected E cells with external rates from 0.5 to 60 kHz (geometric),
    measures their rates after 0.5 s and inverts the (monotone) curve by interpolation.
    """
    ladder = np.geomspace(500.0, 60000.0, 64)
    sim = _bipartite_sim(params.replace(**{"plasticity.ee_rule": "none"}), 32,
                         params.connectivity.j_e_to_e_pf, seed)
    _set_drive(sim, ladder)
    warm = 0.5
    rec = sim.run(warm + seconds, record=RecordSpec(rate_bin_ms=10.0, weight_interval_s=0.0,
                                                   chunk_s=0.5), progress=False)
    rates = _measured_rates(rec, ladder.size, steps_of_seconds(warm, params.dt_ms, "warm"), seconds)
    rates = np.maximum.accumulate(rates)  # monotone for the inversion
    target = np.asarray(target_hz, dtype=float)
    if target.max() > rates.max():
        raise ParameterError(f"rate_dependence: a target rate of {target.max()} Hz is above the "
                             f"largest calibrated E rate {rates.max():.1f} Hz")
    return np.interp(target, rates, ladder)


def _voltage_map(params, rates, settings, w0_pf, seed):
    r = len(rates)
    n_rep = settings.n_replicas
    n_side = r * n_rep
    params = params.replace(**{"plasticity.ee_rule": "voltage",
                               "plasticity.start_s": settings.warmup_s,
                               "connectivity.j_e_to_e_min_pf": 0.0,
                               "connectivity.j_e_to_e_max_pf": 1e12})
    sim = _bipartite_sim(params, n_side, w0_pf, seed)
    drive = calibrate_drive(params, rates, seconds=settings.calibration_s, seed=seed)
    per_side = np.repeat(drive, n_rep)
    _set_drive(sim, np.concatenate([per_side, per_side]))
    rec = sim.run(settings.warmup_s + settings.measure_s,
                  record=RecordSpec(rate_bin_ms=10.0, weight_interval_s=0.0, chunk_s=0.5),
                  progress=False)
    warm_steps = steps_of_seconds(settings.warmup_s, params.dt_ms, "warmup_s")
    cell_rates = _measured_rates(rec, 2 * n_side, warm_steps, settings.measure_s)
    ee = sim.pathways["e_to_e"]
    drift = (ee.weight_pf - w0_pf) / settings.measure_s
    return _grid(drift, ee, n_side, r, n_rep), _by_rate(cell_rates, n_side, r, n_rep)


def _poisson_map(rule, params, rates, settings, w0_pf, seed):
    r = len(rates)
    n_rep = settings.n_replicas
    n_side = r * n_rep
    params = params.replace(**{**variant_overrides(rule), "plasticity.start_s": 0.0})
    sim = _bipartite_sim(params, n_side, w0_pf, seed)
    dt = params.dt_ms
    warm = steps_of_seconds(settings.warmup_s, dt, "warmup_s")
    window = steps_of_seconds(settings.window_s, dt, "window_s")
    n_windows = max(1, int(round(settings.measure_s / settings.window_s)))
    k = sim.constants(run_start_step=0)._replace(plastic_start_step=warm)
    if rule == "triplet":  # additive rule: lift the bounds (see the module docstring)
        k = k._replace(j_ee_min_pf=-np.inf, j_ee_max_pf=np.inf)
    per_side = np.repeat(np.asarray(rates, dtype=float), n_rep)
    rate_hz = np.concatenate([per_side, per_side])
    ee = sim.pathways["e_to_e"]
    dw_sum = np.zeros(ee.weight_pf.size)
    counts = np.zeros(rate_hz.size, dtype=np.int64)
    key = seed_streams(seed)["engine"].generate_state(1, dtype=np.uint64)[0]
    code = kernels.RULE_CODES[params.plasticity.ee_rule]  # calcium_plain runs the calcium code
    kernels.poisson_rule_drift(code, k, ee, sim.rule_state, rate_hz, key,
                               warm, window, n_windows, float(w0_pf), dw_sum, counts)
    seconds = n_windows * window * dt * 1e-3
    return _grid(dw_sum / seconds, ee, n_side, r, n_rep), _by_rate(counts / seconds, n_side, r,
                                                                  n_rep)


def _grid(per_synapse, ee, n_side, r, n_rep):
    """Mean over the synapses of each (pre rate, post rate) block."""
    pre_rate = ee.pre_idx // n_rep
    post_rate = (ee.post_idx - n_side) // n_rep
    sums = np.zeros((r, r))
    np.add.at(sums, (pre_rate, post_rate), per_synapse)
    return sums / (n_rep * n_rep)


def _by_rate(cell_rates, n_side, r, n_rep):
    pre = cell_rates[:n_side].reshape(r, n_rep).mean(axis=1)
    post = cell_rates[n_side:].reshape(r, n_rep).mean(axis=1)
    return pre, post


def rate_dependence(
    params: NetworkParams | None = None,
    rates_hz: Sequence[float] = DEFAULT_RATES_HZ,
    *,
    rules: Sequence[str] = RULES,
    settings: RateMapSettings | None = None,
    w0_pf: float | None = None,
    seed: int = 1,
) -> xr.Dataset:
    """Mean E->E weight change per second against pre- and postsynaptic rates, for each rule.

    Returns a Dataset with ``dw_dt_pf_per_s`` (rule, pre_rate_hz, post_rate_hz) and the realised
    rates ``pre_rate_measured_hz`` / ``post_rate_measured_hz`` (rule, rate); see the module
    docstring for the method. ``params`` default to the paper's; plasticity amplitudes and
    learning speed come from them, at the reference size.
    """
    params = params or NetworkParams()
    settings = settings or RateMapSettings()
    rates = [float(x) for x in rates_hz]
    if not rates or min(rates) <= 0:
        raise ParameterError(f"rates_hz = {rates_hz!r} is invalid; allowed: rates > 0 Hz")
    bad = [x for x in rules if x not in RULES]
    if bad:
        raise ParameterError(f"rules = {list(rules)!r} is invalid; allowed: {list(RULES)}")
    if settings.n_replicas < 1:
        raise ParameterError(f"n_replicas = {settings.n_replicas} is invalid; allowed: >= 1")
    c = params.connectivity
    if w0_pf is None:  # rho = 1/2 of the calcium rule, where its bistable term vanishes
        w0_pf = 0.5 * sum(calcium_weight_range(params))
    if not c.j_e_to_e_min_pf <= w0_pf <= c.j_e_to_e_max_pf:
        raise ParameterError(f"w0_pf = {w0_pf} is invalid; allowed: within the E->E bounds "
                             f"[{c.j_e_to_e_min_pf}, {c.j_e_to_e_max_pf}]")
    maps, pre_measured, post_measured = [], [], []
    for rule in rules:
        if rule == "voltage":
            grid, (pre, post) = _voltage_map(params, rates, settings, w0_pf, seed)
        else:
            grid, (pre, post) = _poisson_map(rule, params, rates, settings, w0_pf, seed)
        maps.append(grid)
        pre_measured.append(pre)
        post_measured.append(post)
    coords = {"rule": list(rules), "pre_rate_hz": rates, "post_rate_hz": rates}
    ds = xr.Dataset(
        {
            "dw_dt_pf_per_s": (("rule", "pre_rate_hz", "post_rate_hz"), np.array(maps)),
            "pre_rate_measured_hz": (("rule", "pre_rate_hz"), np.array(pre_measured)),
            "post_rate_measured_hz": (("rule", "post_rate_hz"), np.array(post_measured)),
        },
        coords=coords,
    )
    ds["dw_dt_pf_per_s"].attrs.update(units="pF/s", long_name="mean E->E weight change per second")
    ds["pre_rate_measured_hz"].attrs.update(units="Hz", long_name="realised presynaptic rate")
    ds["post_rate_measured_hz"].attrs.update(units="Hz", long_name="realised postsynaptic rate")
    ds["rule"].attrs.update(units="1", long_name="E->E plasticity rule")
    ds["pre_rate_hz"].attrs.update(units="Hz", long_name="presynaptic rate")
    ds["post_rate_hz"].attrs.update(units="Hz", long_name="postsynaptic rate")
    ds.attrs.update(w0_pf=float(w0_pf), seed=int(seed),
                    settings_json=str(dataclasses.asdict(settings)),
                    learning_speed=params.plasticity.learning_speed,
                    method="see homeoplastic.assemblies.experiments.rate_dependence")
    return ds
