"""Exact stochastic simulation (Gillespie) of the birth-death population model, with plasticity.

Population k: birth n_k -> n_k + 1 at rate N f(s_k), death n_k -> n_k - 1 at rate alpha n_k, with
s_k = sum_l W_kl n_l / N - w_inh sum_l n_l / N + I. Between events the rates x = n / N are
constant, so the plasticity drift D_kl = x_l x_k (x_k - theta) is integrated exactly over each
waiting time; the weights move by eta * tau * D and then have their row sums restored
(docs/models/assemblies.md, 4: subtract (S_k - S_k^0) / M from row k, clip to [0, w_max]). Weight changes
during one waiting time do not feed back into that waiting time's propensities (error O(eta tau), eta = 1e-3).

Randomness: uniforms are drawn in Python from a NumPy Generator per chunk of events and consumed by
the kernel, two per event, so the same seed gives a bit-identical run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from homeoplastic.reduced.activation import _sigmoid
from homeoplastic.reduced.params import Plasticity, PopulationModel
from homeoplastic.reduced.wilson_cowan import check_weights

CHUNK_EVENTS = 1 << 16


@njit(cache=True)
def _propensities(n, weights, big_n, w_inh, ext, alpha, f_max, s_half, width, out):
    m = n.shape[0]
    total_x = 0.0
    for k in range(m):
        total_x += n[k] / big_n
    total = 0.0
    for k in range(m):
        s = ext - w_inh * total_x
        for col in range(m):
            s += weights[k, col] * n[col] / big_n
        birth = big_n * _sigmoid(s, f_max, s_half, width)
        death = alpha * n[k]
        out[2 * k] = birth
        out[2 * k + 1] = death
        total += birth + death
    return total


@njit(inline="always")
def _fire_event(n, props, u):
    """Pick the event whose cumulative propensity first exceeds ``u`` and apply it.

    Events alternate birth (even index) and death (odd) of population index // 2; returns that
    population.
    """
    acc = 0.0
    chosen = props.shape[0] - 1
    for j in range(props.shape[0]):
        acc += props[j]
        if u < acc:
            chosen = j
            break
    k = chosen // 2
    if chosen % 2 == 0:
        n[k] += 1
    elif n[k] > 0:
        n[k] -= 1
    return k


@njit(cache=True)
def _advance(
    n,
    weights,
    row_target,
    uniforms,
    t,
    t_end,
    model_vec,
    plast_vec,
    bin_width,
    rate_acc,
    weight_rec,
    drift_rec,
    drift_acc,
    first_bin,
):
    """Advance until t_end or the uniforms run out; returns (t, events, next unrecorded bin)."""
    m = n.shape[0]
    big_n, w_inh, ext, alpha, f_max, s_half, width, w_max = (
        model_vec[0],
        model_vec[1],
        model_vec[2],
        model_vec[3],
        model_vec[4],
        model_vec[5],
        model_vec[6],
        model_vec[7],
    )
    eta, theta = plast_vec[0], plast_vec[1]
    n_bins = rate_acc.shape[0]
    props = np.empty(2 * m)
    x = np.empty(m)
    drift = np.empty((m, m))
    events = 0
    next_bin = first_bin
    n_pairs = uniforms.shape[0] // 2
    while events < n_pairs and t < t_end:
        total = _propensities(n, weights, big_n, w_inh, ext, alpha, f_max, s_half, width, props)
        tau = -np.log(uniforms[2 * events]) / total
        t_next = min(t + tau, t_end)
        for k in range(m):
            x[k] = n[k] / big_n
        for k in range(m):
            for col in range(m):
                drift[k, col] = x[col] * x[k] * (x[k] - theta)
        # integrate rates over bins touched by [t, t_next)
        a = t
        while a < t_next:
            b_idx = int(a / bin_width)
            edge = (b_idx + 1) * bin_width
            if edge <= a:  # a sits on an edge that rounding put in the previous bin
                b_idx += 1
                edge = (b_idx + 1) * bin_width
            b = min(edge, t_next)
            if b_idx < n_bins:
                for k in range(m):
                    rate_acc[b_idx, k] += x[k] * (b - a)
            if b >= edge:
                while next_bin <= b_idx and next_bin < n_bins:
                    weight_rec[next_bin] = weights
                    drift_rec[next_bin] = drift_acc + drift * (edge - t)
                    next_bin += 1
            if b <= a:
                break
            a = b
        seg = t_next - t
        for k in range(m):
            for col in range(m):
                drift_acc[k, col] += drift[k, col] * seg
        if eta > 0.0:
            for k in range(m):
                row = 0.0
                for col in range(m):
                    weights[k, col] += eta * seg * drift[k, col]
                    row += weights[k, col]
                shift = (row - row_target[k]) / m
                for col in range(m):
                    w = weights[k, col] - shift
                    weights[k, col] = min(max(w, 0.0), w_max)
        t = t_next
        if t >= t_end:
            break
        # choose the event
        _fire_event(n, props, uniforms[2 * events + 1] * total)
        events += 1
    return t, events, next_bin


@njit(cache=True)
def _first_passage(n, weights, uniforms, t, model_vec, lower, upper):
    """Run (no plasticity) until some n_k <= lower_k or n_k >= upper_k; returns (t, events, k)."""
    m = n.shape[0]
    big_n, w_inh, ext, alpha, f_max, s_half, width = (
        model_vec[0],
        model_vec[1],
        model_vec[2],
        model_vec[3],
        model_vec[4],
        model_vec[5],
        model_vec[6],
    )
    props = np.empty(2 * m)
    n_pairs = uniforms.shape[0] // 2
    for events in range(n_pairs):
        total = _propensities(n, weights, big_n, w_inh, ext, alpha, f_max, s_half, width, props)
        t += -np.log(uniforms[2 * events]) / total
        k = _fire_event(n, props, uniforms[2 * events + 1] * total)
        if n[k] <= lower[k] or n[k] >= upper[k]:
            return t, events + 1, k
    return t, n_pairs, -1


def _model_vector(model: PopulationModel) -> np.ndarray:
    a = model.activation
    return np.array(
        [
            model.system_size,
            model.w_inh,
            model.external_input,
            model.alpha,
            a.f_max,
            a.s_half,
            a.width,
            model.w_max,
        ],
        dtype=np.float64,
    )


def _uniforms(rng: np.random.Generator, pairs: int) -> np.ndarray:
    return 1.0 - rng.random(2 * pairs)  # in (0, 1]: log never sees 0


@dataclass(frozen=True)
class Trajectory:
    """Binned output of one Gillespie run (time in population time constants)."""

    bin_edges: np.ndarray  # (B + 1,)
    rates: np.ndarray  # (B, M) time-averaged x = n / N per bin
    weights: np.ndarray  # (B, M, M) W[post, pre] at each bin's end
    drift_integral: np.ndarray  # (B, M, M) int_0^t x_l x_k (x_k - theta) dt at each bin's end
    final_counts: np.ndarray  # (M,)
    final_weights: np.ndarray  # (M, M)
    events: int


def simulate(
    model: PopulationModel,
    weights: np.ndarray,
    duration: float,
    rng: np.random.Generator,
    *,
    plasticity: Plasticity | None = None,
    plastic: bool = False,
    bin_width: float = 1.0,
    initial_rates: np.ndarray | None = None,
) -> Trajectory:
    """Simulate the population model exactly for ``duration`` time constants.

    ``plastic=False`` freezes the weights but still integrates the plasticity drift (Fig. 7a
    bottom). Row-sum targets are the row sums of ``weights``. ``initial_rates`` (x = n / N, rounded
    to counts) defaults to all zero.
    """
    w = check_weights(weights, model).copy()
    if not duration > 0:
        raise ValueError(f"duration must be > 0, got {duration}")
    if not bin_width > 0:
        raise ValueError(f"bin_width must be > 0, got {bin_width}")
    if np.any(w < 0) or np.any(w > model.w_max + 1e-12):
        raise ValueError(f"weights must lie in [0, w_max={model.w_max}]")
    plast = plasticity or Plasticity()
    n_bins = int(np.ceil(duration / bin_width - 1e-9))
    if initial_rates is None:
        counts = np.zeros(model.n_pops, dtype=np.int64)
    else:
        x0 = np.asarray(initial_rates, dtype=np.float64)
        if x0.shape != (model.n_pops,) or np.any(x0 < 0):
            raise ValueError(f"initial_rates must be {model.n_pops} non-negative values")
        counts = np.rint(x0 * model.system_size).astype(np.int64)
    row_target = w.sum(axis=1)
    plast_vec = np.array([plast.eta if plastic else 0.0, plast.theta])
    model_vec = _model_vector(model)
    rate_acc = np.zeros((n_bins, model.n_pops))
    weight_rec = np.zeros((n_bins, model.n_pops, model.n_pops))
    drift_rec = np.zeros_like(weight_rec)
    drift_acc = np.zeros((model.n_pops, model.n_pops))
    t, events, next_bin = 0.0, 0, 0
    while t < duration:
        t, used, next_bin = _advance(
            counts,
            w,
            row_target,
            _uniforms(rng, CHUNK_EVENTS),
            t,
            duration,
            model_vec,
            plast_vec,
            bin_width,
            rate_acc,
            weight_rec,
            drift_rec,
            drift_acc,
            next_bin,
        )
        events += used
    weight_rec[next_bin:] = w
    drift_rec[next_bin:] = drift_acc
    edges = np.minimum(np.arange(n_bins + 1) * bin_width, duration)
    rates = rate_acc / np.diff(edges)[:, None]
    return Trajectory(edges, rates, weight_rec, drift_rec, counts.copy(), w.copy(), events)


def first_passage_times(
    model: PopulationModel,
    weights: np.ndarray,
    start_counts: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    n_samples: int,
    rng: np.random.Generator,
    max_events: int = 50_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """First times some n_k leaves (lower_k, upper_k), from ``start_counts``, repeated n_samples times.

    Returns (times, which population exited); a sample that runs out of ``max_events`` is NaN / -1.
    """
    w = check_weights(weights, model)
    start = np.asarray(start_counts, dtype=np.int64)
    lo = np.asarray(lower, dtype=np.int64)
    hi = np.asarray(upper, dtype=np.int64)
    for name, arr in (("start_counts", start), ("lower", lo), ("upper", hi)):
        if arr.shape != (model.n_pops,):
            raise ValueError(f"{name} must have {model.n_pops} entries, got shape {arr.shape}")
    if np.any(start <= lo) or np.any(start >= hi):
        raise ValueError("start_counts must lie strictly between lower and upper")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    model_vec = _model_vector(model)
    times = np.full(n_samples, np.nan)
    which = np.full(n_samples, -1, dtype=np.int64)
    for i in range(n_samples):
        n = start.copy()
        t, done = 0.0, 0
        while done < max_events:
            t, used, k = _first_passage(n, w, _uniforms(rng, CHUNK_EVENTS), t, model_vec, lo, hi)
            done += used
            if k >= 0:
                times[i], which[i] = t, k
                break
    return times, which
