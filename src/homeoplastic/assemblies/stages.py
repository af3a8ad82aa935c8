"""The stage graph of the spiking chain, one table, and the settings each stage sees.

:data:`STAGE_TABLE` says, once, which stage reads which, what each runs, which settings change
its output and how many seconds it simulates; the chains a run needs, the workflow's rules
(inputs, params, resources), the stage runner and the SLURM resource estimate all derive from it.

A run's resolved settings are one frozen :class:`RunSettings`, built once per sweep point from the
validated config. A rule's ``params`` are :func:`stage_params`: the JSON of only the settings its
stage declares, so Snakemake reruns exactly what an edit affects (adding a seed runs only the new
runs; a spontaneous-phase setting reruns the spontaneous stages and what follows, never simulate
or train). A stage's store is shared by the sweep points that differ only in axes it does not
read (:meth:`RunSettings.store_id`), so sweeping ``protocol.spontaneous_s`` simulates and trains
each network once. The stage function receives a
:class:`~homeoplastic.assemblies.context.StageContext` built from that JSON.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies import settings as conf
from homeoplastic.assemblies.context import StageContext
from homeoplastic.assemblies.experiments.probe import ProbeSettings
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.settings import Protocol, RecordSettings
from homeoplastic.assemblies.storage import drop_state
from homeoplastic.assemblies.sweep import AXES, sweep_points
from homeoplastic.bundle import record_inputs
from homeoplastic.stage import Stage, StageOutcome, chain, declares, reads, table_index
from homeoplastic.store import (
    StoreError,
    open_store,
    provenance_attrs,
    verify_store,
    write_point,
    write_store,
)
from homeoplastic.sweep import Point, flatten, run_id_of

_COMMON = ("warmup_s", "n_assemblies")  # the network itself depends on them (plasticity start, groups)
_STIMULUS = ("stimulus_rate_hz", "stimulus_on_s", "stimulus_off_s")
_NONRECURRENT = ("nonrecurrent_extra_rate_to_e_hz", "nonrecurrent_extra_rate_to_i_hz",
                 "nonrecurrent_settle_s", "nonrecurrent_rate_window_s", "nonrecurrent_block_e_to_i",
                 "nonrecurrent_istdp_bounds", "nonrecurrent_targets", "nonrecurrent_match_interval_s",
                 "nonrecurrent_settle_istdp_speed")
_PERTURB = ("perturb_assembly", "perturb_fraction", "perturb_at_s", "perturb_duration_s")
RECORD_KEYS = ("rate_bin_ms", "weight_interval_s", "keep_spikes")
"""Record settings that change a stage's store (``chunk_s`` and ``checkpoint_every_s`` change how
a stage runs, not its result: chunking is exact and resume bit-identical, both tested)."""
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


def _reads(*protocol_keys: str, record: bool = True, probe: bool = False) -> tuple[str, ...]:
    """The settings a stage declares: the whole network, these protocol keys, the record keys
    that change a store, the probe protocol."""
    return ("network", *(f"protocol.{k}" for k in protocol_keys),
            *((f"record.{k}" for k in RECORD_KEYS) if record else ()),
            *(("probe",) if probe else ()))



def _protocol(name: str) -> Callable[..., Any]:
    """``protocol.<name>``, imported at the first call: the protocol loads the engine and its
    kernels, which planning and the analysis (readers of this table) never run."""

    def run(*args: Any, **kwargs: Any) -> Any:
        from homeoplastic.assemblies import protocol

        return getattr(protocol, name)(*args, **kwargs)

    run.__name__ = run.__qualname__ = name
    return run


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("simulate", _protocol("stage_simulate"), (), _reads(*_COMMON),
          lambda run: run.protocol.warmup_s, "simulate",
          "build the network from the seed; warm-up without plasticity"),
    Stage("train", _protocol("stage_train"), (("previous", "simulate"),),
          _reads(*_COMMON, *_STIMULUS, "repetitions"),
          lambda run: _presentations(run.protocol, run.protocol.repetitions), "train",
          "present every assembly's stimulus with plasticity on"),
    Stage("spontaneous_recurrent", _protocol("stage_spontaneous_recurrent"), (("previous", "train"),),
          _reads(*_COMMON, "spontaneous_s"),
          lambda run: run.protocol.spontaneous_s, "spontaneous",
          "spontaneous activity of the intact network"),
    Stage("spontaneous_nonrecurrent", _protocol("stage_spontaneous_nonrecurrent"),
          (("previous", "train"), ("recurrent", "spontaneous_recurrent")),
          _reads(*_COMMON, "spontaneous_s", *_NONRECURRENT),
          lambda run: run.protocol.spontaneous_s + run.protocol.nonrecurrent_settle_s, "spontaneous",
          "the non-recurrent control (E EPSPs replaced by external drive)"),
    Stage("perturb_recurrent", _protocol("stage_perturb_recurrent"),
          (("previous", "spontaneous_recurrent"),), _reads(*_COMMON, *_PERTURB),
          lambda run: run.protocol.perturb_duration_s, "perturb",
          "weaken one assembly's within weights; follow recovery (intact)"),
    Stage("perturb_nonrecurrent", _protocol("stage_perturb_nonrecurrent"),
          (("previous", "spontaneous_nonrecurrent"),), _reads(*_COMMON, *_PERTURB),
          lambda run: run.protocol.perturb_duration_s, "perturb",
          "the same perturbation in the non-recurrent control"),
    Stage("remap", _protocol("stage_remap"), (("previous", "spontaneous_recurrent"),),
          _reads(*_COMMON, *_STIMULUS, "remap_repetitions", "remap_after_s"),
          lambda run: (_presentations(run.protocol, run.protocol.remap_repetitions)
                       + run.protocol.remap_after_s), "remap",
          "train a new stimulus set; follow old and new assemblies"),
    Stage("probe_before", _protocol("stage_probe"), (("previous", "simulate"),),
          _reads(*_COMMON, record=False, probe=True),
          lambda run: _probe_seconds(run.protocol, run.probe), "probe",
          "probe statistics of the untrained network"),
    # the trained network once spontaneous activity has relaxed training's inhibition onto the
    # members (5 s after training they fire 0.1-0.3 Hz, back to 0.6-1.5 Hz over ~50 s; N = 2000)
    Stage("probe_after", _protocol("stage_probe"), (("previous", "spontaneous_recurrent"),),
          _reads(*_COMMON, record=False, probe=True),
          lambda run: _probe_seconds(run.protocol, run.probe), "probe",
          "probe statistics of the trained network after its spontaneous phase"),
    Stage("probe_remap_before", _protocol("stage_probe_remap"), (("previous", "spontaneous_recurrent"),),
          _reads(*_COMMON, record=False, probe=True),
          lambda run: _probe_seconds(run.protocol, run.probe), "probe",
          "probe statistics of the remap stimulus set before its training (paper Figs. 8, 9)"),
    Stage("probe_remap_after", _protocol("stage_probe_remap"), (("previous", "remap"),),
          _reads(*_COMMON, record=False, probe=True),
          lambda run: _probe_seconds(run.protocol, run.probe), "probe",
          "probe statistics of the remap stimulus set after its training (paper Figs. 8, 9)"),
)
STAGES: dict[str, Stage] = table_index(STAGE_TABLE)
ANALYZE_READS = tuple(f"analysis.{k}" for k in ANALYSIS_KEYS)
"""The settings the per-run analysis declares besides the stages it reads."""

CHAIN_ENDS = {
    "full": ("perturb_recurrent", "perturb_nonrecurrent", "remap"),
    "maintenance": ("perturb_recurrent", "perturb_nonrecurrent"),
    "control": ("spontaneous_nonrecurrent",),
    "short": ("spontaneous_recurrent",),
}
"""The last stages of each kind of run; the chains follow from the table."""
PROBE_ENDS = ("probe_before", "probe_after", "probe_remap_before", "probe_remap_after")
"""The probes of a full-chain run with ``probe.enabled``: the original stimulus set in the untrained
and the trained network, and the remap stage's new set before and after its training."""
FULL_CHAIN = chain(STAGES, CHAIN_ENDS["full"])
"""Every stage of the full chain, each after the stages it reads."""
SHORT_CHAIN = chain(STAGES, CHAIN_ENDS["short"])
"""Stages of runs whose rule is in ``short_chain_rules`` (ablations that show what breaks)."""
CONTROL_CHAIN = chain(STAGES, CHAIN_ENDS["control"])
"""Stages of runs whose rule is in ``control_chain_rules``: intact vs non-recurrent (Fig. 5b)."""


