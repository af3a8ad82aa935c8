"""The experiment chain of the assembly model: what each stage of the chain does.

simulate -> train -> spontaneous (recurrent | nonrecurrent) -> perturb (recurrent | nonrecurrent),
and remap (new stimuli after the recurrent spontaneous phase); probes of the simulate and train
networks. Each stage reads the previous stage's store (its ``state`` group), runs one protocol and
writes its own store. Which stage follows which, what it reads and what it costs is one table,
:data:`homeoplastic.assemblies.stages.STAGE_TABLE`; the functions here receive a
:class:`~homeoplastic.assemblies.context.StageContext` that holds only the settings their table
row declares. Nothing here imports Snakemake: the workflow, the CLI and the tests all call these.
The settings themselves (protocol, record, rule variants) are :mod:`homeoplastic.assemblies.settings`.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies.connectivity import Pathway
from homeoplastic.assemblies.context import StageContext
from homeoplastic.assemblies.engine import RunRecord, Simulation
from homeoplastic.assemblies.experiments.istdp_fixed_point import istdp_fixed_point
from homeoplastic.assemblies.output import spike_arrays
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.assemblies.rate_match import rate_over_intact, run_settle
from homeoplastic.assemblies.runs import with_sweep_coords, write_run_store
from homeoplastic.assemblies.stimulus import StimulusSchedule, train_stage_schedule, training_schedule
from homeoplastic.assemblies.storage import open_state
from homeoplastic.parameters import from_mapping
from homeoplastic.store import open_store


# ---------------------------------------------------------------------------------- stages
def _checkpoint_path(out_path: str | os.PathLike[str]) -> Path:
    out = Path(out_path)
    return out.parent / ".checkpoints" / f"{out.name}.ckpt"


def _finish(ctx: StageContext, out_path, sim: Simulation, rec: RunRecord, *, extra_groups=None,
            **attrs) -> RunRecord:
    write_run_store(out_path, sim, rec, stage=ctx.store_stage, config=ctx.provenance,
                    sweep=ctx.point.as_dict(), extra_groups=extra_groups, **attrs)
    remove_checkpoints(out_path)
    return rec


def remove_checkpoints(out_path) -> None:
    """The stage's checkpoints, those of its sub-runs (e.g. perturb's pre-segment) and what a
    killed checkpoint write left beside them (``.NAME.ckpt.tmp-*``, ``.NAME.ckpt.old-*``)."""
    ckpt = _checkpoint_path(out_path)
    stem = Path(out_path).stem
    for stale in ckpt.parent.glob(f"{stem}*.ckpt"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in ckpt.parent.glob(f".{stem}*.ckpt.*-*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _load(path: str | os.PathLike[str], params: NetworkParams | None = None) -> Simulation:
    return Simulation.from_state_dataset(open_state(path).load(), params)


def _run(ctx: StageContext, sim: Simulation, duration_s: float, schedule, out_path,
         label: str) -> RunRecord:
    return sim.run(duration_s, schedule, ctx.record.spec(), progress=None,
                   checkpoint_path=_checkpoint_path(out_path),
                   checkpoint_every_s=ctx.record.checkpoint_every_s or None,
                   stale_checkpoint="restart", label=label)


def _label(ctx: StageContext, name: str) -> str:
    return f"{name} {ctx.point.run_id}"


def stage_simulate(ctx: StageContext, inputs: Mapping[str, str], out_path) -> RunRecord:
    """Build the network and assemblies from the seed; warm-up without plasticity."""
    sim = Simulation.build(ctx.network, ctx.point.seed)
    rec = _run(ctx, sim, ctx.protocol.warmup_s, None, out_path, _label(ctx, "simulate"))
    return _finish(ctx, out_path, sim, rec)


def stage_train(ctx: StageContext, inputs: Mapping[str, str], out_path) -> RunRecord:
    """Present every assembly's stimulus, shuffled, ``repetitions`` times with plasticity on."""
    protocol = ctx.protocol
    sim = _load(inputs["previous"], ctx.network)
    schedule = train_stage_schedule(protocol, ctx.point.seed)
    duration = max(schedule.end_s + protocol.stimulus_off_s, protocol.stimulus_on_s)
    rec = _run(ctx, sim, _on_grid(duration, sim), schedule, out_path, _label(ctx, "train"))
    return _finish(ctx, out_path, sim, rec)


