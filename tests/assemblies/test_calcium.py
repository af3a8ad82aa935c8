"""Calcium rule (Graupner & Brunel 2012): transients, thresholds, drift, noise, exactness
(docs/models/assemblies.md, 7.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.network import calcium_weight_range
from homeoplastic.assemblies.params import NetworkParams, ParameterError

from .helpers import fire_schedule, quiet_sim, step
from .test_triplet import _pair, check_determinism_and_resume, small_params


def _calcium_sim(noise: bool = False, **sections):
    plasticity = {"ee_rule": "calcium", **sections.pop("plasticity", {})}
    calcium = {"noise": noise, **sections.pop("calcium", {})}
    return quiet_sim(plasticity=plasticity, calcium=calcium, **sections)


_fire_at = fire_schedule


def test_pre_and_post_calcium_transients_follow_the_closed_form_with_delay():
    sim = _calcium_sim()
    pre, post, syn = _pair(sim)
    ca, dt = sim.params.calcium, sim.params.dt_ms
    rs = sim.rule_state
    (a,) = _fire_at(sim, [(3, pre)])
    assert rs.ca_conc[syn] == 0.0  # the presynaptic calcium has not arrived yet
    t_arrive = a * dt + ca.delay_ms
    step(sim, int(math.ceil(ca.delay_ms / dt)))
    assert rs.ca_last_ms[syn] == pytest.approx(t_arrive, abs=1e-9)
    assert rs.ca_conc[syn] == pytest.approx(ca.c_pre, rel=1e-12)
    (b,) = _fire_at(sim, [(a + 150, post)])
    expected = ca.c_pre * math.exp(-(b * dt - t_arrive) / ca.tau_ca_ms) + ca.c_post
    assert rs.ca_conc[syn] == pytest.approx(expected, rel=1e-12)
    assert rs.ca_last_ms[syn] == pytest.approx(b * dt, abs=1e-9)


def test_post_spike_before_the_delayed_pre_arrival_is_processed_in_time_order():
    sim = _calcium_sim()
    pre, post, syn = _pair(sim)
    ca, dt = sim.params.calcium, sim.params.dt_ms
    a, b = _fire_at(sim, [(2, pre), (4, post)])  # post at +0.2 ms, pre calcium arrives at +4.61 ms
    assert sim.rule_state.ca_conc[syn] == pytest.approx(ca.c_post, rel=1e-12)
    step(sim, 60)
    t_arrive = a * dt + ca.delay_ms
    expected = ca.c_post * math.exp(-(t_arrive - b * dt) / ca.tau_ca_ms) + ca.c_pre
    assert sim.rule_state.ca_conc[syn] == pytest.approx(expected, rel=1e-12)


def test_time_above_thresholds_matches_fine_numerical_integration():
    sim = _calcium_sim()
    k = sim.constants(run_start_step=0)
    h = 1e-4  # ms
    for c0, span in ((1.8, 50.0), (1.2, 50.0), (2.5, 7.0), (0.9, 30.0), (1.31, 100.0)):
        t = np.arange(0.0, span, h) + 0.5 * h
        c = c0 * np.exp(-t / k.ca_tau_ms)
        t_p, t_d = kernels.calcium_times_above(c0, span, k)
        assert t_p == pytest.approx(h * np.count_nonzero(c > k.ca_theta_p), abs=2 * h)
        assert t_d == pytest.approx(h * np.count_nonzero(c > k.ca_theta_d), abs=2 * h)


def _rk4_reference(events, t_end, ca, rho0, dt_ms=2e-3, inv_tau=None):
    """Independent fine-step RK4 of (c, rho) with the Heaviside terms, noise off.

    ``events`` is a list of (time_ms, calcium jump); calcium jumps are applied exactly at their
    times (every event time is a step boundary).
    """
    inv_tau = inv_tau if inv_tau is not None else 1.0 / (ca.tau_rho_s * 1000.0)
    gp, gd = ca.gamma_p * ca.gamma_scale, ca.gamma_d * ca.gamma_scale

    def rhs(c, rho):
        dc = -c / ca.tau_ca_ms
        drho = -rho * (1 - rho) * (ca.rho_star - rho)
        if c > ca.theta_p:
            drho += gp * (1 - rho)
        if c > ca.theta_d:
            drho -= gd * rho
        return dc, drho * inv_tau

    c, rho, t = 0.0, rho0, 0.0
    marks = [*sorted(events), (t_end, 0.0)]
    for t_ev, jump in marks:
        while t < t_ev:
            # fine steps while calcium may be above a threshold, coarse ones (cubic only) after
            h = min(dt_ms if c > 0.95 * ca.theta_d else 0.5, t_ev - t)
            t += h
            k1 = rhs(c, rho)
            k2 = rhs(c + 0.5 * h * k1[0], rho + 0.5 * h * k1[1])
            k3 = rhs(c + 0.5 * h * k2[0], rho + 0.5 * h * k2[1])
            k4 = rhs(c + h * k3[0], rho + h * k3[1])
            c += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            rho += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        t = t_ev
        c += jump
    return rho


GB_SLOW_CUBIC = {"tau_rho_s": 346.3615, "gamma_p": 725.085, "gamma_d": 331.909, "sigma": 3.3501}
"""Graupner & Brunel's own tau_rho, gammas and sigma: the defaults' drift and noise per unit time,
with a 100x weaker cubic term."""


@pytest.mark.parametrize("calcium, tol", [
    # the defaults: the Strang splitting of the (100x stronger) cubic term around each exact OU
    # stretch errs by ~6e-5 in rho after this pattern, against a 0.03 noise s.d. per event
    ({}, 1e-4),
    (GB_SLOW_CUBIC, 2e-5),
])
def test_rho_drift_without_noise_matches_an_independent_ode_integration(calcium, tol):
    # a pre-post-post-pre pattern with calcium above both thresholds for a while
    sim = _calcium_sim(plasticity={"learning_speed": 5.0}, calcium=calcium)
    pre, post, syn = _pair(sim)
    ca, dt = sim.params.calcium, sim.params.dt_ms
    ee = sim.pathways["e_to_e"]
    w_min, w_max = calcium_weight_range(sim.params)  # W_DOWN = J_min, W_UP = b J_min
    assert w_max == pytest.approx(ca.up_down_ratio * sim.params.connectivity.j_e_to_e_min_pf)
    rho0 = (ee.weight_pf[syn] - w_min) / (w_max - w_min)
    spikes = _fire_at(sim, [(10, pre), (70, post), (120, post), (260, pre), (300, post)])
    step(sim, 80)  # the last pre arrival, then 2 s in which only the cubic term acts
    last = _fire_at(sim, [(int(sim.clock[0]) + 20000, post)])[0]
    kinds = ["pre", "post", "post", "pre", "post"]
    events = [((s * dt + ca.delay_ms) if kind == "pre" else s * dt,
               ca.c_pre if kind == "pre" else ca.c_post) for s, kind in zip(spikes, kinds,
                                                                          strict=True)]
    t_end = last * dt  # the engine's rho is current as of the last event of this synapse
    rho_ref = _rk4_reference(events, t_end, ca, rho0, inv_tau=5.0 / (ca.tau_rho_s * 1000.0))
    rho_engine = (ee.weight_pf[syn] - w_min) / (w_max - w_min)
    assert abs(rho_ref - rho0) > 0.02  # the pattern moved rho well beyond the tolerance
    cubic_only = _rk4_reference(events[:-1], spikes[-1] * dt, ca, rho0, inv_tau=5.0 / (
        ca.tau_rho_s * 1000.0))  # ... and the 2 s of cubic drift is visible too
    assert abs(cubic_only - _rk4_reference(events[:-1], spikes[-1] * dt + 1.0, ca, rho0,
                                           inv_tau=5.0 / (ca.tau_rho_s * 1000.0))) > 1e-4
    assert rho_engine == pytest.approx(rho_ref, abs=tol)


def test_noise_increments_have_the_ornstein_uhlenbeck_mean_and_variance():
    # GB's own tau_rho, gammas and sigma: the same OU rates as the defaults, a 100x weaker cubic
    # term (neglected below)
    sim = _calcium_sim(noise=True, plasticity={"learning_speed": 3.0}, calcium=GB_SLOW_CUBIC)
    k = sim.constants(run_start_step=0)
    c0, span, rho0 = 2.2, 40.0, 0.3
    n = 40000
    out = np.empty(n)
    kernels.calcium_rho_after(rho0, c0, span, k, 12345, np.arange(n, dtype=np.uint64) * 7 + 1, out)
    # expected from the OU transitions over the two stretches (cubic term ~1e-5 here, neglected)
    t_p = k.ca_tau_ms * math.log(c0 / k.ca_theta_p)
    t_d = k.ca_tau_ms * math.log(c0 / k.ca_theta_d)
    inv_tau, sig = k.ca_inv_tau_rho_per_ms, k.ca_sigma
    g1 = k.ca_gamma_p + k.ca_gamma_d
    a1, a2 = g1 * inv_tau, k.ca_gamma_d * inv_tau
    mean1 = rho0 * math.exp(-a1 * t_p) + k.ca_gamma_p / g1 * (1 - math.exp(-a1 * t_p))
    var1 = sig**2 * (1 - math.exp(-2 * a1 * t_p)) / (2 * g1)
    mean = mean1 * math.exp(-a2 * (t_d - t_p))
    var = var1 * math.exp(-2 * a2 * (t_d - t_p)) + sig**2 * (
        1 - math.exp(-2 * a2 * (t_d - t_p))) / (2 * k.ca_gamma_d)
    sd = math.sqrt(var)
    assert abs(out.mean() - mean) < 4 * sd / math.sqrt(n)
    assert out.var(ddof=1) == pytest.approx(var, rel=4 * math.sqrt(2 / n))
    # below theta_d there is no noise at all
    quiet = np.empty(100)
    kernels.calcium_rho_after(rho0, 0.9, span, k, 12345, np.arange(100, dtype=np.uint64), quiet)
    assert np.ptp(quiet) == 0.0


def test_no_weight_change_before_plasticity_starts_but_calcium_runs():
    sim = _calcium_sim(noise=True, plasticity={"start_s": 1.0})
    pre, post, syn = _pair(sim)
    ee = sim.pathways["e_to_e"]
    w0 = ee.weight_pf.copy()
    _fire_at(sim, [(1, pre), (20, post), (40, post)])
    step(sim, 60)
    np.testing.assert_array_equal(ee.weight_pf, w0)
    assert sim.rule_state.ca_conc[syn] > 0.0


def test_gamma_scale_scales_both_rates_and_bad_values_are_named():
    p = NetworkParams.from_dict({"plasticity": {"ee_rule": "calcium"},
                                 "calcium": {"gamma_scale": 0.01}, "connectivity":
                                 {"n_neurons": 200}})
    k = kernels.KernelConstants(**{**{f: 0 for f in kernels.KernelConstants._fields},
                                   **kernels.rule_constants(p)})
    assert k.ca_gamma_p == pytest.approx(0.0725085, rel=1e-12)
    assert k.ca_gamma_d == pytest.approx(0.0331909, rel=1e-12)
    with pytest.raises(ParameterError, match=r"calcium\.theta_p"):
        NetworkParams().replace(**{"calcium.theta_p": 0.5})
    with pytest.raises(ParameterError, match=r"calcium\.delay_ms"):
        NetworkParams().replace(**{"calcium.delay_ms": -1.0})


def test_calcium_run_is_deterministic_and_resumes_bit_identically(tmp_path, monkeypatch):
    sim = check_determinism_and_resume(small_params("calcium", learning_speed=10.0), tmp_path,
                                       monkeypatch)
    assert sim.rule_state.ca_conc.max() > 0.0
    assert sim.rule_state.ca_queue.shape[0] == math.ceil(4.6098 / 0.1) + 1


def test_the_cubic_term_at_rho_star_one_half_is_the_exact_logistic_solution():
    """rho* = 1/2 takes a closed form; it must agree with the RK4 path (rho* a hair off 1/2) and
    with the ODE's fixed points and symmetry: rho -> 1 - rho mirrors the flow."""
    from homeoplastic.assemblies.kernels.calcium import _rho_cubic

    inv_tau = 1.0 / 866.0  # tau_rho = 3.46 s at learning speed 4, per ms
    for rho in (0.01, 0.2, 0.49, 0.51, 0.8, 0.99, 1.05, -0.05):
        for span in (1.0, 100.0, 1000.0, 5000.0):
            exact = _rho_cubic(rho, span, 0.5, inv_tau)
            assert exact == pytest.approx(_rho_cubic(rho, span, 0.5 + 1e-13, inv_tau), abs=1e-12)
            assert exact + _rho_cubic(1.0 - rho, span, 0.5, inv_tau) == pytest.approx(1.0, abs=1e-14)
            assert (exact - 0.5) * (rho - 0.5) > 0  # never crosses the unstable point
    assert _rho_cubic(0.5, 1e4, 0.5, inv_tau) == 0.5
    assert _rho_cubic(0.3, 1e7, 0.5, inv_tau) == pytest.approx(0.0, abs=1e-12)
