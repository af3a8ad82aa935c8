"""balancing_summary.csv: every claim over seeds against its null (homeoplastic.balancing.claims).

Synthetic stores where balancing does nothing must give no "yes" for any effect of balancing;
stores where it clearly helps must give "yes" with n >= 3; fewer seeds say so.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import xarray as xr

from homeoplastic.balancing.claims import COLUMNS, rnn_rows, write_table, xor_rows

SIGMAS = np.array([0.0, 0.1, 0.2, 0.3])
EFFECT_CLAIMS = ("balancing increases noise robustness", "anti-balancing lowers",
                 "which measure supports", "balances more than without", "lowers the error",
                 "raises the error", "final imbalance below")


def _fake_rnn(n_seeds: int, avg_factor: float, trial_factor: float, balance_g: float,
              seed: int = 0) -> tuple[xr.Dataset, xr.Dataset]:
    """A plain and a balance arm. Balancing multiplies each seed's MSE by ``*_factor`` times
    seed-to-seed noise (sd 0.1 in log) and the final |g| over the permutation null's by
    ``balance_g`` (the plain arm's ratio is about 1): factor 1 means balancing does nothing."""
    rng = np.random.default_rng(seed)
    runs, seeds = ["plain λ=0", "balance λ=1"], np.arange(n_seeds)
    rs, rss = ("run", "seed"), ("run", "seed", "sigma")
    shape = (2, n_seeds)
    g_null = rng.uniform(5, 10, shape)
    g_ratio = np.exp(rng.normal(0, 0.1, shape)) * np.array([[1.0], [balance_g]])
    r2 = 0.98 + rng.normal(0, 0.003, shape)
    train = xr.Dataset(
        {
            "heldout_r2": (rs, r2),
            "heldout_r2_initial": (rs, np.full(shape, -0.7)),
            "imbalance_final": (rs, g_ratio * g_null),
            "imbalance_null_mean": (rs, g_null),
            "imbalance_null_p05": (rs, 0.9 * g_null),
            "r2_late_change": (rs, np.full(shape, 0.001)),
            "loss_late_change": (rs, rng.normal(-0.1, 0.01, shape)),
        },
        coords={"run": runs, "seed": seeds},
    )
    orig = 1.0 + SIGMAS * 10 * np.exp(rng.normal(0, 0.3, (*shape, SIGMAS.size)))

    def scaled(factor: float) -> np.ndarray:
        noise = np.exp(rng.normal(0, 0.1, (*shape, 1)))  # a seed's own balancing effect
        return orig * np.where(SIGMAS > 0, factor * noise, 1.0)

    robust = xr.Dataset(
        {
            "sigma_normalised": (rss, np.broadcast_to(SIGMAS / 0.5, orig.shape).copy()),
            "noiseless_output_diff": (rs, np.full(shape, 1e-15)),
            "mse_avg_original": (rss, orig),
            "mse_trial_original": (rss, orig),
            "mse_avg_balanced": (rss, scaled(avg_factor)),
            "mse_trial_balanced": (rss, scaled(trial_factor)),
            "mse_avg_anti_balanced": (rss, scaled(1 / avg_factor)),
            "mse_trial_anti_balanced": (rss, scaled(1 / trial_factor)),
        },
        coords={"run": runs, "seed": seeds, "sigma": SIGMAS},
    )
    return train, robust


def _effect_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if any(c in r["claim"] for c in EFFECT_CLAIMS)]


def test_balancing_that_does_nothing_gives_no_yes():
    """Balanced MSE and |g| equal to the unbalanced network's and the plain arm's: no yes."""
    train, robust = _fake_rnn(8, 1.0, 1.0, 1.0)
    for m in ("mse_avg", "mse_trial"):
        for v in ("balanced", "anti_balanced"):
            robust[f"{m}_{v}"] = robust[f"{m}_original"].copy()
    plain = train.sel(run="plain λ=0")
    for k in ("imbalance_final", "imbalance_null_mean", "imbalance_null_p05"):
        train[k].loc[{"run": "balance λ=1"}] = plain[k].values
    effects = [r for r in _effect_rows(rnn_rows(train, robust)) if "balance λ" in r["configuration"]]
    assert len(effects) == 7  # robustness (2 measures x balanced, anti), measure row, imbalance x2
    assert [r["claim"] for r in effects if r["agrees"] == "yes"] == []
    assert all(r["n"] == "8" for r in effects)


def test_balancing_that_does_nothing_but_noise_rarely_agrees():
    """Each seed's balancing effect drawn around none (sd 0.1 in log): over 100 summaries every
    effect row says yes about as often as a one-sided 2.5 % test allows, never routinely (a point
    estimate below 1, or a CI that ignores the seeds' spread, says yes about half the time)."""
    counts: dict[str, int] = {}
    for seed in range(100):
        for r in _effect_rows(rnn_rows(*_fake_rnn(8, 1.0, 1.0, 1.0, seed))):
            if "balance λ" in r["configuration"]:
                counts[r["claim"]] = counts.get(r["claim"], 0) + (r["agrees"] == "yes")
    assert len(counts) == 7 and max(counts.values()) <= 6, counts


