"""Spectral peak over the local aperiodic baseline (homeoplastic.stats.spectrum, paper Fig. 1c)."""

import numpy as np
import pytest

from homeoplastic.stats.spectrum import binned_rate, pairwise_synchrony, spectral_peak

DT_MS = 0.1
N_CELLS = 1600


def poisson_steps(rate_per_step: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Spike steps of N_CELLS Poisson cells whose common rate is ``rate_per_step`` (spikes/step)."""
    counts = rng.poisson(N_CELLS * rate_per_step)
    return np.repeat(np.arange(counts.size), counts)


def peak_of(steps: np.ndarray, n_steps: int):
    rate = binned_rate(steps, N_CELLS, DT_MS, 0, n_steps)
    return spectral_peak(rate, 2e-4)


@pytest.mark.parametrize("freq_hz", [40.0, 460.0])
def test_a_rhythm_gives_its_frequency_far_above_the_floor(freq_hz):
    rng = np.random.default_rng(1)
    t = np.arange(10_000) * DT_MS * 1e-3  # 1 s: the length of the no-homeostasis window
    rate_hz = 3.0 * (1.0 + 0.5 * np.sin(2 * np.pi * freq_hz * t))
    peak = peak_of(poisson_steps(rate_hz * DT_MS * 1e-3, rng), t.size)
    assert peak.frequency_hz == pytest.approx(freq_hz, abs=5.0)
    assert peak.ratio > 10.0


@pytest.mark.parametrize("seconds", [1.0, 10.0])
def test_asynchronous_poisson_firing_has_no_peak(seconds):
    rng = np.random.default_rng(2)
    n = int(seconds * 1e4)
    peak = peak_of(poisson_steps(np.full(n, 3.0 * DT_MS * 1e-3), rng), n)
    assert peak.ratio < 3.0


def test_a_low_pass_aperiodic_rate_is_not_an_oscillation():
    """An Ornstein-Uhlenbeck rate (10 ms: corner at 16 Hz) puts its most power at the band's
    low edge; a peak over the band's median would call that a rhythm, the local baseline not."""
    rng = np.random.default_rng(3)
    n, tau_steps = 100_000, 100.0
    x = np.zeros(n)
    noise = rng.normal(size=n) * np.sqrt(2.0 / tau_steps)
    for k in range(1, n):
        x[k] = x[k - 1] * (1.0 - 1.0 / tau_steps) + noise[k]
    rate_hz = np.clip(5.0 * (1.0 + 0.8 * x), 0.0, None)
    peak = peak_of(poisson_steps(rate_hz * DT_MS * 1e-3, rng), n)
    assert peak.ratio < 3.0


def test_binned_rate_counts_each_spike_once_in_hz_per_cell():
    steps = np.array([0, 1, 2, 5, 9, 10, 11])
    rate = binned_rate(steps, n_cells=2, dt_ms=DT_MS, start_step=2, stop_step=12, bin_ms=0.5)
    assert rate == pytest.approx([2 / (2 * 0.5e-3), 3 / (2 * 0.5e-3)])  # steps 2-6 and 7-11


def test_too_short_or_flat_windows_give_none():
    assert spectral_peak(np.ones(10_000), 2e-4) is None
    assert spectral_peak(np.random.default_rng(0).random(1000), 2e-4) is None  # 0.2 s: 1 segment


def _regular_cells(phases_s: np.ndarray, freq_hz: float, seconds: float, rng) -> tuple:
    ticks = np.arange(0.0, seconds, 1.0 / freq_hz)
    steps = [np.round((ticks + p) * 1e4 + rng.normal(0, 1, ticks.size)).astype(np.int64)
             for p in phases_s]
    cells = [np.full(ticks.size, k) for k in range(phases_s.size)]
    steps, cells = np.concatenate(steps), np.concatenate(cells)
    keep = (steps >= 0) & (steps < seconds * 1e4)
    return steps[keep], cells[keep]


def test_synchrony_tells_lockstep_from_regular_cells_with_unrelated_phases():
    """Both put a 460 Hz line into the population spectrum; only lockstep is synchrony."""
    rng = np.random.default_rng(5)
    lockstep = _regular_cells(np.zeros(30), 460.0, 1.0, rng)
    scattered = _regular_cells(rng.uniform(0, 1 / 460.0, 30), 460.0, 1.0, rng)
    for steps, _ in (lockstep, scattered):
        order = np.sort(steps)
        assert peak_of(order, 10_000).frequency_hz == pytest.approx(460.0, abs=5.0)
    assert pairwise_synchrony(*lockstep, 100, DT_MS, 0, 10_000) > 0.5
    assert abs(pairwise_synchrony(*scattered, 100, DT_MS, 0, 10_000)) < 0.05
    steps = poisson_steps(np.full(10_000, 3.0 * DT_MS * 1e-3), rng)
    cells = rng.integers(0, 100, steps.size)
    assert abs(pairwise_synchrony(steps, cells, 100, DT_MS, 0, 10_000)) < 0.02
    assert pairwise_synchrony(steps[:1], cells[:1], 100, DT_MS, 0, 10_000) is None
