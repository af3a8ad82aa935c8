"""Figures of the synaptic-balancing experiments; each takes an xarray Dataset, returns a Figure.

Axis labels come from the variables' ``long_name`` and ``units`` attrs.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib import colormaps
from matplotlib.figure import Figure

from homeoplastic.figures import subplots

__all__ = [
    "convergence",
    "cost_ratio_vs_rank",
    "cost_ratio_vs_size",
    "perturbation_response",
    "rnn_robustness",
    "rnn_training",
    "sweep_panel",
    "two_neuron",
]


# Sweep coordinates come back from open_sweep without attrs; these are their labels.
_SWEEP_LABELS = {"n": ("network size N", "neurons"), "rank": ("rank of J", "1")}


def _label(da: xr.DataArray, fallback: str = "") -> str:
    default_name, default_units = _SWEEP_LABELS.get(str(da.name), (fallback or da.name, ""))
    name = da.attrs.get("long_name", default_name)
    units = da.attrs.get("units", default_units)
    return f"{name} [{units}]" if units else str(name)


def _rank_order(ranks) -> list[str]:
    vals = [str(r) for r in np.asarray(ranks).tolist()]
    return sorted(vals, key=lambda r: (r == "full", int(r) if r.isdigit() else 0))


def _seed_stats(da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    mean = da.mean("seed") if "seed" in da.dims else da
    std = da.std("seed") if "seed" in da.dims else xr.zeros_like(da)
    return mean.compute(), std.compute()


def _masked(ds: xr.Dataset, y: str) -> xr.DataArray:
    """A quantity where its solver converged (flow times: where the flow did), as the summary."""
    flow = y in ("flow_time", "flow_iterations")
    ok = ds["flow_converged" if flow else "solver_converged"]
    da = ds[y].astype(float).where(ok.fillna(False).astype(bool))
    da.attrs = dict(ds[y].attrs)
    return da


def _ordered(ds: xr.Dataset, dim: str) -> list:
    values = list(ds[dim].values)
    return _rank_order(values) if dim == "rank" else sorted(values)


def sweep_panel(ds: xr.Dataset, panel: dict, settings: dict | None = None) -> Figure:
    """One panel of ``balancing.figures.panels``: ``y`` against axis ``x``, a line per ``hue``
    value, a column per ``col`` value; each point the mean over seeds with its 95 % CI (Student t,
    :func:`homeoplastic.stats.replicates.over_seeds`) and the legend the seeds counted (n).

    Axes the panel does not name are taken at the config's setting (``settings``, dotted keys) or
    at their first value, and the title says which. With ``y = cost_ratio`` the band between the
    two bounds and the reference limits are drawn, as in the paper's Fig. 2.
    """
    from homeoplastic.stats.replicates import over_seeds

    y = panel["y"]
    x, hue, col = (panel.get(r) for r in ("x", "hue", "col"))
    shown = {x, hue, col, "seed"}
    fixed = {}
    for dim in ds.dims:
        if dim not in shown and dim in ds.coords:
            values = list(ds[dim].values)
            want = (settings or {}).get(str(dim))
            fixed[dim] = want if want in values else _ordered(ds, dim)[0]
    sub = ds.sel(fixed)
    stats = over_seeds(_masked(sub, y)).compute()
    bounds = ({k: over_seeds(_masked(sub, k))["mean"].compute()
               for k in ("lower_bound_ratio", "upper_bound_ratio")} if y == "cost_ratio" else {})
    cols = _ordered(sub, col) if col else [None]
    hues = _ordered(sub, hue) if hue else [None]
    xs = _ordered(sub, x)
    categorical = x == "rank" or not np.issubdtype(np.asarray(xs).dtype, np.number)
    pos = np.arange(len(xs)) if categorical else np.asarray(xs, float)
    fig, axes = subplots(1, len(cols), figsize=(5.2 * len(cols), 4.2), squeeze=False)
    colors = colormaps["viridis"](np.linspace(0, 0.9, len(hues)))
    for ax, c in zip(axes[0], cols, strict=True):
        for color, h in zip(colors, hues, strict=True):
            sel = {x: xs, **({hue: h} if hue else {}), **({col: c} if col else {})}
            m = stats["mean"].sel(sel).values
            lo, hi = stats["ci_low"].sel(sel).values, stats["ci_high"].sel(sel).values
            n = stats["n_seeds"].sel(sel).values
            err = np.vstack([m - lo, hi - m])
            seeds = f"n = {int(n.min())}" + (f"-{int(n.max())}" if n.max() != n.min() else "")
            label = (f"{hue.rstrip('_')} = {h}" if hue else y) + f" ({seeds})"
            ax.errorbar(pos, m, yerr=np.where(np.isfinite(err), err, 0), color=color, marker="o",
                        ms=4, capsize=2, label=label)
            if bounds:
                ax.fill_between(pos, bounds["lower_bound_ratio"].sel(sel).values,
                                bounds["upper_bound_ratio"].sel(sel).values, color=color,
                                alpha=0.1)
        if y == "cost_ratio":
            ax.axhline((2 / np.pi) ** 2, color="0.5", lw=0.8, ls="-.", label="(2/π)² rank-1 limit")
            p_here = c if col == "p" else fixed.get("p")
            if x == "n" and p_here is not None and float(p_here) == 2:
                ax.plot(pos, 1 - 1 / pos, color="k", lw=0.8, ls="--", label="1 - 1/N")
            ax.set_ylim(0, 1.02)
        if categorical:
            ax.set_xticks(pos, [str(v) for v in xs])
        elif x == "n" or (np.all(pos > 0) and pos.max() / pos.min() > 50):
            ax.set_xscale("log")
        ax.set_xlabel(_label(ds[x]))
        ax.set_ylabel(_label(ds[y]))
        title = [f"{col.rstrip('_')} = {c}"] if col else []
        title += [f"{str(k).rstrip('_')} = {v}" for k, v in fixed.items()]
        title += ["mean, 95 % CI over seeds"] + (["shaded: between the bounds"] if bounds else [])
        ax.set_title("; ".join(title), fontsize=8)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def cost_ratio_vs_rank(ds: xr.Dataset) -> Figure:
    """Cost ratio Cf/C0 against rank, a line per size, a column per p (the default panel)."""
    return sweep_panel(ds, {"y": "cost_ratio", "x": "rank", "hue": "n", "col": "p"})


def cost_ratio_vs_size(ds: xr.Dataset) -> Figure:
    """Cost ratio against network size, a line per rank, a column per p (the default panel)."""
    return sweep_panel(ds, {"y": "cost_ratio", "x": "n", "hue": "rank", "col": "p"})


def convergence(ds: xr.Dataset) -> Figure:
    """Gradient-flow time to |g|/C < 1e-8 and per-neuron residual after balancing, against rank."""
    ranks = _rank_order(ds["rank"].values)
    p = np.atleast_1d(ds["p"].values)[0]
    sub = ds.sel(p=p, rank=ranks)
    flow_time = sub["flow_time"].where(sub["flow_converged"].astype(bool))
    t_mean, _ = _seed_stats(flow_time)
    relax, _ = _seed_stats(sub["relaxation_time"])
    resid, _ = _seed_stats(sub["max_residual"])
    fig, axes = subplots(1, 2, figsize=(10.5, 4))
    x = np.arange(len(ranks))
    colors = colormaps["viridis"](np.linspace(0, 0.9, ds.sizes["n"]))
    for color, n in zip(colors, ds["n"].values, strict=True):
        axes[0].plot(x, t_mean.sel(n=n).values, "o-", color=color, label=f"N = {n} flow time")
        axes[0].plot(x, relax.sel(n=n).values, "s:", color=color, ms=3, label=f"N = {n} 1/(p λ₂)")
        axes[1].plot(x, resid.sel(n=n).values, "o-", color=color, label=f"N = {n}")
    for ax in axes:
        ax.set_xticks(x, ranks)
        ax.set_xlabel(_label(ds["rank"]))
        ax.set_yscale("log")
    axes[0].set_ylabel(_label(ds["flow_time"]))
    axes[0].set_title(f"p = {p:g}: convergence of the local flow (unreached runs omitted)", fontsize=9)
    axes[0].legend(fontsize=6, ncol=2)
    axes[1].set_ylabel(_label(ds["max_residual"]))
    axes[1].set_title("per-neuron balance residual after balancing", fontsize=9)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def two_neuron(ds: xr.Dataset) -> Figure:
    """Reciprocal pair becomes symmetric (flow vs closed form); a lone synapse decays forever."""
    fig, axes = subplots(1, 2, figsize=(10, 4))
    t = ds["time"].values
    for k, p in enumerate(ds["p"].values):
        sel = {"p": p}
        c = f"C{k}"
        axes[0].plot(t, ds["J12_exact"].sel(sel), color=c, lw=2, alpha=0.5, label=f"p={p:g} J12 exact")
        axes[0].plot(
            t,
            ds["J21_exact"].sel(sel),
            color=c,
            lw=2,
            alpha=0.5,
            ls="--",
            label=f"p={p:g} J21 exact",
        )
        axes[0].plot(t[::10], ds["J12_flow"].sel(sel)[::10], "o", color=c, ms=3)
        axes[0].plot(t[::10], ds["J21_flow"].sel(sel)[::10], "s", color=c, ms=3)
        axes[1].plot(
            t,
            ds["single_cost_exact"].sel(sel),
            color=c,
            lw=2,
            alpha=0.5,
            label=f"p={p:g} s0/(1+2p s0 t)",
        )
        axes[1].plot(
            t[::10],
            ds["single_cost_flow"].sel(sel)[::10],
            "o",
            color=c,
            ms=3,
            label=f"p={p:g} flow",
        )
    axes[0].axhline(float(ds["limit"]), color="k", lw=0.8, ls=":", label="sqrt|J12 J21|")
    axes[0].set_xlabel(_label(ds["time"]))
    axes[0].set_ylabel("synaptic weight [1]")
    axes[0].set_title("reciprocal pair becomes symmetric (markers: Euler flow)")
    axes[0].legend(fontsize=7)
    axes[1].set_xlabel(_label(ds["time"]))
    axes[1].set_ylabel(_label(ds["single_cost_exact"]))
    axes[1].set_title("single synapse: algebraic decay, no minimum")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def perturbation_response(ds: xr.Dataset) -> Figure:
    """Heterosynaptic pattern on a balanced sheet: dh map, dJ/J per synapse, linear vs exact."""
    fig, axes = subplots(1, 3, figsize=(14, 4.3))
    side = int(ds["side"])
    dh = ds["dh_exact"].values.reshape(side, side)
    lim = np.abs(dh).max()
    im = axes[0].imshow(dh.T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
    post, pre = int(ds["post_neuron"]), int(ds["pre_neuron"])
    x, y = ds["x"].values, ds["y"].values
    axes[0].annotate(
        "",
        xy=(x[post], y[post]),
        xytext=(x[pre], y[pre]),
        arrowprops={"arrowstyle": "->", "color": "k", "lw": 2},
    )
    # Synapse changes as short coloured segments from pre towards post.
    syn_post, syn_pre = ds["post"].values, ds["pre"].values
    rel = ds["dJ_rel_exact"].values
    keep = np.abs(rel) > 0.05 * np.abs(rel).max()
    for i, j, r in zip(syn_post[keep], syn_pre[keep], rel[keep], strict=True):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if abs(dx) > 1 or abs(dy) > 1:  # wrap-around edge of the torus
            continue
        axes[0].plot(
            [x[j] + 0.2 * dx, x[j] + 0.6 * dx],
            [y[j] + 0.2 * dy + 0.08 * dx, y[j] + 0.6 * dy + 0.08 * dx],
            color="darkorange" if r > 0 else "purple",
            lw=1 + 4 * abs(r) / np.abs(rel).max(),
        )
    fig.colorbar(im, ax=axes[0], label=_label(ds["dh_exact"]))
    axes[0].set_title(
        f"exact δh; arrow: synapse potentiated by ε = {float(ds['eps_shown']):g}\n"
        "bars: other synapses, orange up / purple down",
        fontsize=9,
    )
    axes[0].set_xlabel(_label(ds["x"]))
    axes[0].set_ylabel(_label(ds["y"]))
    lin, ex = ds["dJ_rel_linear"].values, ds["dJ_rel_exact"].values
    axes[1].plot(lin, ex, ".", ms=4)
    lo, hi = min(lin.min(), ex.min()), max(lin.max(), ex.max())
    axes[1].plot([lo, hi], [lo, hi], "k--", lw=0.8, label="identity")
    axes[1].set_xlabel(_label(ds["dJ_rel_linear"]))
    axes[1].set_ylabel(_label(ds["dJ_rel_exact"]))
    axes[1].set_title("every synapse: linear prediction vs exact")
    axes[1].legend(fontsize=7)
    axes[2].loglog(ds["eps"], ds["rel_error"], "o-")
    axes[2].axhline(0.01, color="0.5", ls=":", label="1 %")
    axes[2].set_xlabel(_label(ds["eps"]))
    axes[2].set_ylabel(_label(ds["rel_error"]))
    axes[2].set_title("error of the linear response")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _ci(da: xr.DataArray, ci: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean over seeds and the half-width of its ``ci`` confidence interval (t distribution)."""
    from scipy.special import stdtrit  # = scipy.stats.t.ppf(q, df), without scipy.stats' import

    if "seed" not in da.dims:
        v = np.asarray(da.values, float)
        return v, np.zeros_like(v), 1
    vals = np.asarray(da.transpose("seed", ...).values, float)
    n = int(np.sum(np.all(np.isfinite(vals.reshape(vals.shape[0], -1)), axis=1)))
    mean = np.nanmean(vals, axis=0)
    if n < 2:
        return mean, np.zeros_like(mean), n
    half = stdtrit(n - 1, 0.5 + ci / 2) * np.nanstd(vals, axis=0, ddof=1) / np.sqrt(n)
    return mean, half, n


