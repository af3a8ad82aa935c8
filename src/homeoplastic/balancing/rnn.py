"""ReLU rate RNN on the integration task: forward Euler, hand-written BPTT, three training arms.

Dynamics (docs/models/balancing.md, 7.2, our [post, pre] convention): each input sample lasts tau = 1 and is
integrated with ``substeps`` Euler steps of ``dt``; ``x <- x + dt (-x + J relu(x) + W_in u + b)``
from x = 0, read out linearly from x at the end of every sample. Loss: RMSE over
batch x time x outputs. Arms: ``plain``, ``l2`` (+ lambda sum J^2, optionally on all
weights), ``balance`` (an optimiser step, then the function-preserving multiplicative balancing
step ``J <- e^{-eta lambda G} J e^{eta lambda G}`` with G = diag(g) of the p = 2 cost of J and
eta the initial learning rate, docs/models/balancing.md, 2.7). Optimiser: Adam (default) or SGD, on the
gradient clipped to a global norm, with a cosine learning-rate decay to ``lr_final_factor`` x the rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.balancing.costs import imbalance
from homeoplastic.balancing.task import N_INPUTS, N_OUTPUTS, IntegrationTask, generate_trials
from homeoplastic.balancing.transform import RateNetwork, check_run_args, transform_network
from homeoplastic.parameters import check_fields, param

__all__ = [
    "TrainConfig",
    "balance_quantity",
    "forward",
    "heldout_r2",
    "imbalance_null",
    "init_network",
    "loss_and_grads",
    "mean_gains",
    "noise_robustness",
    "train",
]

ARMS = ("plain", "l2", "balance")
OPTIMIZERS = ("adam", "sgd")
_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings; rates are per iteration, lambda values dimensionless.

    ``batch_sets``: fresh sets of all 8 conditions per training batch (gradient noise falls as
    1/batch_sets).
    """

    arm: str = param("plain", enum=ARMS, config=False,
                     description="Training arm: plain, l2 (L2 penalty) or balance (balancing flow).")
    n_iterations: int = param(1000, unit="iterations", minimum=1, maximum=1000000,
                              description="Training iterations (one batch of batch_sets x 8 "
                                          "conditions each).")
    learning_rate: float = param(5e-3, unit="per iteration", exclusive_minimum=0, maximum=1,
                                 description="Initial learning rate (the released code: 5e-3).")
    optimizer: str = param("adam", enum=OPTIMIZERS,
                           description="adam or sgd (the paper's plain SGD at 0.02 spiked to RMSE "
                                       "~1800 and had not converged).")
    lr_final_factor: float = param(0.1, unit="1", exclusive_minimum=0, maximum=1,
                                   description="Cosine decay of the learning rate to this fraction "
                                               "at the end.")
    clip_norm: float = param(10.0, unit="1", exclusive_minimum=0,
                             description="Global gradient-norm clip.")
    l2_lambda: float = param(0.0, unit="1", minimum=0, config=False,
                             description="L2 penalty on the recurrent weights (arm l2).")
    l2_all_weights: bool = param(False, config=False,
                                 description="The L2 penalty covers every weight, not only J.")
    balance_rate: float = param(0.0, unit="1", minimum=0, config=False,
                                description="Rate of the balancing-flow step (arm balance).")
    dt: float = param(0.1, unit="tau", exclusive_minimum=0, maximum=1,
                      description="Euler step (dt x substeps = 1, one input sample per tau).")
    substeps: int = param(10, unit="steps", minimum=1, maximum=100,
                          description="Euler steps per input sample.")
    log_every: int = param(10, unit="iterations", minimum=1,
                           description="Logging interval of loss, validation loss and R², cost, "
                                       "imbalance.")
    batch_sets: int = param(1, unit="sets of 8 trials", minimum=1, maximum=1000,
                            description="Trials per training batch: this many fresh sets of all 8 "
                                        "conditions (less gradient noise than one set).")

    def __post_init__(self) -> None:
        check_fields(self, "balancing.rnn")
        if self.arm == "plain" and (self.l2_lambda or self.balance_rate):
            raise ValueError("arm 'plain' takes l2_lambda = balance_rate = 0")
        if self.arm == "l2" and self.balance_rate:
            raise ValueError("arm 'l2' takes balance_rate = 0")
        if self.arm == "balance" and self.l2_lambda:
            raise ValueError("arm 'balance' takes l2_lambda = 0")


