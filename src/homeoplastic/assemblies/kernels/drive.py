"""Counter-based random numbers (SplitMix64) and the external Poisson drive."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from homeoplastic.assemblies.kernels.state import CDF_LEN

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(inline="always")
def _mix64(z):  # pragma: no cover - compiled
    """SplitMix64 finaliser: a bijective 64-bit mix with full avalanche."""
    z = (z ^ (z >> uint64(30))) * uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> uint64(27))) * uint64(0x94D049BB133111EB)
    return z ^ (z >> uint64(31))


@njit(inline="always")
def _counter_uniform(key, counter):  # pragma: no cover - compiled
    """Uniform in [0, 1) (53 bits) at position ``counter`` of the SplitMix64 stream ``key``."""
    z = _mix64(key + counter * GOLDEN)
    return (z >> uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _fill_cdf(lam, row):  # pragma: no cover - compiled
    """Poisson CDF at k = 0..3 for mean ``lam`` (the same arithmetic as the tail below)."""
    p = np.exp(-lam)
    cdf = p
    row[0] = cdf
    for k in range(1, CDF_LEN):
        p *= lam / k
        cdf += p
        row[k] = cdf


@njit(inline="always")
def _poisson_tail(u, lam, row):  # pragma: no cover - compiled
    """Continue the inversion above k = 3 with the recursion p_k = p_{k-1} * lam / k."""
    p = np.exp(-lam)
    for j in range(1, CDF_LEN):
        p *= lam / j
    cdf = row[CDF_LEN - 1]
    k = CDF_LEN - 1
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(inline="always")
def _poisson_inverse(u, lam, row):  # pragma: no cover - compiled
    """Poisson count for uniform ``u`` by inversion against the CDF table ``row``."""
    k = (u > row[0]) + (u > row[1]) + (u > row[2]) + (u > row[3])
    if k < CDF_LEN:
        return k
    return _poisson_tail(u, lam, row)


TWO_53 = 9007199254740992.0
ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(inline="always")
def _cdf_threshold(c):  # pragma: no cover - compiled
    """Threshold T on the raw 64-bit draw z with (z > T) == (uniform(z) > c), exactly.

    The uniform is m 2^-53 with m = z >> 11 (exact in float64), and c 2^53 is exact, so
    u > c <=> m > floor(c 2^53) <=> z >= (floor(c 2^53) + 1) 2^11 (c >= 0: a CDF value).
    """
    scaled = c * TWO_53
    if scaled >= TWO_53 - 1.0:
        return ALL_ONES  # m <= 2^53 - 1 never exceeds it
    return ((uint64(math.floor(scaled)) + uint64(1)) << uint64(11)) - uint64(1)


@njit(inline="always")
def _fill_thresholds(cdf_row, thr, cell):  # pragma: no cover - compiled
    for k in range(CDF_LEN):
        thr[k, cell] = _cdf_threshold(cdf_row[k])


@njit(inline="always")
def _draw_kicks(key, step, thr, ext_rate_hz, ext_cdf, dt_s, kicks):  # pragma: no cover - compiled
    """External Poisson kick counts of every cell for one step.

    Randomness is counter-based: cell i at step n uses the uniform at position n * N + i of the
    run's SplitMix64 stream. A draw is a pure function of (key, step, cell), so the loop has no
    carried state (it vectorises), and a resumed or re-chunked run draws exactly the same numbers.
    The first four CDF comparisons are branch-free integer comparisons of the raw 64-bit draw
    against ``thr[k, i]`` (:func:`_cdf_threshold`: the same counts as comparing the uniform with
    the CDF); P(count >= 4) = 1e-3 at 4.5 kHz, and that rare tail is finished in a second pass.
    """
    n = kicks.size
    base = uint64(step) * uint64(n)
    # the argument key + (base + i) * GOLDEN of draw i, kept as a running sum (the same value
    # modulo 2^64), so the vectorised loop adds instead of doing a slow 64-bit vector multiply
    ctr = key + base * GOLDEN
    # the rows as 1-d views: indexing the 2-d table inside the loop ran at half the speed
    thr0 = thr[0]
    thr1 = thr[1]
    thr2 = thr[2]
    thr3 = thr[3]
    for i in range(n):
        z = _mix64(ctr)
        ctr += GOLDEN
        kicks[i] = (z > thr0[i]) + (z > thr1[i]) + (z > thr2[i]) + (z > thr3[i])
    for i in range(n):
        if kicks[i] == CDF_LEN:
            u = _counter_uniform(key, base + uint64(i))
            kicks[i] = _poisson_tail(u, ext_rate_hz[i] * dt_s, ext_cdf[i])


@njit(cache=True)
def _thresholds(ext_cdf):  # pragma: no cover - compiled
    """Integer thresholds thr[k, i] of every cell's CDF table (see :func:`_cdf_threshold`)."""
    thr = np.empty((CDF_LEN, ext_cdf.shape[0]), dtype=np.uint64)
    for i in range(ext_cdf.shape[0]):
        _fill_thresholds(ext_cdf[i], thr, i)
    return thr


@njit(cache=True)
def fill_poisson_cdf(rate_hz, dt_s, out):  # pragma: no cover - compiled
    """Fill the per-cell CDF tables ``out[N, 4]`` for external rates ``rate_hz``."""
    for i in range(rate_hz.size):
        _fill_cdf(rate_hz[i] * dt_s, out[i])
