"""XOR network built by construction, balanced and anti-balanced under noise (docs/models/balancing.md, 8).

As in ``rnnops.analysis.xor_networks_task_manifold_robustness``: the four conditions of two binary
inputs are "expanded" (each bit and its complement, so every input has the same norm), each
condition gets a chosen fixed point x_k, and the pseudoinverse rule gives the minimum-norm J with
``J relu(X) = X - W_in U`` (rank <= 4), the readout ``W_out = T X^+`` (targets: XOR and its
complement). The network is balanced with the robustness cost and anti-balanced (h -> -h, away
from balance; the authors ran the flow backwards), and the three are run under neural noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.balancing.costs import robustness_cost
from homeoplastic.balancing.solvers import (
    SolverOptions,
    balance_costs,
    balance_pinned,
    balanced_costs,
)
from homeoplastic.balancing.transform import RateNetwork, simulate_relu, transform_network

__all__ = ["XorResult", "xor_inputs", "xor_network", "xor_robustness"]


def xor_inputs() -> tuple[np.ndarray, np.ndarray]:
    """Expanded inputs (4 conditions x 4 channels) and expanded XOR targets (4 x 2)."""
    bits = np.array([(a, b) for a in (0, 1) for b in (0, 1)], dtype=np.float64)
    u = np.column_stack([bits[:, 0], 1 - bits[:, 0], bits[:, 1], 1 - bits[:, 1]])
    y = np.logical_xor(bits[:, 0], bits[:, 1]).astype(np.float64)
    return u, np.column_stack([y, 1 - y])


def xor_network(n: int, rng: np.random.Generator, spread: float = 0.5) -> RateNetwork:
    """Fixed points ``X = W_in U + spread * Z`` (Z iid normal), J and W_out by pseudoinverse."""
    if n < 4:
        raise ValueError(f"n must be >= 4 (one fixed point per condition), got {n}")
    if not (np.isfinite(spread) and spread > 0):
        raise ValueError(f"spread must be finite and > 0, got {spread}")
    u, t = xor_inputs()
    W_in = rng.normal(0.0, 1.0, (n, 4))
    drive = W_in @ u.T  # (N, 4 conditions)
    X = drive + spread * rng.normal(0.0, 1.0, (n, 4))
    J = (X - drive) @ np.linalg.pinv(np.maximum(X, 0.0))
    W_out = t.T @ np.linalg.pinv(X)
    return RateNetwork(J=J, W_in=W_in, b=np.zeros(n), W_out=W_out)


@dataclass(frozen=True)
class XorResult:
    """Final-output MSE under noise and the robustness costs of the three networks."""

    mse: dict[str, float]
    cost: dict[str, float]
    noiseless_error: dict[str, float]
    noiseless_diff: float


def xor_robustness(
    net: RateNetwork,
    sigma: float = 0.2,
    t_max: float = 50.0,
    dt: float = 0.05,
    n_trials: int = 50,
    seed: int = 0,
    gain_floor: float = 0.01,
    silent_gain: float = 0.05,
) -> XorResult:
    """Original, balanced and anti-balanced XOR networks under neural noise ``sigma``.

    Each condition's input is held for ``t_max`` (tau); the error is the mean squared difference
    between the output at the end and the XOR target, over conditions and ``n_trials`` noise
    draws (the same draws for every network). ``balanced_pinned`` keeps the silent neurons
    (r < ``silent_gain``) at h = 0 and the others' mean h at 0 (:func:`balance_pinned`);
    the anti-balanced network is its mirror image h -> -h.
    """
    u, t = xor_inputs()
    steps = round(t_max / dt)
    xs = [simulate_relu(net, np.repeat(u[k : k + 1], steps, axis=0), dt)[0] for k in range(4)]
    gains = np.mean([(x[1:] > 0).mean(axis=0) for x in xs], axis=0)
    c0 = robustness_cost(net.J, gains, gain_floor)
    # Neurons negative in every condition have no outgoing synapses (zero columns of J): frozen.
    opts = SolverOptions(tol=1e-10, max_iter=200, dead="freeze")
    res = balance_costs(c0, 2.0, "newton", opts)
    pin = balance_pinned(c0, gains < silent_gain, 2.0, SolverOptions(tol=1e-10, max_iter=200))
    nets = {
        "original": net,
        "balanced": transform_network(net, res.h),
        "balanced_pinned": transform_network(net, pin.h),
        "anti_balanced": transform_network(net, -pin.h),
    }
    cost = {"original": float(c0.sum()), "balanced": res.cost_after,
            "balanced_pinned": pin.cost_after,
            "anti_balanced": float(balanced_costs(c0, -pin.h, 2.0).sum())}
    mse, clean = {}, {}
    for name, m in nets.items():
        err, err0 = [], []
        for k in range(4):
            inp = np.repeat(u[k : k + 1], steps, axis=0)
            err0.append(np.mean((simulate_relu(m, inp, dt)[1][-1] - t[k]) ** 2))
            for trial in range(n_trials):
                rng = np.random.default_rng([seed, k, trial])
                y = simulate_relu(m, inp, dt, sigma, rng)[1][-1]
                err.append(np.mean((y - t[k]) ** 2))
        mse[name], clean[name] = float(np.mean(err)), float(np.mean(err0))
    y_orig = simulate_relu(net, np.repeat(u[:1], steps, axis=0), dt)[1]
    y_bal = simulate_relu(nets["balanced"], np.repeat(u[:1], steps, axis=0), dt)[1]
    return XorResult(mse=mse, cost=cost, noiseless_error=clean,
                     noiseless_diff=float(np.max(np.abs(y_bal - y_orig))))
