"""Bundled jobs on the micro sweep: the same stores as one job per run, bit for bit; a grown or
regrouped bundle recomputes nothing that is there.

The bundled run is the micro sweep's two full-chain runs (learning speeds 1 and 2) in bundles of
two, without the sweep-level rate maps and dt check (no run reads them); its stores are compared
with the unbundled micro sweep's (``micro_run``), array by array and byte by byte.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
import zarr

from .conftest import ROOT, run_snakemake

MICRO = yaml.safe_load((ROOT / ".test/config.yaml").read_text())["assemblies"]
RUNS = ("n_neurons~500_rule~voltage_learning_speed~1_seed~1",
        "n_neurons~500_rule~voltage_learning_speed~2_seed~1")
GROWN = "n_neurons~500_rule~voltage_no_homeostasis_learning_speed~1_seed~1"
BUNDLED = {"assemblies": {"bundle": {"points_per_job": 2}, "extra_sweeps": [],
                          "rate_dependence": {"enabled": False}, "dt_check": {"enabled": False}}}


def _overlay(tmp: Path, name: str, config: dict) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def bundled_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bundled")
    run_snakemake(tmp, configfiles=(_overlay(tmp, "bundled", BUNDLED),), timeout=1200)
    return tmp


def _arrays(path: Path) -> dict[str, np.ndarray]:
    out = {}

    def walk(group, prefix=""):
        for name, node in group.members():
            if isinstance(node, zarr.Group):
                walk(node, f"{prefix}{name}/")
            else:
                out[prefix + name] = np.asarray(node[...])

    walk(zarr.open_group(path, mode="r"))
    return out


def _manifests(tmp: Path) -> dict[str, dict]:
    return {str(p.relative_to(tmp)): json.loads(p.read_text())
            for p in (tmp / "results/assemblies/bundles").glob("*/*.json")}


def test_bundled_stores_are_the_unbundled_stores_bit_for_bit(bundled_run, micro_run):
    compared = 0
    for run in RUNS:
        mine = sorted((bundled_run / "results/assemblies" / run).glob("*.zarr"))
        assert {p.name for p in mine} == {p.name for p in
                                          (micro_run / "results/assemblies" / run).glob("*.zarr")}
        for store in mine:
            a, b = _arrays(store), _arrays(micro_run / "results/assemblies" / run / store.name)
            assert a.keys() == b.keys(), store
            for name in a:
                assert a[name].dtype == b[name].dtype and a[name].tobytes() == b[name].tobytes(), \
                    f"{run}/{store.name}/{name}"
                compared += 1
        for figure in (f"{run}.png",):
            assert (bundled_run / "results/figures/assemblies" / figure).stat().st_size > 10_000
    assert compared > 100
    assert (bundled_run / "results/figures/assemblies_sweep.png").stat().st_size > 10_000


def test_each_step_ran_as_one_bundle_whose_manifest_lists_its_stores(bundled_run):
    manifests = _manifests(bundled_run)
    steps = {}
    for name, body in manifests.items():
        steps.setdefault(Path(name).parent.name, []).append(body)
    for step in ("simulate", "train", "spontaneous_recurrent", "remap", "analyze", "figure_run"):
        assert len(steps[step]) == 1, step
        members = steps[step][0]["members"]
        assert [m["label"] for m in members] == list(RUNS)
        assert all(m["status"] == "completed" for m in members)
    log = (bundled_run / "logs/assemblies/bundles/train").glob("*.log")
    assert "[train bundle 2/2]" in next(log).read_text()


def test_an_edited_setting_recomputes_only_the_stores_it_changes(bundled_run, tmp_path):
    """A spontaneous-phase setting reruns the bundles of the spontaneous stages and what follows;
    the bundle jobs of simulate and train are not planned. (A dry run, before the sweep is
    regrouped below: a regrouped bundle's inputs are other manifests, so Snakemake reruns it,
    and it keeps its stores.)"""
    edited = copy.deepcopy(BUNDLED)
    edited["assemblies"]["protocol"] = {**MICRO["protocol"], "spontaneous_s": 0.5}
    result = run_snakemake(bundled_run, "-n", configfiles=(_overlay(tmp_path, "edit", edited),))
    planned = {line.split()[1].rstrip(":") for line in result.stdout.splitlines()
               if line.startswith(("rule ", "localrule "))}
    # probe_after probes the network after its spontaneous phase, so it follows the edit
    assert {"assemblies_spontaneous_recurrent_bundle", "assemblies_probe_after_bundle"} <= planned
    assert not planned & {"assemblies_simulate_bundle", "assemblies_train_bundle",
                          "assemblies_probe_before_bundle"}


def test_a_regrouped_bundle_keeps_its_finished_stores_and_computes_only_the_new_one(
        bundled_run, tmp_path):
    """Adding a run with three points per job puts the finished runs in new bundles: they are
    kept (their stores untouched), and only the new run is simulated."""
    before = {p: p.stat().st_mtime_ns for run in RUNS
              for p in (bundled_run / "results/assemblies" / run).glob("*.zarr/zarr.json")}
    grown = copy.deepcopy(BUNDLED)
    grown["assemblies"]["bundle"]["points_per_job"] = 3
    grown["assemblies"]["extra_sweeps"] = MICRO["extra_sweeps"]
    run_snakemake(bundled_run, configfiles=(_overlay(tmp_path, "grown", grown),), timeout=1200)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # nothing recomputed
    train = [body for name, body in _manifests(bundled_run).items()
             if "/train/" in name and len(body["members"]) == 3]
    assert len(train) == 1
    reasons = {m["label"]: m["reason"] for m in train[0]["members"]}
    assert reasons[RUNS[0]] == reasons[RUNS[1]] == "kept: current"
    assert reasons[GROWN] != "kept: current"
    assert (bundled_run / "results/assemblies" / GROWN / "analyze.zarr" / "zarr.json").is_file()
