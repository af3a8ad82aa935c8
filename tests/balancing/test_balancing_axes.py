"""Any balancing setting is a sweep axis (issue 25), and a rank above the size is refused (26).

The micro version of ``config/examples/balancing_tolerance.yaml`` runs end to end with Snakemake;
then, with the default rerun triggers, a dry run after adding a value plans only the new points
and the sweep-level reductions, adding the axis to a finished sweep with today's value among its
values plans nothing for the finished points, and a bad value fails before any job, naming the key.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from homeoplastic.balancing.runs import figure_panels, rnn_points, sweep_points
from homeoplastic.config import load_schema, validate
from homeoplastic.parameters import ParameterError

from .snakemake_run import ROOT, _scheduled, _snakemake, _write

SCHEMA = load_schema(ROOT / "workflow/schemas/balancing.schema.yaml")
EXAMPLE = yaml.safe_load((ROOT / "config/examples/balancing_tolerance.yaml").read_text())
REDUCTIONS = {"balancing_analyze": 1, "balancing_figure_sweep": 1, "balancing_summary": 1,
              "all": 1}


def _micro(tols: list[float] | None) -> dict:
    cfg = copy.deepcopy(EXAMPLE)
    bal = cfg["balancing"]
    bal["sweep"].update(sizes=[10], ranks=[1, "full"], seeds=[0, 1, 2], flow_max_iter=2000)
    bal["perturbation"] = {"side": 5, "eps_sweep": [0.001, 0.01, 0.1]}
    bal["two_neuron"] = {"t_max": 0.5, "dt": 0.01}
    bal["bundle"] = {"points_per_job": 1}  # one job per point: the plans count them by rule
    if tols is None:
        del bal["sweep"]["sweep.tol"]
        del bal["figures"]
    else:
        bal["sweep"]["sweep.tol"] = tols
    return cfg


def _section(sweep: dict, **extra) -> dict:
    return validate({"sweep": sweep, **extra}, SCHEMA, where="balancing")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """Today's micro sweep (no tol axis), finished."""
    tmp = tmp_path_factory.mktemp("bal_axes")
    _snakemake(_write(tmp, "base", _micro(None)))
    assert _scheduled(_write(tmp, "base", _micro(None))) == {}
    return tmp


def test_adding_an_axis_with_todays_value_plans_nothing_for_finished_points(finished):
    planned = _scheduled(_write(finished, "axis", _micro([1e-10, 1e-6])))
    assert planned == {"balancing_balance": 6, **REDUCTIONS}  # only tol = 1e-6: 2 ranks x 3 seeds


def test_micro_example_runs_and_adding_a_value_plans_only_new_points(finished):
    from homeoplastic.balancing.sweep_data import open_points

    _snakemake(_write(finished, "axis", _micro([1e-10, 1e-6])))
    stores = sorted((finished / "results/balancing/sweep").glob("*/balance.zarr"))
    ds = open_points(stores)
    assert {"n", "rank", "p", "seed", "sweep.tol"} <= set(ds.dims)
    assert ds.sizes["seed"] == 3 and sorted(ds["sweep.tol"].values) == [1e-10, 1e-6]
    assert np.isfinite(ds["cost_ratio"].values).all()
    folder = finished / "results/balancing/sweep/n~10_rank~1_p~2_seed~2_sweep.tol~1e-06"
    point = yaml.safe_load((folder / "point.yaml").read_text())["point"]
    assert point == {"n": 10, "rank": "1", "p": 2.0, "seed": 2, "sweep.tol": 1e-06}
    for name in ("rel_imbalance_vs_sweep_tol_by_rank_by_n", "cost_ratio_vs_sweep_tol_by_rank_by_n"):
        assert (finished / f"results/figures/balancing_{name}.png").stat().st_size > 0
    assert _scheduled(_write(finished, "axis", _micro([1e-10, 1e-6]))) == {}
    planned = _scheduled(_write(finished, "more", _micro([1e-10, 1e-6, 1e-3])))
    assert planned == {"balancing_balance": 6, **REDUCTIONS}


