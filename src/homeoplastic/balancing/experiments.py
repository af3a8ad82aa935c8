"""Experiments of the balancing workflow: each returns an xarray Dataset (plus ragged groups).

Every variable and coordinate carries ``units`` and ``long_name``. Randomness comes from
``numpy.random.SeedSequence`` built from the run's seed and sweep values, never from the clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import xarray as xr

from homeoplastic.balancing.bounds import cost_bounds
from homeoplastic.balancing.costs import imbalance, power_law_cost, robustness_cost
from homeoplastic.balancing.diagnostics import laplacian, per_neuron_residual
from homeoplastic.balancing.ensembles import parse_rank, random_network
from homeoplastic.balancing.perturbation import (
    neural_sheet,
    rebalance_after_potentiation,
    relaxation_modes,
)
from homeoplastic.balancing.rnn import (
    TrainConfig,
    forward,
    heldout_r2,
    imbalance_null,
    init_network,
    mean_gains,
    noise_robustness,
    train,
)
from homeoplastic.balancing.solvers import (
    SolverOptions,
    balance_costs,
    balance_pinned,
    balanced_costs,
    flow_trajectory,
)
from homeoplastic.balancing.task import IntegrationTask, generate_trials
from homeoplastic.balancing.transform import RateNetwork, transform_network
from homeoplastic.balancing.two_neuron import reciprocal_pair_trajectory, single_synapse_cost
from homeoplastic.parameters import check_fields, param, require

__all__ = [
    "SweepPoint",
    "balance_sweep_point",
    "perturbation_experiment",
    "rnn_robustness",
    "rnn_train",
    "sweep_summary",
    "two_neuron_experiment",
    "xor_experiment",
]

ONE = "1"


def _var(dims, data, long_name: str, units: str = ONE) -> xr.Variable:
    return xr.Variable(dims, np.asarray(data), attrs={"long_name": long_name, "units": units})


def _sweep_coords(**values) -> dict[str, xr.Variable]:
    names = {
        "n": "network size N",
        "rank": "rank of J",
        "p": "cost exponent p",
        "seed": "random seed",
        "arm": "training arm",
        "lam": "penalty or balancing rate lambda",
        "side": "sheet side length",
    }
    return {k: _var((), v, names.get(k, k), "1") for k, v in values.items()}


@dataclass(frozen=True)
class SweepPoint:
    """One point of the size x rank x p x seed sweep (the point from the wildcards, the solver
    settings from ``balancing.sweep``)."""

    n: int = param(description="Network size N.", unit="neurons", minimum=2, config=False)
    rank: str = param(description='Rank of J, an integer or "full".', config=False)
    p: float = param(description="Cost exponent p of c = |J|^p (finite, non-zero).", unit="1",
                     config=False)
    seed: int = param(description="Seed of the network.", unit="1", minimum=0, config=False)
    solver: str = param("newton", enum=("newton", "sweeps", "flow"),
                        description="Reference solver for the balanced cost.")
    tol: float = param(1e-10, unit="1", exclusive_minimum=0, maximum=0.001,
                       description="Stopping tolerance of the reference solver on ||g||/C.")
    flow_max_iter: int = param(20000, unit="steps", minimum=1, maximum=10000000,
                               description="Cap on gradient-flow steps when measuring convergence "
                                           "time to ||g||/C < 1e-8; runs that hit it are reported "
                                           "as capped and left out of the flow-time averages.")

    def __post_init__(self) -> None:
        where = check_fields(self, "balancing.sweep")
        parse_rank(self.rank, self.n)
        # a rank above the size would run at rank n under the name of the larger rank (issue 26)
        require(self.rank == "full" or int(self.rank) <= self.n, f"{where}.rank", self.rank,
                f'an integer <= n = {self.n} or "full"')
        require(bool(np.isfinite(self.p)) and self.p != 0, f"{where}.p", self.p,
                "finite and non-zero")


BALANCE_QUANTITIES = (
    "cost_before", "cost_after", "cost_ratio", "lower_bound_ratio", "upper_bound_ratio",
    "rel_imbalance", "max_residual", "median_residual", "solver_iterations", "solver_converged",
    "weight_change", "cost_drop", "solver_wall_s", "flow_iterations", "flow_time",
    "flow_converged", "flow_hit_cap", "flow_rel_imbalance", "flow_wall_s", "relaxation_time",
    "rank_effective",
)
"""The scalar results of one sweep point (:func:`balance_sweep_point`): the quantities a sweep
figure panel may plot (``balancing.figures.panels[].y``)."""


def balance_sweep_point(pt: SweepPoint) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """Random J of size n and rank r; cost ratio after/before, both bounds, convergence.

    The network depends on (seed, n, rank) only, so every p balances the same J. The reference
    optimum comes from ``pt.solver``; the local flow is run separately (capped at
    ``flow_max_iter`` steps) to measure its convergence time in units of tau_h.
    """
    r_eff = parse_rank(pt.rank, pt.n)
    rng = np.random.default_rng(np.random.SeedSequence([pt.seed, pt.n, r_eff]))
    J = random_network(pt.n, pt.rank, rng)
    c0 = power_law_cost(J, pt.p)
    bounds = cost_bounds(c0)
    ref = balance_costs(c0, pt.p, pt.solver, SolverOptions(tol=pt.tol, max_iter=500))
    flow = balance_costs(c0, pt.p, "flow", SolverOptions(tol=1e-8, max_iter=pt.flow_max_iter))
    cf = balanced_costs(c0, ref.h, pt.p)
    Jf = J * np.exp(ref.h[None, :] - ref.h[:, None])
    resid = per_neuron_residual(cf)
    lam = np.linalg.eigvalsh(laplacian(cf))
    fiedler = float(lam[1]) if lam.size > 1 else np.nan
    ds = xr.Dataset(
        {
            "cost_before": _var((), bounds.cost_before, "total cost before balancing C0"),
            "cost_after": _var((), ref.cost_after, "total cost after balancing Cf"),
            "cost_ratio": _var((), ref.cost_after / bounds.cost_before, "cost ratio Cf/C0"),
            "lower_bound_ratio": _var((), bounds.lower_ratio, "geometric lower bound sum sqrt(c c^T)/C0"),
            "upper_bound_ratio": _var((), bounds.upper_ratio, "descent bound 1-|g0|^2/(2MC0)"),
            "rel_imbalance": _var((), ref.rel_imbalance, "final |g|/C (reference solver)"),
            "max_residual": _var((), resid.max(), "max per-neuron residual |g|/(in+out)"),
            "median_residual": _var((), np.median(resid), "median per-neuron residual"),
            "solver_iterations": _var((), ref.iterations, f"{pt.solver} iterations"),
            "solver_converged": _var((), ref.converged, f"{pt.solver} reached |g|/C < tol"),
            "weight_change": _var(
                (), float(np.linalg.norm(J - Jf) / np.linalg.norm(J)), "|J0 - Jf|_F / |J0|_F"
            ),
            "cost_drop": _var((), bounds.cost_before - ref.cost_after, "cost drop C0 - Cf"),
            "solver_wall_s": _var((), ref.wall_s, f"{pt.solver} wall time", "s"),
            "flow_iterations": _var((), flow.iterations, "gradient-flow steps to |g|/C<1e-8"),
            "flow_time": _var((), flow.flow_time, "gradient-flow time to |g|/C<1e-8", "tau_h"),
            "flow_converged": _var((), flow.converged, "flow reached |g|/C<1e-8"),
            "flow_hit_cap": _var((), flow.status == "max_iter", "flow stopped at its step cap"),
            "flow_rel_imbalance": _var((), flow.rel_imbalance, "final |g|/C of the flow"),
            "flow_wall_s": _var((), flow.wall_s, "gradient-flow wall time", "s"),
            "relaxation_time": _var(
                (), 1.0 / (abs(pt.p) * fiedler), "relaxation time 1/(p lambda2)", "tau_h"
            ),
            "rank_effective": _var((), r_eff, "effective rank of J"),
        },
        coords=_sweep_coords(n=pt.n, rank=str(pt.rank), p=float(pt.p), seed=pt.seed),
    )
    neuron = np.arange(pt.n)
    g0 = imbalance(c0)
    neurons = xr.Dataset(
        {
            "h": _var(("neuron",), ref.h, "log-scale h of the balanced network"),
            "incoming_before": _var(("neuron",), c0.sum(axis=1), "incoming cost before"),
            "outgoing_before": _var(("neuron",), c0.sum(axis=0), "outgoing cost before"),
            "imbalance_before": _var(("neuron",), g0, "imbalance g = in - out before"),
            "incoming_after": _var(("neuron",), cf.sum(axis=1), "incoming cost after"),
            "outgoing_after": _var(("neuron",), cf.sum(axis=0), "outgoing cost after"),
            "residual_after": _var(("neuron",), resid, "balance residual |g|/(in+out) after"),
        },
        coords={"neuron": _var(("neuron",), neuron, "neuron index")},
    )
    return ds, {"neurons": neurons}


def sweep_summary(ds: xr.Dataset) -> xr.Dataset:
    """Mean and standard deviation over seeds of the sweep's scalar results (lazy).

    The cost ratios come from the reference solver (runs where it did not converge are left out);
    the flow's convergence time averages only runs where the flow converged: runs that hit the
    step cap are counted in ``flow_capped`` and excluded, so the reported time is not a cap.
    """
    keys = [
        "cost_ratio",
        "lower_bound_ratio",
        "upper_bound_ratio",
        "flow_time",
        "flow_iterations",
        "max_residual",
        "relaxation_time",
        "weight_change",
    ]
    flow_keys = ("flow_time", "flow_iterations")
    out = {}
    for k in keys:
        ok = ds["flow_converged"] if k in flow_keys else ds["solver_converged"]
        da = ds[k].where(ok)
        mean = da.mean("seed")
        mean.attrs = dict(ds[k].attrs, long_name=f"{ds[k].attrs.get('long_name', k)} (seed mean)")
        std = da.std("seed")
        std.attrs = dict(ds[k].attrs, long_name=f"{ds[k].attrs.get('long_name', k)} (seed std)")
        out[f"{k}_mean"] = mean
        out[f"{k}_std"] = std
    out["flow_converged_runs"] = ds["flow_converged"].sum("seed")
    out["flow_converged_runs"].attrs = {"long_name": "seeds where the flow converged", "units": ONE}
    out["flow_capped_runs"] = ds["flow_hit_cap"].sum("seed")
    out["flow_capped_runs"].attrs = {"long_name": "seeds where the flow hit its cap", "units": ONE}
    out["reference_converged_runs"] = ds["solver_converged"].sum("seed")
    out["reference_converged_runs"].attrs = {
        "long_name": "seeds where the reference solver converged", "units": ONE,
    }
    res = xr.Dataset(out)
    for c in res.coords:
        res[c].attrs = dict(ds[c].attrs)
    return res


def two_neuron_experiment(
    b: float = 1.6,
    c: float = 0.4,
    diag: float = 0.3,
    p_values=(1.0, 2.0),
    t_max: float = 2.0,
    dt: float = 1e-3,
    n_records: int = 201,
) -> xr.Dataset:
    """Reciprocal pair (closed form vs Euler flow) and a single synapse (no minimum)."""
    steps = round(t_max / dt)
    every = max(1, steps // (n_records - 1))
    J_pair = np.array([[diag, b], [c, -diag]])
    J_single = np.array([[diag, b], [0.0, -diag]])
    rec = {k: [] for k in ("J12", "J21", "J12_exact", "J21_exact", "s", "s_exact")}
    t = None
    for p in p_values:
        t, h = flow_trajectory(power_law_cost(J_pair, p), p, dt, steps, every)
        ex = reciprocal_pair_trajectory(b, c, p, t)
        d = h[:, 1] - h[:, 0]
        rec["J12"].append(b * np.exp(d))
        rec["J21"].append(c * np.exp(-d))
        rec["J12_exact"].append(ex["J12"])
        rec["J21_exact"].append(ex["J21"])
        _, hs = flow_trajectory(power_law_cost(J_single, p), p, dt, steps, every)
        rec["s"].append(abs(b) ** p * np.exp(p * (hs[:, 1] - hs[:, 0])))
        rec["s_exact"].append(single_synapse_cost(b, p, t))
    dims = ("p", "time")
    return xr.Dataset(
        {
            "J12_flow": _var(dims, rec["J12"], "reciprocal pair J12 (2->1), Euler flow"),
            "J21_flow": _var(dims, rec["J21"], "reciprocal pair J21 (1->2), Euler flow"),
            "J12_exact": _var(dims, rec["J12_exact"], "reciprocal pair J12, closed form"),
            "J21_exact": _var(dims, rec["J21_exact"], "reciprocal pair J21, closed form"),
            "limit": _var((), np.sqrt(abs(b * c)), "balanced magnitude sqrt|J12 J21|"),
            "single_cost_flow": _var(dims, rec["s"], "single-synapse cost, Euler flow"),
            "single_cost_exact": _var(dims, rec["s_exact"], "single-synapse cost s0/(1+2p s0 t)"),
        },
        coords={
            "p": _var(("p",), np.asarray(p_values, float), "cost exponent p"),
            "time": _var(("time",), t, "balancing time", "tau_h"),
        },
    )


def perturbation_experiment(
    side: int = 11, eps: float = 0.05, p: float = 2.0, eps_sweep=(0.001, 0.01, 0.05, 0.1, 0.3)
) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """Balanced periodic 2-D sheet, the synapse right-neighbour -> centre potentiated by ``eps``.

    Root: linear-vs-exact error against eps. Groups: per-neuron dh and per-synapse dJ/J, and the
    sheet's four slowest relaxation modes (Laplacian eigenvectors, docs/models/balancing.md, 5).
    """
    J, xy = neural_sheet(side)
    centre = (side // 2) * side + side // 2
    pre = ((side // 2 + 1) % side) * side + side // 2
    errs = []
    for e in eps_sweep:
        o = rebalance_after_potentiation(J, centre, pre, e, p)
        errs.append(np.linalg.norm(o["dh_linear"] - o["dh_exact"]) / np.linalg.norm(o["dh_exact"]))
    out = rebalance_after_potentiation(J, centre, pre, eps, p)
    post_idx, pre_idx = np.nonzero(J)
    ds = xr.Dataset(
        {
            "rel_error": _var(("eps",), errs, "|dh_linear - dh_exact| / |dh_exact|"),
            "post_neuron": _var((), centre, "postsynaptic neuron of the potentiated synapse"),
            "pre_neuron": _var((), pre, "presynaptic neuron of the potentiated synapse"),
            "eps_shown": _var((), eps, "potentiation shown in the maps"),
        },
        coords={
            "eps": _var(("eps",), np.asarray(eps_sweep, float), "relative potentiation eps"),
            "side": _var((), side, "sheet side length"),
            "p": _var((), p, "cost exponent p"),
        },
    )
    neurons = xr.Dataset(
        {
            "x": _var(("neuron",), xy[:, 0], "grid column", "lattice units"),
            "y": _var(("neuron",), xy[:, 1], "grid row", "lattice units"),
            "dh_linear": _var(("neuron",), out["dh_linear"], "log-scale shift, linear L+ dg/p"),
            "dh_exact": _var(("neuron",), out["dh_exact"], "log-scale shift, exact re-balancing"),
        },
        coords={"neuron": _var(("neuron",), np.arange(side * side), "neuron index")},
    )
    synapses = xr.Dataset(
        {
            "post": _var(("synapse",), post_idx, "postsynaptic neuron"),
            "pre": _var(("synapse",), pre_idx, "presynaptic neuron"),
            "dJ_rel_linear": _var(
                ("synapse",), out["dJ_rel_linear"][post_idx, pre_idx], "dJ/J linear prediction"
            ),
            "dJ_rel_exact": _var(
                ("synapse",), out["dJ_rel_exact"][post_idx, pre_idx], "dJ/J exact re-balancing"
            ),
        },
        coords={"synapse": _var(("synapse",), np.arange(post_idx.size), "synapse index")},
    )
    lam, vecs = relaxation_modes(J, p, 4)
    modes = xr.Dataset(
        {
            "eigenvalue": _var(("mode",), lam, "Laplacian eigenvalue lambda_k of the sheet"),
            "rate": _var(("mode",), abs(p) * lam, "relaxation rate p lambda_k", "1/tau_h"),
            "dh": _var(("mode", "neuron"), vecs, "eigenmode dh (unit norm)"),
            "eigenvalue_lattice": _var(
                (), 2.0 * (2.0 - 2.0 * np.cos(2 * np.pi / side)),
                "smallest non-zero eigenvalue of the periodic lattice, 2 (2 - 2 cos(2 pi / side))",
            ),
        },
        coords={"mode": _var(("mode",), np.arange(1, 5), "mode index (0 = gauge, dropped)")},
    )
    return ds, {"neurons": neurons, "synapses": synapses, "modes": modes}


@dataclass(frozen=True)
class RNNSetup:
    """Network size and task parameters of the RNN experiment (docs/models/balancing.md, 7)."""

    n: int = param(100, unit="neurons", minimum=2, maximum=2048,
                   description="Recurrent ReLU units (256 in the released code; config/paper.yaml).")
    n_timesteps: int = param(50, unit="samples (tau each)", minimum=1, maximum=1000,
                             description="Input samples per trial (paper: 50).")
    sigma_in: float = param(0.3, unit="1", minimum=0,
                            description="Std of the sensory input noise per sample.")
    sigma_ctx: float = param(0.3, unit="1", minimum=0,
                             description="Std of the context input noise per sample.")
    rec_scale: float = param(1.0, unit="1/√N", exclusive_minimum=0, maximum=10,
                             description="Initial W_rec std.")

    def __post_init__(self) -> None:
        check_fields(self, "balancing.rnn")


def _task(setup: RNNSetup) -> IntegrationTask:
    return IntegrationTask(setup.n_timesteps, setup.sigma_ctx, setup.sigma_in)


def rnn_train(
    setup: RNNSetup, cfg: TrainConfig, seed: int, n_permutations: int = 1000
) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """Train one arm; initial network and batches depend on ``seed`` only (shared by arms).

    Stores the training history, the held-out R^2 of the final network (fresh noiseless trials),
    whether the validation loss is flat at the end, and the row-permutation null distribution of
    the final imbalance (docs/models/balancing.md, 7.2).
    """
    ss = [np.random.SeedSequence([seed, k]) for k in range(5)]
    net0 = init_network(setup.n, np.random.default_rng(ss[0]), setup.rec_scale)
    task = _task(setup)
    u_val, t_val, _ = generate_trials(task, np.random.default_rng(ss[3]), 2)
    net, hist = train(net0, task, cfg, np.random.default_rng(ss[1]), (u_val, t_val))
    u_test, t_test, _ = generate_trials(task, np.random.default_rng(ss[4]), 10)
    r2 = heldout_r2(net, u_test, t_test, cfg.dt, cfg.substeps)
    r2_init = heldout_r2(net0, u_test, t_test, cfg.dt, cfg.substeps)
    c_final = net.J**2
    g_final = float(np.linalg.norm(imbalance(c_final)))
    null = imbalance_null(c_final, n_permutations, np.random.default_rng(ss[2]))
    val = hist["val_loss"]
    k = max(1, val.size // 5)
    late, before = float(np.mean(val[-k:])), float(np.mean(val[-2 * k : -k]))
    vr2 = hist["val_r2"]
    r2_change = float(np.mean(vr2[-k:]) - np.mean(vr2[-2 * k : -k]))
    it = ("iteration",)
    ds = xr.Dataset(
        {
            "loss": _var(it, hist["loss"], "task loss (RMSE)"),
            "objective": _var(it, hist["objective"], "training objective"),
            "cost": _var(it, hist["cost"], "recurrent cost sum J^2"),
            "imbalance_norm": _var(it, hist["imbalance_norm"], "imbalance norm |g| (p=2, J)"),
            "q_norm": _var(it, hist["q_norm"], "conserved-quantity norm |Q|"),
            "val_loss": _var(it, val, "validation loss (noiseless RMSE, fixed trials)"),
            "heldout_r2": _var((), r2, "held-out R^2 of the trained network"),
            "heldout_r2_initial": _var((), r2_init, "held-out R^2 of the initial network"),
            "val_r2": _var(it, vr2, "validation R^2 (noiseless, fixed trials)"),
            "loss_late_change": _var(
                (), (late - before) / before, "relative change of val loss over the last fifth"
            ),
            "r2_late_change": _var((), r2_change, "change of validation R^2 over the last fifth"),
            "imbalance_final": _var((), g_final, "final imbalance |g| (p=2, J)"),
            "cost_final": _var((), float(c_final.sum()), "final recurrent cost sum J^2"),
            "imbalance_null_mean": _var((), float(null.mean()), "null |g|: mean over row permutations"),
            "imbalance_null_p05": _var((), float(np.quantile(null, 0.05)), "null |g|: 5th percentile"),
            "imbalance_null_p95": _var((), float(np.quantile(null, 0.95)), "null |g|: 95th percentile"),
            "imbalance_null_rank": _var(
                (), float(np.mean(null <= g_final)), "fraction of the null below the final |g|"
            ),
        },
        coords={
            "iteration": _var(it, hist["iteration"], "training iteration"),
            **_sweep_coords(arm=cfg.arm, lam=float(cfg.l2_lambda or cfg.balance_rate), seed=seed),
        },
    )
    state = xr.Dataset(
        {
            "J": _var(("post", "pre"), net.J, "recurrent weights J[post, pre]"),
            "W_in": _var(("post", "input"), net.W_in, "input weights"),
            "b": _var(("post",), net.b, "bias"),
            "W_out": _var(("output", "pre"), net.W_out, "output weights"),
        }
    )
    return ds, {"state": state}


def rnn_robustness(
    state: dict[str, np.ndarray],
    setup: RNNSetup,
    sigmas,
    n_trial_sets: int,
    seed: int,
    dt: float = 0.1,
    substeps: int = 10,
    gain_floor: float = 0.01,
    silent_gain: float = 0.05,
) -> xr.Dataset:
    """Balance a trained network; task loss vs neural noise for the original and two balanced ones.

    Gains r_j come from a noiseless run on ``n_trial_sets`` fresh training sets; evaluation uses
    another ``n_trial_sets`` held-out sets and the same noise realisations for every network.
    ``balanced``: the paper's recurrent robustness cost r_j J_ij^2 (gains floored at
    ``gain_floor``, dead neurons frozen); its flaw is that a nearly silent neuron can take a huge
    h, whose readout weights (and so its injected noise at the output) grow by e^h: the readout
    is from x, so a silent neuron's noise reaches the output whatever its gain.
    ``balanced_pinned``: the same cost with the silent neurons (r_j < ``silent_gain``) kept at
    h = 0 and mean h = 0 over the others (:func:`balance_pinned`), so balancing cannot amplify
    silent neurons nor rescale the whole network.
    """
    net = RateNetwork(state["J"], state["W_in"], state["b"], state["W_out"])
    task = _task(setup)
    ss = np.random.SeedSequence([seed, 2])
    gain_rng, eval_rng = (np.random.default_rng(s) for s in ss.spawn(2))
    u_fit, _, _ = generate_trials(task, gain_rng, n_trial_sets)
    gains = mean_gains(net, u_fit, dt, substeps)
    opts = SolverOptions(tol=1e-10, max_iter=200, dead="freeze", on_missing="warn")
    start = time.perf_counter()
    c_rec = robustness_cost(net.J, gains, gain_floor=gain_floor)
    res = balance_costs(c_rec, 2.0, "newton", opts)
    wall = time.perf_counter() - start
    silent = gains < silent_gain
    res_pin = balance_pinned(
        robustness_cost(net.J, gains, gain_floor=gain_floor), silent, 2.0,
        SolverOptions(tol=1e-10, max_iter=200),
    )
    balanced = transform_network(net, res.h)
    balanced_pin = transform_network(net, res_pin.h)
    # Anti-balanced (docs/models/balancing.md, 8): the same distance from h = 0 the other way, i.e. moving
    # away from balance (the authors ran the flow backwards); it raises the cost.
    anti = transform_network(net, -res_pin.h)
    u, target, _ = generate_trials(task, eval_rng, n_trial_sets)
    xs, y0 = forward(net, u, dt, substeps)
    _, y1 = forward(balanced, u, dt, substeps)
    _, y2 = forward(balanced_pin, u, dt, substeps)
    x_std = float(xs[1:].std())
    sigmas = np.asarray(sigmas, float)
    curves = {
        "original": noise_robustness(net, u, target, sigmas, seed, dt, substeps),
        "balanced": noise_robustness(balanced, u, target, sigmas, seed, dt, substeps),
        "balanced_pinned": noise_robustness(balanced_pin, u, target, sigmas, seed, dt, substeps),
        "anti_balanced": noise_robustness(anti, u, target, sigmas, seed, dt, substeps),
    }
    labels = {"original": "original", "balanced": "balanced",
              "balanced_pinned": "balanced, silent neurons pinned",
              "anti_balanced": "anti-balanced (h -> -h of the pinned balance)"}
    s = ("sigma",)
    data = {}
    for key, curve in curves.items():
        data[f"mse_trial_{key}"] = _var(s, curve["mse_trial"], f"task MSE per trial, {labels[key]}")
        data[f"mse_avg_{key}"] = _var(
            s, curve["mse_avg"], f"MSE of trial-averaged output, {labels[key]}"
        )
    readout = {k: float(np.sum(n_.W_out**2)) for k, n_ in
               (("original", net), ("balanced", balanced), ("balanced_pinned", balanced_pin))}
    return xr.Dataset(
        {
            **data,
            "gain_floor": _var((), gain_floor, "floor on the mean gains r_j"),
            "h_max": _var((), float(res.h.max()), "largest log-scale h (recurrent cost)"),
            "h_max_pinned": _var((), float(res_pin.h.max()), "largest h (silent neurons pinned)"),
            "silent_gain": _var((), silent_gain, "gain below which a neuron is pinned"),
            "n_silent": _var((), int(silent.sum()), "neurons pinned (r_j < silent_gain)"),
            "sigma_normalised": _var(s, sigmas / x_std, "noise sigma / std(x) of original"),
            "robust_cost_before": _var((), res.cost_before, "robustness cost before"),
            "robust_cost_after": _var((), res.cost_after, "robustness cost after balancing"),
            "robust_cost_after_pinned": _var(
                (), res_pin.cost_after, "robustness cost after balancing, silent pinned"
            ),
            "robust_cost_anti": _var(
                (), float(balanced_costs(c_rec, -res_pin.h, 2.0).sum()),
                "robustness cost of the anti-balanced network",
            ),
            "readout_power_original": _var((), readout["original"], "sum W_out^2, original"),
            "readout_power_balanced": _var((), readout["balanced"], "sum W_out^2, balanced"),
            "readout_power_balanced_pinned": _var(
                (), readout["balanced_pinned"], "sum W_out^2, balanced with silent pinned"
            ),
            "frobenius_before": _var((), float(np.sum(net.J**2)), "sum J^2 before"),
            "frobenius_after": _var((), float(np.sum(balanced.J**2)), "sum J^2 after"),
            "n_dead": _var((), int(np.sum(gains == 0)), "neurons never active (r = 0)"),
            "noiseless_output_diff": _var(
                (), float(max(np.max(np.abs(y1 - y0)), np.max(np.abs(y2 - y0)))),
                "max |y_balanced - y_original| without noise (both balanced networks)",
            ),
            "rel_imbalance": _var((), res.rel_imbalance, "final |g|/C of robustness balancing"),
            "converged": _var((), bool(res.converged and res_pin.converged),
                              "both robustness balancings converged"),
            "balance_wall_s": _var((), wall, "balancing wall time", "s"),
            "x_std": _var((), x_std, "std of x, original noiseless network"),
        },
        coords={"sigma": _var(s, sigmas, "neural noise sigma (per sqrt(tau))")},
    )


def xor_experiment(
    n: int, spread: float, sigma: float, seed: int, n_trials: int, t_max: float
) -> xr.Dataset:
    """One XOR network by construction (docs/models/balancing.md, 8): MSE under noise and cost
    of each variant."""
    from homeoplastic.balancing.xor import xor_network, xor_robustness

    net = xor_network(n, np.random.default_rng(np.random.SeedSequence([seed, n, 8])), spread)
    res = xor_robustness(net, sigma, t_max, n_trials=n_trials, seed=seed)
    data = {"noiseless_error": _var((), res.noiseless_error["original"],
                                    "noiseless final-output MSE of the original"),
            "noiseless_diff": _var((), res.noiseless_diff, "max |y_balanced - y_original|")}
    for k in res.mse:
        data[f"mse_{k}"] = _var((), res.mse[k], f"final-output MSE under noise, {k}")
        data[f"cost_{k}"] = _var((), res.cost[k], f"robustness cost, {k}")
    return xr.Dataset(data, coords=_sweep_coords(seed=seed))
