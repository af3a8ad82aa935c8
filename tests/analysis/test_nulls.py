"""Nulls measured the same way as the effects (homeoplastic.analysis.nulls)."""

import numpy as np

from homeoplastic.analysis.nulls import group_rates_hz, shuffled_groups


def test_group_rates_count_each_groups_spikes_per_cell_and_bin():
    """Two groups, 10-step bins of 0.1 ms (1 ms): group 0 (cells 0, 1) has 3 spikes in bin 0 and
    1 in bin 2; group 1 (cell 2) one spike in bin 1; spikes before the start or past the last
    bin and of other cells are not counted."""
    step = np.array([100, 101, 105, 109, 112, 125, 99, 140, 103])
    cell = np.array([0, 1, 0, 3, 2, 1, 0, 0, 4])
    rates = group_rates_hz(step, cell, [np.array([0, 1]), np.array([2])], n_cells=5,
                           start_step=100, n_bins=3, steps_per_bin=10, dt_ms=0.1)
    assert rates.shape == (3, 2)
    np.testing.assert_allclose(rates[:, 0], np.array([3, 0, 1]) / 2 / 1e-3)
    np.testing.assert_allclose(rates[:, 1], np.array([0, 1, 0]) / 1 / 1e-3)


def test_shuffled_groups_have_the_assemblies_sizes_and_are_reproducible():
    sizes = np.array([79, 77, 67])
    groups = shuffled_groups(sizes, n_exc=1600)
    assert [g.size for g in groups] == [79] * 4 + [77] * 4 + [67] * 4
    assert all(np.unique(g).size == g.size and g.max() < 1600 for g in groups)
    again = shuffled_groups(sizes, n_exc=1600)
    assert all(np.array_equal(a, b) for a, b in zip(groups, again, strict=True))
    # not the same cells every time: the groups are random, not the first cells
    assert len({tuple(g[:5]) for g in groups}) == len(groups)
