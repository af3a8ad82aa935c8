"""Opening the random-network sweep's stores as one dataset, every axis a dimension.

Each store carries ``sweep_json`` (its run's visible point) and ``settings_json`` (the flat settings
it depended on); an axis that a store's point leaves out (it ran at the config's setting) takes its
value from ``settings_json``, so stores written before an axis was added sit at that axis's value.
The seed is a replicate dimension (reduce it with :func:`homeoplastic.stats.replicates.over_seeds`).
This is what the shared ``homeoplastic.store.open_sweep`` does for the other models; the balancing
stores are scalars per point, so they are stacked here directly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from homeoplastic.balancing.experiments import SweepPoint
from homeoplastic.parameters import spec_of
from homeoplastic.store import open_store

NAMED = ("n", "rank", "p", "seed")


def axis_attrs(key: str) -> dict[str, str]:
    """``long_name`` and ``units`` of a solver axis (``sweep.tol``) from its declaration."""
    if key.startswith("sweep."):
        for f in dataclasses.fields(SweepPoint):
            if f.name == key.split(".", 1)[1] and spec_of(f) is not None:
                spec = spec_of(f)
                return {"long_name": spec.description.rstrip("."), "units": spec.unit}
    return {"long_name": key, "units": ""}


def point_of(ds: xr.Dataset, path: Any = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """(visible point, flat settings) of a store."""
    try:
        return json.loads(ds.attrs["sweep_json"]), json.loads(ds.attrs.get("settings_json", "{}"))
    except KeyError:
        raise KeyError(f"store has no sweep values (attr sweep_json): {path}") from None


def open_points(paths: Iterable[str | os.PathLike[str]]) -> xr.Dataset:
    """The balance stores as one dataset with dims ``n, rank, p, seed`` and every other axis any
    store was run with; NaN where a point has no store."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("open_points needs at least one store")
    datasets = [open_store(p) for p in paths]
    points = [point_of(ds, p) for ds, p in zip(datasets, paths, strict=True)]
    extra = sorted({k for visible, _ in points for k in visible if k not in NAMED})
    keys = [*NAMED, *extra]
    rows, seen = [], {}
    coord_attrs: dict[str, dict] = {}
    for path, ds, (visible, settings) in zip(paths, datasets, points, strict=True):
        values = {}
        for key in keys:
            if key in visible:
                values[key] = visible[key]
            elif key in settings:
                values[key] = settings[key]
            else:
                raise KeyError(f"store has no value of the axis {key!r} (sweep_json or "
                               f"settings_json): {path}")
        values["rank"] = str(values["rank"])
        ident = tuple(values[k] for k in keys)
        if ident in seen:
            raise ValueError(f"two stores at the same sweep point {values}: {seen[ident]} and "
                             f"{path}")
        seen[ident] = path
        for key in keys:
            if key in ds.coords and key not in coord_attrs:
                coord_attrs[key] = dict(ds[key].attrs)
        ds = ds.drop_vars([k for k in keys if k in ds.variables])
        rows.append(ds.expand_dims("_run").assign_coords(
            {k: ("_run", [values[k]]) for k in keys}))
    stacked = xr.concat(rows, dim="_run", data_vars="all", coords="different", compat="equals",
                        join="outer", combine_attrs="drop_conflicts")
    combined = stacked.set_index(_run=keys).unstack("_run").transpose(*keys, ...)
    for key in keys:
        combined[key].attrs.update(coord_attrs.get(key) or axis_attrs(key))
    return combined


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
