"""The experiment chain of the assembly model, one function per workflow stage.

simulate -> train -> spontaneous (recurrent | nonrecurrent) -> perturb (recurrent | nonrecurrent),
and remap (new stimuli after the recurrent spontaneous phase). Each stage reads the previous stage's
store (its ``state`` group), runs one protocol, and writes its own store. Long stages checkpoint and
resume. Nothing here imports Snakemake: the workflow, the CLI and the tests all call these functions.

Config: the ``assemblies`` section of ``config/config.yaml`` (schema
``workflow/schemas/assemblies.schema.yaml``); a sweep point is a dict with ``n_neurons``, ``rule``,
``learning_speed`` and ``seed``.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from homeoplastic.spiking.engine import RecordSpec, RunRecord, Simulation
from homeoplastic.spiking.params import NetworkParams, ParameterError
from homeoplastic.spiking.runs import with_sweep_coords, write_run_store
from homeoplastic.spiking.stimulus import StimulusSchedule, training_schedule
from homeoplastic.store import open_store

SWEEP_KEYS = ("n_neurons", "rule", "learning_speed", "seed")

RULE_VARIANTS: dict[str, dict[str, Any]] = {
    "voltage": {"ee_rule": "voltage"},
    "voltage_no_istdp": {"ee_rule": "voltage", "istdp": False},
    "voltage_no_normalisation": {"ee_rule": "voltage", "normalisation": False},
    "voltage_no_homeostasis": {"ee_rule": "voltage", "istdp": False, "normalisation": False},
    "static": {"ee_rule": "none", "istdp": False, "normalisation": False},
    "triplet": {"ee_rule": "triplet"},
    "calcium": {"ee_rule": "calcium"},
}
"""Sweep values of ``rule``: an E->E rule plus which homeostatic mechanisms run (ablations)."""


@dataclass(frozen=True)
class Protocol:
    """Durations and stimuli of the chain (seconds, Hz). Paper values in config/paper.yaml."""

    warmup_s: float = 10.0
    n_assemblies: int = 20
    stimulus_rate_hz: float = 8000.0
    stimulus_on_s: float = 1.0
    stimulus_off_s: float = 3.0
    repetitions: int = 20
    spontaneous_s: float = 1000.0
    nonrecurrent_extra_rate_to_e_hz: float = 4000.0
    nonrecurrent_extra_rate_to_i_hz: float = 2000.0
    nonrecurrent_settle_s: float = 200.0
    nonrecurrent_rate_window_s: float = 0.0
    nonrecurrent_block_e_to_i: bool = True
    perturb_assembly: int = 0
    perturb_fraction: float = 0.1
    perturb_at_s: float = 15.0
    perturb_duration_s: float = 200.0
    remap_repetitions: int = 80
    remap_after_s: float = 100.0


@dataclass(frozen=True)
class RecordSettings:
    rate_bin_ms: float = 10.0
    weight_interval_s: float = 1.0
    chunk_s: float = 1.0
    checkpoint_every_s: float = 60.0
    keep_spikes: bool = True

    def spec(self) -> RecordSpec:
        return RecordSpec(spikes=self.keep_spikes, rate_bin_ms=self.rate_bin_ms,
                          weight_interval_s=self.weight_interval_s, chunk_s=self.chunk_s)


def protocol_from_config(section: Mapping[str, Any]) -> Protocol:
    return _dataclass_from(Protocol, section.get("protocol", {}), "assemblies.protocol")


def record_from_config(section: Mapping[str, Any]) -> RecordSettings:
    return _dataclass_from(RecordSettings, section.get("record", {}), "assemblies.record")


def _dataclass_from(cls, values: Mapping[str, Any], where: str):
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(known)}")
    return cls(**dict(values))


def network_params(section: Mapping[str, Any], sweep: Mapping[str, Any]) -> NetworkParams:
    """NetworkParams of one sweep point: config overrides, then the sweep values."""
    overrides = copy.deepcopy(dict(section.get("network", {})))
    protocol = protocol_from_config(section)
    rule = sweep["rule"]
    if rule not in RULE_VARIANTS:
        raise ParameterError(
            f"assemblies.sweep.rule = {rule!r} is invalid; allowed: {sorted(RULE_VARIANTS)}"
        )
    overrides.setdefault("connectivity", {})["n_neurons"] = int(sweep["n_neurons"])
    plasticity = overrides.setdefault("plasticity", {})
    plasticity.update(RULE_VARIANTS[rule])
    plasticity["learning_speed"] = float(sweep["learning_speed"])
    plasticity.setdefault("start_s", protocol.warmup_s)
    overrides.setdefault("assemblies", {})["n_assemblies"] = protocol.n_assemblies
    return NetworkParams.from_dict(overrides, where="assemblies.network")


def check_section(section: Mapping[str, Any]) -> None:
    """Validate everything the schema cannot: parameters of every sweep point, protocol timing.

    Raises :class:`ParameterError` naming the key from ``assemblies.``; called by the workflow
    before any job runs.
    """
    protocol = protocol_from_config(section)
    record = record_from_config(section)
    # the overrides on their own too: the sweep replaces some of them (rule, size), silently
    overrides = copy.deepcopy(dict(section.get("network", {})))
    network = NetworkParams.from_dict(overrides, where="assemblies.network")
    for point in sweep_points(section):
        params = network_params(section, point)
        _keys_under("assemblies", record.spec().validate, params.dt_ms)
        _check_on_grid(protocol, ("warmup_s", "stimulus_on_s", "stimulus_off_s", "spontaneous_s",
                                  "nonrecurrent_settle_s", "perturb_at_s", "perturb_duration_s",
                                  "remap_after_s"), params.dt_ms, "assemblies.protocol")
        if not 0 <= protocol.perturb_assembly < protocol.n_assemblies:
            raise ParameterError(
                f"assemblies.protocol.perturb_assembly = {protocol.perturb_assembly} is out of "
                f"range; allowed: 0..{protocol.n_assemblies - 1}"
            )
        if protocol.perturb_at_s > protocol.perturb_duration_s:
            raise ParameterError("assemblies.protocol.perturb_at_s must be <= perturb_duration_s")
        if section.get("probe", {}).get("enabled", False):
            _keys_under("assemblies", probe_settings(section).validate, params.dt_ms)
    rate_maps = section.get("rate_dependence", {})
    if rate_maps.get("enabled", False):
        _check_on_grid(rate_maps, ("warmup_s", "window_s"), network.dt_ms,
                       "assemblies.rate_dependence")
    check = section.get("dt_check", {})
    if check.get("enabled", False):
        for dt_ms in check.get("dt_ms", ()):
            try:
                NetworkParams.from_dict({**overrides, "dt_ms": dt_ms}, where="assemblies.network")
            except ParameterError as err:
                raise ParameterError(f"assemblies.dt_check.dt_ms = {dt_ms} is invalid for the "
                                     f"network: {err}") from None
            _check_on_grid(check, ("stimulus_on_s", "stimulus_off_s"), dt_ms,
                           "assemblies.dt_check")


def _keys_under(root: str, check, *args) -> None:
    """Run ``check(*args)``; a ParameterError's key (``record.x``) is named from ``root`` too."""
    try:
        check(*args)
    except ParameterError as err:
        raise ParameterError(f"{root}.{err}") from None


