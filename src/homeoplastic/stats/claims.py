"""A claim as an effect over seeds with its 95 % CI, next to a null measured the same way.

Every results table (``summary.csv``, ``balancing_summary.csv``) judges a claim with
:func:`judge`: the effect's values over seeds (one per replicate), the null's (the same quantity
in the untrained network, a shuffled membership, the drift of unstimulated weights; or a constant
with a stated reason), the paper's direction and, optionally, the paper's magnitude.

The verdict (``agrees``):

- ``yes`` only when, over at least :data:`MIN_SEEDS` seeds, the effect's CI lies wholly on the
  paper's side of the null's mean, the CI of the paired difference (effect - null, seed by seed)
  excludes 0 on that side, and the mean passes the paper's threshold where it states one;
- ``no`` otherwise;
- ``too few seeds (n = k)`` with fewer than :data:`MIN_SEEDS` finite values;
- ``not measured`` when no seed has the effect;
- empty for a descriptive row (``direction`` None): reported with its CI, not judged.

So an untrained network, whose effect equals its null up to noise, never gives ``yes``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
MIN_SEEDS = 3
NOT_MEASURED = "not measured"
DIRECTIONS = ("greater", "less")
TOO_FEW = "too few seeds"


@dataclass(frozen=True)
class Verdict:
    """A claim over seeds: the effect's mean, CI and n, the null's mean, the paired difference's
    CI and the verdict (module docstring)."""

    n: int
    mean: float
    ci_low: float
    ci_high: float
    null_value: float
    diff_ci_low: float
    diff_ci_high: float
    agrees: str


def t_interval(values: Sequence[float] | np.ndarray,
               confidence: float = CONFIDENCE) -> tuple[int, float, float, float]:
    """(n, mean, low, high): Student's t interval of the mean of the finite values (ddof = 1);
    NaN bounds with fewer than two, the mean itself as both bounds when all values are equal."""
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan
    from scipy.special import stdtrit  # scipy.stats.t.ppf(q, d) is stdtrit(d, q)

    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * float(x.std(ddof=1)) / math.sqrt(n)
    return n, mean, mean - half, mean + half


def judge(effect: Sequence[float] | np.ndarray, null: Sequence[float] | np.ndarray | float,
          direction: str | None, threshold: Callable[[float], bool] | None = None,
          min_seeds: int = MIN_SEEDS, confidence: float = CONFIDENCE) -> Verdict:
    """Judge a claim from its effect over seeds against its null (module docstring).

    ``null`` is one value per seed (paired with ``effect``; NaN where a seed has none) or a
    constant. ``direction`` is ``"greater"`` or ``"less"`` (the paper's effect lies above or below
    the null) or None (descriptive). ``threshold`` checks the paper's magnitude on the mean.
    """
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}; allowed: {', '.join(DIRECTIONS)} or None")
    e = np.asarray(effect, dtype=float).ravel()
    n, mean, low, high = t_interval(e, confidence)
    if np.ndim(null) == 0:
        nulls = np.full(e.shape, float(null))
    else:
        nulls = np.asarray(null, dtype=float).ravel()
        if nulls.shape != e.shape:
            raise ValueError(f"null has {nulls.size} values for {e.size} seeds of the effect")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        null_value = float(np.nanmean(nulls)) if np.isfinite(nulls).any() else math.nan
    _, _, d_low, d_high = t_interval(e - nulls, confidence)
    if n == 0:
        agrees = NOT_MEASURED
    elif direction is None:
        agrees = ""
    elif n < min_seeds:
        agrees = f"{TOO_FEW} (n = {n})"
    elif math.isnan(null_value) or math.isnan(d_low):
        agrees = "no null measured"
    else:
        sign = 1.0 if direction == "greater" else -1.0
        beyond = (sign * (low - null_value) > 0 if sign > 0 else sign * (high - null_value) > 0)
        paired = d_low > 0 if sign > 0 else d_high < 0
        magnitude = threshold is None or bool(threshold(mean))
        agrees = "yes" if (beyond and paired and magnitude) else "no"
    return Verdict(n, mean, low, high, null_value, d_low, d_high, agrees)
