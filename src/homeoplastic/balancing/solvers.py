"""Dense solvers that balance a cost matrix over the diagonal-similarity manifold
(docs/models/balancing.md, 2.6).

All work on the cost at h = 0, ``c0``, and the log-scales ``h``:
``c_ij(h) = c0_ij e^{p(h_j - h_i)}``.
They minimise the same convex C(h) and return the same gauge-fixed optimum (mean h = 0 on the
balanced neurons, which the flow conserves because sum_k g_k = 0):

- ``flow``: the local gradient flow ``dh/dt = sign(p) g`` with the explicit step
  ``eta = 1 / (2 |p| max_k deg_k)`` (stable since lambda_max(L) <= 2 max deg), Numba.
- ``newton``: ``L dh = g / p`` with backtracking (reference solver for tests).
- ``sweeps``: per-neuron closed-form (Osborne) updates ``dh_k = ln(in_k/out_k) / (2p)``, Numba.
- ``rank_one``: the closed form for ``J = u v^T`` (see :func:`balance_rank_one`).

Convergence is ``||g / C|| < tol`` (computed on g / C, so that g^2 cannot underflow to a false
zero), every value finite, and a balanced network existing: without one (``on_missing`` 'warn' or
'ignore') C(h) has no minimum and a result is never ``converged``. ``status`` says why a run
stopped: 'converged', 'max_iter' (the step cap), 'non_finite', 'no_minimum' or 'stalled'.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from homeoplastic.balancing.costs import _check_p, validate_cost, validate_square
from homeoplastic.balancing.diagnostics import laplacian, require_balanceable

__all__ = [
    "METHODS",
    "BalanceResult",
    "SolverOptions",
    "balance_costs",
    "balance_pinned",
    "balance_rank_one",
    "balanced_costs",
    "finish_status",
    "flow_trajectory",
    "rel_imbalance",
]

METHODS = ("flow", "newton", "sweeps")


@dataclass(frozen=True)
class SolverOptions:
    """Stopping rule and policies shared by the solvers.

    ``tol``: target ||g||/C (dimensionless). ``max_iter``: iteration (flow step, Newton step or
    full sweep) cap. ``on_missing``: what to do when no balanced network exists ('raise', 'warn',
    'ignore'). ``dead``: 'none' or 'freeze' (neurons with zero incoming or outgoing cost keep
    h = 0 and only the remaining network is balanced, docs/models/balancing.md, 2.5).
    """

    tol: float = 1e-8
    max_iter: int = 100_000
    on_missing: str = "raise"
    dead: str = "none"

    def __post_init__(self) -> None:
        if not (self.tol > 0):
            raise ValueError(f"tol must be > 0, got {self.tol}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        if self.on_missing not in ("raise", "warn", "ignore"):
            raise ValueError(
                f"on_missing must be 'raise', 'warn' or 'ignore', got {self.on_missing!r}"
            )
        if self.dead not in ("none", "freeze"):
            raise ValueError(f"dead must be 'none' or 'freeze', got {self.dead!r}")


@dataclass(frozen=True)
class BalanceResult:
    """Outcome of a balancing run.

    ``h`` log-scales (dimensionless); ``flow_time`` is the integrated flow time sum(eta) in units
    of the balancing time constant tau_h (NaN for non-flow solvers). ``converged`` holds only if
    ``rel_imbalance < tol``, every value is finite and a balanced network exists; ``status`` says
    why the run stopped (see the module docstring).
    """

    h: np.ndarray
    method: str
    iterations: int
    rel_imbalance: float
    converged: bool
    cost_before: float
    cost_after: float
    flow_time: float
    wall_s: float
    frozen: np.ndarray
    status: str = "converged"
    tol: float = float("nan")


def finish_status(
    rel: float, tol: float, iterations: int, max_iter: int, finite: bool, exists: bool,
    stalled: bool = False,
) -> str:
    """Why a solver stopped; only 'converged' means the requested tolerance holds."""
    if not finite or not np.isfinite(rel):
        return "non_finite"
    if not exists:
        return "no_minimum"
    if rel < tol:
        return "converged"
    if iterations >= max_iter and not stalled:
        return "max_iter"
    return "stalled"


def balanced_costs(c0: np.ndarray, h: np.ndarray, p: float) -> np.ndarray:
    """Cost matrix after the transformation: ``c0_ij exp(p (h_j - h_i))``.

    A diverging h (no balanced network) gives inf/NaN entries silently; callers check finiteness.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return c0 * np.exp(float(p) * (h[None, :] - h[:, None]))


