"""Synaptic conductance kernels and the external Poisson drive (docs/models/assemblies.md, 2.3, 2.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.network import poisson_tables

from .helpers import quiet_sim, step


def _kernel_trace(kind: str, n_steps: int = 1500) -> tuple[np.ndarray, float, float, float]:
    sim = quiet_sim()
    cell = 4
    s = sim.params.synapses
    if kind == "exc":
        sim.neurons.pend_exc_pf[cell] = 1.0  # one 1-pF event arriving at the next step
        tau_r, tau_d = s.tau_rise_exc_ms, s.tau_decay_exc_ms
        xr, xd = sim.neurons.xr_exc, sim.neurons.xd_exc
    else:
        sim.neurons.pend_inh_pf[cell] = 1.0
        tau_r, tau_d = s.tau_rise_inh_ms, s.tau_decay_inh_ms
        xr, xd = sim.neurons.xr_inh, sim.neurons.xd_inh
    g = []
    for _ in range(n_steps):
        step(sim)
        g.append((xd[cell] - xr[cell]) / (tau_d - tau_r))
    return np.array(g), tau_r, tau_d, sim.params.dt_ms


@pytest.mark.parametrize(
    ("kind", "peak_ms", "peak_ns", "euler_rel_err"),
    [("exc", 2.150, 0.1165, 0.02), ("inh", 0.924, 0.315, 0.06)],
)
def test_conductance_kernel_has_unit_area_and_the_analytic_peak(kind, peak_ms, peak_ns, euler_rel_err):
    g, tau_r, tau_d, dt = _kernel_trace(kind)
    # area per pF is exactly 1 for the Euler-discretised kernel (geometric series)
    tail = g[-1] / (dt / tau_d)  # what is left beyond the trace, decaying with tau_d
    assert g.sum() * dt + tail * dt == pytest.approx(1.0, rel=1e-9)
    # continuous peak: t* = tau_r tau_d / (tau_d - tau_r) ln(tau_d / tau_r)
    t_star = tau_r * tau_d / (tau_d - tau_r) * math.log(tau_d / tau_r)
    assert t_star == pytest.approx(peak_ms, abs=1e-3)
    g_star = (math.exp(-t_star / tau_d) - math.exp(-t_star / tau_r)) / (tau_d - tau_r)
    assert g_star == pytest.approx(peak_ns, rel=2e-3)
    # the event enters at the step after it was sent (one-step delay); sample n sits at t = n*dt
    n = np.arange(g.size)
    discrete = ((1 - dt / tau_d) ** n - (1 - dt / tau_r) ** n) / (tau_d - tau_r)
    np.testing.assert_allclose(g, discrete, rtol=1e-9, atol=1e-15)
    assert g[0] == 0.0
    assert abs(n[np.argmax(g)] * dt - t_star) <= 0.15
    # forward Euler at dt/tau_rise = 0.1 (E) and 0.2 (I) sharpens the peak by a few percent
    assert g.max() == pytest.approx(g_star, rel=euler_rel_err)


def test_poisson_counts_have_the_poisson_distribution():
    lam = 0.45  # 4.5 kHz at dt = 0.1 ms
    out = np.empty(400_000, dtype=np.int64)
    kernels.poisson_draws(np.uint64(2024), lam, out)
    n = out.size
    assert abs(out.mean() - lam) < 4 * math.sqrt(lam / n)
    assert out.var() == pytest.approx(lam, rel=0.02)
    observed = np.bincount(out, minlength=6)[:6]
    pmf = np.array([math.exp(-lam) * lam**k / math.factorial(k) for k in range(6)])
    expected = n * pmf
    keep = expected > 20
    chi2 = (((observed - expected) ** 2) / expected)[keep].sum()
    assert chi2 < 20.5  # 99.9 % quantile of chi-square with <= 5 degrees of freedom


def test_poisson_tail_beyond_the_table_is_exact():
    lam = 4.0  # most counts exceed the 4-entry table
    out = np.empty(200_000, dtype=np.int64)
    kernels.poisson_draws(np.uint64(7), lam, out)
    assert abs(out.mean() - lam) < 4 * math.sqrt(lam / out.size)
    assert out.var() == pytest.approx(lam, rel=0.03)


def test_engine_kick_counts_match_each_cells_rate_and_are_independent():
    rates = np.array([4500.0, 2250.0, 12500.0, 0.0])
    dt_s = 1e-4
    cdf = poisson_tables(rates, dt_s)
    counts = np.empty((100_000, rates.size), dtype=np.int64)
    kernels.kick_counts(np.uint64(99), 0, rates, cdf, dt_s, counts)
    mean_rate_hz = counts.mean(axis=0) / dt_s
    sigma_hz = np.sqrt(rates * dt_s / counts.shape[0]) / dt_s
    assert np.all(np.abs(mean_rate_hz - rates) <= 4 * sigma_hz + 1e-12)
    assert counts[:, 3].sum() == 0
    corr = np.corrcoef(counts[:, 0], counts[:, 1])[0, 1]
    assert abs(corr) < 4 / math.sqrt(counts.shape[0])
    # counter-based: drawing a later window alone gives the same numbers
    later = np.empty((10, rates.size), dtype=np.int64)
    kernels.kick_counts(np.uint64(99), 5000, rates, cdf, dt_s, later)
    np.testing.assert_array_equal(later, counts[5000:5010])


def test_integer_thresholds_compare_exactly_like_the_uniforms():
    """(z > T(c)) == (u(z) > c) for every draw, including c equal to a draw's own uniform and
    its neighbours one step of 2^-53 away (an off-by-one in T shows there)."""
    z = np.empty(20_000, dtype=np.uint64)
    kernels.raw_draws(np.uint64(5), 0, z)
    u = np.empty(z.size)
    kernels.uniform_draws(np.uint64(5), 0, u)
    np.testing.assert_array_equal((z >> np.uint64(11)).astype(np.float64) * 2.0**-53, u)
    ulp = 2.0**-53
    values = np.concatenate([u[:300], u[:300] - ulp, u[:300] + ulp,
                             [0.0, ulp, 0.5, 1.0 - ulp, 1.0, 1.0 + 2 * ulp],
                             poisson_tables(np.array([4500.0, 1.0, 2e5]), 1e-4).ravel()])
    thresholds = np.empty(values.size, dtype=np.uint64)
    kernels.cdf_thresholds(values, thresholds)
    for c, t in zip(values, thresholds, strict=True):
        np.testing.assert_array_equal(z > t, u > c, err_msg=f"c = {c!r}")


def test_uniform_stream_is_uniform():
    out = np.empty(200_000)
    kernels.uniform_draws(np.uint64(1), 0, out)
    assert 0.0 <= out.min() and out.max() < 1.0
    hist = np.histogram(out, bins=20, range=(0, 1))[0]
    expected = out.size / 20
    assert (((hist - expected) ** 2) / expected).sum() < 43.8  # chi2(19) 99.9 %


def test_network_external_drive_rate_inside_a_run():
    """Mean external input per cell equals rate * J_ext: count it through the conductance area."""
    sim = quiet_sim(external={"rate_to_e_hz": 4500.0, "rate_to_i_hz": 2250.0},
                    connectivity={"p_connect": 1e-9})
    assert sim.pathways["e_to_e"].weight_pf.size == 0  # no synapses: all input is external
    tau_d = sim.params.synapses.tau_decay_exc_ms
    step(sim, 200)  # 20 ms: let x_decay reach its stationary mean
    # x_decay integrates inputs with time constant tau_d: its time average is rate * J * tau_d
    xd = []
    for _ in range(2000):
        step(sim)
        xd.append(sim.neurons.xd_exc.copy())
    mean_xd = np.mean(xd, axis=0)
    c = sim.params.connectivity
    expected_e = 4500.0 * 1e-3 * sim.params.external.j_ext_to_e_pf * tau_d
    expected_i = 2250.0 * 1e-3 * sim.params.external.j_ext_to_i_pf * tau_d
    assert mean_xd[: c.n_exc].mean() == pytest.approx(expected_e, rel=0.03)
    assert mean_xd[c.n_exc:].mean() == pytest.approx(expected_i, rel=0.05)


@pytest.mark.parametrize(("n_pre", "n_post", "pre_dtype", "post_dtype"), [
    (40, 30, np.uint16, np.uint16),
    (2**16, 3, np.uint16, np.uint16),
    (2**16 + 1, 3, np.int32, np.uint16),
])
def test_pathway_indices_are_16_bit_where_the_population_fits_and_views_agree(
        n_pre, n_post, pre_dtype, post_dtype):
    """16 bytes per synapse (uint16 cells, int32 synapse index, float64 weight) up to 2^16 cells
    per population, int32 beyond; the pre-ordered view and the post_idx property agree."""
    from homeoplastic.assemblies.connectivity import build_pathway

    rng = np.random.default_rng(2)
    pairs = {(int(rng.integers(n_pre)), int(rng.integers(n_post))) for _ in range(300)}
    pairs |= {(n_pre - 1, n_post - 1), (0, 0)}
    pre, post = (np.array(x) for x in zip(*sorted(pairs), strict=True))
    weights = rng.uniform(1.0, 2.0, pre.size)
    pw = build_pathway(pre, post, weights, n_pre, n_post)
    assert pw.pre_idx.dtype == pre_dtype and pw.pre_post.dtype == post_dtype
    assert pw.pre_syn.dtype == np.int32 and pw.weight_pf.dtype == np.float64
    per_syn = [a for a in pw if a.size == pw.weight_pf.size]
    assert sum(a.itemsize for a in per_syn) == (16 if pre_dtype is np.uint16 else 18)
    got = dict(zip(zip(pw.pre_idx.tolist(), pw.post_idx.tolist(), strict=True),
                   pw.weight_pf.tolist(), strict=True))
    assert got == dict(zip(zip(pre.tolist(), post.tolist(), strict=True), weights.tolist(),
                           strict=True))
    assert pw.post_idx.dtype == np.int32 and np.all(np.diff(pw.post_idx) >= 0)
    for j in (0, n_pre - 1):
        q = slice(pw.pre_ptr[j], pw.pre_ptr[j + 1])
        assert np.all(pw.pre_idx[pw.pre_syn[q]] == j)
        assert np.array_equal(pw.pre_post[q], pw.post_idx[pw.pre_syn[q]])