def init_network(n: int, rng: np.random.Generator, rec_scale: float = 1.0) -> RateNetwork:
    """W_rec, W_in, W_out iid N(0, 1/N) (W_rec std times ``rec_scale``), b = 0
    (docs/models/balancing.md, 7.2)."""
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    s = 1.0 / np.sqrt(n)
    return RateNetwork(
        J=rng.normal(0.0, s * rec_scale, (n, n)),
        W_in=rng.normal(0.0, s, (n, N_INPUTS)),
        b=np.zeros(n),
        W_out=rng.normal(0.0, s, (N_OUTPUTS, n)),
    )


def forward(
    net: RateNetwork,
    inputs: np.ndarray,
    dt: float = 0.1,
    substeps: int = 10,
    noise_sigma: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run a batch, inputs (B, T, n_in).

    Returns states x (T * substeps + 1, B, N) and outputs (B, T, n_out).
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 3 or inputs.shape[2] != net.W_in.shape[1]:
        raise ValueError(f"inputs must have shape (B, T, {net.W_in.shape[1]}), got {inputs.shape}")
    check_run_args(inputs, dt, noise_sigma, rng)
    if int(substeps) != substeps or substeps < 1:
        raise ValueError(f"substeps must be an integer >= 1, got {substeps}")
    b, t_len, _ = inputs.shape
    drive = inputs @ net.W_in.T + net.b  # (B, T, N)
    xs = np.empty((t_len * substeps + 1, b, net.n))
    xs[0] = 0.0
    JT = net.J.T
    noise_scale = np.sqrt(dt) * noise_sigma
    s = 0
    for t in range(t_len):
        d = drive[:, t, :]
        for _ in range(substeps):
            x = xs[s]
            nxt = xs[s + 1]
            np.maximum(x, 0.0, out=nxt)
            nxt[:] = x + dt * (nxt @ JT - x + d)
            if noise_sigma > 0:
                nxt += noise_scale * rng.standard_normal(nxt.shape)
            s += 1
    y = xs[substeps::substeps].transpose(1, 0, 2) @ net.W_out.T
    return xs, y


def loss_and_grads(
    net: RateNetwork,
    inputs: np.ndarray,
    targets: np.ndarray,
    dt: float = 0.1,
    substeps: int = 10,
    l2_lambda: float = 0.0,
    l2_all_weights: bool = False,
) -> tuple[float, float, dict[str, np.ndarray]]:
    """Objective, task RMSE and gradients (keys J, W_in, b, W_out) by backprop through time."""
    xs, y = forward(net, inputs, dt, substeps)
    if targets.shape != y.shape:
        raise ValueError(f"targets must have shape {y.shape}, got {targets.shape}")
    err = y - targets
    rmse = float(np.sqrt(np.mean(err * err)))
    dy = err / (err.size * max(rmse, 1e-300))  # (B, T, n_out)
    b, t_len, _ = inputs.shape
    gJ = np.zeros_like(net.J)
    gWin = np.zeros_like(net.W_in)
    gb = np.zeros_like(net.b)
    gWout = np.zeros_like(net.W_out)
    gx = np.zeros((b, net.n))
    J = net.J
    for t in range(t_len - 1, -1, -1):
        g_drive = np.zeros((b, net.n))
        for k in range(substeps, 0, -1):
            s = t * substeps + k
            if k == substeps:
                gx += dy[:, t, :] @ net.W_out
                gWout += dy[:, t, :].T @ xs[s]
            x_prev = xs[s - 1]
            d = dt * gx
            gJ += d.T @ np.maximum(x_prev, 0.0)
            g_drive += d
            gx = (1.0 - dt) * gx + (d @ J) * (x_prev > 0)
        gWin += g_drive.T @ inputs[:, t, :]
        gb += g_drive.sum(axis=0)
    objective = rmse + l2_lambda * float(np.sum(J * J))
    gJ += 2.0 * l2_lambda * J
    if l2_all_weights and l2_lambda:
        objective += l2_lambda * float(
            np.sum(net.W_in**2) + np.sum(net.b**2) + np.sum(net.W_out**2)
        )
        gWin += 2.0 * l2_lambda * net.W_in
        gb += 2.0 * l2_lambda * net.b
        gWout += 2.0 * l2_lambda * net.W_out
    return objective, rmse, {"J": gJ, "W_in": gWin, "b": gb, "W_out": gWout}


def balance_quantity(net: RateNetwork) -> np.ndarray:
    """Q_k = (incoming - outgoing weight energy) / 2, W_in and b incoming, W_out outgoing (§7.2).

    Conserved by gradient flow on any transformation-invariant loss.
    """
    inc = np.sum(net.J**2, axis=1) + np.sum(net.W_in**2, axis=1) + net.b**2
    out = np.sum(net.J**2, axis=0) + np.sum(net.W_out**2, axis=0)
    return 0.5 * (inc - out)


_NAMES = ("J", "W_in", "b", "W_out")


def _clip(grads: dict[str, np.ndarray], clip: float) -> dict[str, np.ndarray]:
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    if not np.isfinite(norm):
        raise FloatingPointError("gradient is not finite: lower the learning rate")
    scale = min(1.0, clip / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}


def _learning_rate(cfg: TrainConfig, it: int) -> float:
    """Cosine decay from ``learning_rate`` to ``lr_final_factor * learning_rate``."""
    frac = it / max(1, cfg.n_iterations - 1)
    f = cfg.lr_final_factor
    return cfg.learning_rate * (f + (1 - f) * 0.5 * (1 + np.cos(np.pi * frac)))


def _optimizer_step(
    net: RateNetwork, grads: dict[str, np.ndarray], cfg: TrainConfig, it: int,
    state: dict[str, np.ndarray],
) -> RateNetwork:
    lr = _learning_rate(cfg, it)
    grads = _clip(grads, cfg.clip_norm)
    new = {}
    for k in _NAMES:
        g = grads[k]
        if cfg.optimizer == "sgd":
            step = g
        else:
            m = state.setdefault(f"m_{k}", np.zeros_like(g))
            v = state.setdefault(f"v_{k}", np.zeros_like(g))
            m *= _ADAM_B1
            m += (1 - _ADAM_B1) * g
            v *= _ADAM_B2
            v += (1 - _ADAM_B2) * g * g
            mhat = m / (1 - _ADAM_B1 ** (it + 1))
            vhat = v / (1 - _ADAM_B2 ** (it + 1))
            step = mhat / (np.sqrt(vhat) + _ADAM_EPS)
        new[k] = getattr(net, k) - lr * step
    return RateNetwork(**new)


def train(
    net: RateNetwork,
    task: IntegrationTask,
    cfg: TrainConfig,
    rng: np.random.Generator,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[RateNetwork, dict[str, np.ndarray]]:
    """Train on fresh batches of ``cfg.batch_sets`` sets of all 8 conditions; log every ``cfg.log_every``.

    History: iteration, loss (task RMSE), objective, cost (sum J^2), imbalance_norm ||g|| of the
    p = 2 recurrent cost, q_norm ||Q|| of :func:`balance_quantity`, and val_loss / val_r2, the
    noiseless RMSE and R^2 on the fixed ``validation`` (inputs, targets) if given (the training
    loss is one noisy batch).
    """
    n_log = cfg.n_iterations // cfg.log_every + 1
    hist = {
        k: np.full(n_log, np.nan)
        for k in ("loss", "objective", "cost", "imbalance_norm", "q_norm", "val_loss", "val_r2")
    }
    hist["iteration"] = np.zeros(n_log, dtype=np.int64)
    row = 0
    state: dict[str, np.ndarray] = {}
    for it in range(cfg.n_iterations + 1):
        u, target, _ = generate_trials(task, rng, cfg.batch_sets)
        obj, rmse, grads = loss_and_grads(
            net, u, target, cfg.dt, cfg.substeps, cfg.l2_lambda, cfg.l2_all_weights
        )
        if it % cfg.log_every == 0:
            hist["iteration"][row] = it
            hist["loss"][row] = rmse
            hist["objective"][row] = obj
            hist["cost"][row] = float(np.sum(net.J**2))
            hist["imbalance_norm"][row] = float(np.linalg.norm(imbalance(net.J**2)))
            hist["q_norm"][row] = float(np.linalg.norm(balance_quantity(net)))
            if validation is not None:
                _, y_val = forward(net, validation[0], cfg.dt, cfg.substeps)
                mse = float(np.mean((y_val - validation[1]) ** 2))
                hist["val_loss"][row] = np.sqrt(mse)
                hist["val_r2"][row] = 1.0 - mse / float(np.var(validation[1]))
            row += 1
        if it == cfg.n_iterations:
            break
        net = _optimizer_step(net, grads, cfg, it, state)
        if cfg.arm == "balance" and cfg.balance_rate > 0:
            g = imbalance(net.J**2)
            net = transform_network(net, cfg.learning_rate * cfg.balance_rate * g)
    return net, hist


def heldout_r2(
    net: RateNetwork, inputs: np.ndarray, targets: np.ndarray, dt: float = 0.1, substeps: int = 10
) -> float:
    """Coefficient of determination 1 - MSE / Var(target) of the noiseless outputs."""
    _, y = forward(net, inputs, dt, substeps)
    return float(1.0 - np.mean((y - targets) ** 2) / np.var(targets))


def imbalance_null(
    c: np.ndarray, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Null distribution of ||g||: ||g|| of ``c`` with its rows randomly permuted
    (docs/models/balancing.md, 7.2).

    A row permutation keeps the multiset of incoming and of outgoing costs but pairs them at
    random, i.e. the imbalance an unstructured network with these costs would have.
    """
    c = np.asarray(c, dtype=np.float64)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    rows = c.sum(axis=1)
    cols = c.sum(axis=0)
    # Permuting the rows of c permutes the incoming costs and keeps the column sums.
    perms = np.argsort(rng.random((n_permutations, rows.size)), axis=1)
    return np.linalg.norm(rows[perms] - cols[None, :], axis=1)


def mean_gains(
    net: RateNetwork, inputs: np.ndarray, dt: float = 0.1, substeps: int = 10
) -> np.ndarray:
    """Mean ReLU gain r_j: fraction of (time step, trial) pairs with x_j > 0, noiseless run."""
    xs, _ = forward(net, inputs, dt, substeps)
    return (xs[1:] > 0).mean(axis=(0, 1))


def noise_robustness(
    net: RateNetwork,
    inputs: np.ndarray,
    targets: np.ndarray,
    sigmas: np.ndarray,
    seed: int,
    dt: float = 0.1,
    substeps: int = 10,
) -> dict[str, np.ndarray]:
    """Task MSE under neural noise sigma (Euler-Maruyama), per noise level.

    ``mse_trial`` averages the per-trial squared error; ``mse_avg`` (the authors' measure) first
    averages outputs and targets over trials of each condition (8 conditions, trials grouped by
    index mod 8). The same noise realisation (``seed``) is used for every network, each in its own
    coordinates.
    """
    mse_trial = np.empty(len(sigmas))
    mse_avg = np.empty(len(sigmas))
    b = inputs.shape[0]
    if b % 8:
        raise ValueError(f"the batch must hold whole sets of 8 conditions, got {b} trials")
    for k, sigma in enumerate(sigmas):
        rng = np.random.default_rng([seed, k])
        _, y = forward(net, inputs, dt, substeps, float(sigma), rng)
        err = y - targets
        mse_trial[k] = float(np.mean(err**2))
        y_avg = y.reshape(b // 8, 8, *y.shape[1:]).mean(axis=0)
        t_avg = targets.reshape(b // 8, 8, *y.shape[1:]).mean(axis=0)
        mse_avg[k] = float(np.mean((y_avg - t_avg) ** 2))
    return {"mse_trial": mse_trial, "mse_avg": mse_avg}