@njit(cache=True)
def _row_col_sums(c0, a, ainv, rows, cols):
    """rows_i = sum_j c0_ij a_j ainv_i, cols_j likewise, one pass over c0 (ainv = 1 / a)."""
    n = c0.shape[0]
    for k in range(n):
        cols[k] = 0.0
    for i in range(n):
        inv = ainv[i]
        s = 0.0
        for j in range(n):
            v = c0[i, j] * a[j] * inv
            s += v
            cols[j] += v
        rows[i] = s


@njit(cache=True)
def _rel_norm(rows, cols, total):
    """||(rows - cols) / total||; 0 for a cost-free network, NaN if total is not finite."""
    if not np.isfinite(total):
        return np.nan
    if total <= 0.0:
        return 0.0
    s = 0.0
    for k in range(rows.shape[0]):
        g = (rows[k] - cols[k]) / total
        s += g * g
    return np.sqrt(s)


def rel_imbalance(c: np.ndarray) -> float:
    """``||g / C||`` of a cost matrix (NaN if C is not finite, 0 if C = 0)."""
    c = np.asarray(c, dtype=np.float64)
    return float(_rel_norm(c.sum(axis=1), c.sum(axis=0), float(c.sum())))


@njit(cache=True)
def _flow_kernel(c0, p, h, tol, max_iter, info):
    """Explicit gradient flow on h; info <- [iterations, rel_imbalance, flow_time, cost]."""
    n = c0.shape[0]
    a = np.empty(n)
    ainv = np.empty(n)
    rows = np.empty(n)
    cols = np.empty(n)
    sgn = 1.0 if p > 0 else -1.0
    absp = abs(p)
    flow_time = 0.0
    rel = np.inf
    total = 0.0
    it = 0
    while True:
        for k in range(n):
            a[k] = np.exp(p * h[k])
            ainv[k] = np.exp(-p * h[k])
        _row_col_sums(c0, a, ainv, rows, cols)
        total = 0.0
        maxdeg = 0.0
        for k in range(n):
            total += rows[k]
            deg = rows[k] + cols[k] - 2.0 * c0[k, k]
            if deg > maxdeg:
                maxdeg = deg
        rel = _rel_norm(rows, cols, total)
        if rel < tol or it >= max_iter or maxdeg <= 0 or not np.isfinite(rel):
            break
        eta = 1.0 / (2.0 * absp * maxdeg)
        for k in range(n):
            h[k] += eta * sgn * (rows[k] - cols[k])
        flow_time += eta
        it += 1
    info[0] = it
    info[1] = rel
    info[2] = flow_time
    info[3] = total


@njit(cache=True)
def _sweep_kernel(c, p, h, tol, max_sweeps, info):
    """Cyclic per-neuron exact balancing (Osborne); c is updated in place alongside h."""
    n = c.shape[0]
    rows = np.zeros(n)
    cols = np.zeros(n)
    rel = np.inf
    total = 0.0
    sweep = 0
    while True:
        for k in range(n):
            rows[k] = 0.0
            cols[k] = 0.0
        for i in range(n):
            for j in range(n):
                rows[i] += c[i, j]
                cols[j] += c[i, j]
        total = 0.0
        for k in range(n):
            total += rows[k]
        rel = _rel_norm(rows, cols, total)
        if rel < tol or sweep >= max_sweeps or not np.isfinite(rel):
            break
        for k in range(n):
            inc = rows[k] - c[k, k]
            out = cols[k] - c[k, k]
            if inc <= 0.0 or out <= 0.0:
                continue
            d = np.log(inc / out) / (2.0 * p)
            h[k] += d
            f_in = np.exp(-p * d)
            f_out = np.exp(p * d)
            for j in range(n):
                if j != k:
                    old = c[k, j]
                    new = old * f_in
                    c[k, j] = new
                    cols[j] += new - old
            for i in range(n):
                if i != k:
                    old = c[i, k]
                    new = old * f_out
                    c[i, k] = new
                    rows[i] += new - old
            rows[k] = c[k, k] + inc * f_in
            cols[k] = c[k, k] + out * f_out
        sweep += 1
    info[0] = sweep
    info[1] = rel
    info[2] = np.nan
    info[3] = total


