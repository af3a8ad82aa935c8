"""The stage graph of the spiking chain, one table, and the settings each stage sees.

:data:`STAGE_TABLE` says, once, which stage follows which, what each runs, which settings change
its output and how many seconds it simulates. The workflow's rules (inputs, params, resources),
the stage runner and the SLURM resource estimate all read it.

A run's resolved settings are one frozen :class:`RunSettings`, built once per sweep point from the
validated config. A rule's ``params`` are :func:`stage_params`: the JSON of only the settings its
stage declares, so Snakemake reruns exactly what an edit affects (adding a seed runs only the new
runs; a spontaneous-phase setting reruns the spontaneous stages and what follows, never simulate
or train). The stage function then receives a :class:`StageContext` built from that JSON, whose
``protocol`` answers only the declared fields: reading any other raises, so params cannot
silently miss a setting the stage uses.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies import protocol as proto
from homeoplastic.assemblies.experiments.probe import ProbeSettings
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.protocol import Protocol, RecordSettings
from homeoplastic.assemblies.sweep import SweepPoint, sweep_points
from homeoplastic.store import open_store, provenance_attrs, write_store

_COMMON = ("warmup_s", "n_assemblies")  # the network itself depends on them (plasticity start, groups)
_STIMULUS = ("stimulus_rate_hz", "stimulus_on_s", "stimulus_off_s")
_NONRECURRENT = ("nonrecurrent_extra_rate_to_e_hz", "nonrecurrent_extra_rate_to_i_hz",
                 "nonrecurrent_settle_s", "nonrecurrent_rate_window_s", "nonrecurrent_block_e_to_i",
                 "nonrecurrent_istdp_bounds")
_PERTURB = ("perturb_assembly", "perturb_fraction", "perturb_at_s", "perturb_duration_s")
RECORD_KEYS = ("rate_bin_ms", "weight_interval_s", "keep_spikes")
"""Record settings that change a stage's store."""
OPERATIONAL_RECORD_KEYS = ("chunk_s", "checkpoint_every_s")
"""Record settings that change how a stage runs but not its result (chunking is exact, resume is
bit-identical; both tested), so they are not part of a rule's params."""
ANALYSIS_KEYS = ("reactivation_threshold_factor", "reactivation_min_hz", "train_rate_bin_s")
"""``assemblies.analysis`` keys that change analyze.zarr; the rest only change figures."""
FIGURE_KEYS = ("raster_seconds", "raster_cells")
"""``assemblies.analysis`` keys the per-run figure reads."""


def _presentations(p, repetitions: int) -> float:
    return p.n_assemblies * repetitions * (p.stimulus_on_s + p.stimulus_off_s)


def _probe_seconds(p, probe: ProbeSettings | None) -> float:
    if probe is None:
        return 0.0
    trials = probe.n_trials + probe.gain_n_trials * len(probe.gain_rates_hz) + probe.completion_n_trials
    return min(probe.n_stimuli, p.n_assemblies) * trials * probe.period_s


