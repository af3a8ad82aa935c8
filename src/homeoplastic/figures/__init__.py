"""Figures: one module per figure family, each a function of xarray datasets or store paths.

Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot's: importing this package
selects no backend and registers nothing globally, and ``fig.savefig`` renders with Agg whatever
backend the caller has (a notebook keeps its own).
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             constrained_layout: bool = False, **kwargs: Any) -> tuple[Figure, Any]:
    """``pyplot.subplots`` without pyplot: a free-standing Figure and its axes (same arguments)."""
    fig = Figure(figsize=figsize, layout="constrained" if constrained_layout else None)
    return fig, fig.subplots(nrows, ncols, **kwargs)
