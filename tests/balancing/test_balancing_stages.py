"""The balancing model's one entry (`balancing.stages.run_stage`): refuses what it cannot run,
naming the key, and writes the same store as the library calls the workflow scripts used to make."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from homeoplastic.balancing.experiments import (
    RNNSetup,
    SweepPoint,
    balance_sweep_point,
    rnn_robustness,
    rnn_train,
)
from homeoplastic.balancing.rnn import TrainConfig
from homeoplastic.balancing.stages import StageError, run_stage
from homeoplastic.config import load_schema, validate
from homeoplastic.store import load_group, provenance_attrs, write_store

SCHEMA = Path(__file__).resolve().parents[2] / "workflow/schemas/balancing.schema.yaml"
SWEEP = {"solver": "newton", "tol": 1e-10, "flow_max_iter": 2000}
POINT = {"n": 12, "rank": "2", "p": 2.0, "seed": 3}


def _section() -> dict:
    return validate({}, load_schema(SCHEMA), where="balancing")


def _rnn_settings(keys: tuple[str, ...]) -> dict:
    rnn = {**_section()["rnn"], "n": 12, "n_timesteps": 6, "n_iterations": 4, "log_every": 2,
           "n_permutations": 3, "n_trial_sets": 2, "noise_sigmas": [0.0, 0.2]}
    return {key: rnn[key] for key in keys}


def _arrays(path: Path) -> dict[str, tuple[str, bytes]]:
    """Every array of every group of a store: (dtype, raw bytes) by path; wall-clock timings
    (``*_wall_s``) are measured, not computed, so they are left out."""
    out = {}
    for name, array in zarr.open_group(path, mode="r").arrays():
        out[name] = (str(array.dtype), np.asarray(array[...]).tobytes())
    for gname, group in zarr.open_group(path, mode="r").groups():
        for name, array in group.arrays():
            out[f"{gname}/{name}"] = (str(array.dtype), np.asarray(array[...]).tobytes())
    return {k: v for k, v in out.items() if not k.endswith("_wall_s")}


def _attrs(path: Path) -> dict:
    attrs = dict(zarr.open_group(path, mode="r").attrs)
    return {k: attrs[k] for k in ("stage", "seed", "sweep_json", "config_json")}


def _params(settings: dict, point: dict | None = None, run: dict | None = None) -> dict:
    return {"settings": settings, "point": point or {}, "run": run or {}}


BALANCE = _params({**SWEEP, **POINT}, {"n": 12, "rank": 2, "p": 2.0, "seed": 3})


def test_unknown_stage_is_refused_by_name(tmp_path):
    with pytest.raises(StageError, match=r"'balanse' is unknown.*'balance'"):
        run_stage("balanse", BALANCE, {}, tmp_path / "x.zarr")


def test_missing_setting_names_its_key(tmp_path):
    with pytest.raises(StageError, match=r"balancing\.sweep\.tol is missing"):
        run_stage("balance", _params({"solver": "newton", "flow_max_iter": 10, **POINT}), {},
                  tmp_path / "x.zarr")
    with pytest.raises(StageError, match=r"balancing\.rnn\.gain_floor is missing"):
        run_stage("robustness", _params(_rnn_settings(("n", "n_timesteps", "sigma_in",
                  "sigma_ctx", "rec_scale", "dt", "substeps", "noise_sigmas", "n_trial_sets",
                  "silent_gain"))), {"train": str(tmp_path)}, tmp_path / "x.zarr")


def test_bad_values_and_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"balancing\.sweep\.n = 'twelve'"):
        run_stage("balance", _params({**SWEEP, **POINT, "n": "twelve"}), {}, tmp_path / "x.zarr")
    with pytest.raises(StageError, match="needs the run value 'seed'"):
        run_stage("xor", _params(_section()["xor"]), {}, tmp_path / "x.zarr")
    with pytest.raises(StageError, match=r"reads the inputs \[\]"):
        run_stage("balance", BALANCE, {"x": "a.zarr"}, tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()


def test_balance_stage_writes_the_store_the_library_makes(tmp_path):
    """Same arrays, byte for byte; the store says its point and the settings it read."""
    outcome = run_stage("balance", json.dumps(BALANCE), {}, tmp_path / "entry.zarr")
    assert outcome.completed and outcome.output == str(tmp_path / "entry.zarr")
    point = SweepPoint(n=12, rank="2", p=2.0, seed=3, **SWEEP)
    ds, groups = balance_sweep_point(point)
    write_store(tmp_path / "script.zarr", ds, groups=groups, attrs=provenance_attrs(
        stage="balance", config={**SWEEP, **POINT}, seed=3, sweep=BALANCE["point"],
        wall_seconds=0.0))
    entry, script = _arrays(tmp_path / "entry.zarr"), _arrays(tmp_path / "script.zarr")
    assert entry.keys() == script.keys() and any("/" in k for k in entry)
    assert all(entry[k] == script[k] for k in entry), [k for k in entry if entry[k] != script[k]]
    assert _attrs(tmp_path / "entry.zarr") == _attrs(tmp_path / "script.zarr")
    attrs = zarr.open_group(tmp_path / "entry.zarr", mode="r").attrs
    assert attrs["wall_seconds"] > 0
    assert json.loads(attrs["settings_json"]) == {"n": 12, "rank": "2", "p": 2.0, "seed": 3,
                                                  "sweep.solver": "newton", "sweep.tol": 1e-10,
                                                  "sweep.flow_max_iter": 2000}


def test_rnn_stages_write_the_stores_the_library_makes(tmp_path):
    train_keys = ("n", "n_timesteps", "sigma_in", "sigma_ctx", "rec_scale", "n_iterations",
                  "batch_sets", "learning_rate", "optimizer", "lr_final_factor", "clip_norm", "dt",
                  "substeps", "log_every", "n_permutations")
    eval_keys = ("n", "n_timesteps", "sigma_in", "sigma_ctx", "rec_scale", "dt", "substeps",
                 "noise_sigmas", "n_trial_sets", "gain_floor", "silent_gain")
    t, e = _rnn_settings(train_keys), _rnn_settings(eval_keys)
    sweep = {"arm": "l2", "lambda": 0.3, "seed": 1, "run": "l2 λ=0.3"}
    run = {"arm": "l2", "lam": 0.3, "seed": 1}
    train = tmp_path / "entry_train.zarr"
    run_stage("train_rnn", json.dumps(_params(t, sweep, run)), {}, train)
    run_stage("robustness", json.dumps(_params(e, sweep, run)), {"train": str(train)},
              tmp_path / "entry_robust.zarr")

    setup = RNNSetup(t["n"], t["n_timesteps"], t["sigma_in"], t["sigma_ctx"], t["rec_scale"])
    cfg = TrainConfig(arm="l2", n_iterations=t["n_iterations"], learning_rate=t["learning_rate"],
                      optimizer=t["optimizer"], lr_final_factor=t["lr_final_factor"],
                      clip_norm=t["clip_norm"], l2_lambda=0.3, balance_rate=0.0, dt=t["dt"],
                      substeps=t["substeps"], log_every=t["log_every"], batch_sets=t["batch_sets"])
    ds, groups = rnn_train(setup, cfg, 1, t["n_permutations"])
    write_store(tmp_path / "script_train.zarr", ds, groups=groups, attrs=provenance_attrs(
        stage="train_rnn", config=t, seed=1, sweep=sweep))
    robust = rnn_robustness(load_group(tmp_path / "script_train.zarr", "state"), setup,
                            e["noise_sigmas"], e["n_trial_sets"], 1, e["dt"], e["substeps"],
                            e["gain_floor"], e["silent_gain"])
    write_store(tmp_path / "script_robust.zarr", robust, attrs=provenance_attrs(
        stage="robustness", config=e, seed=1, sweep=sweep))
    for name in ("train", "robust"):
        entry, script = (_arrays(tmp_path / f"{who}_{name}.zarr") for who in ("entry", "script"))
        assert entry.keys() == script.keys()
        assert all(entry[k] == script[k] for k in entry), (name, [k for k in entry
                                                                  if entry[k] != script[k]])
        assert (_attrs(tmp_path / f"entry_{name}.zarr")
                == _attrs(tmp_path / f"script_{name}.zarr"))
