"""The command line: help and defaults for every option, the workflow's defaults, one-line errors,
and a line on stderr when the kernels compile for the first time."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from homeoplastic.cli import WORKFLOW_SIZE_SCALING, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "homeoplastic.cli"]


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("command", ["simulate", "inspect", "export"])
def test_help_explains_every_option_and_shows_its_default(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo the line wrapping
    for action in _subparser(command)._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and len(action.help) > 8, f"{action.dest} has no help"
        assert " ".join(action.help.split()) in text
        if action.default is not None and action.default is not False:
            assert f"(default: {action.default})" in text, f"{action.dest}: default not shown"


def test_seed_and_learning_speed_say_what_they_do(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--seed SEED seed of the connectivity" in text and "(default: 1)" in text
    assert "--learning-speed LEARNING_SPEED factor on every plasticity amplitude" in text


def test_size_scaling_default_is_the_workflows():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    workflow = config["assemblies"]["network"]["connectivity"]["size_scaling"]
    assert WORKFLOW_SIZE_SCALING == workflow
    assert _subparser("simulate").get_default("size_scaling") == workflow


@pytest.mark.parametrize("args", [["inspect", "missing.zarr"],
                                  ["inspect", "{store}", "--group", "no_such_group"]])
def test_inspect_errors_are_one_line_without_a_traceback(args, tmp_path):
    import numpy as np
    import xarray as xr

    from homeoplastic.store import write_store

    store = tmp_path / "s.zarr"
    write_store(store, xr.Dataset({"a": ("x", np.arange(3.0))}))
    args = [a.format(store=store) for a in args]
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("homeoplastic: error: "), result.stderr
    assert args[1].split("/")[-1] in lines[0] or "no_such_group" in lines[0]


def test_a_line_on_stderr_only_when_the_kernels_compile(tmp_path):
    """With an empty Numba cache the first run says it compiles; the next one (cached) does not."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    run = [*CLI, "simulate", "--n-neurons", "100", "--sim-seconds", "0.02", "--quiet", "--json"]
    first = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "compiling the engine's kernels" in first.stderr
    second = subprocess.run(run, capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "compiling" not in second.stderr
    # compiling changes the time taken, not the result
    timing = ("build_s", "wall_seconds", "wall_s_per_sim_s")
    a, b = (json.loads(r.stdout) for r in (first, second))
    assert {k: v for k, v in a.items() if k not in timing} == \
        {k: v for k, v in b.items() if k not in timing}
