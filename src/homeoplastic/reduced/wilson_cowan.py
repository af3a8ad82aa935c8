"""The deterministic (N -> infinity) limit: Wilson-Cowan equations and their stable states.

dx_k/dt = -alpha x_k + f(s_k),  s_k = sum_l W_kl x_l - w_inh sum_l x_l + I.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from homeoplastic.reduced.activation import _sigmoid, activation, activation_slope
from homeoplastic.reduced.params import PopulationModel


def check_weights(weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    """Validate a weight matrix W[post, pre] against the model; return it as float64."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (model.n_pops, model.n_pops):
        raise ValueError(f"weights must have shape ({model.n_pops}, {model.n_pops}), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    return w


def inputs(x: np.ndarray, weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    """Synaptic input s_k to every population at rates x (x = n / N)."""
    x = np.asarray(x, dtype=np.float64)
    return weights @ x - model.w_inh * np.sum(x, axis=-1, keepdims=True).T[0] + model.external_input


def drift(x: np.ndarray, weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    """Wilson-Cowan right-hand side -alpha x + f(s)."""
    return -model.alpha * x + activation(inputs(x, weights, model), model.activation)


def jacobian(x: np.ndarray, weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    """Jacobian of the Wilson-Cowan drift at x."""
    slope = activation_slope(inputs(x, weights, model), model.activation)
    coupling = weights - model.w_inh
    return slope[:, None] * coupling - model.alpha * np.eye(model.n_pops)


def relax(
    x0: np.ndarray,
    weights: np.ndarray,
    model: PopulationModel,
    *,
    dt: float = 0.1,
    t_max: float = 2000.0,
    tol: float = 1e-9,
) -> np.ndarray:
    """Integrate the Wilson-Cowan equations (RK4) from x0 until the drift vanishes; return x."""
    a = model.activation
    params = np.array([model.w_inh, model.external_input, model.alpha, a.f_max, a.s_half, a.width])
    x = _rk4_relax(
        np.array(x0, dtype=np.float64),
        np.ascontiguousarray(weights, dtype=np.float64),
        params,
        dt,
        int(t_max / dt),
        tol,
    )
    return _newton_polish(x, weights, model)


@njit(cache=True)
def _wc_rhs(x, weights, params, out):
    w_inh, ext, alpha, f_max, s_half, width = (
        params[0],
        params[1],
        params[2],
        params[3],
        params[4],
        params[5],
    )
    m = x.shape[0]
    total = 0.0
    for k in range(m):
        total += x[k]
    for k in range(m):
        s = ext - w_inh * total
        for col in range(m):
            s += weights[k, col] * x[col]
        out[k] = -alpha * x[k] + _sigmoid(s, f_max, s_half, width)


@njit(cache=True)
def _rk4_relax(x, weights, params, dt, n_steps, tol):
    m = x.shape[0]
    k1 = np.empty(m)
    k2 = np.empty(m)
    k3 = np.empty(m)
    k4 = np.empty(m)
    tmp = np.empty(m)
    for _ in range(n_steps):
        _wc_rhs(x, weights, params, k1)
        if np.max(np.abs(k1)) < tol:
            break
        for k in range(m):
            tmp[k] = x[k] + 0.5 * dt * k1[k]
        _wc_rhs(tmp, weights, params, k2)
        for k in range(m):
            tmp[k] = x[k] + 0.5 * dt * k2[k]
        _wc_rhs(tmp, weights, params, k3)
        for k in range(m):
            tmp[k] = x[k] + dt * k3[k]
        _wc_rhs(tmp, weights, params, k4)
        for k in range(m):
            x[k] += dt / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k])
    return x


def _newton_polish(x: np.ndarray, weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    for _ in range(20):
        g = drift(x, weights, model)
        if np.max(np.abs(g)) < 1e-13:
            break
        step = np.linalg.solve(jacobian(x, weights, model), g)
        x = x - step
    return x


def is_stable(x: np.ndarray, weights: np.ndarray, model: PopulationModel) -> bool:
    """True when every eigenvalue of the Jacobian at x has negative real part."""
    return bool(np.max(np.linalg.eigvals(jacobian(x, weights, model)).real) < 0.0)


def stable_states(weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    """All stable fixed points found from every corner of {low, high}^M (sorted, K x M).

    The corners cover one initial condition per pattern of active populations, which finds every
    stable state of the sigmoid model with global inhibition (each population is low or high).
    """
    w = check_weights(weights, model)
    high = model.activation.f_max / model.alpha
    found: list[np.ndarray] = []
    for corner in itertools.product((0.0, high), repeat=model.n_pops):
        x = relax(np.array(corner), w, model)
        if not np.max(np.abs(drift(x, w, model))) < 1e-8 or not is_stable(x, w, model):
            continue
        if not any(np.max(np.abs(x - y)) < 1e-6 for y in found):
            found.append(x)
    found.sort(key=lambda v: tuple(v))
    return np.array(found).reshape(len(found), model.n_pops)

