"""Stages end to end on a tiny config: schema defaults, stores, sweep opening, reproducibility."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from homeoplastic.config import ConfigError, load_schema, validate
from homeoplastic.reduced.experiments import build_model, run_stage
from homeoplastic.store import open_store, open_sweep

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "reduced.schema.yaml"


def tiny_config() -> dict:
    cfg = validate({}, load_schema(SCHEMA), where="reduced")
    cfg.update(
        rates_duration=50,
        rates_bin=5,
        train_duration=200,
        train_bin=20,
        field_points=3,
        sampled_field_points=2,
        sampled_field_duration=100,
        escape_samples=5,
    )
    return cfg


def test_schema_defaults_and_config_files_validate():
    schema = load_schema(SCHEMA)
    defaults = validate({}, schema, where="reduced")
    assert defaults["activation"] == {"f_max": 3.0, "s_half": 1.05, "width": 0.4}
    assert defaults["eta"] == [0.001] and defaults["theta"] == 1.8
    for name in ("config.yaml", "paper.yaml"):
        section = yaml.safe_load((ROOT / "config" / name).read_text())["reduced"]
        validate(section, schema, where="reduced")
    with pytest.raises(ConfigError, match=r"reduced\.reduction"):
        validate({"reduction": "halfway"}, schema, where="reduced")


def test_four_population_model_is_half_of_two_population():
    cfg = tiny_config()
    two, four = build_model(cfg, 2, 16.0), build_model(cfg, 4, 16.0)
    assert (four.system_size, four.w_max, four.w_inh) == (8.0, 0.5, 0.1)
    assert (two.system_size, two.w_max, two.w_inh) == (16.0, 1.0, 0.2)
    with pytest.raises(ValueError, match="n_pops"):
        build_model(cfg, 3, 16.0)


def _params(cfg: dict, m: int) -> dict:
    return {"settings": cfg, "point": {"m": m, "n": 16, "eta": 0.001, "seed": 3}}


@pytest.mark.parametrize("m", [2, 4])
def test_stages_write_complete_stores_and_repeat_exactly(tmp_path, m):
    cfg = tiny_config()
    run = tmp_path / f"m~{m}"
    params = _params(cfg, m)
    sim = run_stage("simulate", params, {}, run / "simulate.zarr")
    train = run_stage("train", params, {}, run / "train.zarr")
    ana = run_stage("analyze", params, {"train": train.output}, run / "analyze.zarr")
    again = run_stage("train", params, {}, tmp_path / "again.zarr")
    assert {o.status for o in (sim, train, ana, again)} == {"completed"}
    a, b = open_store(train.output), open_store(again.output)
    assert np.array_equal(a["weights"].values, b["weights"].values)
    assert open_sweep([sim.output], ["m", "n", "eta", "seed"])["rate"].dims[:4] == \
        ("m", "n", "eta", "seed")
    for path in (sim.output, train.output, ana.output):
        ds = open_store(path)
        for name in list(ds.data_vars) + list(ds.coords):
            assert "units" in ds[name].attrs and "long_name" in ds[name].attrs, (path, name)
        assert json.loads(ds.attrs["sweep_json"]) == {"m": m, "n": 16.0, "eta": 0.001, "seed": 3}
        flat = json.loads(ds.attrs["settings_json"])
        assert flat["theta"] == 1.8 and flat["activation.f_max"] == 3.0
    assert "rates_duration" in json.loads(open_store(sim.output).attrs["settings_json"])
    assert "rates_duration" not in json.loads(open_store(train.output).attrs["settings_json"])
    field = open_store(ana.output)
    assert field["field"].shape == (3, 3, 2)
    assert ("escape_rate" in field) == (m == 2)
    state = open_store(train.output, group="state")
    assert state["weights"].shape[1:] == (m, m)
    with pytest.raises(ValueError, match="stage"):
        run_stage("perturb", params, {}, run / "x.zarr")
    with pytest.raises(ValueError, match="train"):
        run_stage("analyze", params, {}, run / "y.zarr")