def _check_on_grid(values, names, dt_ms: float, where: str) -> None:
    """Durations (s) in ``values`` (a mapping or an object) must be >= 0 multiples of dt."""
    dt_s = dt_ms * 1e-3
    for name in names:
        value = values.get(name) if isinstance(values, Mapping) else getattr(values, name)
        if value is None:
            continue
        if value < 0 or abs(value / dt_s - round(value / dt_s)) > 1e-6:
            raise ParameterError(
                f"{where}.{name} = {value} is invalid; allowed: >= 0 and a multiple of "
                f"dt = {dt_ms} ms"
            )


def _product(block: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [{}]
    for key in SWEEP_KEYS:
        values = block.get(key)
        if values is None:
            raise ParameterError(f"{where}.{key} is missing")
        points = [{**p, key: v} for p in points for v in values]
    return points


def sweep_points(section: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The runs: every combination of ``sweep``'s axes, then of each ``extra_sweeps`` block.

    An axis an extra block leaves out takes ``sweep``'s values; a run named by two blocks is
    listed once, where it first appears.
    """
    sweep = section.get("sweep", {})
    points = _product(sweep, "assemblies.sweep")
    for index, block in enumerate(section.get("extra_sweeps", ())):
        points += _product({**sweep, **block}, f"assemblies.extra_sweeps[{index}]")
    unique: dict[str, dict[str, Any]] = {}
    for point in points:
        unique.setdefault(run_id(point), point)
    return list(unique.values())


def run_id(point: Mapping[str, Any]) -> str:
    """Paramspace-style folder name that says which run it holds."""
    return "_".join(f"{key}~{_fmt(point[key])}" for key in SWEEP_KEYS)


_RUN_ID = re.compile(
    r"^n_neurons~(?P<n_neurons>\d+)_rule~(?P<rule>[A-Za-z0-9_]+)"
    r"_learning_speed~(?P<learning_speed>[0-9.eE+-]+)_seed~(?P<seed>\d+)$"
)


def parse_run_id(text: str) -> dict[str, Any]:
    """Inverse of :func:`run_id`."""
    match = _RUN_ID.match(text)
    if match is None:
        raise ParameterError(f"run id {text!r} is not of the form {run_id({k: 'X' for k in SWEEP_KEYS})}")
    return {
        "n_neurons": int(match["n_neurons"]),
        "rule": match["rule"],
        "learning_speed": float(match["learning_speed"]),
        "seed": int(match["seed"]),
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


STAGES = ("simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent",
          "perturb_recurrent", "perturb_nonrecurrent", "remap")
"""Every stage of the full chain, in an order in which each stage's inputs come first."""
SHORT_CHAIN = ("simulate", "train", "spontaneous_recurrent")
"""Stages of runs whose rule is in ``short_chain_rules`` (ablations that show what breaks)."""


PROBE_STAGES = {"probe_before": "simulate", "probe_after": "train"}
"""Probe-stimulus statistics (paper Figs. 8-9) and the stage whose saved state each probes."""


def stages_for(section: Mapping[str, Any], point: Mapping[str, Any]) -> tuple[str, ...]:
    """The stages one sweep point runs: the full chain (plus the probes when ``probe.enabled``),
    or the short chain for rules in ``short_chain_rules``."""
    if point["rule"] in section.get("short_chain_rules", ()):
        return SHORT_CHAIN
    probes = tuple(PROBE_STAGES) if section.get("probe", {}).get("enabled", False) else ()
    return STAGES + probes


def probe_settings(section: Mapping[str, Any]):
    """The probe protocol of the config (``assemblies.probe`` without ``enabled``)."""
    from homeoplastic.spiking.probe import ProbeSettings

    values = {k: v for k, v in section.get("probe", {}).items() if k != "enabled"}
    return ProbeSettings.from_dict(values)


def stage_probe(section, point, in_path, out_path) -> None:
    """Probe trials on a stage's saved network with plasticity frozen (spec 6.6, section 9)."""
    from homeoplastic.spiking.probe import run_probe
    from homeoplastic.store import provenance_attrs, write_store

    settings = probe_settings(section)
    state = open_store(in_path, group="state").load()
    ds = run_probe(state, network_params(section, point), settings, int(point["seed"]))
    ds = with_sweep_coords(ds, point)
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="probe", config={"assemblies": dict(section)}, seed=int(point["seed"]),
        sweep=point, probed_store=str(in_path)))


