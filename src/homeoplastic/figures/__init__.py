"""Figures: one module per figure family, each a function of xarray datasets or store paths.

Figures are plain :class:`matplotlib.figure.Figure` objects, not pyplot's: importing this package
selects no backend and registers nothing globally, and ``fig.savefig`` renders with Agg whatever
backend the caller has (a notebook keeps its own).
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

DPI = 130
"""Resolution (dots per inch) of every PNG figure the library and the workflow save. The balancing
figures read ``balancing.figures.dpi``, whose schema default is this value (a test ties them)."""

_SUBPLOT_KEYS = ("sharex", "sharey", "squeeze", "width_ratios", "height_ratios", "subplot_kw",
                 "gridspec_kw")


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    """``pyplot.subplots`` without pyplot: a free-standing Figure and its axes.

    The same arguments: grid keywords (``sharex``, ``squeeze``, ``height_ratios``, ...) go to
    :meth:`Figure.subplots`, every other keyword (``figsize``, ``layout``, ``constrained_layout``,
    ``dpi``, ...) to :class:`Figure`.
    """
    grid = {key: kwargs.pop(key) for key in _SUBPLOT_KEYS if key in kwargs}
    fig = Figure(**kwargs)
    return fig, fig.subplots(nrows, ncols, **grid)