def rnn_training(ds: xr.Dataset, ci: float = 0.95) -> Figure:
    """Validation loss, recurrent cost, normalised imbalance with its null, held-out R^2 per arm.

    Lines: mean over seeds; bands: ``ci`` confidence interval of the mean. The imbalance panel
    shows ||g||/C and, at the right edge, the row-permutation null (5-95 % range over
    permutations, seed mean) of each arm's final network (docs/models/balancing.md, 7.2).
    """
    fig, axes = subplots(1, 4, figsize=(18, 4.2))
    it = ds["iteration"].values
    runs = list(ds["run"].values)
    n_seeds = ds.sizes.get("seed", 1)
    for k, run in enumerate(runs):
        sel = ds.sel(run=run)
        color = f"C{k}"
        # plain and balance arms overlap in loss and cost: dashed balance drawn above solid plain
        arm = str(run).split()[0]
        style = {"plain": dict(ls="-", lw=2.4, zorder=2), "balance": dict(ls="--", lw=1.4, zorder=4)
                 }.get(arm, dict(ls="-.", lw=1.4, zorder=3))
        for ax, da in (
            (axes[0], sel["val_loss"]),
            (axes[1], sel["cost"]),
            (axes[2], sel["imbalance_norm"] / sel["cost"]),
        ):
            m, h, _ = _ci(da, ci)
            ax.plot(it, m, color=color, label=str(run), **style)
            ax.fill_between(it, m - h, m + h, color=color, alpha=0.15, lw=0)
        lo = float((sel["imbalance_null_p05"] / sel["cost_final"]).mean())
        hi = float((sel["imbalance_null_p95"] / sel["cost_final"]).mean())
        x0 = it[-1] * (1.03 + 0.025 * k)
        (null_bar,) = axes[2].plot([x0, x0], [lo, hi], color=color, lw=5, alpha=0.6,
                                   solid_capstyle="butt")
        m, h, _ = _ci(sel["heldout_r2"], ci)
        axes[3].bar(k, m, yerr=h, color=color, capsize=3)
    axes[2].legend([null_bar], ["null (rows permuted), 5-95 %:\nbars at the right edge"],
                   fontsize=7, loc="lower left")
    for ax in axes[:3]:
        ax.set_xlabel(_label(ds["iteration"]))
        ax.set_yscale("log")
    axes[0].set_ylabel(_label(ds["val_loss"]))
    axes[1].set_ylabel(_label(ds["cost"]))
    axes[2].set_ylabel("normalised imbalance |g| / C")
    axes[0].legend(fontsize=7)
    axes[3].axhline(0.9, color="0.4", ls="--", lw=0.8, label="R² = 0.9")
    axes[3].set_xticks(range(len(runs)), [str(r) for r in runs], rotation=30, fontsize=7)
    axes[3].set_ylabel(_label(ds["heldout_r2"]))
    axes[3].set_ylim(min(0.0, float(ds["heldout_r2"].min())), 1.02)
    axes[3].legend(fontsize=7)
    fig.suptitle(f"training, {n_seeds} seeds per arm; bands and bars: {ci:.0%} CI of the mean",
                 fontsize=10)
    fig.tight_layout()
    return fig


