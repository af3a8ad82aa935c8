"""``homeoplastic simulate --out`` never writes over what it did not write, every option has the
workflow's bounds, ``--json`` is JSON, and ``inspect`` says when a path does not exist."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

from homeoplastic.assemblies.params import MAX_LEARNING_SPEED, MAX_NEURONS
from homeoplastic.cli import CLI_STAGE, json_safe, main
from homeoplastic.store import open_store, provenance_attrs, write_store

TINY = ["simulate", "--n-neurons", "100", "--sim-seconds", "0.02", "--quiet"]


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(("option", "value", "allowed"), [
    ("--n-neurons", "10000000", f"<= {MAX_NEURONS}"),
    ("--n-neurons", "50", ">= 100"),
    ("--learning-speed", "1e300", f"<= {MAX_LEARNING_SPEED:g}"),
    ("--learning-speed", "nan", "finite"),
    ("--learning-speed", "0", "> 0"),
    ("--sim-seconds", "inf", "finite"),
    ("--sim-seconds", "0", "> 0"),
    ("--plasticity-start-s", "-1", ">= 0"),
    ("--rate-max-hz", "nan", "finite"),
    ("--seed", "-3", ">= 0"),
])
def test_every_option_has_the_workflows_bounds(option, value, allowed, capsys, tmp_path):
    out = tmp_path / "never.zarr"
    args = [*TINY, option, value, "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"homeoplastic: error: {option} = ") and allowed in err, err
    assert not out.exists()


def test_a_plain_file_at_out_is_refused_and_kept(tmp_path, capsys):
    target = tmp_path / "d"
    target.write_text("my notes")
    assert main([*TINY, "--out", str(target), "--force"]) == 2
    assert "is a file, not a store" in capsys.readouterr().err
    assert target.read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_a_folder_that_is_not_a_store_is_refused_and_kept(tmp_path, capsys):
    target = tmp_path / "d"
    target.mkdir()
    (target / "data.csv").write_text("1,2")
    assert main([*TINY, "--out", str(target), "--force"]) == 2
    assert "not a complete homeoplastic store" in capsys.readouterr().err
    assert (target / "data.csv").read_text() == "1,2"
    assert sorted(p.name for p in target.iterdir()) == ["data.csv"]


def test_a_workflow_store_is_refused_even_with_force(tmp_path, capsys):
    target = tmp_path / "train.zarr"
    write_store(target, xr.Dataset({"a": ("x", np.arange(3.0))}),
                attrs=provenance_attrs(stage="train", config={}, seed=1))
    assert main([*TINY, "--out", str(target), "--force"]) == 2
    assert "store of the workflow (stage 'train')" in capsys.readouterr().err
    assert open_store(target).attrs["stage"] == "train"


def test_its_own_store_is_replaced_only_with_force_and_json_is_strict(tmp_path, capsys):
    target = tmp_path / "run.zarr"
    assert main([*TINY, "--out", str(target), "--json"]) == 0
    first = _strict_json(capsys.readouterr().out)
    assert first["store"] == str(target)
    assert open_store(target).attrs["stage"] == CLI_STAGE
    assert main([*TINY, "--out", str(target), "--seed", "2"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert open_store(target).attrs["seed"] == 1
    assert main([*TINY, "--out", str(target), "--seed", "2", "--force", "--json"]) == 0
    _strict_json(capsys.readouterr().out)
    assert open_store(target).attrs["seed"] == 2


def test_json_safe_turns_nan_into_null():
    summary = {"a": float("nan"), "b": np.float64(np.inf), "c": np.int64(3), "d": [1.0, math.nan],
               "e": "text"}
    text = json.dumps(json_safe(summary), allow_nan=False)
    assert _strict_json(text) == {"a": None, "b": None, "c": 3, "d": [1.0, None], "e": "text"}


def test_inspect_says_when_a_path_does_not_exist(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.zarr")]) == 2
    err = capsys.readouterr().err
    assert "missing.zarr does not exist" in err and "not a complete" not in err
    (tmp_path / "half.zarr").mkdir()
    assert main(["inspect", str(tmp_path / "half.zarr")]) == 2
    assert "not a complete homeoplastic store" in capsys.readouterr().err
