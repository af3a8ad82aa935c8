"""Compiled kernels of the spiking engine. Flat arrays and scalars only; no allocation per step.

The step order (one place, :func:`_advance`), with why each phase comes where it does:

0. Stimulus events due at this step change the members' external rates (the code's
   ``t_prev < t_on <= t`` test), so the new rate drives this very step.
1. Every ``norm_steps`` (absolute steps): the deferred voltage LTP of the ending epoch is applied
   to every E->E synapse (:class:`LazyLtp`), then the rows are normalised (spec 4), before any
   cell moves, as in the code.
2. Phase 1, every cell in index order (E then I): decay the iSTDP trace; draw this step's external
   Poisson kicks; advance the rise/decay variables of the E and I conductances with the kicks and
   the recurrent input that arrived from the previous step (the one-step delay of spec 2.4); for E
   cells advance V_T, w, u, v-bar and x with the *old* V (spec 3.1.4); if not refractory take the
   Euler step of V, test for a spike and apply the resets and trace jumps. E cells that end the step
   above theta_LTP (with v-bar above theta_LTD) are listed for LTP.
3. Phase 2, every spike of this step: transmit (add its outgoing weights to the targets' pending
   input, delivered next step), then plasticity triggered by that spike: iSTDP (on E and I spikes)
   and voltage LTD (on E spikes). Transmission precedes plasticity as in the code, where a cell
   pushes its weights before its own iSTDP/LTD run.
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
(spec 3.1). Forward Euler everywhere, as in the code, except for the two rules the code does not
have: the triplet traces decay by the exact factor exp(-dt/tau) per step (so a trace is exactly
the closed-form sum of exponentials sampled on the grid), and the calcium rule is event-driven and
advances each synapse analytically between its events (:func:`_ca_event`). All spike-triggered
updates are exact hand-computable expressions, which is what the tests check.

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

import math
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, uint64
from numba.core import cgutils, types
from numba.extending import intrinsic

from homeoplastic.spiking.params import NetworkParams

STATUS_DONE = 0
STATUS_BUFFER_FULL = 1
STATUS_GUARD = 2
STATUS_NONFINITE = 3

CDF_LEN = 4

RULE_NONE = 0
RULE_VOLTAGE = 1
RULE_TRIPLET = 2
RULE_CALCIUM = 3
RULE_CODES = {"none": RULE_NONE, "voltage": RULE_VOLTAGE, "triplet": RULE_TRIPLET,
              "calcium": RULE_CALCIUM}

PHASES = ("stimulus", "normalisation", "poisson", "e_update", "i_update", "delivery",
          "ltd_istdp", "triplet_calcium", "ltp", "guard")
"""Phases of :func:`_advance` timed with the cycle counter when its ``prof`` array is non-empty."""
(PH_STIM, PH_NORM, PH_POISSON, PH_E, PH_I, PH_DELIVERY, PH_LTD_ISTDP, PH_RULE, PH_LTP,
 PH_GUARD) = range(len(PHASES))


@intrinsic
def _cycles(typingctx):  # pragma: no cover - compiled
    """The CPU's time-stamp counter (LLVM readcyclecounter; constant rate on x86)."""
    sig = types.uint64()

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return sig, codegen


@njit(inline="always")
def _tick(prof, phase, t0):  # pragma: no cover - compiled
    """Add the cycles since ``t0`` to ``prof[phase]`` and return now (no-op when disabled)."""
    if prof.size == 0:
        return t0
    t1 = _cycles()
    prof[phase] += t1 - t0
    return t1


@njit(cache=True)
def cycle_count():  # pragma: no cover - compiled
    """The time-stamp counter now (for calibrating :data:`PHASES` timings)."""
    return _cycles()


CA_NOISE_SALT = np.uint64(0x632BE59BD9B4E019)
"""Mixed into the run's key to give the calcium noise its own counter-based stream."""


