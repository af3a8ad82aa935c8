"""Balancing a low-rank ``J = U V^T`` in O(N r^2) per iteration without forming J (spec §2.3).

Cost: ``c_ij = a_i b_j J_ij^2`` (p = 2; a = b = 1 is the Frobenius cost, a = 1, b = gains the
robustness cost). With ``U' = D^-1 U`` and ``V' = D V``:
``in_i = a_i U'_i G_V U'_i^T`` with ``G_V = sum_j b_j V'_j^T V'_j`` and
``out_j = b_j V'_j G_U V'_j^T`` with ``G_U = sum_i a_i U'_i^T U'_i`` (r x r Gram matrices).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from homeoplastic.balancing.solvers import BalanceResult, SolverOptions

__all__ = ["FactoredNetwork", "balance_factored", "factored_costs_summary"]

LOWRANK_METHODS = ("flow", "sweeps")


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
        gn2 = 0.0
        maxdeg = 0.0
        for k in range(n):
            g = inc[k] - out[k]
            gn2 += g * g
            deg = inc[k] + out[k] - 2.0 * diag[k]
            if deg > maxdeg:
                maxdeg = deg
        rel = np.sqrt(gn2) / total if total > 0 else 0.0
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
        gn2 = 0.0
        for k in range(n):
            gn2 += (inc[k] - out[k]) ** 2
        rel = np.sqrt(gn2) / total if total > 0 else 0.0
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


def balance_factored(
    net: FactoredNetwork, method: str = "sweeps", options: SolverOptions | None = None
) -> BalanceResult:
    """Balance ``J = U V^T`` (p = 2) without forming J; returns h (mean zero).

    A generic low-rank matrix has no zero entries, so a balanced network exists whenever the cost
    weights a, b are positive (checked in :meth:`FactoredNetwork.create`).
    """
    if method not in LOWRANK_METHODS:
        raise ValueError(f"method must be one of {LOWRANK_METHODS}, got {method!r}")
    opts = options or SolverOptions()
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
    rel = float(np.linalg.norm(after["imbalance"]) / after["total"])
    return BalanceResult(
        h=h,
        method=f"factored-{method}",
        iterations=int(info[0]),
        rel_imbalance=rel,
        converged=bool(rel < 10 * opts.tol),
        cost_before=float(c_before),
        cost_after=float(after["total"]),
        flow_time=float(info[2]),
        wall_s=wall,
        frozen=np.zeros(net.n, dtype=bool),
    )
