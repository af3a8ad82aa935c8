"""Any settings key is a sweep axis: the micro version of config/examples/istdp_target_rate.yaml.

A sweep over ``network.istdp.target_rate_hz`` x 3 seeds runs end to end, opens with ``open_sweep``
as one dataset with the new axis and the seed as dimensions, and draws its figure; then dry runs
with Snakemake's default rerun triggers check what growing the sweep plans: a fourth value only the
new points and the sweep-level reductions; a new axis whose values include today's setting nothing
for the finished points; ``protocol.spontaneous_s`` no simulate or train; a bad value on the new
axis fails before any job, naming the key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from homeoplastic.store import open_store, open_sweep

from .conftest import ROOT, run_snakemake, scheduled_jobs

EXAMPLE = yaml.safe_load((ROOT / "config/examples/istdp_target_rate.yaml").read_text())
MICRO = yaml.safe_load((ROOT / ".test/config.yaml").read_text())["assemblies"]
KEY = "network.istdp.target_rate_hz"
BASE = {"n_neurons": [500], "rule": ["voltage"], "learning_speed": [1.0], "seed": [1, 2, 3]}
SWEEP_LEVEL = {("assemblies_figure_sweep", ""), ("assemblies_figure_experiments", ""),
               ("assemblies_summary", ""), ("assemblies_figure_claims", ""), ("all", "")}
PER_RUN = ("simulate", "train", "spontaneous_recurrent", "analyze", "figure_run")


def _overlay(sweep: dict) -> dict:
    """The example's sweep settings at the micro sweep's size and protocol."""
    section = {key: EXAMPLE["assemblies"][key] for key in
               ("extra_sweeps", "short_chain_rules", "control_chain_rules", "rate_dependence",
                "dt_check", "probe", "figures")}
    return {"assemblies": {**section, "sweep": sweep}}


def _run_id(seed: int, **axes) -> str:
    extra = "".join(f"_{key}~{value}" for key, value in sorted(axes.items()))  # by key
    return f"n_neurons~500_rule~voltage_learning_speed~1_seed~{seed}{extra}"


def _plan(tmp: Path, sweep: dict, *, check: bool = True):
    path = tmp / "plan.yaml"
    path.write_text(yaml.safe_dump(_overlay(sweep)))
    return run_snakemake(tmp, "-n", configfiles=(path,), check=check)


@pytest.fixture(scope="module")
def target_rate_sweep(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("target_rate")
    path = tmp / "sweep.yaml"
    path.write_text(yaml.safe_dump(_overlay({**BASE, KEY: [2.0, 3.0, 5.0]})))
    run_snakemake(tmp, configfiles=(path,), timeout=1200)
    return tmp


def _analyses(tmp: Path) -> list[Path]:
    return sorted((tmp / "results" / "assemblies").glob("*/analyze.zarr"))


def test_the_sweep_opens_as_one_dataset_with_the_new_axis_and_seeds(target_rate_sweep):
    paths = _analyses(target_rate_sweep)
    assert len(paths) == 9
    ds = open_sweep(paths, scalars_only=True)
    assert ds.sizes["target_rate_hz"] == 3 and ds.sizes["seed"] == 3
    assert list(ds.target_rate_hz.values) == [2.0, 3.0, 5.0]
    assert ds.target_rate_hz.attrs["units"] == "Hz"
    assert ds.target_rate_hz.attrs["key"] == KEY
    # each run ran its own target: the default run (3 Hz) does not name the axis, yet its store
    # records the value it ran at
    default = open_store(target_rate_sweep / "results/assemblies" / _run_id(1) / "analyze.zarr")
    assert "3.0" in default.attrs["settings_json"]
    for value in (2, 5):
        folder = target_rate_sweep / "results/assemblies" / _run_id(1, **{KEY: value})
        point = yaml.safe_load((folder / "point.yaml").read_text())
        assert point["point"][KEY] == value
        config = open_store(folder / "train.zarr").attrs["config_json"]
        assert f'"target_rate_hz": {float(value)}' in config
    # a higher target rate gives a higher post-training rate: the axis reached the network
    rate = ds.rate_exc_post_training_hz.mean("seed").squeeze()
    assert float(rate.sel(target_rate_hz=5.0)) > float(rate.sel(target_rate_hz=2.0))
    assert (target_rate_sweep / "results/figures/assemblies_sweep.png").stat().st_size > 10_000


def test_the_figure_draws_means_with_confidence_intervals_over_seeds(target_rate_sweep):
    from homeoplastic.figures.assemblies import sweep_summary

    ds = open_sweep(_analyses(target_rate_sweep), scalars_only=True)
    fig = sweep_summary(ds, EXAMPLE["assemblies"]["figures"]["panels"])
    ax = fig.axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    mean = ds.ratio_after_training.mean("seed").squeeze().values
    np.testing.assert_allclose(line.get_ydata(), mean)
    assert "n = 3" in line.get_label()
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() > mean.max() and band.min() < mean.min()  # a CI, not a point


def test_a_fourth_value_plans_only_the_new_points(target_rate_sweep):
    planned = scheduled_jobs(_plan(target_rate_sweep, {**BASE, KEY: [2.0, 3.0, 4.0, 5.0]}).stdout)
    expected = set(SWEEP_LEVEL) | {(f"assemblies_{stage}", _run_id(seed, **{KEY: 4}))
                                   for seed in (1, 2, 3) for stage in PER_RUN}
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))


def test_a_new_axis_including_todays_value_plans_nothing_for_finished_points(target_rate_sweep):
    spont = MICRO["protocol"]["spontaneous_s"]
    planned = scheduled_jobs(_plan(target_rate_sweep, {**BASE, KEY: [2.0, 3.0, 5.0],
                                                       "protocol.spontaneous_s": [spont, 0.3]}
                                   ).stdout)
    runs = {run for _, run in planned if run}
    assert runs and all("protocol.spontaneous_s~0.3" in run for run in runs), sorted(runs)
    rules = {rule for rule, _ in planned}
    # the spontaneous phase follows training: the new points share simulate and train
    assert not rules & {"assemblies_simulate", "assemblies_train"}, sorted(rules)
    assert ("assemblies_spontaneous_recurrent", _run_id(2, **{KEY: 5, "protocol.spontaneous_s":
                                                              0.3})) in planned


def test_a_bad_value_on_the_new_axis_fails_before_any_job_naming_the_key(target_rate_sweep):
    result = _plan(target_rate_sweep, {**BASE, KEY: [2.0, -1.0]}, check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"assemblies.sweep.{KEY} = -1.0" in text and ">= 0" in text, text[-2000:]
    typo = _plan(target_rate_sweep, {**BASE, "network.istdp.target_rate": [2.0]}, check=False)
    assert typo.returncode != 0 and "target_rate" in typo.stdout + typo.stderr


def test_an_analysis_axis_reruns_only_the_analysis(target_rate_sweep):
    factor = 4.0  # the schema's default reactivation threshold factor: today's setting
    other = {"analysis.reactivation_threshold_factor": 2}
    planned = scheduled_jobs(_plan(target_rate_sweep, {**BASE, KEY: [2.0, 3.0, 5.0],
                                                       "analysis.reactivation_threshold_factor":
                                                       [factor, 2.0]}).stdout)
    expected = set(SWEEP_LEVEL) | {
        (f"assemblies_{stage}", _run_id(seed, **axes, **other))
        for seed in (1, 2, 3) for axes in ({KEY: 2}, {}, {KEY: 5})
        for stage in ("analyze", "figure_run")}
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))
