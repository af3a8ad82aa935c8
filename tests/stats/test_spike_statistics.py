"""Spike statistics against known cases: Poisson trains, clocks, perfect synchrony."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.stats.spikes import (
    implied_pairwise_correlation,
    isi_cv,
    isi_cv2,
    population_fano,
)


def _poisson_trains(n_cells: int, rate_hz: float, seconds: float, dt_ms: float, seed: int):
    rng = np.random.default_rng(seed)
    n_steps = round(seconds * 1000 / dt_ms)
    hits = rng.random((n_steps, n_cells)) < rate_hz * dt_ms * 1e-3
    steps, cells = np.nonzero(hits)
    return steps.astype(np.int64), cells.astype(np.int32)


def test_poisson_trains_have_cv_one_and_population_fano_one():
    steps, cells = _poisson_trains(200, 20.0, 20.0, 0.1, seed=1)
    assert isi_cv(steps, cells, n_cells=200, dt_ms=0.1) == pytest.approx(1.0, abs=0.05)
    assert isi_cv2(steps, cells, n_cells=200) == pytest.approx(1.0, abs=0.03)
    fano = population_fano(steps, cells, n_cells=200, dt_ms=0.1, bin_ms=5.0)
    assert fano == pytest.approx(1.0, abs=0.08)
    assert abs(implied_pairwise_correlation(fano, 200)) < 5e-4


def test_clock_trains_have_cv_zero():
    steps = np.tile(np.arange(0, 10000, 100), 5)
    cells = np.repeat(np.arange(5), 100)
    assert isi_cv(steps, cells, n_cells=5, dt_ms=0.1) == pytest.approx(0.0, abs=1e-12)
    assert isi_cv2(steps, cells, n_cells=5) == pytest.approx(0.0, abs=1e-12)


def test_synchronous_trains_have_large_population_fano():
    rng = np.random.default_rng(3)
    shared = np.nonzero(rng.random(100_000) < 0.002)[0]  # common spike times
    steps = np.repeat(shared, 100)
    cells = np.tile(np.arange(100), shared.size)
    fano = population_fano(steps, cells, n_cells=100, dt_ms=0.1, bin_ms=5.0)
    assert implied_pairwise_correlation(fano, 100) > 0.5
