"""Opening a sweep's stores as one dataset: full and short chains, guard-stopped runs, any stage.

The stores are written by the library (engine runs, ``write_run_store``, ``analyze_run``) for a
sweep shaped like the default's: the voltage rule with the full chain at two sizes and two speeds
(not a full product), two ablations with the short chain, one of them stopped by the rate guard.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from homeoplastic.analysis.assemblies import analyze_run
from homeoplastic.assemblies import NetworkParams, RecordSpec, Simulation, training_schedule
from homeoplastic.assemblies.runs import with_sweep_coords, write_run_store
from homeoplastic.store import open_store, open_sweep, provenance_attrs, write_store

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("n_neurons", "rule", "learning_speed", "seed")
RECORD = RecordSpec(weight_interval_s=0.05, chunk_s=0.05)
ANALYSIS = {"train_rate_bin_s": 0.1, "reactivation_threshold_factor": 4.0,
            "reactivation_min_hz": 10.0}
VARIANTS = {"voltage": {}, "voltage_no_homeostasis": {"istdp": False, "normalisation": False},
            "voltage_no_istdp": {"istdp": False}}
FULL = [(400, "voltage", 1.0), (500, "voltage", 1.0), (400, "voltage", 2.0)]
SHORT = [(400, "voltage_no_homeostasis", 1.0)]
ABORTED = [(400, "voltage_no_istdp", 1.0)]  # the guard stops its training


def _run_chain(base: Path, n: int, rule: str, speed: float) -> tuple[dict, dict[str, Path]]:
    point = {"n_neurons": n, "rule": rule, "learning_speed": speed, "seed": 1}
    folder = base / "_".join(f"{k}~{v}" for k, v in point.items())
    params = NetworkParams.from_dict({
        "connectivity": {"n_neurons": n, "size_scaling": "mean_input"},
        "plasticity": {**VARIANTS[rule], "learning_speed": speed, "start_s": 0.1},
        "assemblies": {"n_assemblies": 3},
        "guard": {"start_s": 0.05, "tau_s": 0.02},
    })
    sim = Simulation.build(params, seed=1)
    paths: dict[str, Path] = {}

    def stage(name: str, seconds: float, schedule=None, **attrs) -> None:
        rec = sim.run(seconds, schedule, RECORD, progress=False)
        paths[name] = folder / f"{name}.zarr"
        write_run_store(paths[name], sim, rec, stage=name, sweep=point, **attrs)

    stage("simulate", 0.1)
    if (n, rule, speed) in ABORTED:  # a band the trained network leaves at once
        sim.set_params(params.replace(**{"guard.rate_max_hz": 0.5}))
    schedule = training_schedule(3, 1, on_s=0.05, off_s=0.02, rate_hz=8000.0,
                                 rng=np.random.default_rng(1))
    stage("train", 0.25, schedule)
    stage("spontaneous_recurrent", 0.15)
    if (n, rule, speed) in FULL:
        stage("perturb_recurrent", 0.1, recovery_fraction=0.1 * n + speed)
        sim.set_params(sim.params.replace(ee_transmission=False))
        stage("spontaneous_nonrecurrent", 0.15)
    analysis = with_sweep_coords(analyze_run(paths, ANALYSIS), point)
    paths["analyze"] = folder / "analyze.zarr"
    write_store(paths["analyze"], analysis,
                attrs=provenance_attrs(stage="analyze", config={}, seed=1, sweep=point))
    for path in paths.values():  # what Snakemake drops into every directory() output
        (path / ".snakemake_timestamp").touch()
    return point, paths


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> list[tuple[dict, dict[str, Path]]]:
    base = tmp_path_factory.mktemp("sweep")
    return [_run_chain(base, *run) for run in FULL + SHORT + ABORTED]


def _sweep_point_of(ds_or_path) -> dict:
    ds = ds_or_path if isinstance(ds_or_path, xr.Dataset) else open_store(ds_or_path)
    return json.loads(ds.attrs["sweep_json"])


def assert_holds_exactly_the_stores(combined: xr.Dataset, paths, *, scalars_only=False) -> None:
    """Each run's values are its own store's; everything else is NaN."""
    covered = {name: np.zeros(combined[name].shape, bool) for name in combined.data_vars}
    for path in paths:
        own = open_store(path)
        point = _sweep_point_of(own)
        for name in own.data_vars:
            if scalars_only and own[name].ndim:
                assert name not in combined
                continue
            at_point = combined[name].sel(point)
            own_coords = {d: own[d].values for d in own[name].dims}
            np.testing.assert_array_equal(at_point.sel(own_coords).values, own[name].values,
                                          err_msg=f"{name} of {path}")
            mask = xr.DataArray(np.zeros(combined[name].shape, bool), combined[name].coords)
            mask.loc[{**point, **own_coords}] = True
            covered[name] |= mask.values
    for name, mask in covered.items():
        values = combined[name].values
        assert np.isnan(values[~mask]).all(), f"{name} has values where no run has one"
        assert not np.isnan(values[mask]).any() or name in _NAN_IN_STORE, name


# variables a store itself may hold NaN in (e.g. a ratio over an empty window)
_NAN_IN_STORE = {"w_ratio", "w_ratio_recurrent", "w_ratio_nonrecurrent", "rate_exc_train_max_hz",
                 "assembly_rate_max_over_mean", "assembly_rate_max_over_mean_null_q95",
                 "assembly_rate_dominance", "w_within_change_recurrent",
                 "w_within_change_nonrecurrent", "w_within_rel_recurrent",
                 "w_within_rel_nonrecurrent", "ratio_change_recurrent", "ratio_end_recurrent",
                 "ratio_after_training", "ratio_end_nonrecurrent", "ratio_change_nonrecurrent",
                 "rate_assembly_spontaneous_hz", "rate_assembly_hz", "w_assembly_pf",
                 # a Gini or max/mean of gains over a mean gain of 0 (micro networks gain nothing)
                 "assembly_gain_gini_end", "assembly_gain_gini_trained",
                 "assembly_gain_gini_equal_q95", "assembly_gain_max_over_mean_end",
                 "assembly_gain_max_over_mean_trained"}


def _quiet_open_sweep(*args, **kwargs) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return open_sweep(*args, **kwargs)


def test_the_fixture_is_a_mix_like_the_default_sweep(sweep):
    status = {p["rule"]: open_store(paths["train"]).attrs["status"] for p, paths in sweep}
    assert status == {"voltage": "completed", "voltage_no_homeostasis": "completed",
                      "voltage_no_istdp": "aborted"}
    train_bins = {open_store(paths["train"]).sizes["time"] for _, paths in sweep}
    assert len(train_bins) == 2  # the guard-stopped run has a shorter time axis
    spont_starts = {float(open_store(paths["spontaneous_recurrent"]).time[0]) for _, paths in sweep}
    assert len(spont_starts) == 2  # ... and its later stages start earlier on the clock


def test_analyze_stores_of_full_short_and_stopped_runs_open_as_one_sweep(sweep):
    paths = [p["analyze"] for _, p in sweep]
    ds = _quiet_open_sweep(paths, sweep_keys=KEYS)
    assert dict(ds.sizes).items() >= {"n_neurons": 2, "rule": 3, "learning_speed": 2,
                                      "seed": 1}.items()
    assert all(ds[name].dims[:4] == KEYS for name in ds.data_vars)
    assert ds.n_neurons.attrs["units"] == "cells"
    assert_holds_exactly_the_stores(ds, paths)
    # what the short chain does not produce is NaN there, and present in every full-chain run
    for name in ("ratio_end_nonrecurrent", "recovery_fraction_recurrent"):
        for (n, rule, speed) in FULL + SHORT + ABORTED:
            value = float(ds[name].sel(n_neurons=n, rule=rule, learning_speed=speed, seed=1))
            assert np.isfinite(value) == ((n, rule, speed) in FULL), (name, rule)
    recovery = ds.recovery_fraction_recurrent.sel(rule="voltage", seed=1)
    assert float(recovery.sel(n_neurons=500, learning_speed=1.0)) == pytest.approx(51.0)
    assert np.isnan(recovery.sel(n_neurons=500, learning_speed=2.0))  # no such run
    assert int(np.isfinite(ds.train_end_s).sum()) == len(sweep)
    stopped = ds.train_status_ok.sel(rule="voltage_no_istdp", n_neurons=400, learning_speed=1.0)
    assert float(stopped.squeeze()) == 0.0
    spont = ds.w_within_rel_recurrent
    assert spont.indexes["time_spontaneous"].is_monotonic_increasing


def test_scalars_only_gives_every_run_its_own_statistics(sweep):
    paths = [p["analyze"] for _, p in sweep]
    ds = _quiet_open_sweep(paths, sweep_keys=KEYS, scalars_only=True)
    assert set(ds.dims) == set(KEYS)
    assert_holds_exactly_the_stores(ds, paths, scalars_only=True)
    full = ds.ratio_after_training.sel(rule="voltage", seed=1)
    assert np.isfinite(full.sel(n_neurons=400)).all() and np.isfinite(full.sel(n_neurons=500,
                                                                               learning_speed=1.0))


@pytest.mark.parametrize("stage", ["train", "spontaneous_recurrent", "simulate"])
def test_stage_stores_keep_their_own_axes_and_shorter_runs_end_in_nan(sweep, stage):
    paths = [p[stage] for _, p in sweep]
    ds = _quiet_open_sweep(paths, sweep_keys=KEYS)
    assert ds.rate_exc_hz.dims == (*KEYS, "time")
    assert ds.w_assembly_pf.dims == (*KEYS, "snapshot_time", "pre_group", "post_group")
    assert set(ds.dims) == {*KEYS, "time", "snapshot_time", "assembly", "pre_group", "post_group"}
    assert ds.indexes["time"].is_monotonic_increasing
    assert_holds_exactly_the_stores(ds, paths)


def test_a_guard_stopped_run_is_nan_after_it_stopped(sweep):
    paths = [p["train"] for _, p in sweep]
    ds = _quiet_open_sweep(paths, sweep_keys=KEYS)
    (point, stopped), = [(p, s) for p, s in sweep if p["rule"] == "voltage_no_istdp"]
    own = open_store(stopped["train"])
    rate = ds.rate_exc_hz.sel(point)
    assert ds.sizes["time"] > own.sizes["time"]
    assert np.isfinite(rate.sel(time=own.time)).all()
    assert np.isnan(rate.sel(time=ds.time > float(own.time[-1]))).all()
    full = ds.rate_exc_hz.sel(n_neurons=400, rule="voltage", learning_speed=1.0, seed=1)
    assert np.isfinite(full).all()


def test_any_subset_opens_and_keeps_its_values(sweep):
    chosen = [p["analyze"] for point, p in sweep if point["learning_speed"] == 1.0][1:]
    ds = _quiet_open_sweep(chosen)
    assert list(ds.dims)[:4] == sorted(KEYS)  # default: the stores' keys, as stored
    assert_holds_exactly_the_stores(ds, chosen)
    one = _quiet_open_sweep(chosen[:1])
    assert_holds_exactly_the_stores(one, chosen[:1])
    by_rule = _quiet_open_sweep(chosen, sweep_keys=["rule"])  # the other values differ not here
    assert set(by_rule.dims) >= {"rule"} and not {"n_neurons", "seed"} & set(by_rule.coords)
    for path in chosen:
        rule = _sweep_point_of(path)["rule"]
        assert float(by_rule.train_end_s.sel(rule=rule)) == float(open_store(path).train_end_s)


def test_open_sweep_refuses_ambiguous_or_unlabelled_stores(sweep, tmp_path):
    (_, first), *_ = sweep
    with pytest.raises(ValueError, match="same sweep point"):
        open_sweep([first["train"], first["analyze"]])
    with pytest.raises(KeyError, match="n_synapses"):
        open_sweep([first["train"]], sweep_keys=["n_synapses"])
    bare = write_store(tmp_path / "bare.zarr", xr.Dataset({"x": ("t", [1.0])}))
    with pytest.raises(KeyError, match="no sweep values"):
        open_sweep([bare])
    with pytest.raises(ValueError, match="at least one"):
        open_sweep([])


def test_stores_without_consolidated_metadata_still_open_quietly(sweep, tmp_path):
    """Stores written before the consolidated-metadata policy keep working."""
    import zarr

    (_, paths), *_ = sweep
    old = tmp_path / "old.zarr"
    open_store(paths["train"]).load().to_zarr(old, zarr_format=3, consolidated=False)
    zarr.open_group(old, mode="r+", use_consolidated=False).attrs["store_complete"] = True
    (old / ".snakemake_timestamp").touch()  # what Snakemake drops into directory() outputs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(open_store(old).rate_exc_hz,
                                      open_store(paths["train"]).rate_exc_hz)
    assert "consolidated_metadata" in (paths["train"] / "zarr.json").read_text()


def test_readme_example_opens_stores_without_warnings(sweep, tmp_path):
    """The docs' 'Opening the results' block (docs/data.md), run on a real run folder, warns about
    nothing."""
    readme = (ROOT / "docs" / "data.md").read_text()
    section = readme.split("## Opening the results", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "open_zarr" in code
    (_, paths), *_ = sweep
    code = re.sub(r'^run = ".*"$', f'run = "{paths["train"].parent}"', code, flags=re.M)
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        namespace: dict = {}
        exec(compile(code, "docs/data.md", "exec"), namespace)
    assert namespace["train"].attrs["stage"] == "train"
    assert namespace["spikes"].sizes["spike"] > 0


def test_importing_the_library_changes_no_global_state():
    """No warning filters, no matplotlib backend, no pyplot from importing store, models, figures."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, warnings\n"
        "import numpy, numpy.polynomial, scipy.stats, scipy.sparse.csgraph, xarray, zarr, numba\n"
        "import matplotlib.figure, yaml, jsonschema\n"  # third-party filters are theirs
        "before = list(warnings.filters)\n"
        "import homeoplastic.store, homeoplastic.analysis.assemblies, homeoplastic.cli\n"
        "import homeoplastic.figures.assemblies, homeoplastic.figures.balancing\n"
        "import homeoplastic.figures.probe, homeoplastic.figures.reduced, homeoplastic.figures.rules\n"
        "import matplotlib\n"
        "assert warnings.filters == before, [f for f in warnings.filters if f not in before]\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "chosen = dict.__getitem__(matplotlib.rcParams, 'backend')\n"
        "assert chosen is matplotlib.rcsetup._auto_backend_sentinel, chosen\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr


def _groups(path: Path) -> dict[str, xr.Dataset]:
    import zarr

    names = [None, *sorted(zarr.open_group(path, mode="r").group_keys())]
    return {name or "/": xr.open_zarr(path, group=name) for name in names}


def test_every_variable_of_every_group_has_units_and_long_name(sweep):
    (_, paths), *_ = sweep
    assert "state" in _groups(paths["train"]) and "spikes" in _groups(paths["train"])
    for stage, path in paths.items():
        for group, ds in _groups(path).items():
            for name, var in ds.variables.items():
                for key in ("units", "long_name"):
                    assert var.attrs.get(key), f"{stage}.zarr {group} {name}: no {key}"
                assert "undocumented" not in var.attrs["long_name"], f"{stage} {group} {name}"


def test_conductance_state_variables_are_in_pF(sweep):
    """The rise/decay variables of the E and I conductances hold pF (kernels/state.py), like
    the ``*_pf`` state; they were stored as dimensionless."""
    (_, paths), *_ = sweep
    state = open_store(paths["train"], group="state")
    for name in ("xr_exc", "xd_exc", "xr_inh", "xd_inh", "pend_exc_pf"):
        assert state[name].attrs["units"] == "pF", name


def test_spike_groups_carry_seconds_and_a_cell_index_beside_the_exact_steps(sweep):
    (_, paths), *_ = sweep
    for stage in ("simulate", "train"):
        root, spikes = open_store(paths[stage]), open_store(paths[stage], group="spikes")
        dt_s = float(root.attrs["dt_ms"]) * 1e-3
        assert spikes.sizes["spike"] > 0
        np.testing.assert_array_equal(spikes.i, spikes.spike_cell)
        np.testing.assert_array_equal(spikes.t_s, spikes.spike_step.values * dt_s)
        assert spikes.t_s.attrs["units"] == "s"
        # the same clock as the rate bins: every spike lies inside the stage's run
        assert float(spikes.t_s.min()) >= float(root.attrs["run_start_s"]) - 1e-12
        assert float(spikes.t_s.max()) < float(root.attrs["run_end_s"])