def protocol_keys(stage: str) -> tuple[str, ...]:
    """The ``assemblies.protocol`` fields a stage declares."""
    return tuple(k.split(".", 1)[1] for k in STAGES[stage].settings if k.startswith("protocol."))


def stage_reads(stage: str, key: str) -> bool:
    """True when the store of ``stage`` (``analyze`` included) depends on the setting ``key``."""
    if stage == "analyze":
        return declares(ANALYZE_READS, key) or any(reads(STAGES, s, key) for s in STAGES)
    return reads(STAGES, stage, key)


# ---------------------------------------------------------------------------------- per run
@dataclass(frozen=True)
class RunSettings:
    """Everything one run of the sweep needs, resolved and validated once."""

    point: Point
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

    def stage_point(self, stage: str) -> Point:
        """The point as ``stage`` sees it: only the axes its store depends on."""
        return self.point.restrict(lambda key: stage_reads(stage, key))

    def store_id(self, stage: str) -> str:
        """The folder of this run's ``stage`` store: shared by points that differ only in axes
        the stage does not read."""
        return self.stage_point(stage).run_id


def run_settings(section: Mapping[str, Any], point: Point) -> RunSettings:
    """Resolve and validate one sweep point of the (schema-validated) ``assemblies`` section.

    Raises :class:`ParameterError` naming the key: parameters of the network, protocol timing on
    the time step, the probe protocol.
    """
    protocol = conf.protocol_from_config(section, point.rule, point)
    record = conf.record_from_config(section, point)
    network = conf.network_params(section, point)
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
        probe = conf.probe_settings(section, point)
        _keys_under("assemblies", probe.validate, network.dt_ms)
    lists = [key for key in CHAIN_LISTS if point.rule in section.get(key, ())]
    if len(lists) > 1:
        raise ParameterError(f"assemblies: rule {point.rule!r} is in {' and '.join(lists)}; "
                             "allowed: at most one of them")
    stages = chain_of(section, point.rule)
    analysis = {**section.get("analysis", {}), **conf.point_values(point, "analysis")}
    return RunSettings(point=point, network=network, protocol=protocol, record=record,
                       probe=probe, analysis=analysis,
                       resources=dict(section.get("resources", {})), stages=stages)