@dataclass(frozen=True)
class Stage:
    """One row of the stage graph.

    ``inputs`` name the stores a stage reads, as (input name, stage that writes it); the first is
    the network it continues. ``protocol_keys`` are the ``assemblies.protocol`` fields that change
    its output; ``sim_seconds`` estimates the simulated time (for runtimes); ``store_stage`` is
    the ``stage`` attr of its store.
    """

    name: str
    run: Callable[..., Any]
    inputs: tuple[tuple[str, str], ...]
    protocol_keys: tuple[str, ...]
    sim_seconds: Callable[[Protocol, ProbeSettings | None], float]
    store_stage: str
    uses_record: bool = True
    uses_probe: bool = False
    description: str = ""


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("simulate", proto.stage_simulate, (), _COMMON,
          lambda p, _: p.warmup_s, "simulate",
          description="build the network from the seed; warm-up without plasticity"),
    Stage("train", proto.stage_train, (("previous", "simulate"),),
          (*_COMMON, *_STIMULUS, "repetitions"),
          lambda p, _: _presentations(p, p.repetitions), "train",
          description="present every assembly's stimulus with plasticity on"),
    Stage("spontaneous_recurrent", proto.stage_spontaneous_recurrent, (("previous", "train"),),
          (*_COMMON, "spontaneous_s"),
          lambda p, _: p.spontaneous_s, "spontaneous",
          description="spontaneous activity of the intact network"),
    Stage("spontaneous_nonrecurrent", proto.stage_spontaneous_nonrecurrent,
          (("previous", "train"), ("recurrent", "spontaneous_recurrent")),
          (*_COMMON, "spontaneous_s", *_NONRECURRENT),
          lambda p, _: p.spontaneous_s + p.nonrecurrent_settle_s, "spontaneous",
          description="the non-recurrent control (E EPSPs replaced by external drive)"),
    Stage("perturb_recurrent", proto.stage_perturb_recurrent,
          (("previous", "spontaneous_recurrent"),), (*_COMMON, *_PERTURB),
          lambda p, _: p.perturb_duration_s, "perturb",
          description="weaken one assembly's within weights; follow recovery (intact)"),
    Stage("perturb_nonrecurrent", proto.stage_perturb_nonrecurrent,
          (("previous", "spontaneous_nonrecurrent"),), (*_COMMON, *_PERTURB),
          lambda p, _: p.perturb_duration_s, "perturb",
          description="the same perturbation in the non-recurrent control"),
    Stage("remap", proto.stage_remap, (("previous", "spontaneous_recurrent"),),
          (*_COMMON, *_STIMULUS, "remap_repetitions", "remap_after_s"),
          lambda p, _: _presentations(p, p.remap_repetitions) + p.remap_after_s, "remap",
          description="train a new stimulus set; follow old and new assemblies"),
    Stage("probe_before", proto.stage_probe, (("previous", "simulate"),), _COMMON,
          _probe_seconds, "probe", uses_record=False, uses_probe=True,
          description="probe statistics of the untrained network"),
    Stage("probe_after", proto.stage_probe, (("previous", "train"),), _COMMON,
          _probe_seconds, "probe", uses_record=False, uses_probe=True,
          description="probe statistics of the trained network"),
)
STAGES: dict[str, Stage] = {stage.name: stage for stage in STAGE_TABLE}
FULL_CHAIN = ("simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent",
              "perturb_recurrent", "perturb_nonrecurrent", "remap")
"""Every stage of the full chain, each after the stages it reads."""
SHORT_CHAIN = ("simulate", "train", "spontaneous_recurrent")
"""Stages of runs whose rule is in ``short_chain_rules`` (ablations that show what breaks)."""
CONTROL_CHAIN = (*SHORT_CHAIN, "spontaneous_nonrecurrent")
"""Stages of runs whose rule is in ``control_chain_rules``: intact vs non-recurrent (Fig. 5b)."""
PROBE_CHAIN = ("probe_before", "probe_after")
"""Probe stages, added to the full chain when ``probe.enabled``."""


# ---------------------------------------------------------------------------------- per run
@dataclass(frozen=True)
class RunSettings:
    """Everything one run of the sweep needs, resolved and validated once."""

    point: SweepPoint
    network: NetworkParams
    protocol: Protocol
    record: RecordSettings
    probe: ProbeSettings | None
    analysis: Mapping[str, Any]
    resources: Mapping[str, Any]
    stages: tuple[str, ...]

    @property
    def run_id(self) -> str:
        return self.point.run_id


def run_settings(section: Mapping[str, Any], point: SweepPoint) -> RunSettings:
    """Resolve and validate one sweep point of the (schema-validated) ``assemblies`` section.

    Raises :class:`ParameterError` naming the key: parameters of the network, protocol timing on
    the time step, the probe protocol.
    """
    protocol = proto.protocol_from_config(section, point.rule)
    record = proto.record_from_config(section)
    network = proto.network_params(section, point)
    _keys_under("assemblies", record.spec().validate, network.dt_ms)
    _check_on_grid(protocol, ("warmup_s", "stimulus_on_s", "stimulus_off_s", "spontaneous_s",
                              "nonrecurrent_settle_s", "perturb_at_s", "perturb_duration_s",
                              "remap_after_s"), network.dt_ms, "assemblies.protocol")
    if not 0 <= protocol.perturb_assembly < protocol.n_assemblies:
        raise ParameterError(
            f"assemblies.protocol.perturb_assembly = {protocol.perturb_assembly} is out of "
            f"range; allowed: 0..{protocol.n_assemblies - 1}")
    if protocol.perturb_at_s > protocol.perturb_duration_s:
        raise ParameterError("assemblies.protocol.perturb_at_s must be <= perturb_duration_s")
    probe = None
    if section.get("probe", {}).get("enabled", False):
        probe = proto.probe_settings(section)
        _keys_under("assemblies", probe.validate, network.dt_ms)
    short, control = section.get("short_chain_rules", ()), section.get("control_chain_rules", ())
    if point.rule in short and point.rule in control:
        raise ParameterError(f"assemblies: rule {point.rule!r} is in both short_chain_rules and "
                             "control_chain_rules; allowed: at most one of them")
    if point.rule in short:
        stages = SHORT_CHAIN
    elif point.rule in control:
        stages = CONTROL_CHAIN
    else:
        stages = FULL_CHAIN + (PROBE_CHAIN if probe is not None else ())
    return RunSettings(point=point, network=network, protocol=protocol, record=record,
                       probe=probe, analysis=dict(section.get("analysis", {})),
                       resources=dict(section.get("resources", {})), stages=stages)


