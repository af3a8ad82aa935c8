"""Stacking many small runs into one sweep dataset with NumPy: the fast path of ``open_sweep``.

``xr.concat`` over a thousand datasets and an unstack took minutes; here the result's grid (the
sweep axes, sorted) and every other dimension's union of coordinate values are built first, and
each variable is one array filled run by run, NaN where a run has no value. The result is what
:func:`homeoplastic.store._open_sweep_xarray` returns for the same stores (a test checks that it is
identical), its variables wrapped in one dask chunk each so that it stays lazy for the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.storeread import RootVariable

_NOT_EQUAL = object()


def stack_runs(runs: Sequence[Mapping[str, RootVariable]], attrs: Sequence[Mapping[str, Any]],
               sweeps: Sequence[Mapping[str, Any]], points: Sequence[tuple], keys: Sequence[str],
               names: Mapping[str, str]) -> xr.Dataset | None:
    """One dataset of ``runs`` (each a store's root variables), dims ``names[key]`` for ``keys``
    first (``points``: each run's values of them), then each variable's own dims; None when the
    runs hold something this path does not stack exactly (a dimension without an index, a
    non-scalar coordinate that is not an index, a variable whose dims differ between runs)."""
    dims = [names[k] for k in keys]
    try:
        grid = [sorted(set(p[i] for p in points)) for i in range(len(keys))]
    except TypeError:  # an axis mixing text and numbers: leave it to xarray
        return None
    cell = [tuple(g.index(v) for g, v in zip(grid, p, strict=True)) for p in points]
    coord_attrs: dict[str, dict[str, Any]] = {}
    kept: list[dict[str, RootVariable]] = []
    for run, sweep in zip(runs, sweeps, strict=True):
        for key in keys:
            if key in run and run[key].is_coord and key not in coord_attrs:
                coord_attrs[key] = dict(run[key].attrs)
        own = {k: v for k, v in run.items()
               if v.dims or not (k in sweep or k in keys or v.is_coord)}
        if any(v.is_coord and v.dims != (k,) for k, v in own.items()):
            return None  # a non-index coordinate: xarray's rules for it are not repeated here
        kept.append(own)
    index = _union_indexes(kept)
    if index is None:
        return None
    order = list(dict.fromkeys(k for run in kept for k in run))
    shape = [len(g) for g in grid]
    data_vars, coords = {}, {}
    for name in order:
        present = [(i, run[name]) for i, run in enumerate(kept) if name in run]
        var_dims = present[0][1].dims
        if any(v.dims != var_dims for _, v in present):
            return None
        if present[0][1].is_coord:
            coords[name] = xr.Variable((name,), index[name],
                                       _combined_attrs([v.attrs for _, v in present]))
            continue
        full = shape + [len(index[d]) for d in var_dims]
        complete = len(present) == int(np.prod(shape)) and all(
            len(v.values.reshape(-1)) == int(np.prod(full[len(shape):])) for _, v in present)
        dtype = present[0][1].values.dtype
        fill: Any = None
        if not complete:
            dtype, fill = xr.core.dtypes.maybe_promote(dtype)
        out = np.full(full, fill, dtype=dtype) if fill is not None else np.empty(full, dtype)
        for i, var in present:
            where = tuple(np.searchsorted(index[d], kept[i][d].values) for d in var_dims)
            out[(*cell[i], *np.ix_(*where))] = var.values
        data_vars[name] = xr.Variable([*dims, *var_dims], _lazy(out),
                                      _combined_attrs([v.attrs for _, v in present]))
    for key, dim, values in zip(keys, dims, grid, strict=True):
        coords[dim] = xr.Variable((dim,), np.asarray(values),
                                  {**coord_attrs.get(key, {}), **({"key": key} if dim != key
                                                                  else {})})
    ds = xr.Dataset(data_vars, coords=coords, attrs=_combined_attrs(attrs))
    return ds.transpose(*dims, ...)


def _union_indexes(runs: Sequence[Mapping[str, RootVariable]]) -> dict[str, np.ndarray] | None:
    """Each dimension's sorted union of the runs' coordinate values; None when a dimension of a
    variable has no index coordinate in some run."""
    values: dict[str, list[np.ndarray]] = {}
    for run in runs:
        for name, var in run.items():
            for dim in var.dims:
                if dim not in run or not run[dim].is_coord:
                    return None
            if var.is_coord:
                values.setdefault(name, []).append(var.values)
    return {dim: np.unique(np.concatenate(parts)) for dim, parts in values.items()}


def _combined_attrs(all_attrs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """xarray's ``combine_attrs="drop_conflicts"``: each attr that no two runs give differently."""
    out: dict[str, Any] = {}
    dropped: set[str] = set()
    for attrs in all_attrs:
        for key, value in attrs.items():
            if key in dropped:
                continue
            if key not in out:
                out[key] = value
            elif not _equivalent(out[key], value):
                dropped.add(key)
                del out[key]
    return out


def _equivalent(first: Any, second: Any) -> bool:
    if isinstance(first, (list, np.ndarray)) or isinstance(second, (list, np.ndarray)):
        return bool(np.array_equal(np.asarray(first), np.asarray(second)))
    return bool(first == second)


def _lazy(values: np.ndarray) -> Any:
    """One dask chunk around values already in memory: the result is dask-backed like the
    xarray path's, so callers that compute lazily keep working."""
    import dask.array as da

    return da.from_array(values, chunks=values.shape or (), name=False)
