"""Codes, scalars and state arrays the kernels share (no compiled code)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from homeoplastic.assemblies.params import NetworkParams

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
    ca_noise_p_factor: float = 1.0  # noise amplitude above theta_p over that between the thresholds
    ca_bistable: bool = True  # the cubic term on
    ca_w_up_pf: float = 0.0  # the weight at rho = 1 (size-scaled); rho = 0 is j_ee_min_pf


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
        ca_noise_p_factor=math.sqrt(2.0) if ca.noise_form == "corrected" else 1.0,
        ca_bistable=bool(ca.bistable),
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
