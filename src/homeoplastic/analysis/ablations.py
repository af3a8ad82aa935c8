"""Per-run quantities of the homeostasis ablations (paper Figs. 1c, 3b, 3c), each with its null.

- Fig. 1c: the E population rate's spectral peak after the runaway, against the same measure
  in windows of the same length before it (same run, same training store), and the E cells'
  pairwise synchrony in the same windows: a spectral line alone can be cells firing regularly
  with unrelated phases, not a network oscillation.
- Fig. 3b: inhibition onto an assembly against its size at the end of training, against the
  same slope when training starts (every I->E weight starts at J_IE: exactly 0).
- Fig. 3c: potentiation after the first block of presentations (each assembly once), before any
  runaway, and after the second, so that runs with and without iSTDP compare at the same
  learning speed, presentations and time; the null is the voltage rule's run at that speed and
  seed.

:func:`ablation_statistics` reads a run's training store and returns named scalars (value, units,
long name) for ``analyze_run``; runs without a runaway, spikes or snapshots simply lack the
quantities that need them (no NaN is stored).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from homeoplastic.stats.spectrum import (
    BIN_MS,
    SpectralPeak,
    binned_rate,
    pairwise_synchrony,
    spectral_peak,
)
from homeoplastic.store import open_store

RUNAWAY_RATE_HZ = 10.0
"""E rate (0.1-s bins) that marks a runaway: the Fig. 1 row's check; healthy runs peak at 3.7-5.5 Hz."""
ONSET_BIN_S = 0.1
SETTLE_S = 0.2
"""Skipped after the onset: the rise itself is not the state the paper's raster shows."""
MARGIN_S = 1.0
"""Skipped before the onset for the null windows: the rate already climbs ~0.4 s before it."""
MIN_WINDOW_S = 0.4
"""Shorter windows after the runaway (guard stopped at once) give no oscillation quantities."""

Scalars = dict[str, tuple[float, str, str]]

ABLATION_VARIABLES = (
    "runaway_onset_s", "oscillation_peak_db_after_runaway", "oscillation_peak_db_before_runaway",
    "oscillation_peak_hz_after_runaway", "oscillation_peak_hz_before_runaway",
    "oscillation_window_s", "synchrony_after_runaway", "synchrony_before_runaway",
    "inh_size_elasticity_after_training",
    "inh_size_elasticity_before_training", "w_ratio_block1", "w_ratio_block2",
    "w_within_gain_median_assembly_block1", "w_within_gain_median_assembly_block2",
    "rate_exc_max_block1_hz", "rate_exc_max_block2_hz",
)
"""The analyze variables this module may add (``BLOCKS`` 1 and 2)."""


def runaway_onset_s(rate_exc_hz: np.ndarray, bin_ms: float, start_s: float,
                    threshold_hz: float = RUNAWAY_RATE_HZ, bin_s: float = ONSET_BIN_S) -> float | None:
    """Start of the first ``bin_s`` bin whose mean E rate exceeds ``threshold_hz``; None if none."""
    width = max(1, round(bin_s * 1e3 / bin_ms))
    n = rate_exc_hz.size // width
    coarse = rate_exc_hz[: n * width].reshape(n, width).mean(axis=1)
    above = np.flatnonzero(coarse > threshold_hz)
    return float(start_s + above[0] * width * bin_ms * 1e-3) if above.size else None


