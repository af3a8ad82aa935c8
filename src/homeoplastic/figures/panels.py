"""Sweep figures the user asks for: panels ``{y, x, hue, col}`` over any axes of a sweep.

A panel draws one or more per-run quantities (``y``; several share the axes, solid, dashed, ...)
against one axis (``x``), one line per value of ``hue`` and of every other swept axis, one subplot
per value of ``col``. Each point is the mean over seeds with its 95 % confidence interval
(:func:`homeoplastic.stats.replicates.over_seeds`; the band) and the legend gives the fewest seeds
behind a point (n); points where a seed's run stopped early (``run_completed`` 0) get a red cross.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from homeoplastic.stats.replicates import over_seeds

PANEL_KEYS = ("y", "x", "hue", "col")
_STYLES = ("-", "--", ":", "-.")


def quantities_of(panel: Mapping[str, Any]) -> list[str]:
    y = panel["y"]
    return [y] if isinstance(y, str) else list(y)


def check_panels(panels: Sequence[Mapping[str, Any]], is_quantity: Callable[[str], bool],
                 axes: Collection[str], where: str) -> None:
    """Refuse a panel naming a quantity or an axis the sweep does not have, naming it.

    ``axes`` are the names an axis may go by (alias, dotted key or its last part)."""
    for index, panel in enumerate(panels):
        path = f"{where}[{index}]"
        unknown = [k for k in panel if k not in PANEL_KEYS]
        if unknown or "y" not in panel or "x" not in panel:
            raise ValueError(f"{path}: a panel has keys y and x, optionally hue and col; got "
                             f"{sorted(panel)}")
        for name in quantities_of(panel):
            if not is_quantity(name):
                raise ValueError(f"{path}.y = {name!r} is not a quantity the runs' analysis "
                                 "stores hold")
        for key in ("x", "hue", "col"):
            if key in panel and panel[key] not in axes:
                raise ValueError(f"{path}.{key} = {panel[key]!r} is not an axis of the sweep; "
                                 f"allowed: {', '.join(sorted(axes))}")
        used = [panel[k] for k in ("x", "hue", "col") if k in panel]
        if len(set(used)) < len(used):
            raise ValueError(f"{path}: x, hue and col must be different axes; got {used}")


def dim_of(ds: xr.Dataset, name: str) -> str | None:
    """The dimension of ``ds`` an axis name stands for (dim name, dotted key or last part);
    None when the axis has one value in this sweep (open_sweep made no dimension)."""
    for dim in ds.dims:
        key = str(ds[dim].attrs.get("key", dim)) if dim in ds.coords else str(dim)
        if name in (dim, key) or key.endswith("." + name):
            return str(dim)
    return None


def _label(ds: xr.Dataset, dim: str) -> str:
    units = ds[dim].attrs.get("units", "")
    return f"{dim.replace('_', ' ')}" + (f" [{units}]" if units and units != "1" else "")


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(value)


def draw_panels(ds: xr.Dataset, panels: Sequence[Mapping[str, Any]], *, title: str = "",
                seed_dim: str = "seed", ncols: int = 4) -> Figure:
    """One subplot per panel and ``col`` value of a sweep opened with ``open_sweep``."""
    cells = []
    for panel in panels:
        col = dim_of(ds, panel["col"]) if "col" in panel else None
        for value in (ds[col].values if col else [None]):
            cells.append((panel, col, value))
    ncols = max(1, min(ncols, len(cells)))
    nrows = int(np.ceil(len(cells) / ncols)) if cells else 1
    fig = Figure(figsize=(3.4 * ncols, 3.2 * nrows), constrained_layout=True)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(cells):]:
        ax.set_axis_off()
    for ax, (panel, col, col_value) in zip(axes.flat, cells, strict=False):
        _draw(ax, ds, panel, col, col_value, seed_dim)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _draw(ax, ds: xr.Dataset, panel: Mapping[str, Any], col: str | None, col_value: Any,
          seed_dim: str) -> None:
    x = dim_of(ds, panel["x"])
    hue = dim_of(ds, panel["hue"]) if "hue" in panel else None
    names = [n for n in quantities_of(panel) if n in ds]
    sub = ds.sel({col: col_value}) if col else ds
    if x is None or not names:
        missing = "the x axis has one value" if x is None else "no run has this quantity"
        ax.text(0.5, 0.5, f"{', '.join(quantities_of(panel))}:\n{missing}", ha="center",
                va="center", transform=ax.transAxes, color="0.4")
        return
    others = [d for d in sub[names[0]].dims if d not in (x, seed_dim) and d != hue]
    line_dims = ([hue] if hue else []) + others
    combos = list(itertools.product(*(sub[d].values for d in line_dims))) or [()]
    percent = False
    for k, name in enumerate(names):
        da = sub[name]
        percent = "change" in name and da.attrs.get("units", "1") == "1"
        if percent:
            da = da * 100.0
        stats = over_seeds(da, seed_dim)
        lines = []
        for combo in combos:
            sel = dict(zip(line_dims, combo, strict=True))
            mean = stats["mean"].sel(sel)
            lines.append((combo, sel, mean))
        swept = [item for item in lines if int(np.isfinite(item[2]).sum()) >= 2]
        for j, (combo, sel, mean) in enumerate(swept or lines):
            if not np.isfinite(mean.values).any():
                continue
            low, high = stats["ci_low"].sel(sel), stats["ci_high"].sel(sel)
            n = stats[f"n_{seed_dim}s"].sel(sel)
            n_min = int(n.where(np.isfinite(mean)).min()) if np.isfinite(mean).any() else 0
            xs = sub[x].values
            label = ", ".join(f"{d.rsplit('.', 1)[-1].replace('_', ' ')} {_fmt(v)}"
                              for d, v in zip(line_dims, combo, strict=True))
            label = (label + (", " if label else "") + f"n = {n_min}"
                     + (f" ({name})" if len(names) > 1 else ""))
            (handle,) = ax.plot(xs, mean.values, marker="o", ls=_STYLES[k % len(_STYLES)],
                                color=f"C{j}", label=label)
            ax.fill_between(xs, low.values, high.values, color=handle.get_color(), alpha=0.2)
            if "run_completed" in sub:
                done = sub.run_completed.sel(sel)
                bad = ((done == 0).any(seed_dim).values if seed_dim in done.dims
                       else (done == 0).values) & np.isfinite(mean.values)
                if np.any(bad):
                    ax.scatter(xs[bad], mean.values[bad], marker="x", s=80, color="tab:red",
                               zorder=5, label="a run stopped early")
    units = "%" if percent else ds[names[0]].attrs.get("units", "")
    ylabel = " / ".join(n.replace("_", " ") for n in names) + (f" [{units}]" if units else "")
    ax.set_ylabel(textwrap.fill(ylabel, 42), fontsize=8)
    ax.set_xlabel(_label(ds, x))
    xs = sub[x].values
    if np.issubdtype(np.asarray(xs).dtype, np.number):
        ax.set_xticks(xs, [_fmt(v) for v in xs])
    if col:
        ax.set_title(f"{col.rsplit('.', 1)[-1].replace('_', ' ')} {_fmt(col_value)}", fontsize=9)
    if "change" in names[0]:
        ax.axhline(0.0, color="0.6", lw=0.8)  # no change
    elif ax.get_ylim()[0] > 0:
        ax.set_ylim(0.0, 1.15 * ax.get_ylim()[1])  # ratios and rates: differences to scale
    ax.legend(fontsize=6)
