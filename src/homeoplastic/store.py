"""Zarr stores: atomic writes, provenance attrs, and opening a sweep as one dataset.

Policy (one, passed explicitly everywhere): Zarr format 3 with **consolidated metadata, written
once** when the store is complete (nothing writes to a store after that, so the copy cannot go
stale). Readers then never list a store's folder: ``xr.open_zarr(path)`` with no options opens it
without warnings, even with the ``.snakemake_timestamp`` file Snakemake drops into directory
outputs, and opening a sweep of many stores on a cluster file system reads one file per store.
Stores written before this policy (no consolidated metadata) are still read, non-consolidated.

Every store is written to a hidden temporary sibling and renamed into place only when complete, so
a killed job never leaves a store that looks done. A store holds a main (regular) dataset at its
root and ragged data in named groups (``spikes``, ``weights``, ``state``), each an xarray dataset
of its own so that combining runs never aligns them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic import __version__

_TIMESTAMP_WARNING = r".*\.snakemake_timestamp.*"
"""Snakemake drops a `.snakemake_timestamp` file into directory() outputs; zarr warns about it
when it lists a store's folder (only stores without consolidated metadata are listed)."""
_STRING_DTYPE_WARNING = r"The data type .* does not have a Zarr V3 specification"
"""Text coordinates (labels) are stored as fixed-length UTF-32, which zarr-python reads back
faithfully but flags on write because the Zarr 3 spec has no string type yet; we accept that.
Both filters are scoped to the calls that raise them (``warnings.catch_warnings``), never global."""

ZARR_FORMAT = 3
CONSOLIDATED = True
COMPLETE_ATTR = "store_complete"


def variable(dims: str | tuple[str, ...], values: Any, units: str, long_name: str,
             **attrs: Any) -> xr.Variable:
    """An xarray variable with the ``units`` and ``long_name`` every stored variable carries."""
    return xr.Variable(dims, values, attrs={"units": units, "long_name": long_name, **attrs})


