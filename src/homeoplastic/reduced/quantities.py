"""Scalars of one run, read from its analyze store: what a reduced sweep figure can plot.

Each quantity is a function of the analyze store's root dataset returning one number (NaN where
the run does not measure it, e.g. escape rates of the four-population model or a Gillespie check
that was skipped), with its unit and a label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Quantity:
    """One scalar per run: how to read it from the analyze store, its unit and its label."""

    read: Callable[[xr.Dataset], float]
    units: str
    label: str


def _escape(transition: str, estimator: str) -> Callable[[xr.Dataset], float]:
    def read(ds: xr.Dataset) -> float:
        if "escape_rate" not in ds:
            return float("nan")
        return float(ds["escape_rate"].sel(transition=transition, estimator=estimator))
    return read


def _plane_mean(name: str) -> Callable[[xr.Dataset], float]:
    return lambda ds: float(ds[name].mean())


def _bistable_fraction(ds: xr.Dataset) -> float:
    return float((ds["n_states"] > 1).mean())


def _final_gap(ds: xr.Dataset) -> float:
    """Mean over the train starts of |a - b| at the end of the plastic run, per w_max of the plane."""
    end = ds["trajectory"].isel(time_w=-1)
    w_max = float(ds["a"].max())
    return float(abs(end.isel(axis=0) - end.isel(axis=1)).mean() / w_max)


QUANTITIES: dict[str, Quantity] = {
    "escape_low_low": Quantity(_escape("out_of_low_low", "gillespie"), "1/tau",
                               "escape rate out of (low, low), Gillespie (M = 2)"),
    "escape_high_low": Quantity(_escape("out_of_high_low", "gillespie"), "1/tau",
                                "escape rate out of (high, low), Gillespie (M = 2)"),
    "escape_low_low_wkb": Quantity(_escape("out_of_low_low", "wkb_slaved"), "1/tau",
                                   "escape rate out of (low, low), WKB slaved (M = 2)"),
    "escape_high_low_wkb": Quantity(_escape("out_of_high_low", "wkb_slaved"), "1/tau",
                                    "escape rate out of (high, low), WKB slaved (M = 2)"),
    "high_occupancy": Quantity(_plane_mean("high_occupancy"), "1",
                               "occupancy of states with x > theta, mean over the plane"),
    "bistable_fraction": Quantity(_bistable_fraction, "1",
                                  "fraction of the plane with several stable states"),
    "final_weight_gap": Quantity(_final_gap, "w_max",
                                 "|a - b| at the end of the plastic runs, mean over starts"),
}


def quantities_of(ds: xr.Dataset) -> dict[str, float]:
    """Every quantity of one analyze store."""
    return {name: float(np.asarray(q.read(ds))) for name, q in QUANTITIES.items()}
