"""Reading a small store's root arrays without zarr or xarray, for sweeps of thousands of stores.

Opening one store with ``xr.open_zarr`` costs tens of milliseconds (dask graphs, one zarr call per
array), so a sweep of 1000 analyze stores took minutes. The stores this package writes are simple:
consolidated Zarr 3 metadata in the root ``zarr.json``, regular chunks, the ``bytes`` codec and
zstd. :func:`read_root` decodes exactly that case from the files and returns None for anything
else (other codecs or data types, CF encodings xarray would apply, a store without consolidated
metadata), so that the caller falls back to xarray; it never guesses.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numcodecs import Zstd

_NUMERIC = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float32", "float64"}
_CF_HANDLED = {"units", "long_name", "comment", "time_reference", "coordinates", "_FillValue",
               "key", "description", "standard_name"}
"""Variable attrs the fast path understands: plain labels, ``coordinates`` (which variables are
coordinates) and a NaN ``_FillValue`` (nothing to mask). Any other attr (``scale_factor``,
``add_offset``, ``calendar``, ``dtype``, ...) may change decoded values, so xarray reads it."""

_ZSTD = Zstd()
"""zarr's own zstd codec (numcodecs, which zarr depends on); decoding needs no level."""


@dataclass
class RootVariable:
    """One root array as xarray would decode it: dims, values, attrs, and whether a coordinate."""

    dims: tuple[str, ...]
    values: np.ndarray
    attrs: dict[str, Any]
    is_coord: bool


def root_metadata(path: str | Path) -> dict[str, Any] | None:
    """The parsed root ``zarr.json`` of a store, or None when unreadable."""
    try:
        meta = json.loads((Path(path) / "zarr.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def read_root(path: str | Path, meta: dict[str, Any], *, scalars_only: bool = False,
              max_bytes: int = 16 << 20) -> dict[str, RootVariable] | None:
    """The root dataset's variables of the store at ``path`` (``meta``: its root ``zarr.json``),
    read into memory; None when the fast path cannot read it exactly (the caller uses xarray).

    ``scalars_only`` reads only 0-d arrays. A store whose arrays to read exceed ``max_bytes``
    returns None too: big stores are better read lazily."""
    consolidated = meta.get("consolidated_metadata")
    if not isinstance(consolidated, dict) or not isinstance(consolidated.get("metadata"), dict):
        return None
    arrays = {name: node for name, node in consolidated["metadata"].items()
              if "/" not in name and node.get("node_type") == "array"}
    plan = {}
    for name, node in arrays.items():
        if scalars_only and node.get("shape"):
            continue
        if not _readable(node):
            if node.get("shape") or _is_text(node) is False:
                return None
            plan[name] = None  # a scalar text coordinate: its value is not needed (see below)
            continue
        plan[name] = node
    size = sum(int(np.prod(n["shape"])) * np.dtype(n["data_type"]).itemsize
               for n in plan.values() if n is not None)
    if size > max_bytes:
        return None
    coords = {c for node in arrays.values()
              for c in node.get("attributes", {}).get("coordinates", "").split()}
    out = {}
    root = Path(path)
    for name, node in plan.items():
        if node is None:  # scalar text: only a sweep coordinate, which the caller drops
            if name not in coords:
                return None
            values = np.array(None, dtype=object)
            attrs = dict(arrays[name].get("attributes", {}))
        else:
            values = _read_array(root / name, node)
            attrs = dict(node.get("attributes", {}))
        dims = tuple(arrays[name].get("dimension_names") or ())
        for key in ("coordinates", "_FillValue"):
            attrs.pop(key, None)
        is_coord = name in coords or (len(dims) == 1 and dims[0] == name)
        out[name] = RootVariable(dims, values, attrs, is_coord)
    return out


def _is_text(node: dict[str, Any]) -> bool:
    data_type = node.get("data_type")
    return isinstance(data_type, dict) and data_type.get("name") == "fixed_length_utf32"


def _readable(node: dict[str, Any]) -> bool:
    """True when ``node`` is an array the fast path decodes exactly as zarr and xarray would."""
    codecs = node.get("codecs", [])
    names = [c.get("name") for c in codecs]
    if names not in (["bytes"], ["bytes", "zstd"]):
        return False
    if not isinstance(node.get("data_type"), str) or node["data_type"] not in _NUMERIC \
            or node.get("storage_transformers"):
        return False
    grid = node.get("chunk_grid", {})
    keys = node.get("chunk_key_encoding", {})
    if grid.get("name") != "regular" or keys.get("name") != "default":
        return False
    if len(node.get("dimension_names") or ()) != len(node.get("shape", ())):
        return False
    attrs = node.get("attributes", {})
    if set(attrs) - _CF_HANDLED or "since" in str(attrs.get("units", "")):
        return False
    if "_FillValue" in attrs:  # xarray masks values equal to it: only NaN is a no-op
        fill = np.frombuffer(base64.b64decode(attrs["_FillValue"]), node["data_type"])
        if fill.size != 1 or fill.dtype.kind != "f" or not np.isnan(fill[0]):
            return False
    return True


def _read_array(folder: Path, node: dict[str, Any]) -> np.ndarray:
    """Decode a regular-chunked, bytes(+zstd) array; a missing chunk is the fill value."""
    shape = tuple(node["shape"])
    chunk_shape = tuple(node["chunk_grid"]["configuration"]["chunk_shape"])
    endian = node["codecs"][0].get("configuration", {}).get("endian", "little")
    dtype = np.dtype(node["data_type"]).newbyteorder("<" if endian == "little" else ">")
    sep = node["chunk_key_encoding"].get("configuration", {}).get("separator", "/")
    zstd = len(node["codecs"]) == 2
    counts = [-(-s // c) for s, c in zip(shape, chunk_shape, strict=True)]
    if chunk_shape == shape:  # one chunk (every array of an analyze store): no copying
        try:
            data = (folder / sep.join(["c", *("0" * len(shape))])).read_bytes()
        except FileNotFoundError:
            return np.full(shape, _fill_value(node), dtype=np.dtype(node["data_type"]))
        data = _ZSTD.decode(data) if zstd else data
        return np.frombuffer(data, dtype).reshape(shape).astype(node["data_type"])
    out = np.full(shape, _fill_value(node), dtype=np.dtype(node["data_type"]))
    for index in itertools.product(*(range(n) for n in counts)):
        key = sep.join(["c", *map(str, index)])
        try:
            data = (folder / key).read_bytes()
        except FileNotFoundError:
            continue
        if zstd:
            data = _ZSTD.decode(data)
        chunk = np.frombuffer(data, dtype).reshape(chunk_shape)
        where = tuple(slice(i * c, min((i + 1) * c, s))
                      for i, c, s in zip(index, chunk_shape, shape, strict=True))
        out[where] = chunk[tuple(slice(0, w.stop - w.start) for w in where)]
    return out


def _fill_value(node: dict[str, Any]) -> Any:
    fill = node.get("fill_value", 0)
    if isinstance(fill, str):  # "NaN", "Infinity", "-Infinity"
        return float(fill.replace("Infinity", "inf"))
    return fill
