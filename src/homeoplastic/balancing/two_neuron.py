"""Exact balancing dynamics of two neurons (docs/models/balancing.md, 3), time in units of tau_h.

``J = [[a, b], [c, d]]`` with ``b = J_12`` (2 -> 1) and ``c = J_21`` (1 -> 2).
Reciprocal pair: ``kappa = |bc|^{p/2}``, ``z = p (h2 - h1) + ln(|b|^p / kappa)`` obeys
``tanh(z(t)/2) = tanh(z(0)/2) exp(-4 p kappa t)``; off-diagonal costs ``kappa e^{+-z}``.
Single synapse (c = 0): its cost ``s(t) = s0 / (1 + 2 p s0 t)`` decays without a minimum.
"""

from __future__ import annotations

import numpy as np

from homeoplastic.balancing.costs import _check_p

__all__ = ["reciprocal_pair_trajectory", "single_synapse_cost"]


def reciprocal_pair_trajectory(
    b: float, c: float, p: float, t: np.ndarray
) -> dict[str, np.ndarray | float]:
    """Closed-form trajectory from h = 0 of the reciprocal pair (b, c non-zero).

    Returns z(t), the off-diagonal weights J'_12(t), J'_21(t), the limit magnitude sqrt|bc| and
    the linear relaxation rate 4 p kappa.
    """
    p = _check_p(p)
    if b == 0 or c == 0 or not np.isfinite(b) or not np.isfinite(c):
        raise ValueError(f"b and c must be finite and non-zero for a reciprocal pair, got {b}, {c}")
    t = np.asarray(t, dtype=np.float64)
    kappa = abs(b * c) ** (p / 2)
    z0 = np.log(abs(b) ** p / kappa)
    z = 2.0 * np.arctanh(np.tanh(z0 / 2.0) * np.exp(-4.0 * p * kappa * t))
    delta = (z - z0) / p  # h2 - h1
    return {
        "z": z,
        "delta": delta,
        "J12": b * np.exp(delta),
        "J21": c * np.exp(-delta),
        "limit_magnitude": float(np.sqrt(abs(b * c))),
        "rate": 4.0 * p * kappa,
    }


def single_synapse_cost(b: float, p: float, t: np.ndarray) -> np.ndarray:
    """Cost of the lone synapse 2 -> 1 under the flow: ``s0 / (1 + 2 p s0 t)`` (p > 0)."""
    p = _check_p(p)
    if p < 0:
        raise ValueError("the algebraic decay law is stated for p > 0")
    s0 = abs(b) ** p
    return s0 / (1.0 + 2.0 * p * s0 * np.asarray(t, dtype=np.float64))
