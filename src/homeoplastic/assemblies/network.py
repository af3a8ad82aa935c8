"""Build the network from parameters and a seed: connectivity, assemblies, initial state.

One ``numpy.random.SeedSequence(seed)`` is split into independent streams for connectivity,
assemblies, initial conditions and the engine's own generator, so that changing one (say, the
assemblies' membership probability) leaves the others' draws unchanged.
"""

from __future__ import annotations

import numpy as np

from homeoplastic.assemblies.connectivity import (
    Pathway,
    build_pathway,
    draw_memberships,
    draw_pairs,
)
from homeoplastic.assemblies.kernels import CDF_LEN, NeuronState, fill_poisson_cdf
from homeoplastic.assemblies.params import NetworkParams

PATHWAYS = ("e_to_e", "i_to_e", "e_to_i", "i_to_i")


def seed_streams(seed: int) -> dict[str, np.random.SeedSequence]:
    """Independent child seed sequences for each random part of the model."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r} is invalid; allowed: an integer >= 0")
    children = np.random.SeedSequence(int(seed)).spawn(4)
    return dict(zip(("connectivity", "assemblies", "initial", "engine"), children, strict=True))


def scaled_weights(params: NetworkParams) -> dict[str, float]:
    """Recurrent weights and bounds after the size scaling (pF)."""
    c = params.connectivity
    s = c.weight_scale
    return {
        "e_to_e": c.j_e_to_e_pf * s,
        "i_to_e": c.j_i_to_e_pf * s,
        "e_to_i": c.j_e_to_i_pf * s,
        "i_to_i": c.j_i_to_i_pf * s,
        "e_to_e_min": c.j_e_to_e_min_pf * s,
        "e_to_e_max": c.j_e_to_e_max_pf * s,
        "i_to_e_min": c.j_i_to_e_min_pf * s,
        "i_to_e_max": c.j_i_to_e_max_pf * s,
    }


def calcium_weight_range(params: NetworkParams) -> tuple[float, float]:
    """Weights (pF, size-scaled) of a calcium-rule synapse at rho = 0 and rho = 1.

    Graupner & Brunel's UP/DOWN ratio b (``calcium.up_down_ratio``) sets W_UP = b W_DOWN with
    W_DOWN = J_min (capped at J_max), so the initial J^0 lies in the DOWN basin; b = 0 maps rho
    onto the whole E->E range [J_min, J_max] instead.
    """
    w = scaled_weights(params)
    low, high = w["e_to_e_min"], w["e_to_e_max"]
    ratio = params.calcium.up_down_ratio
    return low, (high if ratio == 0 else min(high, ratio * low))


def build_pathways(params: NetworkParams, seed: int) -> dict[str, Pathway]:
    """Draw all four pathways; every ordered pair independently, no autapses
    (docs/models/assemblies.md, 2.1)."""
    c = params.connectivity
    rng = np.random.default_rng(seed_streams(seed)["connectivity"])
    p = c.effective_p_connect
    weights = scaled_weights(params)
    sizes = {"e": c.n_exc, "i": c.n_inh}
    pathways = {}
    for name in PATHWAYS:
        pre_pop, post_pop = name[0], name[-1]
        n_pre, n_post = sizes[pre_pop], sizes[post_pop]
        pre, post = draw_pairs(rng, n_pre, n_post, p, no_autapses=pre_pop == post_pop)
        pathways[name] = build_pathway(pre, post, weights[name], n_pre, n_post)
    return pathways


def build_assemblies(params: NetworkParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Assembly membership in CSR form (group_ptr, members), E cells only (docs/models/assemblies.md, 6.1)."""
    a = params.assemblies
    rng = np.random.default_rng(seed_streams(seed)["assemblies"])
    return draw_memberships(rng, params.connectivity.n_exc, a.n_assemblies, a.p_member)


def cell_groups(n_exc: int, group_ptr: np.ndarray, members: np.ndarray, n_groups: int):
    """Invert memberships: each E cell's groups in CSR form; cells in none get ``n_groups``.

    Returns (cell_ptr int64[n_exc+1], groups int32). The extra group is "outside any assembly".
    """
    group_of_entry = np.repeat(np.arange(n_groups, dtype=np.int32), np.diff(group_ptr))
    counts = np.bincount(members, minlength=n_exc) if members.size else np.zeros(n_exc, int)
    lonely = counts == 0
    cells = np.concatenate([members, np.nonzero(lonely)[0].astype(members.dtype)])
    groups = np.concatenate([group_of_entry, np.full(lonely.sum(), n_groups, np.int32)])
    order = np.lexsort((groups, cells))
    cell_ptr = np.zeros(n_exc + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells, minlength=n_exc), out=cell_ptr[1:])
    return cell_ptr, groups[order].astype(np.int32)


