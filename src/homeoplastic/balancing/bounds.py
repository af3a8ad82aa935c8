"""The two analytic bounds on the balanced cost (docs/models/balancing.md, 4.1), as coded in rnnops.

- Lower bound on the final cost: ``C_f >= sum_ij sqrt(c_ij c_ji)`` (cycle products are invariant,
  AM-GM); attained iff the balanced costs are symmetric (rank one, two neurons).
- Upper bound on the final cost (descent lemma): ``C_f <= C_0 - ||g_0||^2 / (2 M)`` with
  ``M = 2 max_k sum_l cbar0_kl`` (twice the largest weighted degree, diagonal zeroed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.balancing.costs import imbalance, validate_cost

__all__ = ["CostBounds", "cost_bounds", "descent_upper_bound", "geometric_lower_bound"]


@dataclass(frozen=True)
class CostBounds:
    """Both bounds on C_f and their ratios to C_0 (all in cost units; ratios dimensionless)."""

    cost_before: float
    lower: float
    upper: float

    @property
    def lower_ratio(self) -> float:
        return self.lower / self.cost_before

    @property
    def upper_ratio(self) -> float:
        return self.upper / self.cost_before


def geometric_lower_bound(c: np.ndarray) -> float:
    """``sum_ij sqrt(c_ij c_ji)`` (diagonal included), invariant along the manifold."""
    c = validate_cost(c, "c")
    return float(np.sqrt(c * c.T).sum())


def descent_upper_bound(c: np.ndarray) -> float:
    """``C_0 - ||g_0||^2 / (2 M)``, M = 2 max weighted degree of ``c + c^T`` (diagonal zeroed)."""
    c = validate_cost(c, "c")
    cbar = c + c.T
    np.fill_diagonal(cbar, 0.0)
    m = 2.0 * float(cbar.sum(axis=1).max())
    g = imbalance(c)
    total = float(c.sum())
    if m <= 0:
        return total
    return total - float(g @ g) / (2.0 * m)


def cost_bounds(c: np.ndarray) -> CostBounds:
    """Both bounds for the cost matrix ``c`` of the unbalanced network (total cost > 0)."""
    c = validate_cost(c, "c")
    if not c.sum() > 0:
        raise ValueError("c has zero total cost: there is nothing to balance and no ratio to C0")
    return CostBounds(
        cost_before=float(c.sum()), lower=geometric_lower_bound(c), upper=descent_upper_bound(c)
    )
