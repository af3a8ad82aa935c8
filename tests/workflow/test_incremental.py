"""A sweep tool's promise: growing or editing a sweep reruns exactly what the edit affects.

Each test dry-runs Snakemake (default rerun triggers) over the finished micro sweep with one edit
and compares the planned jobs, rule by rule and run by run, with what the edit changes.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .conftest import ROOT, run_snakemake, scheduled_jobs

MICRO = yaml.safe_load((ROOT / ".test/config.yaml").read_text())["assemblies"]
RUNS = {  # run id -> its stages, as the micro sweep has them
    "n_neurons~500_rule~voltage_learning_speed~1_seed~1": "full",
    "n_neurons~500_rule~voltage_learning_speed~2_seed~1": "full",
    "n_neurons~500_rule~voltage_no_homeostasis_learning_speed~1_seed~1": "short",
}
FULL = ("simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent",
        "perturb_recurrent", "perturb_nonrecurrent", "remap", "probe_before", "probe_after",
        "probe_remap_before", "probe_remap_after")
SHORT = ("simulate", "train", "spontaneous_recurrent")
PER_RUN_FULL = (*FULL, "analyze", "figure_run", "figure_probe")
PER_RUN_SHORT = (*SHORT, "analyze", "figure_run")
SWEEP_LEVEL = {("assemblies_figure_sweep", ""), ("assemblies_figure_experiments", ""),
               ("assemblies_summary", ""), ("assemblies_figure_claims", ""), ("all", "")}


def _plan(micro_run: Path, tmp_path: Path, overlay: dict) -> set[tuple[str, str]]:
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    result = run_snakemake(micro_run, "-n", configfiles=(path,))
    return scheduled_jobs(result.stdout)


def _run_jobs(run: str, stages) -> set[tuple[str, str]]:
    return {(f"assemblies_{stage}", run) for stage in stages}


def test_an_unchanged_finished_sweep_plans_nothing(micro_run):
    result = run_snakemake(micro_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr, result.stdout[-3000:]


def test_adding_a_seed_runs_only_the_new_runs_and_the_sweep_reductions(micro_run, tmp_path):
    planned = _plan(micro_run, tmp_path, {"assemblies": {"sweep": {**MICRO["sweep"], "seed": [1, 2]}}})
    expected = set(SWEEP_LEVEL)
    for run, chain in RUNS.items():
        new = run.replace("seed~1", "seed~2")
        expected |= _run_jobs(new, PER_RUN_FULL if chain == "full" else PER_RUN_SHORT)
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))


def test_adding_a_sweep_value_runs_only_the_new_point(micro_run, tmp_path):
    sweep = {**MICRO["sweep"], "learning_speed": [1.0, 2.0, 3.0]}
    planned = _plan(micro_run, tmp_path, {"assemblies": {"sweep": sweep}})
    new = "n_neurons~500_rule~voltage_learning_speed~3_seed~1"
    assert planned == SWEEP_LEVEL | _run_jobs(new, PER_RUN_FULL), sorted(planned)


def test_a_figure_setting_reruns_only_figures(micro_run, tmp_path):
    planned = _plan(micro_run, tmp_path, {"assemblies": {"analysis": {"raster_seconds": 0.3}}})
    assert planned == {("all", "")} | {("assemblies_figure_run", run) for run in RUNS}, sorted(planned)


def test_a_spontaneous_setting_reruns_the_spontaneous_stages_and_what_follows(micro_run, tmp_path):
    protocol = {**MICRO["protocol"], "spontaneous_s": 0.5}
    planned = _plan(micro_run, tmp_path, {"assemblies": {"protocol": protocol}})
    after_full = ("spontaneous_recurrent", "spontaneous_nonrecurrent", "perturb_recurrent",
                  "perturb_nonrecurrent", "remap", "probe_after", "probe_remap_before",
                  "probe_remap_after", "analyze", "figure_run", "figure_probe")
    expected = set(SWEEP_LEVEL)
    for run, chain in RUNS.items():
        expected |= _run_jobs(run, after_full if chain == "full"
                              else ("spontaneous_recurrent", "analyze", "figure_run"))
    assert planned == expected, (sorted(planned - expected), sorted(expected - planned))
    assert not {rule for rule, _ in planned} & {"assemblies_simulate", "assemblies_train",
                                                 "assemblies_rate_dependence", "assemblies_dt_check"}


def test_a_checkpoint_setting_reruns_nothing(micro_run, tmp_path):
    """Chunking and checkpoint cadence change how a stage runs, not what it writes."""
    record = {**MICRO["record"], "checkpoint_every_s": 0.3, "chunk_s": 0.05}
    assert _plan(micro_run, tmp_path, {"assemblies": {"record": record}}) == set()


def test_a_training_setting_reruns_training_and_what_follows_but_not_simulate(micro_run, tmp_path):
    protocol = {**MICRO["protocol"], "repetitions": 2}
    planned = _plan(micro_run, tmp_path, {"assemblies": {"protocol": protocol}})
    rules = {rule for rule, _ in planned}
    assert "assemblies_train" in rules and "assemblies_probe_after" in rules
    assert not rules & {"assemblies_simulate", "assemblies_probe_before"}


REDUCED_ONLY = {  # the reduced model alone, tiny: seconds per job
    "assemblies": {"enabled": False},
    "reduced": {"enabled": True, "models": [2], "system_size": [16], "eta": [0.001], "seeds": [0],
                "rates_duration": 50, "train_duration": 200, "field_points": 5,
                "sampled_field_points": 3, "sampled_field_duration": 100, "escape_samples": 0,
                "bundle": {"points_per_job": 1}},  # one job per store: plans named by rule
}


def test_reduced_sweep_grows_and_edits_without_recomputing_what_is_there(tmp_path):
    import copy

    base = tmp_path / "reduced.yaml"
    base.write_text(yaml.safe_dump(REDUCED_ONLY))
    run_snakemake(tmp_path, configfiles=(base,))
    # an integer size names its run n~16, not n~16.0
    assert [p.name for p in (tmp_path / "results" / "reduced").glob("m~*")] == \
        ["m~2_n~16_eta~0.001_seed~0"]

    def plan(edit: dict) -> tuple[set[str], str]:
        config = copy.deepcopy(REDUCED_ONLY)
        config["reduced"].update(edit)
        path = tmp_path / "edited.yaml"
        path.write_text(yaml.safe_dump(config))
        result = run_snakemake(tmp_path, "-n", configfiles=(path,))
        return {rule for rule, _ in scheduled_jobs(result.stdout)}, result.stdout

    rules, out = plan({"seeds": [0, 1]})
    assert rules == {"reduced_simulate", "reduced_train", "reduced_analyze", "reduced_figure_rates",
                     "reduced_figure_field", "reduced_figure_escape", "all"}, rules
    assert "seed~0" not in "".join(line for line in out.splitlines() if "wildcards:" in line)
    rules, _ = plan({"field_points": 7})  # changes only the analyze stage's vector fields
    assert rules == {"reduced_analyze", "reduced_figure_field", "reduced_figure_escape", "all"}, rules
    rules, _ = plan({"rates_duration": 60})  # changes only the frozen-weight rates
    assert rules == {"reduced_simulate", "reduced_figure_rates", "all"}, rules
