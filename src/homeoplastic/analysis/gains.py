"""Per-assembly within-weight gains after spontaneous activity (paper Fig. 5b, c): how many
assemblies stay potentiated and how unevenly the gains are spread (winner-take-all or not).

A gain is an assembly's mean within weight minus its value before training, at the end of
training and at the end of the spontaneous phase. Each statistic comes with its null measured
the same way in the same run:

* the spread (Gini coefficient of the gains, 0 when all are equal, (n - 1) / n for one winner)
  against the same index at the end of training, and against its 95th percentile had every
  assembly the same gain up to sampling noise;
* the fraction of assemblies clearly potentiated (gain above twice the sampling noise) against
  the same fraction at the end of training.

The sampling noise of a group-mean weight change is the spread, over all ordered pairs of
different assemblies, of the change of the mean weight between them: blocks of about the same
number of synapses that no stimulus targeted as a pair, so their spread is what group means
differ by without a difference in training (interference during training adds to it, which
makes the null conservative).
"""

from __future__ import annotations

import numpy as np

POTENTIATED_Z = 2.0
"""An assembly counts as potentiated when its gain exceeds this many noise s.d."""
NULL_QUANTILE = 0.95
NULL_DRAWS = 20000
NULL_SEED = 0
"""The equal-gain null's draws are seeded: the same stores give the same numbers every time."""

GAIN_VARIABLES = (
    "assembly_gain_gini_end", "assembly_gain_gini_trained", "assembly_gain_gini_equal_q95",
    "assembly_gain_potentiated_end", "assembly_gain_potentiated_trained",
    "assembly_gain_noise_pf", "assembly_gain_max_over_mean_end",
    "assembly_gain_max_over_mean_trained",
)
"""The analyze scalars of :func:`gain_scalars`."""


def gini(values: np.ndarray) -> np.ndarray:
    """Gini coefficient along the last axis of non-negative values (negatives count as 0).

    0 when all are equal, (n - 1) / n when one holds everything; NaN when all are 0.
    """
    x = np.sort(np.clip(np.asarray(values, dtype=float), 0.0, None), axis=-1)
    n = x.shape[-1]
    rank = np.arange(1, n + 1)
    total = x.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, ((2 * rank - n - 1) * x).sum(axis=-1) / (n * total), np.nan)


def within_gains(train_w: np.ndarray, spont_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gain at the end of training, gain at the end of the spontaneous phase), pF, per assembly.

    ``train_w`` and ``spont_w`` are the (snapshot, pre group, post group) mean weights of the
    training and spontaneous stores (the last group: cells in no assembly).
    """
    n = train_w.shape[1] - 1
    before = np.diagonal(train_w[0], axis1=0, axis2=1)[:n]
    trained = np.diagonal(train_w[-1], axis1=0, axis2=1)[:n]
    end = np.diagonal(spont_w[-1], axis1=0, axis2=1)[:n]
    return trained - before, end - before


def gain_noise(train_w: np.ndarray, spont_w: np.ndarray) -> float:
    """S.d. (pF) over ordered pairs of different assemblies of their between-block weight change
    from before training to the end of the spontaneous phase; NaN with fewer than 2 assemblies."""
    n = train_w.shape[1] - 1
    if n < 2:
        return float("nan")
    change = spont_w[-1, :n, :n] - train_w[0, :n, :n]
    return float(np.std(change[~np.eye(n, dtype=bool)], ddof=1))


def equal_gain_gini(mean_gain: float, noise_pf: float, n: int, *, quantile: float = NULL_QUANTILE,
                    n_draws: int = NULL_DRAWS, seed: int = NULL_SEED) -> float:
    """``quantile`` of the Gini coefficient of ``n`` gains drawn around a common ``mean_gain``
    with s.d. ``noise_pf``: the spread of assemblies that all gained alike."""
    if not (np.isfinite(mean_gain) and np.isfinite(noise_pf)) or n < 2:
        return float("nan")
    draws = np.random.default_rng(seed).normal(mean_gain, noise_pf, size=(n_draws, n))
    return float(np.nanquantile(gini(draws), quantile))


def _max_over_mean(gains: np.ndarray) -> float:
    positive = np.clip(gains, 0.0, None)
    return float(positive.max() / positive.mean()) if positive.mean() > 0 else float("nan")


def gain_scalars(train_w: np.ndarray, spont_w: np.ndarray) -> dict[str, tuple[float, str, str]]:
    """The analyze scalars of the gains: name -> (value, units, long name); see the module."""
    trained, end = within_gains(train_w, spont_w)
    noise = gain_noise(train_w, spont_w)
    threshold = POTENTIATED_Z * noise
    return {
        "assembly_gain_gini_end": (
            float(gini(end)), "1",
            "Gini coefficient of the assemblies' within-weight gains over their pre-training "
            "values (negative gains as 0) at the end of the spontaneous phase: 0 all equal, "
            "(n-1)/n one winner"),
        "assembly_gain_gini_trained": (
            float(gini(trained)), "1",
            "the same Gini coefficient at the end of training (null: the spread before "
            "spontaneous activity)"),
        "assembly_gain_gini_equal_q95": (
            equal_gain_gini(float(end.mean()), noise, end.size), "1",
            "95th percentile of that Gini coefficient had every assembly the mean end gain up to "
            "sampling noise (s.d. assembly_gain_noise_pf)"),
        "assembly_gain_potentiated_end": (
            float(np.mean(end > threshold)) if np.isfinite(threshold) else float("nan"), "1",
            f"fraction of assemblies whose gain at the end of the spontaneous phase exceeds "
            f"{POTENTIATED_Z:g} noise s.d. (stay potentiated)"),
        "assembly_gain_potentiated_trained": (
            float(np.mean(trained > threshold)) if np.isfinite(threshold) else float("nan"), "1",
            f"fraction of assemblies whose gain at the end of training exceeds {POTENTIATED_Z:g} "
            "noise s.d. (null: before spontaneous activity)"),
        "assembly_gain_noise_pf": (
            noise, "pF",
            "s.d. over pairs of different assemblies of the change of the mean weight between "
            "them, pre-training to the end of the spontaneous phase (sampling noise of a gain)"),
        "assembly_gain_max_over_mean_end": (
            _max_over_mean(end), "1",
            "largest assembly gain / mean gain (negative gains as 0), end of the spontaneous phase"),
        "assembly_gain_max_over_mean_trained": (
            _max_over_mean(trained), "1", "the same at the end of training"),
    }
