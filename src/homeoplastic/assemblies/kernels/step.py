"""Compiled kernels of the spiking engine. Flat arrays and scalars only; no allocation per step.

The step order (one place, :func:`_advance`), with why each phase comes where it does:

0. Stimulus events due at this step change the members' external rates (the code's
   ``t_prev < t_on <= t`` test), so the new rate drives this very step.
1. Every ``norm_steps`` (absolute steps): the deferred voltage LTP of the ending epoch is applied
   to every E->E synapse (:class:`LazyLtp`), then the rows are normalised (docs/models/assemblies.md, 4),
   before any cell moves, as in the code.
2. Phase 1, every cell in index order (E then I): decay the iSTDP trace; draw this step's external
   Poisson kicks; advance the rise/decay variables of the E and I conductances with the kicks and
   the recurrent input that arrived from the previous step (the one-step delay, docs/models/assemblies.md,
   2.4); for E cells advance V_T, w, u, v-bar and x with the *old* V (docs/models/assemblies.md, 3.1, step
   4.4); if not refractory take the Euler step of V, test for a spike and apply the resets and trace jumps.
   Under the voltage rule, E cells that end the step above theta_LTP (with v-bar above theta_LTD) are listed
   for LTP. The cell loops are branch-free (refractoriness, spike and resets are selects; the exp is inlined,
   :mod:`.fastexp`) so that LLVM vectorises them (8 doubles a vector on AVX-512, :mod:`.vectorwidth`); the E
   update is two such passes (input and exp term, then the cell), and a cheap last pass lists the flagged
   spikes and LTP cells in index order.
3. Phase 2, every spike of this step: transmit (add its outgoing weights to the targets' pending
   input, delivered next step; :mod:`.delivery` reads them through the synapse index, or from a
   contiguous copy for a pathway no rule changes in this run), then plasticity triggered by
   that spike: iSTDP (on E and I spikes) and voltage LTD (on E spikes). Transmission precedes
   plasticity as in the code, where a cell pushes its weights before its own iSTDP/LTD run.
   Under the voltage rule an E spike's E->E synapses are caught up (deferred LTP), transmitted
   and depressed in one loop, synapse by synapse (the same result as three loops: each synapse
   is touched once).
3b. Triplet or calcium E->E rule (whichever is selected), after the transmission of all of this
   step's spikes: see :func:`_triplet_step` and :func:`_calcium_step` for their own order.
4. Voltage LTP for the listed E cells, with presynaptic traces that include this step's spikes,
   deferred: each listed cell adds one term to its cumulative factor, and a synapse receives the
   sum when it is next read (its presynaptic cell's spike in phase 2, before transmission and
   LTD; the end of the epoch; the end of the run). Exact up to the rounding of sums
   (:class:`LazyLtp`); spikes are those of applying it every step.
5. Run guard: update the smoothed E rate and stop when it leaves its band.

The authors' code interleaves phases 2-4 cell by cell, so a cell processed later in a step sees
weights changed by earlier cells; the two-phase form here differs from it only at order dt
(docs/models/assemblies.md, 3.1). Forward Euler everywhere, as in the code, except for the two rules the code
does not have: the triplet traces decay by the exact factor exp(-dt/tau) per step (so a trace is exactly the
closed-form sum of exponentials sampled on the grid), and the calcium rule is event-driven and advances each
synapse analytically between its events (:func:`_ca_event`). All spike-triggered updates are exact
hand-computable expressions, which is what the tests check.

Random numbers are counter-based: the external kick count of cell i at step n comes from the
uniform at position n * N + i of a SplitMix64 stream whose key is drawn from the seed. The whole
generator state is (key, step), so a resumed run draws exactly what an uninterrupted run would and
chunking cannot change a result. (A NumPy Generator passed into Numba cost 3.9 ns a draw here, a
sequential xoshiro256** 1.1 ns with a loop-carried dependency; the engine draws one uniform per cell
and step, 5e7 per simulated second at N = 5000.) The calcium rule's noise uses a second stream
(key mixed from the run's key) at positions given by (step, event kind, synapse), so it is just as
resume-exact.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from homeoplastic.assemblies.kernels.calcium import _calcium_step, calcium_scratch
from homeoplastic.assemblies.kernels.delivery import _deliver_copy, _prefetch_ahead, _prefetch_head
from homeoplastic.assemblies.kernels.drive import (
    _draw_kicks,
    _fill_cdf,
    _fill_thresholds,
    _mix64,
    _thresholds,
)
from homeoplastic.assemblies.kernels.fastexp import _exp
from homeoplastic.assemblies.kernels.profile import (
    PH_DELIVERY,
    PH_E,
    PH_GUARD,
    PH_I,
    PH_LTD_ISTDP,
    PH_LTP,
    PH_NORM,
    PH_POISSON,
    PH_RULE,
    PH_STIM,
    _cycles,
    _tick,
)
from homeoplastic.assemblies.kernels.reductions import _ltp_flush_normalise_rows, _normalise_rows
from homeoplastic.assemblies.kernels.state import (
    CA_NOISE_SALT,
    RULE_CALCIUM,
    RULE_TRIPLET,
    RULE_VOLTAGE,
    STATUS_BUFFER_FULL,
    STATUS_DONE,
    STATUS_GUARD,
    STATUS_NONFINITE,
)
from homeoplastic.assemblies.kernels.triplet import _triplet_step
from homeoplastic.assemblies.kernels.vectorwidth import _prefer_wide_vectors
from homeoplastic.assemblies.kernels.voltage import _ltp_add, _ltp_begin, _ltp_restart


@njit(inline="always")
def _conductances(i, external_pf, pend_exc, pend_inh, xr_exc, xd_exc, xr_inh, xd_inh, f_re, f_de,
                  f_ri, f_di, inv_span_e, inv_span_i):
    """Advance cell i's rise/decay variables by one Euler step with the input that arrived
    (previous step's spikes plus this step's external kicks) and return (g_E, g_I) in nS."""
    in_exc = pend_exc[i] + external_pf
    in_inh = pend_inh[i]
    pend_exc[i] = 0.0
    pend_inh[i] = 0.0
    xr_e = xr_exc[i] * f_re + in_exc
    xd_e = xd_exc[i] * f_de + in_exc
    xr_i = xr_inh[i] * f_ri + in_inh
    xd_i = xd_inh[i] * f_di + in_inh
    xr_exc[i] = xr_e
    xd_exc[i] = xd_e
    xr_inh[i] = xr_i
    xd_inh[i] = xd_i
    return (xd_e - xr_e) * inv_span_e, (xd_i - xr_i) * inv_span_i


@njit(cache=True)
def _advance(
    n_steps,
    k,
    nrn,
    ee,
    ie,
    ei,
    ii,
    ev_step,
    ev_group,
    ev_rate_hz,
    grp_ptr,
    grp_members,
    clock,
    rng_key,
    guard,
    spike_step,
    spike_cell,
    ltp_list,
    kicks,
    rs,
    lz,
    dcopy,
    prof,
):  # pragma: no cover - compiled
    """Advance the network by up to ``n_steps`` steps.

    clock     int64[2]    [absolute step, index of the next stimulus event]
    rng_key   uint64[1]   key of the run's counter-based random stream
    kicks     int64[N]    scratch
    guard     float64[1]  smoothed E rate, Hz
    spike_*   out buffers; spikes are appended from index 0
    ltp_list  int32[N_E]  scratch
    rs        RuleState   traces of the triplet rule, per-synapse state of the calcium rule
    lz        LazyLtp     deferred voltage LTP (weights of E->E are brought up to date when read)
    dcopy     DeliveryCopies  presynaptic-order weights of the pathways frozen in this run
    prof      uint64[P]   cycles per phase (:data:`PHASES`) are added here; size 0: no timing
    Returns (status, steps_done, n_spikes_written).
    """
    _prefer_wide_vectors()  # 8 doubles per vector where the CPU has AVX-512 (same bits)
    n_exc = k.n_exc
    n_all = n_exc + k.n_inh
    dt = k.dt_ms
    dt_s = dt * 1e-3
    # Euler factors
    f_re = 1.0 - dt / k.tau_rise_exc_ms
    f_de = 1.0 - dt / k.tau_decay_exc_ms
    f_ri = 1.0 - dt / k.tau_rise_inh_ms
    f_di = 1.0 - dt / k.tau_decay_inh_ms
    f_y = 1.0 - dt / k.tau_y_ms
    f_x = 1.0 - dt / k.tau_x_ms
    inv_span_e = 1.0 / (k.tau_decay_exc_ms - k.tau_rise_exc_ms)
    inv_span_i = 1.0 / (k.tau_decay_inh_ms - k.tau_rise_inh_ms)
    x_jump = 1.0 / k.tau_x_ms
    guard_decay = dt / k.guard_tau_ms
    key = rng_key[0]
    ca_key = _mix64(key + CA_NOISE_SALT)
    ca_scratch = calcium_scratch(ee.pre_ptr, k.ee_rule == RULE_CALCIUM)
    v = nrn.v_mv
    ref_left = nrn.ref_left
    y_tr = nrn.y_trace
    ext_rate = nrn.ext_rate_hz
    ext_cdf = nrn.ext_cdf
    vth_a = nrn.vth_mv
    wad_a = nrn.w_adapt_pa
    u_a = nrn.u_mv
    vbar_a = nrn.vbar_mv
    x_tr = nrn.x_trace
    j_ext_e = k.j_ext_to_e_pf
    j_ext_i = k.j_ext_to_i_pf
    # Euler coefficients (dt/tau), computed once so the cell loops only multiply
    c_th = dt / k.e_tau_th_ms
    c_w = dt / k.e_tau_w_ms
    c_u = dt / k.tau_u_ms
    c_v = dt / k.tau_v_ms
    c_m_e = dt / k.e_tau_m_ms
    c_syn_e = dt / k.e_c_pf
    c_m_i = dt / k.i_tau_m_ms
    c_syn_i = dt / k.i_c_pf
    vth_rest = k.e_vth_rest_mv
    vth_spike = k.e_vth_spike_mv
    a_ns = k.e_a_ns
    b_pa = k.e_b_pa
    e_leak = k.e_leak_mv
    i_leak = k.i_leak_mv
    delta_t = k.e_delta_t_mv
    inv_delta_t = 1.0 / k.e_delta_t_mv
    e_rev_e = k.e_rev_exc_mv
    e_rev_i = k.e_rev_inh_mv
    v_peak = k.e_v_peak_mv
    v_reset_e = k.e_v_reset_mv
    v_reset_i = k.i_v_reset_mv
    i_vth = k.i_vth_mv
    ref_e = k.e_ref_steps
    ref_i = k.i_ref_steps
    theta_ltp = k.theta_ltp_mv
    theta_ltd = k.theta_ltd_mv
    lazy = k.ee_rule == RULE_VOLTAGE
    norm_steps = k.norm_steps
    # f^m and f^-m, m = 0..norm_steps + 1, for the deferred LTP (f = 1 - dt/tau_x, as x decays)
    f_pow = np.empty(norm_steps + 2)
    f_inv = np.empty(norm_steps + 2)
    f_pow[0] = 1.0
    f_inv[0] = 1.0
    for m in range(1, norm_steps + 2):
        f_pow[m] = f_pow[m - 1] * f_x
        f_inv[m] = f_inv[m - 1] / f_x
    w_max_ee = k.j_ee_max_pf
    lz_cum = lz.cum
    lz_hist = lz.hist
    lz_last = lz.last
    lz_seg = lz.seg
    lz_xi = lz.xi
    lz_epoch = lz.epoch
    thr = _thresholds(ext_cdf)
    flag = np.zeros(n_all, dtype=np.int8)
    # the E cells' flags (1 spike, 2 listed for deferred LTP: only under the voltage rule), padded
    # with zeros to whole 64-bit words so that the listing can skip 8 zero flags at once
    n_flag_words = (n_exc + 7) // 8
    flag_e = np.zeros(8 * n_flag_words, dtype=np.int8)
    flag_words = flag_e.view(np.uint64)
    # scratch of the E update's first pass: g_E, g_I (nS) and exp((V - V_T) / Delta_T)
    g_exc = np.empty(n_exc)
    g_inh = np.empty(n_exc)
    exp_term = np.empty(n_exc)
    pend_exc = nrn.pend_exc_pf
    pend_inh = nrn.pend_inh_pf
    xr_exc = nrn.xr_exc
    xd_exc = nrn.xd_exc
    xr_inh = nrn.xr_inh
    xd_inh = nrn.xd_inh
    # views of the I cells' state, indexed from 0 (see the I loop)
    n_inh = n_all - n_exc
    v_i = v[n_exc:]
    ref_i_a = ref_left[n_exc:]
    y_i = y_tr[n_exc:]
    kicks_i = kicks[n_exc:]
    flag_i = flag[n_exc:]
    pend_exc_i = pend_exc[n_exc:]
    pend_inh_i = pend_inh[n_exc:]
    xr_exc_i = xr_exc[n_exc:]
    xd_exc_i = xd_exc[n_exc:]
    xr_inh_i = xr_inh[n_exc:]
    xd_inh_i = xd_inh[n_exc:]
    n_spikes = np.int64(0)  # typed, not Literal[int](0): a literal would compile each callee
                            # once per literal signature (3x for the rule steps)
    capacity = spike_step.size
    status = STATUS_DONE
    done = 0
    for _ in range(n_steps):
        if capacity - n_spikes < n_all:
            status = STATUS_BUFFER_FULL
            break
        step = clock[0]
        tc = _cycles() if prof.size else uint64(0)
        # 0. stimulus events due now
        e_ptr = clock[1]
        while e_ptr < ev_step.size and ev_step[e_ptr] <= step:
            g = ev_group[e_ptr]
            delta = ev_rate_hz[e_ptr]
            for m in range(grp_ptr[g], grp_ptr[g + 1]):
                cell = grp_members[m]
                rate = nrn.ext_rate_hz[cell] + delta
                if rate < 0.0:
                    rate = 0.0
                nrn.ext_rate_hz[cell] = rate
                _fill_cdf(rate * dt_s, nrn.ext_cdf[cell])
                _fill_thresholds(nrn.ext_cdf[cell], thr, cell)
            e_ptr += 1
        clock[1] = e_ptr
        tc = _tick(prof, PH_STIM, tc)
        plastic = step >= k.plastic_start_step
        # 1. end of a deferred-LTP epoch (every norm_steps, normalisation or not), normalisation
        if step % norm_steps == 0:
            pending = lazy and lz_epoch[0] != step
            if pending and k.norm_on:
                # the flush and the normalisation in one pass (bit for bit the two in turn)
                _ltp_flush_normalise_rows(ee.post_ptr, ee.pre_idx, ee.weight_pf, lz_cum, lz_hist,
                                          lz_last, lz_seg, lz_xi, lz_epoch[0], w_max_ee,
                                          nrn.ee_row_target_pf, k.j_ee_min_pf)
                _ltp_begin(lz_cum, lz_hist, lz_last, lz_seg, lz_xi, lz_epoch, x_tr, step)
            elif pending:
                _ltp_restart(ee.post_ptr, ee.pre_idx, ee.weight_pf, lz_cum, lz_hist, lz_last,
                             lz_seg, lz_xi, lz_epoch, x_tr, w_max_ee, step)
            elif k.norm_on:
                _normalise_rows(ee.post_ptr, ee.weight_pf, nrn.ee_row_target_pf,
                                k.j_ee_min_pf, k.j_ee_max_pf)
        tc = _tick(prof, PH_NORM, tc)
        # 2. phase 1: integrate every cell (E cells, then I cells)
        _draw_kicks(key, step, thr, ext_rate, ext_cdf, dt_s, kicks)
        tc = _tick(prof, PH_POISSON, tc)
        first_spike = n_spikes
        n_ltp = 0
        # E cells in two branch-free passes (refractoriness, spike and resets are selects, so
        # LLVM vectorises both; the same arithmetic as one loop branching on them). The single
        # loop over all 16 E arrays was at LLVM's limit of runtime alias checks (one more array
        # and it stayed scalar) and held its long exp chain in one iteration; each pass has 12.
        # Pass 1: synaptic input and the AdEx exponential term, from the old V and V_T.
        for i in range(n_exc):
            g_e, g_i = _conductances(i, kicks[i] * j_ext_e, pend_exc, pend_inh, xr_exc, xd_exc,
                                     xr_inh, xd_inh, f_re, f_de, f_ri, f_di, inv_span_e,
                                     inv_span_i)
            g_exc[i] = g_e
            g_inh[i] = g_i
            exp_term[i] = _exp((v[i] - vth_a[i]) * inv_delta_t)
        # Pass 2: the cell: flag 1 = spike, 2 = listed for LTP
        nan_seen = False
        for i in range(n_exc):
            y = y_tr[i] * f_y
            g_e = g_exc[i]
            g_i = g_inh[i]
            v_old = v[i]
            vth = vth_a[i]
            w_ad = wad_a[i]
            # threshold, adaptation and plasticity filters advance with the old V (docs/models/assemblies.md,
            # 3.1, step 4.4)
            vth_n = vth + c_th * (vth_rest - vth)
            wad_n = w_ad + c_w * (a_ns * (v_old - e_leak) - w_ad)
            u_a[i] += c_u * (v_old - u_a[i])
            vb = vbar_a[i] + c_v * (v_old - vbar_a[i])
            vbar_a[i] = vb
            x = x_tr[i] * f_x
            v_new = v_old + (
                c_m_e * (e_leak - v_old + delta_t * exp_term[i])
                + c_syn_e * (g_e * (e_rev_e - v_old) + g_i * (e_rev_i - v_old) - w_ad)
            )
            ref = ref_left[i]
            free = ref <= 0
            spike = free & (v_new > v_peak)
            stay = free ^ spike  # free and no spike (a NaN V stays, and is caught below)
            v[i] = v_reset_e if spike else (v_new if stay else v_old)
            wad_a[i] = wad_n + b_pa if spike else wad_n
            vth_a[i] = vth_spike if spike else vth_n
            x_tr[i] = x + x_jump if spike else x
            y_tr[i] = y + 1.0 if spike else y
            ref_left[i] = ref_e if spike else (ref - 1 if ref > 0 else ref)
            nan_seen |= stay & (v_new != v_new)
            flag_e[i] = spike + 2 * (lazy & stay & (v_new > theta_ltp) & (vb > theta_ltd))
        # list the flagged cells in index order, 8 flags (one word) at a time: most are zero
        for wi in range(n_flag_words):
            if flag_words[wi] != 0:
                for i in range(8 * wi, 8 * wi + 8):
                    f = flag_e[i]
                    if f == 1:
                        spike_step[n_spikes] = step
                        spike_cell[n_spikes] = i
                        n_spikes += 1
                    elif f == 2:
                        ltp_list[n_ltp] = i
                        n_ltp += 1
        tc = _tick(prof, PH_E, tc)
        # I cells, branch-free in the same way: flag 1 = spike. The loop runs over views of
        # the I cells indexed from 0 (views made once, above), which keeps Numba's
        # negative-index wraparound out of it (indexing from n_exc cost ~6x the time per cell
        # here)
        for r in range(n_inh):
            y = y_i[r] * f_y
            g_e, g_i = _conductances(r, kicks_i[r] * j_ext_i, pend_exc_i, pend_inh_i, xr_exc_i,
                                     xd_exc_i, xr_inh_i, xd_inh_i, f_re, f_de, f_ri, f_di,
                                     inv_span_e, inv_span_i)
            ref = ref_i_a[r]
            v_old = v_i[r]
            v_new = v_old + (
                c_m_i * (i_leak - v_old)
                + c_syn_i * (g_e * (e_rev_e - v_old) + g_i * (e_rev_i - v_old))
            )
            free = ref <= 0
            spike = free & (v_new > i_vth)
            stay = free ^ spike
            v_i[r] = v_reset_i if spike else (v_new if stay else v_old)
            ref_i_a[r] = ref_i if spike else (ref - 1 if ref > 0 else ref)
            y_i[r] = y + 1.0 if spike else y
            nan_seen |= stay & (v_new != v_new)
            flag_i[r] = spike
        for r in range(n_inh):
            if flag_i[r]:
                spike_step[n_spikes] = step
                spike_cell[n_spikes] = n_exc + r
                n_spikes += 1
        bad = nan_seen
        tc = _tick(prof, PH_I, tc)
        # 3. phase 2: transmission and spike-triggered plasticity
        n_exc_spikes = 0
        for s_idx in range(first_spike, n_spikes):
            cell = spike_cell[s_idx]
            if cell < n_exc:
                n_exc_spikes += 1
                j = cell
                if lazy:
                    # one pass over j's outgoing E->E synapses, per synapse in the order of the
                    # step: (a) bring it up to date (steps seg[j] .. step - 1; C_i now is cum[i]:
                    # no LTP of this step yet; a row whose C_i has not changed since col_seg has
                    # nothing pending, and hist is not touched), (b) transmit it, (c) voltage LTD
                    # proportional to u_post above theta_LTD. Each synapse of j is touched once
                    # and nothing else in phase 2 reads E->E weights or the E cells' pending
                    # input, so this equals the three loops in turn bit for bit.
                    e0 = lz_epoch[0]
                    col_now = step - e0
                    col_seg = lz_seg[j] - e0
                    xi_j = lz_xi[j]
                    ltd = plastic
                    q0 = ee.pre_ptr[j]
                    q1 = ee.pre_ptr[j + 1]
                    _prefetch_head(q0, q1, ee.pre_syn, ee.weight_pf)
                    for q in range(q0, q1):
                        _prefetch_ahead(q, q1, ee.pre_syn, ee.weight_pf)
                        post = ee.pre_post[q]
                        syn = ee.pre_syn[q]
                        w = ee.weight_pf[syn]
                        if lz_last[post] > col_seg:
                            w = min(w + xi_j * (lz_cum[post] - lz_hist[post, col_seg]), w_max_ee)
                        if k.ee_transmission:
                            nrn.pend_exc_pf[post] += w
                        if ltd:
                            depol = nrn.u_mv[post] - k.theta_ltd_mv
                            if depol > 0.0:
                                w = w - k.a_ltd * depol
                                if w < k.j_ee_min_pf:
                                    w = k.j_ee_min_pf
                        ee.weight_pf[syn] = w
                    # restart j's stretch with the trace that includes this spike's jump
                    lz_seg[j] = step
                    lz_xi[j] = x_tr[j] * f_inv[col_now + 1]
                elif k.ee_transmission:
                    _deliver_copy(ee.pre_ptr[j], ee.pre_ptr[j + 1], ee.pre_syn, ee.pre_post,
                                  ee.weight_pf, dcopy.ee, pend_exc, 0)
                if k.ei_transmission:
                    _deliver_copy(ei.pre_ptr[j], ei.pre_ptr[j + 1], ei.pre_syn, ei.pre_post,
                                  ei.weight_pf, dcopy.ei, pend_exc, n_exc)
                tc = _tick(prof, PH_DELIVERY, tc)
                if plastic and k.istdp_on:
                    # E cell j fired: potentiate its incoming I->E synapses by eta*y_pre
                    for syn in range(ie.post_ptr[j], ie.post_ptr[j + 1]):
                        w = ie.weight_pf[syn] + k.eta_istdp_pf * nrn.y_trace[n_exc + ie.pre_idx[syn]]
                        if w > k.j_ie_max_pf:
                            w = k.j_ie_max_pf
                        ie.weight_pf[syn] = w
                tc = _tick(prof, PH_LTD_ISTDP, tc)
            else:
                j = cell - n_exc
                _deliver_copy(ie.pre_ptr[j], ie.pre_ptr[j + 1], ie.pre_syn, ie.pre_post,
                              ie.weight_pf, dcopy.ie, pend_inh, 0)
                _deliver_copy(ii.pre_ptr[j], ii.pre_ptr[j + 1], ii.pre_syn, ii.pre_post,
                              ii.weight_pf, dcopy.ii, pend_inh, n_exc)
                tc = _tick(prof, PH_DELIVERY, tc)
                if plastic and k.istdp_on:
                    # I cell j fired: w += eta*(y_post - alpha_post), clipped to the bounds
                    for q in range(ie.pre_ptr[j], ie.pre_ptr[j + 1]):
                        post = ie.pre_post[q]
                        syn = ie.pre_syn[q]
                        w = ie.weight_pf[syn] + k.eta_istdp_pf * (
                            nrn.y_trace[post] - nrn.istdp_alpha[post]
                        )
                        if w < k.j_ie_min_pf:
                            w = k.j_ie_min_pf
                        elif w > k.j_ie_max_pf:
                            w = k.j_ie_max_pf
                        ie.weight_pf[syn] = w
                tc = _tick(prof, PH_LTD_ISTDP, tc)
        # 3b. triplet / calcium E->E rule, after all of this step's transmission
        if k.ee_rule == RULE_TRIPLET:
            _triplet_step(spike_cell, first_spike, n_spikes, n_exc, plastic, ee, rs, k)
        elif k.ee_rule == RULE_CALCIUM:
            _calcium_step(step, spike_cell, first_spike, n_spikes, n_exc, ee, rs, k, ca_key,
                          ca_scratch)
        tc = _tick(prof, PH_RULE, tc)
        # 4. voltage LTP for cells above theta_LTP
        # (deferred: one term of C_i per listed cell; see LazyLtp)
        if plastic and lazy:
            col = step - lz_epoch[0] + 1
            for n in range(n_ltp):
                i = ltp_list[n]
                factor = dt * k.a_ltp * (v[i] - k.theta_ltp_mv) * (nrn.vbar_mv[i] - k.theta_ltd_mv)
                _ltp_add(lz_hist, lz_last, lz_cum, i, col, factor * f_pow[col])
        tc = _tick(prof, PH_LTP, tc)
        clock[0] = step + 1
        done += 1
        if bad:
            status = STATUS_NONFINITE
            break
        # 5. run guard on the smoothed E rate
        if k.guard_on:
            inst = n_exc_spikes / (n_exc * dt_s) if n_exc > 0 else 0.0
            guard[0] += guard_decay * (inst - guard[0])
            if step >= k.guard_start_step and (
                guard[0] > k.guard_max_hz or guard[0] < k.guard_min_hz
            ):
                status = STATUS_GUARD
                break
        _tick(prof, PH_GUARD, tc)
    return status, done, n_spikes