CHAIN_LISTS = ("short_chain_rules", "control_chain_rules", "maintenance_chain_rules")
"""The config lists that stop a rule's runs early (a rule may be in one of them)."""


def chain_of(section: Mapping[str, Any], rule: str) -> tuple[str, ...]:
    """The stages a run of ``rule`` goes through (the config's short, control and maintenance
    chain lists; the probes when ``probe.enabled``, those of the remap set unless ``probe.remap``
    is false)."""
    if rule in section.get("short_chain_rules", ()):
        return SHORT_CHAIN
    if rule in section.get("control_chain_rules", ()):
        return CONTROL_CHAIN
    if rule in section.get("maintenance_chain_rules", ()):
        return chain(STAGES, CHAIN_ENDS["maintenance"])
    probe = section.get("probe", {})
    probes = tuple(s for s in PROBE_ENDS if probe.get("remap", True) or "remap" not in s) \
        if probe.get("enabled", False) else ()
    return chain(STAGES, CHAIN_ENDS["full"] + probes)


def keeps_state(section: Mapping[str, Any], stage: str, rule: str) -> bool:
    """Whether a ``stage`` store of a ``rule`` run keeps its network state: where a later stage
    of the run continues from it, or everywhere with ``record.keep_state``. (A run's chain
    follows from its rule, which names every store, so a store's readers never change.)"""
    if section.get("record", {}).get("keep_state", False):
        return True
    return any(("previous", stage) in STAGES[later].inputs for later in chain_of(section, rule))