def _newton(c0: np.ndarray, p: float, h: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Damped Newton on C(h): solve L dh = g/p (gauge pinned by adding 11^T/n)."""
    n = c0.shape[0]
    ones = np.full((n, n), 1.0 / n)
    it = 0
    while True:
        c = balanced_costs(c0, h, p)
        total = float(c.sum())
        g = c.sum(axis=1) - c.sum(axis=0)
        rel = rel_imbalance(c)
        if rel < tol or it >= max_iter or not np.isfinite(rel):
            return np.array([it, rel, np.nan, total, 0.0])
        lap = laplacian(c)
        try:
            dh = np.linalg.solve(lap + ones, g / p)
        except np.linalg.LinAlgError:
            dh = np.linalg.lstsq(lap, g / p, rcond=None)[0]
        step = 1.0
        while step > 1e-12:
            trial = h + step * dh
            if balanced_costs(c0, trial, p).sum() <= total * (1 + 1e-14):
                break
            step *= 0.5
        if step <= 1e-12:  # no descent left: round-off floor
            return np.array([it, rel, np.nan, total, 1.0])
        h[:] = h + step * dh
        it += 1


def _freeze_mask(c0: np.ndarray, dead: str) -> np.ndarray:
    n = c0.shape[0]
    frozen = np.zeros(n, dtype=bool)
    if dead == "freeze":
        off = c0.copy()
        np.fill_diagonal(off, 0.0)
        # Iterate: removing a dead neuron can starve another.
        while True:
            keep = ~frozen
            sub = off[np.ix_(keep, keep)]
            bad = (sub.sum(axis=0) == 0) | (sub.sum(axis=1) == 0)
            if not bad.any():
                break
            frozen[np.flatnonzero(keep)[bad]] = True
            if frozen.all():
                break
    return frozen


def balance_costs(
    c0: np.ndarray,
    p: float = 2.0,
    method: str = "flow",
    options: SolverOptions | None = None,
    h0: np.ndarray | None = None,
) -> BalanceResult:
    """Minimise ``C(h) = sum_ij c0_ij exp(p (h_j - h_i))`` with one of :data:`METHODS`.

    ``c0`` is the non-negative cost matrix of the network to balance (h = 0). Returns the
    gauge-fixed ``h`` (mean zero over non-frozen neurons when starting from h0 = 0).
    """
    c0 = validate_cost(c0, "c0")
    p = _check_p(p)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    opts = options or SolverOptions()
    n = c0.shape[0]
    h_full = np.zeros(n) if h0 is None else np.array(h0, dtype=np.float64, copy=True)
    if h_full.shape != (n,):
        raise ValueError(f"h0 must have shape ({n},), got {h_full.shape}")
    if not np.all(np.isfinite(h_full)):
        raise ValueError("h0 contains NaN or infinite entries")
    frozen = _freeze_mask(c0, opts.dead)
    keep = np.flatnonzero(~frozen)
    sub = np.ascontiguousarray(c0[np.ix_(keep, keep)])
    existence = require_balanceable(sub, opts.on_missing) if sub.size else None
    h = np.ascontiguousarray(h_full[keep])
    mean0 = h.mean() if h.size else 0.0
    start = time.perf_counter()
    info = np.zeros(5)
    if h.size == 0:
        info[:] = (0, 0.0, 0.0, 0.0, 0.0)
    elif method == "flow":
        _flow_kernel(sub, p, h, float(opts.tol), int(opts.max_iter), info)
    elif method == "sweeps":
        work = balanced_costs(sub, h, p)
        _sweep_kernel(work, p, h, float(opts.tol), int(opts.max_iter), info)
        h += mean0 - h.mean()
    else:
        info = _newton(sub, p, h, float(opts.tol), int(opts.max_iter))
        h += mean0 - h.mean()
    wall = time.perf_counter() - start
    h_full[keep] = h
    c_after = balanced_costs(c0, h_full, p)
    c_after_sub = c_after[np.ix_(keep, keep)]
    rel = rel_imbalance(c_after_sub)
    if c_after_sub.sum() == 0 and sub.sum() > 0:
        rel = float("nan")  # the cost underflowed to zero: the relative imbalance is undefined
    cost_after = float(c_after.sum())
    finite = bool(np.all(np.isfinite(h_full))) and np.isfinite(cost_after)
    exists = existence is None or existence.exists
    status = finish_status(
        rel, opts.tol, int(info[0]), int(opts.max_iter), finite, exists, bool(info[4])
    )
    return BalanceResult(
        h=h_full,
        method=method,
        iterations=int(info[0]),
        rel_imbalance=rel,
        converged=status == "converged",
        cost_before=float(c0.sum()),
        cost_after=cost_after,
        flow_time=float(info[2]),
        wall_s=wall,
        frozen=frozen,
        status=status,
        tol=float(opts.tol),
    )


def balance_pinned(
    c0: np.ndarray,
    pinned: np.ndarray,
    p: float = 2.0,
    options: SolverOptions | None = None,
) -> BalanceResult:
    """Minimise C(h) with the ``pinned`` neurons held at h = 0 and mean h = 0 over the free ones.

    Pinned neurons keep all their weights; the free neurons are rebalanced without a uniform shift
    (a uniform shift rescales every x alike: function-preserving, but it makes any network look
    more robust to a fixed noise, so it must not count as balancing). Projected damped Newton on
    the free coordinates. At the optimum every free neuron has the same imbalance g_k (the
    multiplier of the mean constraint), so convergence is ``||g_F - mean(g_F)|| / C < tol``.
    Without pinned neurons this is :func:`balance_costs` (Newton).
    """
    c0 = validate_cost(c0, "c0")
    p = _check_p(p)
    opts = options or SolverOptions()
    n = c0.shape[0]
    pinned = np.asarray(pinned, dtype=bool)
    if pinned.shape != (n,):
        raise ValueError(f"pinned must be a boolean mask of shape ({n},), got {pinned.shape}")
    if not pinned.any():
        return balance_costs(c0, p, "newton", opts)
    free = np.flatnonzero(~pinned)
    m = free.size
    h = np.zeros(n)
    ones = np.full((m, m), 1.0 / m)
    start = time.perf_counter()
    it, rel, stalled = 0, np.inf, False
    while True:
        c = balanced_costs(c0, h, p)
        total = float(c.sum())
        g = (c.sum(axis=1) - c.sum(axis=0))[free]
        pg = g - g.mean()
        rel = float(np.linalg.norm(pg / total)) if total > 0 else 0.0
        if rel < opts.tol or it >= opts.max_iter or not np.isfinite(rel):
            break
        lap = laplacian(c)[np.ix_(free, free)]
        proj = np.eye(m) - ones
        dh = np.linalg.solve(proj @ lap @ proj + ones, pg / p)
        dh -= dh.mean()
        step = 1.0
        while step > 1e-12:
            trial = h.copy()
            trial[free] += step * dh
            if balanced_costs(c0, trial, p).sum() <= total * (1 + 1e-14):
                break
            step *= 0.5
        if step <= 1e-12:
            stalled = True
            break
        h[free] += step * dh
        it += 1
    wall = time.perf_counter() - start
    cost_after = float(balanced_costs(c0, h, p).sum())
    finite = bool(np.all(np.isfinite(h))) and np.isfinite(cost_after)
    status = finish_status(rel, opts.tol, it, int(opts.max_iter), finite, True, stalled)
    return BalanceResult(
        h=h, method="pinned-newton", iterations=it, rel_imbalance=rel,
        converged=status == "converged", cost_before=float(c0.sum()), cost_after=cost_after,
        flow_time=float("nan"), wall_s=wall, frozen=pinned.copy(), status=status,
        tol=float(opts.tol),
    )


def balance_rank_one(
    u: np.ndarray,
    v: np.ndarray,
    p: float = 2.0,
    a: np.ndarray | None = None,
    b: np.ndarray | None = None,
) -> np.ndarray:
    """Closed-form balancing of ``J = u v^T`` with cost weights ``alpha = a b^T``
    (docs/models/balancing.md, 2.6).

    ``h_i = ln(|u_i| / |v_i|) / 2 + ln(a_i / b_i) / (2p)``, gauge-fixed to mean zero. The balanced
    magnitudes ``|J'_ij| = sqrt|u_i v_i| sqrt|u_j v_j|`` are symmetric for every p.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if u.ndim != 1 or v.shape != u.shape:
        raise ValueError(f"u and v must be 1-D of equal length, got {u.shape} and {v.shape}")
    p = _check_p(p)
    a = np.ones_like(u) if a is None else np.asarray(a, dtype=np.float64)
    b = np.ones_like(u) if b is None else np.asarray(b, dtype=np.float64)
    if a.shape != u.shape or b.shape != u.shape:
        raise ValueError(f"a and b must have shape {u.shape}, got {a.shape} and {b.shape}")
    for name, arr in (("u", u), ("v", v), ("a", a), ("b", b)):
        if not np.all(np.isfinite(arr)) or np.any(arr == 0):
            raise ValueError(
                f"{name} must be finite and non-zero everywhere for the rank-one closed form"
            )
    if np.any(a < 0) or np.any(b < 0):
        raise ValueError("a and b (cost weights) must be positive")
    h = 0.5 * np.log(np.abs(u) / np.abs(v)) + np.log(a / b) / (2.0 * p)
    return h - h.mean()


@njit(cache=True)
def _flow_fixed_step(c0, p, h, dt, n_steps, record_every, out_h):
    n = c0.shape[0]
    a = np.empty(n)
    ainv = np.empty(n)
    rows = np.empty(n)
    cols = np.empty(n)
    sgn = 1.0 if p > 0 else -1.0
    r = 0
    for step in range(n_steps + 1):
        if step % record_every == 0:
            for k in range(n):
                out_h[r, k] = h[k]
            r += 1
        if step == n_steps:
            break
        for k in range(n):
            a[k] = np.exp(p * h[k])
            ainv[k] = np.exp(-p * h[k])
        _row_col_sums(c0, a, ainv, rows, cols)
        for k in range(n):
            h[k] += dt * sgn * (rows[k] - cols[k])


def flow_trajectory(
    c0: np.ndarray, p: float, dt: float, n_steps: int, record_every: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate ``dh/dt = sign(p) g`` with a fixed Euler step (time in units of tau_h).

    Returns ``(t, h)`` with ``h`` of shape (n_records, N); no existence check (the single-synapse
    case has no minimum on purpose).
    """
    c0 = validate_square(c0, "c0")
    p = _check_p(p)
    if not (np.isfinite(dt) and dt > 0) or n_steps < 1 or record_every < 1:
        raise ValueError("dt must be > 0 and n_steps, record_every >= 1")
    n_rec = n_steps // record_every + 1
    out = np.zeros((n_rec, c0.shape[0]))
    _flow_fixed_step(c0, p, np.zeros(c0.shape[0]), float(dt), int(n_steps), int(record_every), out)
    t = np.arange(n_rec) * record_every * dt
    return t, out
