"""The workflow end to end on the micro config: outputs, provenance, bad config, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from homeoplastic.assemblies.storage import state_kept
from homeoplastic.store import is_complete, open_store

from .conftest import run_snakemake

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
RUN = "n_neurons~500_rule~voltage_learning_speed~1_seed~1"


def _snakemake(tmp: Path, *extra: str, configfile: Path | None = None, timeout: float = 600,
               check: bool = True) -> subprocess.CompletedProcess:
    return run_snakemake(tmp, *extra, configfiles=(configfile,) if configfile else (),
                         timeout=timeout, check=check)


def test_micro_sweep_produces_complete_stores_and_figures(micro_run):
    base = micro_run / "results" / "assemblies" / RUN
    for stage in ("simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent",
                  "perturb_recurrent", "perturb_nonrecurrent", "remap", "probe_before",
                  "probe_after", "probe_remap_before", "probe_remap_after", "analyze"):
        assert is_complete(base / f"{stage}.zarr"), stage
    assert (micro_run / "results/figures/assemblies_sweep.png").stat().st_size > 10_000
    assert (micro_run / f"results/figures/assemblies/{RUN}.png").stat().st_size > 10_000
    assert (micro_run / f"results/figures/assemblies/{RUN}_probe.png").stat().st_size > 10_000
    for name in ("assemblies_experiments", "assemblies_rate_dependence", "assemblies_dt_check"):
        assert (micro_run / f"results/figures/{name}.png").stat().st_size > 10_000, name
    assert not list(base.glob(".checkpoints/*"))  # finished stages clean up their checkpoints
    # the network state stays only where a later stage continues from it (storage policy)
    kept = {stage for stage in ("simulate", "train", "spontaneous_recurrent",
                                "spontaneous_nonrecurrent", "perturb_recurrent",
                                "perturb_nonrecurrent", "remap") if state_kept(base / f"{stage}.zarr")}
    # (remap's: probe_remap_after continues from it)
    assert kept == {"simulate", "train", "spontaneous_recurrent", "spontaneous_nonrecurrent", "remap"}
    # the remapping panel marks where the new set's presentations end: remap_after_s before the end
    remap = open_store(base / "remap.zarr").attrs
    after_s = yaml.safe_load((ROOT / ".test/config.yaml").read_text())["assemblies"]["protocol"][
        "remap_after_s"]
    assert remap["run_start_s"] < remap["presentations_end_s"]
    assert remap["run_end_s"] - remap["presentations_end_s"] == pytest.approx(after_s, abs=1e-3)


def test_ablations_run_the_short_chain(micro_run):
    base = micro_run / "results/assemblies" / RUN.replace("rule~voltage", "rule~voltage_no_homeostasis")
    assert is_complete(base / "spontaneous_recurrent.zarr") and is_complete(base / "analyze.zarr")
    for stage in ("spontaneous_nonrecurrent", "perturb_recurrent", "remap", "probe_after",
                  "probe_remap_after"):
        assert not (base / f"{stage}.zarr").exists(), stage


def test_summary_table_lists_each_claim_per_run_next_to_the_paper(micro_run):
    import csv

    with open(micro_run / "results/summary.csv") as handle:
        rows = list(csv.DictReader(handle))
    from homeoplastic.analysis.summary import CLAIMS

    point = RUN.rsplit("_seed~", 1)[0]  # one row per claim and sweep point; seeds are replicates
    intact = [r for r in rows if r["run"] == point]
    assert intact and {r["seeds"] for r in intact} == {"1"}
    assert {r["agrees"] for r in intact if r["kind"] == "claim"} <= {
        "too few seeds (n = 1)", "not measured"}  # one seed judges nothing
    expected = {c.quantity for c in CLAIMS if "voltage" in c.rules}
    assert {r["quantity"] for r in intact} >= expected
    assert all(r["paper"] for r in intact)
    ablation = [r for r in rows if "no_homeostasis" in r["run"]]
    assert {r["quantity"] for r in ablation} == {c.quantity for c in CLAIMS
                                                 if "voltage_no_homeostasis" in c.rules}
    dt_rows = [r for r in rows if r["run"] == "dt_check"]
    assert len(dt_rows) == 2 and all(r["measured"] != "nan" for r in dt_rows)
    maps = [r for r in rows if r["figure"] == "5a"]
    assert {r["rule"] for r in maps} == {"voltage", "triplet", "calcium"}
    assert all(r["run"] == "rate_dependence" and r["measured"] != "nan" for r in maps)
    measured = {r["quantity"]: float(r["measured"]) for r in intact}
    analysis = open_store(micro_run / "results/assemblies" / RUN / "analyze.zarr")
    assert measured["ratio_after_training"] == pytest.approx(
        float(analysis.ratio_after_training), rel=1e-3)


def test_shuffled_null_uses_the_engines_own_assembly_rates(micro_run):
    """With the real assemblies as groups, the null's rate computation from the stored spikes
    gives the engine's recorded assembly rates: the shuffled groups are measured the same way."""
    from homeoplastic.analysis.nulls import group_rates_hz
    from homeoplastic.assemblies.runs import assembly_members

    path = micro_run / "results/assemblies" / RUN / "spontaneous_recurrent.zarr"
    ds, spikes = open_store(path), open_store(path, group="spikes")
    dt_ms, bin_ms = float(ds.attrs["dt_ms"]), float(ds.attrs["rate_bin_ms"])
    rates = group_rates_hz(spikes.spike_step.values, spikes.spike_cell.values,
                           assembly_members(path), int(ds.attrs["n_neurons"]),
                           round(float(ds.attrs["run_start_s"]) * 1e3 / dt_ms), ds.sizes["time"],
                           round(bin_ms / dt_ms), dt_ms)
    np.testing.assert_allclose(rates, ds.rate_assembly_hz.values, rtol=1e-12, atol=1e-9)
    assert rates.max() > 0
    analysis = open_store(micro_run / "results/assemblies" / RUN / "analyze.zarr")
    assert np.isfinite(float(analysis.reactivations_shuffled_per_min))
    assert float(analysis.ratio_before_training) > 0


