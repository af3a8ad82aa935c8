"""Transition rates between metastable states of the birth-death population model.

One population (1-D): population i is a birth-death chain with per-N birth rate w+(x) = f(s_i(x))
and death rate w-(x) = alpha x. Its quasi-potential is Phi(x) = int ln(w-/w+) dx, and Bressloff's
(2010) WKB escape rate from a stable point x_s over the saddle x_0 is

    lambda = w+(x_s) / (2 pi) * sqrt(Phi''(x_s) |Phi''(x_0)|) * exp(-N [Phi(x_0) - Phi(x_s)]).

The exact mean first-passage time of the same 1-D chain is also given (closed-form sums), for tests
and as an alternative at small N where the WKB asymptotics are rough.

Several populations (the paper's Methods, extended): from each stable Wilson-Cowan state, each
population in turn escapes along a 1-D reaction coordinate, then the whole system relaxes
deterministically to the stable state it lands in; this defines a Markov chain over metastable
states, whose stationary distribution gives each state's occupancy. Along the reaction coordinate
the other populations are either frozen at their values (``reduction="frozen"``, the paper's
statement) or slaved to their conditional equilibrium (``"slaved"``, the default): through global
inhibition a rising population pushes the others down, which lowers the inhibition it feels, so the
frozen picture overestimates the barrier (Gillespie escapes from the both-low state at N = 32 are
twice as frequent as the frozen estimate, within 15 % of the slaved one; tests/reduced). Slaving
also lets the partner of a four-population assembly rise together with it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numba import njit

from homeoplastic.reduced.activation import _sigmoid
from homeoplastic.reduced.params import PopulationModel
from homeoplastic.reduced.wilson_cowan import check_weights, relax, stable_states

METHODS = ("wkb", "exact")
REDUCTIONS = ("slaved", "frozen")
GRID_POINTS = 4001


@dataclass(frozen=True)
class Chain1D:
    """Population ``pop`` as a 1-D birth-death chain, the other populations reduced away.

    ``reduction="frozen"``: the others stay at ``x`` (the paper's Methods). ``"slaved"``: the others
    sit at their conditional Wilson-Cowan equilibrium given x_pop, continued from ``x`` (adiabatic
    elimination; with global inhibition a rising population suppresses the others, which lowers
    the inhibition it feels, and a partner population of an assembly rises with it).
    The per-N birth rate w+(x) is tabulated on ``grid`` and interpolated.
    """

    model: PopulationModel
    pop: int
    x_start: float
    grid: np.ndarray
    birth_table: np.ndarray
    state_table: np.ndarray  # (grid, M): every population's rate along the reaction coordinate

    def birth(self, xs: np.ndarray) -> np.ndarray:
        """Per-N birth rate w+(x)."""
        return np.interp(xs, self.grid, self.birth_table)

    def death(self, xs: np.ndarray) -> np.ndarray:
        """Per-N death rate w-(x) = alpha x."""
        return self.model.alpha * np.asarray(xs, dtype=np.float64)

    def phi_second(self, xs: np.ndarray) -> np.ndarray:
        """Phi''(x) = d/dx ln(w-/w+) = 1/x - (dw+/dx) / w+."""
        xs = np.asarray(xs, dtype=np.float64)
        slope = np.interp(xs, self.grid, np.gradient(self.birth_table, self.grid))
        return 1.0 / xs - slope / self.birth(xs)

    def quasi_potential(self, x_from: float, x_to: float) -> float:
        """Phi(x_to) - Phi(x_from) = int ln(w-/w+) dx (Gauss-Legendre, 400 nodes)."""
        nodes, weights = _gauss_legendre(400)
        half = 0.5 * (x_to - x_from)
        xs = x_from + half * (nodes + 1.0)
        return float(half * np.sum(weights * np.log(self.death(xs) / self.birth(xs))))

    def fixed_points(self) -> np.ndarray:
        """Roots of w+(x) = w-(x) on the grid (linear interpolation between grid points)."""
        g = self.birth_table - self.death(self.grid)
        idx = np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)[0]
        x0, x1, g0, g1 = self.grid[idx], self.grid[idx + 1], g[idx], g[idx + 1]
        return x0 - g0 * (x1 - x0) / (g1 - g0)


@functools.lru_cache(maxsize=4)
def _gauss_legendre(points: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(points)


def make_chain(
    model: PopulationModel,
    weights: np.ndarray,
    x: np.ndarray,
    pop: int,
    reduction: str = "slaved",
) -> Chain1D:
    """Build the 1-D chain of population ``pop`` around the state ``x``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not 0 <= pop < model.n_pops:
        raise ValueError(f"pop must be in [0, {model.n_pops}), got {pop}")
    w = check_weights(weights, model)
    x = np.asarray(x, dtype=np.float64)
    top = model.activation.f_max / model.alpha * 1.1 + 0.05
    grid = np.linspace(1e-6, top, GRID_POINTS)
    a = model.activation
    params = np.array([model.w_inh, model.external_input, model.alpha, a.f_max, a.s_half, a.width])
    states = np.empty((GRID_POINTS, model.n_pops))
    table = _birth_table(grid, x.copy(), pop, w, params, reduction == "slaved", states)
    return Chain1D(model, pop, float(x[pop]), grid, table, states)


@njit(cache=True)
def _birth_table(grid, x, pop, weights, params, slaved, states):
    """f(s_pop) along the grid, others frozen at x or slaved to their conditional equilibrium."""
    w_inh, ext, _alpha, f_max, s_half, width = (
        params[0],
        params[1],
        params[2],
        params[3],
        params[4],
        params[5],
    )
    m = x.shape[0]
    out = np.empty(grid.shape[0])
    start = np.argmin(np.abs(grid - x[pop]))
    state = x.copy()
    for direction in (1, -1):
        for k in range(m):
            state[k] = x[k]
        i = start
        while 0 <= i < grid.shape[0]:
            state[pop] = grid[i]
            if slaved:
                _relax_others(state, pop, weights, params)
            total = 0.0
            for k in range(m):
                total += state[k]
            s = ext - w_inh * total
            for col in range(m):
                s += weights[pop, col] * state[col]
            out[i] = _sigmoid(s, f_max, s_half, width)
            for k in range(m):
                states[i, k] = state[k]
            i += direction
    return out


@njit(cache=True)
def _relax_others(state, pop, weights, params):
    """Newton iterations for the others' equilibrium alpha y = f(s(y)), x_pop held (in place)."""
    w_inh, ext, alpha, f_max, s_half, width = (
        params[0],
        params[1],
        params[2],
        params[3],
        params[4],
        params[5],
    )
    m = state.shape[0]
    others = np.empty(m - 1, dtype=np.int64)
    j = 0
    for k in range(m):
        if k != pop:
            others[j] = k
            j += 1
    q = m - 1
    if q == 0:
        return
    for _ in range(50):
        total = 0.0
        for k in range(m):
            total += state[k]
        res = np.empty(q)
        jac = np.zeros((q, q))
        for a in range(q):
            k = others[a]
            s = ext - w_inh * total
            for col in range(m):
                s += weights[k, col] * state[col]
            f = _sigmoid(s, f_max, s_half, width)
            slope = f * (1.0 - f / f_max) / width
            res[a] = f - alpha * state[k]
            for b in range(q):
                jac[a, b] = slope * (weights[k, others[b]] - w_inh)
            jac[a, a] -= alpha
        err = 0.0
        for a in range(q):
            err = max(err, abs(res[a]))
        if err < 1e-12:
            return
        step = np.linalg.solve(jac, res)
        for a in range(q):
            state[others[a]] = max(state[others[a]] - step[a], 0.0)


def wkb_rate(chain: Chain1D, x_stable: float, x_saddle: float) -> float:
    """Bressloff's WKB escape rate from ``x_stable`` over ``x_saddle`` (per unit time)."""
    barrier = chain.quasi_potential(x_stable, x_saddle)
    curv = np.sqrt(chain.phi_second(x_stable) * abs(chain.phi_second(x_saddle)))
    prefactor = chain.birth(x_stable) / (2.0 * np.pi) * curv
    return float(prefactor * np.exp(-chain.model.system_size * barrier))


def log_stationary_1d(chain: Chain1D, n_max: int) -> np.ndarray:
    """Unnormalised log stationary distribution ln pi_n, n = 0..n_max, of the 1-D chain."""
    big_n = chain.model.system_size
    n = np.arange(n_max + 1, dtype=np.float64)
    birth = big_n * chain.birth(n / big_n)
    death = chain.model.alpha * n
    log_pi = np.zeros(n_max + 1)
    log_pi[1:] = np.cumsum(np.log(birth[:-1]) - np.log(death[1:]))
    return log_pi


def chain_n_max(model: PopulationModel) -> int:
    """Truncation of the 1-D chain where the stationary mass is negligible."""
    top = model.system_size * model.activation.f_max / model.alpha
    return int(np.ceil(top + 12.0 * np.sqrt(top) + 20.0))


def exact_mfpt(chain: Chain1D, n_start: int, n_target: int) -> float:
    """Exact mean first-passage time of the 1-D chain from n_start to n_target (closed-form sums)."""
    if n_start < 0 or n_target < 0:
        raise ValueError("n_start and n_target must be >= 0")
    if n_start == n_target:
        return 0.0
    n_max = max(chain_n_max(chain.model), n_start, n_target)
    big_n = chain.model.system_size
    log_pi = log_stationary_1d(chain, n_max)
    n = np.arange(n_max + 1, dtype=np.float64)
    log_birth = np.log(big_n * chain.birth(n / big_n))
    if n_target > n_start:
        # T = sum_{k=a}^{b-1} (sum_{j<=k} pi_j) / (lambda_k pi_k)
        cum = np.logaddexp.accumulate(log_pi)
        ks = np.arange(n_start, n_target)
        return float(np.sum(np.exp(cum[ks] - log_birth[ks] - log_pi[ks])))
    # T = sum_{k=b+1}^{a} (sum_{j>=k} pi_j) / (mu_k pi_k)
    tail = np.logaddexp.accumulate(log_pi[::-1])[::-1]
    ks = np.arange(n_target + 1, n_start + 1)
    log_death = np.log(chain.model.alpha * ks)
    return float(np.sum(np.exp(tail[ks] - log_death - log_pi[ks])))


def escape_target(x_other: float, upward: bool, system_size: float) -> int:
    """Count at which an escape counts as done: the other stable point, rounded toward the saddle."""
    return int(np.floor(system_size * x_other)) if upward else int(np.ceil(system_size * x_other))


def one_population_escape(chain: Chain1D, method: str = "wkb") -> list[tuple[float, float, np.ndarray]]:
    """Escapes of ``chain.pop`` from its stable point: list of (rate, x_saddle, landing state)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    roots = chain.fixed_points()
    if len(roots) < 3:
        return []
    idx = int(np.argmin(np.abs(roots - chain.x_start)))
    big_n = chain.model.system_size
    out = []
    for step in (-1, 1):
        saddle, other = idx + step, idx + 2 * step
        if not (0 <= other < len(roots)):
            continue
        x_sad, x_oth = float(roots[saddle]), float(roots[other])
        if method == "wkb":
            rate = wkb_rate(chain, float(roots[idx]), x_sad)
        else:
            start = int(np.rint(big_n * roots[idx]))
            rate = 1.0 / exact_mfpt(chain, start, escape_target(x_oth, step > 0, big_n))
        landing = chain.state_table[int(np.argmin(np.abs(chain.grid - x_oth)))].copy()
        landing[chain.pop] = x_oth
        out.append((rate, x_sad, landing))
    return out


@dataclass(frozen=True)
class MetastableChain:
    """Markov chain over stable Wilson-Cowan states: states (K x M), generator (K x K), occupancy."""

    states: np.ndarray
    generator: np.ndarray
    occupancy: np.ndarray


def metastable_chain(
    weights: np.ndarray,
    model: PopulationModel,
    method: str = "wkb",
    reduction: str = "slaved",
) -> MetastableChain:
    """Transition rates between the stable states for weights W, and their stationary occupancy.

    From every stable state each population escapes in turn along its 1-D reaction coordinate;
    the system then relaxes deterministically from the landing point to a stable state.
    """
    w = check_weights(weights, model)
    states = stable_states(w, model)
    k = len(states)
    gen = np.zeros((k, k))
    for a, x in enumerate(states):
        for pop in range(model.n_pops):
            chain = make_chain(model, w, x, pop, reduction)
            for rate, _, landing in one_population_escape(chain, method):
                landed = relax(landing, w, model)
                b = int(np.argmin(np.max(np.abs(states - landed), axis=1)))
                if b != a and np.max(np.abs(states[b] - landed)) < 1e-4:
                    gen[a, b] += rate
    gen[np.diag_indices(k)] = -gen.sum(axis=1)
    return MetastableChain(states, gen, stationary_distribution(gen))


def stationary_distribution(generator: np.ndarray) -> np.ndarray:
    """Solve p Q = 0, sum p = 1 (least squares; uniform over states when the chain is empty)."""
    k = generator.shape[0]
    if k == 1:
        return np.ones(1)
    a = np.vstack([generator.T, np.ones((1, k))])
    b = np.zeros(k + 1)
    b[-1] = 1.0
    p, *_ = np.linalg.lstsq(a, b, rcond=None)
    p = np.clip(p, 0.0, None)
    return p / p.sum()