def sweep_settings(section: Mapping[str, Any]) -> dict[str, RunSettings]:
    """Every run of the section by run id, in table order; validates the section first."""
    check_section(section)
    return {point.run_id: run_settings(section, point) for point in sweep_points(section)}


def check_section(section: Mapping[str, Any]) -> None:
    """Validate everything the schema cannot, naming the key from ``assemblies.``.

    The network overrides on their own (the sweep silently replaces some of them, so a bad value
    there would otherwise pass), every sweep point's resolved settings, and the time grids of the
    rate maps and the dt check. Called by the workflow before any job runs.
    """
    overrides = copy.deepcopy(dict(section.get("network", {})))
    network = NetworkParams.from_dict(overrides, where="assemblies.network")
    for rule in section.get("rule_network", {}):  # also for rules the sweep does not run
        own, where = proto.network_overrides(section, rule)
        NetworkParams.from_dict(own, where=where)
    for point in sweep_points(section):
        run_settings(section, point)
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


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


def stage_params(run: RunSettings, stage: str) -> str:
    """The settings that change ``stage``'s store for this run, as stable JSON (a rule's params)."""
    spec = STAGES[stage]
    settings: dict[str, Any] = {
        "sweep": run.point.as_dict(),
        "network": network_settings(run.network),
        "protocol": {key: getattr(run.protocol, key) for key in spec.protocol_keys},
    }
    if spec.uses_record:
        settings["record"] = {key: getattr(run.record, key) for key in RECORD_KEYS}
    if spec.uses_probe:
        settings["probe"] = dataclasses.asdict(run.probe)
    return _json(settings)


# The parameter group each E->E rule reads; a run's params leave out the groups of the others.
RULE_GROUPS = {"voltage": "vstdp", "triplet": "triplet", "calcium": "calcium"}


def network_settings(network: NetworkParams) -> dict[str, Any]:
    """The network's settings that change a run's output: without the unused E->E rules' groups.

    A voltage run does not read the calcium constants, so a new calcium default must not rerun it
    (``tests/assemblies/test_stage_params.py`` checks both halves: the params and the spikes).
    """
    settings = network.to_dict()
    for rule, group in RULE_GROUPS.items():
        if rule != network.plasticity.ee_rule:
            del settings[group]
    return settings


def analysis_params(run: RunSettings) -> str:
    """The settings that change analyze.zarr for this run (JSON)."""
    return _json({"sweep": run.point.as_dict(),
                  "analysis": {key: run.analysis[key] for key in ANALYSIS_KEYS}})


def figure_params(run: RunSettings) -> str:
    """The settings the per-run figure reads (JSON)."""
    return _json({"analysis": {key: run.analysis[key] for key in FIGURE_KEYS}})


def resources_for(run: RunSettings, stage: str) -> dict[str, int]:
    """Memory (MB) and runtime (min) of a stage from network size and simulated seconds."""
    res = run.resources
    c = run.network.connectivity
    synapses = c.effective_p_connect * c.n_neurons**2
    mem = res.get("mem_mb_base", 1000) + res.get("mem_mb_per_million_synapses", 120.0) * synapses / 1e6
    spec = STAGES[stage]
    sim_s = spec.sim_seconds(run.protocol, run.probe)
    per_sim_s = res.get("wall_s_per_sim_s_at_5000", 2.0) * synapses / (0.2 * 5000**2)
    if run.network.plasticity.ee_rule == "calcium" and not spec.uses_probe:
        per_sim_s *= res.get("calcium_wall_factor", 3.0)
    runtime = res.get("runtime_min_base", 10) + sim_s * per_sim_s / 60.0
    return {"mem_mb": int(mem), "runtime": int(np.ceil(runtime))}