def sweep_settings(section: Mapping[str, Any]) -> dict[str, RunSettings]:
    """Every run of the section by run id, in table order; validates the section first.

    A point whose settings are invalid is an error naming the key and the point."""
    _check_parts(section)
    return resolve_runs(section, sweep_points(section))


def resolve_runs(section: Mapping[str, Any], points) -> dict[str, RunSettings]:
    """:func:`run_settings` of each point, by run id (what a bundled job resolves of its
    members)."""
    runs = {}
    resolved: dict[tuple[tuple[str, str], ...], RunSettings] = {}
    for point in points:
        # points that differ only in their seed resolve to the same settings: resolve once
        # (10,000 points of a few settings plan in seconds, not minutes)
        key = _settings_key(point)
        try:
            if key not in resolved:
                resolved[key] = run_settings(section, point)
            runs[point.run_id] = dataclasses.replace(resolved[key], point=point)
        except ParameterError as err:
            raise ParameterError(f"{err} (in the sweep point {point.run_id})", key=err.key) from None
    return runs


def _settings_key(point: Point) -> tuple[tuple[str, str], ...]:
    """What :func:`run_settings` reads of a point: every axis but the seed (which only names
    the run and seeds the network)."""
    return tuple((key, repr(value)) for key, value in point.settings().items() if key != "seed")


def stage_stores(runs: Mapping[str, RunSettings]) -> dict[str, dict[str, RunSettings]]:
    """For every stage, its stores by folder (:meth:`RunSettings.store_id`) and a run that reads
    each; runs sharing a folder share the stage's params (checked: a stage table that forgot a
    setting would otherwise mix two results in one store)."""
    out: dict[str, dict[str, RunSettings]] = {stage: {} for stage in STAGES}
    for run in runs.values():
        for stage in run.stages:
            first = out[stage].setdefault(run.store_id(stage), run)
            if first is not run and stage_params(first, stage) != stage_params(run, stage):
                raise ParameterError(
                    f"runs {first.run_id} and {run.run_id} share the {stage} store "
                    f"{run.store_id(stage)} but not its settings; the stage table misses a "
                    "setting the stage reads")
    return out


def check_section(section: Mapping[str, Any]) -> None:
    """Validate everything the schema cannot, naming the key from ``assemblies.``: what
    :func:`sweep_settings` checks, without keeping the runs."""
    sweep_settings(section)


def _check_parts(section: Mapping[str, Any]) -> None:
    """The network overrides on their own (the sweep replaces some of them, so a bad value there
    would otherwise pass) and the time grids of the rate maps and the dt check."""
    overrides = copy.deepcopy(dict(section.get("network", {})))
    network = NetworkParams.from_dict(overrides, where="assemblies.network")
    for rule in section.get("rule_network", {}):  # also for rules the sweep does not run
        own, where = conf.network_overrides(section, rule)
        NetworkParams.from_dict(own, where=where)
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
    """The settings that change ``stage``'s store for this run, as stable JSON (a rule's params).

    ``sweep`` holds the values that name the stage's store (:meth:`RunSettings.store_id`)."""
    # the settings part is shared by the runs of one resolved RunSettings (all seeds of a point):
    # its JSON is made once; "sweep" sorts last, so the whole is that JSON with the sweep appended
    parts = (run.network, run.protocol, run.record, run.probe)
    key = (stage, *map(id, parts))
    cached = _SETTINGS_JSON.get(key)
    if cached is None or any(a is not b for a, b in zip(cached[0], parts, strict=True)):
        cached = _SETTINGS_JSON[key] = (parts, _stage_settings_json(run, stage))
    sweep = _json(run.stage_point(stage).visible())
    return f'{cached[1][:-1]}, "sweep": {sweep}}}'


