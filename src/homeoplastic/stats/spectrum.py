"""Spectral peak of a population rate over its aperiodic background (paper Fig. 1c).

The paper shows "high-frequency oscillations" of the network after the runaway of Hebbian STDP. A
population-rate spectrum's peak is only an oscillation when it stands above the spectrum around
it: spiking networks have smooth, low-pass (Lorentzian-like) spectra, so the largest power of an
aperiodic signal sits at the lowest frequency searched. The peak is therefore measured against a
local baseline, the median power over [f/2, 2f]: a smooth spectrum gives at most ~1.6 there (1/f^2
falls by 1.25^2 from f to the window's median at ~1.25 f), a rhythm gives its line over the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENT_S = 0.2
"""Welch segment (s): 5 Hz resolution; a 1-s window still averages ~9 half-overlapping segments."""
BAND_HZ = (20.0, 1000.0)
"""Frequencies searched for the peak (Hz): gamma up to the refractory-limited ~500 Hz of cells
firing in lockstep (and its first harmonic), above the stimulus-driven slow rate changes."""
BIN_MS = 0.2
"""Bin of the population rate (ms): Nyquist 2.5 kHz, far above the band."""


@dataclass(frozen=True)
class SpectralPeak:
    """The strongest line of a population rate's spectrum within :data:`BAND_HZ`."""

    frequency_hz: float
    """Frequency of the largest power / local baseline."""
    ratio: float
    """Power at that frequency / median power over [f/2, 2f] (1 to ~2 for an aperiodic signal)."""
    n_segments: int
    """Welch segments averaged (fewer make the ratio of an aperiodic signal noisier)."""


def binned_rate(spike_step: np.ndarray, n_cells: int, dt_ms: float, start_step: int,
                stop_step: int, bin_ms: float = BIN_MS) -> np.ndarray:
    """Population rate (Hz per cell) in bins of ``bin_ms`` over steps [start_step, stop_step)."""
    width = max(1, round(bin_ms / dt_ms))
    n_bins = (stop_step - start_step) // width
    inside = (spike_step >= start_step) & (spike_step < start_step + n_bins * width)
    counts = np.bincount((spike_step[inside] - start_step) // width, minlength=n_bins)
    return counts / (max(n_cells, 1) * width * dt_ms * 1e-3)


def spectral_peak(rate_hz: np.ndarray, bin_s: float, *, segment_s: float = SEGMENT_S,
                  band_hz: tuple[float, float] = BAND_HZ) -> SpectralPeak | None:
    """Peak of ``rate_hz``'s Welch spectrum over its local baseline; None below two segments."""
    per_segment = round(segment_s / bin_s)
    if per_segment < 8 or rate_hz.size < 2 * per_segment or not np.any(rate_hz != rate_hz[0]):
        return None
    from scipy.signal import welch  # at first use: scipy.signal loads scipy.stats (~1 s)

    freqs, power = welch(rate_hz - rate_hz.mean(), fs=1.0 / bin_s, nperseg=per_segment,
                         detrend=False)
    in_band = np.flatnonzero((freqs >= band_hz[0]) & (freqs <= band_hz[1]))
    if in_band.size == 0:
        return None
    ratios = np.array([power[k] / np.median(power[(freqs >= freqs[k] / 2) & (freqs <= 2 * freqs[k])])
                       for k in in_band])
    best = int(np.argmax(ratios))
    n_segments = (rate_hz.size - per_segment) // (per_segment // 2) + 1
    return SpectralPeak(float(freqs[in_band[best]]), float(ratios[best]), n_segments)


SYNCHRONY_BIN_MS = 1.0
"""Count bin of :func:`pairwise_synchrony` (ms): below half the ~2.2-ms period of cells firing
at their ~450 Hz ceiling, so that lockstep firing shows as correlation."""


def pairwise_synchrony(spike_step: np.ndarray, spike_cell: np.ndarray, n_cells: int,
                       dt_ms: float, start_step: int, stop_step: int,
                       bin_ms: float = SYNCHRONY_BIN_MS) -> float | None:
    """Mean pairwise correlation of the cells' binned counts, each pair weighted by the product
    of their standard deviations: (var(sum) - sum var) / ((sum sd)^2 - sum var).

    0 for independent cells, 1 for identical ones; silent cells drop out. A population spectrum
    cannot tell these apart: cells that each fire regularly at f but with unrelated phases put a
    line at f into the population rate too. None when fewer than two cells fire.
    """
    width = max(1, round(bin_ms / dt_ms))
    n_bins = (stop_step - start_step) // width
    inside = (spike_step >= start_step) & (spike_step < start_step + n_bins * width) \
        & (spike_cell < n_cells)
    bins = (spike_step[inside] - start_step) // width
    population = np.bincount(bins, minlength=n_bins).astype(float)
    key, counts = np.unique(spike_cell[inside].astype(np.int64) * n_bins + bins, return_counts=True)
    cell = key // n_bins
    mean = np.bincount(cell, weights=counts, minlength=n_cells) / max(n_bins, 1)
    var = np.bincount(cell, weights=counts.astype(float) ** 2, minlength=n_cells) / max(n_bins, 1) \
        - mean**2
    var = np.clip(var, 0.0, None)
    denominator = np.sqrt(var).sum() ** 2 - var.sum()
    if n_bins < 2 or denominator <= 0:
        return None
    return float((population.var() - var.sum()) / denominator)
