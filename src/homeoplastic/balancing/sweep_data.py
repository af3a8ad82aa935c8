"""Opening the random-network sweep's stores as one dataset, every axis a dimension.

Each store carries ``sweep_json`` (its run's visible point) and ``settings_json`` (the flat settings
it depended on); an axis that a store's point leaves out (it ran at the config's setting) takes its
value from ``settings_json``, so stores written before an axis was added sit at that axis's value.
The seed is a replicate dimension (reduce it with :func:`homeoplastic.stats.replicates.over_seeds`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from typing import Any

import xarray as xr

from homeoplastic.parameters import spec_of
from homeoplastic.store import open_sweep

NAMED = ("n", "rank", "p", "seed")


def axis_attrs(key: str) -> dict[str, str]:
    """``long_name`` and ``units`` of a solver axis (``sweep.tol``) from its declaration."""
    if key.startswith("sweep."):
        # here, not at the top: the experiments load the solvers (numba, scipy), which a figure
        # or table over the sweep's stores needs only when a solver setting is an axis
        from homeoplastic.balancing.experiments import SweepPoint

        for f in dataclasses.fields(SweepPoint):
            if f.name == key.split(".", 1)[1] and spec_of(f) is not None:
                spec = spec_of(f)
                return {"long_name": spec.description.rstrip("."), "units": spec.unit}
    return {"long_name": key, "units": ""}


def open_points(paths: Iterable[str | os.PathLike[str]]) -> xr.Dataset:
    """The balance stores as one dataset (:func:`homeoplastic.store.open_sweep`) with dims
    ``n, rank, p, seed`` and every other axis any store was run with, by its dotted key
    (``sweep.tol``); NaN where a point has no store."""
    ds = open_sweep(paths, short_names=False)
    extra = sorted(str(d) for d in ds.dims if d in ds.coords and d not in NAMED)
    ds = ds.transpose(*[d for d in (*NAMED, *extra) if d in ds.dims], ...)
    for key in (*NAMED, *extra):
        if key in ds.coords and not ds[key].attrs.get("long_name"):
            ds[key].attrs.update(axis_attrs(key))
    return ds


def at_settings(ds: xr.Dataset, settings: Mapping[str, Any]) -> tuple[xr.Dataset, dict[str, Any]]:
    """The dataset at the config's setting of each axis beyond ``n, rank, p, seed`` (the first
    value where the setting was not run), with the values chosen; for tables and figures that
    describe today's runs."""
    chosen = {}
    for dim in ds.dims:
        if dim in NAMED or dim not in ds.coords or "." not in str(dim):
            continue
        values = list(ds[dim].values)
        want = settings.get(str(dim))
        chosen[dim] = want if want in values else values[0]
    return ds.sel(chosen), chosen
