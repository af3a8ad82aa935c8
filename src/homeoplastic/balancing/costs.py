"""Synaptic cost matrices and per-neuron cost bookkeeping (docs/models/balancing.md, 2.1, 2.2).

Convention: ``J[i, j]`` is the synapse from presynaptic neuron ``j`` onto postsynaptic neuron ``i``.
A cost matrix ``c`` has the same layout; neuron ``k``'s incoming cost is its row sum and its
outgoing cost its column sum. Absent synapses (``J_ij == 0``) cost nothing for every ``p`` (for
``p < 0`` the literal ``|0|^p`` would be infinite; an absent synapse is not a synapse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CostSpec",
    "cost_matrix",
    "imbalance",
    "incoming_cost",
    "outgoing_cost",
    "power_law_cost",
    "robustness_cost",
    "scaled_cost",
    "total_cost",
    "validate_cost",
    "validate_square",
]


@dataclass(frozen=True)
class CostSpec:
    """Which cost to minimise: ``c_ij = alpha_ij |J_ij|^p``.

    ``kind`` is ``"power"`` (alpha = 1), ``"scaled"`` (explicit alpha) or ``"robustness"``
    (p = 2, alpha_ij = presynaptic mean gain r_j, docs/models/balancing.md, 2.1).
    """

    p: float = 2.0
    kind: str = "power"

    def __post_init__(self) -> None:
        _check_p(self.p)
        if self.kind not in ("power", "scaled", "robustness"):
            raise ValueError(f"kind must be 'power', 'scaled' or 'robustness', got {self.kind!r}")
        if self.kind == "robustness" and self.p != 2.0:
            raise ValueError(f"the robustness cost has p = 2, got p={self.p}")


def _check_p(p: float) -> float:
    p = float(p)
    if not np.isfinite(p) or p == 0.0:
        raise ValueError(f"p must be a finite non-zero real number, got p={p}")
    return p


def validate_square(matrix: np.ndarray, name: str = "J") -> np.ndarray:
    """Return ``matrix`` as a finite float64 square 2-D array or raise a ValueError naming it."""
    arr = np.asarray(matrix, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix (N x N), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one neuron, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def validate_cost(c: np.ndarray, name: str = "c") -> np.ndarray:
    """A cost matrix: finite, square, non-empty and non-negative, else a ValueError naming it."""
    arr = validate_square(c, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} (a cost matrix) must be non-negative, min is {arr.min():g}")
    return arr


def power_law_cost(J: np.ndarray, p: float = 2.0) -> np.ndarray:
    """Cost ``c_ij = |J_ij|^p`` (zero for absent synapses), for any real ``p != 0``."""
    J = validate_square(J)
    p = _check_p(p)
    mag = np.abs(J)
    c = np.zeros_like(mag)
    nz = mag > 0
    c[nz] = mag[nz] ** p
    return c


def scaled_cost(J: np.ndarray, alpha: np.ndarray, p: float = 2.0) -> np.ndarray:
    """Cost ``c_ij = alpha_ij |J_ij|^p`` with fixed non-negative weights ``alpha`` (shape of J)."""
    c = power_law_cost(J, p)
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.shape != c.shape:
        raise ValueError(f"alpha must have the shape of J {c.shape}, got {alpha.shape}")
    if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
        raise ValueError("alpha must be finite and non-negative")
    return alpha * c


def robustness_cost(J: np.ndarray, gains: np.ndarray, gain_floor: float = 0.0) -> np.ndarray:
    """Robustness cost ``c_ij = r_j J_ij^2`` with ``r_j`` the presynaptic mean gain
    (docs/models/balancing.md, 2.1).

    ``gain_floor`` > 0 replaces gains below it (dead neurons, r = 0) so that a balanced network
    exists; with 0 a dead neuron has no outgoing cost and cannot balance (docs/models/balancing.md, 2.5).
    """
    J = validate_square(J)
    gains = np.asarray(gains, dtype=np.float64)
    if not np.isfinite(gain_floor):
        raise ValueError(f"gain_floor must be finite, got {gain_floor}")
    if gains.shape != (J.shape[0],):
        raise ValueError(f"gains must have shape ({J.shape[0]},), got {gains.shape}")
    if not np.all(np.isfinite(gains)) or np.any(gains < 0):
        raise ValueError("gains must be finite and non-negative (mean ReLU gains lie in [0, 1])")
    if gain_floor < 0:
        raise ValueError(f"gain_floor must be >= 0, got {gain_floor}")
    r = np.maximum(gains, gain_floor)
    return J * J * r[None, :]


def cost_matrix(J: np.ndarray, spec: CostSpec, alpha: np.ndarray | None = None) -> np.ndarray:
    """Cost matrix for ``spec``; ``alpha``: weight matrix ("scaled") or gains ("robustness")."""
    if spec.kind == "power":
        return power_law_cost(J, spec.p)
    if alpha is None:
        raise ValueError(f"cost kind {spec.kind!r} needs alpha (weights or gains)")
    if spec.kind == "scaled":
        return scaled_cost(J, alpha, spec.p)
    return robustness_cost(J, alpha)


def incoming_cost(c: np.ndarray) -> np.ndarray:
    """Incoming cost per neuron: row sums ``in_k = sum_j c_kj``."""
    return validate_cost(c).sum(axis=1)


def outgoing_cost(c: np.ndarray) -> np.ndarray:
    """Outgoing cost per neuron: column sums ``out_k = sum_i c_ik``."""
    return validate_cost(c).sum(axis=0)


def imbalance(c: np.ndarray) -> np.ndarray:
    """Neural imbalance ``g_k = in_k - out_k``; zero for every neuron at balance."""
    c = validate_cost(c)
    return c.sum(axis=1) - c.sum(axis=0)


def total_cost(c: np.ndarray) -> float:
    """Total cost ``C = sum_ij c_ij``."""
    return float(np.sum(validate_cost(c)))