def test_users_open_stores_with_xarray_and_find_provenance(micro_run):
    ds = xr.open_zarr(micro_run / "results/assemblies" / RUN / "train.zarr")
    assert ds.attrs["stage"] == "train"
    assert json.loads(ds.attrs["sweep_json"])["n_neurons"] == 500
    assert json.loads(ds.attrs["config_json"])["assemblies"]["protocol"]["n_assemblies"] == 3
    assert ds.attrs["sim_seconds"] > 0 and ds.attrs["wall_seconds"] > 0
    assert ds.rate_exc_hz.attrs["units"] == "Hz" and ds.time.attrs["units"] == "s"
    assert int(ds.n_neurons) == 500 and float(ds.learning_speed) == 1.0
    analysis = open_store(micro_run / "results/assemblies" / RUN / "analyze.zarr")
    assert float(analysis.ratio_after_training) > 0


def test_sweep_reduction_spans_the_sweep_axes(micro_run):
    from homeoplastic.store import open_sweep

    paths = sorted((micro_run / "results/assemblies").glob("*/analyze.zarr"))
    ds = open_sweep(paths, sweep_keys=("n_neurons", "rule", "learning_speed", "seed"))
    assert len(paths) == 3  # sweep (voltage at two speeds) plus one extra block (the ablation)
    assert ds.sizes["learning_speed"] == 2 and ds.sizes["n_neurons"] == 1 and ds.sizes["rule"] == 2
    assert np.isfinite(ds.ratio_after_training.sel(rule="voltage").values).all()
    ablation = ds.rate_exc_train_max_hz.sel(rule="voltage_no_homeostasis").squeeze()
    assert np.isfinite(ablation.sel(learning_speed=1.0)) and np.isnan(ablation.sel(learning_speed=2.0))


