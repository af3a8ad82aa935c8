"""Trial count statistics against known cases: Poisson, doubly stochastic and shared-input trains.

Tolerances are a few standard errors computed from the sample sizes, so every test can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.stats.counts import (
    count_correlations,
    fano_factor_mean_matched,
    gain_curve,
    pair_kinds,
    pattern_completion,
    roc_auc,
    roc_auc_cells,
    spike_counts,
)


def _poisson_times(rng, rate_hz: np.ndarray, duration_s: float):
    """Spike times in [0, duration_s) of independent Poisson trains, one rate per train."""
    rate = np.asarray(rate_hz, dtype=float)
    n = rng.poisson(rate * duration_s)
    owner = np.repeat(np.arange(rate.size), n)
    return rng.uniform(0.0, duration_s, n.sum()), owner


def _trial_trains(rng, rates_hz: np.ndarray, duration_s: float, gap_s: float = 0.5):
    """Trials laid end to end: ``rates_hz`` is (trial, cell). Returns times, cells, trial starts."""
    n_trials, n_cells = rates_hz.shape
    times, owner = _poisson_times(rng, rates_hz.ravel(), duration_s)
    trial, cell = np.divmod(owner, n_cells)
    starts = np.arange(n_trials) * (duration_s + gap_s)
    return times + starts[trial], cell, starts


def _fano_tolerance(fano: float, n_trials: int, n_units: int, excess_kurtosis: float) -> float:
    """Five standard errors of a mean of unit Fano factors (sample variance of n_trials counts)."""
    var_one = fano**2 * (2.0 / (n_trials - 1) + excess_kurtosis / n_trials)
    return 5.0 * np.sqrt(var_one / n_units)


# ------------------------------------------------------------------------------------ counting
def test_spike_counts_match_a_direct_count_and_respect_window_edges():
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 10, 4000))
    cells = rng.integers(0, 7, times.size)
    # spikes exactly on a window's start count; exactly on its end do not. 0.825 s starts window
    # 21 of the trial at 0.3 s although (0.825 - 0.3) / 0.025 = 20.999... in floating point
    times = np.concatenate([times, [2.0, 2.1, 0.825]])
    cells = np.concatenate([cells, [6, 6, 6]])
    starts = np.array([0.3, 2.0, 2.05, 7.7])
    pick = np.array([6, 0, 3])
    got = spike_counts(times, cells, 7, starts, 0.1, 0.025, duration_s=0.8, cells=pick)
    assert got.shape == (4, 3, 29)
    expected = np.zeros_like(got)
    for r, s in enumerate(starts):
        for k in range(got.shape[2]):
            lo = s + k * 0.025
            inside = (times >= lo - 1e-12) & (times < lo + 0.1 - 1e-12)
            expected[r, :, k] = np.bincount(cells[inside], minlength=7)[pick]
    np.testing.assert_array_equal(got, expected)
    # the planted spike at 2.0 s is in window 0 of trial 1; the one at 2.1 s is not
    base = ((times >= 2.0) & (times < 2.1) & (cells == 6)).sum()
    assert got[1, 0, 0] == base
    assert got[0, 0, 21] == ((times >= 0.825) & (times < 0.925) & (cells == 6)).sum()


# ---------------------------------------------------------------------------------- Fano factor
def test_fano_regression_is_weighted_by_the_sampling_variance_of_the_variance():
    # two units with exact trial means and variances; the slope must be sum(w m v) / sum(w m^2)
    # with w = n / (m + floor)^2, not the unweighted least-squares slope
    n, floor = 6, 0.1
    signs = np.array([-1.0, 1.0] * (n // 2))
    units = [(1.0, 2.0), (10.0, 10.0)]  # (mean, variance): Fano 2 and 1
    counts = np.stack([m + signs * np.sqrt(v * (n - 1) / n) for m, v in units], axis=1)[:, :, None]
    result = fano_factor_mean_matched(counts, rng=np.random.default_rng(0), weight_floor=floor)
    m = np.array([1.0, 10.0])
    v = np.array([2.0, 10.0])
    w = n / (m + floor) ** 2
    expected = (w * m * v).sum() / (w * m**2).sum()
    assert result.raw[0] == pytest.approx(expected, rel=1e-12)
    assert abs(expected - (m * v).sum() / (m**2).sum()) > 0.3  # weighting matters here


def test_poisson_trains_give_fano_one():
    rng = np.random.default_rng(1)
    n_trials, n_cells, window = 100, 300, 0.1
    rates = rng.uniform(5.0, 30.0, n_cells)
    times, cells, starts = _trial_trains(rng, np.tile(rates, (n_trials, 1)), 0.5)
    counts = spike_counts(times, cells, n_cells, starts, window, 0.1, duration_s=0.5)
    result = fano_factor_mean_matched(counts, rng=rng, weight_floor=window)
    m_min = rates.min() * window
    tol = _fano_tolerance(1.0, n_trials, n_cells, excess_kurtosis=1.0 / m_min)
    np.testing.assert_allclose(result.raw, 1.0, atol=tol)
    np.testing.assert_allclose(result.mean_matched, 1.0, atol=tol)


def test_doubly_stochastic_trains_give_the_analytic_fano():
    # rate ~ Gamma(k, theta) per trial: count ~ negative binomial, Fano = 1 + theta * T
    rng = np.random.default_rng(2)
    n_trials, n_cells, shape = 150, 200, 4.0
    mean_hz, var_hz2 = 20.0, 100.0
    theta = var_hz2 / mean_hz
    rates = rng.gamma(shape, theta, size=(n_trials, n_cells))
    times, cells, starts = _trial_trains(rng, rates, 0.6)
    for window in (0.1, 0.2):
        counts = spike_counts(times, cells, n_cells, starts, window, window, duration_s=0.6)
        result = fano_factor_mean_matched(counts, rng=rng, weight_floor=window)
        fano = 1.0 + theta * window
        p = 1.0 / fano
        kurt = 6.0 / shape + p**2 / (shape * (1.0 - p))
        tol = _fano_tolerance(fano, n_trials, n_cells, kurt)
        np.testing.assert_allclose(result.raw, fano, atol=tol)
        assert tol < 0.25 * (fano - 1.0)  # the test can tell this process from Poisson


def test_mean_matching_removes_a_change_driven_by_the_mean():
    # var = m + c m^2: the Fano factor grows with the mean; half the units raise their mean at t1
    rng = np.random.default_rng(3)
    n_trials, n_units, c = 80, 3000, 0.5
    m0 = rng.uniform(0.5, 3.0, n_units)
    m1 = m0.copy()
    m1[: n_units // 2] *= 2.5
    means = np.stack([m0, m1], axis=1)
    counts = rng.poisson(rng.gamma(1.0 / c, c * means[None], size=(n_trials, n_units, 2)))
    result = fano_factor_mean_matched(counts, rng=rng, n_repeats=10)
    se = (result.raw_ci95[:, 1] - result.raw_ci95[:, 0]) / 4.0
    assert result.raw[1] - result.raw[0] > 10 * np.hypot(*se)  # raw Fano rises with the mean
    se_m = (result.mean_matched_ci95[:, 1] - result.mean_matched_ci95[:, 0]) / 4.0
    assert abs(result.mean_matched[1] - result.mean_matched[0]) < 3 * np.hypot(*se_m)
    assert abs(result.mean_count_matched[1] - result.mean_count_matched[0]) < 0.02
    assert 0.3 < result.fraction_kept < 1.0


def test_mean_matching_keeps_a_real_drop():
    # same means at both times, variance halves at t1: matching must not hide it
    rng = np.random.default_rng(4)
    n_trials, n_units = 80, 2000
    m = rng.uniform(1.0, 4.0, n_units)
    noisy = rng.poisson(rng.gamma(1.0, m[None], size=(n_trials, n_units)))
    quiet = rng.poisson(m[None], size=(n_trials, n_units))
    result = fano_factor_mean_matched(np.stack([noisy, quiet], axis=2), rng=rng, n_bins=12)
    assert result.mean_matched[0] > 1.5 * result.mean_matched[1]
    assert result.mean_matched[1] == pytest.approx(1.0, abs=0.1)


# ---------------------------------------------------------------------------------- correlations
def test_pair_kinds_with_overlapping_memberships():
    member = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]], dtype=bool)
    same, different = pair_kinds(member)
    assert {tuple(p) for p in np.argwhere(np.triu(same))} == {(0, 1), (1, 2)}
    assert {tuple(p) for p in np.argwhere(np.triu(different))} == {(0, 2), (0, 4), (1, 4), (2, 4)}
    assert not same[3].any() and not different[3].any()


def test_independent_trains_are_uncorrelated_and_shared_input_gives_the_analytic_value():
    rng = np.random.default_rng(5)
    n_trials, n_groups, per_group, dur = 800, 4, 15, 0.2
    private_hz, shared_hz = 15.0, 5.0
    n_cells = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    membership = group[:, None] == np.arange(n_groups)[None, :]
    # private trains, plus one shared train per (trial, group) copied into every member
    t_priv, c_priv, starts = _trial_trains(rng, np.full((n_trials, n_cells), private_hz), dur)
    t_sh, owner_sh, _ = _trial_trains(rng, np.full((n_trials, n_groups), shared_hz), dur)
    t_all, c_all = [t_priv], [c_priv]
    for cell in range(n_cells):
        t_all.append(t_sh[owner_sh == group[cell]])
        c_all.append(np.full(t_all[-1].size, cell))
    times, cells = np.concatenate(t_all), np.concatenate(c_all)

    independent = spike_counts(t_priv, c_priv, n_cells, starts, 0.1, 0.1, duration_s=dur)
    res = count_correlations(independent, membership)
    n_same, n_diff = res.n_same[0], res.n_different[0]
    for value, n_pairs in ((res.same, n_same), (res.different, n_diff)):
        samples = n_trials * n_pairs
        assert np.all(np.abs(value) < 5.0 / np.sqrt(samples))

    shared = spike_counts(times, cells, n_cells, starts, 0.1, 0.1, duration_s=dur)
    res = count_correlations(shared, membership)
    rho = shared_hz / (private_hz + shared_hz)
    tol = 5 * (rho * (1 - rho) * np.sqrt(2.0 / (n_trials * n_groups))
               + (1 - rho**2) / np.sqrt(n_trials * n_same))
    np.testing.assert_allclose(res.same, rho, atol=tol)
    # different-group pairs inherit the chance correlation of two groups' shared trains
    group_pairs = n_groups * (n_groups - 1) / 2
    tol = 5 * (rho / np.sqrt(n_trials * group_pairs) + 1.0 / np.sqrt(n_trials * n_diff))
    assert np.all(np.abs(res.different) < tol)


def test_noise_correlation_removes_shared_tuning():
    rng = np.random.default_rng(6)
    n_trials, n_cells = 400, 40
    stim = rng.integers(0, 2, n_trials)
    rate = np.where(stim[:, None] == 1, 8.0, 1.0) * np.ones((1, n_cells))  # same tuning in all
    counts = rng.poisson(rate)
    membership = np.ones((n_cells, 1), dtype=bool)
    signal = count_correlations(counts, membership)
    noise = count_correlations(counts, membership, stimulus=stim)
    assert signal.same[0] > 0.5
    assert abs(noise.same[0]) < 5.0 / np.sqrt(n_trials * noise.n_same[0])


# ------------------------------------------------------------------------------------------- ROC
def test_auc_hand_computed_with_ties():
    a = np.array([1, 2, 2, 3])
    b = np.array([0, 2, 3])
    # pairs a > b: 1>0; 2>0 twice; 3>0, 3>2 -> 5 wins; ties: (2,2) twice, (3,3) once -> 3 halves
    assert roc_auc(a, b) == pytest.approx((5 + 1.5) / 12)
    assert roc_auc(b, a) == pytest.approx(1 - (5 + 1.5) / 12)


def test_auc_equals_the_mann_whitney_formula_on_random_tied_samples():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, (23, 5, 3))
    b = rng.integers(0, 4, (17, 5, 3))
    greater = (a[:, None] > b[None]).mean(axis=(0, 1))
    ties = (a[:, None] == b[None]).mean(axis=(0, 1))
    np.testing.assert_allclose(roc_auc(a, b), greater + 0.5 * ties, rtol=0, atol=1e-12)


def test_auc_identical_distributions_half_and_separated_one():
    rng = np.random.default_rng(8)
    n_a, n_b, n_cells = 60, 40, 200
    a = rng.poisson(3.0, (n_a, n_cells))
    b = rng.poisson(3.0, (n_b, n_cells))
    per_cell, population = roc_auc_cells(a, b)
    se = np.sqrt((n_a + n_b + 1) / (12.0 * n_a * n_b))
    assert abs(per_cell.mean() - 0.5) < 5 * se / np.sqrt(n_cells)
    assert abs(population - 0.5) < 5 * se
    assert np.all(roc_auc(a + 100, b) == 1.0)
    assert np.all(roc_auc(a, b + 100) == 0.0)
    # a weak shift per cell (normal approx.: AUC 0.59) is clear in the population sum (0.9995)
    per_cell, population = roc_auc_cells(rng.poisson(3.6, (n_a, n_cells)), b)
    assert 0.5 < per_cell.mean() < 0.7 and population > 0.98


# ---------------------------------------------------------------------- gain and completion
def test_gain_curve_and_completion_index_on_constructed_counts():
    window = 0.5
    strengths = np.repeat([1000.0, 2000.0, 4000.0], 4)
    n_cells = 10
    member = np.zeros((strengths.size, n_cells), dtype=bool)
    member[:, :3] = True
    member[::2, 3] = True  # the stimulated assembly changes between trials
    counts = np.where(member, strengths[:, None] / 1000.0 * 5, 1)  # members: 10 Hz per kHz
    levels, r_in, r_out = gain_curve(counts, window, strengths, member)
    np.testing.assert_array_equal(levels, [1000.0, 2000.0, 4000.0])
    np.testing.assert_allclose(r_in, levels / 100.0)
    np.testing.assert_allclose(r_out, 2.0)

    stim = np.zeros((3, 6), dtype=bool)
    stim[:, :2] = True
    unstim = np.zeros_like(stim)
    unstim[:, 2:4] = True
    counts = np.where(stim, 10, np.where(unstim, 6, 1))
    res = pattern_completion(counts, window, stim, unstim, ~(stim | unstim))
    assert (res.rate_stimulated_hz, res.rate_unstimulated_hz, res.rate_nonmember_hz) == (20, 12, 2)
    assert res.index == pytest.approx((12 - 2) / (20 - 2))
    assert np.isnan(res.evoked_index)
    # members start lower than non-members (baseline 1 s window): evoked changes 18, 9, 0
    baseline = np.where(stim, 2, np.where(unstim, 3, 2))
    res = pattern_completion(counts, window, stim, unstim, ~(stim | unstim),
                             baseline_counts=baseline, baseline_window_s=1.0)
    assert (res.baseline_stimulated_hz, res.baseline_unstimulated_hz) == (2, 3)
    assert res.evoked_index == pytest.approx((12 - 3 - 0) / (20 - 2 - 0))