# ---------------------------------------------------------------------------------- stages
def _checkpoint_path(out_path: str | os.PathLike[str]) -> Path:
    out = Path(out_path)
    return out.parent / ".checkpoints" / f"{out.name}.ckpt"


def _finish(out_path, sim: Simulation, rec: RunRecord, *, stage: str, section, point,
            extra_groups=None, **attrs) -> None:
    write_run_store(out_path, sim, rec, stage=stage, config={"assemblies": dict(section)},
                    sweep=point, extra_groups=extra_groups, **attrs)
    # the stage's checkpoints, including those of its sub-runs (e.g. perturb's pre-segment)
    ckpt = _checkpoint_path(out_path)
    for stale in ckpt.parent.glob(f"{Path(out_path).stem}*.ckpt"):
        shutil.rmtree(stale, ignore_errors=True)


def _load(path: str | os.PathLike[str], params: NetworkParams | None = None) -> Simulation:
    return Simulation.from_state_dataset(open_store(path, group="state").load(), params)


def _run(sim: Simulation, duration_s: float, schedule, section, out_path, label: str) -> RunRecord:
    record = record_from_config(section)
    return sim.run(duration_s, schedule, record.spec(), progress=None,
                   checkpoint_path=_checkpoint_path(out_path),
                   checkpoint_every_s=record.checkpoint_every_s or None,
                   stale_checkpoint="restart", label=label)


def stage_simulate(section: Mapping[str, Any], point: Mapping[str, Any], out_path) -> None:
    """Build the network and assemblies from the seed; warm-up without plasticity."""
    params = network_params(section, point)
    protocol = protocol_from_config(section)
    sim = Simulation.build(params, int(point["seed"]))
    rec = _run(sim, protocol.warmup_s, None, section, out_path, f"simulate {run_id(point)}")
    _finish(out_path, sim, rec, stage="simulate", section=section, point=point)