# ---------------------------------------------------------------------------------- per stage
class DeclaredSettings:
    """Read-only settings that answer only the fields a stage declares; others raise."""

    def __init__(self, values: Mapping[str, Any], where: str) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        where = object.__getattribute__(self, "_where")
        raise AttributeError(
            f"{where}.{name} is read but not declared; add it to the stage's row in "
            "homeoplastic.assemblies.stages.STAGE_TABLE so that its rule reruns when it changes")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("stage settings are read-only")


@dataclass(frozen=True)
class StageContext:
    """What a stage function receives: its declared settings, resolved, and nothing else."""

    stage: str
    point: SweepPoint
    network: NetworkParams
    protocol: DeclaredSettings
    record: RecordSettings
    probe: ProbeSettings | None
    provenance: dict[str, Any] = field(repr=False)

    @property
    def store_stage(self) -> str:
        return STAGES[self.stage].store_stage

    @classmethod
    def from_params(cls, stage: str, params: str | Mapping[str, Any], *,
                    chunk_s: float | None = None,
                    checkpoint_every_s: float | None = None) -> StageContext:
        """Rebuild a stage's context from :func:`stage_params` (and the operational settings)."""
        if stage not in STAGES:
            raise ParameterError(f"stage = {stage!r} is unknown; allowed: {list(STAGES)}")
        settings = json.loads(params) if isinstance(params, str) else dict(params)
        operational = {key: value for key, value in
                       (("chunk_s", chunk_s), ("checkpoint_every_s", checkpoint_every_s))
                       if value is not None}
        record = RecordSettings(**settings.get("record", {}), **operational)
        probe = ProbeSettings.from_dict(settings["probe"]) if "probe" in settings else None
        return cls(stage=stage, point=SweepPoint.from_mapping(settings["sweep"]),
                   network=NetworkParams.from_dict(settings["network"]),
                   protocol=DeclaredSettings(settings["protocol"], f"assemblies.protocol ({stage})"),
                   record=record, probe=probe, provenance={"assemblies": settings})


def store_status(path: str) -> tuple[str, str]:
    """(status, reason) of a stage store: completed, aborted (rate guard) or skipped."""
    attrs = open_store(path).attrs
    status = str(attrs.get("status", "completed"))
    if status == "aborted":
        reason = json.loads(attrs.get("abort_reason_json", "{}"))
        text = (f"{attrs.get('stage', '?')} aborted at t = {reason.get('sim_time_s', float('nan')):.3f} s: "
                f"{reason.get('checker', '?')} {reason.get('metric', '')} = "
                f"{reason.get('value', float('nan')):.4g} outside {reason.get('bounds_hz', '?')} Hz")
        return status, text
    return status, str(attrs.get("skipped_because", ""))


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_stage(stage: str, params: str | Mapping[str, Any], inputs: Mapping[str, str], output: str,
              *, chunk_s: float | None = None, checkpoint_every_s: float | None = None) -> str:
    """Run one stage of one run and write its store; returns its status.

    A stage whose input was stopped by the rate guard (or itself skipped) does not simulate: it
    writes a store with ``status: skipped`` and the reason, so a stopped run says so everywhere.
    """
    ctx = StageContext.from_params(stage, params, chunk_s=chunk_s,
                                   checkpoint_every_s=checkpoint_every_s)
    _log(f"{stage} {ctx.point.run_id}: start")
    for name, path in inputs.items():
        status, reason = store_status(path)
        if status in ("aborted", "skipped"):
            because = reason or f"input {name} was skipped"
            _write_skipped(ctx, output, because)
            _log(f"{stage} {ctx.point.run_id}: SKIPPED, not simulated: {because}")
            return "skipped"
    rec = STAGES[stage].run(ctx, inputs, output)
    if rec is not None and rec.status != "completed":
        status, reason = store_status(output)
        _log(f"{stage} {ctx.point.run_id}: STOPPED EARLY ({status}): {reason}")
        return status
    _log(f"{stage} {ctx.point.run_id}: completed"
         + (f", E rate {_mean_rate(output):.2f} Hz" if rec is not None else ""))
    return "completed"


def _mean_rate(path: str) -> float:
    ds = open_store(path)
    return float(ds.rate_exc_hz.mean()) if "rate_exc_hz" in ds else float("nan")


def _write_skipped(ctx: StageContext, output: str, because: str) -> None:
    write_store(output, xr.Dataset(), attrs=provenance_attrs(
        stage=ctx.store_stage, config=ctx.provenance, seed=ctx.point.seed,
        sweep=ctx.point.as_dict(), status="skipped", skipped_because=because, sim_seconds=0.0))
