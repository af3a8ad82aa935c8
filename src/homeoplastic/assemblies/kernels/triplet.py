"""Triplet STDP of E->E synapses (docs/models/assemblies.md, 7.1)."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def _triplet_step(cells, first, stop, n_exc, plastic, ee, rs, k):  # pragma: no cover - compiled
    """Triplet STDP for one step whose spikes are ``cells[first:stop]`` (docs/models/assemblies.md, 7.1).

    Order: (1) every trace decays by its exact one-step factor exp(-dt/tau), so traces are their
    values at this step's time from spikes of earlier steps; (2) when plastic, each E spike of cell
    j depresses its outgoing synapses, W_ij -= o1_i (A2- + A3- r2_j), clipped at J_min, and
    potentiates its incoming ones, W_jk += r1_k (A2+ + A3+ o2_j), clipped at J_max; (3) every
    spiking E cell's four traces jump by 1. All jumps come after all updates, so two spikes in the
    same step do not interact (no pair at zero lag), and each update sees the slow trace before its
    own spike's jump, as in PG2006.
    """
    r1 = rs.tri_r1
    r2 = rs.tri_r2
    o1 = rs.tri_o1
    o2 = rs.tri_o2
    f_r1 = k.tri_f_r1
    f_r2 = k.tri_f_r2
    f_o1 = k.tri_f_o1
    f_o2 = k.tri_f_o2
    for i in range(r1.size):
        r1[i] *= f_r1
        r2[i] *= f_r2
        o1[i] *= f_o1
        o2[i] *= f_o2
    if plastic:
        w_min = k.j_ee_min_pf
        w_max = k.j_ee_max_pf
        a2m = k.tri_a2_minus
        a3m = k.tri_a3_minus
        a2p = k.tri_a2_plus
        a3p = k.tri_a3_plus
        weight = ee.weight_pf
        for s_idx in range(first, stop):
            j = cells[s_idx]
            if j >= n_exc:
                continue
            # j as presynaptic cell: depression with the targets' fast post trace o1
            dep = a2m + a3m * r2[j]
            for q in range(ee.pre_ptr[j], ee.pre_ptr[j + 1]):
                syn = ee.pre_syn[q]
                w = weight[syn] - o1[ee.pre_post[q]] * dep
                if w < w_min:
                    w = w_min
                weight[syn] = w
            # j as postsynaptic cell: potentiation with the sources' fast pre trace r1
            pot = a2p + a3p * o2[j]
            for syn in range(ee.post_ptr[j], ee.post_ptr[j + 1]):
                w = weight[syn] + r1[ee.pre_idx[syn]] * pot
                if w > w_max:
                    w = w_max
                weight[syn] = w
    for s_idx in range(first, stop):
        j = cells[s_idx]
        if j < n_exc:
            r1[j] += 1.0
            r2[j] += 1.0
            o1[j] += 1.0
            o2[j] += 1.0
