"""The calcium rule's optional forms (docs/models/assemblies.md, 7.2): without the bistable cubic
term, with Graupner & Brunel's corrected noise, and the ``calcium_plain`` rule variant.

Calcium is held constant (tau_Ca = 1e12 ms, so it moves by < 1e-10 in a span) at a level above
theta_p, between the thresholds or below theta_d, so that each closed form holds over the span.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.settings import RULE_VARIANTS, network_params
from homeoplastic.assemblies.sweep import sweep_points
from homeoplastic.config import load_schema, validate

ROOT = Path(__file__).resolve().parents[2]

ABOVE_P, BETWEEN, BELOW_D = 1.5, 1.15, 0.6
"""Constant calcium levels: theta_p = 1.3 < 1.5, theta_d = 1.0 < 1.15 < 1.3, 0.6 < theta_d."""


def _constants(**calcium: Any) -> kernels.KernelConstants:
    """Kernel constants of the calcium rule at learning speed 1 with calcium held constant."""
    p = NetworkParams.from_dict({"plasticity": {"ee_rule": "calcium"},
                                 "calcium": {"tau_ca_ms": 1e12, **calcium}})
    return kernels.KernelConstants(**{**{f: 0 for f in kernels.KernelConstants._fields},
                                      **kernels.rule_constants(p)})


def _rho_after(k, rho0: float, c: float, span_ms: float, counters: np.ndarray) -> np.ndarray:
    out = np.empty(counters.size)
    kernels.calcium_rho_after(rho0, c, span_ms, k, 777, counters.astype(np.uint64), out)
    return out


def _gamma_drift(rho: float, c: float) -> float:
    """d rho/dt (per ms) of the gamma terms: (g_p (1 - rho) H[c - theta_p] - g_d rho H[c - theta_d])
    / tau_rho, written out independently of the kernel."""
    h_p = 1.0 if c > 1.3 else 0.0
    h_d = 1.0 if c > 1.0 else 0.0
    tau_ms = 3.463615e3
    return (7.25085 * (1.0 - rho) * h_p - 3.31909 * rho * h_d) / tau_ms


def test_defaults_keep_the_bistable_rule_with_the_papers_noise():
    k = _constants()
    assert k.ca_bistable is True and k.ca_noise_p_factor == 1.0
    corrected = _constants(noise_form="corrected", bistable=False)
    assert corrected.ca_bistable is False
    assert corrected.ca_noise_p_factor == math.sqrt(2.0)
    with pytest.raises(ParameterError, match=r"calcium\.noise_form"):
        NetworkParams().replace(**{"calcium.noise_form": "brian2"})


@pytest.mark.parametrize("c", [ABOVE_P, BETWEEN, BELOW_D])
@pytest.mark.parametrize("rho0", [0.1, 0.5, 0.9])
def test_without_bistability_rho_follows_the_gamma_terms_exactly(c, rho0):
    k = _constants(bistable=False, noise=False)
    one = np.zeros(1)
    # the drift over a short span: the gamma terms and nothing else (the cubic term would add
    # -rho (1 - rho)(1/2 - rho) / tau, 0.5-5 % of them at rho = 0.1 or 0.9, and all of it below theta_d)
    h = 1e-5  # ms: the slope differs from the drift by ~(g_p + g_d) h / (2 tau) = 2e-8 relative
    slope = (_rho_after(k, rho0, c, h, one)[0] - rho0) / h
    assert slope == pytest.approx(_gamma_drift(rho0, c), rel=1e-6, abs=1e-15)
    # ... and over 200 ms the closed-form relaxation towards g_p H_p / (g_p H_p + g_d H_d)
    span = 200.0
    g_p = 7.25085 if c > 1.3 else 0.0
    g_d = 3.31909 if c > 1.0 else 0.0
    a = (g_p + g_d) / 3.463615e3
    target = g_p / (g_p + g_d) if g_p + g_d > 0 else rho0
    expected = target + (rho0 - target) * math.exp(-a * span)
    assert _rho_after(k, rho0, c, span, one)[0] == pytest.approx(expected, abs=1e-14)
    if c < 1.0:  # below theta_d, without the cubic term and the noise, rho stands still
        assert _rho_after(k, rho0, c, 1e5, one)[0] == rho0


@pytest.mark.parametrize("rho0, cubic", [(0.5, 0.0), (0.25, -3.0 / 64.0), (0.75, 3.0 / 64.0),
                                         (0.1, -0.036), (0.9, 0.036)])
def test_with_bistability_the_cubic_term_adds_to_the_gamma_terms(rho0, cubic):
    # -rho (1 - rho)(1/2 - rho) at rho0: zero at the unstable point 1/2, towards 0 below it and
    # towards 1 above it
    assert cubic == pytest.approx(-rho0 * (1 - rho0) * (0.5 - rho0), abs=1e-15)
    k = _constants(noise=False)
    one = np.zeros(1)
    h = 1e-5  # ms: the slope differs from the drift by ~(g_p + g_d) h / (2 tau) = 2e-8 relative
    for c in (ABOVE_P, BETWEEN, BELOW_D):
        slope = (_rho_after(k, rho0, c, h, one)[0] - rho0) / h
        expected = _gamma_drift(rho0, c) + cubic / 3.463615e3
        assert slope == pytest.approx(expected, rel=1e-6, abs=1e-15)
    if rho0 == 0.5:  # the unstable fixed point stays put below threshold
        assert _rho_after(k, rho0, BELOW_D, 1e4, one)[0] == 0.5


@pytest.mark.parametrize("form, c, theta_sum", [
    ("paper_2012", ABOVE_P, 1), ("corrected", ABOVE_P, 2),
    ("paper_2012", BETWEEN, 1), ("corrected", BETWEEN, 1),
])
def test_noise_variance_per_step_is_sigma2_dt_times_the_thresholds_crossed(form, c, theta_sum):
    """Var(rho(dt) - rho0) = sigma^2 dt N(c)^2 / tau_rho with N^2 = H_d (paper) or H_d + H_p
    (corrected). Without the cubic term the step is the exact OU one, whose variance differs from
    this by a relative (g_p + g_d) dt / tau_rho = 3e-4, far below the sampling tolerance."""
    k = _constants(bistable=False, noise_form=form)
    dt, n, rho0 = 0.1, 40000, 0.4
    out = _rho_after(k, rho0, c, dt, np.arange(n) * 3 + 11)
    var = 0.33501**2 * dt * theta_sum / 3.463615e3
    mean = rho0 + _gamma_drift(rho0, c) * dt
    # sample variance of n normals: relative s.d. sqrt(2 / (n - 1)); 5 s.d. (the factor 2 between
    # the forms is 70 s.d.)
    assert out.var(ddof=1) == pytest.approx(var, rel=5 * math.sqrt(2 / (n - 1)))
    assert abs(out.mean() - mean) < 5 * math.sqrt(var / n)


def test_corrected_noise_is_sqrt2_times_the_papers_above_theta_p_draw_for_draw():
    counters = np.arange(500) * 5 + 2
    for c, factor in ((ABOVE_P, math.sqrt(2.0)), (BETWEEN, 1.0)):
        quiet = _rho_after(_constants(bistable=False, noise=False), 0.4, c, 30.0, counters[:1])[0]
        paper = _rho_after(_constants(bistable=False), 0.4, c, 30.0, counters) - quiet
        corrected = _rho_after(_constants(bistable=False, noise_form="corrected"), 0.4, c, 30.0,
                               counters) - quiet
        assert np.ptp(paper) > 0.01
        np.testing.assert_allclose(corrected, factor * paper, rtol=1e-9, atol=1e-15)
    # below theta_d neither form has noise
    below = _rho_after(_constants(bistable=False, noise_form="corrected"), 0.4, BELOW_D, 30.0,
                       counters)
    assert np.all(below == 0.4)


def _config(overlay: dict[str, Any]) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())["assemblies"]
    config = {**config, **overlay}
    return validate(config, load_schema(ROOT / "workflow/schemas/assemblies.schema.yaml"),
                    where="assemblies")


def test_calcium_plain_is_a_sweep_rule_without_cubic_term_noise_or_updown_map():
    section = _config({"sweep": {"n_neurons": [1000], "rule": ["calcium", "calcium_plain"],
                                 "learning_speed": [4.0], "seed": [1]}, "extra_sweeps": []})
    params = {point.rule: network_params(section, point) for point in sweep_points(section)}
    plain, calcium = params["calcium_plain"], params["calcium"]
    assert plain.plasticity.ee_rule == calcium.plasticity.ee_rule == "calcium"
    assert (plain.calcium.bistable, plain.calcium.noise, plain.calcium.up_down_ratio) == (
        False, False, 0.0)
    assert (calcium.calcium.bistable, calcium.calcium.noise, calcium.calcium.noise_form) == (
        True, True, "paper_2012")
    assert dataclasses.replace(plain, calcium=calcium.calcium) == calcium  # nothing else differs
    # the schema offers every variant, and a config setting the variant overrides is refused
    enum = load_schema(ROOT / "workflow/schemas/assemblies.schema.yaml")[
        "properties"]["sweep"]["properties"]["rule"]["items"]["enum"]
    assert sorted(enum) == sorted(RULE_VARIANTS)
    clash = {**section, "network": {**section.get("network", {}), "calcium": {"noise": True}}}
    with pytest.raises(ParameterError, match=r"calcium\.noise.*calcium_plain"):
        network_params(clash, next(p for p in sweep_points(clash) if p.rule == "calcium_plain"))


def _plain_reference(events, t_end, ca, rho0, inv_tau, h=1e-3):
    """Independent fine-step RK4 of (c, rho) without the cubic term and noise; calcium jumps at
    the event times (ms), coarse steps while calcium is far below theta_d (rho stands still)."""
    def rhs(c, rho):
        drho = (ca.gamma_p * (1 - rho) if c > ca.theta_p else 0.0) - (
            ca.gamma_d * rho if c > ca.theta_d else 0.0)
        return -c / ca.tau_ca_ms, drho * inv_tau

    c, rho, t = 0.0, rho0, 0.0
    for t_ev, jump in [*sorted(events), (t_end, 0.0)]:
        while t < t_ev:
            step_ms = min(h if c > 0.95 * ca.theta_d else 1.0, t_ev - t)
            t += step_ms
            k1 = rhs(c, rho)
            k2 = rhs(c + 0.5 * step_ms * k1[0], rho + 0.5 * step_ms * k1[1])
            k3 = rhs(c + 0.5 * step_ms * k2[0], rho + 0.5 * step_ms * k2[1])
            k4 = rhs(c + step_ms * k3[0], rho + step_ms * k3[1])
            c += step_ms / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            rho += step_ms / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        t = t_ev
        c += jump
    return rho


def test_the_engine_runs_the_plain_rule_on_the_whole_weight_range():
    """A pre-post pattern through the engine (``calcium_plain``'s settings) against an
    independent integration: rho on [J_min, J_max], no cubic drift in the 2 s after it."""
    from homeoplastic.assemblies.network import calcium_weight_range

    from .helpers import fire_schedule, quiet_sim, step
    from .test_triplet import _pair

    calcium = {k.split(".")[1]: v for k, v in RULE_VARIANTS["calcium_plain"].items() if "." in k}
    sim = quiet_sim(plasticity={"ee_rule": "calcium", "learning_speed": 5.0}, calcium=calcium)
    pre, post, syn = _pair(sim)
    ca, dt = sim.params.calcium, sim.params.dt_ms
    ee = sim.pathways["e_to_e"]
    w_min, w_max = calcium_weight_range(sim.params)
    c = sim.params.connectivity
    assert (w_min, w_max) == (c.j_e_to_e_min_pf, c.j_e_to_e_max_pf)  # size scaling off
    rho0 = (ee.weight_pf[syn] - w_min) / (w_max - w_min)
    spikes = fire_schedule(sim, [(10, pre), (70, post), (120, post), (260, pre), (300, post)])
    step(sim, 80)
    last = fire_schedule(sim, [(int(sim.clock[0]) + 20000, post)])[0]
    kinds = ["pre", "post", "post", "pre", "post"]
    events = [((s * dt + ca.delay_ms) if kind == "pre" else s * dt,
               ca.c_pre if kind == "pre" else ca.c_post) for s, kind in zip(spikes, kinds,
                                                                          strict=True)]
    inv_tau = 5.0 / (ca.tau_rho_s * 1000.0)
    rho_ref = _plain_reference(events, last * dt, ca, rho0, inv_tau)
    rho_engine = (ee.weight_pf[syn] - w_min) / (w_max - w_min)
    assert abs(rho_ref - rho0) > 0.02  # the pattern moved rho far beyond the tolerance
    assert rho_engine == pytest.approx(rho_ref, abs=2e-5), (rho0, rho_ref, rho_engine)
