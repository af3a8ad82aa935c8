"""The sigmoid activation (per-N birth rate) and its derivative, in NumPy and Numba forms."""

from __future__ import annotations

import numpy as np
from numba import njit

from homeoplastic.reduced.params import Activation


@njit(cache=True)
def _sigmoid(s: float, f_max: float, s_half: float, width: float) -> float:
    z = (s - s_half) / width
    if z >= 0.0:
        return f_max / (1.0 + np.exp(-z))
    e = np.exp(z)
    return f_max * e / (1.0 + e)


def activation(s: np.ndarray | float, act: Activation) -> np.ndarray:
    """f(s) = f_max / (1 + exp(-(s - s_half) / width)), elementwise."""
    z = (np.asarray(s, dtype=np.float64) - act.s_half) / act.width
    return act.f_max * 0.5 * (1.0 + np.tanh(0.5 * z))


def activation_slope(s: np.ndarray | float, act: Activation) -> np.ndarray:
    """df/ds, elementwise."""
    f = activation(s, act)
    return f * (1.0 - f / act.f_max) / act.width
