"""Passes over whole weight arrays: row normalisation, assembly means, binned counts."""

from __future__ import annotations

import numpy as np
from numba import njit

from homeoplastic.assemblies.kernels.voltage import _catch_up_row


@njit(cache=True, inline="always")
def _shift_row_to_target(row, target_pf, w_min, w_max):  # pragma: no cover
    """Shift one row (a view of the weights) additively to sum ``target_pf``, then clip.

    Four interleaved partial sums: a fixed summation order (bit-reproducible on every machine)
    that breaks the add-latency chain of a plain running sum. The row is a view indexed from 0,
    so Numba's negative-index wraparound drops out of both loops (indexing the whole array from
    an offset ``start`` kept it in and cost ~1.7x here).
    """
    n = row.size
    acc0 = 0.0
    acc1 = 0.0
    acc2 = 0.0
    acc3 = 0.0
    s = 0
    while s + 4 <= n:
        acc0 += row[s]
        acc1 += row[s + 1]
        acc2 += row[s + 2]
        acc3 += row[s + 3]
        s += 4
    while s < n:
        acc0 += row[s]
        s += 1
    total = (acc0 + acc1) + (acc2 + acc3)
    shift = (total - target_pf) / n
    for s in range(n):
        row[s] = min(max(row[s] - shift, w_min), w_max)


@njit(cache=True)
def _normalise_rows(post_ptr, weight_pf, row_target_pf, w_min, w_max):  # pragma: no cover
    """Shift every incoming E->E row additively back to its target sum, then clip
    (docs/models/assemblies.md, 4)."""
    n_post = post_ptr.size - 1
    for i in range(n_post):
        start = post_ptr[i]
        stop = post_ptr[i + 1]
        n_in = stop - start
        if n_in == 0:
            continue
        _shift_row_to_target(weight_pf[start:stop], row_target_pf[i], w_min, w_max)


@njit(cache=True)
def _ltp_flush_normalise_rows(post_ptr, pre_idx, weight_pf, cum, hist, last, seg, xi, e0, w_max,
                              row_target_pf, w_min):  # pragma: no cover - compiled
    """The deferred-LTP flush (:func:`~.voltage._ltp_flush` in place) and :func:`_normalise_rows`
    in one pass over the weights, bit for bit the two in sequence.

    Each row is brought up to date, summed (the same four partial sums in the same order, of the
    same values) and shifted while it is in cache: the weight array is read and written once
    from memory instead of three reads and two writes.
    """
    n_post = post_ptr.size - 1
    for i in range(n_post):
        start = post_ptr[i]
        stop = post_ptr[i + 1]
        n_in = stop - start
        if n_in == 0:
            continue
        last_i = last[i]
        if last_i != 0:
            # bring the row up to date in place (rows whose C_i never changed have nothing pending)
            row = weight_pf[start:stop]
            _catch_up_row(pre_idx[start:stop], row, cum[i], hist[i], last_i, seg, xi, e0, w_max,
                          row)
        # then sum and shift it as _normalise_rows does (the row is in cache now)
        _shift_row_to_target(weight_pf[start:stop], row_target_pf[i], w_min, w_max)


@njit(cache=True)
def pattern_pair_sums(pre_idx, post_ptr, weight_pf, pattern_of_cell, out):  # pragma: no cover
    """``out[P, Q]`` = sum of the E->E weights from cells of pattern Q onto cells of pattern P.

    One branch-free pass in synapse order: a synapse's sum is chosen by its pre cell's pattern,
    where a loop over the pre cell's groups (of unpredictable length: a quarter of the cells are
    in two or more assemblies at the paper's N) mispredicted and cost ~4x the pass.
    """
    out[:, :] = 0.0
    for i in range(post_ptr.size - 1):
        row = out[pattern_of_cell[i]]
        for s in range(post_ptr[i], post_ptr[i + 1]):
            row[pattern_of_cell[pre_idx[s]]] += weight_pf[s]  # unsigned: no wraparound test


@njit(cache=True)
def expand_pattern_sums(pair_sum, membership, disjoint, group_sum):  # pragma: no cover
    """(pre group, post group) sums and the sum over pairs sharing no assembly, from
    :func:`pattern_pair_sums` ``pair_sum[P, Q]``, in a fixed order (reproducible bit for bit).

    ``membership[P, g]`` is 1.0 when pattern P holds group g, else 0.0; ``disjoint[P, Q]`` is 1.0
    when patterns P and Q share no assembly. A synapse counts once for each pair of its pre and
    post cells' groups. Products with 0/1 and adding zeros are exact, so this equals the sums of
    the selected terms; the dense inner loops vectorise where lists of groups mispredicted.
    Returns the sum over pairs sharing no assembly.
    """
    n_pat, n_groups = membership.shape
    group_sum[:, :] = 0.0
    by_pre = np.zeros(n_groups)
    between = 0.0
    for p in range(n_pat):
        by_pre[:] = 0.0
        for q in range(n_pat):
            v = pair_sum[p, q]
            between += v * disjoint[p, q]
            for a in range(n_groups):
                by_pre[a] += v * membership[q, a]
        for b in range(n_groups):
            if membership[p, b] != 0.0:
                for a in range(n_groups):
                    group_sum[a, b] += by_pre[a]
    return between


@njit(cache=True)
def row_sums(post_ptr, weight_pf, out):  # pragma: no cover - compiled
    """Sum of each post cell's incoming weights, in synapse order (``np.bincount``'s bits)."""
    for i in range(post_ptr.size - 1):
        total = 0.0
        for s in range(post_ptr[i], post_ptr[i + 1]):
            total += weight_pf[s]
        out[i] = total


@njit(cache=True)
def bin_group_counts(
    spike_step, spike_cell, first_step, bin_steps, cell_group_ptr, cell_groups, out
):  # pragma: no cover - compiled
    """Add spike counts per (time bin, group) into ``out`` for E cells (a cell counts per group)."""
    n_cells = cell_group_ptr.size - 1
    for s in range(spike_step.size):
        c = spike_cell[s]
        if c >= n_cells:
            continue
        b = (spike_step[s] - first_step) // bin_steps
        for a in range(cell_group_ptr[c], cell_group_ptr[c + 1]):
            out[b, cell_groups[a]] += 1
