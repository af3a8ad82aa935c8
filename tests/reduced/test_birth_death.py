"""One population: exact stationary distribution, quasi-potential, WKB vs exact escape, Gillespie."""

import itertools

import numpy as np
import pytest

from homeoplastic.reduced.gillespie import first_passage_times, simulate
from homeoplastic.reduced.params import Activation, PopulationModel
from homeoplastic.reduced.transitions import (
    chain_n_max,
    escape_target,
    exact_mfpt,
    log_stationary_1d,
    make_chain,
    one_population_escape,
    wkb_rate,
)
from homeoplastic.reduced.wilson_cowan import relax

BISTABLE_W = np.array([[1.0]])  # self-coupling 1 - w_inh = 0.8, as one trained population
MONOSTABLE_W = np.array([[0.8]])  # self-coupling 0.6, as the untrained network


def single(n: float) -> PopulationModel:
    return PopulationModel(n_pops=1, system_size=n, w_max=1.0, w_inh=0.2, activation=Activation())


def stationary_mean(model, w):
    chain = make_chain(model, w, np.array([0.3]), 0)
    log_pi = log_stationary_1d(chain, chain_n_max(model))
    p = np.exp(log_pi - log_pi.max())
    p /= p.sum()
    n = np.arange(len(p))
    return float(p @ n) / model.system_size, p


def test_exact_stationary_mean_converges_to_wilson_cowan_fixed_point():
    x_star = relax(np.array([0.0]), MONOSTABLE_W, single(16.0))[0]
    errors = [abs(stationary_mean(single(n), MONOSTABLE_W)[0] - x_star) for n in (8, 32, 128, 512)]
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[-1] < 2e-3
    # O(1/N): quadrupling N divides the error by about 4
    assert 2.5 < errors[-2] / errors[-1] < 6.0


def test_quasi_potential_matches_exact_stationary_distribution():
    """ln pi_n = -N Phi(x) - 0.5 ln(w+ w-) + const + O(1/N) along the chain (WKB)."""
    model = single(200.0)
    chain = make_chain(model, BISTABLE_W, np.array([0.3]), 0)
    log_pi = log_stationary_1d(chain, chain_n_max(model))
    xs = np.arange(10, 560, 10) / model.system_size
    n = np.rint(xs * model.system_size).astype(int)
    phi = np.array([chain.quasi_potential(xs[0], x) for x in xs])
    wkb = -model.system_size * phi - 0.5 * np.log(chain.birth(xs) * chain.death(xs))
    exact = log_pi[n]
    diff = (exact - exact[0]) - (wkb - wkb[0])
    assert np.max(np.abs(diff)) < 0.05  # log-probabilities spanning tens of units
    assert np.ptp(exact) > 20.0


def test_wkb_rate_approaches_exact_escape_rate_as_n_grows():
    ratios = []
    for n in (16, 256, 1024):
        model = single(float(n))
        x_low = relax(np.array([0.0]), BISTABLE_W, model)
        chain = make_chain(model, BISTABLE_W, x_low, 0)
        ((exact_rate, *_),) = one_population_escape(chain, "exact")
        ((wkb, *_),) = one_population_escape(chain, "wkb")
        ratios.append(wkb / exact_rate)
    errors = [abs(r - 1.0) for r in ratios]  # about 0.29, 0.12, 0.03: an O(1/N) prefactor error
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05


def test_gillespie_escape_time_matches_exact_mean_first_passage_time():
    model = single(12.0)
    x_low = relax(np.array([0.0]), BISTABLE_W, model)
    chain = make_chain(model, BISTABLE_W, x_low, 0)
    roots = chain.fixed_points()
    start = int(np.rint(model.system_size * roots[0]))
    target = escape_target(roots[2], True, model.system_size)
    expected = exact_mfpt(chain, start, target)
    times, which = first_passage_times(
        model, BISTABLE_W, [start], [-1], [target], 600, np.random.default_rng(7)
    )
    assert np.all(which == 0)
    se = times.std() / np.sqrt(len(times))
    assert abs(times.mean() - expected) < 3.5 * se
    assert se / expected < 0.06  # the test can fail: 3.5 SE is about 20 %


def test_gillespie_time_average_matches_exact_stationary_mean():
    model = single(16.0)
    exact_mean, p = stationary_mean(model, MONOSTABLE_W)
    traj = simulate(
        model,
        MONOSTABLE_W,
        4000.0,
        np.random.default_rng(3),
        bin_width=4000.0,
        initial_rates=np.array([exact_mean]),
    )
    n = np.arange(len(p)) / model.system_size
    sd = np.sqrt(p @ (n - exact_mean) ** 2)
    assert abs(traj.rates[0, 0] - exact_mean) < 0.1 * sd  # correlation time ~ 3 tau
    assert abs(traj.rates[0, 0] - exact_mean) < 0.01


def test_wkb_rate_formula_at_known_curvatures():
    """The prefactor is w+(x_s) sqrt(Phi''(x_s)|Phi''(x_0)|) / 2 pi: check against its parts."""
    model = single(40.0)
    chain = make_chain(model, BISTABLE_W, np.array([0.3]), 0)
    lo, sad, _ = chain.fixed_points()
    barrier = chain.quasi_potential(lo, sad)
    assert barrier > 0
    c_lo, c_sad = chain.phi_second(np.array([lo, sad]))
    assert c_lo > 0 > c_sad
    expected = chain.birth(lo) / (2 * np.pi) * np.sqrt(c_lo * -c_sad) * np.exp(-40.0 * barrier)
    assert wkb_rate(chain, lo, sad) == pytest.approx(float(expected), rel=1e-12)


def test_exact_mfpt_validates_input():
    model = single(8.0)
    chain = make_chain(model, BISTABLE_W, np.array([0.3]), 0)
    with pytest.raises(ValueError, match="n_start"):
        exact_mfpt(chain, -1, 3)
    with pytest.raises(ValueError, match="reduction"):
        make_chain(model, BISTABLE_W, np.array([0.3]), 0, reduction="bogus")
