"""The reduced sweep: any setting is an axis, run ids survive growth, values are checked before
any job, and the example sweep (config/examples/reduced_w_inh.yaml) runs end to end in its micro
version, growing without recomputing what is there."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from homeoplastic.config import load_schema, validate
from homeoplastic.parameters import ParameterError
from homeoplastic.reduced import runs
from homeoplastic.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "reduced.schema.yaml")
EXAMPLE = ROOT / "config" / "examples" / "reduced_w_inh.yaml"


def section(**values) -> dict:
    return validate(values, SCHEMA, where="reduced")


# ---------------------------------------------------------------------------------- unit checks
def test_todays_lists_are_the_named_axes_and_keep_their_run_ids():
    found = runs.points(section(models=[2, 4], system_size=[16, 32.5], eta=[0.001], seeds=[0, 1]))
    ids = [p.run_id for p in found]
    assert len(ids) == 8 and "m~2_n~16_eta~0.001_seed~0" in ids and "m~4_n~32.5_eta~0.001_seed~1" in ids
    same = runs.points(section(sweep={"m": [2, 4], "n": [16, 32.5], "eta": [0.001], "seed": [0, 1]}))
    assert [p.run_id for p in same] == ids


def test_an_axis_at_its_default_keeps_the_run_and_a_stage_shares_what_it_does_not_read():
    found = runs.points(section(models=[2], sweep={"field_points": [21, 11], "theta": [1.8]}))
    assert [p.run_id for p in found] == ["m~2_n~16_eta~0.001_seed~0",
                                         "m~2_n~16_eta~0.001_seed~0_field_points~11"]
    new = found[1]
    assert runs.stage_run_id(new, "simulate") == runs.stage_run_id(new, "train") == found[0].run_id
    assert runs.stage_run_id(new, "analyze") == new.run_id
    params = runs.stage_params(section(models=[2], sweep={"field_points": [21, 11]}), new, "analyze")
    assert json.loads(params["cfg"])["field_points"] == 11
    assert json.loads(params["point"]) == {"m": 2, "n": 16.0, "eta": 0.001, "seed": 0,
                                           "field_points": 11}
    # the other model size's train starts change nothing of an M = 2 run
    two = runs.points(section(models=[2], sweep={"train_starts_4pop": [[[0.5, 0.5]]]}))[0]
    assert runs.stage_run_id(two, "train") == "m~2_n~16_eta~0.001_seed~0"


def test_the_default_params_are_those_of_the_previous_rules():
    cfg = section()
    point = next(p for p in runs.points(cfg) if p["m"] == 2)
    old = {  # the keys the previous STAGE_KEYS listed for the train stage of M = 2
        key: cfg[key] for key in ("activation", "w_max", "w_inh", "external_input", "theta",
                                  "train_duration", "train_bin", "train_starts_2pop")}
    assert runs.stage_params(cfg, point, "train")["cfg"] == json.dumps(old, sort_keys=True)


@pytest.mark.parametrize("values, key", [
    ({"sweep": {"w_inh": [0.2, -1.0]}}, "reduced.sweep.w_inh"),
    ({"sweep": {"activation.f_max": [0]}}, "reduced.sweep.activation.f_max"),
    ({"sweep": {"activation.slope": [1.0]}}, "reduced.sweep.activation.slope"),
    ({"sweep": {"m": [2, 3]}}, "reduced.sweep.m"),
    ({"sweep": {"seeds": [0.5]}}, "reduced.sweep.seed"),
    ({"sweep": {"reduction": ["slaved", "halfway"]}}, "reduced.sweep.reduction"),
    ({"sweep": {"thetaa": [1.0]}}, "reduced.sweep.thetaa"),
    ({"extra_sweeps": [{"field_points": [2]}]}, "reduced.extra_sweeps[0].field_points"),
    ({"sweep": {"m": [2], "models": [4]}}, "reduced.sweep.models"),
])
def test_a_bad_sweep_value_is_refused_naming_its_key(values, key):
    with pytest.raises(ParameterError) as err:
        runs.points(section(**values))
    assert err.value.key == key and key.rsplit(".", 1)[-1] in str(err.value)


@pytest.mark.parametrize("panel, key", [
    ({"y": "escape_rate_typo", "x": "n"}, "reduced.figures[0].y"),
    ({"y": "high_occupancy", "x": "theta"}, "reduced.figures[0].x"),
    ({"y": "high_occupancy", "x": "n", "hue": "seed"}, "reduced.figures[0].hue"),
])
def test_a_figure_panel_names_a_quantity_and_axes_that_exist(panel, key):
    cfg = section(figures=[panel])
    with pytest.raises(ParameterError) as err:
        runs.check_figures(cfg, runs.points(cfg))
    assert err.value.key == key
    ok = section(sweep={"theta": [1.8, 2.0]}, figures=[{"y": "escape_low_low", "x": "theta",
                                                        "hue": "models"}])
    assert runs.check_figures(ok, runs.points(ok)) == [{"y": "escape_low_low", "x": "theta",
                                                         "hue": "m"}]


# ------------------------------------------------------------------------- the example, micro
MICRO = {  # the example at seconds per job
    "results_dir": None, "logs_dir": None,
    "reduced": {"sweep": {"w_inh": [0.2, 0.3]}, "rates_duration": 50, "train_duration": 200,
                "train_bin": 20, "field_points": 5, "sampled_field_points": 2,
                "sampled_field_duration": 100, "escape_samples": 5,
                "bundle": {"points_per_job": 1}},  # one job per store: plans named by rule
}
SEEDS = (0, 1, 2)
_JOB = re.compile(r"^(?:local)?rule (\w+):$")
_RUN = re.compile(r"^\s+wildcards: .*?run=([^,\s]+)")


def _snakemake(tmp: Path, overlay: dict, *extra: str, check: bool = True):
    cfg = copy.deepcopy(overlay)
    cfg["results_dir"], cfg["logs_dir"] = str(tmp / "results"), str(tmp / "logs")
    path = tmp / "overlay.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *extra, "--configfile",
           str(EXAMPLE), str(path)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(result.stdout[-4000:] + result.stderr[-4000:])
    return result


def _planned(output: str) -> set[tuple[str, str]]:
    jobs, rule, run = set(), None, ""
    for line in output.splitlines():
        match = _JOB.match(line.strip())
        if match:
            if rule is not None:
                jobs.add((rule, run))
            rule, run = match.group(1), ""
        elif (found := _RUN.match(line)) and rule is not None:
            run = found.group(1)
    if rule is not None:
        jobs.add((rule, run))
    return jobs


def _with(**sweep) -> dict:
    overlay = copy.deepcopy(MICRO)
    overlay["reduced"]["sweep"].update(sweep)
    return overlay


def _chain(run: str, stages=("simulate", "train", "analyze")) -> set[tuple[str, str]]:
    return {(f"reduced_{stage}", run) for stage in stages}


SWEEP_LEVEL = {("reduced_figure_sweep", ""), ("all", "")}


def test_the_example_runs_end_to_end_and_grows_without_recomputing(tmp_path):
    example = yaml.safe_load(EXAMPLE.read_text())["reduced"]
    assert len(example["sweep"]["seeds"]) >= 3 and len(example["sweep"]["w_inh"]) >= 3
    _snakemake(tmp_path, MICRO)
    results = tmp_path / "results"
    folders = sorted(p.name for p in (results / "reduced").iterdir())
    assert folders == sorted([f"m~2_n~16_eta~0.001_seed~{s}" for s in SEEDS]
                             + [f"m~2_n~16_eta~0.001_seed~{s}_w_inh~0.3" for s in SEEDS])
    store = open_store(results / "reduced" / "m~2_n~16_eta~0.001_seed~1_w_inh~0.3" / "analyze.zarr")
    assert json.loads(store.attrs["sweep_json"]) == {"m": 2, "n": 16.0, "eta": 0.001, "seed": 1,
                                                      "w_inh": 0.3}
    assert json.loads(store.attrs["settings_json"])["w_inh"] == 0.3
    point = yaml.safe_load((results / "reduced" / "m~2_n~16_eta~0.001_seed~1_w_inh~0.3"
                            / "point.yaml").read_text())
    assert point["point"] == {"m": 2, "n": 16.0, "eta": 0.001, "seed": 1, "w_inh": 0.3}
    default = open_store(results / "reduced" / "m~2_n~16_eta~0.001_seed~1" / "analyze.zarr")
    assert "w_inh" not in json.loads(default.attrs["sweep_json"])
    assert json.loads(default.attrs["settings_json"])["w_inh"] == 0.2
    assert (results / "figures" / "reduced_sweep.png").stat().st_size > 10_000

    # the figure's numbers: mean, CI and n over the three seeds per w_inh
    from homeoplastic.figures.reduced import sweep_data
    from homeoplastic.stats.replicates import over_seeds

    pairs = [({"m": 2, "n": 16.0, "eta": 0.001, "seed": s, "w_inh": w},
              str(results / "reduced" / (f"m~2_n~16_eta~0.001_seed~{s}"
                                         + ("" if w == 0.2 else f"_w_inh~{w}")) / "analyze.zarr"))
             for s in SEEDS for w in (0.2, 0.3)]
    data = sweep_data(pairs)["escape_low_low"].squeeze(["m", "n", "eta"], drop=True)
    stats = over_seeds(data)
    assert stats["n_seeds"].sel(w_inh=0.3).item() == 3
    assert (stats["ci_low"] <= stats["mean"]).all() and (stats["mean"] <= stats["ci_high"]).all()

    # a third value: only its points and the sweep figure
    planned = _planned(_snakemake(tmp_path, _with(w_inh=[0.2, 0.3, 0.25]), "-n").stdout)
    expected = set(SWEEP_LEVEL)
    for s in SEEDS:
        expected |= _chain(f"m~2_n~16_eta~0.001_seed~{s}_w_inh~0.25")
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))

    # a new axis whose values include today's setting: nothing for the finished points
    planned = _planned(_snakemake(tmp_path, _with(theta=[1.8, 2.0]), "-n").stdout)
    expected = set(SWEEP_LEVEL)
    for s in SEEDS:
        for w in ("", "_w_inh~0.3"):
            expected |= _chain(f"m~2_n~16_eta~0.001_seed~{s}_theta~2{w}")  # other axes by key
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))

    # an axis only analyze reads: analyze alone, on the finished simulate and train stores
    planned = _planned(_snakemake(tmp_path, _with(field_points=[5, 3]), "-n").stdout)
    expected = set(SWEEP_LEVEL)
    for s in SEEDS:
        for w in ("", "_w_inh~0.3"):
            expected |= _chain(f"m~2_n~16_eta~0.001_seed~{s}_field_points~3{w}", ("analyze",))
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))

    # a bad value on the new axis: refused before any job, naming the key
    before = sorted(p.name for p in (results / "reduced").iterdir())
    result = _snakemake(tmp_path, _with(theta=[1.8, -2.0]), check=False)
    assert result.returncode != 0
    assert "reduced.sweep.theta = -2.0 is invalid" in result.stdout + result.stderr
    assert "rule reduced_" not in result.stdout
    assert sorted(p.name for p in (results / "reduced").iterdir()) == before

    # and the finished sweep, unchanged, plans nothing
    result = _snakemake(tmp_path, MICRO, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


def test_the_sweep_figure_places_x_hue_col_and_gives_other_axes_rows():
    import numpy as np
    import xarray as xr

    from homeoplastic.figures.reduced import sweep_figure

    rng = np.random.default_rng(0)
    dims = {"m": [2], "n": [8.0, 16.0], "eta": [0.001], "seed": [0, 1, 2], "theta": [1.6, 1.8, 2.0],
            "w_inh": [0.2, 0.3]}
    values = rng.random([len(v) for v in dims.values()])
    data = xr.Dataset({"high_occupancy": (tuple(dims), values, {"units": "1"})}, coords=dims)
    fig = sweep_figure(data, [{"y": "high_occupancy", "x": "theta", "hue": "w_inh", "col": "n"},
                              {"y": "high_occupancy", "x": "n"}])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    # panel 1: one row, a column per n; panel 2: a row per (theta, w_inh) left unplaced
    assert len(axes) == 2 + 3 * 2
    assert axes[0].get_title() == "n = 8" and axes[0].get_xlabel() == "theta"
    assert {t.get_text() for t in axes[0].texts} == {"n=3"}
