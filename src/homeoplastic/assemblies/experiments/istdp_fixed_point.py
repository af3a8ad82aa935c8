"""Where inhibitory STDP stops moving a cell's rate when its inhibition and its spikes correlate.

The rule (Vogels et al. 2011; docs/models/assemblies.md, 5): an I spike moves w_ij by eta (y_j - alpha_j),
with alpha_j = 2 r0_j tau_y; an E spike moves it by eta x_i; x and y are the I and E cells' traces (time
constant tau_y). Its mean drift, eta [r_i (<y_j>_i - alpha_j) + r_j <x_i>_j], with <y_j>_i the E cell's trace
at the I cell's spikes and <x_i>_j the I cell's trace at the E cell's spikes, vanishes at

    r_j = 2 r0_j / (kappa_ij + rho_ij),
    kappa = <y_j>_i / (r_j tau_y),  rho = <x_i>_j / (r_i tau_y).

A cell's total inhibition stops moving where these drifts sum to zero over its inputs, which
averages kappa and rho over the inputs weighted by their presynaptic rates.

Uncorrelated trains give kappa = rho = 1 and r_j = r0_j. An I spike that delays its targets' next
spike lowers rho, so the cell settles *above* its target. The non-recurrent control (E->I
blocked, so kappa = 1) measures rho ~ 0.75 and settles ~15 % above its targets at every size and
speed (docs/comparison/index.md, "What the default run shows"). This module measures kappa and
rho from a run's spikes.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from homeoplastic.assemblies.connectivity import Pathway


@njit(cache=True)
def _trace_sums(steps, cells, n_exc, n_inh, decay_per_step, first_read_step,
                post_ptr, pre_idx, pre_ptr, pre_syn, pre_post):  # pragma: no cover - compiled
    """Per I->E synapse: sum of the I trace at its E cell's spikes and of the E trace at its I
    cell's spikes, over spikes at >= first_read_step. A trace read at step t holds the spikes
    of earlier steps only: all spikes of a step are read before any of them is added."""
    n_syn = pre_idx.size
    at_post = np.zeros(n_syn)
    at_pre = np.zeros(n_syn)
    x = np.zeros(n_inh)
    x_step = np.zeros(n_inh, np.int64)
    y = np.zeros(n_exc)
    y_step = np.zeros(n_exc, np.int64)
    k = 0
    while k < steps.size:
        t = steps[k]
        last = k
        while last < steps.size and steps[last] == t:
            last += 1
        if t >= first_read_step:
            for m in range(k, last):
                c = cells[m]
                if c < n_exc:
                    for s in range(post_ptr[c], post_ptr[c + 1]):
                        i = pre_idx[s]
                        at_post[s] += x[i] * decay_per_step ** (t - x_step[i])
                else:
                    for e in range(pre_ptr[c - n_exc], pre_ptr[c - n_exc + 1]):
                        j = pre_post[e]
                        at_pre[pre_syn[e]] += y[j] * decay_per_step ** (t - y_step[j])
        for m in range(k, last):
            c = cells[m]
            if c < n_exc:
                y[c] = y[c] * decay_per_step ** (t - y_step[c]) + 1.0
                y_step[c] = t
            else:
                i = c - n_exc
                x[i] = x[i] * decay_per_step ** (t - x_step[i]) + 1.0
                x_step[i] = t
        k = last
    return at_post, at_pre


def istdp_fixed_point(steps: np.ndarray, cells: np.ndarray, n_exc: int, i_to_e: Pathway,
                      targets_hz: np.ndarray, *, dt_ms: float, tau_y_ms: float,
                      start_step: int, end_step: int) -> dict[str, np.ndarray | float]:
    """kappa, rho and the fixed-point rate of every E cell from the spikes of [start, end).

    The first 5 tau_y only warm the traces up; rates and averages use the rest. Per cell, kappa
    and rho are averages over its I->E synapses with non-zero weight whose both cells spiked,
    weighted by the presynaptic rates; cells without such a synapse get NaN.
    Spikes may come in any order. Returns per-cell arrays ``kappa``, ``rho``, ``fixed_point_hz``
    and ``rate_hz`` (over the read window), and ``window_s``, that window (s).
    """
    keep = (steps >= start_step) & (steps < end_step)
    order = np.argsort(steps[keep], kind="stable")
    steps_k = np.ascontiguousarray(steps[keep][order], dtype=np.int64)
    cells_k = np.ascontiguousarray(cells[keep][order], dtype=np.int64)
    n_inh = i_to_e.pre_ptr.size - 1
    decay = math.exp(-dt_ms / tau_y_ms)
    warm = int(math.ceil(5.0 * tau_y_ms / dt_ms))
    first_read = start_step + warm
    window_s = (end_step - first_read) * dt_ms * 1e-3
    if window_s <= 0:
        raise ValueError(f"the window ({(end_step - start_step) * dt_ms} ms) must be longer "
                         f"than 5 tau_y = {5 * tau_y_ms} ms")
    pre = i_to_e.pre_idx.astype(np.int64)
    at_post, at_pre = _trace_sums(steps_k, cells_k, n_exc, n_inh,
                                  decay, first_read, i_to_e.post_ptr, pre, i_to_e.pre_ptr,
                                  i_to_e.pre_syn.astype(np.int64),
                                  i_to_e.pre_post.astype(np.int64))
    read = steps_k >= first_read
    n_spk = np.bincount(cells_k[read], minlength=n_exc + n_inh).astype(float)
    rate = n_spk / window_s
    # The mean trace of a train of rate r on the step grid, without the step's own spikes, is
    # r dt d / (1 - d) (r tau_y as dt -> 0): uncorrelated trains give kappa = rho = 1 at any dt.
    # The fixed point below takes alpha = 2 r0 times that, not 2 r0 tau_y: 0.25 % apart at the
    # engine's dt = 0.1 ms and tau_y = 20 ms.
    trace_per_hz_s = dt_ms * 1e-3 * decay / (1.0 - decay)
    post = i_to_e.post_idx
    n_post, n_pre = n_spk[post], n_spk[n_exc + pre]
    both = (n_post > 0) & (n_pre > 0)
    # The cell's total inhibition stops moving where the drifts of its synapses sum to zero:
    # sum_i r_i [r_j tau (kappa_ij + rho_ij) - 2 r0_j tau] = 0, so each synapse counts with its
    # presynaptic rate; a synapse held at zero weight does not move and does not count.
    weight = np.where(both & (i_to_e.weight_pf > 0), rate[n_exc + pre], 0.0)
    w_cell = np.bincount(post, weight, minlength=n_exc)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(both, at_post / n_post / (rate[n_exc + pre] * trace_per_hz_s), 0.0)
        kappa = np.where(both, at_pre / n_pre / (rate[post] * trace_per_hz_s), 0.0)
        rho_cell = np.bincount(post, weight * rho, minlength=n_exc) / w_cell
        kappa_cell = np.bincount(post, weight * kappa, minlength=n_exc) / w_cell
        fixed = 2.0 * np.asarray(targets_hz, float) / (kappa_cell + rho_cell)
    return {"kappa": kappa_cell, "rho": rho_cell, "fixed_point_hz": fixed,
            "rate_hz": rate[:n_exc], "window_s": window_s}
