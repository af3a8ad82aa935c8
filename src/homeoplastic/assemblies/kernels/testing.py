"""Compiled wrappers that expose kernel internals to the tests (not used by the engine)."""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from homeoplastic.assemblies.kernels.calcium import _ca_times_above, _rho_advance
from homeoplastic.assemblies.kernels.drive import (
    GOLDEN,
    _cdf_threshold,
    _counter_uniform,
    _draw_kicks,
    _fill_cdf,
    _mix64,
    _poisson_inverse,
    _thresholds,
)
from homeoplastic.assemblies.kernels.fastexp import _exp
from homeoplastic.assemblies.kernels.reductions import _ltp_flush_normalise_rows, _normalise_rows
from homeoplastic.assemblies.kernels.state import CDF_LEN
from homeoplastic.assemblies.kernels.voltage import _ltp_flush


@njit(cache=True)
def uniform_draws(key, first_counter, out):  # pragma: no cover - compiled
    """Fill ``out`` with the stream's uniforms from position ``first_counter`` (for tests)."""
    for i in range(out.size):
        out[i] = _counter_uniform(key, uint64(first_counter) + uint64(i))


@njit(cache=True)
def raw_draws(key, first_counter, out):  # pragma: no cover - compiled
    """The raw 64-bit words behind :func:`uniform_draws` (for tests)."""
    for i in range(out.size):
        out[i] = _mix64(uint64(key) + (uint64(first_counter) + uint64(i)) * GOLDEN)


@njit(cache=True)
def cdf_thresholds(cdf_values, out):  # pragma: no cover - compiled
    """:func:`_cdf_threshold` of each value (for tests)."""
    for i in range(cdf_values.size):
        out[i] = _cdf_threshold(cdf_values[i])


@njit(cache=True)
def poisson_draws(key, lam, out):  # pragma: no cover - compiled
    """Fill ``out`` with Poisson counts of mean ``lam`` from stream ``key`` (for tests)."""
    row = np.empty(CDF_LEN)
    _fill_cdf(lam, row)
    for i in range(out.size):
        out[i] = _poisson_inverse(_counter_uniform(key, uint64(i)), lam, row)


@njit(cache=True)
def calcium_times_above(c0, span_ms, k):  # pragma: no cover - compiled
    """(time above theta_p, time above theta_d) in ms, exactly as the engine computes them."""
    return _ca_times_above(c0, span_ms, k)


@njit(cache=True)
def calcium_rho_after(rho, c0, span_ms, k, key, counters, out):  # pragma: no cover - compiled
    """``out[i]``: rho after ``span_ms`` from ``rho`` and calcium ``c0``, with the noise drawn at
    ``counters[i]`` of stream ``key`` -- the engine's own update, for tests."""
    for i in range(counters.size):
        out[i] = _rho_advance(rho, c0, span_ms, k, uint64(key), uint64(counters[i]))


@njit(cache=True)
def kick_counts(key, first_step, ext_rate_hz, ext_cdf, dt_s, out):  # pragma: no cover - compiled
    """External kick counts ``out[step, cell]`` exactly as :func:`_advance` draws them (tests)."""
    kicks = np.zeros(ext_rate_hz.size, dtype=np.int64)
    thr = _thresholds(ext_cdf)
    for s in range(out.shape[0]):
        _draw_kicks(key, first_step + s, thr, ext_rate_hz, ext_cdf, dt_s, kicks)
        out[s, :] = kicks


@njit(cache=True)
def fast_exp(x, out):  # pragma: no cover - compiled
    """:func:`~.fastexp._exp` of each value (for tests)."""
    for i in range(x.size):
        out[i] = _exp(x[i])


@njit(cache=True)
def flush_and_normalise(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, e0, w_max,
                        row_target_pf, w_min, fused):  # pragma: no cover - compiled
    """The epoch-end flush of deferred LTP and the row normalisation, in place: in one pass as
    the engine does (``fused``) or as the two separate passes it replaces (for tests)."""
    if fused:
        _ltp_flush_normalise_rows(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, e0,
                                  w_max, row_target_pf, w_min)
    else:
        _ltp_flush(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, e0, w_max, weight_pf,
                   True)
        _normalise_rows(post_ptr, weight_pf, row_target_pf, w_min, w_max)
