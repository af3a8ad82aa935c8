"""The calcium-based E->E rule, event-driven and analytic between events (docs/models/assemblies.md, 7.2)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from homeoplastic.assemblies.kernels.drive import _counter_uniform

RK4_STEPS_PER_TAU = 100.0
"""The cubic term is integrated with RK4 sub-steps of at most tau_rho / 100 (its rates are at most
0.5 / tau_rho, so the local error is ~(0.005)^5 / 120, far below rounding)."""


@njit(inline="always")
def _cubic_rhs(rho, rho_star, inv_tau):  # pragma: no cover - compiled
    return -inv_tau * rho * (1.0 - rho) * (rho_star - rho)


@njit(cache=True, inline="always")
def _rho_cubic_half(rho, span_ms, inv_tau):  # pragma: no cover - compiled
    """Exact solution of tau d(rho)/dt = -rho (1 - rho)(1/2 - rho) over ``span_ms``.

    With u = rho - 1/2 the equation reads tau du/dt = u (1/4 - u^2), so v = u^2 obeys the logistic
    equation dv/dt = v (1 - 4 v) / (2 tau) (carrying capacity 1/4) and u keeps its sign:
    v(T) = v0 / (4 v0 + (1 - 4 v0) exp(-T / (2 tau))). The calcium rule's default rho* = 1/2
    (Graupner & Brunel) takes this path: one exp instead of RK4 sub-steps of tau / 100, which
    the paper's tau_rho of a few seconds would make the rule's largest cost.
    """
    u = rho - 0.5
    v0 = u * u
    if v0 == 0.0:
        return rho
    e = math.exp(-0.5 * inv_tau * span_ms)
    root = math.sqrt(0.25 * v0 / (0.25 * e + v0 * (1.0 - e)))
    return 0.5 + root if u > 0.0 else 0.5 - root


@njit(cache=True, inline="always")
def _rho_cubic(rho, span_ms, rho_star, inv_tau):  # pragma: no cover - compiled
    """Advance tau d(rho)/dt = -rho (1 - rho)(rho_star - rho) by ``span_ms`` (RK4 sub-steps)."""
    if inv_tau <= 0.0 or span_ms <= 0.0:
        return rho
    if rho_star == 0.5:
        return _rho_cubic_half(rho, span_ms, inv_tau)
    n = int(math.ceil(span_ms * inv_tau * RK4_STEPS_PER_TAU))
    if n < 1:
        n = 1
    h = span_ms if n == 1 else span_ms / n  # (x / 1 is x: the division skipped, same bits)
    for _ in range(n):
        k1 = _cubic_rhs(rho, rho_star, inv_tau)
        k2 = _cubic_rhs(rho + 0.5 * h * k1, rho_star, inv_tau)
        k3 = _cubic_rhs(rho + 0.5 * h * k2, rho_star, inv_tau)
        k4 = _cubic_rhs(rho + h * k3, rho_star, inv_tau)
        rho += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return rho


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def _rho_above(rho, span_ms, gamma_p, gamma_d, sigma, k, inv_tau, z):  # pragma: no cover - compiled
    """Strang splitting over a stretch above threshold: cubic T/2, exact OU T, cubic T/2 (the OU
    step alone, exact, without the cubic term)."""
    if k.ca_bistable:
        rho = _rho_cubic(rho, 0.5 * span_ms, k.ca_rho_star, inv_tau)
    rho = _rho_ou(rho, span_ms, gamma_p, gamma_d, sigma, inv_tau, z)
    if k.ca_bistable:
        rho = _rho_cubic(rho, 0.5 * span_ms, k.ca_rho_star, inv_tau)
    return rho


@njit(cache=True, inline="always")
def _ca_times_above(c0, span_ms, k):  # pragma: no cover - compiled
    """Time (ms) that calcium decaying from ``c0`` spends above theta_p and theta_d in ``span_ms``."""
    t_p = 0.0
    t_d = 0.0
    if c0 > k.ca_theta_d:
        t_d = min(span_ms, k.ca_tau_ms * math.log(c0 / k.ca_theta_d))
        if c0 > k.ca_theta_p:
            t_p = min(span_ms, k.ca_tau_ms * math.log(c0 / k.ca_theta_p))
    return t_p, t_d


@njit(cache=True, inline="always")
def _rho_advance(rho, c0, span_ms, k, key, counter):  # pragma: no cover - compiled
    """Advance rho over ``span_ms`` during which calcium decays freely from ``c0``.

    Calcium falls monotonically, so it is above theta_p for T_p = min(span, tau_Ca ln(c0/theta_p))
    and above theta_d for T_d = min(span, tau_Ca ln(c0/theta_d)) >= T_p (closed form). Over
    [0, T_p) potentiation and depression drift act, over [T_p, T_d) depression only, each with the
    noise (exact Ornstein-Uhlenbeck steps, cubic term by Strang splitting); over [T_d, span) only
    the cubic term (RK4). The two normals of a Box-Muller pair at ``counter`` serve the two
    noisy stretches. The corrected noise form scales the noise over [0, T_p) by sqrt(2)
    (``ca_noise_p_factor``; exactly 1 in the paper's form); without bistability the cubic term is
    skipped, and below theta_d rho stands still.
    """
    inv_tau = k.ca_inv_tau_rho_per_ms
    t_p, t_d = _ca_times_above(c0, span_ms, k)
    z1 = 0.0
    z2 = 0.0
    if k.ca_noise and t_d > 0.0:
        u1 = 1.0 - _counter_uniform(key, uint64(2) * counter)
        u2 = _counter_uniform(key, uint64(2) * counter + uint64(1))
        radius = math.sqrt(-2.0 * math.log(u1))
        # each normal only where its stretch exists (the values are the same either way)
        if t_p > 0.0:
            z1 = radius * math.cos(2.0 * math.pi * u2)
        if t_d > t_p:
            z2 = radius * math.sin(2.0 * math.pi * u2)
    if t_p > 0.0:
        rho = _rho_above(rho, t_p, k.ca_gamma_p, k.ca_gamma_d, k.ca_sigma * k.ca_noise_p_factor,
                         k, inv_tau, z1)
    if t_d > t_p:
        rho = _rho_above(rho, t_d - t_p, 0.0, k.ca_gamma_d, k.ca_sigma, k, inv_tau, z2)
    if span_ms > t_d and k.ca_bistable:
        rho = _rho_cubic(rho, span_ms - t_d, k.ca_rho_star, inv_tau)
    return rho


@njit(cache=True, inline="always")
def _ca_event(syn, t_ms, jump, weight, ca_conc, ca_last_ms, k, plastic_from_ms, key,
              counter):  # pragma: no cover - compiled
    """Bring synapse ``syn`` from its last update to ``t_ms``, then add the calcium ``jump``.

    rho is derived from the weight, rho = (W - W_DOWN)/(W_UP - W_DOWN) with W_DOWN = J_min and
    W_UP = ``ca_w_up_pf`` (Graupner & Brunel's UP/DOWN ratio times J_min), advanced over the part
    of the interval after ``plastic_from_ms`` (:func:`_rho_advance`), and written back as
    W = W_DOWN + rho (W_UP - W_DOWN) clipped to [W_DOWN, W_UP]. Between events the
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
            w_max = k.ca_w_up_pf
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
def calcium_scratch(pre_ptr, is_calcium):  # pragma: no cover - compiled
    """Scratch for :func:`_calcium_step`: float64[3, largest out-degree] (empty unless calcium)."""
    m = 0
    if is_calcium:
        for j in range(pre_ptr.size - 1):
            m = max(m, pre_ptr[j + 1] - pre_ptr[j])
    return np.empty((3, m))


@njit(cache=True)
def _calcium_step(step, cells, first, stop, n_exc, ee, rs, k, key,
                  scratch):  # pragma: no cover - compiled
    """Calcium rule for one step whose spikes are ``cells[first:stop]``, event-driven
    (docs/models/assemblies.md, 7.2).

    Order, chronological within the step: (1) this step's E spikes enter the delay ring; (2) the
    presynaptic calcium of spikes from ``ca_delay_steps`` steps ago arrives at its exact time
    t_spike + D (which lies in (t - dt, t]) at every outgoing synapse; (3) this step's spikes add
    postsynaptic calcium at t to every incoming synapse. Each arrival first advances the synapse
    from its last event (:func:`_ca_event`); noise draws sit at stream position
    (2 step + kind) S + synapse (kind 0 pre, 1 post; S synapses). ``scratch``: float64[3, M],
    M at least the largest E->E out-degree (:func:`calcium_scratch`).
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
    conc = rs.ca_conc
    last = rs.ca_last_ms
    n_syn = uint64(weight.size)
    src = (step + 1) % n_slots  # == (step - delay_steps) mod n_slots
    t_arrive = (step - k.ca_delay_steps) * dt + k.ca_delay_ms
    base_pre = uint64(2) * uint64(step) * n_syn
    sw = scratch[0]
    sc = scratch[1]
    sl = scratch[2]
    for m in range(rs.ca_queue_len[src]):
        j = rs.ca_queue[src, m]
        q0 = ee.pre_ptr[j]
        n_out = ee.pre_ptr[j + 1] - q0
        # j's synapses are scattered over the post-ordered arrays: gather their state first (a
        # tight loop keeps many cache misses in flight), update the copies, then write them back;
        # each synapse occurs once per j, so this is the in-place update bit for bit
        for r in range(n_out):
            syn = ee.pre_syn[q0 + r]
            sw[r] = weight[syn]
            sc[r] = conc[syn]
            sl[r] = last[syn]
        for r in range(n_out):
            _ca_event(r, t_arrive, k.ca_c_pre, sw, sc, sl, k, plastic_from_ms, key,
                      base_pre + uint64(ee.pre_syn[q0 + r]))
        for r in range(n_out):
            syn = ee.pre_syn[q0 + r]
            weight[syn] = sw[r]
            conc[syn] = sc[r]
            last[syn] = sl[r]
    rs.ca_queue_len[src] = 0
    t_now = step * dt
    base_post = base_pre + n_syn
    for s_idx in range(first, stop):
        i = cells[s_idx]
        if i < n_exc:
            for syn in range(ee.post_ptr[i], ee.post_ptr[i + 1]):
                _ca_event(syn, t_now, k.ca_c_post, weight, conc, last, k,
                          plastic_from_ms, key, base_post + uint64(syn))
