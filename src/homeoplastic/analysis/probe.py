"""Numbers for the results table from the probe datasets before and after training.

The probe protocol itself runs the network and lives with the model
(:mod:`homeoplastic.assemblies.experiments.probe`); this module only reduces the datasets it writes.
"""

from __future__ import annotations

import warnings

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
    return out
