"""What a spiking run's store costs on disk: lossless spike codecs and dropping the network state.

A stage store holds its records (rates, weight summaries: kB), a ``spikes`` group (a few bytes per
spike) and a ``state`` group (the whole network, about 10 bytes per synapse: the next stage
continues from it). At paper scale (N = 5000, 1000 s phases) spikes and state are each tens of MB
per stage, so a sweep keeps the state only where a later stage reads it
(:func:`drop_state` removes it from a finished store; :func:`open_state` refuses, by name, a store
whose state was dropped) and stores spikes compactly (:func:`encode_spikes`).

Codecs are the Zarr 3 specification's own (``blosc`` with zstd): any Zarr 3 reader opens the
stores and zarr-python warns about nothing. ``numcodecs.delta`` on the step arrays would save
another ~0.4 byte per spike (``benchmarks/storage.py --codecs``), but it is not a Zarr 3 codec:
zarr-python warns on every open (docs/data.md promises quiet ``xr.open_zarr``) and other readers may
not decode it. The state's float64 weights barely compress (zstd: ~6.8 of 8 bytes; byte-shuffle
makes it worse), so its default codec (zstd) stays: the saving is in not keeping it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from homeoplastic.store import (
    _TIMESTAMP_WARNING,
    CHECKSUM_ATTR,
    StoreError,
    _consolidate,
    open_store,
    refuse_unless_replaceable,
    remove_leftovers,
    store_attrs_on_disk,
    verify_store,
)

STATE_GROUP = "state"
MEMBERSHIP = ("group_ptr", "group_members")
"""State arrays a store keeps when its state is dropped: which E cells form each assembly (a few
kB; the run figure's rasters order cells by it)."""
STATE_KEPT_ATTR = "state_kept"
"""Root attr that :func:`drop_state` sets to false; absent means the store has its state."""


class StateNotKeptError(StoreError):
    """A stage needs a store's network state, and the state was dropped to save space."""


def spike_compressor(itemsize: int):
    """Blosc with zstd over bit-planes: spike steps rise slowly and cell ids fit in 11 bits of
    their 32, so their high bit-planes are nearly constant (``benchmarks/storage.py --codecs``)."""
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle", typesize=itemsize)


def encode_spikes(ds: xr.Dataset, dt_s: float) -> xr.Dataset:
    """Set lossless Zarr encodings on a ``spikes`` group (``spike_step``, ``spike_cell``, ``t_s``,
    ``i``); reading gives back the same arrays bit for bit.

    ``t_s`` is ``spike_step * dt_s`` in float64, stored as its integer steps with the CF
    ``scale_factor`` ``dt_s``: xarray decodes it as ``float64(step) * dt_s``, the same product
    (``_FillValue`` -1, a step no spike has, says the integers have a missing value for NaN).
    Where that would not give back ``t_s`` exactly (a ``t_s`` made otherwise), it is stored as
    float64.
    """
    for name in ("spike_step", "spike_cell", "i"):
        if name in ds:
            ds[name].encoding = {"compressors": [spike_compressor(ds[name].dtype.itemsize)]}
    if "t_s" in ds and "spike_step" in ds:
        steps = ds["spike_step"].values
        t_s = ds["t_s"].values
        if t_s.dtype == np.float64 and np.array_equal(steps.astype(np.float64) * dt_s, t_s):
            ds["t_s"].encoding = {"dtype": "int64", "scale_factor": float(dt_s),
                                  "_FillValue": np.int64(-1),  # no step is negative
                                  "compressors": [spike_compressor(8)]}
        else:
            ds["t_s"].encoding = {"compressors": [spike_compressor(8)]}
    return ds


def state_kept(path: str | os.PathLike[str]) -> bool:
    """True when the store at ``path`` still holds its ``state`` group."""
    attrs = store_attrs_on_disk(path) or {}
    return attrs.get(STATE_KEPT_ATTR, True) is not False and \
        (Path(path) / STATE_GROUP / "zarr.json").is_file()


def state_not_kept_message(path: str | os.PathLike[str]) -> str:
    """What a reader says when ``path`` has no state to continue from."""
    return (f"{path}: its network state was not kept, so no stage can continue from it; set "
            f"assemblies.record.keep_state: true or delete {path} to recompute it")


def open_state(path: str | os.PathLike[str]) -> xr.Dataset:
    """The ``state`` group of a stage store, lazily; :class:`StateNotKeptError` (naming the store
    and what to do) when :func:`drop_state` removed it."""
    if os.path.lexists(path) and not state_kept(path):
        raise StateNotKeptError(state_not_kept_message(path))
    return open_store(path, group=STATE_GROUP)


def drop_state(path: str | os.PathLike[str]) -> int:
    """Remove the ``state`` group of a complete stage store but its assembly membership
    (:data:`MEMBERSHIP`); return the bytes freed (0 when the store has none).

    The store is verified first (:func:`homeoplastic.store.verify_store`: a damaged store is
    refused, not rewritten). Like :func:`homeoplastic.store.write_store`, the new store is
    assembled in a hidden sibling (chunk files hard-linked, metadata copied) and renamed into
    place, so a killed call leaves the old store or the new one: the new one's checksums
    (``array_sha256_json``) no longer list the state's arrays, its consolidated metadata no
    longer names them, and its root attr ``state_kept`` is false. The store's modification times
    (Snakemake's ``.snakemake_timestamp`` included) are kept, so Snakemake does not see a newer
    input and rerun the stages that read it.
    """
    import zarr

    store = Path(path)
    verify_store(store)
    if not (store / STATE_GROUP).is_dir() or not state_kept(store):
        return 0
    state = store / STATE_GROUP
    dropped = [p for p in state.iterdir() if p.is_dir() and p.name not in MEMBERSHIP]
    freed = sum(f.stat().st_size for d in dropped for f in d.rglob("*") if f.is_file())
    remove_leftovers(store)
    tmp = store.parent / f".{store.name}.tmp-{os.getpid()}"
    shutil.copytree(store, tmp, copy_function=_link_chunks_copy_metadata,
                    ignore=lambda folder, names: [n for n in names if n != "zarr.json"
                                                  and n not in MEMBERSHIP]
                    if Path(folder) == state else [])
    attrs = store_attrs_on_disk(tmp) or {}
    recorded = json.loads(attrs[CHECKSUM_ATTR])
    kept = {name: value for name, value in recorded.items()
            if not name.startswith(f"{STATE_GROUP}/")
            or name.split("/", 1)[1] in MEMBERSHIP}
    root = zarr.open_group(tmp, mode="r+", zarr_format=3, use_consolidated=False)
    root.attrs.update({CHECKSUM_ATTR: json.dumps(kept, sort_keys=True), STATE_KEPT_ATTR: False,
                       "state_dropped_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    if "consolidated_metadata" in (store / "zarr.json").read_text():
        with warnings.catch_warnings():  # consolidating lists the folder: Snakemake's stamp
            warnings.filterwarnings("ignore", message=_TIMESTAMP_WARNING)
            _consolidate(tmp)
    times = store.stat()
    os.utime(tmp, ns=(times.st_atime_ns, times.st_mtime_ns))
    refuse_unless_replaceable(store)
    trash = store.parent / f".{store.name}.old-{os.getpid()}"
    os.replace(store, trash)
    os.replace(tmp, store)
    shutil.rmtree(trash, ignore_errors=True)
    return freed


def _link_chunks_copy_metadata(src: str, dst: str) -> None:
    """Hard-link a chunk file (never rewritten) and copy a metadata file (``zarr.json`` is
    rewritten in place by zarr, which would change the original through a link)."""
    if Path(src).name != "zarr.json":
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system, or links not supported
            pass
    shutil.copy2(src, dst)
