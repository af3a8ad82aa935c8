"""The stage table: narrow params, settings a stage may read, and what a guard stop does downstream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homeoplastic.analysis.assemblies import analyze_stage
from homeoplastic.config import load_schema, validate
from homeoplastic.spiking.params import NetworkParams
from homeoplastic.spiking.stages import (
    FULL_CHAIN,
    STAGE_TABLE,
    STAGES,
    StageContext,
    resources_for,
    run_settings,
    run_stage,
    stage_params,
    sweep_settings,
)
from homeoplastic.spiking.sweep import SweepPoint, sweep_table
from homeoplastic.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "workflow/schemas/assemblies.schema.yaml")


def _section(**protocol) -> dict:
    raw = {
        "sweep": {"n_neurons": [200], "rule": ["voltage"], "learning_speed": [1.0], "seed": [1, 2]},
        "network": {"connectivity": {"size_scaling": "mean_input"}},
        "protocol": {"warmup_s": 0.3, "n_assemblies": 2, "stimulus_on_s": 0.1,
                     "stimulus_off_s": 0.1, "repetitions": 1, "spontaneous_s": 0.2,
                     "nonrecurrent_settle_s": 0.1, "perturb_at_s": 0.1, "perturb_duration_s": 0.2,
                     "remap_repetitions": 1, "remap_after_s": 0.1, **protocol},
        "record": {"weight_interval_s": 0.1, "chunk_s": 0.1, "checkpoint_every_s": 0.0},
        "probe": {"enabled": False},
    }
    return validate(raw, SCHEMA, where="assemblies")


def test_the_table_is_a_graph_each_stage_after_what_it_reads():
    seen: list[str] = []
    for stage in STAGE_TABLE:
        for _, source in stage.inputs:
            assert source in STAGES and source in seen, (stage.name, source)
        seen.append(stage.name)
    assert tuple(s for s in seen if s in FULL_CHAIN) == FULL_CHAIN


def test_sweep_table_and_settings_agree_one_row_per_run():
    section = _section()
    table = sweep_table(section)
    settings = sweep_settings(section)
    assert list(table.index) == list(settings) and len(table) == 2
    assert table.loc["n_neurons~200_rule~voltage_learning_speed~1_seed~2", "seed"] == 2
    run = settings["n_neurons~200_rule~voltage_learning_speed~1_seed~1"]
    assert run.point == SweepPoint(200, "voltage", 1.0, 1)
    assert run.network.connectivity.n_neurons == 200 and run.stages == FULL_CHAIN


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_params_rebuild_the_same_network(stage):
    section = {**_section(), "probe": {"enabled": True, "n_trials": 2, "on_s": 0.1, "pre_s": 0.2}}
    run = run_settings(validate(section, SCHEMA, where="assemblies"), SweepPoint(200, "voltage", 1.0, 1))
    ctx = StageContext.from_params(stage, stage_params(run, stage))
    assert ctx.network == run.network
    for key in STAGES[stage].protocol_keys:
        assert getattr(ctx.protocol, key) == getattr(run.protocol, key)


def test_params_of_a_stage_change_exactly_with_its_own_settings():
    point = SweepPoint(200, "voltage", 1.0, 1)
    base = run_settings(_section(), point)
    longer = run_settings(_section(spontaneous_s=0.4), point)
    changed = {s for s in STAGES if s not in ("probe_before", "probe_after")
               if stage_params(base, s) != stage_params(longer, s)}
    assert changed == {"spontaneous_recurrent", "spontaneous_nonrecurrent"}
    other_seed = run_settings(_section(), SweepPoint(200, "voltage", 1.0, 2))
    assert json.loads(stage_params(other_seed, "train"))["sweep"]["seed"] == 2


def test_a_stage_cannot_read_a_setting_its_row_does_not_declare():
    run = run_settings(_section(), SweepPoint(200, "voltage", 1.0, 1))
    ctx = StageContext.from_params("simulate", stage_params(run, "simulate"))
    assert ctx.protocol.warmup_s == 0.3
    with pytest.raises(AttributeError, match=r"spontaneous_s is read but not declared"):
        _ = ctx.protocol.spontaneous_s


def test_resources_grow_with_the_seconds_a_stage_simulates():
    point = SweepPoint(5000, "voltage", 1.0, 1)
    short = run_settings(_section(spontaneous_s=10.0), point)
    long = run_settings(_section(spontaneous_s=1000.0), point)
    # 990 s more at the configured 2 s of wall per simulated second at N = 5000: 33 minutes more
    assert resources_for(long, "spontaneous_recurrent")["runtime"] - resources_for(
        short, "spontaneous_recurrent")["runtime"] == pytest.approx(33, abs=1)
    assert resources_for(long, "simulate") == resources_for(short, "simulate")


def test_a_guard_stop_skips_every_later_stage_and_analyze_says_why(tmp_path, capsys):
    section = _section()
    section["network"]["guard"] = {"rate_max_hz": 0.2, "start_s": 0.1, "tau_s": 0.05}
    run = run_settings(validate(section, SCHEMA, where="assemblies"), SweepPoint(200, "voltage", 1.0, 1))
    assert NetworkParams.from_dict(run.network.to_dict()) == run.network
    stores = {}
    for stage in ("simulate", "train", "spontaneous_recurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        status = run_stage(stage, stage_params(run, stage), inputs, stores[stage])
        assert status == ("aborted" if stage == "simulate" else "skipped"), stage
    err = capsys.readouterr().err
    assert "simulate" in err and "STOPPED EARLY" in err and "rate_band" in err
    assert "train n_neurons~200" in err and "SKIPPED, not simulated" in err
    train = open_store(stores["train"])
    assert train.attrs["status"] == "skipped" and "simulate aborted" in train.attrs["skipped_because"]
    assert not train.data_vars and train.attrs["sim_seconds"] == 0.0
    assert "simulate aborted" in open_store(stores["spontaneous_recurrent"]).attrs["skipped_because"]
    out = str(tmp_path / "analyze.zarr")
    analysis = {"reactivation_threshold_factor": 4.0, "reactivation_min_hz": 10.0,
                "train_rate_bin_s": 0.1}
    analyze_stage({"sweep": run.point.as_dict(), "analysis": analysis}, stores, out)
    ds = open_store(out)
    assert ds.attrs["run_status"] == "aborted" and "rate_band" in ds.attrs["run_stopped_because"]
    assert float(ds.run_completed) == 0.0
    assert "ratio_after_training" not in ds  # training never ran
    assert list(ds.attrs["skipped_stages"]) == ["train", "spontaneous_recurrent"]
