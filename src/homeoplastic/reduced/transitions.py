"""Transition rates between metastable states of the birth-death population model.

One population (1-D). With the other populations frozen, population i is a birth-death chain with
per-N birth rate w+(x) = f(s_i(x)) and death rate w-(x) = alpha x. Its quasi-potential is
Phi(x) = int ln(w-/w+) dx, and Bressloff's (2010) WKB escape rate from a stable point x_s over the
saddle x_0 is

    lambda = w+(x_s) / (2 pi) * sqrt(Phi''(x_s) |Phi''(x_0)|) * exp(-N [Phi(x_0) - Phi(x_s)]).

The exact mean first-passage time of the same 1-D chain is also given (closed-form sums), for tests
and as an alternative at small N where the WKB asymptotics are rough.

Several populations (the paper's extension, Methods): from each stable Wilson-Cowan state, each
population in turn escapes along its own coordinate with the others frozen (a 1-D reduction, exact
in the direction that global inhibition leaves), then the whole system relaxes deterministically to
the new stable state it lands in. This defines a Markov chain over metastable states; its
stationary distribution gives the occupancy of each state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.reduced.activation import activation, activation_slope
from homeoplastic.reduced.params import PopulationModel
from homeoplastic.reduced.wilson_cowan import (
    check_weights,
    fixed_points_1d,
    relax,
    stable_states,
)

METHODS = ("wkb", "exact")


@dataclass(frozen=True)
class Chain1D:
    """Population ``pop`` as a 1-D birth-death chain with the other rates frozen at ``x``."""

    model: PopulationModel
    weights: np.ndarray
    x: np.ndarray
    pop: int

    @property
    def base_input(self) -> float:
        others = np.delete(np.arange(self.model.n_pops), self.pop)
        return float(
            self.weights[self.pop, others] @ self.x[others]
            - self.model.w_inh * np.sum(self.x[others])
            + self.model.external_input
        )

    @property
    def self_coupling(self) -> float:
        return float(self.weights[self.pop, self.pop] - self.model.w_inh)

    def birth(self, xs: np.ndarray) -> np.ndarray:
        """Per-N birth rate w+(x) = f(s)."""
        return activation(self.base_input + self.self_coupling * np.asarray(xs), self.model.activation)

    def death(self, xs: np.ndarray) -> np.ndarray:
        """Per-N death rate w-(x) = alpha x."""
        return self.model.alpha * np.asarray(xs, dtype=np.float64)

    def phi_second(self, xs: np.ndarray) -> np.ndarray:
        """Phi''(x) = d/dx ln(w-/w+)."""
        xs = np.asarray(xs, dtype=np.float64)
        s = self.base_input + self.self_coupling * xs
        f = activation(s, self.model.activation)
        return 1.0 / xs - activation_slope(s, self.model.activation) * self.self_coupling / f

    def quasi_potential(self, x_from: float, x_to: float, points: int = 2001) -> float:
        """Phi(x_to) - Phi(x_from) = int ln(w-/w+) dx (Gauss-Legendre)."""
        nodes, weights = np.polynomial.legendre.leggauss(min(points, 400))
        half = 0.5 * (x_to - x_from)
        xs = x_from + half * (nodes + 1.0)
        return float(half * np.sum(weights * np.log(self.death(xs) / self.birth(xs))))


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


def one_population_escape(
    chain: Chain1D, method: str = "wkb"
) -> list[tuple[float, float, float]]:
    """Escapes of ``chain.pop`` from its current stable point: list of (rate, x_saddle, x_other)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    roots = fixed_points_1d(chain.x, chain.pop, chain.weights, chain.model)
    if len(roots) < 3:
        return []
    x_now = chain.x[chain.pop]
    idx = int(np.argmin(np.abs(roots - x_now)))
    out = []
    for step in (-1, 1):
        saddle, other = idx + step, idx + 2 * step
        if not (0 <= other < len(roots)):
            continue
        x_sad, x_oth = float(roots[saddle]), float(roots[other])
        if method == "wkb":
            rate = wkb_rate(chain, float(roots[idx]), x_sad)
        else:
            big_n = chain.model.system_size
            start = int(np.rint(big_n * roots[idx]))
            target = escape_target(x_oth, step > 0, big_n)
            rate = 1.0 / exact_mfpt(chain, start, target)
        out.append((rate, x_sad, x_oth))
    return out


@dataclass(frozen=True)
class MetastableChain:
    """Markov chain over stable Wilson-Cowan states: states (K x M), generator (K x K), occupancy."""

    states: np.ndarray
    generator: np.ndarray
    occupancy: np.ndarray


def metastable_chain(
    weights: np.ndarray, model: PopulationModel, method: str = "wkb"
) -> MetastableChain:
    """Transition rates between the stable states for weights W, and their stationary occupancy."""
    w = check_weights(weights, model)
    states = stable_states(w, model)
    k = len(states)
    gen = np.zeros((k, k))
    for a, x in enumerate(states):
        for pop in range(model.n_pops):
            for rate, _, x_other in one_population_escape(Chain1D(model, w, x, pop), method):
                start = x.copy()
                start[pop] = x_other
                landed = relax(start, w, model)
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
