"""Figures of the E->E rules: rate dependence maps (paper Fig. 5a) and the time-step check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from homeoplastic.figures import DPI, subplots

RULE_TITLES = {"voltage": "voltage (Clopath)", "triplet": "triplet (Pfister-Gerstner)",
               "calcium": "calcium (Graupner-Brunel)",
               "calcium_plain": "calcium, plain (no cubic term, no noise)"}


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges for pcolormesh around (possibly unevenly spaced) centres."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] * 0.5, v[0] * 1.5])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_rate_dependence(ds: xr.Dataset, path: str | Path | None = None) -> Figure:
    """One panel per rule: mean weight change per second against pre- and postsynaptic rate.

    ``ds`` comes from
    :func:`homeoplastic.assemblies.experiments.rate_dependence.rate_dependence`. Each panel has
    its own colour scale, centred on zero (red: potentiation, blue: depression). Saved to ``path``
    when given.
    """
    da = ds["dw_dt_pf_per_s"]
    rules = [str(r) for r in da["rule"].values]
    fig, axes = subplots(1, len(rules), figsize=(4.4 * len(rules), 3.8), squeeze=False,
                             constrained_layout=True)
    pre = da["pre_rate_hz"].values
    post = da["post_rate_hz"].values
    for ax, rule in zip(axes[0], rules, strict=True):
        values = da.sel(rule=rule).values  # (pre, post)
        vmax = float(np.nanmax(np.abs(values))) or 1.0
        mesh = ax.pcolormesh(_edges(pre), _edges(post), values.T, cmap="RdBu_r", shading="flat",
                             norm=TwoSlopeNorm(vcenter=0.0, vmin=-vmax, vmax=vmax))
        ax.contour(pre, post, values.T, levels=[0.0], colors="k", linewidths=0.8)
        ax.set_xlabel(f"presynaptic rate [{da['pre_rate_hz'].attrs.get('units', 'Hz')}]")
        ax.set_ylabel(f"postsynaptic rate [{da['post_rate_hz'].attrs.get('units', 'Hz')}]")
        ax.set_title(RULE_TITLES.get(rule, rule))
        bar = fig.colorbar(mesh, ax=ax)
        bar.set_label(f"dW/dt [{da.attrs.get('units', 'pF/s')}]")
    fig.suptitle(f"Rate dependence of E->E plasticity (W0 = {ds.attrs.get('w0_pf', np.nan):.2f} pF)")
    if path is not None:
        fig.savefig(path, dpi=DPI)
    return fig


def save_rate_dependence(store_path: str | Path, out_png: str | Path) -> None:
    """Workflow entry: open the map store, draw the panels, save the PNG."""
    from homeoplastic.store import open_store

    plot_rate_dependence(open_store(store_path).load(), out_png)


def plot_dt_check(ds: xr.Dataset, path: str | Path | None = None) -> Figure:
    """Ratio and E rate after training at each time step; one marker per seed.

    The shaded band is the reference (coarsest dt) plus or minus the tolerance in seed spreads.
    """
    fig, axes = subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
    tolerance = float(ds.attrs.get("tolerance_spreads", 3.0))
    for ax, name, spread_name, label in (
            (axes[0], "ratio_after_training", "ratio_seed_spread", "within / between [1]"),
            (axes[1], "rate_exc_hz", "rate_seed_spread_hz", "E rate [Hz]")):
        da = ds[name]
        for seed in da.seed.values:
            values = da.sel(seed=seed)
            ok = np.isfinite(values)
            ax.plot(ds.dt_ms.values[ok], values.values[ok], "o", ms=8, label=f"seed {seed}")
        reference, spread = float(da.isel(dt_ms=0, seed=0)), float(ds[spread_name])
        ax.axhspan(reference - tolerance * spread, reference + tolerance * spread,
                   color="0.85", zorder=0, label=f"reference ± {tolerance:g} seed spreads")
        ax.set_xscale("log")
        ax.set_xticks(ds.dt_ms.values, [f"{v:g}" for v in ds.dt_ms.values])
        ax.minorticks_off()
        ax.set_xlabel("time step dt [ms]")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(f"time-step independence (N = {ds.attrs.get('n_neurons', '?')}, "
                 f"learning speed {ds.attrs.get('learning_speed', '?')}x)")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI)
    return fig


def save_dt_check(store_path: str | Path, out_png: str | Path) -> None:
    """Workflow entry: open the dt-check store, draw, save the PNG."""
    from homeoplastic.store import open_store

    plot_dt_check(open_store(store_path).load(), out_png)