def rnn_robustness(ds: xr.Dataset, ci: float = 0.95) -> Figure:
    """Per-trial and trial-averaged MSE against noise / std(x): original vs balanced networks.

    Lines: geometric mean over seeds; bands: ``ci`` confidence interval of the mean of log MSE.
    Inset: total robustness cost before (C0) and after (Cf) balancing.
    """
    runs = ds["run"].values
    fig, axes = subplots(2, len(runs), figsize=(3.8 * len(runs), 7), squeeze=False)
    curves = (
        ("original", "o-", "k", "original"),
        ("balanced", "s--", "C0", "balanced"),
        ("balanced_pinned", "^:", "C3", "balanced, silent pinned"),
        ("anti_balanced", "v-.", "C1", "anti-balanced"),
    )
    for col, run in enumerate(runs):
        sel = ds.sel(run=run)
        xs, _, n = _ci(sel["sigma_normalised"], ci)
        for row, measure in enumerate(("mse_trial", "mse_avg")):
            ax = axes[row, col]
            for suffix, style, color, label in curves:
                if f"{measure}_{suffix}" not in sel:
                    continue
                # Geometric mean and CI of log(MSE): the seeds spread over decades.
                m, h, _ = _ci(np.log(sel[f"{measure}_{suffix}"]), ci)
                ax.plot(xs, np.exp(m), style, color=color, ms=3, label=label)
                ax.fill_between(xs, np.exp(m - h), np.exp(m + h), color=color, alpha=0.15, lw=0)
            ax.set_yscale("log")
            ax.set_xlabel(_label(ds["sigma_normalised"]))
            if col == 0:
                ax.set_ylabel(_label(ds[f"{measure}_original"]).replace(", original", ""))
            if row == 0:
                ax.set_title(f"{run} (n = {n})", fontsize=9)
                inset = ax.inset_axes([0.08, 0.6, 0.25, 0.33])
                c0, e0, _ = _ci(sel["robust_cost_before"], ci)
                cf, ef, _ = _ci(sel["robust_cost_after"], ci)
                inset.bar([0, 1], [c0, cf], yerr=[e0, ef], color=["k", "C0"], capsize=2)
                inset.set_xticks([0, 1], ["C₀", "C_f"], fontsize=6)
                inset.tick_params(labelsize=6)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        f"noise robustness after balancing with c_ij = r_j J_ij²; geometric mean over seeds, "
        f"bands: {ci:.0%} CI",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