def stage_train(section, point, in_path, out_path) -> None:
    """Present every assembly's stimulus, shuffled, ``repetitions`` times with plasticity on."""
    protocol = protocol_from_config(section)
    sim = _load(in_path, network_params(section, point))
    rng = np.random.default_rng([int(point["seed"]), 1])
    schedule = training_schedule(
        protocol.n_assemblies, protocol.repetitions, on_s=protocol.stimulus_on_s,
        off_s=protocol.stimulus_off_s, rate_hz=protocol.stimulus_rate_hz, rng=rng,
    )
    duration = max(schedule.end_s + protocol.stimulus_off_s, protocol.stimulus_on_s)
    rec = _run(sim, _on_grid(duration, sim), schedule, section, out_path, f"train {run_id(point)}")
    _finish(out_path, sim, rec, stage="train", section=section, point=point)


def _on_grid(seconds: float, sim: Simulation) -> float:
    dt_s = sim.params.dt_ms * 1e-3
    return round(seconds / dt_s) * dt_s


def nonrecurrent_params(section, point) -> NetworkParams:
    """Excitatory EPSPs blocked and replaced by extra external drive (spec 6.4).

    The paper: "excitatory spikes did not cause EPSPs in postsynaptic targets", so E->I is blocked
    too unless ``nonrecurrent_block_e_to_i`` is false (E->E only, the spec's narrower reading).
    """
    protocol = protocol_from_config(section)
    params = network_params(section, point)
    ext = params.external
    return params.replace(**{
        "ee_transmission": False,
        "ei_transmission": not protocol.nonrecurrent_block_e_to_i,
        "external.rate_to_e_hz": ext.rate_to_e_hz + protocol.nonrecurrent_extra_rate_to_e_hz,
        "external.rate_to_i_hz": ext.rate_to_i_hz + protocol.nonrecurrent_extra_rate_to_i_hz,
    })


def per_cell_rates(path, n_exc: int, last_s: float = 0.0) -> np.ndarray:
    """Mean rate of every E cell over a stored run, or over its final ``last_s`` seconds (Hz).

    ``last_s`` = 0 (or longer than the run) means the whole run.
    """
    spikes = open_store(path, group="spikes")
    cells = np.asarray(spikes.spike_cell.values)
    root = open_store(path)
    start_s, end_s = float(root.attrs["run_start_s"]), float(root.attrs["run_end_s"])
    if 0.0 < last_s < end_s - start_s:
        start_s = end_s - last_s
        step_s = float(spikes.attrs["dt_ms"]) * 1e-3
        cells = cells[np.asarray(spikes.spike_step.values) * step_s >= start_s - 0.5 * step_s]
    return np.bincount(cells[cells < n_exc], minlength=n_exc) / max(end_s - start_s, 1e-12)


def stage_spontaneous(section, point, train_path, out_path, *, mode: str,
                      recurrent_path=None) -> None:
    """No stimulus, plasticity on, for the intact network or the non-recurrent control.

    The control blocks E->E transmission, adds external drive and sets each E cell's iSTDP
    target to its rate measured in the intact spontaneous phase (``recurrent_path``; over its final
    ``nonrecurrent_rate_window_s``, so the targets are the rates after the intact network's
    inhibition has relaxed from training, or over all of it when that is 0); it first
    settles for ``nonrecurrent_settle_s`` with E->E plasticity frozen, then runs as long as the
    intact phase with all plasticity on.
    """
    protocol = protocol_from_config(section)
    label = f"spontaneous-{mode} {run_id(point)}"
    if mode == "recurrent":
        sim = _load(train_path, network_params(section, point))
        rec = _run(sim, protocol.spontaneous_s, None, section, out_path, label)
        _finish(out_path, sim, rec, stage="spontaneous", section=section, point=point,
                mode=mode)
        return
    if mode != "nonrecurrent":
        raise ParameterError(f"mode = {mode!r} is invalid; allowed: recurrent, nonrecurrent")
    params = nonrecurrent_params(section, point)
    settle = params.replace(**{"plasticity.ee_rule": "none"})
    sim = _load(train_path, settle)
    n_exc = params.connectivity.n_exc
    sim.set_istdp_target_rates(
        per_cell_rates(recurrent_path, n_exc, protocol.nonrecurrent_rate_window_s))
    if protocol.nonrecurrent_settle_s > 0:
        sim.run(protocol.nonrecurrent_settle_s, None, RecordSpec(spikes=False), progress=None,
                label=f"settle {run_id(point)}")
    sim.set_params(params)
    rec = _run(sim, protocol.spontaneous_s, None, section, out_path, label)
    _finish(out_path, sim, rec, stage="spontaneous", section=section, point=point, mode=mode)


