"""Metastable-state transition rates against direct Gillespie escape-time estimates."""

import numpy as np

from homeoplastic.reduced.gillespie import first_passage_times, simulate
from homeoplastic.reduced.params import trained_weights, two_population_model
from homeoplastic.reduced.transitions import escape_target, metastable_chain


def escape_estimates(n: float, samples: int, seed: int):
    model = two_population_model(n)
    w = trained_weights(model, "diagonal")
    ref = metastable_chain(w, model, "exact", "slaved")
    states = ref.states  # (low, high), (low, low), (high, low)
    big = 10**6
    hi = escape_target(states[2, 0], True, n)
    t_up, _ = first_passage_times(
        model, w, np.rint(n * states[1]).astype(int), [-1, -1], [hi, hi], samples, np.random.default_rng(seed)
    )
    lo = escape_target(states[1, 0], False, n)
    t_down, which = first_passage_times(
        model,
        w,
        np.rint(n * states[2]).astype(int),
        [lo, -1],
        [big, big],
        samples,
        np.random.default_rng(seed + 1),
    )
    assert np.all(which == 0)
    return model, w, 1.0 / t_up.mean(), 1.0 / t_down.mean()


def test_slaved_rates_match_gillespie_escape_times():
    """Out of (low, low) and out of (high, low), N = 8 and 16, 400 escapes each (SE ~5 %)."""
    for n in (8.0, 16.0):
        model, w, up, down = escape_estimates(n, 400, 21)
        for method in ("exact", "wkb"):
            chain = metastable_chain(w, model, method, "slaved")
            ratio_up = -chain.generator[1, 1] / up
            ratio_down = -chain.generator[2, 2] / down
            assert 0.75 < ratio_up < 1.35, (n, method, ratio_up)
            assert 0.75 < ratio_down < 1.35, (n, method, ratio_down)


def test_slaved_reduction_beats_frozen_for_the_upward_escape():
    model, w, up, _ = escape_estimates(16.0, 400, 31)
    slaved = -metastable_chain(w, model, "exact", "slaved").generator[1, 1]
    frozen = -metastable_chain(w, model, "exact", "frozen").generator[1, 1]
    assert abs(np.log(slaved / up)) < abs(np.log(frozen / up))
    assert frozen < up  # the frozen picture overestimates the barrier


def test_occupancy_is_a_stationary_distribution(two_pop):
    chain = metastable_chain(trained_weights(two_pop, "diagonal"), two_pop)
    assert np.isclose(chain.occupancy.sum(), 1.0)
    assert np.allclose(chain.occupancy @ chain.generator, 0.0, atol=1e-12)
    assert np.allclose(chain.generator.sum(axis=1), 0.0)
    # symmetric populations: equal occupancy of the two one-high states
    assert np.isclose(chain.occupancy[0], chain.occupancy[2])


def test_occupancy_matches_gillespie_time_fractions(two_pop):
    """Predicted occupancy of (high, low)/(low, low)/(low, high) vs time fractions of one long run
    (N = 16, 1e5 tau, ~300 switches): both-low 0.17 predicted."""
    w = trained_weights(two_pop, "diagonal")
    chain = metastable_chain(w, two_pop, "wkb", "slaved")
    traj = simulate(two_pop, w, 100_000.0, np.random.default_rng(12), bin_width=1.0)
    high = traj.rates > 1.3  # between the saddle (~1.0) and the high state (2.87), 1-tau bins
    both_low = np.mean(~high.any(axis=1))
    one_high = 0.5 * (np.mean(high[:, 0]) + np.mean(high[:, 1]))
    assert abs(both_low - chain.occupancy[1]) < 0.04
    assert abs(one_high - chain.occupancy[0]) < 0.04