class KernelConstants(NamedTuple):
    """Scalars of the model in kernel units (ms, mV, pF, nS, pA, Hz); see params.py for names."""

    n_exc: int
    n_inh: int
    dt_ms: float
    # E cells (AdEx with adaptive threshold)
    e_tau_m_ms: float
    e_c_pf: float
    e_leak_mv: float
    e_delta_t_mv: float
    e_vth_rest_mv: float
    e_vth_spike_mv: float
    e_tau_th_ms: float
    e_v_peak_mv: float
    e_v_reset_mv: float
    e_ref_steps: int
    e_a_ns: float
    e_b_pa: float
    e_tau_w_ms: float
    # I cells (LIF)
    i_tau_m_ms: float
    i_c_pf: float
    i_leak_mv: float
    i_vth_mv: float
    i_v_reset_mv: float
    i_ref_steps: int
    # synapses
    e_rev_exc_mv: float
    e_rev_inh_mv: float
    tau_rise_exc_ms: float
    tau_decay_exc_ms: float
    tau_rise_inh_ms: float
    tau_decay_inh_ms: float
    j_ext_to_e_pf: float
    j_ext_to_i_pf: float
    # voltage STDP (amplitudes already multiplied by learning speed and size scaling)
    a_ltd: float
    a_ltp: float
    theta_ltd_mv: float
    theta_ltp_mv: float
    tau_u_ms: float
    tau_v_ms: float
    tau_x_ms: float
    j_ee_min_pf: float
    j_ee_max_pf: float
    # inhibitory STDP
    tau_y_ms: float
    eta_istdp_pf: float
    j_ie_min_pf: float
    j_ie_max_pf: float
    # switches
    ee_rule: int
    istdp_on: bool
    norm_on: bool
    norm_steps: int
    plastic_start_step: int
    ee_transmission: bool
    ei_transmission: bool
    # run guard
    guard_on: bool
    guard_min_hz: float
    guard_max_hz: float
    guard_tau_ms: float
    guard_start_step: int
    # triplet STDP (amplitudes already multiplied by learning speed and size scaling); per-step
    # decay factors exp(-dt/tau) of the traces r1, r2 (pre) and o1, o2 (post)
    tri_a2_plus: float = 0.0
    tri_a3_plus: float = 0.0
    tri_a2_minus: float = 0.0
    tri_a3_minus: float = 0.0
    tri_f_r1: float = 1.0
    tri_f_r2: float = 1.0
    tri_f_o1: float = 1.0
    tri_f_o2: float = 1.0
    # calcium rule (gammas already multiplied by gamma_scale; inv_tau_rho includes learning speed)
    ca_tau_ms: float = 1.0
    ca_c_pre: float = 0.0
    ca_c_post: float = 0.0
    ca_delay_ms: float = 0.0
    ca_delay_steps: int = 0
    ca_theta_d: float = 1.0
    ca_theta_p: float = 1.0
    ca_gamma_d: float = 0.0
    ca_gamma_p: float = 0.0
    ca_sigma: float = 0.0
    ca_inv_tau_rho_per_ms: float = 0.0
    ca_rho_star: float = 0.5
    ca_noise: bool = False


class RuleState(NamedTuple):
    """State of the triplet and calcium rules (allocated for every rule; calcium sized on demand).

    tri_r1, tri_r2  float64[N_E]  presynaptic traces (tau_plus, tau_x), jump 1 per spike
    tri_o1, tri_o2  float64[N_E]  postsynaptic traces (tau_minus, tau_y), jump 1 per spike
    ca_conc         float64[S]    calcium of every E->E synapse at its last update (S = 0 unless
                                  the rule is calcium)
    ca_last_ms      float64[S]    time of that update, ms (a grid time, or a spike time + delay)
    ca_queue        int32[L, N_E] E spikes of the last L = delay_steps + 1 steps (ring by step)
    ca_queue_len    int32[L]      number of entries in each slot
    """

    tri_r1: np.ndarray
    tri_r2: np.ndarray
    tri_o1: np.ndarray
    tri_o2: np.ndarray
    ca_conc: np.ndarray
    ca_last_ms: np.ndarray
    ca_queue: np.ndarray
    ca_queue_len: np.ndarray


def calcium_delay_steps(delay_ms: float, dt_ms: float) -> int:
    """Steps after a spike at which its delayed calcium arrival is processed: ceil(D / dt)."""
    return int(math.ceil(delay_ms / dt_ms - 1e-9)) if delay_ms > 0 else 0


def new_rule_state(params: NetworkParams, n_ee_synapses: int, step: int) -> RuleState:
    """Fresh rule state at absolute ``step``: traces and calcium zero, queue empty.

    Per-synapse calcium arrays are allocated only for the calcium rule (else length 0); their
    last-update time is the current time, so rho's slow drift starts counting from now.
    """
    n_exc = params.connectivity.n_exc
    calcium = params.plasticity.ee_rule == "calcium"
    n_syn = n_ee_synapses if calcium else 0
    n_slots = calcium_delay_steps(params.calcium.delay_ms, params.dt_ms) + 1 if calcium else 0
    return RuleState(
        tri_r1=np.zeros(n_exc), tri_r2=np.zeros(n_exc),
        tri_o1=np.zeros(n_exc), tri_o2=np.zeros(n_exc),
        ca_conc=np.zeros(n_syn),
        ca_last_ms=np.full(n_syn, step * params.dt_ms),
        ca_queue=np.zeros((n_slots, n_exc if calcium else 0), dtype=np.int32),
        ca_queue_len=np.zeros(n_slots, dtype=np.int32),
    )


def rule_state_fits(state: RuleState, params: NetworkParams, n_ee_synapses: int) -> bool:
    """Whether ``state`` has the shapes the parameters' rule needs."""
    fresh = new_rule_state(params, n_ee_synapses, 0)
    return all(getattr(state, f).shape == getattr(fresh, f).shape for f in RuleState._fields)


