"""The claims of a results table drawn as their table judges them: one panel per claim, each
sweep point's mean with its 95 % CI over seeds, beside the null's mean (paper vs null at a glance).
"""

from __future__ import annotations

import csv
import math
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from homeoplastic.figures import DPI, subplots

COLOURS = {"yes": "tab:green", "no": "tab:red"}
"""Verdict colours; anything else (too few seeds, descriptive) is grey."""


def _float(text: object) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def point_label(run: str) -> str:
    """A short label of a sweep point's id: ``n_neurons~2000_rule~voltage_learning_speed~4`` ->
    ``N 2000 voltage 4x``."""
    return (run.replace("n_neurons~", "N ").replace("_rule~", " ")
            .replace("_learning_speed~", " ").replace("~", " ") + ("x" if "_learning_speed~" in run
                                                                    else ""))


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a results table (CSV)."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def plot_claims(rows: Iterable[Mapping[str, object]], path: str | Path | None = None,
                kinds: tuple[str, ...] = ("claim", "method")) -> Figure:
    """One panel per claim of ``kinds``: per sweep point (``run``) the mean (dot) and 95 % CI
    (bar) over seeds, coloured by the verdict, and the null's mean (open diamond). Rows without
    a value are left out; their verdict stays in the table."""
    panels: dict[str, list[Mapping[str, object]]] = {}
    for row in rows:
        if row.get("kind") in kinds and math.isfinite(_float(row.get("measured"))):
            panels.setdefault(f"Fig. {row['figure']}: {row['claim']}", []).append(row)
    n = max(len(panels), 1)
    cols = min(3, n)
    nrows = math.ceil(n / cols)
    height = [max(1.2, 0.35 * len(v) + 0.9) for v in panels.values()] or [2.0]
    fig, axes = subplots(nrows, cols, figsize=(5.2 * cols, sum(
        max(height[i:i + cols]) for i in range(0, len(height), cols))), squeeze=False,
        constrained_layout=True)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (title, items) in zip(axes.flat, panels.items(), strict=False):
        y = np.arange(len(items))
        for i, row in enumerate(items):
            mean, low, high = (_float(row[k]) for k in ("measured", "ci_low", "ci_high"))
            colour = COLOURS.get(str(row.get("agrees")), "0.5")
            if math.isfinite(low):
                ax.plot([low, high], [i, i], color=colour, lw=2.5, solid_capstyle="butt")
            ax.plot(mean, i, "o", color=colour, ms=5)
            null = _float(row.get("null_value"))
            if math.isfinite(null):
                ax.plot(null, i, "D", mfc="none", mec="k", ms=5)
        ax.set_yticks(y, [f"{point_label(str(r['run']))} (n = {r.get('n', '?')})"
                          for r in items], fontsize=6)
        ax.invert_yaxis()
        ax.set_title(textwrap.fill(title, 60), fontsize=7, loc="left")
        ax.set_xlabel(f"{items[0]['quantity']} [{items[0].get('units', '1')}]", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle("Claims over seeds: mean and 95 % CI (green: agrees, red: does not, grey: too "
                 "few seeds); open diamond: the null's mean", fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=DPI)
    return fig


def save_claims(table_path: str | Path, out_png: str | Path) -> None:
    """Workflow entry: read the results table, draw, save."""
    plot_claims(read_rows(table_path), out_png)
