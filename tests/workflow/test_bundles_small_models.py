"""Bundled jobs of the balancing and reduced models (issue 27, item 1): bundling is the default,
changes no number, and keeps incremental growth and narrow edits.

A tiny config of both models runs bundled (the default, plus RNN bundles of 2) and unbundled
(``points_per_job: 1``); every array of every store must be the same bytes (but the measured
wall times, ``*_wall_s``). Then the bundled
sweep grows by a seed (no existing store is rewritten: their ``zarr.json`` mtimes stay, and the
bundle logs say "kept") and one setting is edited (only the stores that read it are rewritten).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
import zarr

from .conftest import run_snakemake, scheduled_jobs

TINY = {
    "assemblies": {"enabled": False},
    "balancing": {
        "enabled": True,
        "sweep": {"sizes": [10], "ranks": [1, "full"], "exponents": [2.0], "seeds": [0, 1],
                  "flow_max_iter": 2000},
        "perturbation": {"side": 5, "eps_sweep": [0.001, 0.01, 0.1]},
        "two_neuron": {"t_max": 0.5, "dt": 0.01},
        "rnn": {"n": 8, "n_timesteps": 4, "n_iterations": 20, "log_every": 5, "l2_lambdas": [1.0],
                "balance_rates": [1.0], "seeds": [0], "n_trial_sets": 1,
                "noise_sigmas": [0.0, 0.3], "n_permutations": 20},
        "xor": {"n": 8, "seeds": [0], "n_trials": 2, "t_max": 5.0},  # seed 1: no balanced net
        "bundle": {"rnn_points_per_job": 2},  # the RNN steps bundled too (default: one per run)
    },
    "reduced": {"enabled": True, "models": [2], "system_size": [16], "eta": [0.001],
                "seeds": [0, 1], "rates_duration": 50, "train_duration": 200, "field_points": 5,
                "sampled_field_points": 3, "sampled_field_duration": 100, "escape_samples": 0},
}


def _config(**edits) -> dict:
    """TINY with ``model__key=value`` edits (``balancing__bundle`` etc.)."""
    cfg = copy.deepcopy(TINY)
    for name, value in edits.items():
        model, key = name.split("__")
        section = cfg[model]
        *parents, leaf = key.split(".")
        for part in parents:
            section = section[part]
        section[leaf] = value
    return cfg


def _run(tmp: Path, cfg: dict, *extra: str):
    path = tmp / f"cfg-{len(list(tmp.glob('cfg-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return run_snakemake(tmp, *extra, configfiles=(path,))


def _stores(results: Path) -> dict[str, Path]:
    """Every store under ``results`` by its path relative to it (manifests are not stores)."""
    return {str(p.relative_to(results)): p for p in sorted(results.rglob("*.zarr"))
            if (p / "zarr.json").exists()}


def _arrays(store: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}

    def walk(group, prefix: str) -> None:
        for name, member in group.members():
            if isinstance(member, zarr.Array):
                out[prefix + name] = member[...]
            else:
                walk(member, prefix + name + "/")

    walk(zarr.open_group(str(store), mode="r"), "")
    return out


def _mtimes(results: Path) -> dict[str, int]:
    return {name: (p / "zarr.json").stat().st_mtime_ns for name, p in _stores(results).items()}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bundled")
    out = _run(tmp, TINY)
    assert "bundle" in out.stdout + out.stderr
    return tmp


def test_default_plans_bundles_for_the_short_steps(tmp_path):
    planned = {rule for rule, _ in scheduled_jobs(_run(tmp_path, TINY, "-n").stdout)}
    assert {"balancing_balance_bundle", "balancing_xor_bundle", "balancing_train_rnn_bundle",
            "balancing_robustness_bundle", "reduced_simulate_bundle", "reduced_train_bundle",
            "reduced_analyze_bundle"} <= planned
    assert not planned & {"balancing_balance", "balancing_xor", "balancing_train_rnn",
                          "reduced_simulate", "reduced_train", "reduced_analyze"}
    one = _config(balancing__bundle={"points_per_job": 1, "rnn_points_per_job": 1},
                  reduced__bundle={"points_per_job": 1})
    unbundled = {rule for rule, _ in scheduled_jobs(_run(tmp_path, one, "-n").stdout)}
    assert not any(rule.endswith("_bundle") for rule in unbundled), unbundled


def test_bundled_and_unbundled_stores_are_the_same_bytes(bundled, tmp_path):
    one = _config(balancing__bundle={"points_per_job": 1, "rnn_points_per_job": 1},
                  reduced__bundle={"points_per_job": 1})
    _run(tmp_path, one)
    mine, theirs = _stores(bundled / "results"), _stores(tmp_path / "results")
    assert sorted(mine) == sorted(theirs)
    assert any(name.startswith("balancing/sweep/") for name in mine)
    assert any(name.startswith("reduced/m~2") for name in mine)
    for name in mine:
        a, b = _arrays(mine[name]), _arrays(theirs[name])
        assert sorted(a) == sorted(b), name
        for key in a:
            if key.endswith("_wall_s"):  # a measured wall time: differs between any two runs
                continue
            assert a[key].dtype == b[key].dtype, (name, key)
            assert a[key].tobytes() == b[key].tobytes(), (name, key)
    # the per-point stores were written by bundles, and their manifests list them
    manifests = list((bundled / "results").rglob("bundles/*/*.json"))
    listed = {m["store"] for path in manifests for m in json.loads(path.read_text())["members"]}
    assert str(mine["balancing/sweep/n~10_rank~1_p~2_seed~0/balance.zarr"]) in listed
    assert str(mine["reduced/m~2_n~16_eta~0.001_seed~1/analyze.zarr"]) in listed


def _bundle_log_lines(tmp: Path) -> list[str]:
    return [line for log in (tmp / "logs").rglob("bundles/*/*.log")
            for line in log.read_text().splitlines() if " bundle " in line]


def test_growing_a_bundled_sweep_recomputes_no_existing_store(bundled):
    # every point's store (the sweep-level summary over seeds is rightly redone)
    before = {k: v for k, v in _mtimes(bundled / "results").items()
              if not k.startswith("balancing/summary/")}
    grown = _config(balancing__sweep={**TINY["balancing"]["sweep"], "seeds": [0, 1, 2]},
                    reduced__seeds=[0, 1, 2])
    _run(bundled, grown)
    after = _mtimes(bundled / "results")
    assert {k: after[k] for k in before} == before  # no existing store rewritten
    new = set(after) - set(before) - {"balancing/summary/sweep_summary.zarr"}
    assert "balancing/sweep/n~10_rank~full_p~2_seed~2/balance.zarr" in new
    assert "reduced/m~2_n~16_eta~0.001_seed~2/analyze.zarr" in new
    assert all("seed~2" in name for name in new), new
    kept = [line for line in _bundle_log_lines(bundled) if ": kept (" in line]
    assert any("n~10_rank~1_p~2_seed~0" in line for line in kept)  # regrouped, and kept
    # and it is finished: nothing more to do
    assert not scheduled_jobs(_run(bundled, grown, "-n").stdout)


def test_editing_a_setting_recomputes_only_the_stores_that_read_it(bundled):
    grown = _config(balancing__sweep={**TINY["balancing"]["sweep"], "seeds": [0, 1, 2]},
                    reduced__seeds=[0, 1, 2])
    _run(bundled, grown)  # the grown sweep, finished (nothing to do after the test above)
    before = _mtimes(bundled / "results")
    edited = copy.deepcopy(grown)
    edited["reduced"]["rates_duration"] = 60  # the frozen-weight rates: simulate only
    edited["balancing"]["rnn"]["noise_sigmas"] = [0.0, 0.2]  # evaluation only, not training
    _run(bundled, edited)
    after = _mtimes(bundled / "results")
    changed = {name for name in before if after[name] != before[name]}
    expected = {name for name in before
                if (name.startswith("reduced/m~") and name.endswith("/simulate.zarr"))
                or name.endswith("/robust.zarr")}
    assert changed == expected, changed ^ expected
    assert len(expected) == 3 + 3  # three reduced seeds; three RNN runs (plain, l2, balance)