def provenance_attrs(
    *,
    stage: str,
    config: Mapping[str, Any],
    seed: int,
    sweep: Mapping[str, Any] | None = None,
    sim_seconds: float | None = None,
    wall_seconds: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Global attrs every store carries: resolved config (JSON), sweep values, seed, versions."""
    attrs: dict[str, Any] = {
        "stage": stage,
        "package": "homeoplastic",
        "package_version": __version__,
        "config_json": json.dumps(config, sort_keys=True, default=_json_default),
        "sweep_json": json.dumps(dict(sweep or {}), sort_keys=True, default=_json_default),
        "seed": int(seed),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": socket.gethostname(),
        "numpy_version": np.__version__,
    }
    if sim_seconds is not None:
        attrs["sim_seconds"] = float(sim_seconds)
    if wall_seconds is not None:
        attrs["wall_seconds"] = float(wall_seconds)
    for key, value in extra.items():
        attrs[key] = _jsonable(value)
    return attrs


def timed_write(
    path: str | os.PathLike[str],
    compute: Callable[[], xr.Dataset | tuple[xr.Dataset, Mapping[str, xr.Dataset]]],
    *,
    stage: str,
    config: Mapping[str, Any],
    seed: int,
    sweep: Mapping[str, Any] | None = None,
    sim_seconds: float | Callable[[xr.Dataset], float] | None = None,
    **extra: Any,
) -> tuple[xr.Dataset, Path]:
    """Run ``compute`` (returning a dataset, or a dataset and its groups), time it, and write the
    result atomically with :func:`provenance_attrs` (``wall_seconds`` = the computation's time).

    The one place every model's stage runner turns a computation into a store, so that timing and
    provenance are the same for all three models. ``sim_seconds`` may be a function of the
    result (a stage that learns its simulated time from what it ran). Returns the root dataset
    and the store's path.
    """
    start = time.perf_counter()
    result = compute()
    dataset, groups = result if isinstance(result, tuple) else (result, None)
    if callable(sim_seconds):
        sim_seconds = sim_seconds(dataset)
    attrs = provenance_attrs(stage=stage, config=config, seed=seed, sweep=sweep,
                             sim_seconds=sim_seconds, wall_seconds=time.perf_counter() - start,
                             **extra)
    return dataset, write_store(path, dataset, groups=groups, attrs=attrs)


def write_store(
    path: str | os.PathLike[str],
    dataset: xr.Dataset,
    *,
    groups: Mapping[str, xr.Dataset] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``dataset`` (root) and ``groups`` to a Zarr store at ``path``, atomically.

    The store is assembled in a temporary sibling directory and renamed into place; the root
    attr ``store_complete = True`` and then the consolidated metadata are written last. An
    existing store at ``path`` is replaced.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    # leftovers of writers that were killed mid-write (one writer per path at a time)
    for stale in final.parent.glob(f".{final.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    root = dataset.copy()
    root.attrs = {**root.attrs, **dict(attrs or {}), COMPLETE_ATTR: False}
    # consolidated once, at the end, so that the one copy covers every group and attribute
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_STRING_DTYPE_WARNING)
        root.to_zarr(tmp, mode="w", zarr_format=ZARR_FORMAT, consolidated=False)
        for name, group in (groups or {}).items():
            group.to_zarr(tmp, group=name, mode="w", zarr_format=ZARR_FORMAT, consolidated=False)
    _mark_complete(tmp)
    if CONSOLIDATED:
        _consolidate(tmp)
    if final.exists():
        trash = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)
    return final


def _mark_complete(store_path: Path) -> None:
    import zarr

    group = zarr.open_group(store_path, mode="r+", zarr_format=ZARR_FORMAT,
                            use_consolidated=False)
    group.attrs[COMPLETE_ATTR] = True


def _consolidate(store_path: Path) -> None:
    import zarr

    with warnings.catch_warnings():  # "not part of the Zarr format 3 specification" (yet)
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        warnings.filterwarnings("ignore", message=_STRING_DTYPE_WARNING)  # text coords, again
        zarr.consolidate_metadata(store_path, zarr_format=ZARR_FORMAT)


def _is_consolidated(path: Path) -> bool:
    """True when the store's root metadata holds the consolidated copy (stores of this policy)."""
    try:
        return bool(json.loads((path / "zarr.json").read_text()).get("consolidated_metadata"))
    except (OSError, ValueError):
        return False


def is_complete(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a store that was fully written."""
    import zarr

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_TIMESTAMP_WARNING)
            group = zarr.open_group(Path(path), mode="r", zarr_format=ZARR_FORMAT,
                                    use_consolidated=_is_consolidated(Path(path)))
    except Exception:
        return False
    return bool(group.attrs.get(COMPLETE_ATTR, False))


def open_store(path: str | os.PathLike[str], group: str | None = None) -> xr.Dataset:
    """Open one store (or one of its groups) lazily; refuses incomplete stores."""
    if not is_complete(path):
        raise FileNotFoundError(f"{path} is not a complete homeoplastic store")
    with warnings.catch_warnings():  # only older, non-consolidated stores list their folder
        warnings.filterwarnings("ignore", message=_TIMESTAMP_WARNING)
        return xr.open_zarr(Path(path), group=group, consolidated=_is_consolidated(Path(path)),
                            zarr_format=ZARR_FORMAT)


def load_group(path: str | os.PathLike[str], group: str) -> dict[str, np.ndarray]:
    """Read every variable of a ragged group into memory as NumPy arrays."""
    ds = open_store(path, group=group)
    return {name: np.asarray(ds[name].values) for name in ds.data_vars}


def open_sweep(
    paths: Iterable[str | os.PathLike[str]],
    sweep_keys: Iterable[str] | None = None,
    *,
    compat: str | None = None,
    scalars_only: bool = False,
) -> xr.Dataset:
    """Open many runs' stores (root datasets, one stage) as one dask-backed dataset.

    The axes come from the stores themselves: each store's sweep values (root attr
    ``sweep_json``, the values that name its run) become dimensions, the union over the stores
    unless ``sweep_keys`` picks and orders them; ``seed`` (the replicate axis) goes last. A store
    that does not name an axis ran it at the value its settings record (attr ``settings_json``, a
    flat mapping of dotted keys): a run finished before the axis was added sits at today's
    setting. An axis given by its dotted key becomes a dimension named by its last part (as many
    trailing parts as keep names distinct; the coordinate's attr ``key`` holds the dotted key).

    Runs differ in length and in what they hold (full and short chains, runs the rate guard
    stopped early), so the runs are stacked, not combined by coordinates: every other dimension
    (``time``, ``snapshot_time``, ...) is the union of the runs' coordinate values on their common
    grid, and a value is NaN exactly where a run has none: a sweep point without a run, a variable
    the run's chain did not produce, a time the run did not reach. Integer variables become float
    where such gaps exist.

    ``scalars_only`` keeps only each run's scalar variables (per-run statistics). ``compat`` is
    accepted for callers of the earlier version and ignored. Raises ``KeyError`` for a store
    without a value of an axis and ``ValueError`` for two stores at the same sweep point.
    """
    from homeoplastic.sweep import dim_names

    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("open_sweep needs at least one store")
    if compat is not None:
        warnings.warn("open_sweep: compat is ignored (runs are stacked, so none can conflict)",
                      DeprecationWarning, stacklevel=2)
    datasets = [open_store(p) for p in paths]
    sweeps = [json.loads(ds.attrs.get("sweep_json", "{}")) for ds in datasets]
    if sweep_keys is not None:
        keys = list(sweep_keys)
    else:
        keys = list(dict.fromkeys(k for sweep in sweeps for k in sweep))
        keys = [k for k in keys if k != "seed"] + (["seed"] if "seed" in keys else [])
    if not keys:
        raise KeyError(f"store has no sweep values (attr sweep_json): {paths[0]}")
    names = dim_names(keys)
    seen: dict[tuple, Path] = {}
    coord_attrs: dict[str, dict[str, Any]] = {}
    runs = []
    for path, ds, sweep in zip(paths, datasets, sweeps, strict=True):
        missing = [k for k in keys if k not in sweep]
        if missing:
            settings = json.loads(ds.attrs.get("settings_json", "{}"))
            unknown = [k for k in missing if k not in settings]
            if unknown:
                raise KeyError(f"store has no sweep value for {unknown} (neither in sweep_json "
                               f"nor in settings_json): {path}")
            sweep = {**sweep, **{k: settings[k] for k in missing}}
        point = tuple(_sweep_scalar(sweep[k]) for k in keys)
        if point in seen:
            raise ValueError(
                f"two stores at the same sweep point {dict(zip(keys, point, strict=True))}: "
                f"{seen[point]} and {path}"
            )
        seen[point] = path
        for key in keys:  # keep units and long_name of the sweep coordinates
            if key in ds.coords and key not in coord_attrs:
                coord_attrs[key] = dict(ds[key].attrs)
        # every sweep value is a coordinate of the result (picked) or dropped (not picked)
        ds = ds.drop_vars([k for k in {*sweep, *keys} if k in ds.variables and not ds[k].dims])
        if scalars_only:
            ds = ds.drop_vars([k for k, v in ds.variables.items() if v.ndim > 0])
        runs.append(ds)
    stacked = xr.concat(
        runs,
        dim="_run",
        data_vars="all",
        coords="minimal",
        compat="no_conflicts",
        join="outer",
        combine_attrs="drop_conflicts",
    )
    # one chunk per run and variable: runs of different lengths were chunked differently
    stacked = stacked.chunk({dim: 1 if dim == "_run" else -1 for dim in stacked.dims})
    points = list(seen)
    dims = [names[k] for k in keys]
    stacked = stacked.assign_coords({names[key]: ("_run", [p[i] for p in points])
                                     for i, key in enumerate(keys)})
    if len(keys) == 1:  # one key makes a plain index, which has nothing to unstack
        combined = stacked.swap_dims({"_run": dims[0]}).sortby(dims[0])
    else:
        combined = stacked.set_index(_run=dims).unstack("_run")
    combined = combined.transpose(*dims, ...)
    for key in keys:
        combined[names[key]].attrs.update(coord_attrs.get(key, {}))
        if names[key] != key:
            combined[names[key]].attrs["key"] = key
    return combined


def _sweep_scalar(value: Any) -> Any:
    """A sweep value as a coordinate: lists (a list-valued setting) as text."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return json.loads(json.dumps(value, default=_json_default))
