"""Spike-train statistics: irregularity (CV of inter-spike intervals) and synchrony.

Spikes are given as parallel arrays of time-step index and cell index, the engine's ragged format.
"""

from __future__ import annotations

import numpy as np


def isi_cv(
    spike_step: np.ndarray,
    spike_cell: np.ndarray,
    *,
    n_cells: int,
    dt_ms: float,
    min_spikes: int = 3,
) -> float:
    """Mean coefficient of variation of inter-spike intervals over cells ``< n_cells``.

    Cells with fewer than ``min_spikes`` spikes are skipped; NaN when none qualifies. A Poisson
    process has CV = 1; a regular (clock-like) train has CV = 0.
    """
    del dt_ms  # CV is dimensionless; intervals in steps suffice
    steps = np.asarray(spike_step)
    cells = np.asarray(spike_cell)
    keep = cells < n_cells
    steps, cells = steps[keep], cells[keep]
    order = np.lexsort((steps, cells))
    steps, cells = steps[order], cells[order]
    same = cells[1:] == cells[:-1]
    isi = np.diff(steps).astype(float)[same]
    owner = cells[1:][same]
    counts = np.bincount(owner, minlength=n_cells)
    ok = counts >= max(min_spikes - 1, 2)
    if not ok.any():
        return float("nan")
    s1 = np.bincount(owner, weights=isi, minlength=n_cells)
    s2 = np.bincount(owner, weights=isi**2, minlength=n_cells)
    mean = s1[ok] / counts[ok]
    var = s2[ok] / counts[ok] - mean**2
    return float(np.mean(np.sqrt(np.maximum(var, 0.0)) / mean))


def population_fano(
    spike_step: np.ndarray,
    spike_cell: np.ndarray,
    *,
    n_cells: int,
    dt_ms: float,
    bin_ms: float = 5.0,
) -> float:
    """Fano factor of the population spike count in bins of ``bin_ms`` (cells ``< n_cells``).

    Independent Poisson cells give 1; synchronous activity makes it grow with the number of
    cells. A simple, robust synchrony index for asynchronous-irregular checks.
    """
    steps = np.asarray(spike_step)[np.asarray(spike_cell) < n_cells]
    if steps.size == 0:
        return float("nan")
    bin_steps = max(1, round(bin_ms / dt_ms))
    first = steps.min()
    counts = np.bincount((steps - first) // bin_steps)
    if counts.size < 2 or counts.mean() == 0:
        return float("nan")
    return float(counts.var() / counts.mean())


def isi_cv2(spike_step: np.ndarray, spike_cell: np.ndarray, *, n_cells: int) -> float:
    """Mean local variation CV2 = 2|I_{k+1} - I_k| / (I_{k+1} + I_k) over cells ``< n_cells``.

    (Holt et al. 1996.) A Poisson process has CV2 = 1 in expectation for any number of intervals,
    so unlike the CV it is not biased low in short recordings of slowly firing cells.
    """
    steps = np.asarray(spike_step)
    cells = np.asarray(spike_cell)
    keep = cells < n_cells
    steps, cells = steps[keep], cells[keep]
    order = np.lexsort((steps, cells))
    steps, cells = steps[order].astype(float), cells[order]
    isi = np.diff(steps)
    same = cells[1:] == cells[:-1]
    pair = same[1:] & same[:-1]
    a, b = isi[:-1][pair], isi[1:][pair]
    if a.size == 0:
        return float("nan")
    return float(np.mean(2.0 * np.abs(b - a) / (a + b)))


def implied_pairwise_correlation(population_fano_factor: float, n_cells: int) -> float:
    """Mean pairwise count correlation implied by a population Fano factor (single-cell F = 1).

    Var(sum) = N var + N(N-1) c var gives F_pop = 1 + (N - 1) c; asynchronous states have c near 0.
    """
    return (population_fano_factor - 1.0) / max(n_cells - 1, 1)
