"""Diagnostics of a cost matrix: Laplacian Hessian, existence of a balanced network, residuals.

Existence (docs/models/balancing.md, 2.5): a minimiser of C(h) exists iff every edge (c_ij > 0, i != j) lies
on a directed cycle, i.e. both ends sit in the same strongly connected component of the support graph.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from homeoplastic.balancing.costs import imbalance, incoming_cost, outgoing_cost, validate_cost

__all__ = [
    "BalanceExistence",
    "NoBalancedNetworkError",
    "NoBalancedNetworkWarning",
    "check_balanceable",
    "cost_hessian",
    "dead_neurons",
    "laplacian",
    "per_neuron_residual",
    "require_balanceable",
    "strongly_connected_components",
]


class NoBalancedNetworkError(ValueError):
    """The cost graph has edges on no directed cycle: the infimum of C(h) is not attained."""


class NoBalancedNetworkWarning(RuntimeWarning):
    """Balancing proceeds although no balanced network exists; h drifts, C decays to its infimum."""


@dataclass(frozen=True)
class BalanceExistence:
    """Result of :func:`check_balanceable`."""

    exists: bool
    n_components: int
    n_bad_edges: int
    bad_neurons: np.ndarray
    dead_neurons: np.ndarray

    def message(self) -> str:
        if self.exists:
            return "every synapse lies on a directed cycle: a balanced network exists"
        first = ", ".join(str(k) for k in self.bad_neurons[:10])
        more = "..." if self.bad_neurons.size > 10 else ""
        dead = (
            f" {self.dead_neurons.size} neuron(s) have zero incoming or outgoing cost (dead);"
            " use a gain floor or freeze them (dead='freeze')."
            if self.dead_neurons.size
            else ""
        )
        return (
            f"no balanced network exists: {self.n_bad_edges} synapse(s) lie on no directed cycle "
            f"(neurons {first}{more}); their cost can only decay towards zero while h diverges."
            + dead
        )


def strongly_connected_components(c: np.ndarray) -> np.ndarray:
    """Component label per neuron for the directed support graph of ``c`` (edge j -> i if c_ij > 0).

    Two neurons share a label iff each reaches the other (scipy's strong components; the edge
    orientation does not change them).
    """
    adj = csr_matrix(validate_cost(c) > 0)
    return connected_components(adj, directed=True, connection="strong")[1].astype(np.int64)


def dead_neurons(c: np.ndarray) -> np.ndarray:
    """Neurons with zero off-diagonal incoming or outgoing cost but some cost on the other side."""
    off = validate_cost(c).copy()
    np.fill_diagonal(off, 0.0)
    inc, out = incoming_cost(off), outgoing_cost(off)
    return np.flatnonzero(((inc == 0) & (out > 0)) | ((out == 0) & (inc > 0)))


def check_balanceable(c: np.ndarray) -> BalanceExistence:
    """Whether a balanced network exists for cost matrix ``c`` (docs/models/balancing.md, 2.5)."""
    c = validate_cost(c)
    n = c.shape[0]
    pos = c > 0
    if n == 1 or np.count_nonzero(pos) - np.count_nonzero(np.diagonal(pos)) == n * (n - 1):
        # Complete support graph (the dense case): one strongly connected component.
        empty = np.zeros(0, dtype=np.int64)
        return BalanceExistence(True, 1, 0, empty, empty)
    comp = strongly_connected_components(c)
    if comp.max() == 0:
        return BalanceExistence(True, 1, 0, np.zeros(0, dtype=np.int64), dead_neurons(c))
    rows, cols = np.nonzero(c > 0)
    off = rows != cols
    rows, cols = rows[off], cols[off]
    bad = comp[rows] != comp[cols]
    bad_neurons = np.unique(np.concatenate([rows[bad], cols[bad]]))
    return BalanceExistence(
        exists=not bool(bad.any()),
        n_components=int(comp.max() + 1) if comp.size else 0,
        n_bad_edges=int(bad.sum()),
        bad_neurons=bad_neurons,
        dead_neurons=dead_neurons(c),
    )


def require_balanceable(c: np.ndarray, on_missing: str = "raise") -> BalanceExistence:
    """Check existence; ``on_missing`` is 'raise' (NoBalancedNetworkError), 'warn' or 'ignore'."""
    if on_missing not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_missing must be 'raise', 'warn' or 'ignore', got {on_missing!r}")
    report = check_balanceable(c)
    if not report.exists:
        if on_missing == "raise":
            raise NoBalancedNetworkError(report.message())
        if on_missing == "warn":
            warnings.warn(report.message(), NoBalancedNetworkWarning, stacklevel=3)
    return report


def laplacian(c: np.ndarray) -> np.ndarray:
    """Graph Laplacian ``L = diag(cbar 1) - cbar`` of the symmetrised cost ``cbar = c + c^T``."""
    c = validate_cost(c)
    cbar = c + c.T
    np.fill_diagonal(cbar, 0.0)
    return np.diag(cbar.sum(axis=1)) - cbar


def cost_hessian(c: np.ndarray, p: float) -> np.ndarray:
    """Hessian of C(h) at the current h: ``p^2 L`` (docs/models/balancing.md, 2.5)."""
    p = float(p)
    if not np.isfinite(p) or p == 0:
        raise ValueError(f"p must be a finite non-zero real number, got p={p}")
    return p**2 * laplacian(c)


def per_neuron_residual(c: np.ndarray) -> np.ndarray:
    """Balance residual per neuron ``|in_k - out_k| / (in_k + out_k)`` (0 where both vanish)."""
    c = validate_cost(c)
    inc, out = incoming_cost(c), outgoing_cost(c)
    denom = inc + out
    return np.divide(np.abs(imbalance(c)), denom, out=np.zeros_like(denom), where=denom > 0)
