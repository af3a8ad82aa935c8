"""Stage stores on disk: spikes come back bit for bit from their compact codecs, and a store whose
network state was dropped still verifies, keeps everything else, and is refused by name by a stage
that would continue from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from homeoplastic.assemblies import protocol
from homeoplastic.assemblies.engine import RecordSpec, Simulation, spike_arrays
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.assemblies.runs import assembly_members, write_run_store
from homeoplastic.assemblies.storage import (
    MEMBERSHIP,
    StateNotKeptError,
    drop_state,
    encode_spikes,
    open_state,
    state_kept,
)
from homeoplastic.store import StoreError, open_store, verify_store, write_store


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Simulation, np.ndarray, np.ndarray]:
    """A 0.3 s run of a driven N = 200 network, written as a stage store."""
    params = NetworkParams.from_dict({"connectivity": {"n_neurons": 200},
                                      "assemblies": {"n_assemblies": 2}})
    sim = Simulation.build(params, seed=2)
    rec = sim.run(0.3, None, RecordSpec(weight_interval_s=0.1, chunk_s=0.1), progress=False)
    path = tmp_path_factory.mktemp("storage") / "run" / "train.zarr"
    write_run_store(path, sim, rec, stage="train", sweep={"n_neurons": 200, "seed": 2})
    (path / ".snakemake_timestamp").touch()
    steps, cells = spike_arrays(rec)
    assert steps.size > 500  # enough spikes that a codec's mistake shows
    return path, sim, steps, cells


def _exactly(a, b) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape and a.tobytes() == b.tobytes()


def test_spikes_read_back_bit_for_bit(run):
    path, sim, steps, cells = run
    spikes = open_store(path, group="spikes").load()
    _exactly(spikes.spike_step, steps)
    _exactly(spikes.spike_cell, cells)
    _exactly(spikes.i, cells)
    _exactly(spikes.t_s, steps * (sim.params.dt_ms * 1e-3))
    # and they are stored compactly: spike times as integer steps, every array through blosc/zstd
    meta = json.loads((path / "spikes" / "t_s" / "zarr.json").read_text())
    assert meta["data_type"] == "int64"
    for name in ("spike_step", "spike_cell", "i", "t_s"):
        codecs = json.loads((path / "spikes" / name / "zarr.json").read_text())["codecs"]
        assert codecs[-1]["name"] == "blosc" and codecs[-1]["configuration"]["cname"] == "zstd"


@pytest.mark.parametrize("dt_ms", [0.1, 0.05, 0.3, 1 / 3])
def test_spike_times_round_trip_at_any_step_and_dt(tmp_path, dt_ms):
    """Steps up to 2**40 (beyond any run) and a dt that is no binary fraction: the stored steps
    and scale decode to the very float64 ``t_s`` the engine wrote."""
    rng = np.random.default_rng(5)
    steps = np.sort(np.concatenate([rng.integers(0, 2**40, 5000), [0, 1, 2**40]])).astype(np.int64)
    dt_s = dt_ms * 1e-3
    t_s = steps * dt_s
    ds = xr.Dataset({"spike_step": ("spike", steps), "t_s": ("spike", t_s)})
    write_store(tmp_path / "s.zarr", xr.Dataset(), groups={"spikes": encode_spikes(ds, dt_s)})
    back = open_store(tmp_path / "s.zarr", group="spikes").load()
    _exactly(back.t_s, t_s)
    _exactly(back.spike_step, steps)


def test_spike_times_not_on_the_step_grid_are_stored_as_they_are(tmp_path):
    """A ``t_s`` that is not ``step * dt`` (off by a step, or jittered) is not forced onto it."""
    steps = np.arange(10, dtype=np.int64)
    t_s = (steps + 1) * 1e-4
    t_s[3] += 1e-9
    ds = encode_spikes(xr.Dataset({"spike_step": ("spike", steps), "t_s": ("spike", t_s)}), 1e-4)
    write_store(tmp_path / "s.zarr", xr.Dataset(), groups={"spikes": ds})
    _exactly(open_store(tmp_path / "s.zarr", group="spikes").t_s.values, t_s)


def test_an_empty_spike_group_round_trips(tmp_path):
    ds = xr.Dataset({"spike_step": ("spike", np.zeros(0, np.int64)),
                     "spike_cell": ("spike", np.zeros(0, np.int32)),
                     "t_s": ("spike", np.zeros(0))})
    write_store(tmp_path / "s.zarr", xr.Dataset(), groups={"spikes": encode_spikes(ds, 1e-4)})
    back = open_store(tmp_path / "s.zarr", group="spikes").load()
    _exactly(back.spike_step, ds.spike_step)
    _exactly(back.t_s, ds.t_s)


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_dropping_the_state_keeps_everything_else_and_still_verifies(run, tmp_path):
    path = _copy(run[0], tmp_path / "train.zarr")
    before_root = open_store(path).load()
    before_spikes = open_store(path, group="spikes").load()
    stamp = (path / ".snakemake_timestamp").stat().st_mtime_ns
    state_bytes = sum(f.stat().st_size for f in (path / "state").rglob("*/*") if f.is_file()
                      and f.relative_to(path / "state").parts[0] not in MEMBERSHIP)
    members = assembly_members(path)

    assert state_kept(path)
    assert drop_state(path) == state_bytes > 0
    verify_store(path, stage="train")
    assert not state_kept(path)
    assert sorted(p.name for p in (path / "state").iterdir() if p.is_dir()) == sorted(MEMBERSHIP)
    root_meta = json.loads((path / "zarr.json").read_text())
    listed = [*root_meta["consolidated_metadata"]["metadata"],
              *json.loads(root_meta["attributes"]["array_sha256_json"])]
    assert listed and sorted({n for n in listed if n.startswith("state/")}) == \
        sorted(f"state/{name}" for name in MEMBERSHIP)
    # the assembly membership stays (the run figure orders its rasters by it)
    assert [m.tolist() for m in assembly_members(path)] == [m.tolist() for m in members]
    xr.testing.assert_identical(open_store(path).load().drop_attrs(), before_root.drop_attrs())
    xr.testing.assert_identical(open_store(path, group="spikes").load(), before_spikes)
    assert open_store(path).attrs["state_kept"] is False
    assert (path / ".snakemake_timestamp").stat().st_mtime_ns == stamp  # Snakemake reruns nothing
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    assert drop_state(path) == 0  # again: nothing to do
    verify_store(path)


def test_dropping_never_writes_through_to_the_old_store(run, tmp_path):
    """Chunk files are hard-linked into the new store, metadata copied: rewriting the new root
    metadata must not change the old store's file (here also reachable through a link), which a
    killed call leaves in place. zarr 3.1 writes metadata to a new file and renames it, so only a
    zarr that wrote in place would turn this red (the copy guards against that)."""
    path = _copy(run[0], tmp_path / "train.zarr")
    os.link(path / "zarr.json", tmp_path / "old_root.json")
    before = (tmp_path / "old_root.json").read_text()
    drop_state(path)
    assert (tmp_path / "old_root.json").read_text() == before


def test_a_damaged_store_is_refused_not_rewritten(run, tmp_path):
    path = _copy(run[0], tmp_path / "train.zarr")
    chunk = next(p for p in sorted((path / "spikes" / "spike_cell").rglob("*"))
                 if p.is_file() and p.name != "zarr.json")
    chunk.write_bytes(chunk.read_bytes()[::-1])
    with pytest.raises(StoreError, match="spike_cell"):
        drop_state(path)
    assert state_kept(path)


def test_a_stage_continuing_from_a_dropped_state_says_what_to_do(run, tmp_path):
    path = _copy(run[0], tmp_path / "train.zarr")
    assert protocol._load(path).clock[0] == run[1].clock[0]  # the state is read while kept
    assert [m.tolist() for m in assembly_members(path)] == \
        [run[1].assembly_members(a).tolist() for a in range(2)]
    drop_state(path)
    for read in (open_state, protocol._load):
        with pytest.raises(StateNotKeptError) as caught:
            read(path)
        message = str(caught.value)
        assert "not kept" in message and "keep_state: true" in message
        assert f"delete {path}" in message
