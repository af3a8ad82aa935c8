"""Experiment datasets: bounds respected, reproducible from the seed, units on every variable."""

from __future__ import annotations

import numpy as np
import xarray as xr

from homeoplastic.balancing.experiments import (
    SweepPoint,
    balance_sweep_point,
    perturbation_experiment,
    two_neuron_experiment,
)


def _check_attrs(ds: xr.Dataset) -> None:
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs and "long_name" in ds[name].attrs, name


def test_sweep_point_bounds_and_reproducibility():
    pt = SweepPoint(n=60, rank="2", p=2.0, seed=3, flow_max_iter=50_000)
    ds, groups = balance_sweep_point(pt)
    again, _ = balance_sweep_point(pt)
    xr.testing.assert_identical(ds.drop_vars(["solver_wall_s", "flow_wall_s"]),
                                again.drop_vars(["solver_wall_s", "flow_wall_s"]))
    _check_attrs(ds)
    _check_attrs(groups["neurons"])
    assert float(ds.lower_bound_ratio) <= float(ds.cost_ratio) <= float(ds.upper_bound_ratio)
    assert float(ds.max_residual) < 1e-8
    assert bool(ds.flow_converged) and float(ds.flow_time) > 0
    # The flow time to 1e-8 is a few relaxation times (linearised rate p lambda_2).
    assert 1 < float(ds.flow_time) / float(ds.relaxation_time) < 40
    other_p, _ = balance_sweep_point(SweepPoint(n=60, rank="2", p=1.0, seed=3))
    assert float(other_p.cost_before) != float(ds.cost_before)  # same J, different cost


def test_two_neuron_and_perturbation_datasets():
    ds = two_neuron_experiment(t_max=3.0, dt=1e-4, n_records=51)
    _check_attrs(ds)
    np.testing.assert_allclose(ds.J12_flow, ds.J12_exact, rtol=2e-3)
    final = ds.isel(time=-1)
    np.testing.assert_allclose(final.J12_flow, final.J21_flow, rtol=1e-3)  # symmetric
    np.testing.assert_allclose(final.J12_flow, float(ds.limit), rtol=1e-3)
    np.testing.assert_allclose(ds.single_cost_flow, ds.single_cost_exact, rtol=2e-3)
    root, groups = perturbation_experiment(side=5, eps_sweep=(1e-3, 1e-2, 1e-1))
    _check_attrs(root)
    _check_attrs(groups["neurons"])
    _check_attrs(groups["synapses"])
    err = root.rel_error.values
    assert err[0] < 1e-3 and np.all(np.diff(err) > 0)  # error grows ~ linearly in eps
    np.testing.assert_allclose(err[1] / err[0], 10, rtol=0.1)


def test_rnn_train_and_robustness_reproducible_and_function_preserving():
    from homeoplastic.balancing.experiments import RNNSetup, rnn_robustness, rnn_train
    from homeoplastic.balancing.rnn import TrainConfig

    setup = RNNSetup(n=12, n_timesteps=8)
    cfg = TrainConfig(arm="balance", balance_rate=1.0, n_iterations=20, substeps=3, log_every=5)
    a, ga = rnn_train(setup, cfg, seed=4)
    b, gb = rnn_train(setup, cfg, seed=4)
    xr.testing.assert_identical(a, b)
    xr.testing.assert_identical(ga["state"], gb["state"])
    _check_attrs(a)
    state = {k: ga["state"][k].values for k in ga["state"].data_vars}
    rob = rnn_robustness(state, setup, [0.0, 0.5], n_trial_sets=2, seed=4, substeps=3)
    _check_attrs(rob)
    assert float(rob.noiseless_output_diff) < 1e-10
    assert float(rob.robust_cost_after) <= float(rob.robust_cost_before)
    np.testing.assert_allclose(rob.mse_trial_balanced[0], rob.mse_trial_original[0], rtol=1e-10)


def test_sheet_relaxation_modes_match_the_lattice_and_claims_rows():
    from homeoplastic.balancing.claims import perturbation_rows

    root, groups = perturbation_experiment(side=6, eps_sweep=(1e-3, 1e-2, 1e-1))
    modes = groups["modes"]
    _check_attrs(modes)
    # Periodic lattice, unit weights, p = 2: cbar = 2 per edge, lambda_1 = 2 (2 - 2 cos(2 pi/6)).
    np.testing.assert_allclose(modes.eigenvalue.values, 2.0, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(modes.dh.values, axis=1), 1.0)
    rows = perturbation_rows(root, groups["neurons"], groups["synapses"], modes)
    assert [r["agrees"] for r in rows if r["agrees"]] == ["yes"] * 7
