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
    """Shift every incoming E->E row additively back to its target sum, then clip (spec 4)."""
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
def assembly_weight_means(
    pre_idx, post_ptr, weight_pf, cell_group_ptr, cell_groups, n_groups, out_sum, out_count
):  # pragma: no cover - compiled
    """Sum and count E->E weights for every (pre group, post group) pair.

    A cell in several groups counts once for each; ``cell_groups`` lists each cell's groups in
    CSR form (a cell in no assembly belongs to the "outside" group ``n_groups - 1``). Most cells
    are in exactly one group, so that case is a single add without the two nested group loops
    (their unpredictable trip counts cost more than the add). Every (pre group, post group) sum
    still receives its synapses' weights in synapse order, so the sums are those of the nested
    loops bit for bit.
    """
    out_sum[:, :] = 0.0
    out_count[:, :] = 0
    n_cells = cell_group_ptr.size - 1
    sole = np.empty(n_cells, dtype=np.int64)  # the cell's group if it is in exactly one, else -1
    for c in range(n_cells):
        one = cell_group_ptr[c + 1] - cell_group_ptr[c] == 1
        sole[c] = cell_groups[cell_group_ptr[c]] if one else -1
    for i in range(post_ptr.size - 1):
        gb_sole = sole[i]
        if gb_sole >= 0:
            for s in range(post_ptr[i], post_ptr[i + 1]):
                j = pre_idx[s]
                w = weight_pf[s]
                ga = sole[j]
                if ga >= 0:
                    out_sum[ga, gb_sole] += w
                    out_count[ga, gb_sole] += 1
                else:
                    for a in range(cell_group_ptr[j], cell_group_ptr[j + 1]):
                        ga = cell_groups[a]
                        out_sum[ga, gb_sole] += w
                        out_count[ga, gb_sole] += 1
        else:
            for s in range(post_ptr[i], post_ptr[i + 1]):
                j = pre_idx[s]
                w = weight_pf[s]
                for a in range(cell_group_ptr[j], cell_group_ptr[j + 1]):
                    ga = cell_groups[a]
                    for b in range(cell_group_ptr[i], cell_group_ptr[i + 1]):
                        gb = cell_groups[b]
                        out_sum[ga, gb] += w
                        out_count[ga, gb] += 1


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
