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


def _fake_sweep(flow_converged, cost_ratio):
    seeds = np.arange(len(cost_ratio))
    coords = {"seed": seeds, "n": [50], "rank": ["1"], "p": [2.0]}

    def var(v):
        return (("seed", "n", "rank", "p"), np.asarray(v, dtype=float).reshape(-1, 1, 1, 1))

    conv = np.asarray(flow_converged)
    return xr.Dataset(
        {
            "cost_ratio": var(cost_ratio),
            "lower_bound_ratio": var([0.1] * len(seeds)),
            "upper_bound_ratio": var([0.9] * len(seeds)),
            "flow_time": var(np.where(conv, 5.0, 1000.0)),
            "flow_iterations": var(np.where(conv, 100, 20000)),
            "max_residual": var([1e-10] * len(seeds)),
            "relaxation_time": var([1.0] * len(seeds)),
            "weight_change": var([0.5] * len(seeds)),
            "flow_converged": (("seed", "n", "rank", "p"), conv.reshape(-1, 1, 1, 1)),
            "flow_hit_cap": (("seed", "n", "rank", "p"), ~conv.reshape(-1, 1, 1, 1)),
            "solver_converged": (("seed", "n", "rank", "p"), np.ones((len(seeds), 1, 1, 1), bool)),
        },
        coords=coords,
    )


def test_sweep_summary_leaves_capped_flow_runs_out():
    from homeoplastic.balancing.experiments import sweep_summary

    ds = _fake_sweep([True, True, False], [0.4, 0.42, 0.41])
    s = sweep_summary(ds).compute()
    assert float(s.flow_time_mean.squeeze()) == 5.0  # the capped run's 1000 is not averaged in
    assert int(s.flow_capped_runs.squeeze()) == 1 and int(s.flow_converged_runs.squeeze()) == 2
    np.testing.assert_allclose(float(s.cost_ratio_mean.squeeze()), 0.41)


def test_claims_rows_agree_only_when_the_measurement_does():
    from homeoplastic.balancing.claims import sweep_rows

    good = {r["claim"]: r["agrees"] for r in sweep_rows(_fake_sweep([True] * 3, [0.40] * 3))}
    assert good["rank-one networks lose about 60% of their cost"] == "yes"
    assert good["balancing lowers the cost, within both bounds"] == "yes"
    assert good["the local flow reaches the same optimum"] == "yes"
    bad = {r["claim"]: r["agrees"] for r in sweep_rows(_fake_sweep([True, False, True],
                                                                   [0.95] * 3))}
    assert bad["rank-one networks lose about 60% of their cost"] == "no"
    assert bad["balancing lowers the cost, within both bounds"] == "no"  # above the upper bound
    assert bad["the local flow reaches the same optimum"] == "no"
    few = {r["claim"]: r for r in sweep_rows(_fake_sweep([True] * 2, [0.40] * 2))}
    assert few["rank-one networks lose about 60% of their cost"]["agrees"] == "too few seeds (n = 2)"
    noisy = {r["claim"]: r for r in sweep_rows(_fake_sweep([True] * 3, [0.3, 0.5, 0.41]))}
    row = noisy["rank-one networks lose about 60% of their cost"]  # geometric mean 0.394
    assert row["agrees"] == "yes" and row["null_value"] == "1" and row["n"] == "3"
    assert float(row["ci_low"]) < 0.394 < float(row["ci_high"]) < 1


def test_xor_network_solves_xor_and_balancing_orders_the_costs():
    """Spec 8: pseudoinverse XOR network; balanced < original < anti-balanced cost, same function."""
    from homeoplastic.balancing.xor import xor_inputs, xor_network, xor_robustness

    net = xor_network(40, np.random.default_rng(1), 1.0)
    from homeoplastic.balancing.transform import simulate_relu

    u, t = xor_inputs()
    assert np.linalg.matrix_rank(net.J) <= 4
    for k in range(4):  # the end state is a fixed point x = J relu(x) + W_in u with XOR readout
        x, y = simulate_relu(net, np.repeat(u[k : k + 1], 1000, axis=0), 0.1)
        np.testing.assert_allclose(x[-1], net.J @ np.maximum(x[-1], 0) + net.W_in @ u[k],
                                   atol=1e-3)
        np.testing.assert_allclose(y[-1], t[k], atol=0.05)
    res = xor_robustness(net, sigma=0.2, t_max=20.0, n_trials=3)
    assert res.noiseless_error["original"] < 1e-3  # this seed's fixed points are attracting
    assert res.noiseless_diff < 1e-12
    assert res.cost["balanced"] < res.cost["original"] < res.cost["anti_balanced"]
    assert res.cost["balanced"] <= res.cost["balanced_pinned"] < res.cost["original"]
    assert all(v > 0 for v in res.mse.values())
