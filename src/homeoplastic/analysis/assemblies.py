"""Per-run statistics of the assembly chain: weight ratios, rates, reactivations, recovery.

``analyze_run`` reads the stores of one sweep point and returns a small regular dataset whose
variables combine across runs (``open_mfdataset``) into the sweep figures; ``analyze_stage`` is
the workflow's analyze step (stage statuses, sweep coordinates, provenance) around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.analysis.ablations import ABLATION_VARIABLES, ablation_statistics
from homeoplastic.analysis.gains import GAIN_VARIABLES, gain_scalars
from homeoplastic.analysis.nulls import NULL_VARIABLES, null_scalars
from homeoplastic.analysis.probe import probe_variables
from homeoplastic.assemblies.runs import with_sweep_coords
from homeoplastic.assemblies.stages import STAGES, input_run_id, store_status
from homeoplastic.assemblies.sweep import in_id_order
from homeoplastic.bundle import record_inputs
from homeoplastic.store import open_store, provenance_attrs, verify_store, write_point, write_store
from homeoplastic.sweep import Point, flatten

PEAK_BIN_S = 0.1
"""Bin of the peak E rate during training (s): healthy runs peak at 3.7-5.5 Hz, runaways at 22 Hz."""
ABSOLUTE_TIME = {"time_reference": "absolute",
                 "comment": "simulation clock: seconds since the network was built, one clock "
                            "for every stage of the run"}
"""Attrs of every time axis of analyze.zarr (all are on the simulation clock, none phase-relative:
``time_recurrent`` starts at 0 because the chain does, ``time_remap`` where remapping began)."""


def smoothed(values: np.ndarray, bin_ms: float, window_ms: float) -> np.ndarray:
    """Boxcar average along axis 0 over ``window_ms`` (same length, edges use fewer bins)."""
    width = max(1, round(window_ms / bin_ms))
    kernel = np.ones(width)
    num = np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), 0, values)
    den = np.convolve(np.ones(values.shape[0]), kernel, mode="same")
    return num / den.reshape((-1,) + (1,) * (values.ndim - 1))


def reactivation_events(
    rate_assembly_hz: np.ndarray,
    *,
    mean_rate_hz: float,
    bin_ms: float,
    threshold_factor: float = 4.0,
    min_rate_hz: float = 10.0,
    window_ms: float = 50.0,
) -> np.ndarray:
    """Number of upward threshold crossings of each assembly's smoothed rate.

    ``rate_assembly_hz`` is (time bin, assembly). The threshold is
    max(min_rate_hz, threshold_factor * mean_rate_hz).
    """
    if rate_assembly_hz.shape[0] < 2:
        return np.zeros(rate_assembly_hz.shape[1:], dtype=np.int64)
    rates = smoothed(np.nan_to_num(rate_assembly_hz), bin_ms, window_ms)
    threshold = max(min_rate_hz, threshold_factor * mean_rate_hz)
    above = rates > threshold
    return np.sum(above[1:] & ~above[:-1], axis=0) + above[0]


DOMINANCE_BLOCKS = 10
"""Contiguous time blocks whose means give each assembly's sampling error (:func:`rate_dominance`)."""
DOMINANCE_QUANTILE = 0.95
DOMINANCE_DRAWS = 20000
DOMINANCE_MIN_RATIO = 1.5
"""An assembly dominates when it fires at least this many times the mean over assemblies *and*
above what sampling explains; the paper-scale winner-take-all without iSTDP is 10.6x."""


def rate_dominance(rate_hz: np.ndarray, n_blocks: int = DOMINANCE_BLOCKS,
                   quantile: float = DOMINANCE_QUANTILE,
                   n_draws: int = DOMINANCE_DRAWS) -> tuple[float, float]:
    """(max/mean of the assemblies' mean rates, its ``quantile`` if every assembly fired alike).

    ``rate_hz`` is (time bin, assembly). Each assembly's standard error is the spread of its
    means over ``n_blocks`` contiguous blocks / sqrt(n_blocks); the null draws every assembly's
    mean from a normal around the common mean with that error (fixed seed: the same result every
    time). With a handful of assemblies and reactivations over a minute, max/mean is ~1.3 from
    sampling alone, so a fixed threshold would call a healthy network dominated; an assembly that
    really dominates (winner-take-all, 10x) lies far above the null's quantile.
    """
    rates = rate_hz.mean(axis=0)
    if rates.size < 2 or rate_hz.shape[0] < n_blocks or not rates.mean() > 0:
        return float("nan"), float("nan")
    blocks = np.stack([b.mean(axis=0) for b in np.array_split(rate_hz, n_blocks)])
    sem = blocks.std(axis=0, ddof=1) / np.sqrt(n_blocks)
    draws = np.random.default_rng(0).normal(rates.mean(), sem, size=(n_draws, rates.size))
    null = draws.max(axis=1) / draws.mean(axis=1)
    return float(rates.max() / rates.mean()), float(np.quantile(null, quantile))


