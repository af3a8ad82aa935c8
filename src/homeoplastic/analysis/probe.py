"""Numbers for the results table from the probe datasets before and after training.

The probe protocol itself runs the network and lives with the model
(:mod:`homeoplastic.assemblies.experiments.probe`); this module only reduces the datasets it writes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr


def _epoch_mean(da: xr.DataArray, dim: str, window_s: float, lo: float, hi: float) -> float:
    """Mean of ``da`` over windows (centres along ``dim``) lying wholly in [lo, hi)."""
    centre = da[dim].values
    inside = (centre - window_s / 2 >= lo - 1e-9) & (centre + window_s / 2 <= hi + 1e-9)
    if not inside.any():
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(da.values[..., inside]))


def probe_summary(before: xr.Dataset, after: xr.Dataset) -> dict[str, float]:
    """Numbers for a results table from probe datasets before and after training.

    Per tag (``before``, ``after``): mean-matched Fano factor in the baseline and during the
    stimulus and their difference (``fano_drop``, positive when variability falls at onset; also
    for stimulated members only, ``fano_members_drop``); AUC of
    member cells and of the population sum during the stimulus; noise correlations of same- and
    different-assembly pairs in the baseline (``spont``) and during the stimulus (``stim``); member
    and non-member rates at the probe strength; the pooled completion index of rates and of rate
    changes from baseline (``completion_evoked_index``).

    Paper Fig. 9c ("correlations ... suppressed when the assembly was stimulated"):
    ``corr_stimulated_stim_minus_spont``, pairs within the stimulated assembly, during the
    stimulus minus the baseline (several windows each, pooled over stimuli by pairs); the
    untrained network's value is its null. ``corr_same_stim_minus_spont`` (pairs sharing any
    assembly) and ``corr_all_...`` (every pair) use one window per epoch. What the means rest on: the pairs
    that entered each mean (``n_same_pairs_spont``, ...; a pair with a silent cell is left out),
    the pairs the recorded cells allow (``n_same_pairs_possible``), the probe trials
    (``n_probe_trials``), the members' baseline rate and the time from a stimulus's end to the
    next baseline (``baseline_clear_s``). Stores written before these attrs give NaN there.
    """
    out: dict[str, float] = {}
    for tag, ds in (("before", before), ("after", after)):
        a = ds.attrs
        w, aw, on = float(a["window_s"]), float(a["auc_window_s"]), float(a["on_s"])
        fano = ds["fano_mean_matched"]
        base = _epoch_mean(fano, "window_time", w, -float(a["pre_s"]), 0.0)
        stim = _epoch_mean(fano, "window_time", w, 0.0, on)
        out[f"fano_baseline_{tag}"] = base
        out[f"fano_stimulus_{tag}"] = stim
        out[f"fano_drop_{tag}"] = base - stim
        out[f"auc_members_{tag}"] = _epoch_mean(ds["auc_members"], "auc_time", aw, 0.0, on)
        out[f"auc_population_{tag}"] = _epoch_mean(ds["auc_population"], "auc_time", aw, 0.0, on)
        for epoch, name in (("before", "spont"), ("during", "stim")):
            out[f"corr_same_{name}_{tag}"] = float(ds["corr_same"].sel(epoch=epoch))
            out[f"corr_different_{name}_{tag}"] = float(ds["corr_different"].sel(epoch=epoch))
        strength = ds["strength"].values
        at = int(np.argmin(np.abs(strength - float(a["rate_hz"]))))
        out[f"rate_members_at_probe_hz_{tag}"] = float(ds["gain_rate_members_hz"][at])
        out[f"rate_nonmembers_at_probe_hz_{tag}"] = float(ds["gain_rate_nonmembers_hz"][at])
        fano_m = ds["fano_members_mean_matched"]
        out[f"fano_members_drop_{tag}"] = (
            _epoch_mean(fano_m, "window_time", w, -float(a["pre_s"]), 0.0)
            - _epoch_mean(fano_m, "window_time", w, 0.0, on))
        out[f"completion_index_{tag}"] = float(ds["completion_index_pooled"])
        out[f"completion_evoked_index_{tag}"] = float(ds["completion_evoked_index_pooled"])
        for kind in ("same", "all"):
            corr = ds[f"corr_{kind}"]
            out[f"corr_{kind}_stim_minus_spont_{tag}"] = (float(corr.sel(epoch="during"))
                                                          - float(corr.sel(epoch="before")))
        if "corr_stimulated" in ds:  # pairs within the stimulated assembly, weighted by pairs
            n = ds["corr_n_stimulated_pairs"].values.astype(float)
            c = np.nan_to_num(ds["corr_stimulated"].values)
            with np.errstate(invalid="ignore", divide="ignore"):
                pooled = (c * n).sum(axis=0) / n.sum(axis=0)
            out[f"corr_stimulated_spont_{tag}"], out[f"corr_stimulated_stim_{tag}"] = map(float, pooled)
            out[f"corr_stimulated_stim_minus_spont_{tag}"] = float(pooled[1] - pooled[0])
            out[f"n_stimulated_pairs_spont_{tag}"] = float(n[:, 0].sum())
        for kind in ("same", "different"):
            for epoch, name in (("before", "spont"), ("during", "stim")):
                out[f"n_{kind}_pairs_{name}_{tag}"] = float(ds[f"corr_n_{kind}_pairs"].sel(epoch=epoch))
            out[f"n_{kind}_pairs_possible_{tag}"] = float(a.get(f"n_{kind}_pairs_possible", np.nan))
        out[f"n_probe_trials_{tag}"] = float(a.get("n_probe_trials", np.nan))
        out[f"rate_members_baseline_hz_{tag}"] = float(ds["gain_rate_members_hz"][0])
        out[f"baseline_clear_s_{tag}"] = float(a.get("baseline_clear_s", np.nan))
    return out


def probe_units(name: str) -> str:
    """Units of a :func:`probe_summary` number, from its name."""
    if "_hz_" in name:
        return "Hz"
    if name.startswith("n_") and "_pairs_" in name:
        return "pairs"
    if name.startswith("n_probe_trials"):
        return "trials"
    if name.startswith("baseline_clear_s"):
        return "s"
    return "1"


def probe_variables(paths: Mapping[str, str | Path], before: str, after: str,
                    prefix: str) -> dict[str, xr.Variable]:
    """The analyze scalars ``<prefix>_<name>`` of :func:`probe_summary` for the probe stores
    ``paths[before]`` and ``paths[after]`` (none when either is absent), with units."""
    from homeoplastic.store import open_store

    if before not in paths or after not in paths:
        return {}
    numbers = probe_summary(open_store(paths[before]), open_store(paths[after]))
    what = "remap stimulus set" if "remap" in prefix else "original stimulus set"
    return {f"{prefix}_{name}": xr.Variable((), float(value), {
        "units": probe_units(name),
        "long_name": f"probe statistics ({what}): {name.replace('_', ' ')}"})
        for name, value in numbers.items()}
