"""Growing the balancing sweep recomputes nothing that is already there (issue 11, item 4).

A tiny balancing-only config (assemblies and reduced disabled) runs to completion; then, with
Snakemake's default rerun triggers, ``snakemake -n`` must schedule exactly the new points' jobs
plus the sweep-level reductions after adding a seed, and only figures after a figure setting.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from .snakemake_run import _scheduled, _snakemake, _write

TINY = {
    "assemblies": {"enabled": False},
    "reduced": {"enabled": False},
    "balancing": {
        "sweep": {"sizes": [10], "ranks": [1, "full"], "exponents": [2.0], "seeds": [0],
                  "flow_max_iter": 2000},
        "perturbation": {"side": 5, "eps_sweep": [0.001, 0.01, 0.1]},
        "two_neuron": {"t_max": 0.5, "dt": 0.01},
        "rnn": {"n": 8, "n_timesteps": 4, "n_iterations": 20, "log_every": 5, "l2_lambdas": [1.0],
                "balance_rates": [1.0], "seeds": [0], "n_trial_sets": 1,
                "noise_sigmas": [0.0, 0.3], "n_permutations": 20},
        "xor": {"n": 8, "seeds": [0], "n_trials": 2, "t_max": 5.0},
        "bundle": {"points_per_job": 1, "rnn_points_per_job": 1},  # one job per point: named by rule
    },
}


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bal_incremental")
    base = _write(tmp, "base", TINY)
    _snakemake(base)
    assert (tmp / "results/balancing_summary.csv").stat().st_size > 0
    assert _scheduled(base) == {}
    return tmp


def test_adding_a_sweep_seed_schedules_only_its_points(finished):
    cfg = copy.deepcopy(TINY)
    cfg["balancing"]["sweep"]["seeds"] = [0, 1]
    assert _scheduled(_write(finished, "sweep_seed", cfg)) == {
        "balancing_balance": 2,  # the new seed at both ranks
        "balancing_analyze": 1,
        "balancing_figure_sweep": 1,
        "balancing_summary": 1,
        "all": 1,
    }


def test_adding_an_rnn_seed_schedules_only_its_runs(finished):
    cfg = copy.deepcopy(TINY)
    cfg["balancing"]["rnn"]["seeds"] = [0, 1]
    assert _scheduled(_write(finished, "rnn_seed", cfg)) == {
        "balancing_train_rnn": 3,  # plain, l2 and balance arms of the new seed
        "balancing_robustness": 3,
        "balancing_figure_rnn": 1,
        "balancing_summary": 1,
        "all": 1,
    }


def test_a_figure_setting_reruns_only_figures(finished):
    cfg = copy.deepcopy(TINY)
    cfg["balancing"]["figures"] = {"dpi": 90}
    assert _scheduled(_write(finished, "figures", cfg)) == {
        "balancing_figure_sweep": 1,
        "balancing_figure_two_neuron": 1,
        "balancing_figure_perturbation": 1,
        "balancing_figure_rnn": 1,
        "all": 1,
    }


def test_adding_an_xor_seed_schedules_only_it(finished):
    cfg = copy.deepcopy(TINY)
    cfg["balancing"]["xor"]["seeds"] = [0, 3]
    assert _scheduled(_write(finished, "xor_seed", cfg)) == {
        "balancing_xor": 1,
        "balancing_summary": 1,
        "all": 1,
    }


def test_an_evaluation_setting_does_not_retrain(finished):
    cfg = copy.deepcopy(TINY)
    cfg["balancing"]["rnn"]["noise_sigmas"] = [0.0, 0.5]
    assert _scheduled(_write(finished, "eval", cfg)) == {
        "balancing_robustness": 3,
        "balancing_figure_rnn": 1,
        "balancing_summary": 1,
        "all": 1,
    }