def rule_constants(params: NetworkParams) -> dict:
    """The triplet and calcium fields of :class:`KernelConstants` (kernel units, scaled)."""
    p = params
    dt = p.dt_ms
    speed = p.plasticity.learning_speed * p.connectivity.weight_scale
    t, ca = p.triplet, p.calcium
    return dict(
        tri_a2_plus=t.a2_plus_pf * speed, tri_a3_plus=t.a3_plus_pf * speed,
        tri_a2_minus=t.a2_minus_pf * speed, tri_a3_minus=t.a3_minus_pf * speed,
        tri_f_r1=math.exp(-dt / t.tau_plus_ms), tri_f_r2=math.exp(-dt / t.tau_x_ms),
        tri_f_o1=math.exp(-dt / t.tau_minus_ms), tri_f_o2=math.exp(-dt / t.tau_y_ms),
        ca_tau_ms=ca.tau_ca_ms, ca_c_pre=ca.c_pre, ca_c_post=ca.c_post,
        ca_delay_ms=ca.delay_ms, ca_delay_steps=calcium_delay_steps(ca.delay_ms, dt),
        ca_theta_d=ca.theta_d, ca_theta_p=ca.theta_p,
        ca_gamma_d=ca.gamma_d * ca.gamma_scale, ca_gamma_p=ca.gamma_p * ca.gamma_scale,
        ca_sigma=ca.sigma,
        ca_inv_tau_rho_per_ms=p.plasticity.learning_speed / (ca.tau_rho_s * 1000.0),
        ca_rho_star=ca.rho_star, ca_noise=bool(ca.noise),
    )


class LazyLtp(NamedTuple):
    """Deferred voltage LTP of E->E synapses (exact in exact arithmetic; see :func:`_ltp_flush`).

    The LTP increment of synapse j -> i at step t is F_i(t) x_j(t): a post-cell factor times the
    presynaptic trace. Between two spikes of j, the trace only decays, x_j(t) = xi_j f^(t - e0 + 1)
    (f = 1 - dt/tau_x, e0 the epoch's first step), so the sum of increments over any stretch of
    steps is xi_j (C_i(t2) - C_i(t1)), with the per-post cumulative sum
    C_i(t) = sum_{e0 <= t' <= t} F_i(t') f^(t' - e0 + 1). Each LTP step then costs one update of
    C_i per cell above theta_LTP instead of one per incoming synapse; a synapse is brought up to
    date only when it is read: at a spike of its presynaptic cell (before transmission and LTD),
    at the end of every epoch (absolute steps that are multiples of ``norm_steps``, before the
    normalisation), and at the end of a run. The upper bound commutes with non-negative
    increments (min(min(w + a, M) + b, M) = min(w + a + b, M) for a, b >= 0), so clipping on
    catch-up equals clipping every step; only the rounding of the sums differs (~1e-15
    relative). Kernel calls inside a run do not flush, so chunking cannot change a result.

    cum    float64[N_E]            C_i at the last step it changed
    hist   float64[N_E, L + 1]     hist[i, k] = C_i(e0 + k - 1), valid for k <= last[i]
    last   int64[N_E]              last valid column of hist (C_i is constant after it)
    seg    int64[N_E]              first step not yet applied to presynaptic cell j's synapses
    xi     float64[N_E]            x_j(t) = xi_j f^(t - e0 + 1) for t >= seg[j]
    epoch  int64[1]                e0
    """

    cum: np.ndarray
    hist: np.ndarray
    last: np.ndarray
    seg: np.ndarray
    xi: np.ndarray
    epoch: np.ndarray


def new_lazy_ltp(n_exc: int, norm_steps: int, step: int) -> LazyLtp:
    """An empty deferred-LTP state whose epoch starts at absolute ``step``."""
    return LazyLtp(
        cum=np.zeros(n_exc), hist=np.zeros((n_exc, norm_steps + 1)),
        last=np.zeros(n_exc, dtype=np.int64), seg=np.full(n_exc, step, dtype=np.int64),
        xi=np.zeros(n_exc), epoch=np.array([step], dtype=np.int64),
    )