def _on_grid(seconds: float, sim: Simulation) -> float:
    dt_s = sim.params.dt_ms * 1e-3
    return round(seconds / dt_s) * dt_s


def nonrecurrent_params(params: NetworkParams, protocol) -> NetworkParams:
    """Excitatory EPSPs blocked and replaced by extra external drive (docs/models/assemblies.md, 6.4).

    The paper: "excitatory spikes did not cause EPSPs in postsynaptic targets", so E->I is blocked
    too unless ``nonrecurrent_block_e_to_i`` is false (E->E only, the narrower reading of 6.4).
    iSTDP's weight bounds are removed unless ``nonrecurrent_istdp_bounds`` (paper Methods: "removed
    synaptic bounds for inhibitory STDP"), so every cell's inhibition can reach its target rate.
    """
    ext = params.external
    return params.replace(**{
        "ee_transmission": False,
        "plasticity.istdp_bounded": protocol.nonrecurrent_istdp_bounds,
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


def stage_spontaneous_recurrent(ctx: StageContext, inputs: Mapping[str, str], out_path) -> RunRecord:
    """No stimulus, plasticity on, intact network, for ``spontaneous_s``."""
    sim = _load(inputs["previous"], ctx.network)
    rec = _run(ctx, sim, ctx.protocol.spontaneous_s, None, out_path,
               _label(ctx, "spontaneous-recurrent"))
    return _finish(ctx, out_path, sim, rec, mode="recurrent")


def stage_spontaneous_nonrecurrent(ctx: StageContext, inputs: Mapping[str, str],
                                   out_path) -> RunRecord:
    """The non-recurrent control: no stimulus, plasticity on, E EPSPs replaced by external drive.

    The control blocks E->E transmission and adds external drive. Its E cells' rates in the
    intact spontaneous phase (``inputs["recurrent"]``; over its final
    ``nonrecurrent_rate_window_s``, so the rates after the intact network's inhibition has relaxed
    from training, or over all of it when that is 0) set its iSTDP targets: those rates
    themselves (``nonrecurrent_targets: intact_rates``), or targets whose iSTDP fixed point they
    are (``rate_matched``, :mod:`.rate_match`). It first settles for ``nonrecurrent_settle_s``
    with E->E plasticity frozen (and iSTDP ``nonrecurrent_settle_istdp_speed`` times faster),
    then runs as long as the intact phase with all plasticity on. The settle is not
    checkpointed: a resumed stage settles again, the same way bit for bit, and then resumes its
    main run from the checkpoint.
    """
    protocol = ctx.protocol
    params = nonrecurrent_params(ctx.network, protocol)
    settle = params.replace(**{"plasticity.ee_rule": "none", "istdp.eta_pf": params.istdp.eta_pf
                               * protocol.nonrecurrent_settle_istdp_speed})
    sim = _load(inputs["previous"], settle)
    n_exc = params.connectivity.n_exc
    intact_hz = per_cell_rates(inputs["recurrent"], n_exc, protocol.nonrecurrent_rate_window_s)
    sim.set_istdp_target_rates(intact_hz)
    groups, attrs = {}, {}
    if protocol.nonrecurrent_settle_s > 0:
        srec, targets_hz, resets = run_settle(
            sim, intact_hz, protocol.nonrecurrent_settle_s, mode=protocol.nonrecurrent_targets,
            interval_s=protocol.nonrecurrent_match_interval_s, tau_y_ms=params.istdp.tau_y_ms,
            label=_label(ctx, "settle"))
        groups["settle"], attrs = settle_summary(srec, targets_hz, sim.pathways["i_to_e"],
                                                 params.istdp.tau_y_ms, intact_hz=intact_hz,
                                                 members=assembly_mask(sim))
        attrs.update(settle_targets=protocol.nonrecurrent_targets, settle_target_resets=resets,
                     settle_target_over_intact=float(targets_hz.sum()
                                                     / max(intact_hz.sum(), 1e-12)))
    sim.set_params(params)
    rec = _run(ctx, sim, protocol.spontaneous_s, None, out_path,
               _label(ctx, "spontaneous-nonrecurrent"))
    return _finish(ctx, out_path, sim, rec, extra_groups=groups, mode="nonrecurrent", **attrs)


def settle_summary(rec: RunRecord, targets_hz: np.ndarray, i_to_e: Pathway | None = None,
                   tau_y_ms: float | None = None, *, intact_hz: np.ndarray | None = None,
                   members: np.ndarray | None = None) -> tuple[xr.Dataset, dict[str, float]]:
    """How close the control's E cells came to their iSTDP targets while it settled.

    Returns the settle's E rate per bin (time from the settle's start) and attrs over its final
    quarter (at least one bin): the mean E rate, the mean target, and the mean absolute per-cell
    rate error relative to the mean target (which includes the Poisson count noise of the window).
    Given the I->E pathway (its weights at the end) and tau_y, also iSTDP's own fixed point over
    that window (:mod:`.experiments.istdp_fixed_point`): the mean input correlations kappa and
    rho, and the E rate over the fixed point and the fixed point over the target, both as sums
    over the cells where the fixed point is defined. Given the intact rates, also the E rate over
    them, overall, per quartile of the intact rates and, given the assembly members' mask, over
    members and the other E cells (:func:`.rate_match.rate_over_intact`).
    """
    n_exc = targets_hz.size
    dt_s = rec.dt_ms * 1e-3
    done = rec.steps_done or rec.n_steps  # a guard stop ends the settle early
    edges = np.minimum(np.arange(0, done + rec.rate_bin_steps, rec.rate_bin_steps), done)
    edges = np.unique(edges)  # bin edges in steps from the start; the last bin may be short
    n_bins = edges.size - 1
    rate_hz = rec.counts_exc[:n_bins] / (n_exc * np.diff(edges) * dt_s)
    last = max(1, n_bins // 4)
    window_s = (edges[-1] - edges[-1 - last]) * dt_s
    steps, cells = spike_arrays(rec)
    keep = (steps >= rec.start_step + edges[-1 - last]) & (cells < n_exc)
    cell_hz = np.bincount(cells[keep], minlength=n_exc) / window_s
    mean_target = float(targets_hz.mean())
    trace = xr.Dataset(
        {"rate_exc_hz": ("time", rate_hz, {"units": "Hz", "long_name": "E rate while settling"}),
         "target_rate_exc_hz": ((), mean_target,
                                {"units": "Hz", "long_name": "mean iSTDP target of the E cells"})},
        coords={"time": ("time", edges[1:] * dt_s,
                         {"units": "s", "long_name": "time since the settle began (bin ends)",
                          "time_axis": "phase-relative"})},
    )
    attrs = {
        "settle_s": float(edges[-1] * dt_s),
        "settle_window_s": float(window_s),
        "settle_rate_exc_hz": float(cell_hz.mean()),
        "settle_target_rate_exc_hz": mean_target,
        "settle_cell_rate_error": float(np.abs(cell_hz - targets_hz).mean() / max(mean_target, 1e-12)),
    }
    if intact_hz is not None:
        attrs.update(rate_over_intact(cell_hz, intact_hz, members))
    if i_to_e is not None and tau_y_ms is not None and window_s > 5 * tau_y_ms * 1e-3:
        fp = istdp_fixed_point(steps, cells, n_exc, i_to_e, targets_hz, dt_ms=rec.dt_ms,
                               tau_y_ms=tau_y_ms, start_step=rec.start_step + edges[-1 - last],
                               end_step=rec.start_step + edges[-1])
        ok = np.isfinite(fp["fixed_point_hz"])
        if ok.any():
            attrs.update({
                "settle_istdp_kappa": float(fp["kappa"][ok].mean()),
                "settle_istdp_rho": float(fp["rho"][ok].mean()),
                "settle_rate_over_fixed_point": float(fp["rate_hz"][ok].sum()
                                                      / fp["fixed_point_hz"][ok].sum()),
                "settle_fixed_point_over_target": float(fp["fixed_point_hz"][ok].sum()
                                                        / max(targets_hz[ok].sum(), 1e-12)),
            })
    return trace, attrs


def assembly_mask(sim: Simulation) -> np.ndarray:
    """True for the E cells that belong to any tracked assembly."""
    members = np.zeros(sim.params.connectivity.n_exc, dtype=bool)
    for a in range(sim.n_assemblies):
        members[sim.assembly_members(a)] = True
    return members


def within_synapses(sim: Simulation, assembly: int) -> np.ndarray:
    """Indices of E->E synapses whose pre and post cells are both in ``assembly``."""
    members = np.zeros(sim.params.connectivity.n_exc, dtype=bool)
    members[sim.assembly_members(assembly)] = True
    ee = sim.pathways["e_to_e"]
    return np.nonzero(members[ee.pre_idx] & members[ee.post_idx])[0]


def _perturb(ctx: StageContext, inputs: Mapping[str, str], out_path, *, mode: str) -> RunRecord:
    """Reduce one assembly's within weights by a fraction and follow recovery
    (docs/models/assemblies.md, 6.5)."""
    protocol = ctx.protocol
    params = ctx.network if mode == "recurrent" else None
    sim = _load(inputs["previous"], params)  # the nonrecurrent store carries its own parameters
    label = _label(ctx, f"perturb-{mode}")
    first = _run(ctx, sim, protocol.perturb_at_s, None, Path(out_path).with_suffix(".pre"),
                 label) if protocol.perturb_at_s > 0 else None
    if first is not None and first.status != "completed":
        return _finish(ctx, out_path, sim, first, mode=mode)
    syn = within_synapses(sim, protocol.perturb_assembly)
    ee = sim.pathways["e_to_e"]
    before = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    ee.weight_pf[syn] *= 1.0 - protocol.perturb_fraction
    after = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    rec = _run(ctx, sim, protocol.perturb_duration_s - protocol.perturb_at_s, None, out_path,
               label)
    final = float(ee.weight_pf[syn].mean()) if syn.size else float("nan")
    recovery = (final - after) / (before - after) if before != after else float("nan")
    pre_ds = None
    if first is not None:
        from homeoplastic.assemblies.output import record_dataset

        pre_ds = record_dataset(sim, first)
    return _finish(ctx, out_path, sim, rec, mode=mode,
                   extra_groups={"before_perturbation": pre_ds} if pre_ds is not None else None,
                   perturbed_assembly=protocol.perturb_assembly,
                   perturb_fraction=protocol.perturb_fraction,
                   w_perturbed_before_pf=before, w_perturbed_after_pf=after,
                   w_perturbed_final_pf=final, recovery_fraction=recovery)


def stage_perturb_recurrent(ctx: StageContext, inputs: Mapping[str, str], out_path) -> RunRecord:
    """Perturb the intact network after its spontaneous phase and follow recovery."""
    return _perturb(ctx, inputs, out_path, mode="recurrent")


def stage_perturb_nonrecurrent(ctx: StageContext, inputs: Mapping[str, str],
                               out_path) -> RunRecord:
    """Perturb the non-recurrent control after its spontaneous phase and follow recovery."""
    return _perturb(ctx, inputs, out_path, mode="nonrecurrent")


def stage_remap(ctx: StageContext, inputs: Mapping[str, str], out_path) -> RunRecord:
    """Train a new stimulus set and follow old and new assemblies (paper Fig. 6)."""
    protocol = ctx.protocol
    params = ctx.network
    sim = _load(inputs["previous"], params)
    n_old = protocol.n_assemblies
    members, rng = remap_members(ctx.point.seed, n_old, params)
    for cells in members:
        sim.add_group(cells)
    sim.track_groups(2 * n_old)
    base = training_schedule(n_old, protocol.remap_repetitions, on_s=protocol.stimulus_on_s,
                             off_s=protocol.stimulus_off_s, rate_hz=protocol.stimulus_rate_hz,
                             rng=rng)
    schedule = StimulusSchedule(base.target + n_old, base.t_on_s, base.t_off_s, base.rate_hz)
    duration = _on_grid(schedule.end_s + protocol.remap_after_s, sim)
    start_s = sim.time_s
    rec = _run(ctx, sim, duration, schedule, out_path, _label(ctx, "remap"))
    return _finish(ctx, out_path, sim, rec, n_old_assemblies=n_old, n_new_assemblies=n_old,
                   presentations_end_s=start_s + schedule.end_s)


def remap_members(seed: int, n_new: int, params: NetworkParams
                  ) -> tuple[list[np.ndarray], np.random.Generator]:
    """The remap stage's new stimulus set (``n_new`` random E-cell sets drawn like the original
    assemblies) and the generator the stage goes on with (its presentation order).

    One function for the remap stage and the probes of the new set, so both use the same cells.
    """
    rng = np.random.default_rng([int(seed), 2])
    n_exc = params.connectivity.n_exc
    members = [np.nonzero(rng.random(n_exc) < params.assemblies.p_member)[0] for _ in range(n_new)]
    return members, rng


def stage_probe(ctx: StageContext, inputs: Mapping[str, str], out_path,
                assemblies: list[np.ndarray] | None = None) -> None:
    """Probe trials on a stage's saved network with plasticity frozen
    (docs/models/assemblies.md, 6.6 and 9); ``assemblies``: the cell sets to stimulate (default:
    the network's own assemblies)."""
    from homeoplastic.assemblies.experiments.probe import run_probe
    from homeoplastic.store import provenance_attrs, write_store

    state = open_state(inputs["previous"]).load()
    ckpt = _checkpoint_path(out_path)
    ds = run_probe(state, ctx.network, ctx.probe, ctx.point.seed, checkpoint_path=ckpt,
                   checkpoint_every_s=ctx.record.checkpoint_every_s or None, assemblies=assemblies)
    ds = with_sweep_coords(ds, ctx.point.as_dict())
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="probe", config=ctx.provenance, seed=ctx.point.seed,
        sweep=ctx.point.as_dict(), probed_store=str(inputs["previous"]),
        status=ds.attrs.get("status", "completed"),  # a probe the rate guard stopped says so
        probed_set="original" if assemblies is None else "remap"))
    remove_checkpoints(out_path)
    return None


def stage_probe_remap(ctx: StageContext, inputs: Mapping[str, str], out_path) -> None:
    """Probe trials of the remap stage's new stimulus set (paper Figs. 8, 9: "the new set of
    stimulus patterns ... before and after training on those patterns"), on the network before
    remapping (spontaneous_recurrent) or after it (remap)."""
    members, _ = remap_members(ctx.point.seed, ctx.protocol.n_assemblies, ctx.network)
    stage_probe(ctx, inputs, out_path, assemblies=members)


def stage_rate_dependence(section: Mapping[str, Any], out_path) -> None:
    """Weight change against pre and post rates for every E->E rule (paper Fig. 5a)."""
    from homeoplastic.assemblies.experiments.rate_dependence import RateMapSettings, rate_dependence
    from homeoplastic.store import provenance_attrs, write_store

    opts = dict(section.get("rate_dependence", {}))
    opts.pop("enabled", None)
    rates, rules, seed = opts.pop("rates_hz"), opts.pop("rules"), int(opts.pop("seed"))
    params = NetworkParams.from_dict(copy.deepcopy(dict(section.get("network", {}))))
    settings = from_mapping(RateMapSettings, opts, "assemblies.rate_dependence")
    ds = rate_dependence(params, rates, rules=rules, settings=settings, seed=seed)
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="rate_dependence", config={"assemblies": dict(section)}, seed=seed))


def stage_dt_check(section: Mapping[str, Any], out_path) -> None:
    """Training at several time steps against the seed-to-seed spread (paper supplementary)."""
    from homeoplastic.assemblies.experiments.dt_check import DtCheckSettings, dt_check
    from homeoplastic.store import provenance_attrs, write_store

    opts = dict(section.get("dt_check", {}))
    opts.pop("enabled", None)
    settings = from_mapping(DtCheckSettings, opts, "assemblies.dt_check")
    ds = dt_check(settings, network=copy.deepcopy(dict(section.get("network", {}))))
    write_store(out_path, ds, attrs=provenance_attrs(
        stage="dt_check", config={"assemblies": dict(section)}, seed=settings.seeds[0]))
