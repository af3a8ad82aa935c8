"""Stores never replace what is not a store, and a damaged or swapped store is caught by name.

After deleting one chunk of a finished store, zarr reads the array back as its fill value (NaN);
after flipping bytes in a chunk (zstd has no checksum) it reads back silently different; a store of
another stage copied over the expected one opened without complaint. ``verify_store`` catches all
three with a :class:`StoreError` naming the store and the remedy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from homeoplastic.store import (
    CHECKSUM_ATTR,
    StoreError,
    array_checksums,
    open_store,
    provenance_attrs,
    remove_leftovers,
    remove_store,
    settings_fingerprint,
    verify_store,
    write_store,
)

CONFIG = {"network": {"dt_ms": 0.1}, "protocol": {"train_s": 2.0}}
SWEEP = {"n_neurons": 2000, "rule": "voltage", "learning_speed": 4.0, "seed": 1}


def _write(path: Path, stage: str = "train", n: int = 4000, config=CONFIG) -> Path:
    rng = np.random.default_rng(0)
    ds = xr.Dataset({"w": (("syn", "t"), rng.normal(size=(n, 8))),
                     "rate": ("t", np.arange(8.0))})
    ds = ds.chunk({"syn": 1000})
    spikes = xr.Dataset({"step": ("spike", np.arange(500, dtype=np.int64))})
    return write_store(path, ds, groups={"spikes": spikes},
                       attrs=provenance_attrs(stage=stage, config=config, seed=1, sweep=SWEEP))


def _chunks(store: Path, array: str) -> list[Path]:
    folder = store / array
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "zarr.json")


def test_a_fresh_store_verifies_and_says_its_run_and_settings(tmp_path):
    store = _write(tmp_path / "train.zarr")
    verify_store(store, stage="train", run_id="n_neurons~2000_rule~voltage_learning_speed~4_seed~1",
                 fingerprint=settings_fingerprint(CONFIG))
    attrs = open_store(store).attrs
    assert set(json.loads(attrs[CHECKSUM_ATTR])) == {"w", "rate", "spikes/step"}
    assert attrs["run_id"] == "n_neurons~2000_rule~voltage_learning_speed~4_seed~1"


def test_a_deleted_chunk_is_caught(tmp_path):
    store = _write(tmp_path / "train.zarr")
    chunks = _chunks(store, "w")
    assert len(chunks) >= 2
    chunks[1].unlink()
    # what zarr does without the check: the missing chunk reads back as the fill value
    assert np.isnan(open_store(store)["w"].values).any()
    with pytest.raises(StoreError, match=r"train\.zarr: array 'w' has \d+ chunk files, \d+ when "
                       r"written.*delete .*train\.zarr and rerun"):
        verify_store(store)


def test_flipped_bytes_in_a_chunk_are_caught(tmp_path):
    store = _write(tmp_path / "train.zarr")
    chunk = _chunks(store, "w")[0]
    data = bytearray(chunk.read_bytes())
    for i in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        data[i] ^= 0x5A
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"array 'w' does not match the checksum"):
        verify_store(store)


def test_a_damaged_group_array_is_caught(tmp_path):
    store = _write(tmp_path / "train.zarr")
    _chunks(store, "spikes/step")[0].unlink()
    with pytest.raises(StoreError, match=r"array 'spikes/step'"):
        verify_store(store)


def test_a_store_of_another_stage_is_refused_naming_both(tmp_path):
    simulate = _write(tmp_path / "simulate.zarr", stage="simulate")
    copied = tmp_path / "train.zarr"
    simulate.rename(copied)  # a simulate.zarr copied over train.zarr
    with pytest.raises(StoreError, match=r"train\.zarr is not the store expected here: its stage "
                       r"is 'simulate', expected 'train'"):
        verify_store(copied, stage="train")


def test_another_run_or_other_settings_are_refused(tmp_path):
    store = _write(tmp_path / "train.zarr")
    with pytest.raises(StoreError, match=r"its run is 'n_neurons~2000.*expected 'n_neurons~1000"):
        verify_store(store, run_id="n_neurons~1000_rule~voltage_learning_speed~4_seed~1")
    other = settings_fingerprint({**CONFIG, "protocol": {"train_s": 3.0}})
    with pytest.raises(StoreError, match=r"settings fingerprint"):
        verify_store(store, fingerprint=other)


def test_missing_incomplete_and_unverifiable_stores_are_refused(tmp_path):
    with pytest.raises(StoreError, match=r"does not exist"):
        verify_store(tmp_path / "nothing.zarr")
    store = _write(tmp_path / "s.zarr")
    meta = json.loads((store / "zarr.json").read_text())
    del meta["attributes"][CHECKSUM_ATTR]
    (store / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(StoreError, match=r"no checksums"):
        verify_store(store)


def test_write_store_never_replaces_what_is_not_a_store(tmp_path):
    ds = xr.Dataset({"a": ("x", np.arange(3.0))})
    plain = tmp_path / "notes.txt"
    plain.write_text("mine")
    with pytest.raises(StoreError, match=r"notes\.txt exists and is not a homeoplastic store"):
        write_store(plain, ds)
    assert plain.read_text() == "mine"
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    with pytest.raises(StoreError, match=r"d exists and is not a homeoplastic store.*thesis\.tex"):
        write_store(folder, ds)
    assert (folder / "thesis.tex").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "notes.txt"]  # no temporary left


def test_write_store_replaces_its_own_stores_and_empty_folders(tmp_path):
    store = _write(tmp_path / "s.zarr")
    _write(store, stage="again")
    assert open_store(store).attrs["stage"] == "again"
    empty = tmp_path / "e.zarr"
    empty.mkdir()
    (empty / ".snakemake_timestamp").write_text("")
    write_store(empty, xr.Dataset({"a": ("x", np.arange(3.0))}))
    verify_store(empty)


def test_leftovers_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    ckpt = tmp_path / ".checkpoints" / "train.zarr.ckpt"
    ckpt.parent.mkdir()
    old = ckpt.parent / ".train.zarr.ckpt.old-12345"
    tmp = ckpt.parent / ".train.zarr.ckpt.tmp-12346"
    old.mkdir()
    tmp.mkdir()
    other = ckpt.parent / ".other.zarr.ckpt.old-1"
    other.mkdir()
    write_store(ckpt, xr.Dataset({"a": ("x", np.arange(3.0))}))
    assert not old.exists() and not tmp.exists() and other.exists()
    old.mkdir()
    remove_store(ckpt)
    assert sorted(p.name for p in ckpt.parent.iterdir()) == [".other.zarr.ckpt.old-1"]
    assert remove_leftovers(ckpt.parent / "other.zarr.ckpt") == [other]


def test_verification_is_cheap_on_a_store_of_a_few_mb(tmp_path):
    store = _write(tmp_path / "big.zarr", n=100_000)  # 6.4 MB of float64 before compression
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    assert size > 2e6
    start = time.perf_counter()
    verify_store(store, stage="train")
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5, f"verify_store took {elapsed:.3f} s for {size / 1e6:.1f} MB"
    assert array_checksums(store) == json.loads(open_store(store).attrs[CHECKSUM_ATTR])
