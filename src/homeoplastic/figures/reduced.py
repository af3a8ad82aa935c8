"""Figures of the reduced population model (LKD 2014 Fig. 7); each takes a Dataset, returns a Figure.

Datasets come from ``homeoplastic.store.open_sweep`` over one model size M (sweep dims m, n, eta,
seed). Time is in population time constants (tau); rates x = n/N and weights are dimensionless.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from homeoplastic.figures import subplots

_SWEEP = ("m", "n", "eta", "seed")
_LABELS = {
    "uniform": "untrained (all W equal)",
    "diagonal": "trained (W11 = W22 = w_max)",
    "13_24": "assemblies (1,3) and (2,4)",
    "12_34": "assemblies (1,2) and (3,4)",
}


def _first_run(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel({d: 0 for d in _SWEEP if d in ds.dims})


def rates_figure(ds: xr.Dataset) -> Figure:
    """Fig. 7a/c: population rates (top) and the weight change they drive (bottom) for the
    untrained and trained configurations of the first run of the sweep."""
    run = _first_run(ds).load()
    m = int(run["m"])
    conds = list(run["condition"].values)
    fig, axes = subplots(
        2, len(conds), figsize=(5.2 * len(conds), 5.6), sharex=True, squeeze=False, height_ratios=[1.4, 1.0]
    )
    t = run["time"].values
    pairs = [(1, 1), (2, 1)] if m == 2 else [(1, 3), (1, 2)]
    w_max = float(run["weights"].max())
    for col, cond in enumerate(conds):
        ax = axes[0, col]
        for pop in run["pop"].values:
            ax.plot(t, run["rate"].sel(condition=cond, pop=pop), lw=0.8, label=f"population {pop}")
        ax.axhline(float(_theta(run)), color="0.5", ls=":", lw=0.8, label="theta")
        ax.set_title(_LABELS.get(cond, cond), fontsize=10)
        ax.set_ylabel("rate x = n/N (1)")
        ax.set_ylim(top=ax.get_ylim()[1] * 1.3)  # headroom: the legend sits above the traces
        ax.legend(fontsize=7, loc="upper right", ncol=3)
        ax = axes[1, col]
        for post, pre in pairs:
            dw = run["delta_w"].sel(condition=cond, post=post, pre=pre)
            ax.plot(t, dw, lw=1.0, label=f"ΔW{post}{pre}")
        ax.axhline(0.0, color="0.5", lw=0.6)
        ax.set_xlabel("time (population time constants)")
        ax.set_ylabel("weight drive η∫(D - row mean) dt (1)")
        ax.set_ylim(top=ax.get_ylim()[1] + 0.3 * np.ptp(ax.get_ylim()))
        ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.suptitle(
        f"{m}-population model, N = {float(run['n']):g} (2-pop units), "
        f"eta = {float(run['eta']):g}, seed {int(run['seed'])}. Bottom: the change the rates would "
        f"drive with the weights held fixed\n(row sums held, bounds ignored), so it can pass the "
        f"weight range [0, w_max = {w_max:g}]: its sign and slope show the direction of learning",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _theta(run: xr.Dataset) -> float:
    import json

    return float(json.loads(run.attrs.get("config_json", "{}")).get("theta", 1.8))


def field_figure(ds: xr.Dataset) -> Figure:
    """Fig. 7b/d: the weight vector field on the plane, one panel per (N, eta).

    Shading: occupancy of states with a population above theta. Blue arrows: direction of the
    field from metastable occupancies (length uniform, colour log10 speed); black arrows: the
    field estimated from frozen-weight Gillespie runs; red: plastic Gillespie trajectories (all
    seeds), starting at the dots.
    """
    ns = ds["n"].values
    etas = ds["eta"].values
    fig, axes = subplots(
        len(etas),
        len(ns),
        figsize=(4.6 * len(ns) + 1.5, 4.4 * len(etas) + 0.8),
        squeeze=False,
        layout="constrained",
    )
    first = ds.isel(m=0)
    names = [str(v) for v in first["axis"].values]
    all_speed = np.hypot(*[first["field"].isel(component=i).values for i in (0, 1)])
    moving_all = all_speed[all_speed > 1e-12]
    clim = (np.log10(moving_all.min()), np.log10(moving_all.max())) if moving_all.size else (-6, -3)
    for r, eta in enumerate(etas):
        for c, n in enumerate(ns):
            ax = axes[r, c]
            run = first.sel(n=n, eta=eta).load()
            one = run.isel(seed=0)
            a, b = one["a"].values, one["b"].values
            occ = one["high_occupancy"].transpose("b", "a").values
            mesh = ax.pcolormesh(a, b, occ, shading="nearest", cmap="Greys", vmin=0, vmax=1, alpha=0.5)
            u = one["field"].isel(component=0).transpose("b", "a").values
            v = one["field"].isel(component=1).transpose("b", "a").values
            speed = np.hypot(u, v)
            moving = speed > 1e-12
            aa, bb = np.meshgrid(a, b)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = ax.quiver(
                    aa[moving],
                    bb[moving],
                    (u / speed)[moving],
                    (v / speed)[moving],
                    np.log10(speed[moving]),
                    cmap="viridis",
                    scale=28,
                    width=0.004,
                    clim=clim,
                )
            ax.plot(aa[~moving], bb[~moving], ".", color="0.6", ms=2)
            us = one["field_sampled"].isel(component=0).transpose("b_s", "a_s").values
            vs = one["field_sampled"].isel(component=1).transpose("b_s", "a_s").values
            sp = np.hypot(us, vs)
            sa, sb = np.meshgrid(one["a_s"].values, one["b_s"].values)
            with np.errstate(divide="ignore", invalid="ignore"):
                ax.quiver(sa, sb, us / sp, vs / sp, color="k", scale=18, width=0.003, alpha=0.7)
            for seed in run["seed"].values:
                tr = run["trajectory"].sel(seed=seed)
                for s in tr["start"].values:
                    path = tr.sel(start=s).values
                    ax.plot(path[:, 0], path[:, 1], color="tab:red", lw=1.0, alpha=0.8)
                    ax.plot(path[0, 0], path[0, 1], "o", color="tab:red", ms=3)
            ax.set_xlim(a[0] - 0.03 * a[-1], a[-1] * 1.03)
            ax.set_ylim(b[0] - 0.03 * b[-1], b[-1] * 1.03)
            ax.set_aspect("equal")
            ax.set_xlabel(f"{names[0]} (1)")
            ax.set_ylabel(f"{names[1]} (1)")
            ax.set_title(f"N = {n:g}, eta = {eta:g}", fontsize=10)
    fig.colorbar(
        q, ax=axes.ravel().tolist(), label="log10 |dW/dt| (1/tau), metastable", location="right", shrink=0.7
    )
    fig.colorbar(
        mesh,
        ax=axes.ravel().tolist(),
        label="occupancy of states with x > theta (1)",
        location="bottom",
        shrink=0.4,
        aspect=35,
    )
    fig.suptitle(f"{int(ds['m'].values[0])}-population model: weight vector field", fontsize=11)
    return fig


_ESTIMATOR_LABELS = {
    "wkb_slaved": "WKB, other population slaved",
    "exact_slaved": "exact 1-D passage, other slaved",
    "wkb_frozen": "WKB, other population frozen",
    "exact_frozen": "exact 1-D passage, other frozen",
}
_TRANSITION_TITLES = {
    "out_of_low_low": "escape from (low, low): an assembly ignites",
    "out_of_high_low": "escape from (high, low): leaving the one-active state",
}


def escape_figure(ds: xr.Dataset) -> Figure:
    """Transition rates of the trained 2-population model against N: metastable-chain
    estimators (open markers) and direct Gillespie escape times (black, +-2 SE), mean over seeds.

    Estimators are drawn side by side around each N so that equal values stay visible; with a
    single N the x axis is categorical (estimator), with several it is log N.
    """
    run = ds.isel(m=0, eta=0).load()
    n = np.atleast_1d(run["n"].values)
    single = n.size == 1
    fig, axes = subplots(1, 2, figsize=(11, 4.2), sharey=False)
    markers = {"wkb_slaved": "o", "exact_slaved": "s", "wkb_frozen": "^", "exact_frozen": "v"}
    offsets = np.linspace(-0.3, 0.3, len(markers) + 1)
    for ax, tr in zip(axes, run["transition"].values, strict=True):
        rates = run["escape_rate"].sel(transition=tr)
        for k, (est, marker) in enumerate(markers.items()):
            x = np.full(n.size, offsets[k]) if single else n * np.exp(0.04 * offsets[k])
            ax.plot(x, rates.sel(estimator=est).mean("seed"), marker=marker, ms=7, mfc="none",
                    ls="none" if single else "-", lw=0.8, label=_ESTIMATOR_LABELS[est])
        g = rates.sel(estimator="gillespie").mean("seed")
        se = run["escape_rate_se"].sel(transition=tr, estimator="gillespie").mean("seed")
        xg = np.full(n.size, offsets[-1]) if single else n * np.exp(0.04 * offsets[-1])
        ax.errorbar(xg, g, yerr=2 * se, fmt="o", color="k", ms=6, capsize=3,
                    label="Gillespie escape times (+-2 SE)")
        ax.set_yscale("log")
        if single:
            ax.set_xticks([])
            ax.set_xlim(-0.6, 0.6)
            ax.set_xlabel(f"estimators side by side, N = {n[0]:g}")
        else:
            ax.set_xscale("log")
            ax.set_xlabel("system size N (1)")
        ax.set_ylabel("escape rate (1/tau)")
        ax.set_title(_TRANSITION_TITLES.get(str(tr), str(tr).replace("_", " ")), fontsize=10)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle("Trained 2-population model: transition rates, chain estimators vs Gillespie",
                 fontsize=11)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------- sweep figure
def sweep_data(runs: list[tuple[dict, str]]) -> xr.Dataset:
    """Every quantity of :mod:`homeoplastic.reduced.quantities` per run, as a dataset whose
    dimensions are the sweep's axes (seed included); NaN where the sweep has no run.

    ``runs`` pairs each point's values (every axis, by name) with its analyze store; points that
    differ only in what the analyze stage does not read share a store.
    """
    import pandas as pd

    from homeoplastic.reduced.quantities import QUANTITIES, quantities_of
    from homeoplastic.store import open_store

    cache: dict[str, dict[str, float]] = {}
    rows, names = [], []
    for values, path in runs:
        if path not in cache:
            cache[path] = quantities_of(open_store(path))
        rows.append({**values, **cache[path]})
        names += [k for k in values if k not in names]
    frame = pd.DataFrame(rows).drop_duplicates(subset=names).set_index(names)
    ds = frame.to_xarray()
    for name, q in QUANTITIES.items():
        ds[name].attrs.update(units=q.units, long_name=q.label)
    return ds


def sweep_figure(data: xr.Dataset, panels: list[dict[str, str]]) -> Figure:
    """The configured panels: each point the mean over seeds with its 95 % CI (Student t,
    :func:`homeoplastic.stats.replicates.over_seeds`) and its n; one row per panel and per
    combination of the axes the panel does not place (x, hue, col), one column per ``col`` value.
    """
    import itertools

    from homeoplastic.stats.replicates import over_seeds

    rows = []
    for panel in panels:
        stats = over_seeds(data[panel["y"]], "seed")
        placed = [panel[r] for r in ("x", "hue", "col") if r in panel]
        rest = [d for d in stats["mean"].dims if d not in placed and stats.sizes[d] > 1]
        for combo in itertools.product(*(stats[d].values for d in rest)):
            rows.append((panel, stats.sel(dict(zip(rest, combo, strict=True))),
                         dict(zip(rest, combo, strict=True))))
    ncols = max(stats_cols(s, p) for p, s, _ in rows)
    fig, axes = subplots(len(rows), ncols, figsize=(4.6 * ncols, 3.6 * len(rows)), squeeze=False)
    for r, (panel, stats, fixed) in enumerate(rows):
        cols = stats[panel["col"]].values if "col" in panel else [None]
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(cols):
                ax.set_visible(False)
                continue
            part = stats if cols[c] is None else stats.sel({panel["col"]: cols[c]})
            _draw_panel(ax, part, panel)
            where = {**fixed, **({panel["col"]: cols[c]} if cols[c] is not None else {})}
            ax.set_title(", ".join(f"{k!s} = {_fmt(v)}" for k, v in where.items()),
                         fontsize=9)
    fig.suptitle("Reduced-model sweep: mean over seeds,\n95 % CI (Student t), n = seeds with a value",
                 fontsize=10)
    fig.tight_layout()
    return fig


def stats_cols(stats: xr.Dataset, panel: dict[str, str]) -> int:
    return stats.sizes[panel["col"]] if "col" in panel else 1


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def _draw_panel(ax, stats: xr.Dataset, panel: dict[str, str]) -> None:
    x_name = panel["x"]
    hues = stats[panel["hue"]].values if "hue" in panel else [None]
    x_values = stats[x_name].values
    numeric = np.issubdtype(x_values.dtype, np.number)
    positions = x_values.astype(float) if numeric else np.arange(x_values.size)
    for k, hue in enumerate(hues):
        part = stats if hue is None else stats.sel({panel["hue"]: hue})
        part = part.squeeze(drop=True) if part["mean"].ndim > 1 else part
        mean = np.asarray(part["mean"].values, float).ravel()
        low = np.asarray(part["ci_low"].values, float).ravel()
        high = np.asarray(part["ci_high"].values, float).ravel()
        n = np.asarray(part["n_seeds"].values).ravel()
        yerr = np.vstack([np.where(np.isfinite(low), mean - low, 0.0),
                          np.where(np.isfinite(high), high - mean, 0.0)])
        label = None if hue is None else f"{panel['hue']!s} = {_fmt(hue)}"
        ax.errorbar(positions, mean, yerr=yerr, marker="o", ms=4, capsize=3, lw=1.0, label=label,
                    color=f"C{k}")
        for x, y, count in zip(positions, mean, n, strict=True):
            if np.isfinite(y):
                ax.annotate(f"n={int(count)}", (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=6, color=f"C{k}")
    if not numeric:
        ax.set_xticks(positions, [str(v) for v in x_values])
    units = stats["mean"].attrs.get("units", "1")
    ax.set_xlabel(str(x_name))
    ax.set_ylabel(f"{panel['y']} ({units})")
    if hues[0] is not None:
        ax.legend(fontsize=7)