def within_synapses(sim: Simulation, assembly: int) -> np.ndarray:
    """Indices of E->E synapses whose pre and post cells are both in ``assembly``."""
    members = np.zeros(sim.params.connectivity.n_exc, dtype=bool)
    members[sim.assembly_members(assembly)] = True
    ee = sim.pathways["e_to_e"]
    return np.nonzero(members[ee.pre_idx] & members[ee.post_idx])[0]


def stage_perturb(section, point, in_path, out_path, *, mode: str) -> None:
    """Reduce one assembly's within weights by a fraction and follow recovery (spec 6.5)."""
    protocol = protocol_from_config(section)
    params = network_params(section, point) if mode == "recurrent" else None
    sim = _load(in_path, params)  # the nonrecurrent store carries its own parameters
    label = f"perturb-{mode} {run_id(point)}"
    first = _run(sim, protocol.perturb_at_s, None, section, Path(out_path).with_suffix(".pre"),
                 label) if protocol.perturb_at_s > 0 else None
    syn = within_synapses(sim, protocol.perturb_assembly)
    ee = sim.pathways["e_to_e"]
    before = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    ee.weight_pf[syn] *= 1.0 - protocol.perturb_fraction
    after = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    rec = _run(sim, protocol.perturb_duration_s - protocol.perturb_at_s, None, section, out_path,
               label)
    final = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    recovery = (final - after) / (before - after) if before != after else float("nan")
    pre_ds = None
    if first is not None:
        from homeoplastic.spiking.output import record_dataset

        pre_ds = record_dataset(sim, first)
    _finish(out_path, sim, rec, stage="perturb", section=section, point=point, mode=mode,
            extra_groups={"before_perturbation": pre_ds} if pre_ds is not None else None,
            perturbed_assembly=protocol.perturb_assembly,
            perturb_fraction=protocol.perturb_fraction,
            w_perturbed_before_pf=before, w_perturbed_after_pf=after,
            w_perturbed_final_pf=final, recovery_fraction=recovery)


def stage_remap(section, point, in_path, out_path) -> None:
    """Train a new stimulus set and follow old and new assemblies (paper Fig. 6)."""
    protocol = protocol_from_config(section)
    params = network_params(section, point)
    sim = _load(in_path, params)
    n_old = protocol.n_assemblies
    rng = np.random.default_rng([int(point["seed"]), 2])
    n_exc = params.connectivity.n_exc
    for _ in range(n_old):
        sim.add_group(np.nonzero(rng.random(n_exc) < params.assemblies.p_member)[0])
    sim.track_groups(2 * n_old)
    base = training_schedule(n_old, protocol.remap_repetitions, on_s=protocol.stimulus_on_s,
                             off_s=protocol.stimulus_off_s, rate_hz=protocol.stimulus_rate_hz,
                             rng=rng)
    schedule = StimulusSchedule(base.target + n_old, base.t_on_s, base.t_off_s, base.rate_hz)
    duration = _on_grid(schedule.end_s + protocol.remap_after_s, sim)
    rec = _run(sim, duration, schedule, section, out_path, f"remap {run_id(point)}")
    _finish(out_path, sim, rec, stage="remap", section=section, point=point,
            n_old_assemblies=n_old, n_new_assemblies=n_old)


def stage_rate_dependence(section: Mapping[str, Any], out_path) -> None:
    """Weight change against pre and post rates for every E->E rule (paper Fig. 5a)."""
    from homeoplastic.analysis.rate_dependence import RateMapSettings, rate_dependence
    from homeoplastic.store import provenance_attrs, write_store

    opts = dict(section.get("rate_dependence", {}))
    opts.pop("enabled", None)
    rates, rules, seed = opts.pop("rates_hz"), opts.pop("rules"), int(opts.pop("seed"))
    params = NetworkParams.from_dict(copy.deepcopy(dict(section.get("network", {}))))
    ds = rate_dependence(params, rates, rules=rules, settings=RateMapSettings(**opts), seed=seed)
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="rate_dependence", config={"assemblies": dict(section)}, seed=seed))


