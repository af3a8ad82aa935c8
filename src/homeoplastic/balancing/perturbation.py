"""Linearised response of a balanced network to a synaptic perturbation (docs/models/balancing.md, 5).

At balance (g = 0, Laplacian L* of the symmetrised cost) a cost change with imbalance
``dg = rowsum(dc) - colsum(dc)`` moves the optimum by ``dh* = L*^+ dg / p``; every synapse then
changes by ``dJ_ij / J_ij = dh*_j - dh*_i`` to first order.
"""

from __future__ import annotations

import numpy as np

from homeoplastic.balancing.costs import _check_p, imbalance, power_law_cost, validate_square
from homeoplastic.balancing.diagnostics import laplacian
from homeoplastic.balancing.solvers import SolverOptions, balance_costs

__all__ = [
    "linear_response",
    "neural_sheet",
    "potentiate",
    "rebalance_after_potentiation",
    "relaxation_modes",
]


def neural_sheet(side: int, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Periodic 2-D grid of ``side x side`` neurons with bidirectional nearest-neighbour synapses.

    Returns ``(J, xy)``; J is balanced already (uniform weights), xy the grid positions.
    """
    if side < 3:
        raise ValueError(f"side must be >= 3, got {side}")
    n = side * side
    J = np.zeros((n, n))
    for x in range(side):
        for y in range(side):
            i = x * side + y
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                j = ((x + dx) % side) * side + (y + dy) % side
                J[i, j] = weight
    xy = np.array([(x, y) for x in range(side) for y in range(side)], dtype=np.float64)
    return J, xy


def potentiate(J: np.ndarray, post: int, pre: int, eps: float) -> np.ndarray:
    """Copy of J with synapse pre -> post scaled by (1 + eps)."""
    J = validate_square(J)
    n = J.shape[0]
    if not (0 <= post < n and 0 <= pre < n):
        raise ValueError(f"post and pre must be neuron indices in [0, {n}), got {post}, {pre}")
    if J[post, pre] == 0:
        raise ValueError(f"there is no synapse {pre} -> {post} to potentiate")
    if eps <= -1:
        raise ValueError(f"eps must be > -1, got {eps}")
    out = J.copy()
    out[post, pre] *= 1.0 + eps
    return out


def linear_response(c_balanced: np.ndarray, delta_c: np.ndarray, p: float) -> np.ndarray:
    """Predicted shift of the optimum ``dh* = L*^+ dg / p`` (mean zero)."""
    c_balanced = validate_square(c_balanced, "c_balanced")
    delta_c = np.asarray(delta_c, dtype=np.float64)
    if delta_c.shape != c_balanced.shape:
        raise ValueError(f"delta_c must have shape {c_balanced.shape}, got {delta_c.shape}")
    p = _check_p(p)
    lap = laplacian(c_balanced)
    n = lap.shape[0]
    dh = np.linalg.solve(lap + np.full((n, n), 1.0 / n), imbalance(delta_c) / p)
    return dh - dh.mean()


def rebalance_after_potentiation(
    J_balanced: np.ndarray, post: int, pre: int, eps: float, p: float = 2.0, tol: float = 1e-13
) -> dict[str, np.ndarray]:
    """Linear prediction vs exact re-balancing after potentiating one synapse.

    Returns dh_linear, dh_exact (log-scales, mean zero) and the relative weight changes of every
    synapse ``dJ/J`` predicted (``dh_j - dh_i``) and exact (``exp(dh_j - dh_i) - 1``; the
    potentiated synapse's own change excludes the imposed factor 1 + eps).
    """
    c0 = power_law_cost(J_balanced, p)
    Jp = potentiate(J_balanced, post, pre, eps)
    c1 = power_law_cost(Jp, p)
    dh_lin = linear_response(c0, c1 - c0, p)
    res = balance_costs(c1, p, "newton", SolverOptions(tol=tol, max_iter=200))
    dh_exact = res.h - res.h.mean()
    rel_lin = dh_lin[None, :] - dh_lin[:, None]
    rel_exact = np.exp(dh_exact[None, :] - dh_exact[:, None]) - 1.0
    mask = J_balanced != 0
    return {
        "dh_linear": dh_lin,
        "dh_exact": dh_exact,
        "dJ_rel_linear": np.where(mask, rel_lin, 0.0),
        "dJ_rel_exact": np.where(mask, rel_exact, 0.0),
    }


def relaxation_modes(
    J: np.ndarray, p: float = 2.0, n_modes: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Slowest relaxation modes of a balanced network (docs/models/balancing.md, 5, item 2;
    ``neural_sheet.py``).

    The linearised flow relaxes a displacement dh along the eigenvectors of the Laplacian L* of
    the symmetrised cost, mode k at rate p lambda_k. Returns the ``n_modes`` smallest non-zero
    eigenvalues (gauge mode dropped) and the eigenvectors as rows (n_modes, N); a mode dh changes
    each synapse by dJ_ij / J_ij = dh_j - dh_i.
    """
    p = _check_p(p)
    c = power_law_cost(J, p)
    n = c.shape[0]
    if not 1 <= n_modes < n:
        raise ValueError(f"n_modes must lie in [1, {n - 1}], got {n_modes}")
    lam, vec = np.linalg.eigh(laplacian(c))
    return lam[1 : n_modes + 1], vec[:, 1 : n_modes + 1].T