def test_time_axes_say_whether_they_are_absolute_or_relative(sweep):
    """analyze.zarr's time axes are all on the simulation clock; the attrs say so."""
    (_, paths), *_ = sweep
    analysis = open_store(paths["analyze"])
    times = [c for c in analysis.coords if analysis[c].attrs.get("units") == "s"]
    assert {"time_recurrent", "time_spontaneous", "time_train"} <= set(times)
    for name in times:
        assert analysis[name].attrs["time_reference"] == "absolute", name
    # absolute really means the run's clock: the spontaneous axis starts where training ended
    train = open_store(paths["train"])
    assert float(analysis.time_spontaneous[0]) == pytest.approx(float(train.attrs["run_end_s"]))
    for stage in ("simulate", "train"):
        ds = open_store(paths[stage])
        assert ds.time.attrs["time_reference"] == ds.snapshot_time.attrs["time_reference"] == \
            "absolute"


def test_timed_write_times_the_computation_and_writes_provenance(tmp_path):
    """The one provenance-and-timing helper: wall_seconds covers the computation, sim_seconds
    may be read from the result, groups go into the store, and the store is complete."""
    import time as _time

    from homeoplastic.store import is_complete, load_group, timed_write

    def compute():
        _time.sleep(0.2)
        return xr.Dataset({"x": ("t", np.arange(4.0))}), {"state": xr.Dataset({"w": ("k", [1, 2])})}

    ds, path = timed_write(tmp_path / "s.zarr", compute, stage="demo", config={"a": 1}, seed=7,
                           sweep={"n": 3}, sim_seconds=lambda d: float(d.sizes["t"]), note="hi")
    attrs = open_store(path).attrs
    assert is_complete(path) and float(ds.x.sum()) == 6.0
    assert attrs["wall_seconds"] >= 0.2 and attrs["sim_seconds"] == 4.0
    assert (attrs["stage"], attrs["seed"], attrs["note"]) == ("demo", 7, "hi")
    assert json.loads(attrs["sweep_json"]) == {"n": 3}
    assert json.loads(attrs["config_json"]) == {"a": 1}
    assert load_group(path, "state")["w"].tolist() == [1, 2]


