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

import hashlib
import json
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
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
CHECKSUM_ATTR = "array_sha256_json"
"""Root attr written at completion: JSON of ``{array path: [number of chunk files, sha256]}``, the
sha256 over each array's stored chunk files (names and bytes). Zarr's zstd has no checksum and a
missing chunk reads back as the fill value, so without it damage reads back silently."""
SETTINGS_ATTR = "settings_sha256"
"""Root attr: sha256 of the store's ``config_json`` (canonical JSON, sorted keys), the fingerprint
of the settings that made it (:func:`settings_fingerprint`)."""
RUN_ID_ATTR = "run_id"
"""Root attr: the run that made the store; by default its sweep values as ``key~value`` joined
by ``_`` in the sweep's order (the assemblies' run folder name)."""

_READ_THREADS = 4
"""Threads :func:`open_sweep` reads and verifies stores with (file-system waits overlap)."""


class StoreError(ValueError):
    """A store is damaged, incomplete, not a store, or not the one a reader expects. The message
    names the store and what to do (which file to delete, which job to rerun)."""


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
    """Global attrs every store carries: resolved config (JSON) and its fingerprint
    (``settings_sha256``), sweep values, run id, seed, versions.

    ``run_id`` (an ``extra``) defaults to :func:`run_id_of` ``sweep`` when there is a sweep."""
    config_json = json.dumps(config, sort_keys=True, default=_json_default)
    attrs: dict[str, Any] = {
        "stage": stage,
        "package": "homeoplastic",
        "package_version": __version__,
        "config_json": config_json,
        SETTINGS_ATTR: hashlib.sha256(config_json.encode()).hexdigest(),
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
    if sweep:
        attrs[RUN_ID_ATTR] = run_id_of(sweep)
    for key, value in extra.items():
        attrs[key] = _jsonable(value)
    return attrs


def settings_fingerprint(config: Mapping[str, Any]) -> str:
    """The ``settings_sha256`` a store written with ``config`` carries (what a reader expects)."""
    text = json.dumps(config, sort_keys=True, default=_json_default)
    return hashlib.sha256(text.encode()).hexdigest()


def run_id_of(sweep: Mapping[str, Any]) -> str:
    """A run's id from its sweep values, in their order (:func:`homeoplastic.sweep.run_id_of`,
    the run folder's name); values that could not name a folder (a label with spaces) as text."""
    from homeoplastic.parameters import ParameterError
    from homeoplastic.sweep import run_id_of as paramspace_id

    try:
        return paramspace_id(sweep)
    except ParameterError:
        return "_".join(f"{key}~{value}" for key, value in sweep.items())


POINT_FILE = "point.yaml"


def write_point(output: str | os.PathLike[str], values: Mapping[str, Any]) -> None:
    """``point.yaml`` beside a store: the sweep values that name its folder (the run id's content,
    in full where the id is shortened to a hash). Every store in one folder names the same values;
    written atomically, nothing for a store of no sweep point."""
    import yaml

    if not values:
        return
    folder = Path(output).parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{POINT_FILE}.{os.getpid()}"
    tmp.write_text(yaml.safe_dump({"run": folder.name, "point": _jsonable(dict(values))},
                                  sort_keys=False))
    os.replace(tmp, folder / POINT_FILE)


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
    attrs ``store_complete = True`` and ``array_sha256_json`` (each array's checksum, see
    :func:`verify_store`) and then the consolidated metadata are written last. An existing store
    of this package at ``path`` (complete or not) is replaced, and so is an empty folder; anything
    else there (a file, a folder of other things) raises :class:`StoreError` naming it, before
    anything is written or removed.
    """
    final = Path(path)
    refuse_unless_replaceable(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(final)
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
    if os.path.lexists(final):
        refuse_unless_replaceable(final)  # again: something may have appeared meanwhile
        trash = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)
    return final


def remove_leftovers(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what killed writers of ``path`` left beside it: the hidden temporary copies
    (``.NAME.tmp-PID``) and the replaced stores not yet deleted (``.NAME.old-PID``), checkpoints'
    included. One writer per path at a time (Snakemake's rule), so none of them is in use.
    Returns what was removed."""
    final = Path(path)
    removed = []
    for pattern in (f".{final.name}.tmp-*", f".{final.name}.old-*"):
        for stale in final.parent.glob(pattern):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


def remove_store(path: str | os.PathLike[str]) -> None:
    """Remove a store of this package (a finished run's checkpoint, say) and its leftovers;
    refuses (:class:`StoreError`) anything that is not one."""
    final = Path(path)
    if os.path.lexists(final):
        refuse_unless_replaceable(final)
        trash = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, trash)
    remove_leftovers(final)


