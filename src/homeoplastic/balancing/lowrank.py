"""Balancing a low-rank ``J = U V^T`` in O(N r^2) per iteration without forming J
(docs/models/balancing.md, 2.3).

Cost: ``c_ij = a_i b_j J_ij^2`` (p = 2; a = b = 1 is the Frobenius cost, a = 1, b = gains the
robustness cost). With ``U' = D^-1 U`` and ``V' = D V``:
``in_i = a_i U'_i G_V U'_i^T`` with ``G_V = sum_j b_j V'_j^T V'_j`` and
``out_j = b_j V'_j G_U V'_j^T`` with ``G_U = sum_i a_i U'_i^T U'_i`` (r x r Gram matrices).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from homeoplastic.balancing.diagnostics import (
    NoBalancedNetworkError,
    NoBalancedNetworkWarning,
)
from homeoplastic.balancing.solvers import (
    BalanceResult,
    SolverOptions,
    _rel_norm,
    finish_status,
)

__all__ = [
    "FactoredNetwork",
    "balance_factored",
    "factored_balanceable",
    "factored_costs_summary",
]

LOWRANK_METHODS = ("flow", "sweeps")
# Up to this size the existence check forms the support of J (N^2 booleans, in row blocks).
DENSE_CHECK_MAX = 4096


@dataclass(frozen=True)
class FactoredNetwork:
    """``J = U V^T`` with U, V of shape (N, r), and cost weights ``alpha = a b^T`` (p = 2)."""

    U: np.ndarray
    V: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def create(
        cls, U: np.ndarray, V: np.ndarray, a: np.ndarray | None = None, b: np.ndarray | None = None
    ) -> FactoredNetwork:
        U = np.ascontiguousarray(U, dtype=np.float64)
        V = np.ascontiguousarray(V, dtype=np.float64)
        if U.ndim != 2 or U.shape != V.shape:
            raise ValueError(f"U and V must be 2-D of equal shape (N, r), got {U.shape}, {V.shape}")
        n = U.shape[0]
        if n < 1 or U.shape[1] < 1:
            raise ValueError(f"U and V must have at least one neuron and rank >= 1, got {U.shape}")
        a = np.ones(n) if a is None else np.ascontiguousarray(a, dtype=np.float64)
        b = np.ones(n) if b is None else np.ascontiguousarray(b, dtype=np.float64)
        if a.shape != (n,) or b.shape != (n,):
            raise ValueError(f"a and b must have shape ({n},), got {a.shape}, {b.shape}")
        for name, arr in (("U", U), ("V", V), ("a", a), ("b", b)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or infinite entries")
        if np.any(a <= 0) or np.any(b <= 0):
            raise ValueError("cost weights a and b must be positive (floor dead neurons' gains)")
        return cls(U=U, V=V, a=a, b=b)

    @property
    def n(self) -> int:
        return self.U.shape[0]

    @property
    def rank(self) -> int:
        return self.U.shape[1]

    def dense(self) -> np.ndarray:
        """Form J (for tests and small N only)."""
        return self.U @ self.V.T

    def dense_cost(self) -> np.ndarray:
        J = self.dense()
        return self.a[:, None] * J * J * self.b[None, :]


@njit(cache=True)
def _in_out(U, V, a, b, h, diag, inc, out, gu, gv, us, vs):
    """Incoming/outgoing cost at log-scales h; returns total cost. O(N r^2)."""
    n, r = U.shape
    for p_ in range(r):
        for q in range(r):
            gu[p_, q] = 0.0
            gv[p_, q] = 0.0
    for i in range(n):
        eu = np.exp(-h[i])
        ev = np.exp(h[i])
        for p_ in range(r):
            us[p_] = U[i, p_] * eu
            vs[p_] = V[i, p_] * ev
        for p_ in range(r):
            for q in range(r):
                gu[p_, q] += a[i] * us[p_] * us[q]
                gv[p_, q] += b[i] * vs[p_] * vs[q]
    total = 0.0
    for i in range(n):
        eu = np.exp(-h[i])
        ev = np.exp(h[i])
        si = 0.0
        so = 0.0
        for p_ in range(r):
            up = U[i, p_] * eu
            vp = V[i, p_] * ev
            for q in range(r):
                si += up * gv[p_, q] * U[i, q] * eu
                so += vp * gu[p_, q] * V[i, q] * ev
        inc[i] = a[i] * si
        out[i] = b[i] * so
        total += inc[i]
    return total


@njit(cache=True)
def _self_costs(U, V, a, b, diag):
    """Cost of each autapse, a_i b_i (u_i . v_i)^2: it cancels in the imbalance g_i."""
    n, r = U.shape
    for i in range(n):
        s = 0.0
        for q in range(r):
            s += U[i, q] * V[i, q]
        diag[i] = a[i] * b[i] * s * s


@njit(cache=True)
def _lowrank_flow(U, V, a, b, h, tol, max_iter, info):
    n, r = U.shape
    inc = np.empty(n)
    out = np.empty(n)
    diag = np.empty(n)
    gu = np.empty((r, r))
    gv = np.empty((r, r))
    us = np.empty(r)
    vs = np.empty(r)
    _self_costs(U, V, a, b, diag)
    it = 0
    flow_time = 0.0
    rel = np.inf
    total = 0.0
    while True:
        total = _in_out(U, V, a, b, h, diag, inc, out, gu, gv, us, vs)
        maxdeg = 0.0
        for k in range(n):
            deg = inc[k] + out[k] - 2.0 * diag[k]
            if deg > maxdeg:
                maxdeg = deg
        rel = _rel_norm(inc, out, total)
        if rel < tol or it >= max_iter or maxdeg <= 0 or not np.isfinite(rel):
            break
        eta = 1.0 / (4.0 * maxdeg)
        for k in range(n):
            h[k] += eta * (inc[k] - out[k])
        flow_time += eta
        it += 1
    info[0] = it
    info[1] = rel
    info[2] = flow_time
    info[3] = total


@njit(cache=True)
def _lowrank_sweeps(U, V, a, b, h, tol, max_sweeps, info):
    """Osborne sweeps with rank-one updates of the Gram matrices: O(N r^2) per sweep."""
    n, r = U.shape
    inc = np.empty(n)
    out = np.empty(n)
    diag = np.empty(n)
    gu = np.empty((r, r))
    gv = np.empty((r, r))
    us = np.empty(r)
    vs = np.empty(r)
    _self_costs(U, V, a, b, diag)
    sweep = 0
    rel = np.inf
    total = 0.0
    while True:
        total = _in_out(U, V, a, b, h, diag, inc, out, gu, gv, us, vs)
        rel = _rel_norm(inc, out, total)
        if rel < tol or sweep >= max_sweeps or not np.isfinite(rel):
            break
        for k in range(n):
            eu = np.exp(-h[k])
            ev = np.exp(h[k])
            for q in range(r):
                us[q] = U[k, q] * eu
                vs[q] = V[k, q] * ev
            si = 0.0
            so = 0.0
            for p_ in range(r):
                for q in range(r):
                    si += us[p_] * gv[p_, q] * us[q]
                    so += vs[p_] * gu[p_, q] * vs[q]
            ik = a[k] * si - diag[k]
            ok = b[k] * so - diag[k]
            if ik <= 0.0 or ok <= 0.0:
                continue
            d = 0.25 * np.log(ik / ok)
            h[k] += d
            fu = np.exp(-2.0 * d) - 1.0
            fv = np.exp(2.0 * d) - 1.0
            for p_ in range(r):
                for q in range(r):
                    gu[p_, q] += a[k] * fu * us[p_] * us[q]
                    gv[p_, q] += b[k] * fv * vs[p_] * vs[q]
        sweep += 1
    info[0] = sweep
    info[1] = rel
    info[2] = np.nan
    info[3] = total


def factored_costs_summary(net: FactoredNetwork, h: np.ndarray) -> dict[str, np.ndarray | float]:
    """In/outgoing cost, imbalance, diagonal cost and total at log-scales ``h``, O(N r^2)."""
    n, r = net.U.shape
    inc, out, diag = np.empty(n), np.empty(n), np.empty(n)
    s = np.einsum("ij,ij->i", net.U, net.V)
    diag[:] = net.a * net.b * s * s
    total = _in_out(
        net.U, net.V, net.a, net.b, np.ascontiguousarray(h, dtype=np.float64), diag, inc, out,
        np.empty((r, r)), np.empty((r, r)), np.empty(r), np.empty(r),
    )
    return {"incoming": inc, "outgoing": out, "imbalance": inc - out, "diag": diag, "total": total}


def factored_balanceable(net: FactoredNetwork) -> tuple[bool, str]:
    """Whether a balanced network exists for ``J = U V^T`` (every synapse on a directed cycle).

    Rank one is exact in O(N): the support is {u_i != 0} x {v_j != 0}, strongly connected iff the
    two sets coincide. Otherwise every neuron with cost on one side needs cost on the other (O(N r^2),
    necessary), and for N <= DENSE_CHECK_MAX the support is formed and its strongly connected
    components checked (exact). Returns (exists, reason).
    """
    n = net.n
    if net.rank == 1:
        has_in = net.U[:, 0] != 0
        has_out = net.V[:, 0] != 0
        bad = np.flatnonzero(has_in != has_out)
        if bad.size:
            return False, (
                f"rank-one J = u v^T with u_i != 0 but v_i == 0 (or the reverse) at neurons "
                f"{bad[:10].tolist()}: those synapses lie on no directed cycle"
            )
        return True, "rank one: support {u != 0} x {v != 0} is complete on the active neurons"
    summ = factored_costs_summary(net, np.zeros(n))
    inc = summ["incoming"] - summ["diag"]
    out = summ["outgoing"] - summ["diag"]
    tiny = 1e-300
    one_sided = np.flatnonzero((inc > tiny) != (out > tiny))
    if one_sided.size:
        return False, (
            f"neurons {one_sided[:10].tolist()} have off-diagonal cost on one side only: their "
            "synapses lie on no directed cycle"
        )
    if n > DENSE_CHECK_MAX:
        return True, f"necessary condition only (N = {n} > {DENSE_CHECK_MAX})"
    rows, cols = [], []
    for start in range(0, n, 512):
        block = net.U[start : start + 512] @ net.V.T != 0
        r, c = np.nonzero(block)
        rows.append(r + start)
        cols.append(c)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    off = rows != cols
    rows, cols = rows[off], cols[off]
    graph = csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    _, comp = connected_components(graph, directed=True, connection="strong")
    bad = comp[rows] != comp[cols]
    if bad.any():
        who = np.unique(np.concatenate([rows[bad], cols[bad]]))[:10].tolist()
        return False, f"{int(bad.sum())} synapse(s) lie on no directed cycle (neurons {who})"
    return True, "every synapse lies on a directed cycle"


def balance_factored(
    net: FactoredNetwork, method: str = "sweeps", options: SolverOptions | None = None
) -> BalanceResult:
    """Balance ``J = U V^T`` (p = 2) without forming J; returns h (mean zero).

    Existence is checked first (:func:`factored_balanceable`); without a balanced network the
    options' ``on_missing`` decides (raise, warn, ignore) and the result is never ``converged``.
    """
    if not isinstance(net, FactoredNetwork):
        raise TypeError(f"net must be a FactoredNetwork (use FactoredNetwork.create), got {type(net)}")
    if method not in LOWRANK_METHODS:
        raise ValueError(f"method must be one of {LOWRANK_METHODS}, got {method!r}")
    opts = options or SolverOptions()
    exists, reason = factored_balanceable(net)
    if not exists:
        msg = f"no balanced network exists: {reason}"
        if opts.on_missing == "raise":
            raise NoBalancedNetworkError(msg)
        if opts.on_missing == "warn":
            warnings.warn(msg, NoBalancedNetworkWarning, stacklevel=2)
    h = np.zeros(net.n)
    info = np.zeros(4)
    c_before = factored_costs_summary(net, h)["total"]
    start = time.perf_counter()
    if method == "flow":
        _lowrank_flow(net.U, net.V, net.a, net.b, h, float(opts.tol), int(opts.max_iter), info)
    else:
        _lowrank_sweeps(net.U, net.V, net.a, net.b, h, float(opts.tol), int(opts.max_iter), info)
        h -= h.mean()
    wall = time.perf_counter() - start
    after = factored_costs_summary(net, h)
    total = float(after["total"])
    if not np.isfinite(total):
        rel = float("nan")
    elif total > 0:
        rel = float(np.linalg.norm(after["imbalance"] / total))
    else:
        rel = 0.0
    finite = bool(np.all(np.isfinite(h)))
    status = finish_status(rel, opts.tol, int(info[0]), int(opts.max_iter), finite, exists)
    return BalanceResult(
        h=h,
        method=f"factored-{method}",
        iterations=int(info[0]),
        rel_imbalance=rel,
        converged=status == "converged",
        cost_before=float(c_before),
        cost_after=total,
        flow_time=float(info[2]),
        wall_s=wall,
        frozen=np.zeros(net.n, dtype=bool),
        status=status,
        tol=float(opts.tol),
    )