class NeuronState(NamedTuple):
    """Per-cell state; index i < n_exc is E cell i, index n_exc + k is I cell k."""

    v_mv: np.ndarray  # float64[N] membrane potential
    ref_left: np.ndarray  # int32[N] refractory steps still to hold V at reset
    xr_exc: np.ndarray  # float64[N] rise variable of the E conductance, pF
    xd_exc: np.ndarray  # float64[N] decay variable of the E conductance, pF
    xr_inh: np.ndarray  # float64[N] rise variable of the I conductance, pF
    xd_inh: np.ndarray  # float64[N] decay variable of the I conductance, pF
    pend_exc_pf: np.ndarray  # float64[N] E input arriving next step, pF
    pend_inh_pf: np.ndarray  # float64[N] I input arriving next step, pF
    y_trace: np.ndarray  # float64[N] iSTDP trace (jump 1 per spike)
    ext_rate_hz: np.ndarray  # float64[N] external Poisson rate incl. stimuli
    ext_cdf: np.ndarray  # float64[N, 4] Poisson CDF P(kicks <= k), k = 0..3, of rate*dt
    vth_mv: np.ndarray  # float64[N_E] adaptive threshold
    w_adapt_pa: np.ndarray  # float64[N_E] adaptation current
    u_mv: np.ndarray  # float64[N_E] LTD voltage filter (tau_u)
    vbar_mv: np.ndarray  # float64[N_E] LTP voltage filter (tau_v)
    x_trace: np.ndarray  # float64[N_E] presynaptic trace, 1/ms (jump 1/tau_x)
    istdp_alpha: np.ndarray  # float64[N_E] iSTDP depression offset 2*r0*tau_y per E cell
    ee_row_target_pf: np.ndarray  # float64[N_E] normalisation target sum of incoming E->E


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
    for i in range(n):
        z = _mix64(key + (base + uint64(i)) * GOLDEN)
        kicks[i] = ((z > thr[0, i]) + (z > thr[1, i]) + (z > thr[2, i])
                    + (z > thr[3, i]))
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


@njit(inline="always")
def _conductances(i, external_pf, nrn, f_re, f_de, f_ri, f_di, inv_span_e, inv_span_i):
    """Advance cell i's rise/decay variables by one Euler step with the input that arrived
    (previous step's spikes plus this step's external kicks) and return (g_E, g_I) in nS."""
    in_exc = nrn.pend_exc_pf[i] + external_pf
    in_inh = nrn.pend_inh_pf[i]
    nrn.pend_exc_pf[i] = 0.0
    nrn.pend_inh_pf[i] = 0.0
    xr_e = nrn.xr_exc[i] * f_re + in_exc
    xd_e = nrn.xd_exc[i] * f_de + in_exc
    xr_i = nrn.xr_inh[i] * f_ri + in_inh
    xd_i = nrn.xd_inh[i] * f_di + in_inh
    nrn.xr_exc[i] = xr_e
    nrn.xd_exc[i] = xd_e
    nrn.xr_inh[i] = xr_i
    nrn.xd_inh[i] = xd_i
    return (xd_e - xr_e) * inv_span_e, (xd_i - xr_i) * inv_span_i


