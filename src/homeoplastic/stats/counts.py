"""Trial-based spike-count statistics: counts, Fano factor, correlations, ROC, gain
(docs/models/assemblies.md, 9.2-9.5).

Everything works on a count array of shape (trial, cell, time window) as made by
:func:`spike_counts`; all functions are vectorised NumPy. Conventions:

* windows are half-open, ``[start, start + window_s)``;
* the Fano factor follows Churchland et al. (2010, toolbox ``VarVsMean.m``): a weighted regression
  of variance on mean through the origin, with distribution ("mean") matching across times;
* correlations and AUCs are plain estimators with no bias correction.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

_BIN_TOLERANCE = 1e-6
"""Times within this fraction of a bin below a bin edge count as on the edge (float rounding)."""


# --------------------------------------------------------------------------------------- counting
def n_windows(duration_s: float, window_s: float, step_s: float) -> int:
    """Number of windows of ``window_s`` every ``step_s`` that fit in ``duration_s``."""
    if window_s <= 0 or step_s <= 0 or duration_s < window_s - 1e-12:
        raise ValueError(
            f"windows: need window_s > 0, step_s > 0 and window_s <= duration_s; got "
            f"window_s = {window_s}, step_s = {step_s}, duration_s = {duration_s}"
        )
    return int(math.floor((duration_s - window_s) / step_s + 1e-9)) + 1


def spike_counts(
    spike_times_s: np.ndarray,
    spike_cells: np.ndarray,
    n_cells: int,
    trial_starts_s: np.ndarray,
    window_s: float,
    step_s: float,
    *,
    duration_s: float,
    cells: np.ndarray | None = None,
    dtype: type = np.int32,
) -> np.ndarray:
    """Spike counts in sliding windows, shape (trial, cell, window).

    Window ``k`` of trial ``r`` is ``[trial_starts_s[r] + k * step_s, ... + window_s)``; as many
    windows as fit in ``duration_s``. ``cells`` selects (and orders) the rows among cells
    ``0..n_cells-1`` (default: all of them); spikes of other cells are ignored. Trials may overlap.
    Spikes are first binned at the greatest common divisor of window and step (to 1 µs), then
    windows are differences of a cumulative sum, so the cost does not grow with the overlap.
    """
    times = np.asarray(spike_times_s, dtype=float)
    cell_ids = np.asarray(spike_cells, dtype=np.int64)
    starts = np.atleast_1d(np.asarray(trial_starts_s, dtype=float))
    if times.shape != cell_ids.shape or times.ndim != 1:
        raise ValueError("spike_counts: spike_times_s and spike_cells must be 1-D of equal length")
    rows = np.arange(n_cells) if cells is None else np.asarray(cells, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n_cells or np.unique(rows).size != rows.size):
        raise ValueError("spike_counts: cells must be distinct indices in 0..n_cells-1")
    n_win = n_windows(duration_s, window_s, step_s)
    window_us, step_us = round(window_s * 1e6), round(step_s * 1e6)
    base_us = math.gcd(window_us, step_us)
    if base_us == 0:
        raise ValueError("spike_counts: window_s and step_s must be at least 1 µs")
    base_s = base_us * 1e-6
    per_window, per_step = window_us // base_us, step_us // base_us
    n_fine = (n_win - 1) * per_step + per_window
    row_of = np.full(n_cells, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    keep = (cell_ids >= 0) & (cell_ids < n_cells)
    times, cell_ids = times[keep], cell_ids[keep]
    keep = row_of[cell_ids] >= 0
    times, row_ids = times[keep], row_of[cell_ids[keep]]
    order = np.argsort(times, kind="stable")
    times, row_ids = times[order], row_ids[order]
    out = np.zeros((starts.size, rows.size, n_win), dtype=dtype)
    span_s = n_fine * base_s
    # blocks of trials bound the memory of the fine-binned array
    block = max(1, (1 << 22) // max(1, rows.size * n_fine))
    for first in range(0, starts.size, block):
        sub = starts[first:first + block]
        lo = np.searchsorted(times, sub - _BIN_TOLERANCE * base_s, side="left")
        hi = np.searchsorted(times, sub + span_s, side="left")
        lengths = hi - lo
        total = int(lengths.sum())
        trial = np.repeat(np.arange(sub.size), lengths)
        idx = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        fine = np.floor((times[idx] - sub[trial]) / base_s + _BIN_TOLERANCE).astype(np.int64)
        ok = (fine >= 0) & (fine < n_fine)
        flat = (trial[ok] * rows.size + row_ids[idx[ok]]) * n_fine + fine[ok]
        binned = np.bincount(flat, minlength=sub.size * rows.size * n_fine)
        binned = binned.reshape(sub.size, rows.size, n_fine)
        csum = np.zeros((sub.size, rows.size, n_fine + 1), dtype=np.int64)
        np.cumsum(binned, axis=2, out=csum[:, :, 1:])
        left = np.arange(n_win) * per_step
        out[first:first + block] = csum[:, :, left + per_window] - csum[:, :, left]
    return out


# ------------------------------------------------------------------------------------ Fano factor
@dataclass(frozen=True)
class FanoResult:
    """Population Fano factor over time; ``*_ci95`` are slope +- 2 s.e. as in ``lscov``."""

    mean_matched: np.ndarray  # (time,)
    mean_matched_ci95: np.ndarray  # (time, 2), averaged over the matching repeats
    raw: np.ndarray  # (time,) all points, no matching
    raw_ci95: np.ndarray  # (time, 2)
    mean_count: np.ndarray  # (time,) mean count of all points
    mean_count_matched: np.ndarray  # (time,) mean count of the kept points (nearly constant)
    fraction_kept: float  # share of points that survive matching


def _weighted_slope(mean: np.ndarray, var: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray,
                                                                                    np.ndarray]:
    """Weighted least squares through the origin along the last axis: slope and its s.e.

    Same as MATLAB ``lscov(mean, var, weight)`` with one regressor; zero weight drops a point.
    """
    sxx = np.sum(weight * mean**2, axis=-1)
    sxy = np.sum(weight * mean * var, axis=-1)
    n = np.sum(weight > 0, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = sxy / sxx
        resid = np.sum(weight * (var - slope[..., None] * mean) ** 2, axis=-1)
        se = np.sqrt(resid / np.maximum(n - 1, 1) / sxx)
    return slope, se


def fano_factor_mean_matched(
    counts: np.ndarray,
    *,
    n_bins: int | None = None,
    bin_width: float = 0.25,
    n_repeats: int = 10,
    rng: np.random.Generator,
    weight_floor: float = 0.1,
) -> FanoResult:
    """Mean-matched population Fano factor (Churchland et al. 2010, docs/models/assemblies.md, 9.2).

    ``counts`` is (trial, unit, time); a unit is one neuron-condition pair (stack conditions along
    the unit axis). At each time the across-trial variance of every unit is regressed on its mean
    through the origin, weighted by the inverse sampling variance of the variance estimate,
    ``n_trials / (mean + weight_floor)**2`` (``weight_floor`` in counts; Churchland: 1 spike/s
    times the window). Mean matching: histogram the unit means at every time (bins of
    ``bin_width`` counts, or ``n_bins`` equal bins up to the largest mean), take the bin-wise
    minimum over times, and at every time keep a random subset of each bin's points of exactly
    that size; the slope is averaged over ``n_repeats`` such draws. A Fano factor that changes
    only because the mean changes (variance not proportional to mean) is then removed.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 3 or counts.shape[0] < 2:
        raise ValueError("fano_factor_mean_matched: counts must be (trial >= 2, unit, time)")
    n_trials, n_units, n_times = counts.shape
    mean = counts.mean(axis=0).T  # (time, unit)
    var = counts.var(axis=0, ddof=1).T
    weight = n_trials / (mean + weight_floor) ** 2
    raw, raw_se = _weighted_slope(mean, var, weight)
    if n_bins is not None:
        top = float(mean.max()) if mean.size else 0.0
        width = top / n_bins if top > 0 else 1.0
        which = np.minimum(np.floor(mean / width).astype(np.int64), n_bins - 1)
    else:
        if bin_width <= 0:
            raise ValueError(f"bin_width = {bin_width} is invalid; allowed: > 0")
        which = np.floor(mean / bin_width).astype(np.int64)
    n_b = int(which.max()) + 1 if which.size else 1
    hist = np.zeros((n_times, n_b), dtype=np.int64)
    np.add.at(hist, (np.repeat(np.arange(n_times), n_units), which.ravel()), 1)
    target = hist.min(axis=0)  # greatest common distribution
    # rank points within (time, bin) by a random key; keep ranks below the bin's target count
    time_idx = np.repeat(np.arange(n_times), n_units)
    flat_bin = which.ravel()
    group = time_idx * n_b + flat_bin
    group_start = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n_times * n_b))])
    slopes = np.zeros((n_repeats, n_times))
    ses = np.zeros((n_repeats, n_times))
    kept_mean = np.zeros((n_repeats, n_times))
    for rep in range(n_repeats):
        order = np.lexsort((rng.random(group.size), group))
        rank = np.empty(group.size, dtype=np.int64)
        rank[order] = np.arange(group.size) - group_start[group[order]]
        keep = (rank < target[flat_bin]).reshape(n_times, n_units)
        slopes[rep], ses[rep] = _weighted_slope(mean, var, np.where(keep, weight, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            kept_mean[rep] = (mean * keep).sum(axis=1) / keep.sum(axis=1)
    matched = slopes.mean(axis=0) if n_repeats else np.full(n_times, np.nan)
    ci = np.stack([slopes - 2 * ses, slopes + 2 * ses], axis=-1).mean(axis=0) if n_repeats \
        else np.full((n_times, 2), np.nan)
    return FanoResult(
        mean_matched=matched,
        mean_matched_ci95=ci,
        raw=raw,
        raw_ci95=np.stack([raw - 2 * raw_se, raw + 2 * raw_se], axis=-1),
        mean_count=mean.mean(axis=1) if n_units else np.full(n_times, np.nan),
        mean_count_matched=kept_mean.mean(axis=0) if n_repeats else np.full(n_times, np.nan),
        fraction_kept=float(target.sum() / n_units) if n_units else float("nan"),
    )


# ----------------------------------------------------------------------------------- correlations
@dataclass(frozen=True)
class CorrelationResult:
    """Mean pairwise count correlation per time; pairs with a silent cell are left out."""

    same: np.ndarray  # (time,) pairs sharing at least one group
    different: np.ndarray  # (time,) pairs of group members sharing none
    all_pairs: np.ndarray  # (time,) every pair
    n_same: np.ndarray  # (time,) pairs that entered the mean
    n_different: np.ndarray


def pair_kinds(membership: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks (cell, cell) of distinct pairs that share a group ("same") and of members of some
    group that share none ("different"); pairs with a cell in no group are neither."""
    member = np.asarray(membership, dtype=bool)
    if member.ndim == 1:
        member = member[:, None]
    m = member.astype(np.int64)
    shared = (m @ m.T) > 0
    in_any = member.any(axis=1)
    np.fill_diagonal(shared, False)
    different = ~shared & in_any[:, None] & in_any[None, :]
    np.fill_diagonal(different, False)
    return shared, different


def count_correlations(
    counts: np.ndarray,
    membership: np.ndarray,
    *,
    stimulus: np.ndarray | None = None,
) -> CorrelationResult:
    """Pearson correlations of counts across trials, same- vs different-assembly pairs
    (docs/models/assemblies.md, 9.3).

    ``counts`` is (trial, cell, time) or (trial, cell); ``membership`` is (cell, group) boolean
    (overlapping groups allowed). With ``stimulus`` (one label per trial) the mean of each cell
    over the trials of each stimulus is subtracted first, so the result is a noise correlation
    and not a correlation of the cells' tuning.
    """
    x = np.asarray(counts, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    if stimulus is not None:
        labels = np.asarray(stimulus)
        if labels.shape != (x.shape[0],):
            raise ValueError("count_correlations: stimulus needs one label per trial")
        _, inverse = np.unique(labels, return_inverse=True)
        sums = np.zeros((inverse.max() + 1, *x.shape[1:]))
        np.add.at(sums, inverse, x)
        x = x - (sums / np.bincount(inverse)[:, None, None])[inverse]
    same, different = pair_kinds(membership)
    if same.shape[0] != x.shape[1]:
        raise ValueError("count_correlations: membership must have one row per cell")
    upper = np.triu(np.ones_like(same), k=1)
    same, different = same & upper, different & upper
    n_t = x.shape[2]
    result = {k: np.full(n_t, np.nan) for k in ("same", "different", "all")}
    n_same = np.zeros(n_t, dtype=np.int64)
    n_diff = np.zeros(n_t, dtype=np.int64)
    for t in range(n_t):
        xc = x[:, :, t] - x[:, :, t].mean(axis=0)
        sd = np.sqrt((xc**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = (xc.T @ xc) / np.outer(sd, sd)
        valid = np.isfinite(corr) & (sd[:, None] > 0) & (sd[None, :] > 0)
        for key, mask in (("same", same), ("different", different), ("all", upper)):
            sel = mask & valid
            if sel.any():
                result[key][t] = corr[sel].mean()
        n_same[t] = int((same & valid).sum())
        n_diff[t] = int((different & valid).sum())
    return CorrelationResult(same=result["same"], different=result["different"],
                             all_pairs=result["all"], n_same=n_same, n_different=n_diff)


# -------------------------------------------------------------------------------------------- ROC
def roc_auc(counts_a: np.ndarray, counts_b: np.ndarray) -> np.ndarray:
    """Area under the ROC curve for telling samples of ``a`` from ``b``, along axis 0
    (docs/models/assemblies.md, 9.4).

    AUC = P(a > b) + P(a = b) / 2, computed exactly as the Mann-Whitney U of ``a`` over
    ``n_a * n_b`` with mid-ranks for ties. 0.5: indistinguishable; 1: every ``a`` exceeds every
    ``b``. Trailing dimensions (cells, times) must match and are handled independently.
    """
    from scipy.stats import rankdata  # here: scipy.stats costs ~1 s to import, and only ROC needs it

    a = np.asarray(counts_a, dtype=float)
    b = np.asarray(counts_b, dtype=float)
    if a.shape[1:] != b.shape[1:] or a.shape[0] == 0 or b.shape[0] == 0:
        raise ValueError("roc_auc: need non-empty samples along axis 0 with equal trailing shapes")
    n_a, n_b = a.shape[0], b.shape[0]
    tail = a.shape[1:]
    both = np.concatenate([a.reshape(n_a, -1), b.reshape(n_b, -1)], axis=0)
    ranks = rankdata(both, axis=0)  # mid-ranks (ties get their average rank), exact halves
    u = ranks[:n_a].sum(axis=0) - n_a * (n_a + 1) / 2.0
    return (u / (n_a * n_b)).reshape(tail)


def roc_auc_cells(counts_a: np.ndarray, counts_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC per cell and of the population sum for (trial, cell, ...) count arrays.

    Returns (per cell: shape (cell, ...), population: shape (...)).
    """
    a = np.asarray(counts_a)
    b = np.asarray(counts_b)
    return roc_auc(a, b), roc_auc(a.sum(axis=1), b.sum(axis=1))


# ------------------------------------------------------------------- gain and pattern completion
def group_rate_hz(counts: np.ndarray, mask: np.ndarray, window_s: float) -> float:
    """Mean rate (Hz) over all (trial, cell) entries of a (trial, cell) count array in ``mask``."""
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    return float((np.asarray(counts) * mask).sum() / (n * window_s)) if n else float("nan")


def gain_curve(
    counts: np.ndarray,
    window_s: float,
    strength_hz: np.ndarray,
    member: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Response rate against stimulus strength for stimulated-assembly members and non-members.

    ``counts`` is (trial, cell) in the response window of ``window_s``; ``strength_hz`` the
    stimulus strength of each trial; ``member`` (trial, cell) marks members of the assembly
    stimulated in that trial. Returns (strengths in increasing order, member rate in Hz,
    non-member rate in Hz), rates pooled over cells and trials of each strength
    (docs/models/assemblies.md, 9.5).
    """
    counts = np.asarray(counts)
    strength = np.asarray(strength_hz, dtype=float)
    member = np.asarray(member, dtype=bool)
    levels = np.unique(strength)
    rate_in = np.array([group_rate_hz(counts[strength == s], member[strength == s], window_s)
                        for s in levels])
    rate_out = np.array([group_rate_hz(counts[strength == s], ~member[strength == s], window_s)
                         for s in levels])
    return levels, rate_in, rate_out


@dataclass(frozen=True)
class CompletionResult:
    """Rates (Hz) when half of an assembly is stimulated, and the completion index.

    ``index`` uses the rates themselves; ``evoked_index`` (NaN without a baseline) uses the
    changes from each group's own pre-stimulus rate, which is insensitive to baseline differences
    between members and non-members (e.g. after iSTDP has lowered the members' rates).
    """

    rate_stimulated_hz: float
    rate_unstimulated_hz: float
    rate_nonmember_hz: float
    index: float
    baseline_stimulated_hz: float = float("nan")
    baseline_unstimulated_hz: float = float("nan")
    baseline_nonmember_hz: float = float("nan")
    evoked_index: float = float("nan")


def _completion_index(r_s: float, r_u: float, r_n: float) -> float:
    return float((r_u - r_n) / (r_s - r_n)) if r_s != r_n else float("nan")


def pattern_completion(
    counts: np.ndarray,
    window_s: float,
    stimulated: np.ndarray,
    unstimulated: np.ndarray,
    nonmember: np.ndarray,
    *,
    baseline_counts: np.ndarray | None = None,
    baseline_window_s: float | None = None,
) -> CompletionResult:
    """Response of the unstimulated half of an assembly when the other half is driven
    (docs/models/assemblies.md, 9.5).

    Masks are (trial, cell). Index = (r_unstimulated - r_nonmember) / (r_stimulated - r_nonmember):
    0 when the unstimulated half responds like cells outside the assembly, 1 when it responds
    like the stimulated half (complete recall). With ``baseline_counts`` (same trials and cells,
    a pre-stimulus window of ``baseline_window_s``) the same ratio of rate *changes* is returned
    as ``evoked_index``.
    """
    masks = (stimulated, unstimulated, nonmember)
    r_s, r_u, r_n = (group_rate_hz(counts, m, window_s) for m in masks)
    result = CompletionResult(r_s, r_u, r_n, _completion_index(r_s, r_u, r_n))
    if baseline_counts is None:
        return result
    b_s, b_u, b_n = (group_rate_hz(baseline_counts, m, baseline_window_s or window_s)
                     for m in masks)
    return dataclasses.replace(
        result, baseline_stimulated_hz=b_s, baseline_unstimulated_hz=b_u,
        baseline_nonmember_hz=b_n, evoked_index=_completion_index(r_s - b_s, r_u - b_u, r_n - b_n),
    )