def oscillation_statistics(train: xr.Dataset, spikes: Mapping[str, np.ndarray]) -> Scalars:
    """Spectral peak of the E rate after the runaway and, as its null, before it (Fig. 1c).

    After: [onset + SETTLE_S, end of training), length L. Null: the median over the
    non-overlapping windows of length L that end MARGIN_S before the onset (as many as fit after
    training starts; one of what fits when L is longer), measured identically.
    """
    dt_ms = float(train.attrs["dt_ms"])
    start, end = float(train.attrs["run_start_s"]), float(train.attrs["run_end_s"])
    onset = runaway_onset_s(train.rate_exc_hz.values, float(train.attrs["rate_bin_ms"]), start)
    if onset is None:
        return {}
    out: Scalars = {"runaway_onset_s": (onset, "s", f"first {ONSET_BIN_S:g}-s bin of training "
                                        f"with the E rate above {RUNAWAY_RATE_HZ:g} Hz")}
    n_exc = int(train.attrs["n_exc"])
    exc = spikes["spike_cell"] < n_exc
    steps = spikes["spike_step"][exc]

    bin_s = max(1, round(BIN_MS / dt_ms)) * dt_ms * 1e-3

    def peak(t0: float, t1: float) -> SpectralPeak | None:
        rate = binned_rate(steps, n_exc, dt_ms, round(t0 * 1e3 / dt_ms), round(t1 * 1e3 / dt_ms))
        return spectral_peak(rate, bin_s)

    length = end - onset - SETTLE_S
    before_end = onset - MARGIN_S
    if length < MIN_WINDOW_S or before_end - start < MIN_WINDOW_S:
        return out
    after = peak(onset + SETTLE_S, end)
    n_windows = max(1, int((before_end - start) // length))
    width = min(length, before_end - start)
    nulls = [peak(before_end - (k + 1) * width, before_end - k * width) for k in range(n_windows)]
    nulls = [p for p in nulls if p is not None]
    if after is None or not nulls:
        return out

    def synchrony(t0: float, t1: float) -> float:
        value = pairwise_synchrony(steps, spikes["spike_cell"][exc], n_exc, dt_ms,
                                   round(t0 * 1e3 / dt_ms), round(t1 * 1e3 / dt_ms))
        return np.nan if value is None else value

    sync_before = [synchrony(before_end - (k + 1) * width, before_end - k * width)
                   for k in range(n_windows)]
    sync_what = ("E cells' mean pairwise correlation of 1-ms counts (sd-weighted; 0 independent, "
                 "1 lockstep)")
    out["synchrony_after_runaway"] = (synchrony(onset + SETTLE_S, end), "1",
                                      f"{sync_what}, after the runaway")
    out["synchrony_before_runaway"] = (float(np.nanmedian(sync_before)) if np.isfinite(
        sync_before).any() else np.nan, "1", f"{sync_what}, before the runaway (median over the "
                                       "windows)")
    what = ("E population rate: spectral power at its peak (20-1000 Hz) over the median power "
            "in [f/2, 2f], in dB (10 log10 of the ratio: ratios spread log-normally over seeds)")
    out["oscillation_peak_db_after_runaway"] = (10 * np.log10(after.ratio), "dB",
                                                f"{what}, after the runaway")
    out["oscillation_peak_db_before_runaway"] = (
        10 * np.log10(np.median([p.ratio for p in nulls])), "dB",
        f"{what}, before the runaway (median over windows of the same length)")
    out["oscillation_peak_hz_after_runaway"] = (after.frequency_hz, "Hz",
                                                "frequency of that peak after the runaway")
    out["oscillation_peak_hz_before_runaway"] = (
        float(np.median([p.frequency_hz for p in nulls])), "Hz",
        "frequency of that peak before the runaway (median over the windows)")
    out["oscillation_window_s"] = (width, "s", "length of each window the peaks are measured in")
    return out


def size_elasticity(weight: np.ndarray, size: np.ndarray) -> float | None:
    """Least-squares slope of ``weight`` on ``size``, times mean size / mean weight (1: weight in
    proportion to size, 0: flat); None when the sizes do not differ."""
    size, weight = np.asarray(size, float), np.asarray(weight, float)
    if size.size < 2 or np.ptp(size) == 0 or not weight.mean() > 0:
        return None
    if np.ptp(weight) <= 1e-12 * weight.mean():  # equal up to the rounding of their means
        return 0.0
    centred = size - size.mean()
    slope = np.sum(centred * (weight - weight.mean())) / np.sum(centred**2)
    return float(slope * size.mean() / weight.mean())


def inhibition_size_statistics(train: xr.Dataset) -> Scalars:
    """Mean I->E weight onto an assembly's members against its size (Fig. 3b), at the end of
    training and, as its null, at its start."""
    if "w_inh_onto_assembly_pf" not in train or train.snapshot_time.size < 2:
        return {}
    w = train.w_inh_onto_assembly_pf.values
    size = train.assembly_size.values
    after, before = size_elasticity(w[-1], size), size_elasticity(w[0], size)
    if after is None or before is None:
        return {}
    what = ("elasticity of the mean I->E weight onto an assembly's members with its size "
            "(least-squares slope x mean size / mean weight; 0 flat, 1 proportional)")
    return {"inh_size_elasticity_after_training": (after, "1", f"{what}, after training"),
            "inh_size_elasticity_before_training": (before, "1", f"{what}, when training starts")}


BLOCKS = (1, 2)
"""Blocks (each assembly presented once) after which potentiation is read: the first ends before
the runaway of the paper-speed ablations (it starts in the sixth presentation); after the second
the no-iSTDP run ends its training (2 repetitions), the equal-time point past its runaway."""


def block_statistics(train: xr.Dataset, blocks: tuple[int, ...] = BLOCKS) -> Scalars:
    """Potentiation once every assembly was presented ``b`` times, for each ``b`` (Fig. 3c).

    Read at the weight snapshot at the end of block ``b`` (the last one at or before it): the
    within/between ratio and the median over assemblies of the gain of their within weight (the
    typical stimulated assembly: a mean hides four frozen assemblies behind one winner), with the
    largest E rate up to then, which says whether the point lies before any runaway. Runs at the
    same learning speed then compare at equal presentations and equal time.
    """
    config = json.loads(train.attrs.get("config_json", "{}"))
    protocol = config.get("assemblies", {}).get("protocol", {})
    if not {"n_assemblies", "stimulus_on_s", "stimulus_off_s"} <= protocol.keys():
        return {}  # a store written without its settings (library use): no block times
    start, end = float(train.attrs["run_start_s"]), float(train.attrs["run_end_s"])
    n_asm = int(protocol["n_assemblies"])
    block_s = n_asm * (protocol["stimulus_on_s"] + protocol["stimulus_off_s"])
    times = train.snapshot_time.values
    within = np.diagonal(train.w_assembly_pf.values, axis1=1, axis2=2)[:, :n_asm]
    bin_ms = float(train.attrs["rate_bin_ms"])
    width = max(1, round(ONSET_BIN_S * 1e3 / bin_ms))
    out: Scalars = {}
    for b in blocks:
        at = np.flatnonzero(times <= start + b * block_s + 1e-9)
        if end < start + b * block_s - 1e-9 or at.size < 2:
            continue
        k = at[-1]
        n_bins = int(round((times[k] - start) * 1e3 / bin_ms)) // width * width
        rate = train.rate_exc_hz.values[:n_bins].reshape(-1, width).mean(axis=1)
        if rate.size == 0:
            continue
        when = f"once each assembly was presented {b}x"
        out[f"w_ratio_block{b}"] = (float(train.w_ratio.values[k]), "1",
                                    f"within/between E->E weight {when}")
        out[f"w_within_gain_median_assembly_block{b}"] = (
            float(np.nanmedian(within[k] / within[0] - 1.0)), "1",
            f"median over assemblies of the relative gain of their within weight {when}")
        out[f"rate_exc_max_block{b}_hz"] = (float(rate.max()), "Hz",
                                            f"largest E rate ({ONSET_BIN_S:g}-s bins) up to then")
    return out


def ablation_statistics(train_path: str | Path) -> Scalars:
    """Every quantity of this module from a run's training store (spikes where it kept them);
    a quantity that comes out NaN (e.g. an assembly without a within synapse) is left out."""
    train = open_store(train_path)
    out = {**inhibition_size_statistics(train), **block_statistics(train)}
    if (Path(train_path) / "spikes").is_dir():
        ds = open_store(train_path, group="spikes")
        spikes = {name: ds[name].values for name in ("spike_step", "spike_cell")}
        out.update(oscillation_statistics(train, spikes))
    return {name: entry for name, entry in out.items() if np.isfinite(entry[0])}