_IGNORED_FILES = {".snakemake_timestamp", ".DS_Store"}
"""Files that may sit in an otherwise empty output folder without making it someone's data."""


def store_attrs_on_disk(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The root attrs of a Zarr 3 store as written (no zarr call, nothing listed), or None when
    ``path`` has no readable root ``zarr.json``."""
    try:
        meta = json.loads((Path(path) / "zarr.json").read_text())
    except (OSError, ValueError):
        return None
    attrs = meta.get("attributes") if isinstance(meta, dict) else None
    return attrs if isinstance(attrs, dict) else None


def is_own_store(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a store this package wrote (complete or not): a folder whose root
    metadata carries the ``store_complete`` attr that :func:`write_store` writes."""
    attrs = store_attrs_on_disk(path)
    return attrs is not None and COMPLETE_ATTR in attrs


def refuse_unless_replaceable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`StoreError` unless ``path`` is free, an empty folder or a store of ours."""
    final = Path(path)
    if not os.path.lexists(final):
        return
    if final.is_symlink() or not final.is_dir():
        raise StoreError(f"{final} exists and is not a homeoplastic store (a file); refusing to "
                         "replace it: move or delete it, or choose another path")
    if is_own_store(final):
        return
    contents = [p.name for p in final.iterdir() if p.name not in _IGNORED_FILES]
    if contents:
        shown = ", ".join(sorted(contents)[:5]) + (", ..." if len(contents) > 5 else "")
        raise StoreError(f"{final} exists and is not a homeoplastic store (a folder holding "
                         f"{shown}); refusing to replace it: move or delete it, or choose "
                         "another path")


def _mark_complete(store_path: Path) -> None:
    import zarr

    group = zarr.open_group(store_path, mode="r+", zarr_format=ZARR_FORMAT,
                            use_consolidated=False)
    group.attrs[CHECKSUM_ATTR] = json.dumps(array_checksums(store_path), sort_keys=True)
    group.attrs[COMPLETE_ATTR] = True


def array_checksums(store_path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """``{array path: [number of chunk files, sha256]}`` of every array in a Zarr 3 store on
    disk, from its chunk files' names and bytes (not from decoded values: a missing chunk, which
    zarr reads as the fill value, and a flipped byte both change it). Metadata files are left
    out, so attrs written after the arrays do not change it."""
    root = Path(store_path)
    out: dict[str, list[Any]] = {}
    for meta in sorted(root.rglob("zarr.json")):
        try:
            node = json.loads(meta.read_text())
        except ValueError:
            continue
        if not isinstance(node, dict) or node.get("node_type") != "array":
            continue
        folder = meta.parent
        out[folder.relative_to(root).as_posix()] = _folder_checksum(folder)
    return out


def _folder_checksum(folder: Path) -> list[Any]:
    """``[number of chunk files, sha256]`` of one array's folder: every file under it but its
    own ``zarr.json``, in path order, name and bytes (one directory walk, no per-file stat)."""
    files = []
    for where, _, names in os.walk(folder):
        rel = os.path.relpath(where, folder)
        parts = () if rel == "." else tuple(rel.split(os.sep))
        files += [(*parts, name) for name in names if parts or name != "zarr.json"]
    digest = hashlib.sha256()
    for parts in sorted(files):
        name = "/".join(parts).encode()
        with open(os.path.join(folder, *parts), "rb") as handle:
            data = handle.read()
        digest.update(len(name).to_bytes(8, "little") + name)
        digest.update(len(data).to_bytes(8, "little") + data)
    return [len(files), digest.hexdigest()]


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
    """Open one store (or one of its groups) lazily; refuses missing and incomplete stores."""
    if not os.path.lexists(path):
        raise FileNotFoundError(f"{path} does not exist")
    if not is_complete(path):
        raise FileNotFoundError(f"{path} is not a complete homeoplastic store")
    with warnings.catch_warnings():  # only older, non-consolidated stores list their folder
        warnings.filterwarnings("ignore", message=_TIMESTAMP_WARNING)
        return xr.open_zarr(Path(path), group=group, consolidated=_is_consolidated(Path(path)),
                            zarr_format=ZARR_FORMAT)


def verify_store(
    path: str | os.PathLike[str],
    *,
    stage: str | None = None,
    run_id: str | None = None,
    fingerprint: str | None = None,
    _attrs: Mapping[str, Any] | None = None,
) -> None:
    """Check that ``path`` is the complete, undamaged store a reader expects, else raise
    :class:`StoreError` naming the store, what differs and what to do.

    Checked: the store exists and was completed; every array's chunk files match the checksum
    written at completion (:func:`array_checksums`: a deleted chunk, which zarr would read back as
    the fill value, and flipped bytes are both caught); and, when given, the root attrs ``stage``,
    ``run_id`` and ``settings_sha256`` (see :func:`settings_fingerprint`) equal ``stage``,
    ``run_id`` and ``fingerprint``. A store written before checksums were recorded is refused
    too (it cannot be verified). Every array the checksum attr records is checked (its folder
    must hold its ``zarr.json``); metadata files are not hashed (attrs are written after the
    arrays). The cost is one directory walk and one read of each chunk file (sha256, about 1 s
    per GB, ~2 ms for an analyze store); nothing is decompressed.
    """
    store = Path(path)
    remedy = f"delete {store} and rerun the job that writes it"
    if not os.path.lexists(store):
        raise StoreError(f"{store} does not exist; rerun the job that writes it")
    attrs = store_attrs_on_disk(store) if _attrs is None else _attrs  # _attrs: read already
    if attrs is None or COMPLETE_ATTR not in attrs:
        raise StoreError(f"{store} is not a homeoplastic store (no root zarr.json with "
                         f"{COMPLETE_ATTR!r}); {remedy}")
    if attrs.get(COMPLETE_ATTR) is not True:
        raise StoreError(f"{store} is incomplete (its writer stopped); {remedy}")
    wrong = [(name, expected, attrs.get(attr)) for name, attr, expected in
             (("stage", "stage", stage), ("run", RUN_ID_ATTR, run_id),
              ("settings fingerprint", SETTINGS_ATTR, fingerprint))
             if expected is not None and attrs.get(attr) != expected]
    if wrong:
        what = "; ".join(f"its {name} is {found!r}, expected {expected!r}"
                         for name, expected, found in wrong)
        raise StoreError(f"{store} is not the store expected here: {what} (a store copied or "
                         f"left over from another stage, run or settings); {remedy}")
    if CHECKSUM_ATTR not in attrs:
        raise StoreError(f"{store} has no checksums (written before they were recorded), so it "
                         f"cannot be verified; {remedy}")
    recorded = json.loads(attrs[CHECKSUM_ATTR])
    for name, (n_files, digest) in sorted(recorded.items()):
        if not (store / name / "zarr.json").is_file():
            raise StoreError(f"{store}: array {name!r} is missing (its folder was deleted); "
                             f"{remedy}")
        now_files, now_digest = _folder_checksum(store / name)
        if now_files != n_files:
            raise StoreError(f"{store}: array {name!r} has {now_files} chunk files, {n_files} "
                             f"when written (a chunk was deleted or added); {remedy}")
        if now_digest != digest:
            raise StoreError(f"{store}: array {name!r} does not match the checksum written with "
                             f"it (a chunk file is damaged); {remedy}")


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
    short_names: bool = True,
    verify: bool = True,
) -> xr.Dataset:
    """Open many runs' stores (root datasets, one stage) as one dask-backed dataset.

    The axes come from the stores themselves: each store's sweep values (root attr
    ``sweep_json``, the values that name its run) become dimensions, the union over the stores
    unless ``sweep_keys`` picks and orders them; ``seed`` (the replicate axis) goes last. A store
    that does not name an axis ran it at the value its settings record (attr ``settings_json``, a
    flat mapping of dotted keys): a run finished before the axis was added sits at today's
    setting. An axis given by its dotted key becomes a dimension named by its last part (as many
    trailing parts as keep names distinct; the coordinate's attr ``key`` holds the dotted key);
    ``short_names`` false keeps the dotted keys as dimension names. ``verify`` checks every
    store's checksums first (:func:`verify_store`).

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
    from homeoplastic.storeread import read_root, root_metadata
    from homeoplastic.sweep import dim_names
    from homeoplastic.sweepstack import stack_runs

    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("open_sweep needs at least one store")
    if compat is not None:
        warnings.warn("open_sweep: compat is ignored (runs are stacked, so none can conflict)",
                      DeprecationWarning, stacklevel=2)
    def checked(path: Path) -> dict[str, Any] | None:
        meta = root_metadata(path)
        if verify:  # a damaged store is refused by name instead of read as fill values
            verify_store(path, _attrs=_attrs_of(meta) if meta else None)
        elif meta is None or _attrs_of(meta).get(COMPLETE_ATTR) is not True:
            open_store(path)  # raises what opening a missing or incomplete store raises
        return meta

    # threads: reading and hashing thousands of small files waits on the file system, not Python
    with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
        metas = list(pool.map(checked, paths))  # in order: the first bad store is named
    all_attrs = [_attrs_of(meta) for meta in metas]
    sweeps = [json.loads(attrs.get("sweep_json", "{}")) for attrs in all_attrs]
    if sweep_keys is not None:
        keys = list(sweep_keys)
    else:
        keys = list(dict.fromkeys(k for sweep in sweeps for k in sweep))
        keys = [k for k in keys if k != "seed"] + (["seed"] if "seed" in keys else [])
    if not keys:
        raise KeyError(f"store has no sweep values (attr sweep_json): {paths[0]}")
    names = dim_names(keys) if short_names else {key: key for key in keys}
    seen: dict[tuple, Path] = {}
    for index, (path, attrs, sweep) in enumerate(zip(paths, all_attrs, sweeps, strict=True)):
        missing = [k for k in keys if k not in sweep]
        if missing:
            settings = json.loads(attrs.get("settings_json", "{}"))
            unknown = [k for k in missing if k not in settings]
            if unknown:
                raise KeyError(f"store has no sweep value for {unknown} (neither in sweep_json "
                               f"nor in settings_json): {path}")
            sweeps[index] = sweep = {**sweep, **{k: settings[k] for k in missing}}
        point = tuple(_sweep_scalar(sweep[k]) for k in keys)
        if point in seen:
            raise ValueError(
                f"two stores at the same sweep point {dict(zip(keys, point, strict=True))}: "
                f"{seen[point]} and {path}"
            )
        seen[point] = path
    points = list(seen)
    with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
        fast = list(pool.map(lambda p, m: read_root(p, m, scalars_only=scalars_only) if m
                             else None, paths, metas))
    if all(run is not None for run in fast):
        combined = stack_runs(fast, all_attrs, sweeps, points, keys, names)
        if combined is not None:
            return combined
    return _open_sweep_xarray(paths, sweeps, points, keys, names, scalars_only)


def _attrs_of(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    attrs = meta.get("attributes") if isinstance(meta, Mapping) else None
    return attrs if isinstance(attrs, dict) else {}


def _open_sweep_xarray(paths: list[Path], sweeps: list[dict[str, Any]], points: list[tuple],
                       keys: list[str], names: dict[str, str],
                       scalars_only: bool) -> xr.Dataset:
    """:func:`open_sweep` through xarray: any store, lazily, one dask chunk per run (slow for
    thousands of stores: :func:`homeoplastic.sweepstack.stack_runs` reads small ones faster)."""
    coord_attrs: dict[str, dict[str, Any]] = {}
    runs = []
    for path, sweep in zip(paths, sweeps, strict=True):
        ds = open_store(path)
        for key in keys:  # keep units and long_name of the sweep coordinates
            if key in ds.coords and key not in coord_attrs:
                coord_attrs[key] = dict(ds[key].attrs)
        # every sweep value is a coordinate of the result (picked) or dropped (not picked); a
        # run's other scalar coordinates (its own sweep values under other names) go too
        ds = ds.drop_vars([k for k in ds.variables if not ds[k].dims
                           and (k in sweep or k in keys or k in ds.coords)])
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
