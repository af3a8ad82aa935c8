"""The claim verdict: an effect over seeds, its CI, its null (homeoplastic.stats.claims)."""

import math

import numpy as np
import pytest
from scipy import stats

from homeoplastic.stats.claims import MIN_SEEDS, judge, t_interval


def test_t_interval_matches_scipy():
    x = np.array([1.3, 0.7, 2.2, 1.9, 1.1, np.nan])
    n, mean, low, high = t_interval(x)
    finite = x[np.isfinite(x)]
    ref = stats.t.interval(0.95, finite.size - 1, loc=finite.mean(), scale=stats.sem(finite))
    assert n == 5 and mean == pytest.approx(finite.mean())
    assert (low, high) == pytest.approx(ref, rel=1e-12)


def test_untrained_network_never_agrees():
    """Effect and null drawn from the same distribution (an untrained network): over many draws
    the verdict is 'yes' about as often as a one-sided 2.5 % test allows, never routinely."""
    rng = np.random.default_rng(0)
    yes = sum(judge(rng.normal(0.9, 0.05, 5), rng.normal(0.9, 0.05, 5), "greater").agrees == "yes"
              for _ in range(400))
    assert yes / 400 < 0.05


def test_a_clear_effect_agrees_and_its_opposite_does_not():
    rng = np.random.default_rng(1)
    null = rng.normal(0.9, 0.02, 5)
    effect = null + 0.08 + rng.normal(0, 0.01, 5)
    assert judge(effect, null, "greater").agrees == "yes"
    assert judge(effect, null, "less").agrees == "no"
    assert judge(-effect, -null, "less").agrees == "yes"


def test_the_ci_must_clear_the_null_mean_not_only_the_paired_difference():
    """Paired differences can be tiny and consistent while the effect's own spread covers the
    null: the row says no, as the table's ci_low/ci_high against null_value would suggest."""
    null = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    effect = null + 0.01
    v = judge(effect, null, "greater")
    assert v.diff_ci_low > 0 and v.ci_low < v.null_value
    assert v.agrees == "no"


def test_too_few_seeds_and_not_measured():
    assert judge([2.0, 2.1], 1.0, "greater").agrees == "too few seeds (n = 2)"
    assert judge([2.0, math.nan, math.nan], 1.0, "greater").agrees == "too few seeds (n = 1)"
    assert judge([math.nan] * 3, 1.0, "greater").agrees == "not measured"
    assert MIN_SEEDS == 3


def test_threshold_and_descriptive_rows():
    effect = [2.0, 2.1, 2.2, 2.05, 2.15]
    assert judge(effect, 1.0, "greater", threshold=lambda m: m > 3.0).agrees == "no"
    assert judge(effect, 1.0, "greater", threshold=lambda m: m > 1.5).agrees == "yes"
    v = judge(effect, 1.0, None)
    assert v.agrees == "" and v.n == 5 and v.ci_low < v.mean < v.ci_high


def test_constant_effect_over_seeds_has_a_zero_width_ci():
    v = judge([0.0] * 5, 1.0, "less")  # e.g. every seed's training stopped by the guard
    assert (v.ci_low, v.ci_high) == (0.0, 0.0) and v.agrees == "yes"


def test_bad_direction_and_mismatched_null_are_refused():
    with pytest.raises(ValueError, match="allowed: greater, less"):
        judge([1.0, 2.0, 3.0], 0.0, "up")
    with pytest.raises(ValueError, match="null has 2 values"):
        judge([1.0, 2.0, 3.0], [0.0, 1.0], "greater")