def test_a_bad_value_on_the_new_axis_fails_before_any_job(finished, tmp_path):
    before = sorted((finished / "results").rglob("*.zarr"))
    with pytest.raises(AssertionError, match=r"sweep\.tol = -1"):
        _snakemake(_write(finished, "bad", _micro([1e-10, -1.0])), "-n")
    assert sorted((finished / "results").rglob("*.zarr")) == before


# ------------------------------------------------------------------- checks before any job
def test_rank_above_size_is_refused_naming_the_key():
    with pytest.raises(ParameterError, match=r"balancing\.sweep\.rank = '10'.*<= n = 4"):
        sweep_points(_section({"sizes": [4], "ranks": [10]}))
    assert len(sweep_points(_section({"sizes": [4], "ranks": [4, "full"], "seeds": [0]}))) == 2


@pytest.mark.parametrize(("axis", "value", "message"), [
    ("sweep.tol", 0.1, r"(?s)balancing\.sweep\.sweep\.tol = 0\.1 is invalid.*<= 0\.001"),
    ("sweep.solver", "nope", r"(?s)sweep\.solver = 'nope'.*newton"),
    ("sweep.flow_max_iter", 1.5, r"sweep\.flow_max_iter = 1\.5"),
    ("sweep.nope", 1, r"balancing\.sweep\.sweep\.nope: unknown settings key"),
    ("rnn.learning_rate", -1.0, r"(?s)balancing\.sweep\.rnn\.learning_rate = -1\.0.*> 0"),
    ("rnn.nope", 1, r"balancing\.sweep\.rnn\.nope: unknown RNN axis"),
])
def test_every_axis_value_is_checked_naming_the_key(axis, value, message):
    section = _section({"sizes": [10], "ranks": [1], axis: [value]})
    with pytest.raises(ParameterError, match=message):
        sweep_points(section)
        rnn_points(section)


def test_an_rnn_axis_multiplies_only_the_rnn_runs():
    base = {"sizes": [10], "ranks": [1], "seeds": [0]}
    rnn = {"l2_lambdas": [0.3], "balance_rates": [1.0], "seeds": [0], "learning_rate": 0.01}
    section = _section({**base, "rnn.learning_rate": [0.01, 0.02]}, rnn=rnn)
    assert [p.run_id for p in sweep_points(section)] == ["n~10_rank~1_p~2_seed~0"]
    ids = [p.run_id for p in rnn_points(section)]
    assert "arm~l2_lambda~0.3_seed~0" in ids and "arm~l2_lambda~0.3_seed~0_rnn.learning_rate~0.02" in ids
    assert len(ids) == 6


@pytest.mark.parametrize(("panel", "message"), [
    ({"y": "cost_ratioo", "x": "rank"}, r"panels\[0\]\.y = 'cost_ratioo' is not a quantity"),
    ({"y": "cost_ratio", "x": "sweep.tol"}, r"panels\[0\]\.x = 'sweep\.tol' is not an axis"),
    ({"y": "cost_ratio", "x": "rank", "hue": "seed"}, r"panels\[0\]\.hue = 'seed'"),
])
def test_a_panel_of_an_unknown_quantity_or_axis_is_refused(panel, message):
    section = _section({"sizes": [10], "ranks": [1]}, figures={"panels": [panel]})
    with pytest.raises(ParameterError, match=message):
        figure_panels(section, sweep_points(section))
    ok = _section({"sizes": [10], "ranks": [1], "sweep.tol": [1e-10, 1e-8]},
                  figures={"panels": [{"y": "flow_time", "x": "sizes", "hue": "sweep.tol"}]})
    assert figure_panels(ok, sweep_points(ok))[0]["x"] == "n"
