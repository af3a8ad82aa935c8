"""Nulls measured the same way as a run's effects, from the same stores.

A claim of the results table is judged against its null (:mod:`homeoplastic.stats.claims`): the
structure before training for "training forms assemblies", random groups of the assemblies' sizes
(a shuffled membership) for "assemblies reactivate", the unstimulated weights' drift for
"stimulated assemblies potentiate onto non-members" and "old assemblies weaken". Each null is a
scalar of the run's analyze store, beside the effect it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from homeoplastic.store import open_store

Detector = Callable[..., np.ndarray]
"""A reactivation counter: (bin, group) rates and keyword settings -> events per group."""

SHUFFLED_GROUPS_PER_ASSEMBLY = 4
"""Random groups drawn per assembly for the shuffled-membership null (fixed generator seed)."""
SHUFFLE_SEED = 0


def group_rates_hz(spike_step: np.ndarray, spike_cell: np.ndarray, groups: list[np.ndarray],
                   n_cells: int, start_step: int, n_bins: int, steps_per_bin: int,
                   dt_ms: float) -> np.ndarray:
    """(bin, group) mean rate of each group's cells, Hz: spikes per cell and bin over the bin.

    With the assemblies as ``groups`` this is the engine's recorded ``rate_assembly_hz``
    (tested), so random groups of the same sizes give its shuffled-membership null.
    """
    member_of = np.zeros((len(groups), n_cells), dtype=bool)
    for g, cells in enumerate(groups):
        member_of[g, cells] = True
    b = (np.asarray(spike_step, np.int64) - start_step) // steps_per_bin
    keep = (b >= 0) & (b < n_bins)
    b, cells = b[keep], np.asarray(spike_cell, np.int64)[keep]
    counts = np.zeros((n_bins, len(groups)))
    for g in range(len(groups)):
        hit = member_of[g, cells]
        counts[:, g] = np.bincount(b[hit], minlength=n_bins)
    sizes = np.array([max(len(c), 1) for c in groups], float)
    return counts / sizes / (steps_per_bin * dt_ms * 1e-3)


def shuffled_groups(sizes: np.ndarray, n_exc: int, per_assembly: int = SHUFFLED_GROUPS_PER_ASSEMBLY,
                    seed: int = SHUFFLE_SEED) -> list[np.ndarray]:
    """Random E-cell groups, ``per_assembly`` of each assembly's size (without replacement within
    a group); the same groups for the same sizes every time."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n_exc, size=int(s), replace=False))
            for s in np.repeat(np.asarray(sizes, int), per_assembly)]


def shuffled_reactivations_per_min(path: str | Path, ds, analysis: Mapping[str, float],
                                   mean_rate_hz: float, detector: Detector) -> float:
    """Reactivations per group and minute of random groups of the assemblies' sizes, with the
    detector and threshold of the real assemblies; NaN when the store kept no spikes. ``ds`` is
    the store at ``path``, already open."""
    try:
        spikes = open_store(path, group="spikes")
    except (FileNotFoundError, KeyError, OSError, ValueError):
        return float("nan")
    if "spike_step" not in spikes or "assembly_size" not in ds:
        return float("nan")
    dt_ms, bin_ms = float(ds.attrs["dt_ms"]), float(ds.attrs["rate_bin_ms"])
    steps_per_bin = round(bin_ms / dt_ms)
    start_step = round(float(ds.attrs["run_start_s"]) * 1e3 / dt_ms)
    n_bins = int(ds.sizes["time"])
    groups = shuffled_groups(ds.assembly_size.values, int(ds.attrs["n_exc"]))
    rates = group_rates_hz(spikes.spike_step.values, spikes.spike_cell.values, groups,
                           int(ds.attrs["n_neurons"]), start_step, n_bins, steps_per_bin, dt_ms)
    events = detector(rates, mean_rate_hz=mean_rate_hz, bin_ms=bin_ms,
                                 threshold_factor=analysis["reactivation_threshold_factor"],
                                 min_rate_hz=analysis["reactivation_min_hz"])
    seconds = float(ds.attrs["run_end_s"] - ds.attrs["run_start_s"])
    return float(events.mean() / seconds * 60.0)


def _within(w_groups: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Mean over assemblies lo..hi-1 of their within weight, per snapshot."""
    return np.nanmean(np.diagonal(w_groups, axis1=1, axis2=2)[:, lo:hi], axis=1)


def null_scalars(paths: Mapping[str, str | Path], analysis: Mapping[str, float],
                 detector: Detector) -> dict[str, tuple[float, str, str]]:
    """The run's nulls as ``name -> (value, units, long_name)`` (module docstring); a null whose
    stores the run lacks is left out. ``detector`` is the reactivation detector the real
    assemblies are counted with."""
    out: dict[str, tuple[float, str, str]] = {}
    if "simulate" in paths:
        base = open_store(paths["simulate"])
        out["ratio_before_training"] = (
            float(base.w_ratio[-1]), "1",
            "within/between before training (end of the warm-up): the null of 'training forms "
            "assemblies' and 'the network keeps them'")
    if "train" in paths:
        train = open_store(paths["train"])
        if "w_assembly_pf" in train:
            outside = train.w_assembly_pf.values[:, -1, -1]
            out["w_outside_change_training"] = (
                float(outside[-1] / outside[0] - 1.0), "1",
                "relative change over training of the mean weight among cells in no assembly "
                "(unstimulated weights): the null of the assemblies-onto-non-members change")
    spont = (open_store(paths["spontaneous_recurrent"]) if "spontaneous_recurrent" in paths
             else None)
    if spont is not None:
        out["reactivations_shuffled_per_min"] = (
            shuffled_reactivations_per_min(paths["spontaneous_recurrent"], spont, analysis,
                                           float(spont.rate_exc_hz.mean()), detector), "1/min",
            f"reactivations per minute of random E groups of the assemblies' sizes "
            f"({SHUFFLED_GROUPS_PER_ASSEMBLY} per assembly), same detector: the shuffled-"
            "membership null of 'assemblies reactivate'")
    if "remap" in paths:
        remap = open_store(paths["remap"])
        n_old = int(remap.attrs["n_old_assemblies"])
        between = remap.w_between_pf.values
        with np.errstate(invalid="ignore", divide="ignore"):
            new = _within(remap.w_assembly_pf.values, n_old, 2 * n_old) / between
        out["remap_ratio_new_start"] = (
            float(new[0]), "1", "new assemblies' within/between before remapping: the null of "
            "'a new stimulus set forms new assemblies'")
        if spont is not None:
            within = spont.w_within_pf.values
            spont_s = float(spont.attrs["run_end_s"] - spont.attrs["run_start_s"])
            remap_s = float(remap.attrs["run_end_s"] - remap.attrs["run_start_s"])
            if within.size and within[0] != 0 and spont_s > 0:
                drift = (within[-1] / within[0] - 1.0) * remap_s / spont_s
                out["remap_w_within_old_change_null"] = (
                    float(drift), "1",
                    "the assemblies' within-weight drift in spontaneous activity without "
                    "remapping, per second times the remapping's duration: the null of 'old "
                    "assemblies weaken'")
    return out


NULL_VARIABLES = ("ratio_before_training", "w_outside_change_training",
                  "reactivations_shuffled_per_min", "remap_ratio_new_start",
                  "remap_w_within_old_change_null")
"""The scalars :func:`null_scalars` may write to an analyze store."""
