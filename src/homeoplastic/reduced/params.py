"""Parameters of the reduced model as frozen dataclasses.

Values from the paper's Methods [TEXT]: eta = 0.001, theta = 1.8; two populations: w_max = 1,
w_inh = 0.2, N = 16; four populations: w_max = 1/2, w_inh = 0.1, N = 8. The activation function's
constants were lost with the paper's equations; the defaults below are chosen (see ``Activation``).
Time is measured in units of the population time constant (death rate alpha = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from homeoplastic.parameters import check_fields, param


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

    f_max: float = param(3.0, unit="1/tau", exclusive_minimum=0, maximum=1000,
                         description="Maximal birth rate per N [chosen, not from the paper: must exceed "
                                     "theta = 1.8 so that high states potentiate; the high state then sits "
                                     "at x = 2.87].")
    s_half: float = param(1.05, unit="1", minimum=-100, maximum=100,
                          description="Input at half-maximal rate [chosen, not from the paper: with width "
                                      "0.4, the both-low state is x = 0.31 and mean escape times at N = 16 "
                                      "are ~45 tau out of (low, low) and ~220 tau out of (high, low), so "
                                      "switching is visible as in Fig. 7a].")
    width: float = param(0.4, unit="1", exclusive_minimum=0, maximum=100,
                         description="Sigmoid width [chosen, not from the paper: bistability on the (W11, "
                                     "W22) diagonal begins at W_ii = 0.867; uniform weights stay "
                                     "monostable].")

    def __post_init__(self) -> None:
        check_fields(self, "reduced.activation")


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


@dataclass(frozen=True)
class ReducedSettings:
    """The ``reduced`` config's model constants and experiment settings, one frozen object per run.

    Built from the validated config by :func:`homeoplastic.reduced.experiments.run_stage` (the
    sweep values, N, eta and the seed, come from the run's wildcards). Each field is declared once
    here; the schema's keys and config/README.md's rows are generated from it.
    """

    theta: float = param(1.8, unit="1", exclusive_minimum=0, maximum=100,
                         description="Potentiation threshold theta of dW = eta x_j x_i (x_i - theta) [TEXT].")
    w_max: float = param(1.0, unit="1", exclusive_minimum=0, maximum=100,
                         description="Upper weight bound w_max of the two-population model [TEXT]; also the "
                                     "row sum W11 + W12 = W22 + W21.")
    w_inh: float = param(0.2, unit="1", minimum=0, maximum=100,
                         description="Global inhibition strength w_inh of the two-population model [TEXT].")
    external_input: float = param(0.0, unit="1", minimum=-100, maximum=100,
                                  description="Constant input I added to every population's s [chosen, not "
                                              "from the paper: the sigmoid's s_half already sets the "
                                              "operating point, so I = 0].")
    activation: Activation = field(default_factory=Activation)
    rates_duration: float = param(3000, unit="tau", exclusive_minimum=0, maximum=10000000,
                                  description="Length of the frozen-weight runs of Fig. 7a/c [chosen, not "
                                              "from the paper: ~10 switches at N = 16].")
    rates_bin: float = param(5, unit="tau", exclusive_minimum=0, maximum=100000,
                             description="Bin width of the recorded rates [chosen, not from the paper: "
                                         "resolves dwell times of ~100 tau].")
    train_duration: float = param(30000, unit="tau", exclusive_minimum=0, maximum=100000000,
                                  description="Length of the plastic runs drawn on the vector field "
                                              "[chosen, not from the paper: at eta = 0.001 the weights "
                                              "cross the plane in ~10^4 tau].")
    train_bin: float = param(50, unit="tau", exclusive_minimum=0, maximum=1000000,
                             description="Sampling interval of the weights and rates in the plastic runs "
                                         "[chosen, not from the paper].")
    train_starts_2pop: tuple[tuple[float, ...], ...] = param(
        ((0.95, 0.9), (0.9, 0.97), (0.85, 0.8), (1.0, 0.75)), unit="w_max", minimum=0, maximum=1,
        min_items=1, item_length=2,
        description="Starting (W11, W22) of the plastic two-population runs, as fractions of w_max "
                    "[chosen, not from the paper: both sides of the separatrix near 0.87].")
    train_starts_4pop: tuple[tuple[float, ...], ...] = param(
        ((0.1, 0.1), (0.9, 0.9), (0.3, 0.2), (0.7, 0.8)), unit="w_max (4-pop)", minimum=0, maximum=1,
        min_items=1, item_length=2,
        description="Starting (W12, W34) of the plastic four-population runs, as fractions of the "
                    "four-population w_max = w_max/2 [chosen, not from the paper: near both pairings].")
    field_points: int = param(21, unit="1", minimum=3, maximum=401,
                              description="Grid points per plane axis for the metastable-state vector field "
                                          "[chosen, not from the paper].")
    sampled_field_points: int = param(7, unit="1", minimum=2, maximum=201,
                                      description="Grid points per plane axis for the vector field "
                                                  "estimated from frozen-weight Gillespie runs [chosen, not "
                                                  "from the paper: coarse, a cross-check].")
    sampled_field_duration: float = param(10000, unit="tau", exclusive_minimum=0, maximum=100000000,
                                          description="Length of each frozen-weight Gillespie run of the "
                                                      "sampled field [chosen, not from the paper: ~30 "
                                                      "switches per point at N = 16].")
    transition_method: str = param("wkb", enum=("wkb", "exact"),
                                   description="1-D escape rate used for the metastable chain: Bressloff's "
                                               "WKB formula (the paper's) or the exact mean first-passage "
                                               "time of the 1-D birth-death chain.")
    reduction: str = param("slaved", enum=("slaved", "frozen"),
                           description="Other populations along an escape [chosen, not from the paper: "
                                       "\"slaved\" (their conditional equilibrium) matches Gillespie escape "
                                       "times within ~15 % at N = 8-32; \"frozen\", the paper's wording, "
                                       "underestimates escapes from the both-low state by up to 2x].")
    escape_samples: int = param(200, unit="1", minimum=0, maximum=1000000,
                                description="Gillespie escapes per transition for the rate check of the "
                                            "two-population model (no unit; 0 = skip).")
    escape_max_events: float = param(200000000.0, unit="events", minimum=0, maximum=1000000000000.0,
                                     description="Skip the Gillespie escape check when its expected cost "
                                                 "exceeds this many events [chosen, not from the paper: ~15 "
                                                 "s at 1.3e7 events/s; escapes are exponentially rare at "
                                                 "large N].")

    def __post_init__(self) -> None:
        check_fields(self, "reduced")


@dataclass(frozen=True)
class ReducedPoint:
    """The reduced sweep's named axes of one run (``m~M_n~N_eta~ETA_seed~SEED``), declared once
    so that every value of a sweep is checked like a single run's (type, range, key named)."""

    m: int = param(2, unit="1", enum=(2, 4), config=False,
                   description="Number of populations M (alias models): 2 gives Fig. 7a-b, 4 Fig. 7c-d.")
    n: float = param(16.0, unit="1", exclusive_minimum=0, maximum=4096, config=False,
                     description="System size N of the two-population model (alias system_size); the "
                                 "four-population model uses N/2 per population [TEXT: 16].")
    eta: float = param(0.001, unit="1/tau", exclusive_minimum=0, maximum=1, config=False,
                       description="Learning rate eta [TEXT: 0.001].")
    seed: int = param(0, unit="1", minimum=0, config=False,
                      description="Random seed (alias seeds) of every Gillespie run of the point.")

    def __post_init__(self) -> None:
        check_fields(self, "reduced.sweep")


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