_SETTINGS_JSON: dict[tuple, tuple[tuple, str]] = {}
"""stage_params' cache: (stage, ids of a run's settings) -> (those settings, kept alive so the
ids stay theirs; the settings JSON)."""


def _stage_settings_json(run: RunSettings, stage: str) -> str:
    """The JSON of :func:`stage_params` without ``sweep``."""
    spec = STAGES[stage]
    settings: dict[str, Any] = {
        "network": network_settings(run.network),
        "protocol": {key: getattr(run.protocol, key) for key in protocol_keys(stage)},
    }
    if any(declares(spec.settings, f"record.{key}") for key in RECORD_KEYS):
        settings["record"] = {key: getattr(run.record, key) for key in RECORD_KEYS}
    if declares(spec.settings, "probe.n_trials"):
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
    return _json({"sweep": run.point.visible(),
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
    sim_s = spec.cost(run)
    per_sim_s = res.get("wall_s_per_sim_s_at_5000", 2.0) * synapses / (0.2 * 5000**2)
    if run.network.plasticity.ee_rule == "calcium" and "probe" not in spec.settings:
        per_sim_s *= res.get("calcium_wall_factor", 3.0)
    runtime = res.get("runtime_min_base", 10) + sim_s * per_sim_s / 60.0
    return {"mem_mb": int(mem), "runtime": int(np.ceil(runtime))}


STOPPED = ("aborted", "nonfinite", "skipped")
"""Statuses of a store that stopped its run: the stages after it do not simulate."""


def store_status(path: str) -> tuple[str, str]:
    """(status, reason) of a stage store: completed, aborted (rate guard), nonfinite or skipped."""
    attrs = open_store(path).attrs
    status = str(attrs.get("status", "completed"))
    if status == "aborted":
        reason = json.loads(attrs.get("abort_reason_json", "{}"))
        text = (f"{attrs.get('stage', '?')} aborted at t = {reason.get('sim_time_s', float('nan')):.3f} s: "
                f"{reason.get('checker', '?')} {reason.get('metric', '')} = "
                f"{reason.get('value', float('nan')):.4g} outside {reason.get('bounds_hz', '?')} Hz")
        return status, text
    if status == "nonfinite":
        return status, f"{attrs.get('stage', '?')} stopped: a state variable became non-finite"
    return status, str(attrs.get("skipped_because", ""))


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_stage(stage: str, params: str | Mapping[str, Any], inputs: Mapping[str, str], output: str,
              *, chunk_s: float | None = None, checkpoint_every_s: float | None = None,
              keep_state: bool = True) -> StageOutcome:
    """Run one stage of one run and write its store; returns its status (and why).

    A stage whose input was stopped by the rate guard (or itself skipped) does not simulate: it
    writes a store with ``status: skipped`` and the reason, so a stopped run says so everywhere.
    ``chunk_s`` and ``checkpoint_every_s`` change how it runs, not its store. Without
    ``keep_state`` (:func:`keeps_state`: no later stage reads it) the store's network state is
    dropped once written (:func:`~homeoplastic.assemblies.storage.drop_state`; its records,
    spikes and assembly membership stay).
    """
    outcome = _run_stage(stage, params, inputs, output, chunk_s=chunk_s,
                         checkpoint_every_s=checkpoint_every_s)
    if not keep_state:
        freed = drop_state(output)
        if freed:
            _log(f"{stage}: network state not kept (no later stage reads it; "
                 f"record.keep_state keeps it): {freed / 1e6:.1f} MB freed")
    record_inputs(output, inputs)  # a bundle keeps this store while these inputs are unchanged
    return outcome


def _run_stage(stage: str, params: str | Mapping[str, Any], inputs: Mapping[str, str],
               output: str, *, chunk_s: float | None,
               checkpoint_every_s: float | None) -> StageOutcome:
    if stage not in STAGES:
        raise ParameterError(f"stage = {stage!r} is unknown; allowed: {list(STAGES)}")
    ctx = StageContext.from_params(stage, params, store_stage=STAGES[stage].stage_attr,
                                   chunk_s=chunk_s, checkpoint_every_s=checkpoint_every_s)
    _log(f"{stage} {ctx.point.run_id}: start")
    write_point(output, ctx.point.as_dict())
    sources = dict(STAGES[stage].inputs)
    for name, path in inputs.items():
        # a damaged store (a chunk lost or changed), another stage's or another run's store is
        # refused by name, with what to rerun
        source = sources.get(name)
        verify_store(path, stage=STAGES[source].stage_attr if source else None,
                     run_id=input_run_id(ctx.point, source) if source else None)
        _same_network(path, ctx)
        status, reason = store_status(path)
        if status in STOPPED:
            because = reason or f"input {name} ended {status}"
            _write_skipped(ctx, output, because)
            _log(f"{stage} {ctx.point.run_id}: SKIPPED, not simulated: {because}")
            return StageOutcome("skipped", str(output), because)
    rec = STAGES[stage].run(ctx, inputs, output)
    if rec is not None and rec.status != "completed":
        status, reason = store_status(output)
        _log(f"{stage} {ctx.point.run_id}: STOPPED EARLY ({status}): {reason}")
        return StageOutcome(status, str(output), reason)
    _log(f"{stage} {ctx.point.run_id}: completed"
         + (f", E rate {_mean_rate(output):.2f} Hz" if rec is not None else ""))
    return StageOutcome("completed", str(output))


def _same_network(path: str, ctx: StageContext) -> None:
    """An input store must have been written with this run's network settings (every stage of a
    run declares the whole network): a stale store of an edited config is refused by name."""
    config = json.loads(open_store(path).attrs.get("config_json", "{}")).get("assemblies", {})
    mine = json.loads(json.dumps(ctx.provenance["assemblies"]["network"], default=_plain))
    theirs = config.get("network")
    if theirs is not None and theirs != mine:
        differ = sorted(k for k in set(flatten(mine)) | set(flatten(theirs))
                        if flatten(mine).get(k) != flatten(theirs).get(k))
        raise StoreError(f"{path} was written with other network settings than this run's "
                         f"({', '.join('network.' + k for k in differ[:5])}); delete it and rerun "
                         "the job that writes it")


def input_run_id(point: Point, source: str) -> str:
    """The run id the store of stage ``source`` that a stage of ``point`` reads must carry: the
    point without the axes ``source`` does not read (named axes by their alias stay)."""
    canonical = {alias: key for alias, key in AXES.aliases.items()}
    return run_id_of({name: value for name, value in point.as_dict().items()
                      if name in AXES.named or stage_reads(source, canonical.get(name, name))})


def _mean_rate(path: str) -> float:
    ds = open_store(path)
    return float(ds.rate_exc_hz.mean()) if "rate_exc_hz" in ds else float("nan")


def _write_skipped(ctx: StageContext, output: str, because: str) -> None:
    write_store(output, xr.Dataset(), attrs=provenance_attrs(
        stage=ctx.store_stage, config=ctx.provenance, seed=ctx.point.seed,
        sweep=ctx.point.as_dict(), status="skipped", skipped_because=because, sim_seconds=0.0))
