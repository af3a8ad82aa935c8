"""The stage table: narrow params, settings a stage may read, and what a guard stop does downstream."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from homeoplastic.analysis.assemblies import analyze_run, analyze_stage
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.stages import (
    CONTROL_CHAIN,
    FULL_CHAIN,
    PROBE_ENDS,
    SHORT_CHAIN,
    STAGE_TABLE,
    STAGES,
    StageContext,
    check_section,
    keeps_state,
    protocol_keys,
    resources_for,
    run_settings,
    run_stage,
    stage_params,
    store_status,
    sweep_settings,
)
from homeoplastic.assemblies.sweep import sweep_point
from homeoplastic.config import load_schema, validate
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


def test_sweep_settings_one_per_run_by_run_id():
    section = _section()
    settings = sweep_settings(section)
    assert len(settings) == 2
    assert settings["n_neurons~200_rule~voltage_learning_speed~1_seed~2"].point.seed == 2
    run = settings["n_neurons~200_rule~voltage_learning_speed~1_seed~1"]
    assert run.point == sweep_point(200, "voltage", 1.0, 1)
    assert run.network.connectivity.n_neurons == 200 and run.stages == FULL_CHAIN


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_params_rebuild_the_same_network(stage):
    section = {**_section(), "probe": {"enabled": True, "n_trials": 2, "on_s": 0.1, "pre_s": 0.2}}
    run = run_settings(validate(section, SCHEMA, where="assemblies"), sweep_point(200, "voltage", 1.0, 1))
    ctx = StageContext.from_params(stage, stage_params(run, stage))
    assert ctx.network == run.network
    for key in protocol_keys(stage):
        assert getattr(ctx.protocol, key) == getattr(run.protocol, key)


def test_params_of_a_stage_change_exactly_with_its_own_settings():
    point = sweep_point(200, "voltage", 1.0, 1)
    base = run_settings(_section(), point)
    longer = run_settings(_section(spontaneous_s=0.4), point)
    changed = {s for s in STAGES if s not in PROBE_ENDS
               if stage_params(base, s) != stage_params(longer, s)}
    assert changed == {"spontaneous_recurrent", "spontaneous_nonrecurrent"}
    other_seed = run_settings(_section(), sweep_point(200, "voltage", 1.0, 2))
    assert json.loads(stage_params(other_seed, "train"))["sweep"]["seed"] == 2


def test_a_stage_cannot_read_a_setting_its_row_does_not_declare():
    run = run_settings(_section(), sweep_point(200, "voltage", 1.0, 1))
    ctx = StageContext.from_params("simulate", stage_params(run, "simulate"))
    assert ctx.protocol.warmup_s == 0.3
    with pytest.raises(AttributeError, match=r"spontaneous_s is read but not declared"):
        _ = ctx.protocol.spontaneous_s


def test_resources_grow_with_the_seconds_a_stage_simulates():
    point = sweep_point(5000, "voltage", 1.0, 1)
    short = run_settings(_section(spontaneous_s=10.0), point)
    long = run_settings(_section(spontaneous_s=1000.0), point)
    # 990 s more at the configured 2 s of wall per simulated second at N = 5000: 33 minutes more
    assert resources_for(long, "spontaneous_recurrent")["runtime"] - resources_for(
        short, "spontaneous_recurrent")["runtime"] == pytest.approx(33, abs=1)
    assert resources_for(long, "simulate") == resources_for(short, "simulate")


def test_a_guard_stop_skips_every_later_stage_and_analyze_says_why(tmp_path, capsys):
    section = _section()
    section["network"]["guard"] = {"rate_max_hz": 0.2, "start_s": 0.1, "tau_s": 0.05}
    run = run_settings(validate(section, SCHEMA, where="assemblies"), sweep_point(200, "voltage", 1.0, 1))
    assert NetworkParams.from_dict(run.network.to_dict()) == run.network
    stores = {}
    for stage in ("simulate", "train", "spontaneous_recurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        status = run_stage(stage, stage_params(run, stage), inputs, stores[stage]).status
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
    # the library function, called directly on the same stores, leaves the skipped ones out too
    direct = analyze_run(stores, analysis)
    assert "ratio_after_training" not in direct
    assert direct.w_ratio_recurrent.size == ds.w_ratio_recurrent.size > 0


def test_the_control_stores_its_settle_against_the_targets_without_istdp_bounds(tmp_path):
    """The control settles (E->E frozen) with iSTDP unbounded, and its store says how close the E
    cells came to their targets; analyze turns that into the summary's rate-match quantity."""
    run = run_settings(_section(nonrecurrent_settle_s=0.25), sweep_point(200, "voltage", 1.0, 1))
    stores = {}
    for stage in ("simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        assert run_stage(stage, stage_params(run, stage), inputs, stores[stage]).status == "completed"
    control = open_store(stores["spontaneous_nonrecurrent"])
    assert control.attrs["settle_s"] == pytest.approx(0.25)
    settle = open_store(stores["spontaneous_nonrecurrent"], group="settle")
    assert settle.time.values[-1] == pytest.approx(0.25) and settle.rate_exc_hz.size == 1
    assert control.attrs["settle_rate_exc_hz"] == pytest.approx(float(settle.rate_exc_hz[0]),
                                                                 rel=1e-9)
    state = open_store(stores["spontaneous_nonrecurrent"], group="state")
    assert not NetworkParams.from_dict(json.loads(state.attrs["params_json"])).plasticity.istdp_bounded
    out = str(tmp_path / "analyze.zarr")
    analysis = {"reactivation_threshold_factor": 4.0, "reactivation_min_hz": 10.0,
                "train_rate_bin_s": 0.1}
    analyze_stage({"sweep": run.point.as_dict(), "analysis": analysis}, stores, out)
    ds = open_store(out)
    assert float(ds.settle_rate_over_target) == pytest.approx(
        control.attrs["settle_rate_exc_hz"] / control.attrs["settle_target_rate_exc_hz"])
    # iSTDP's fixed point over the same window (0.25 s, one bin, past the 0.1-s warm-up)
    for name in ("settle_rate_over_fixed_point", "settle_fixed_point_over_target",
                 "settle_istdp_rho"):
        assert float(ds[name]) == pytest.approx(control.attrs[name]) and np.isfinite(ds[name])
    assert 0.0 < control.attrs["settle_istdp_kappa"] < 3.0
    # the rate match against the intact network, overall and per quartile of its rates
    for name in ("settle_rate_over_intact", *(f"settle_rate_over_intact_q{k}" for k in range(1, 5)),
                 "settle_target_over_intact", "settle_rate_over_intact_members",
                 "settle_rate_over_intact_others"):
        assert float(ds[name]) == control.attrs[name] and ds[name].attrs["units"] == "1"


def test_rule_protocol_changes_only_that_rules_runs():
    """Per-rule protocol keys: the triplet runs train longer, the voltage runs' params (and so
    their stores) stay exactly as they were; a bad key names its place."""
    sweep = {"n_neurons": [200], "rule": ["voltage", "triplet"], "learning_speed": [1.0],
             "seed": [1]}
    base = {**_section(), "sweep": sweep}
    own = {**base, "rule_protocol": {"triplet": {"repetitions": 3}}}
    before, after = sweep_settings(validate(base, SCHEMA, where="assemblies")), \
        sweep_settings(validate(own, SCHEMA, where="assemblies"))
    for run_id, run in after.items():
        rule = run.point.rule
        assert run.protocol.repetitions == (3 if rule == "triplet" else 1)
        for stage in run.stages:
            same = stage_params(run, stage) == stage_params(before[run_id], stage)
            assert same == (rule == "voltage" or STAGES[stage].name == "simulate"
                            or "repetitions" not in protocol_keys(stage)), (rule, stage)
    bad = {**base, "rule_protocol": {"triplet": {"repetition": 3}}}
    with pytest.raises(ParameterError, match=r"assemblies\.rule_protocol\.triplet.*repetition"):
        sweep_settings(validate(bad, SCHEMA, where="assemblies"))


def test_control_chain_rules_stop_after_the_control():
    section = {**_section(), "control_chain_rules": ["voltage"]}
    run = run_settings(validate(section, SCHEMA, where="assemblies"), sweep_point(200, "voltage", 1.0, 1))
    assert run.stages == CONTROL_CHAIN == (*SHORT_CHAIN, "spontaneous_nonrecurrent")
    both = {**section, "short_chain_rules": ["voltage"]}
    with pytest.raises(ParameterError,
                       match="short_chain_rules and control_chain_rules; allowed: at most one"):
        run_settings(validate(both, SCHEMA, where="assemblies"), sweep_point(200, "voltage", 1.0, 1))


def test_maintenance_chain_rules_stop_after_the_perturbations():
    """Paper scale on seeds: formation, maintenance against the control and healing, without
    remapping and probes; the spontaneous phases keep the state the perturbations continue from."""
    section = {**_section(), "maintenance_chain_rules": ["voltage"], "probe": {"enabled": True}}
    section = validate(section, SCHEMA, where="assemblies")
    run = run_settings(section, sweep_point(200, "voltage", 1.0, 1))
    assert set(run.stages) == {"simulate", "train", "spontaneous_recurrent",
                               "spontaneous_nonrecurrent", "perturb_recurrent", "perturb_nonrecurrent"}
    assert keeps_state(section, "spontaneous_nonrecurrent", "voltage")
    assert not keeps_state(section, "perturb_recurrent", "voltage")
    both = {**section, "control_chain_rules": ["voltage"]}
    with pytest.raises(ParameterError, match="control_chain_rules and maintenance_chain_rules"):
        run_settings(both, sweep_point(200, "voltage", 1.0, 1))


def test_rule_network_changes_only_that_rules_runs():
    """Per-rule network overrides (e.g. the no-iSTDP ablation's higher rate guard) merge group by
    group over the shared ones; the other rules' params stay exactly as they were, and a bad key
    names its place, also for a rule the sweep does not run."""
    sweep = {"n_neurons": [200], "rule": ["voltage", "voltage_no_istdp"], "learning_speed": [1.0],
             "seed": [1]}
    base = {**_section(), "sweep": sweep,
            "network": {"guard": {"rate_max_hz": 20.0, "tau_s": 0.25}}}
    own = {**base, "rule_network": {"voltage_no_istdp": {"guard": {"rate_max_hz": 60.0}}}}
    before, after = sweep_settings(validate(base, SCHEMA, where="assemblies")), \
        sweep_settings(validate(own, SCHEMA, where="assemblies"))
    for run_id, run in after.items():
        ablation = run.point.rule == "voltage_no_istdp"
        assert run.network.guard.rate_max_hz == (60.0 if ablation else 20.0)
        assert run.network.guard.tau_s == 0.25  # the shared group's other keys stay
        for stage in run.stages:
            assert (stage_params(run, stage) == stage_params(before[run_id], stage)) != ablation
    bad = {**base, "rule_network": {"triplet": {"guard": {"rate_max": 60.0}}}}
    with pytest.raises(ParameterError, match=r"assemblies\.rule_network\.triplet.*rate_max"):
        check_section(validate(bad, SCHEMA, where="assemblies"))


@pytest.mark.parametrize("rule", ["voltage", "triplet", "calcium", "static"])
def test_params_hold_only_the_e_to_e_rule_a_run_uses(rule):
    """A new calcium default must not rerun the voltage runs: each rule's params change with its
    own group (vstdp, triplet, calcium) and with no other rule's."""
    groups = {"vstdp": {"tau_x_ms": 16.0}, "triplet": {"tau_x_ms": 99.0},
              "calcium": {"gamma_p": 7.0}}
    own = {"voltage": "vstdp", "triplet": "triplet", "calcium": "calcium"}.get(rule)
    point = sweep_point(200, rule, 1.0, 1)
    base = run_settings(_section(), point)
    for group, change in groups.items():
        section = {**_section(), "network": {"connectivity": {"size_scaling": "mean_input"},
                                             group: change}}
        changed = run_settings(validate(section, SCHEMA, where="assemblies"), point)
        for stage in base.stages:
            same = stage_params(base, stage) == stage_params(changed, stage)
            assert same == (group != own), (rule, group, stage)


def test_a_voltage_run_does_not_read_the_other_rules_constants():
    """The other half of the params rule above: their values do not touch a voltage run."""
    from homeoplastic.assemblies.engine import Simulation

    from .helpers import STEP_RECORD, quiet_params

    drive = {"external": {"rate_to_e_hz": 6000.0, "rate_to_i_hz": 3000.0}}
    runs = []
    for other in ({}, {"calcium": {"gamma_p": 1.0, "sigma": 2.0, "up_down_ratio": 2.0},
                       "triplet": {"a3_plus_pf": 0.5, "tau_y_ms": 10.0}}):
        params = quiet_params(**drive, **other)
        assert params.plasticity.ee_rule == "voltage"
        sim = Simulation.build(params, 5)
        start_pf = sim.pathways["e_to_e"].weight_pf.copy()
        rec = sim.run(0.2, record=STEP_RECORD, progress=False)
        runs.append((sum(len(s) for s in rec.spike_steps),
                     sim.pathways["e_to_e"].weight_pf.copy()))
    assert runs[0][0] > 20 and (runs[0][1] != start_pf).any()  # the voltage rule acts
    assert runs[0][0] == runs[1][0] and (runs[0][1] == runs[1][1]).all()


def _kill_at_checkpoint(monkeypatch, n_saves: int, run) -> None:
    """Call ``run`` with the process "killed" (KeyboardInterrupt) right after its
    ``n_saves``-th checkpoint is written; checkpoints save normally again afterwards."""
    from homeoplastic.assemblies.engine import Simulation

    original = Simulation.save_checkpoint
    saves = {"n": 0}

    def save_then_die(self, path, rec, fingerprint):
        original(self, path, rec, fingerprint)
        saves["n"] += 1
        if saves["n"] == n_saves:
            raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run()
    monkeypatch.setattr(Simulation, "save_checkpoint", original)


def test_a_perturbation_resumed_from_its_checkpoint_reports_the_same_recovery(tmp_path,
                                                                           monkeypatch):
    """A stage killed after a checkpoint and run again must store the attrs of an uninterrupted
    one: the cut's recovery reads the weights through a reference taken before the run, which a
    resume must keep valid (it writes the checkpoint's state into the simulation's arrays)."""

    run = run_settings(_section(perturb_duration_s=0.5), sweep_point(200, "voltage", 1.0, 1))
    stores = {}
    for stage in ("simulate", "train", "spontaneous_recurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        assert run_stage(stage, stage_params(run, stage), inputs, stores[stage]).status == "completed"
    inputs = {name: stores[source] for name, source in STAGES["perturb_recurrent"].inputs}
    params = stage_params(run, "perturb_recurrent")
    whole = tmp_path / "whole" / "perturb_recurrent.zarr"
    whole.parent.mkdir()
    assert run_stage("perturb_recurrent", params, inputs, str(whole),
                     checkpoint_every_s=0.1).status == "completed"

    resumed = tmp_path / "resumed" / "perturb_recurrent.zarr"
    resumed.parent.mkdir()
    # the pre-cut run saves once; die inside the post-cut run
    _kill_at_checkpoint(monkeypatch, 3, lambda: run_stage(
        "perturb_recurrent", params, inputs, str(resumed), checkpoint_every_s=0.1))
    assert run_stage("perturb_recurrent", params, inputs, str(resumed),
                     checkpoint_every_s=0.1).status == "completed"
    a, b = open_store(str(whole)).attrs, open_store(str(resumed)).attrs
    for key in ("w_perturbed_before_pf", "w_perturbed_after_pf", "w_perturbed_final_pf",
                "recovery_fraction"):
        assert a[key] == b[key], key
    assert a["w_perturbed_final_pf"] != a["w_perturbed_after_pf"]  # plasticity moved the cut


def test_the_rate_matched_control_is_deterministic_and_resumes_exactly(tmp_path, monkeypatch):
    """The rate-matched settle re-sets the targets from its own spikes; the settle is not
    checkpointed, so a control killed in its main run settles again and must reach the same
    targets and state bit for bit, or the main run's checkpoint would not match (or, worse, a
    resumed run would differ from an uninterrupted one)."""
    run = run_settings(_section(nonrecurrent_settle_s=3.0, nonrecurrent_match_interval_s=1.0,
                                spontaneous_s=0.5), sweep_point(200, "voltage", 1.0, 1))
    assert run.protocol.nonrecurrent_targets == "rate_matched"  # the default
    stores = {}
    for stage in ("simulate", "train", "spontaneous_recurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        assert run_stage(stage, stage_params(run, stage), inputs, stores[stage]).status == "completed"
    inputs = {name: stores[source] for name, source in STAGES["spontaneous_nonrecurrent"].inputs}
    params = stage_params(run, "spontaneous_nonrecurrent")
    outs = {}
    for name in ("whole", "again", "resumed"):
        outs[name] = tmp_path / name / "spontaneous_nonrecurrent.zarr"
        outs[name].parent.mkdir()
    for name in ("whole", "again"):
        assert run_stage("spontaneous_nonrecurrent", params, inputs, str(outs[name]),
                         checkpoint_every_s=0.1).status == "completed"
    _kill_at_checkpoint(monkeypatch, 2, lambda: run_stage(
        "spontaneous_nonrecurrent", params, inputs, str(outs["resumed"]), checkpoint_every_s=0.1))
    assert run_stage("spontaneous_nonrecurrent", params, inputs, str(outs["resumed"]),
                     checkpoint_every_s=0.1).status == "completed"
    whole = open_store(str(outs["whole"]))
    assert whole.attrs["settle_targets"] == "rate_matched" and whole.attrs["settle_target_resets"] == 2
    assert whole.attrs["settle_target_over_intact"] != 1.0  # the targets moved off the intact rates
    for name in ("again", "resumed"):
        other = open_store(str(outs[name]))
        for key, value in whole.attrs.items():
            if key.startswith("settle_"):
                assert other.attrs[key] == value, (name, key)
        np.testing.assert_array_equal(other.w_within_pf.values, whole.w_within_pf.values)
        a, b = (open_store(str(outs[n]), group="state") for n in (name, "whole"))
        for var in ("istdp_alpha", "i_to_e_weight_pf", "e_to_e_weight_pf"):
            np.testing.assert_array_equal(a[var].values, b[var].values)
    # the micro network (77 Hz intact) says nothing about the match; the quantities are there
    assert all(np.isfinite(whole.attrs[f"settle_rate_over_intact_q{k}"]) for k in range(1, 5))


def test_a_faster_settle_istdp_moves_the_inhibition_faster_in_the_settle_only(tmp_path):
    """nonrecurrent_settle_istdp_speed scales iSTDP's rate in the settle: the settle's I->E
    weights move further from the trained ones, and the control's own phase (and its store's
    parameters) keeps the base rate."""
    stores = {}
    run = run_settings(_section(nonrecurrent_settle_s=0.5, spontaneous_s=0.1),
                       sweep_point(200, "voltage", 1.0, 1))
    for stage in ("simulate", "train", "spontaneous_recurrent"):
        inputs = {name: stores[source] for name, source in STAGES[stage].inputs}
        stores[stage] = str(tmp_path / f"{stage}.zarr")
        assert run_stage(stage, stage_params(run, stage), inputs, stores[stage]).status == "completed"
    inputs = {name: stores[source] for name, source in STAGES["spontaneous_nonrecurrent"].inputs}
    trained = open_store(stores["train"], group="state").i_to_e_weight_pf.values
    moved = {}
    for speed in (1.0, 8.0):
        fast = run_settings(_section(nonrecurrent_settle_s=0.5, spontaneous_s=0.1,
                                     nonrecurrent_settle_istdp_speed=speed),
                            sweep_point(200, "voltage", 1.0, 1))
        out = str(tmp_path / f"control_{speed}.zarr")
        assert run_stage("spontaneous_nonrecurrent", stage_params(fast, "spontaneous_nonrecurrent"),
                         inputs, out).status == "completed"
        state = open_store(out, group="state")
        assert NetworkParams.from_dict(json.loads(state.attrs["params_json"])).istdp.eta_pf == \
            run.network.istdp.eta_pf
        moved[speed] = float(np.abs(state.i_to_e_weight_pf.values - trained).mean())
    assert moved[8.0] > 2.0 * moved[1.0] > 0.0  # ignoring the speed would give ~1x


def test_a_probe_resumed_from_its_checkpoint_stores_what_an_uninterrupted_one_does(
        tmp_path, monkeypatch, capsys):
    """The probe stage is one long frozen run (about 14 minutes at the paper's scale): killed
    after a checkpoint and run again it must resume, not start over, and store every statistic
    of an uninterrupted probe; the checkpoint is removed once the store is written."""
    import xarray as xr


    section = {**_section(), "probe": {"enabled": True, "n_stimuli": 2, "n_trials": 3,
                                       "on_s": 0.1, "pre_s": 0.2, "post_s": 0.1,
                                       "gain_rates_hz": [1000.0], "gain_n_trials": 1,
                                       "completion_n_trials": 1}}
    run = run_settings(validate(section, SCHEMA, where="assemblies"),
                       sweep_point(200, "voltage", 1.0, 1))
    simulate = str(tmp_path / "simulate.zarr")
    assert run_stage("simulate", stage_params(run, "simulate"), {}, simulate).status == "completed"
    params = stage_params(run, "probe_before")
    inputs = {"previous": simulate}
    whole = tmp_path / "whole" / "probe_before.zarr"
    whole.parent.mkdir()
    assert run_stage("probe_before", params, inputs, str(whole), checkpoint_every_s=0.3).status == "completed"

    resumed = tmp_path / "resumed" / "probe_before.zarr"
    resumed.parent.mkdir()
    _kill_at_checkpoint(monkeypatch, 2, lambda: run_stage(
        "probe_before", params, inputs, str(resumed), checkpoint_every_s=0.3))
    assert len(list((resumed.parent / ".checkpoints").iterdir())) == 1
    capsys.readouterr()
    outcome = run_stage("probe_before", params, inputs, str(resumed), checkpoint_every_s=0.3)
    assert outcome.status == "completed"
    assert "probe: resumed from checkpoint" in capsys.readouterr().err
    assert not any((resumed.parent / ".checkpoints").iterdir())
    a, b = open_store(str(whole)), open_store(str(resumed))
    assert a.attrs["sim_seconds"] == b.attrs["sim_seconds"] > 0.6
    xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
    # the stores hold spikes, not zeros
    assert all(np.any(np.asarray(a[name]) != 0) for name in a.data_vars if "count" in name)
    assert any("count" in name for name in a.data_vars)


def test_the_remap_probes_probe_the_remap_stages_new_set_before_and_after_its_training(tmp_path):
    """As the paper (Figs. 8, 9: "the new set of stimulus patterns ... before and after training
    on those patterns"): probe_remap_before (on spontaneous_recurrent's network) and
    probe_remap_after (on remap's) stimulate exactly the cells the remap stage trained, not the
    original assemblies; analyze stores their statistics as probe_remap_* with units."""
    from homeoplastic.assemblies.stages import keeps_state
    from homeoplastic.assemblies.storage import open_state

    section = {**_section(), "probe": {"enabled": True, "n_stimuli": 2, "n_trials": 3,
                                       "on_s": 0.1, "pre_s": 0.2, "post_s": 0.1, "gap_s": 0.0,
                                       "gain_rates_hz": [1000.0], "gain_n_trials": 1,
                                       "completion_n_trials": 1}}
    # this 200-cell network fires at ~75 Hz: without the guard every probe trial runs
    section["network"] = {**section["network"], "guard": {"enabled": False}}
    section = validate(section, SCHEMA, where="assemblies")
    run = run_settings(section, sweep_point(200, "voltage", 1.0, 1))
    assert set(PROBE_ENDS) <= set(run.stages) and keeps_state(section, "remap", "voltage")
    paths: dict[str, str] = {}
    for stage in ("simulate", "train", "spontaneous_recurrent", "remap", "probe_after",
                  "probe_remap_before", "probe_remap_after"):
        paths[stage] = str(tmp_path / f"{stage}.zarr")
        inputs = {name: paths[source] for name, source in STAGES[stage].inputs}
        assert run_stage(stage, stage_params(run, stage), inputs, paths[stage]).status == "completed"
    state = open_state(paths["remap"])
    ptr, members = state["group_ptr"].values, state["group_members"].values
    n_old = run.protocol.n_assemblies
    trained = [np.sort(members[ptr[g]:ptr[g + 1]]) for g in range(n_old, 2 * n_old)]
    original = [np.sort(members[ptr[g]:ptr[g + 1]]) for g in range(n_old)]
    for stage in ("probe_remap_before", "probe_remap_after"):
        ds = open_store(paths[stage])
        assert ds.attrs["probed_set"] == "remap"
        for a in range(n_old):
            cells = np.flatnonzero(ds["membership"].values[:, a])
            np.testing.assert_array_equal(cells, trained[a])
            assert not np.array_equal(cells, original[a])
    after = open_store(paths["probe_after"])
    assert after.attrs["probed_set"] == "original"
    np.testing.assert_array_equal(np.flatnonzero(after["membership"].values[:, 0]), original[0])
    ds = analyze_run({**paths, "probe_before": paths["probe_after"]},
                     {"reactivation_threshold_factor": 4.0, "reactivation_min_hz": 10.0,
                      "train_rate_bin_s": 1.0})
    # (this 200-cell network fires near saturation: its count correlations are NaN, no pair varies)
    for name in ("probe_remap_corr_same_stim_minus_spont_after",
                 "probe_corr_same_stim_minus_spont_after", "probe_remap_n_same_pairs_spont_before"):
        assert name in ds, name
    in_sets = np.zeros((run.network.connectivity.n_exc, n_old), bool)
    for a, cells in enumerate(trained):
        in_sets[cells, a] = True
    shared = (in_sets.astype(int) @ in_sets.T.astype(int)) > 0
    assert float(ds["probe_remap_n_same_pairs_possible_before"]) == np.triu(shared, k=1).sum()
    assert ds["probe_remap_n_same_pairs_possible_before"].attrs["units"] == "pairs"
    assert float(ds["probe_remap_n_probe_trials_after"]) == 2 * 3


def test_probe_remap_false_leaves_the_remap_probes_out_without_changing_any_stage():
    """``probe.remap: false`` drops the two remap probes from a full-chain run; no other stage's
    params change (the switch chooses stages, not how a probe runs), and remap keeps its state
    only while a remap probe reads it."""
    from homeoplastic.assemblies.stages import keeps_state

    probe = {"enabled": True, "n_trials": 2, "on_s": 0.1, "pre_s": 0.2}
    point = sweep_point(200, "voltage", 1.0, 1)
    with_remap = validate({**_section(), "probe": probe}, SCHEMA, where="assemblies")
    without = validate({**_section(), "probe": {**probe, "remap": False}}, SCHEMA, where="assemblies")
    a, b = run_settings(with_remap, point), run_settings(without, point)
    assert set(a.stages) - set(b.stages) == {"probe_remap_before", "probe_remap_after"}
    assert all(stage_params(a, s) == stage_params(b, s) for s in b.stages)
    assert keeps_state(with_remap, "remap", "voltage") and not keeps_state(without, "remap", "voltage")


def test_a_probe_the_rate_guard_stopped_says_so_in_its_store(tmp_path):
    """This 200-cell network fires at ~45 Hz; with the guard checked from 0.5 s into each run
    the 0.3 s warm-up completes and the probe stops: its store's status says aborted (it once
    said completed whatever happened), so analyze and the summary mark the run as stopped."""
    section = _section()
    section = {**section, "network": {**section["network"],
                                      "guard": {"enabled": True, "rate_max_hz": 20.0,
                                                "start_s": 0.5, "tau_s": 0.05}},
               "probe": {"enabled": True, "n_stimuli": 2, "n_trials": 2,
                                       "on_s": 0.1, "pre_s": 0.2, "post_s": 0.1, "gap_s": 0.0,
                                       "gain_rates_hz": [1000.0], "gain_n_trials": 1,
                                       "completion_n_trials": 1}}
    section = validate(section, SCHEMA, where="assemblies")
    run = run_settings(section, sweep_point(200, "voltage", 1.0, 1))
    sim, probe = str(tmp_path / "simulate.zarr"), str(tmp_path / "probe_before.zarr")
    run_stage("simulate", stage_params(run, "simulate"), {}, sim)
    run_stage("probe_before", stage_params(run, "probe_before"), {"previous": sim}, probe)
    assert store_status(probe)[0] == "aborted"
