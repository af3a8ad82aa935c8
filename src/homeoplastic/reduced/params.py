"""Parameters of the reduced model as frozen dataclasses.

Values from the paper's Methods [TEXT]: eta = 0.001, theta = 1.8; two populations: w_max = 1,
w_inh = 0.2, N = 16; four populations: w_max = 1/2, w_inh = 0.1, N = 8. The activation function's
constants were lost with the paper's equations; the defaults below are chosen (see ``Activation``).
Time is measured in units of the population time constant (death rate alpha = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Activation:
    """Sigmoid f(s) = f_max / (1 + exp(-(s - s_half) / width)), the per-N birth rate.

    [chosen, not from the paper] f_max = 3: rates must pass theta = 1.8 for potentiation, so the
    high state sits near 2.9. s_half = 1.05 and width = 0.4, chosen by a scan over
    (s_half, width) with N = 16, w_max = 1, w_inh = 0.2: all weights w_max / 2 give a single low
    state (x = 0.31); W_ii = w_max gives three stable states (both low at x = 0.31, or one
    population high at x = 2.87 with the other suppressed at 0.057); bistability begins near
    W_ii = 0.867 on the diagonal of the (W11, W22) plane (at 0.8 one population, the other
    silent, sees the same input map f(0.6 x) as the uniform network, which must stay monostable,
    so the onset has to lie above 0.8);
    the mean escape times at N = 16 (Gillespie) are about 45 out of (low, low) and 220 out of
    (high, low) time constants, so Gillespie runs of a few thousand time constants show many switches,
    as in the paper's Fig. 7a; and Gillespie runs with plasticity from W_ii > 0.9 go to w_max.
    """

    f_max: float = 3.0
    s_half: float = 1.05
    width: float = 0.4

    def __post_init__(self) -> None:
        if not self.f_max > 0:
            raise ValueError(f"f_max must be > 0, got {self.f_max}")
        if not self.width > 0:
            raise ValueError(f"width must be > 0, got {self.width}")


@dataclass(frozen=True)
class PopulationModel:
    """M excitatory populations with global inhibition, system size N.

    Input to population k: s_k = sum_l W_kl x_l - w_inh sum_l x_l + external_input, x = n / N.
    Birth (n_k -> n_k + 1) at rate N f(s_k); death (n_k -> n_k - 1) at rate alpha n_k.
    """

    n_pops: int = 2
    system_size: float = 16.0
    w_max: float = 1.0
    w_inh: float = 0.2
    external_input: float = 0.0
    alpha: float = 1.0
    activation: Activation = field(default_factory=Activation)

    def __post_init__(self) -> None:
        if self.n_pops < 1:
            raise ValueError(f"n_pops must be >= 1, got {self.n_pops}")
        if not self.system_size > 0:
            raise ValueError(f"system_size must be > 0, got {self.system_size}")
        if not self.w_max > 0:
            raise ValueError(f"w_max must be > 0, got {self.w_max}")
        if self.w_inh < 0:
            raise ValueError(f"w_inh must be >= 0, got {self.w_inh}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha}")

    def with_size(self, system_size: float) -> PopulationModel:
        """Same model with another system size N."""
        return replace(self, system_size=float(system_size))


@dataclass(frozen=True)
class Plasticity:
    """dW_kl/dt = eta x_l x_k (x_k - theta); W in [0, w_max]; row sums held at their start value."""

    eta: float = 0.001
    theta: float = 1.8

    def __post_init__(self) -> None:
        if self.eta < 0:
            raise ValueError(f"eta must be >= 0, got {self.eta}")


def two_population_model(system_size: float = 16.0, **kwargs) -> PopulationModel:
    """The paper's two-population model: w_max = 1, w_inh = 0.2, N = 16 [TEXT]."""
    return PopulationModel(n_pops=2, system_size=system_size, w_max=1.0, w_inh=0.2, **kwargs)


def four_population_model(system_size: float = 8.0, **kwargs) -> PopulationModel:
    """The paper's four-population model: w_max = 1/2, w_inh = 0.1, N = 8 [TEXT].

    Each population is half of a two-population one, so a strongly coupled pair behaves exactly
    like one population of the two-population model with N twice as large.
    """
    return PopulationModel(n_pops=4, system_size=system_size, w_max=0.5, w_inh=0.1, **kwargs)


def model_for(n_pops: int, system_size_2pop: float, **kwargs) -> PopulationModel:
    """Model with M = 2 or 4 populations; ``system_size_2pop`` is N of the 2-population model."""
    if n_pops == 2:
        return two_population_model(system_size_2pop, **kwargs)
    if n_pops == 4:
        return four_population_model(system_size_2pop / 2.0, **kwargs)
    raise ValueError(f"n_pops must be 2 or 4, got {n_pops}")


def trained_weights(model: PopulationModel, pairing: str = "diagonal") -> np.ndarray:
    """Weight matrix W[post, pre] of a trained configuration.

    M = 2: "diagonal" (W_ii = w_max) or "uniform" (all w_max / 2, untrained).
    M = 4: "13_24" (pairs (1,3),(2,4) strongly coupled), "12_34", or "uniform".
    """
    m, w = model.n_pops, model.w_max
    if pairing == "uniform":
        return np.full((m, m), w / 2.0)  # row sums w_max (M = 2) and 2 w_max (M = 4)
    if m == 2 and pairing == "diagonal":
        return np.diag([w, w])
    if m == 4 and pairing in ("13_24", "12_34"):
        return four_population_plane(model, *((0.0, 0.0) if pairing == "13_24" else (w, w)))
    raise ValueError(f"pairing must be 'uniform' or {'diagonal' if m == 2 else '13_24/12_34'}")


def two_population_plane(model: PopulationModel, w11: float, w22: float) -> np.ndarray:
    """2-population weights on the plane of constant row sums w_max: W12 = w_max - W11 etc."""
    w = model.w_max
    return np.array([[w11, w - w11], [w - w22, w22]], dtype=np.float64)


def four_population_plane(model: PopulationModel, w12: float, w34: float) -> np.ndarray:
    """4-population weights on the (W12, W34) plane with row sums 2 w_max.

    Self weights at w_max; W12 = W21 = w12 and W34 = W43 = w34; the remainder of each row goes to the
    other partner (W13 = W24 = w_max - w12, W31 = W42 = w_max - w34); W14 = W23 = W32 = W41 = 0.
    (0, 0) is the (1,3)(2,4) pairing, (w_max, w_max) the (1,2)(3,4) pairing [chosen, not from the
    paper: the paper names the plane but not how the other entries move on it].
    """
    w = model.w_max
    a, b = float(w12), float(w34)
    return np.array(
        [
            [w, a, w - a, 0.0],
            [a, w, 0.0, w - a],
            [w - b, 0.0, w, b],
            [0.0, w - b, b, w],
        ],
        dtype=np.float64,
    )
