"""The rate-based plasticity rule, row-sum homeostasis, and the slow weight vector field.

dW_kl/dt = eta x_l x_k (x_k - theta) (k post, l pre), W in [0, w_max], each row sum held at its
target (docs/models/assemblies.md, 4: subtract the row's excess divided by M, then clip).

Because eta is small, the weights see the population activity only through its time average. The
vector field is the drift averaged over the metastable states weighted by their stationary
occupancy, <x_l x_k (x_k - theta)> = sum_a P_a x*_al x*_ak (x*_ak - theta) (the paper's Methods),
or, where the one-population-at-a-time escape picture does not apply (four populations, where a
pair escapes together), the same average estimated from a Gillespie run with frozen weights (the
paper: "the vector field of Fig. 7d was numerically estimated").
"""

from __future__ import annotations

import numpy as np

from homeoplastic.reduced.gillespie import simulate
from homeoplastic.reduced.params import Plasticity, PopulationModel
from homeoplastic.reduced.transitions import MetastableChain, metastable_chain
from homeoplastic.reduced.wilson_cowan import check_weights


def drift_matrix(x: np.ndarray, theta: float) -> np.ndarray:
    """D_kl = x_l x_k (x_k - theta): the un-normalised weight drift per unit eta."""
    x = np.asarray(x, dtype=np.float64)
    return (x * (x - theta))[:, None] * x[None, :]


def hold_row_sums(weights: np.ndarray, row_target: np.ndarray, w_max: float) -> np.ndarray:
    """Shift each row by its excess over the target divided by M, then clip to [0, w_max]."""
    w = np.asarray(weights, dtype=np.float64)
    excess = w.sum(axis=1) - np.asarray(row_target, dtype=np.float64)
    return np.clip(w - excess[:, None] / w.shape[1], 0.0, w_max)


def held_drift(weights: np.ndarray, raw_drift: np.ndarray, w_max: float) -> np.ndarray:
    """The weight velocity after row-sum holding: mean change of each row removed, and no
    component that pushes a weight already at a bound further out."""
    v = raw_drift - raw_drift.mean(axis=1, keepdims=True)
    w = np.asarray(weights)
    at_top = (w >= w_max - 1e-12) & (v > 0)
    at_bottom = (w <= 1e-12) & (v < 0)
    return np.where(at_top | at_bottom, 0.0, v)


def metastable_field(
    weights: np.ndarray,
    model: PopulationModel,
    plasticity: Plasticity,
    method: str = "wkb",
    reduction: str = "slaved",
) -> tuple[np.ndarray, MetastableChain]:
    """dW/dt at W from the occupancy-weighted metastable states (row sums held)."""
    w = check_weights(weights, model)
    chain = metastable_chain(w, model, method, reduction)
    raw = sum(
        p * drift_matrix(x, plasticity.theta) for p, x in zip(chain.occupancy, chain.states, strict=True)
    )
    return held_drift(w, plasticity.eta * raw, model.w_max), chain


def sampled_field(
    weights: np.ndarray,
    model: PopulationModel,
    plasticity: Plasticity,
    duration: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """dW/dt at W from a Gillespie run with frozen weights; also returns the mean rates."""
    traj = simulate(model, weights, duration, rng, plasticity=plasticity, plastic=False, bin_width=duration)
    raw = plasticity.eta * traj.drift_integral[-1] / duration
    return held_drift(check_weights(weights, model), raw, model.w_max), traj.rates[0]