# ---------------------------------------------------------------------------------------- triplet
@njit(cache=True)
def _triplet_step(cells, first, stop, n_exc, plastic, ee, rs, k):  # pragma: no cover - compiled
    """Triplet STDP for one step whose spikes are ``cells[first:stop]`` (spec 7.1).

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


# ---------------------------------------------------------------------------------------- calcium
RK4_STEPS_PER_TAU = 100.0
"""The cubic term is integrated with RK4 sub-steps of at most tau_rho / 100 (its rates are at most
0.5 / tau_rho, so the local error is ~(0.005)^5 / 120, far below rounding)."""


@njit(inline="always")
def _cubic_rhs(rho, rho_star, inv_tau):  # pragma: no cover - compiled
    return -inv_tau * rho * (1.0 - rho) * (rho_star - rho)


@njit(cache=True)
def _rho_cubic(rho, span_ms, rho_star, inv_tau):  # pragma: no cover - compiled
    """Advance tau d(rho)/dt = -rho (1 - rho)(rho_star - rho) by ``span_ms`` (RK4 sub-steps)."""
    if inv_tau <= 0.0 or span_ms <= 0.0:
        return rho
    n = int(math.ceil(span_ms * inv_tau * RK4_STEPS_PER_TAU))
    if n < 1:
        n = 1
    h = span_ms / n
    for _ in range(n):
        k1 = _cubic_rhs(rho, rho_star, inv_tau)
        k2 = _cubic_rhs(rho + 0.5 * h * k1, rho_star, inv_tau)
        k3 = _cubic_rhs(rho + 0.5 * h * k2, rho_star, inv_tau)
        k4 = _cubic_rhs(rho + h * k3, rho_star, inv_tau)
        rho += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return rho


@njit(cache=True)
def _rho_ou(rho, span_ms, gamma_p, gamma_d, sigma, inv_tau, z):  # pragma: no cover - compiled
    """Exact step of tau d(rho)/dt = gamma_p (1 - rho) - gamma_d rho + sigma sqrt(tau) eta.

    An Ornstein-Uhlenbeck process: rate a = (gamma_p + gamma_d) / tau, mean gamma_p /
    (gamma_p + gamma_d), increment variance sigma^2 (1 - exp(-2 a T)) / (2 (gamma_p + gamma_d))
    (sigma^2 T / tau when a = 0); ``z`` is a standard normal (0 without noise).
    """
    g = gamma_p + gamma_d
    a = g * inv_tau
    if a > 0.0:
        e = math.exp(-a * span_ms)
        mean = rho * e + (gamma_p / g) * (-math.expm1(-a * span_ms))
        var = sigma * sigma * (-math.expm1(-2.0 * a * span_ms)) / (2.0 * g)
    else:
        mean = rho
        var = sigma * sigma * inv_tau * span_ms
    return mean + math.sqrt(var) * z


@njit(cache=True)
def _rho_above(rho, span_ms, gamma_p, gamma_d, k, inv_tau, z):  # pragma: no cover - compiled
    """Strang splitting over a stretch above threshold: cubic T/2, exact OU T, cubic T/2."""
    rho = _rho_cubic(rho, 0.5 * span_ms, k.ca_rho_star, inv_tau)
    rho = _rho_ou(rho, span_ms, gamma_p, gamma_d, k.ca_sigma, inv_tau, z)
    return _rho_cubic(rho, 0.5 * span_ms, k.ca_rho_star, inv_tau)


@njit(cache=True)
def _ca_times_above(c0, span_ms, k):  # pragma: no cover - compiled
    """Time (ms) that calcium decaying from ``c0`` spends above theta_p and theta_d in ``span_ms``."""
    t_p = 0.0
    t_d = 0.0
    if c0 > k.ca_theta_d:
        t_d = min(span_ms, k.ca_tau_ms * math.log(c0 / k.ca_theta_d))
        if c0 > k.ca_theta_p:
            t_p = min(span_ms, k.ca_tau_ms * math.log(c0 / k.ca_theta_p))
    return t_p, t_d


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
def _rho_advance(rho, c0, span_ms, k, key, counter):  # pragma: no cover - compiled
    """Advance rho over ``span_ms`` during which calcium decays freely from ``c0``.

    Calcium falls monotonically, so it is above theta_p for T_p = min(span, tau_Ca ln(c0/theta_p))
    and above theta_d for T_d = min(span, tau_Ca ln(c0/theta_d)) >= T_p (closed form). Over
    [0, T_p) potentiation and depression drift act, over [T_p, T_d) depression only, each with the
    noise (exact Ornstein-Uhlenbeck steps, cubic term by Strang splitting); over [T_d, span) only
    the cubic term (RK4). The two normals of a Box-Muller pair at ``counter`` serve the two
    noisy stretches.
    """
    inv_tau = k.ca_inv_tau_rho_per_ms
    t_p, t_d = _ca_times_above(c0, span_ms, k)
    z1 = 0.0
    z2 = 0.0
    if k.ca_noise and t_d > 0.0:
        u1 = 1.0 - _counter_uniform(key, uint64(2) * counter)
        u2 = _counter_uniform(key, uint64(2) * counter + uint64(1))
        radius = math.sqrt(-2.0 * math.log(u1))
        z1 = radius * math.cos(2.0 * math.pi * u2)
        z2 = radius * math.sin(2.0 * math.pi * u2)
    if t_p > 0.0:
        rho = _rho_above(rho, t_p, k.ca_gamma_p, k.ca_gamma_d, k, inv_tau, z1)
    if t_d > t_p:
        rho = _rho_above(rho, t_d - t_p, 0.0, k.ca_gamma_d, k, inv_tau, z2)
    if span_ms > t_d:
        rho = _rho_cubic(rho, span_ms - t_d, k.ca_rho_star, inv_tau)
    return rho


@njit(cache=True)
def _ca_event(syn, t_ms, jump, weight, ca_conc, ca_last_ms, k, plastic_from_ms, key,
              counter):  # pragma: no cover - compiled
    """Bring synapse ``syn`` from its last update to ``t_ms``, then add the calcium ``jump``.

    rho is derived from the weight, rho = (W - J_min)/(J_max - J_min), advanced over the part of
    the interval after ``plastic_from_ms`` (:func:`_rho_advance`), and written back as
    W = J_min + rho (J_max - J_min) clipped to the bounds [GUESS mapping]. Between events the
    weight holds its last value; the drift accrued meanwhile is applied at the next event.
    """
    c_last = ca_conc[syn]
    t_last = ca_last_ms[syn]
    if t_ms > plastic_from_ms:
        t0 = t_last if t_last > plastic_from_ms else plastic_from_ms
        span = t_ms - t0
        if span > 0.0:
            c0 = c_last * math.exp(-(t0 - t_last) / k.ca_tau_ms) if t0 > t_last else c_last
            w_min = k.j_ee_min_pf
            w_max = k.j_ee_max_pf
            width = w_max - w_min
            rho = (weight[syn] - w_min) / width
            rho = _rho_advance(rho, c0, span, k, key, counter)
            w = w_min + rho * width
            if w < w_min:
                w = w_min
            elif w > w_max:
                w = w_max
            weight[syn] = w
    ca_conc[syn] = c_last * math.exp(-(t_ms - t_last) / k.ca_tau_ms) + jump
    ca_last_ms[syn] = t_ms


@njit(cache=True)
def _calcium_step(step, cells, first, stop, n_exc, ee, rs, k, key):  # pragma: no cover - compiled
    """Calcium rule for one step whose spikes are ``cells[first:stop]`` (spec 7.2), event-driven.

    Order, chronological within the step: (1) this step's E spikes enter the delay ring; (2) the
    presynaptic calcium of spikes from ``ca_delay_steps`` steps ago arrives at its exact time
    t_spike + D (which lies in (t - dt, t]) at every outgoing synapse; (3) this step's spikes add
    postsynaptic calcium at t to every incoming synapse. Each arrival first advances the synapse
    from its last event (:func:`_ca_event`); noise draws sit at stream position
    (2 step + kind) S + synapse (kind 0 pre, 1 post; S synapses).
    """
    n_slots = rs.ca_queue_len.size
    slot = step % n_slots
    count = 0
    for s_idx in range(first, stop):
        j = cells[s_idx]
        if j < n_exc:
            rs.ca_queue[slot, count] = j
            count += 1
    rs.ca_queue_len[slot] = count
    dt = k.dt_ms
    plastic_from_ms = k.plastic_start_step * dt
    weight = ee.weight_pf
    n_syn = uint64(weight.size)
    src = (step + 1) % n_slots  # == (step - delay_steps) mod n_slots
    t_arrive = (step - k.ca_delay_steps) * dt + k.ca_delay_ms
    base_pre = uint64(2) * uint64(step) * n_syn
    for m in range(rs.ca_queue_len[src]):
        j = rs.ca_queue[src, m]
        for q in range(ee.pre_ptr[j], ee.pre_ptr[j + 1]):
            syn = ee.pre_syn[q]
            _ca_event(syn, t_arrive, k.ca_c_pre, weight, rs.ca_conc, rs.ca_last_ms, k,
                      plastic_from_ms, key, base_pre + uint64(syn))
    rs.ca_queue_len[src] = 0
    t_now = step * dt
    base_post = base_pre + n_syn
    for s_idx in range(first, stop):
        i = cells[s_idx]
        if i < n_exc:
            for syn in range(ee.post_ptr[i], ee.post_ptr[i + 1]):
                _ca_event(syn, t_now, k.ca_c_post, weight, rs.ca_conc, rs.ca_last_ms, k,
                          plastic_from_ms, key, base_post + uint64(syn))



# ------------------------------------------------------------------------------- lazy voltage LTP
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
        c_now = cum[i]
        for s in range(start, stop):
            j = pre_idx[s]
            col = seg[j] - e0
            w = weight_pf[s]
            if col < last_i:
                w = min(w + xi[j] * (c_now - hist[i, col]), w_max)
            out[s] = w


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
        # four interleaved partial sums: a fixed summation order (bit-reproducible on every
        # machine) that breaks the add-latency chain of a plain running sum
        acc0 = 0.0
        acc1 = 0.0
        acc2 = 0.0
        acc3 = 0.0
        s = start
        while s + 4 <= stop:
            acc0 += weight_pf[s]
            acc1 += weight_pf[s + 1]
            acc2 += weight_pf[s + 2]
            acc3 += weight_pf[s + 3]
            s += 4
        while s < stop:
            acc0 += weight_pf[s]
            s += 1
        total = (acc0 + acc1) + (acc2 + acc3)
        shift = (total - row_target_pf[i]) / n_in
        for s in range(start, stop):
            weight_pf[s] = min(max(weight_pf[s] - shift, w_min), w_max)


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
    prof      uint64[P]   cycles per phase (:data:`PHASES`) are added here; size 0: no timing
    Returns (status, steps_done, n_spikes_written).
    """
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
    n_spikes = 0
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
        if lazy and step % norm_steps == 0 and lz_epoch[0] != step:
            _ltp_restart(ee.post_ptr, ee.pre_idx, ee.weight_pf, lz_cum, lz_hist, lz_last, lz_seg,
                         lz_xi, lz_epoch, x_tr, w_max_ee, step)
        if k.norm_on and step % k.norm_steps == 0:
            _normalise_rows(ee.post_ptr, ee.weight_pf, nrn.ee_row_target_pf,
                            k.j_ee_min_pf, k.j_ee_max_pf)
        tc = _tick(prof, PH_NORM, tc)
        # 2. phase 1: integrate every cell (E cells, then I cells)
        _draw_kicks(key, step, thr, ext_rate, ext_cdf, dt_s, kicks)
        tc = _tick(prof, PH_POISSON, tc)
        first_spike = n_spikes
        n_ltp = 0
        bad = False
        for i in range(n_exc):
            y_tr[i] *= f_y
            g_e, g_i = _conductances(i, kicks[i] * j_ext_e, nrn, f_re, f_de, f_ri, f_di,
                                     inv_span_e, inv_span_i)
            v_old = v[i]
            vth = vth_a[i]
            w_ad = wad_a[i]
            # threshold, adaptation and plasticity filters advance with the old V (spec 3.1, 4.4)
            vth_a[i] = vth + c_th * (vth_rest - vth)
            wad_a[i] = w_ad + c_w * (a_ns * (v_old - e_leak) - w_ad)
            u_a[i] += c_u * (v_old - u_a[i])
            vb = vbar_a[i] + c_v * (v_old - vbar_a[i])
            vbar_a[i] = vb
            x_tr[i] *= f_x
            if ref_left[i] > 0:
                ref_left[i] -= 1
                continue
            v_new = v_old + (
                c_m_e * (e_leak - v_old + delta_t * np.exp((v_old - vth) * inv_delta_t))
                + c_syn_e * (g_e * (e_rev_e - v_old) + g_i * (e_rev_i - v_old) - w_ad)
            )
            if v_new > v_peak:
                v[i] = v_reset_e
                wad_a[i] += b_pa
                vth_a[i] = vth_spike
                x_tr[i] += x_jump
                ref_left[i] = ref_e
                y_tr[i] += 1.0
                spike_step[n_spikes] = step
                spike_cell[n_spikes] = i
                n_spikes += 1
            else:
                if not (v_new == v_new):
                    bad = True
                v[i] = v_new
                if v_new > theta_ltp and vb > theta_ltd:
                    ltp_list[n_ltp] = i
                    n_ltp += 1
        tc = _tick(prof, PH_E, tc)
        for i in range(n_exc, n_all):
            y_tr[i] *= f_y
            g_e, g_i = _conductances(i, kicks[i] * j_ext_i, nrn, f_re, f_de, f_ri, f_di,
                                     inv_span_e, inv_span_i)
            if ref_left[i] > 0:
                ref_left[i] -= 1
                continue
            v_old = v[i]
            v_new = v_old + (
                c_m_i * (i_leak - v_old)
                + c_syn_i * (g_e * (e_rev_e - v_old) + g_i * (e_rev_i - v_old))
            )
            if v_new > i_vth:
                v[i] = v_reset_i
                ref_left[i] = ref_i
                y_tr[i] += 1.0
                spike_step[n_spikes] = step
                spike_cell[n_spikes] = i
                n_spikes += 1
            else:
                if not (v_new == v_new):
                    bad = True
                v[i] = v_new
        tc = _tick(prof, PH_I, tc)
        # 3. phase 2: transmission and spike-triggered plasticity
        n_exc_spikes = 0
        for s_idx in range(first_spike, n_spikes):
            cell = spike_cell[s_idx]
            if cell < n_exc:
                n_exc_spikes += 1
                j = cell
                if lazy:
                    # bring j's outgoing synapses up to date (steps seg[j] .. step - 1), then
                    # restart j's stretch with the trace that includes this spike's jump
                    # (C_i now is cum[i]: no LTP of this step yet; a row whose C_i has not
                    # changed since col_seg has nothing pending, and hist is not touched)
                    e0 = lz_epoch[0]
                    col_now = step - e0
                    col_seg = lz_seg[j] - e0
                    xi_j = lz_xi[j]
                    for q in range(ee.pre_ptr[j], ee.pre_ptr[j + 1]):
                        post = ee.pre_post[q]
                        if lz_last[post] > col_seg:
                            a = lz_cum[post] - lz_hist[post, col_seg]
                            syn = ee.pre_syn[q]
                            ee.weight_pf[syn] = min(ee.weight_pf[syn] + xi_j * a, w_max_ee)
                    lz_seg[j] = step
                    lz_xi[j] = x_tr[j] * f_inv[col_now + 1]
                if k.ee_transmission:
                    for q in range(ee.pre_ptr[j], ee.pre_ptr[j + 1]):
                        nrn.pend_exc_pf[ee.pre_post[q]] += ee.weight_pf[ee.pre_syn[q]]
                if k.ei_transmission:
                    for q in range(ei.pre_ptr[j], ei.pre_ptr[j + 1]):
                        nrn.pend_exc_pf[n_exc + ei.pre_post[q]] += ei.weight_pf[ei.pre_syn[q]]
                tc = _tick(prof, PH_DELIVERY, tc)
                if plastic:
                    if k.istdp_on:
                        # E cell j fired: potentiate its incoming I->E synapses by eta*y_pre
                        for syn in range(ie.post_ptr[j], ie.post_ptr[j + 1]):
                            w = ie.weight_pf[syn] + k.eta_istdp_pf * nrn.y_trace[n_exc + ie.pre_idx[syn]]
                            if w > k.j_ie_max_pf:
                                w = k.j_ie_max_pf
                            ie.weight_pf[syn] = w
                    if k.ee_rule == RULE_VOLTAGE:
                        # presynaptic E spike: LTD proportional to u_post above theta_LTD
                        for q in range(ee.pre_ptr[j], ee.pre_ptr[j + 1]):
                            post = ee.pre_post[q]
                            depol = nrn.u_mv[post] - k.theta_ltd_mv
                            if depol > 0.0:
                                syn = ee.pre_syn[q]
                                w = ee.weight_pf[syn] - k.a_ltd * depol
                                if w < k.j_ee_min_pf:
                                    w = k.j_ee_min_pf
                                ee.weight_pf[syn] = w
                tc = _tick(prof, PH_LTD_ISTDP, tc)
            else:
                j = cell - n_exc
                for q in range(ie.pre_ptr[j], ie.pre_ptr[j + 1]):
                    nrn.pend_inh_pf[ie.pre_post[q]] += ie.weight_pf[ie.pre_syn[q]]
                for q in range(ii.pre_ptr[j], ii.pre_ptr[j + 1]):
                    nrn.pend_inh_pf[n_exc + ii.pre_post[q]] += ii.weight_pf[ii.pre_syn[q]]
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
            _calcium_step(step, spike_cell, first_spike, n_spikes, n_exc, ee, rs, k, ca_key)
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