def _ratio_series(path) -> tuple[np.ndarray, np.ndarray]:
    ds = open_store(path)
    return ds.snapshot_time.values, ds.w_ratio.values


def coarse_rate(rate_hz: np.ndarray, bin_ms: float, coarse_s: float) -> np.ndarray:
    """Mean over consecutive bins of ``coarse_s`` (a trailing partial bin is dropped).

    A series shorter than one coarse bin gives its overall mean as the single bin.
    """
    width = max(1, round(coarse_s * 1e3 / bin_ms))
    n = rate_hz.shape[0] // width
    if n == 0:
        return rate_hz.mean(axis=0, keepdims=True) if rate_hz.shape[0] else rate_hz[:0]
    return rate_hz[: n * width].reshape((n, width, *rate_hz.shape[1:])).mean(axis=1)


def relative_change(series: np.ndarray) -> float:
    """(last - first) / first of a time series; NaN when it is empty or starts at 0."""
    if series.size == 0 or series[0] == 0:
        return float("nan")
    return float((series[-1] - series[0]) / series[0])


def training_gain_kept(train_w: np.ndarray) -> np.ndarray:
    """Per assembly: (within weight at the end of training - before) / (its peak - before).

    ``train_w`` is the training store's (snapshot, pre group, post group) mean weights. 1 when
    the assemblies trained later leave an assembly's gain alone; below 1 when their training
    erodes it (the calcium rule's interference, paper Fig. 5b, c). NaN for an assembly that
    gained nothing.
    """
    n = train_w.shape[1] - 1
    within = np.diagonal(train_w, axis1=1, axis2=2)[:, :n]  # (snapshot, assembly)
    gain_peak = within.max(axis=0) - within[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(gain_peak > 0, (within[-1] - within[0]) / gain_peak, np.nan)


def assemblies_kept(train_w: np.ndarray, spont_w: np.ndarray) -> tuple[float, float]:
    """Fractions of assemblies kept and growing after training (paper Fig. 5b, c).

    ``train_w`` and ``spont_w`` are the (snapshot, pre group, post group) mean weights of the
    training and spontaneous stores (the last group: cells in no assembly). An assembly is kept
    when its within weight at the end of spontaneous activity holds at least half of what it gained
    in training; it grows when that weight ends above its value after training. Assemblies that
    gained nothing in training count as not kept.
    """
    n = train_w.shape[1] - 1
    before = np.diagonal(train_w[0], axis1=0, axis2=1)[:n]
    trained = np.diagonal(train_w[-1], axis1=0, axis2=1)[:n]
    end = np.diagonal(spont_w[-1], axis1=0, axis2=1)[:n]
    gain = trained - before
    kept = (gain > 0) & (end - before >= 0.5 * gain)
    return float(kept.mean()), float((end > trained).mean())


ANALYZE_VARIABLES = (
    "ratio_end_nonrecurrent", "ratio_change_nonrecurrent", "w_within_change_nonrecurrent",
    "settle_rate_exc_hz", "settle_rate_over_target", "settle_cell_rate_error",
    "settle_rate_over_fixed_point", "settle_fixed_point_over_target", "settle_istdp_rho",
    "settle_rate_over_intact", "settle_rate_over_intact_q1", "settle_rate_over_intact_q2",
    "settle_rate_over_intact_q3", "settle_rate_over_intact_q4", "settle_target_over_intact",
    "settle_rate_over_intact_members", "settle_rate_over_intact_others",
    "rate_exc_baseline_hz", "rate_inh_baseline_hz", "ratio_after_training",
    "w_within_after_training_pf", "w_assembly_to_outside_change_training",
    "training_gain_kept_min", "train_status_ok", "train_end_s", "rate_exc_train_max_hz",
    "assemblies_kept_fraction", "assemblies_growing_fraction", "rate_exc_post_training_hz",
    "rate_inh_post_training_hz", "ratio_end_recurrent", "ratio_change_recurrent",
    "w_within_change_recurrent", "assembly_rate_max_over_mean",
    "assembly_rate_max_over_mean_null_q95", "assembly_rate_dominance", "remap_ratio_old_end",
    "remap_ratio_new_end", "remap_w_within_old_change", "w_ratio_recurrent",
    "w_ratio_nonrecurrent", "w_within_rel_nonrecurrent", "rate_exc_train_hz",
    "w_within_rel_recurrent", "reactivations_per_min", "rate_assembly_spontaneous_hz",
    "w_ratio_old_remap", "w_ratio_new_remap", "w_within_old_remap_pf", "w_within_new_remap_pf",
    "run_completed", *NULL_VARIABLES, *ABLATION_VARIABLES, *GAIN_VARIABLES,
)
"""The variables an analyze store may hold, besides the probe statistics (``probe_*``): what a
sweep figure's panel may draw (checked before any job; a test checks the list against stores)."""


def settle_rate_match(attrs: Mapping[str, Any]) -> dict[str, xr.Variable]:
    """The control's E rate over the intact one at the end of its settle, overall and per
    quartile of the intact per-cell rates (q1 the lowest), and its iSTDP targets over the intact
    rates: the paper compares the two networks "despite the same rates" (0.95-1.05 in every
    quartile); also over the assembly members and the other cells. Empty for stores written
    before these attrs existed."""
    out = {}
    parts = {"": "all E cells", "_members": "assembly members", "_others": "E cells in no assembly",
             **{f"_q{k}": f"quartile {k} of the intact rates" for k in range(1, 5)}}
    for suffix, part in parts.items():
        name = f"settle_rate_over_intact{suffix}"
        if name in attrs:
            out[name] = xr.Variable((), float(attrs[name]), {
                "units": "1", "long_name": f"control's E rate at the end of its settle / the intact "
                                           f"network's ({part})"})
    if "settle_target_over_intact" in attrs:
        out["settle_target_over_intact"] = xr.Variable(
            (), float(attrs["settle_target_over_intact"]),
            {"units": "1", "long_name": f"control's final iSTDP targets / the intact rates "
                                        f"({attrs.get('settle_targets', 'intact_rates')})"})
    return out


def is_analyze_quantity(name: str) -> bool:
    """True when an analyze store may hold a variable of this name."""
    return name in ANALYZE_VARIABLES or name.startswith("probe_")


def analyze_run(paths: Mapping[str, str | Path], analysis: Mapping[str, float]) -> xr.Dataset:
    """Statistics of one run from its stage stores.

    ``paths`` maps stage names (simulate, train, spontaneous_recurrent, spontaneous_nonrecurrent,
    perturb_recurrent, perturb_nonrecurrent, remap, the probes) to stores; absent stages, and stages whose
    store says ``status: skipped`` (an earlier stage was stopped by the rate guard), are left out.
    """
    paths = {stage: path for stage, path in paths.items() if store_status(str(path))[0] != "skipped"}
    data: dict[str, xr.Variable] = {}
    coords: dict[str, xr.Variable] = {}

    def scalar(name: str, value: float, units: str, long_name: str) -> None:
        data[name] = xr.Variable((), float(value), {"units": units, "long_name": long_name})

    chain = [s for s in ("simulate", "train", "spontaneous_recurrent") if s in paths]
    times, ratios = [], []
    for stage in chain:
        t, r = _ratio_series(paths[stage])
        if times and t.size and t[0] == times[-1][-1]:
            t, r = t[1:], r[1:]  # the first snapshot repeats the previous stage's last
        times.append(t)
        ratios.append(r)
    if times:
        coords["time_recurrent"] = xr.Variable(
            "time_recurrent", np.concatenate(times), {"units": "s", "long_name": "time", **ABSOLUTE_TIME})
        data["w_ratio_recurrent"] = xr.Variable(
            "time_recurrent", np.concatenate(ratios),
            {"units": "1", "long_name": "within/between E->E weight (intact network)"})
    if "spontaneous_nonrecurrent" in paths:
        t, r = _ratio_series(paths["spontaneous_nonrecurrent"])
        coords["time_nonrecurrent"] = xr.Variable("time_nonrecurrent", t,
                                                  {"units": "s", "long_name": "time", **ABSOLUTE_TIME})
        data["w_ratio_nonrecurrent"] = xr.Variable(
            "time_nonrecurrent", r,
            {"units": "1", "long_name": "within/between E->E weight (non-recurrent control)"})
        scalar("ratio_end_nonrecurrent", r[-1], "1", "within/between at the end of the control")
        scalar("ratio_change_nonrecurrent", r[-1] - r[0], "1",
               "change of within/between over the control's spontaneous phase")
        within = open_store(paths["spontaneous_nonrecurrent"]).w_within_pf.values
        scalar("w_within_change_nonrecurrent", relative_change(within), "1",
               "relative change of the mean within-assembly weight over the control's phase")
        data["w_within_rel_nonrecurrent"] = xr.Variable(
            "time_nonrecurrent", within / within[0] - 1.0,
            {"units": "1", "long_name": "within weight relative to the control's start, minus 1"})
        settle = open_store(paths["spontaneous_nonrecurrent"]).attrs
        if "settle_rate_exc_hz" in settle:
            scalar("settle_rate_exc_hz", settle["settle_rate_exc_hz"], "Hz",
                   "control's E rate at the end of its settle (final quarter)")
            scalar("settle_rate_over_target", settle["settle_rate_exc_hz"]
                   / max(settle["settle_target_rate_exc_hz"], 1e-12), "1",
                   "control's E rate at the end of its settle / mean iSTDP target")
            scalar("settle_cell_rate_error", settle["settle_cell_rate_error"], "1",
                   "mean |cell rate - its target| / mean target at the end of the settle")
        if "settle_rate_over_fixed_point" in settle:
            scalar("settle_rate_over_fixed_point", settle["settle_rate_over_fixed_point"], "1",
                   "control's E rate at the end of its settle / iSTDP's fixed point "
                   "2 r0 / (kappa + rho) from the measured input correlations")
            scalar("settle_fixed_point_over_target", settle["settle_fixed_point_over_target"],
                   "1", "iSTDP's fixed point / the iSTDP targets (1 without correlations)")
            scalar("settle_istdp_rho", settle["settle_istdp_rho"], "1",
                   "I trace at E spikes / its mean (1 without correlations)")
        data.update(settle_rate_match(settle))
    if "simulate" in paths:
        base = open_store(paths["simulate"])
        half = base.time.size // 2
        scalar("rate_exc_baseline_hz", base.rate_exc_hz[half:].mean(), "Hz",
               "E rate before training (second half of the warm-up)")
        scalar("rate_inh_baseline_hz", base.rate_inh_hz[half:].mean(), "Hz",
               "I rate before training")
    train_groups = None  # the training store's (snapshot, pre group, post group) mean weights
    if "train" in paths:
        train = open_store(paths["train"])
        scalar("ratio_after_training", train.w_ratio[-1], "1", "within/between after training")
        scalar("w_within_after_training_pf", train.w_within_pf[-1], "pF",
               "mean within-assembly weight after training")
        if "w_assembly_pf" in train:  # the last group: cells in no assembly
            train_groups = train.w_assembly_pf.values
            onto_outside = train_groups[:, :-1, -1].mean(axis=1)
            scalar("w_assembly_to_outside_change_training", onto_outside[-1] / onto_outside[0] - 1.0,
                   "1", "relative change over training of the mean weight from assembly members onto "
                   "cells in no assembly (interference: potentiation by presynaptic activity alone)")
            kept_share = training_gain_kept(train_groups)
            scalar("training_gain_kept_min",
                   np.nanmin(kept_share) if np.isfinite(kept_share).any() else np.nan, "1",
                   "smallest fraction of its peak training gain an assembly's within weight "
                   "still holds at the end of training (interference erodes earlier assemblies)")
        scalar("train_status_ok", train.attrs["status"] == "completed", "1",
               "1 when training completed (0: stopped by the rate guard)")
        scalar("train_end_s", train.attrs["run_end_s"], "s",
               "simulated time at which training ended (earlier than planned if the guard stopped it)")
        bin_ms = float(train.attrs["rate_bin_ms"])
        rate_1s = coarse_rate(train.rate_exc_hz.values, bin_ms, analysis["train_rate_bin_s"])
        start = float(train.attrs["run_start_s"])
        coords["time_train"] = xr.Variable(
            "time_train", start + analysis["train_rate_bin_s"] * np.arange(rate_1s.size),
            {"units": "s", "long_name": "time (start of bin)", **ABSOLUTE_TIME})
        data["rate_exc_train_hz"] = xr.Variable(
            "time_train", rate_1s, {"units": "Hz", "long_name": "E rate during training"})
        # the peak on a finer grid: a runaway that the guard stops within a second would vanish
        # in the dropped partial last bin of the coarse rate
        peak = coarse_rate(train.rate_exc_hz.values, bin_ms, PEAK_BIN_S)
        scalar("rate_exc_train_max_hz", peak.max() if peak.size else np.nan, "Hz",
               f"largest E rate during training ({PEAK_BIN_S * 1e3:g}-ms bins)")
    if "spontaneous_recurrent" in paths:
        spont = open_store(paths["spontaneous_recurrent"])
        rate = float(spont.rate_exc_hz.mean())
        if train_groups is not None and "w_assembly_pf" in spont:
            kept, grew = assemblies_kept(train_groups, spont.w_assembly_pf.values)
            scalar("assemblies_kept_fraction", kept, "1",
                   "fraction of assemblies whose within weight keeps at least half of its training "
                   "gain to the end of the spontaneous phase")
            scalar("assemblies_growing_fraction", grew, "1",
                   "fraction of assemblies whose within weight grows in spontaneous activity")
            for name, value_units_name in gain_scalars(train_groups, spont.w_assembly_pf.values).items():
                scalar(name, *value_units_name)
        scalar("rate_exc_post_training_hz", rate, "Hz", "E rate in spontaneous activity after training")
        scalar("rate_inh_post_training_hz", spont.rate_inh_hz.mean(), "Hz", "I rate after training")
        scalar("ratio_end_recurrent", spont.w_ratio[-1], "1",
               "within/between at the end of the spontaneous phase")
        scalar("ratio_change_recurrent", spont.w_ratio[-1] - spont.w_ratio[0], "1",
               "change of within/between over the spontaneous phase")
        within = spont.w_within_pf.values
        scalar("w_within_change_recurrent", relative_change(within), "1",
               "relative change of the mean within-assembly weight over the spontaneous phase")
        coords["time_spontaneous"] = xr.Variable(
            "time_spontaneous", spont.snapshot_time.values,
            {"units": "s", "long_name": "time", **ABSOLUTE_TIME})
        data["w_within_rel_recurrent"] = xr.Variable(
            "time_spontaneous", within / within[0] - 1.0,
            {"units": "1", "long_name": "within weight relative to the phase's start, minus 1"})
        events = reactivation_events(
            spont.rate_assembly_hz.values, mean_rate_hz=rate, bin_ms=float(spont.attrs["rate_bin_ms"]),
            threshold_factor=analysis["reactivation_threshold_factor"],
            min_rate_hz=analysis["reactivation_min_hz"])
        seconds = float(spont.attrs["run_end_s"] - spont.attrs["run_start_s"])
        coords["assembly"] = xr.Variable("assembly", np.arange(events.size),
                                         {"units": "1", "long_name": "assembly index"})
        data["reactivations_per_min"] = xr.Variable(
            "assembly", events / seconds * 60.0,
            {"units": "1/min", "long_name": "spontaneous reactivations of each assembly"})
        rates = spont.rate_assembly_hz.mean("time").values
        data["rate_assembly_spontaneous_hz"] = xr.Variable(
            "assembly", rates, {"units": "Hz", "long_name": "mean rate of each assembly's members"})
        max_over_mean = rates.max() / max(rates.mean(), 1e-12)
        scalar("assembly_rate_max_over_mean", max_over_mean, "1",
               "largest assembly's mean rate / mean over assemblies (winner-take-all index)")
        _, null_q = rate_dominance(spont.rate_assembly_hz.values)
        scalar("assembly_rate_max_over_mean_null_q95", null_q, "1",
               "95th percentile of max/mean if every assembly fired at the common mean rate, "
               "with each assembly's measured sampling error (10 time blocks)")
        scalar("assembly_rate_dominance", max_over_mean / max(DOMINANCE_MIN_RATIO, null_q), "1",
               "max/mean over the larger of 1.5 and its equal-rate 95th percentile (> 1: one "
               "assembly fires at least 1.5x the mean and above what sampling explains)")
    for mode in ("recurrent", "nonrecurrent"):
        key = f"perturb_{mode}"
        if key in paths:
            attrs = open_store(paths[key]).attrs
            # a perturb stage the guard stopped (or that went non-finite) has no recovery
            scalar(f"recovery_fraction_{mode}", attrs.get("recovery_fraction", np.nan), "1",
                   f"recovered fraction of the perturbed within weight ({mode})")
    if "remap" in paths:
        remap = open_store(paths["remap"])
        n_old = int(remap.attrs["n_old_assemblies"])
        diag = np.diagonal(remap.w_assembly_pf.values, axis1=1, axis2=2)
        between = remap.w_between_pf.values
        with np.errstate(invalid="ignore", divide="ignore"):
            old = np.nanmean(diag[:, :n_old], axis=1) / between
            new = np.nanmean(diag[:, n_old:2 * n_old], axis=1) / between
        coords["time_remap"] = xr.Variable("time_remap", remap.snapshot_time.values,
                                           {"units": "s", "long_name": "time", **ABSOLUTE_TIME})
        data["w_ratio_old_remap"] = xr.Variable(
            "time_remap", old, {"units": "1", "long_name": "old assemblies: within / between"})
        data["w_ratio_new_remap"] = xr.Variable(
            "time_remap", new, {"units": "1", "long_name": "new assemblies: within / between"})
        scalar("remap_ratio_old_end", old[-1], "1", "old assemblies' within/between after remapping")
        scalar("remap_ratio_new_end", new[-1], "1", "new assemblies' within/between after remapping")
        w_old, w_new = np.nanmean(diag[:, :n_old], axis=1), np.nanmean(diag[:, n_old:2 * n_old], axis=1)
        data["w_within_old_remap_pf"] = xr.Variable(
            "time_remap", w_old, {"units": "pF", "long_name": "old assemblies: mean within weight"})
        data["w_within_new_remap_pf"] = xr.Variable(
            "time_remap", w_new, {"units": "pF", "long_name": "new assemblies: mean within weight"})
        scalar("remap_w_within_old_change", relative_change(w_old), "1",
               "relative change of the old assemblies' within weight during remapping")
    if "train" in paths:  # Figs. 1c, 3b, 3c: each quantity with its null
        for name, (value, units, long_name) in ablation_statistics(paths["train"]).items():
            scalar(name, value, units, long_name)
    data.update(probe_variables(paths, "probe_before", "probe_after", "probe"))
    data.update(probe_variables(paths, "probe_remap_before", "probe_remap_after", "probe_remap"))
    for name, (value, units, long_name) in null_scalars(paths, analysis, reactivation_events).items():
        scalar(name, value, units, long_name)  # each effect's null, beside it
    ds = xr.Dataset(data, coords=coords)
    ds.attrs["stores_json"] = json.dumps({k: str(v) for k, v in paths.items()})
    return ds


def analyze_stage(params: str | Mapping[str, Any], stores: Mapping[str, str], output: str) -> None:
    """Per-run statistics (:func:`analyze_run`) written as a store with provenance.

    Stages that were skipped after a guard stop count as absent; the store says which stage
    stopped the run and why (attrs ``run_status``, ``run_stopped_because``) and carries
    ``run_completed`` (1 or 0) so sweep figures can mark stopped runs.
    """
    settings = json.loads(params) if isinstance(params, str) else dict(params)
    sweep = in_id_order(settings["sweep"])
    write_point(output, sweep)
    point = Point(tuple(sweep.items()), tuple(sweep))
    present, stopped, skipped = {}, [], []
    for stage, path in stores.items():
        # a damaged store, or one of another stage or run, is refused with what to rerun
        verify_store(path, stage=STAGES[stage].stage_attr, run_id=input_run_id(point, stage))
        status, reason = store_status(path)
        if status == "skipped":
            skipped.append(stage)
            continue
        present[stage] = path
        if status != "completed":
            stopped.append(reason)
    ds = analyze_run(present, settings["analysis"])
    ds["run_completed"] = xr.Variable((), float(not stopped), {
        "units": "1", "long_name": "1 when every stage completed (0: the rate guard stopped it)"})
    ds = with_sweep_coords(ds, sweep)
    write_store(output, ds, attrs=provenance_attrs(
        stage="analyze", config={"assemblies": settings}, seed=sweep["seed"], sweep=sweep,
        run_status="completed" if not stopped else "aborted",
        run_stopped_because="; ".join(stopped), skipped_stages=skipped,
        settings_json=json.dumps(run_settings_flat(stores, settings), sort_keys=True)))
    record_inputs(output, stores)  # a bundle keeps this store while these inputs are unchanged


def run_settings_flat(stores: Mapping[str, str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting the run's stores record (network, protocol, record, probe) and the analysis
    settings, as dotted keys: what :func:`homeoplastic.store.open_sweep` reads the value of an
    axis from when a run does not name it (it ran at today's setting)."""
    flat: dict[str, Any] = {}
    for path in stores.values():
        config = json.loads(open_store(path).attrs.get("config_json", "{}")).get("assemblies", {})
        flat.update(flatten({k: v for k, v in config.items() if k != "sweep"}))
    flat.update(flatten({"analysis": settings.get("analysis", {})}))
    return flat