def test_writing_a_store_with_text_labels_warns_about_nothing(tmp_path):
    """Text coordinates (rule, arm labels) warn once per array on write and again when the
    metadata is consolidated; a job's log should not carry either."""
    ds = xr.Dataset({"a": ("run", [1.0, 2.0])},
                    coords={"run": np.array(["plain", "balance"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_store(tmp_path / "labels.zarr", ds, groups={"g": ds})
    assert list(open_store(tmp_path / "labels.zarr").run.values) == ["plain", "balance"]


@pytest.mark.parametrize("scalars_only", [True, False])
def test_the_fast_path_gives_what_xarray_gives(sweep, monkeypatch, scalars_only):
    """open_sweep reads small stores from their files and stacks them with NumPy (issue 27: 1000
    stores in seconds); the result is identical to concatenating them with xarray, dtypes, attrs
    and the NaN of short and stopped runs included."""
    import homeoplastic.sweepstack

    paths = [p["analyze"] for _, p in sweep]
    stacked = []
    real = homeoplastic.sweepstack.stack_runs
    monkeypatch.setattr(homeoplastic.sweepstack, "stack_runs",
                        lambda *args: stacked.append(real(*args)) or stacked[-1])
    fast = _quiet_open_sweep(paths, sweep_keys=KEYS, scalars_only=scalars_only)
    assert len(stacked) == 1 and stacked[0] is not None  # these stores took the fast path
    monkeypatch.setattr(homeoplastic.sweepstack, "stack_runs", lambda *args: None)
    slow = _quiet_open_sweep(paths, sweep_keys=KEYS, scalars_only=scalars_only)
    assert fast.chunks and slow.chunks  # both lazy (dask)
    xr.testing.assert_identical(fast.load(), slow.load())
    assert {k: v.dtype for k, v in fast.variables.items()} == \
        {k: v.dtype for k, v in slow.variables.items()}