@njit(cache=True)
def assembly_weight_means(
    pre_idx, post_idx, weight_pf, cell_group_ptr, cell_groups, n_groups, out_sum, out_count
):  # pragma: no cover - compiled
    """Sum and count E->E weights for every (pre group, post group) pair.

    A cell in several groups counts once for each; ``cell_groups`` lists each cell's groups in
    CSR form (a cell in no assembly belongs to the "outside" group ``n_groups - 1``).
    """
    out_sum[:, :] = 0.0
    out_count[:, :] = 0
    for s in range(weight_pf.size):
        j = pre_idx[s]
        i = post_idx[s]
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


@njit(cache=True)
def kick_counts(key, first_step, ext_rate_hz, ext_cdf, dt_s, out):  # pragma: no cover - compiled
    """External kick counts ``out[step, cell]`` exactly as :func:`_advance` draws them (tests)."""
    kicks = np.zeros(ext_rate_hz.size, dtype=np.int64)
    thr = _thresholds(ext_cdf)
    for s in range(out.shape[0]):
        _draw_kicks(key, first_step + s, thr, ext_rate_hz, ext_cdf, dt_s, kicks)
        out[s, :] = kicks


@njit(cache=True)
def poisson_rule_drift(
    rule, k, ee, rs, rate_hz, key, warm_steps, window_steps, n_windows, w0_pf, dw_sum_pf,
    spike_count,
):  # pragma: no cover - compiled
    """Drive the triplet or calcium rule with Poisson spike trains (rate analysis, paper Fig. 5a).

    Every cell (all E, indices of ``rate_hz``) spikes in a step with probability rate * dt from the
    counter-based stream ``key``; the step's spikes then go through :func:`_triplet_step` or
    :func:`_calcium_step`, the engine's own code, in the engine's order. After ``warm_steps``
    (plasticity starts then: ``k.plastic_start_step``) come ``n_windows`` windows of
    ``window_steps``; each starts with every weight at ``w0_pf`` and adds its weight change to
    ``dw_sum_pf``. ``spike_count`` counts spikes in the windows.
    """
    n = rate_hz.size
    dt_s = k.dt_ms * 1e-3
    cells = np.empty(n, dtype=np.int32)
    ca_key = _mix64(key + CA_NOISE_SALT)
    weight = ee.weight_pf
    total = warm_steps + window_steps * n_windows
    for step in range(total):
        measuring = step >= warm_steps
        if measuring and (step - warm_steps) % window_steps == 0:
            if step > warm_steps:
                for s in range(weight.size):
                    dw_sum_pf[s] += weight[s] - w0_pf
            weight[:] = w0_pf
        base = uint64(step) * uint64(n)
        n_spk = 0
        for i in range(n):
            if _counter_uniform(key, base + uint64(i)) < rate_hz[i] * dt_s:
                cells[n_spk] = i
                n_spk += 1
                if measuring:
                    spike_count[i] += 1
        plastic = step >= k.plastic_start_step
        if rule == RULE_TRIPLET:
            _triplet_step(cells, 0, n_spk, n, plastic, ee, rs, k)
        elif rule == RULE_CALCIUM:
            _calcium_step(step, cells, 0, n_spk, n, ee, rs, k, ca_key)
    if n_windows > 0:
        for s in range(weight.size):
            dw_sum_pf[s] += weight[s] - w0_pf