def test_bad_config_fails_before_any_job_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assemblies:\n  protocol:\n    repetitions: -3\n")
    result = _snakemake(tmp_path, "-n", configfile=bad, check=False)
    assert result.returncode != 0
    assert "assemblies.protocol.repetitions" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_killed_stage_leaves_no_complete_store_and_resumes_from_its_checkpoint(tmp_path):
    settings = yaml.safe_load((ROOT / ".test/config.yaml").read_text())
    settings["assemblies"]["sweep"]["learning_speed"] = [1.0]
    settings["assemblies"]["protocol"]["repetitions"] = 12  # a train stage of ~4 simulated s
    settings["assemblies"]["record"]["checkpoint_every_s"] = 0.5
    config = tmp_path / "long_train.yaml"
    config.write_text(yaml.safe_dump(settings))
    train = tmp_path / "results/assemblies" / RUN / "train.zarr"
    ckpt = train.parent / ".checkpoints" / "train.zarr.ckpt"
    # targets go before --config, which takes every following key=value
    cmd = [*SNAKEMAKE, str(train), "--cores", "1", "--configfile", str(config), "--config",
           f"results_dir={tmp_path}/results", f"logs_dir={tmp_path}/logs"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 300
        while not is_complete(ckpt):
            assert proc.poll() is None, "the workflow ended before the first checkpoint"
            assert time.time() < deadline, "no checkpoint within 300 s"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole job dies at once, mid-stage
        proc.wait()
    assert not is_complete(train)
    subprocess.run([*SNAKEMAKE, "--unlock", "--configfile", str(config)], cwd=ROOT,
                   capture_output=True, timeout=120)
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert is_complete(train)
    log = (tmp_path / "logs/assemblies" / RUN / "train.log").read_text()
    assert "resumed from checkpoint" in log
    # the resumed stage equals an uninterrupted one, bit for bit
    fresh = tmp_path / "fresh"
    fresh_train = fresh / "results/assemblies" / RUN / "train.zarr"
    subprocess.run([*SNAKEMAKE, str(fresh_train), "--cores", "1", "--configfile", str(config),
                    "--config", f"results_dir={fresh}/results", f"logs_dir={fresh}/logs"],
                   cwd=ROOT, capture_output=True, timeout=600, check=True)
    a = open_store(train, group="state").load()
    b = open_store(fresh_train, group="state").load()
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    ra, rb = open_store(train).load(), open_store(fresh_train).load()
    np.testing.assert_array_equal(ra.w_ratio.values, rb.w_ratio.values)
    np.testing.assert_array_equal(ra.rate_assembly_hz.values, rb.rate_assembly_hz.values)


def test_report_builds_from_the_finished_sweep_with_every_figure(micro_run, tmp_path):
    report = tmp_path / "report.html"
    result = run_snakemake(micro_run, "--report", str(report))
    assert "Report created" in result.stdout + result.stderr
    html = report.read_text(errors="replace")
    assert report.stat().st_size > 500_000  # the figures are embedded
    for name in ("assemblies_sweep.png", "assemblies_experiments.png", "assemblies_dt_check.png"):
        assert name in html, name


def test_rulegraph_draws_the_chain_stage_by_stage(tmp_path):
    import re

    dot = run_snakemake(tmp_path, "--rulegraph").stdout
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', dot, flags=re.M))
    edges = {(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)}
    chain = [("simulate", "train"), ("train", "spontaneous_recurrent"),
             ("spontaneous_recurrent", "perturb_recurrent"),
             ("train", "spontaneous_nonrecurrent"),
             ("spontaneous_recurrent", "spontaneous_nonrecurrent"),
             ("spontaneous_nonrecurrent", "perturb_nonrecurrent"),
             ("spontaneous_recurrent", "remap"), ("simulate", "probe_before"),
             ("spontaneous_recurrent", "probe_after"), ("spontaneous_recurrent", "probe_remap_before"),
             ("remap", "probe_remap_after"), ("perturb_recurrent", "analyze"), ("remap", "analyze")]
    for a, b in chain:
        assert (f"assemblies_{a}", f"assemblies_{b}") in edges, (a, b)
    assert ("assemblies_simulate", "assemblies_spontaneous_recurrent") not in edges