def membership_patterns(cell_group_ptr: np.ndarray, cell_groups: np.ndarray, n_groups: int,
                        n_assemblies: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number the distinct sets of groups that E cells belong to (their membership patterns).

    Returns the pattern of each cell (uint32[n_cells]), the membership of each pattern
    (float 0/1 [n_patterns, n_groups]) and whether two patterns share no assembly, i.e. no group
    below ``n_assemblies`` (float 0/1 [n_patterns, n_patterns]). Cells with the same groups share a
    pattern, so one sum over synapses by (post pattern, pre pattern) holds every (pre group, post
    group) sum and the sum over pairs sharing no assembly.
    """
    n_cells = cell_group_ptr.size - 1
    ids: dict[tuple[int, ...], int] = {}
    pattern_of_cell = np.empty(n_cells, dtype=np.uint32)
    for c in range(n_cells):
        key = tuple(cell_groups[cell_group_ptr[c]:cell_group_ptr[c + 1]].tolist())
        pattern_of_cell[c] = ids.setdefault(key, len(ids))
    membership = np.zeros((len(ids), n_groups))
    for key, p in ids.items():
        membership[p, list(key)] = 1.0
    in_assembly = membership[:, :n_assemblies]
    disjoint = (in_assembly @ in_assembly.T == 0).astype(np.float64)
    return pattern_of_cell, membership, disjoint


def initial_state(params: NetworkParams, seed: int, ee: Pathway) -> NeuronState:
    """Initial conditions of the code: V uniform in [V_r, V_T0], w = a(V_r - E_L)
    (docs/models/assemblies.md, 1.1).

    The voltage filters u and v-bar start at the initial V (the code starts them at 0 mV and they
    relax within ~50 ms, long before plasticity starts; docs/models/assemblies.md, 1.4).
    """
    c = params.connectivity
    n_exc, n_inh = c.n_exc, c.n_inh
    n_all = n_exc + n_inh
    rng = np.random.default_rng(seed_streams(seed)["initial"])
    e = params.exc
    v = np.empty(n_all)
    v[:n_exc] = rng.uniform(e.v_reset_mv, e.v_thresh_rest_mv, n_exc)
    v[n_exc:] = rng.uniform(params.inh.v_reset_mv, params.inh.v_thresh_mv, n_inh)
    dt_s = params.dt_ms * 1e-3
    rate = np.empty(n_all)
    rate[:n_exc] = params.external.rate_to_e_hz
    rate[n_exc:] = params.external.rate_to_i_hz
    alpha = 2.0 * params.istdp.target_rate_hz * 1e-3 * params.istdp.tau_y_ms
    row_target = np.bincount(ee.post_idx, weights=ee.weight_pf, minlength=n_exc)
    return NeuronState(
        v_mv=v,
        ref_left=np.zeros(n_all, np.int32),
        xr_exc=np.zeros(n_all),
        xd_exc=np.zeros(n_all),
        xr_inh=np.zeros(n_all),
        xd_inh=np.zeros(n_all),
        pend_exc_pf=np.zeros(n_all),
        pend_inh_pf=np.zeros(n_all),
        y_trace=np.zeros(n_all),
        ext_rate_hz=rate,
        ext_cdf=poisson_tables(rate, dt_s),
        vth_mv=np.full(n_exc, e.v_thresh_rest_mv),
        w_adapt_pa=np.full(n_exc, e.a_adapt_ns * (e.v_reset_mv - e.e_leak_mv)),
        u_mv=v[:n_exc].copy(),
        vbar_mv=v[:n_exc].copy(),
        x_trace=np.zeros(n_exc),
        istdp_alpha=np.full(n_exc, alpha),
        ee_row_target_pf=np.ascontiguousarray(row_target, dtype=np.float64),
    )


def poisson_tables(rate_hz: np.ndarray, dt_s: float) -> np.ndarray:
    """Per-cell Poisson CDF tables of the external drive (computed by the kernel's own code)."""
    out = np.empty((rate_hz.size, CDF_LEN))
    fill_poisson_cdf(np.ascontiguousarray(rate_hz, dtype=np.float64), dt_s, out)
    return out