def stage_dt_check(section: Mapping[str, Any], out_path) -> None:
    """Training at several time steps against the seed-to-seed spread (paper supplementary)."""
    from homeoplastic.analysis.dt_check import DtCheckSettings, dt_check
    from homeoplastic.store import provenance_attrs, write_store

    opts = dict(section.get("dt_check", {}))
    opts.pop("enabled", None)
    for key in ("dt_ms", "seeds"):
        if key in opts:
            opts[key] = tuple(opts[key])
    settings = DtCheckSettings(**opts)
    ds = dt_check(settings, network=copy.deepcopy(dict(section.get("network", {}))))
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="dt_check", config={"assemblies": dict(section)}, seed=settings.seeds[0]))


# ---------------------------------------------------------------------------------- dispatch
def run_stage(stage: str, section: Mapping[str, Any], run: str, inputs: Mapping[str, str],
              output: str) -> None:
    """Run one workflow stage for the run folder name ``run`` (see :func:`run_id`)."""
    point = parse_run_id(run)
    if stage == "simulate":
        stage_simulate(section, point, output)
    elif stage == "train":
        stage_train(section, point, inputs["previous"], output)
    elif stage == "spontaneous_recurrent":
        stage_spontaneous(section, point, inputs["previous"], output, mode="recurrent")
    elif stage == "spontaneous_nonrecurrent":
        stage_spontaneous(section, point, inputs["previous"], output, mode="nonrecurrent",
                          recurrent_path=inputs["recurrent"])
    elif stage in ("perturb_recurrent", "perturb_nonrecurrent"):
        stage_perturb(section, point, inputs["previous"], output, mode=stage.split("_", 1)[1])
    elif stage == "remap":
        stage_remap(section, point, inputs["previous"], output)
    elif stage in PROBE_STAGES:
        stage_probe(section, point, inputs["previous"], output)
    else:
        raise ParameterError(f"stage = {stage!r} is unknown")


def analyze_stage(section: Mapping[str, Any], run: str, stores: Mapping[str, str],
                  output: str) -> None:
    """Per-run statistics (analysis.assemblies.analyze_run) written as a store with provenance."""
    from homeoplastic.analysis.assemblies import analyze_run
    from homeoplastic.store import provenance_attrs, write_store

    point = parse_run_id(run)
    ds = analyze_run(stores, section.get("analysis", {}))
    ds = with_sweep_coords(ds, point)
    write_store(output, ds, attrs=provenance_attrs(stage="analyze", config={"assemblies": dict(section)},
                                                   seed=int(point["seed"]), sweep=point))


def resources_for(section: Mapping[str, Any], run: str, stage: str) -> dict[str, int]:
    """Memory (MB) and runtime (min) of a stage from network size and protocol length."""
    point = parse_run_id(run)
    params = network_params(section, point)
    protocol = protocol_from_config(section)
    res = section.get("resources", {})
    c = params.connectivity
    synapses = c.effective_p_connect * c.n_neurons**2
    mem = res.get("mem_mb_base", 1000) + res.get("mem_mb_per_million_synapses", 120.0) * synapses / 1e6
    sim_s = {
        "simulate": protocol.warmup_s,
        "train": protocol.n_assemblies * protocol.repetitions
        * (protocol.stimulus_on_s + protocol.stimulus_off_s),
        "spontaneous_recurrent": protocol.spontaneous_s,
        "spontaneous_nonrecurrent": protocol.spontaneous_s + protocol.nonrecurrent_settle_s,
        "perturb_recurrent": protocol.perturb_duration_s,
        "perturb_nonrecurrent": protocol.perturb_duration_s,
        "remap": protocol.n_assemblies * protocol.remap_repetitions
        * (protocol.stimulus_on_s + protocol.stimulus_off_s)
        + protocol.remap_after_s,
    }.get(stage, 0.0)
    if stage in PROBE_STAGES:
        probe = probe_settings(section)
        trials = (probe.n_trials + probe.gain_n_trials * len(probe.gain_rates_hz)
                  + probe.completion_n_trials)
        sim_s = min(probe.n_stimuli, protocol.n_assemblies) * trials * probe.period_s
    per_sim_s = res.get("wall_s_per_sim_s_at_5000", 2.0) * synapses / (0.2 * 5000**2)
    if params.plasticity.ee_rule == "calcium" and stage not in PROBE_STAGES:
        per_sim_s *= res.get("calcium_wall_factor", 3.0)
    runtime = res.get("runtime_min_base", 10) + sim_s * per_sim_s / 60.0
    return {"mem_mb": int(mem), "runtime": int(np.ceil(runtime))}
