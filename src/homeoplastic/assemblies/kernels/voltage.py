"""Deferred (lazy) voltage LTP of E->E synapses: see :class:`~.state.LazyLtp`."""

from __future__ import annotations

import numpy as np
from numba import njit

from homeoplastic.assemblies.kernels.state import LazyLtp


# (the state's arrays are passed one by one: fields of a tuple read inside a loop cost ~6x here)
@njit(inline="always")
def _ltp_add(hist, last, cum, i, col, inc):  # pragma: no cover - compiled
    """Add ``inc`` (= F_i(t) f^col, col = t - e0 + 1) to C_i and store it in column ``col``."""
    c = cum[i]
    for m in range(last[i] + 1, col):
        hist[i, m] = c
    c += inc
    cum[i] = c
    hist[i, col] = c
    last[i] = col


@njit(cache=True, inline="always")
def _catch_up_row(pre_row, w_row, c_now, hist_i, last_i, seg, xi, e0, w_max,
                  out_row):  # pragma: no cover - compiled
    """Row i's pending LTP into ``out_row`` (views of row i's synapses; ``hist_i`` = hist[i]): a
    synapse whose presynaptic cell's trace segment began before the row's last change gains
    xi_j (C_i now - C_i then), capped at w_max. Views indexed from 0 keep Numba's negative-index
    wraparound out of the loop."""
    for s in range(pre_row.size):
        j = pre_row[s]
        col = seg[j] - e0
        w = w_row[s]
        if col < last_i:
            w = min(w + xi[j] * (c_now - hist_i[col]), w_max)
        out_row[s] = w


@njit(cache=True)
def _ltp_flush(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, e0, w_max, out,
               same):  # pragma: no cover - compiled
    """Bring every E->E synapse up to date into ``out`` (``same``: ``out`` is ``weight_pf``).

    Rows of post cells whose C_i never changed in this epoch have nothing pending: skipped in
    place, copied unchanged otherwise.
    """
    for i in range(post_ptr.size - 1):
        start = post_ptr[i]
        stop = post_ptr[i + 1]
        last_i = last[i]
        if last_i == 0:
            if not same:
                for s in range(start, stop):
                    out[s] = weight_pf[s]
            continue
        _catch_up_row(pre_idx[start:stop], weight_pf[start:stop], cum[i], hist[i], last_i, seg,
                      xi, e0, w_max, out[start:stop])


@njit(cache=True)
def _ltp_begin(cum, hist, last, seg, xi, epoch, x_trace, step):  # pragma: no cover - compiled
    """Start an epoch at ``step`` (nothing may be pending): x_j(step - 1) = xi_j."""
    epoch[0] = step
    for j in range(cum.size):
        cum[j] = 0.0
        last[j] = 0
        hist[j, 0] = 0.0
        seg[j] = step
        xi[j] = x_trace[j]


@njit(cache=True)
def _ltp_restart(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, epoch, x_trace, w_max,
                 step):  # pragma: no cover - compiled
    _ltp_flush(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, epoch[0], w_max,
               weight_pf, True)
    _ltp_begin(cum, hist, last, seg, xi, epoch, x_trace, step)


def ltp_flush_and_restart(post_ptr: np.ndarray, pre_idx: np.ndarray, weight_pf: np.ndarray,
                          lz: LazyLtp, x_trace: np.ndarray, w_max: float, step: int) -> None:
    """Apply all deferred LTP in place and start a new epoch at ``step`` (end or start of a run)."""
    _ltp_restart(post_ptr, pre_idx, weight_pf, lz.cum, lz.hist, lz.last, lz.seg, lz.xi, lz.epoch,
                 x_trace, w_max, step)


def ltp_materialise(post_ptr: np.ndarray, pre_idx: np.ndarray, weight_pf: np.ndarray,
                    lz: LazyLtp, w_max: float, out: np.ndarray) -> None:
    """Up-to-date E->E weights into ``out`` without touching the state (recording mid-run)."""
    _ltp_flush(post_ptr, pre_idx, weight_pf, lz.cum, lz.hist, lz.last, lz.seg, lz.xi,
               int(lz.epoch[0]), w_max, out, False)