def test_balancing_that_clearly_helps_agrees_with_its_ci_and_null():
    rows = rnn_rows(*_fake_rnn(5, 0.7, 0.6, 0.01))
    bal = {r["claim"]: r for r in rows if "balance λ" in r["configuration"]}
    avg = bal["balancing increases noise robustness: trial-averaged MSE (the authors' measure), "
              "balanced"]
    assert avg["agrees"] == "yes" and int(avg["n"]) >= 3
    assert float(avg["ci_high"]) < float(avg["null_value"]) == 1.0
    assert float(avg["ci_low"]) < float(avg["measured"]) < float(avg["ci_high"])
    assert float(avg["measured"]) == pytest.approx(0.7, rel=0.15)
    assert bal["training with balance balances more than without a penalty"]["agrees"] == "yes"
    assert bal["final imbalance below the row-permutation null"]["agrees"] == "yes"
    assert bal["which measure supports the robustness claim (balanced)"]["quantity"] == (
        "supported by: trial-averaged MSE (the authors' measure) and per-trial MSE")
    assert bal["balancing during training keeps task performance"]["agrees"] == "yes"
    plain = {r["claim"]: r for r in rows if "plain λ" in r["configuration"]}
    assert plain["the trained network solves the task"]["agrees"] == "yes"
    # the plain arm's imbalance is described, not judged: absence of balance is not a finding
    assert plain["without a penalty training does not balance (descriptive: absence is not "
                 "judged)"]["agrees"] == ""


def test_the_measure_row_says_which_measure_supports_the_claim():
    """Per-trial MSE gains, the trial-averaged (the authors') does not: the row says per-trial
    only and agrees with the authors' measure's verdict, no."""
    rows = rnn_rows(*_fake_rnn(6, 1.0, 0.6, 1.0))
    row = next(r for r in rows if r["claim"] == "which measure supports the robustness claim "
               "(balanced)" and "balance λ" in r["configuration"])
    assert row["quantity"] == "supported by: per-trial MSE" and row["agrees"] == "no"


def test_two_seeds_are_too_few():
    rows = rnn_rows(*_fake_rnn(2, 0.5, 0.5, 0.01))
    effects = _effect_rows(rows)
    judged = [r for r in effects if r["null_value"] != ""]
    assert judged and all(r["agrees"] == "too few seeds (n = 2)" for r in judged)


def test_balance_arm_losing_task_performance_disagrees():
    train, robust = _fake_rnn(5, 0.7, 0.7, 0.01)
    train["heldout_r2"].loc[{"run": "balance λ=1"}] -= 0.05  # solved, but worse than plain
    rows = rnn_rows(train, robust)
    row = next(r for r in rows if r["claim"] == "balancing during training keeps task performance")
    assert float(row["measured"]) > 0.9 and row["agrees"] == "no"


def _xor(ratios: list[float]) -> xr.Dataset:
    k = len(ratios)
    return xr.Dataset(
        {
            "noiseless_error": ("seed", [0.0] * k + [0.9]),  # the last does not solve XOR
            "mse_original": ("seed", [1.0] * (k + 1)),
            "mse_balanced": ("seed", [*ratios, 1e-6]),
            "mse_balanced_pinned": ("seed", [*ratios, 1e-6]),
            "mse_anti_balanced": ("seed", [2.0] * k + [1e-6]),
        },
        coords={"seed": np.arange(k + 1)},
    )


def test_xor_ratio_near_one_over_seeds_does_not_agree():
    """Today's XOR table: 3 of 5 seeds below 1, geometric mean 0.99: no (the CI spans 1)."""
    rows = xor_rows(_xor([0.6, 0.8, 0.95, 1.3, 1.45]))
    bal = next(r for r in rows if r["claim"].startswith("balancing (floored"))
    assert bal["agrees"] == "no" and bal["n"] == "5"
    assert float(bal["ci_low"]) < 1 < float(bal["ci_high"])
    assert "5 of 6 seeds" in bal["configuration"]  # the unsolved seed is left out
    rows = xor_rows(_xor([0.5, 0.55, 0.6, 0.52, 0.58]))
    assert [r["agrees"] for r in rows] == ["yes", "yes", "yes"]


def test_write_table_is_atomic_and_has_the_statistics_columns(tmp_path):
    rows = xor_rows(_xor([0.5, 0.55, 0.6]))
    out = tmp_path / "balancing_summary.csv"
    write_table(rows, out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
    with open(out) as handle:
        read = list(csv.DictReader(handle))
    assert tuple(read[0]) == COLUMNS and len(read) == 3
    assert {"n", "ci_low", "ci_high", "null", "null_value"} <= set(COLUMNS)
