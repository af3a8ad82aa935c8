"""Parameters of the balanced spiking network (Litwin-Kumar & Doiron 2014), as frozen dataclasses.

Defaults are the values of the authors' code ``sim.jl`` (see ``docs/models/assemblies.md``,
sections 1-5); a comment marks the few that are not from the code. Units are in the names:
``_ms``, ``_mv``, ``_pf`` (pF = nS*ms, the integrated conductance of one synaptic event), ``_ns``,
``_pa``, ``_hz``, ``_s``. Everything without a unit suffix is dimensionless.

Every field is declared once with :func:`homeoplastic.parameters.param`: its default, unit, bounds
and description. That declaration is checked when the parameters are built (type and range, the
error naming the full key path and what is allowed), and it generates the ``assemblies.network``
part of ``workflow/schemas/assemblies.schema.yaml`` and its table in ``config/README.md``
(``python -m homeoplastic.paramdocs --write``). Rules between fields are the short checks of
:meth:`NetworkParams.__post_init__`. ``NetworkParams.from_dict`` builds the parameters from a
nested dict (the config's ``network`` overrides) and refuses unknown keys by name.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeoplastic.parameters import (
    ParameterError,
    check_fields,
    check_type,
    from_mapping,
    param,
)
from homeoplastic.parameters import require as _require

__all__ = ["CONSTRAINTS", "EE_RULES", "MAX_LEARNING_SPEED", "MAX_NEURONS",
           "SIZE_SCALINGS", "Constraint", "NetworkParams",
           "ParameterError", "check_type", "network_with", "steps_of", "steps_of_seconds"]

EE_RULES = ("voltage", "triplet", "calcium", "none")
"""Names of the E->E plasticity rules; a rule is a config value, not a code fork."""

SIZE_SCALINGS = ("mean_input", "fixed_indegree", "none")

MAX_NEURONS = 100_000
"""The largest network anything builds (``connectivity.n_neurons``, the sweep's ``n_neurons`` in
``workflow/schemas/assemblies.schema.yaml``, ``homeoplastic simulate --n-neurons``): at the
workflow's fixed in-degree (K = 1000) 10^5 cells hold 10^8 synapses, 16 bytes each."""

MAX_LEARNING_SPEED = 1000.0
"""The largest ``plasticity.learning_speed`` (the sweep's ``learning_speed`` in the schema and
``homeoplastic simulate --learning-speed`` have the same bound)."""


@dataclass(frozen=True)
class ExcitatoryParams:
    """Adaptive exponential integrate-and-fire E cell with adaptive threshold
    (docs/models/assemblies.md, 1.1)."""

    tau_m_ms: float = param(20.0, unit="ms", exclusive_minimum=0,
                            description="E membrane time constant C/g_L")
    c_pf: float = param(300.0, unit="pF", exclusive_minimum=0, description="E capacitance")
    e_leak_mv: float = param(-70.0, unit="mV", description="E leak reversal")
    delta_t_mv: float = param(2.0, unit="mV", exclusive_minimum=0, description="AdEx slope factor")
    v_thresh_rest_mv: float = param(-52.0, unit="mV", description="resting adaptive threshold V_T0")
    v_thresh_jump_mv: float = param(10.0, unit="mV", description="threshold jump A_T after a spike")
    tau_thresh_ms: float = param(30.0, unit="ms", exclusive_minimum=0, description="threshold decay time")
    v_peak_mv: float = param(20.0, unit="mV", description="spike detection level")
    v_reset_mv: float = param(-60.0, unit="mV", description="reset potential")
    t_ref_ms: float = param(1.0, unit="ms", minimum=0, description="refractory clamp (multiple of dt)")
    a_adapt_ns: float = param(4.0, unit="nS", minimum=0, description="subthreshold adaptation a")
    b_adapt_pa: float = param(0.805, unit="pA", minimum=0, description="spike-triggered adaptation b")
    tau_adapt_ms: float = param(150.0, unit="ms", exclusive_minimum=0,
                                description="adaptation time constant")


@dataclass(frozen=True)
class InhibitoryParams:
    """Leaky integrate-and-fire I cell (docs/models/assemblies.md, 1.2)."""

    tau_m_ms: float = param(20.0, unit="ms", exclusive_minimum=0, description="I membrane time constant")
    c_pf: float = param(300.0, unit="pF", exclusive_minimum=0, description="I capacitance")
    e_leak_mv: float = param(-62.0, unit="mV", description="I leak reversal")
    v_thresh_mv: float = param(-52.0, unit="mV", description="I fixed threshold")
    v_reset_mv: float = param(-60.0, unit="mV", description="I reset")
    t_ref_ms: float = param(1.0, unit="ms", minimum=0, description="I refractory clamp")


@dataclass(frozen=True)
class SynapseParams:
    """Conductance synapses with unit-area difference-of-exponentials kernels
    (docs/models/assemblies.md, 1.3, 2.3)."""

    e_rev_exc_mv: float = param(0.0, unit="mV", description="excitatory reversal")
    e_rev_inh_mv: float = param(-75.0, unit="mV", description="inhibitory reversal")
    tau_rise_exc_ms: float = param(1.0, unit="ms", exclusive_minimum=0, description="E conductance rise")
    tau_decay_exc_ms: float = param(6.0, unit="ms", exclusive_minimum=0, description="E conductance decay")
    tau_rise_inh_ms: float = param(0.5, unit="ms", exclusive_minimum=0, description="I conductance rise")
    tau_decay_inh_ms: float = param(2.0, unit="ms", exclusive_minimum=0, description="I conductance decay")


@dataclass(frozen=True)
class ConnectivityParams:
    """Random connectivity and weights at the reference size N = 5000 (docs/models/assemblies.md, 2.1, 2.2).

    Names read pre_to_post. ``j_e_to_e_pf`` is 2.86 pF in the authors' code and 2.76 pF in the
    paper's table (docs/models/assemblies.md, 2.2); the code value made the published figures and is
    the default.

    ``size_scaling`` says how networks of another size stay balanced: ``"mean_input"`` keeps the
    mean recurrent input K*J of every cell at its N = 5000 value. Above N = 5000 the in-degree K is
    held (p = p_ref * N_ref / N, weights unchanged); below it p stays p_ref and all recurrent
    weights, their bounds and the plasticity amplitudes are multiplied by N_ref / N.
    ``"fixed_indegree"`` holds the in-degree K = p_ref * N_ref at every size (p = p_ref * N_ref / N,
    at most 1) with weights unchanged, so each cell sees the reference network's inputs in number
    and size, assemblies included; smaller networks then share more of their inputs. ``"none"``
    uses p and weights as given at every size.
    """

    n_neurons: int = param(5000, unit="cells", minimum=10, maximum=MAX_NEURONS,
                           description="network size (set by the sweep)")
    exc_fraction: float = param(0.8, unit="1", exclusive_minimum=0, exclusive_maximum=1,
                                description="fraction of E cells (4:1)")
    p_connect: float = param(0.2, unit="1", exclusive_minimum=0, maximum=1,
                             description="connection probability at the reference size")
    reference_n_neurons: int = param(5000, unit="cells", exclusive_minimum=0,
                                     description="size at which p and weights hold as given")
    size_scaling: str = param("mean_input", enum=SIZE_SCALINGS,
                              description="`mean_input` (keep K*J; docs/engine.md), `fixed_indegree` "
                                          "(keep K and J: p = 0.2 * 5000 / N, at most 1) or `none`")
    j_e_to_e_pf: float = param(2.86, unit="pF", minimum=0, paper=2.76,
                               description="initial E->E weight (the authors' code 2.86; the paper's "
                                           "table 2.76 [unverified which])")
    j_i_to_e_pf: float = param(48.7, unit="pF", minimum=0, description="initial I->E weight")
    j_e_to_i_pf: float = param(1.27, unit="pF", minimum=0, description="E->I weight (static)")
    j_i_to_i_pf: float = param(16.2, unit="pF", minimum=0, description="I->I weight (static)")
    j_e_to_e_min_pf: float = param(1.78, unit="pF", minimum=0, description="E->E lower bound")
    j_e_to_e_max_pf: float = param(21.4, unit="pF", description="E->E upper bound")
    j_i_to_e_min_pf: float = param(48.7, unit="pF", minimum=0, description="I->E lower bound")
    j_i_to_e_max_pf: float = param(243.0, unit="pF", description="I->E upper bound")

    @property
    def n_exc(self) -> int:
        return int(round(self.n_neurons * self.exc_fraction))

    @property
    def n_inh(self) -> int:
        return self.n_neurons - self.n_exc

    @property
    def effective_p_connect(self) -> float:
        """Connection probability after size scaling."""
        ratio = self.reference_n_neurons / self.n_neurons
        if self.size_scaling == "fixed_indegree" or (
            self.size_scaling == "mean_input" and ratio < 1.0
        ):
            return min(1.0, self.p_connect * ratio)
        return self.p_connect

    @property
    def weight_scale(self) -> float:
        """Factor on every recurrent weight, bound and plasticity amplitude after size scaling."""
        if self.size_scaling == "mean_input" and self.n_neurons < self.reference_n_neurons:
            return self.reference_n_neurons / self.n_neurons
        return 1.0


@dataclass(frozen=True)
class ExternalInputParams:
    """Independent Poisson excitatory drive to every cell (docs/models/assemblies.md, 2.5)."""

    rate_to_e_hz: float = param(4500.0, unit="Hz", minimum=0,
                                description="Poisson drive rate to each E cell")
    rate_to_i_hz: float = param(2250.0, unit="Hz", minimum=0,
                                description="Poisson drive rate to each I cell")
    j_ext_to_e_pf: float = param(1.78, unit="pF", minimum=0,
                                 description="weight of an external event onto E")
    j_ext_to_i_pf: float = param(1.27, unit="pF", minimum=0,
                                 description="weight of an external event onto I")


@dataclass(frozen=True)
class VoltageSTDPParams:
    """Clopath-type voltage-based STDP on E->E
    (docs/models/assemblies.md, 3). Amplitudes at learning speed 1."""

    a_ltd_pf_per_mv: float = param(8e-4, unit="pF/mV", minimum=0, description="LTD amplitude")
    a_ltp_pf_per_mv2: float = param(14e-4, unit="pF/mV²", minimum=0, description="LTP amplitude")
    theta_ltd_mv: float = param(-70.0, unit="mV", description="LTD threshold")
    theta_ltp_mv: float = param(-49.0, unit="mV", description="LTP threshold")
    tau_u_ms: float = param(10.0, unit="ms", exclusive_minimum=0, description="LTD voltage filter")
    tau_v_ms: float = param(7.0, unit="ms", exclusive_minimum=0, description="LTP voltage filter")
    tau_x_ms: float = param(15.0, unit="ms", exclusive_minimum=0, description="presynaptic trace")


@dataclass(frozen=True)
class TripletSTDPParams:
    """Pfister & Gerstner (2006) all-to-all triplet STDP on E->E (docs/models/assemblies.md, 7.1).

    Each E cell has two presynaptic traces (r1: ``tau_plus_ms``, r2: ``tau_x_ms``) and two
    postsynaptic traces (o1: ``tau_minus_ms``, o2: ``tau_y_ms``), each jumping by 1 at the cell's
    spikes. A presynaptic spike of j depresses every W_ij by o1_i (A2- + A3- r2_j); a postsynaptic
    spike of i potentiates every W_ij by r1_j (A2+ + A3+ o2_i), both with the traces before this
    spike's jump. Amplitudes (pF per trace product) are the "most likely LKD values" of 7.1 (the
    PG2006 visual-cortex all-to-all set with both LTP amplitudes x 1.5) at learning speed 1; they
    are multiplied by ``plasticity.learning_speed`` and the size scaling's weight factor.
    """

    a2_plus_pf: float = param(7.5e-10, unit="pF", minimum=0,
                              description="triplet pair LTP amplitude A2+ (pF per trace product; x learning "
                                          "speed, x size scaling)")
    a3_plus_pf: float = param(9.3e-3, unit="pF", minimum=0,
                              description="triplet LTP amplitude A3+ (most likely LKD value, "
                                          "docs/models/assemblies.md, 7.1: PG2006 all-to-all "
                                          "visual cortex x 1.5)")
    a2_minus_pf: float = param(7e-3, unit="pF", minimum=0, description="triplet pair LTD amplitude A2-")
    a3_minus_pf: float = param(2.3e-4, unit="pF", minimum=0, description="triplet LTD amplitude A3-")
    tau_plus_ms: float = param(16.8, unit="ms", exclusive_minimum=0, description="fast presynaptic trace r1")
    tau_x_ms: float = param(101.0, unit="ms", exclusive_minimum=0, description="slow presynaptic trace r2")
    tau_minus_ms: float = param(33.7, unit="ms", exclusive_minimum=0,
                                description="fast postsynaptic trace o1")
    tau_y_ms: float = param(125.0, unit="ms", exclusive_minimum=0, description="slow postsynaptic trace o2")


@dataclass(frozen=True)
class CalciumSTDPParams:
    """Graupner & Brunel (2012) calcium-based rule on E->E, as the LKD paper prints it
    (docs/models/assemblies.md, 7.2).

    Every E->E synapse has a calcium variable c (jumps ``c_pre`` at a presynaptic spike delayed by
    ``delay_ms`` and ``c_post`` at a postsynaptic spike, decay ``tau_ca_ms``) and an efficacy
    rho in [0, 1] with

        tau_rho d(rho)/dt = -bistable * rho (1 - rho)(rho_star - rho) + g_p (1 - rho) H(c - theta_p)
                            - g_d rho H(c - theta_d) + noise * sigma sqrt(tau_rho) N(c) eta(t)

    where g_p = ``gamma_p * gamma_scale``, g_d = ``gamma_d * gamma_scale`` and N(c) =
    H(c - theta_d) (``noise_form: paper_2012``, GB's printed form) or
    sqrt(H(c - theta_d) + H(c - theta_p)) (``corrected``, GB's published correction). ``bistable: false``
    with ``noise: false`` is the rule in the form the LKD paper prints (only the calcium drive's
    constants; the ``calcium_plain`` rule variant). Recovered: the
    paper's gamma_p = 7.25 and gamma_d = 3.31 (GB's cortical-slice 725.085 and 331.909 / 100, kept
    unrounded like the other constants) and its theta_p, theta_d, tau_Ca, C_pre and C_post (GB's,
    rounded). Chosen: tau_rho = GB's 346.3615 s / 100 = 3.463615 s, so that g / tau_rho, the rate
    at which rho moves while calcium is above threshold, is GB's (with GB's tau_rho the printed
    gammas would make the rule 100x slower than GB's); sigma = GB's 3.3501 / 10, which keeps GB's
    noise variance per unit time sigma^2 / tau_rho; GB's rho* = 0.5, delay and UP/DOWN weight
    ratio b = 5.40988 (``up_down_ratio``): W = W_DOWN + rho (W_UP - W_DOWN) with W_DOWN = J_min
    and W_UP = b J_min (size-scaled; b = 0 maps rho onto [J_min, J_max]). rho is re-derived from W
    at each synapse update, so the 20-ms normalisation acts on rho too. ``plasticity.learning_speed``
    divides tau_rho (it speeds up rho's clock, drift and noise alike).
    """

    tau_ca_ms: float = param(22.6936, unit="ms", exclusive_minimum=0,
                             description="calcium decay (Graupner & Brunel 2012, cortical-slice fit)")
    c_pre: float = param(0.5617539, unit="1", minimum=0,
                         description="calcium jump per presynaptic spike (dimensionless), after `delay_ms`")
    c_post: float = param(1.23964, unit="1", minimum=0,
                          description="calcium jump per postsynaptic spike (dimensionless)")
    delay_ms: float = param(4.6098, unit="ms", minimum=0,
                            description="delay of the presynaptic calcium; need not be a multiple of dt "
                                        "(exact arrival time)")
    theta_d: float = param(1.0, unit="1", exclusive_minimum=0,
                           description="depression threshold on calcium (dimensionless)")
    theta_p: float = param(1.3, unit="1", description="potentiation threshold (>= theta_d)")
    gamma_d: float = param(3.31909, unit="1", minimum=0,
                           description="depression rate (dimensionless, per tau_rho), times `gamma_scale`: "
                                       "the paper's printed 3.31 (Graupner & Brunel's 331.909 / 100)")
    gamma_p: float = param(7.25085, unit="1", minimum=0,
                           description="potentiation rate, times `gamma_scale`: the paper's printed 7.25 "
                                       "(GB's 725.085 / 100)")
    gamma_scale: float = param(1.0, unit="1", minimum=0, description="factor on both gammas")
    sigma: float = param(0.33501, unit="1", minimum=0,
                         description="noise amplitude (active while calcium > theta_d); GB's 3.3501 / 10, "
                                     "which keeps GB's noise variance per unit time sigma^2 / tau_rho "
                                     "with tau_rho / 100 [chosen]")
    tau_rho_s: float = param(3.463615, unit="s", exclusive_minimum=0,
                             description="efficacy time constant tau_rho (divided by learning speed); GB's "
                                         "346.3615 s / 100, so that gamma / tau_rho, how fast rho moves "
                                         "while calcium is above threshold, stays GB's [chosen]")
    rho_star: float = param(0.5, unit="1", minimum=0, maximum=1,
                            description="unstable fixed point of the bistable cubic term (0..1)")
    noise: bool = param(True, description="noise term on or off")
    noise_form: str = param("paper_2012", enum=("paper_2012", "corrected"),
                            description="noise amplitude N(c) sigma sqrt(tau_rho): `paper_2012` has "
                                        "N = H(c - theta_d) as Graupner & Brunel (2012, PNAS 109:3991) "
                                        "print it; `corrected` has N = sqrt(H(c - theta_d) + "
                                        "H(c - theta_p)), their published correction "
                                        "(doi:10.1073/pnas.1220044110) as in Brian2's example "
                                        "`examples/frompapers/Graupner_Brunel_2012.py`: sqrt(2) "
                                        "times the paper's above theta_p, the same between the "
                                        "thresholds")
    bistable: bool = param(True, description="keep the bistable cubic term -rho (1 - rho)(rho_star - rho); "
                                             "false drops it, so rho only follows the calcium-driven "
                                             "gamma terms (and the noise, if on). rho then stays in "
                                             "[0, 1] by the drift itself (gamma_p (1 - rho) and "
                                             "gamma_d rho vanish at the ends: soft bounds, the drift "
                                             "relaxes towards gamma_p / (gamma_p + gamma_d) or 0); "
                                             "only a noise excursion is clipped to [0, 1] (the weight "
                                             "to [W_DOWN, W_UP]) at each update, as with the cubic "
                                             "term. Without the cubic term and the noise, rho does "
                                             "not move while calcium is below theta_d")
    up_down_ratio: float = param(5.40988, unit="1", minimum=0,
                                 description="Graupner & Brunel's UP/DOWN weight ratio b: rho maps to "
                                             "W = W_DOWN + rho (W_UP - W_DOWN) with W_DOWN = J_min and "
                                             "W_UP = b J_min (capped at J_max); > 1, or 0: rho spans "
                                             "[J_min, J_max]")


@dataclass(frozen=True)
class InhibitorySTDPParams:
    """Vogels et al. (2011) symmetric iSTDP on I->E (docs/models/assemblies.md, 5)."""

    tau_y_ms: float = param(20.0, unit="ms", exclusive_minimum=0, description="iSTDP trace")
    eta_pf: float = param(1.0, unit="pF", minimum=0, description="iSTDP rate (pF per unit trace)")
    target_rate_hz: float = param(3.0, unit="Hz", minimum=0, description="iSTDP target rate r_0")


@dataclass(frozen=True)
class PlasticityParams:
    """Which mechanisms run, from when, and how fast.

    ``ee_rule`` picks the E->E rule by name (``"voltage"``, ``"triplet"``, ``"calcium"``;
    ``"none"`` freezes E->E);
    ``learning_speed`` multiplies every plasticity amplitude (E->E and iSTDP); the paper's
    protocols switch plasticity on after ``start_s`` = 10 s (the authors' code used 1 s).
    ``istdp_bounded`` clips iSTDP's I->E weights to [``j_i_to_e_min_pf``, ``j_i_to_e_max_pf``];
    false removes both bounds, as the paper's non-recurrent control does ("removed synaptic bounds
    for inhibitory STDP"), keeping only the physical floor of 0 pF (a conductance).
    """

    ee_rule: str = param("voltage", enum=EE_RULES,
                         description="E->E rule: `voltage`, `triplet`, `calcium` or `none`; the sweep's "
                                     "`rule` sets it")
    istdp: bool = param(True, description="inhibitory STDP on")
    istdp_bounded: bool = param(True,
                                description="iSTDP clips I->E weights to [`j_i_to_e_min_pf`, "
                                            "`j_i_to_e_max_pf`]; false leaves only the 0 pF floor (the "
                                            "non-recurrent control sets it from `nonrecurrent_istdp_bounds`)")
    normalisation: bool = param(True, description="E->E row normalisation on")
    normalisation_interval_ms: float = param(20.0, unit="ms", exclusive_minimum=0,
                                             description="normalisation interval")
    start_s: float = param(10.0, unit="s", minimum=0,
                           description="plasticity starts (default: protocol.warmup_s)")
    learning_speed: float = param(1.0, unit="1", minimum=0, maximum=MAX_LEARNING_SPEED,
                                  description="factor on all amplitudes (set by the sweep)")


@dataclass(frozen=True)
class AssemblyParams:
    """Overlapping assemblies: every E cell joins each with probability ``p_member``
    (docs/models/assemblies.md, 6.1)."""

    n_assemblies: int = param(20, unit="1", minimum=0, description="set by protocol.n_assemblies")
    p_member: float = param(0.05, unit="1", minimum=0, maximum=1,
                            description="membership probability per E cell and assembly")


@dataclass(frozen=True)
class GuardParams:
    """Run guard: stop when the smoothed E rate leaves [rate_min_hz, rate_max_hz].

    The estimate is an exponential average with time constant ``tau_s``, started at the band's
    midpoint (so it cannot trip at t = 0) and checked only after ``start_s`` of the run.
    """

    enabled: bool = param(True, description="stop runs whose smoothed E rate leaves the band")
    rate_min_hz: float = param(0.05, unit="Hz", minimum=0, description="lower edge (silence)")
    rate_max_hz: float = param(60.0, unit="Hz", description="upper edge (runaway)")
    tau_s: float = param(0.5, unit="s", exclusive_minimum=0,
                         description="smoothing time of the rate estimate")
    start_s: float = param(1.0, unit="s", minimum=0, description="checked after this time into each run")


@dataclass(frozen=True)
class NetworkParams:
    """Everything that defines the network and its integration.

    ``ee_transmission`` / ``ei_transmission`` switch whether E spikes evoke EPSPs in E / I cells
    (both true except in the non-recurrent control); plasticity sees the spikes either way.
    """

    dt_ms: float = param(0.1, unit="ms", exclusive_minimum=0, description="forward-Euler time step")
    exc: ExcitatoryParams = field(default_factory=ExcitatoryParams)
    inh: InhibitoryParams = field(default_factory=InhibitoryParams)
    synapses: SynapseParams = field(default_factory=SynapseParams)
    connectivity: ConnectivityParams = field(default_factory=ConnectivityParams)
    external: ExternalInputParams = field(default_factory=ExternalInputParams)
    vstdp: VoltageSTDPParams = field(default_factory=VoltageSTDPParams)
    triplet: TripletSTDPParams = field(default_factory=TripletSTDPParams)
    calcium: CalciumSTDPParams = field(default_factory=CalciumSTDPParams)
    istdp: InhibitorySTDPParams = field(default_factory=InhibitorySTDPParams)
    plasticity: PlasticityParams = field(default_factory=PlasticityParams)
    assemblies: AssemblyParams = field(default_factory=AssemblyParams)
    guard: GuardParams = field(default_factory=GuardParams)
    ee_transmission: bool = param(True,
                                  description="E->E synapses transmit (false in the non-recurrent control)")
    ei_transmission: bool = param(True,
                                  description="E->I synapses transmit (false in the non-recurrent control "
                                              "by default)")

    def __post_init__(self) -> None:
        _check_network(self, check_fields(self, "network"))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, where: str = "network") -> NetworkParams:
        """Build from a nested dict, checking every key, type and range.

        An unknown key, a value of the wrong type (see :func:`check_type`) or out of range raises
        :class:`ParameterError` naming the key as ``where.group.name`` and what is allowed.
        """
        return from_mapping(cls, values, where)

    def replace(self, **changes: Any) -> NetworkParams:
        """A copy with top-level fields or dotted sub-fields (``"plasticity.istdp"``) changed."""
        nested: dict[str, Any] = self.to_dict()
        for key, value in changes.items():
            target = nested
            parts = key.replace("__", ".").split(".")
            for part in parts[:-1]:
                if part not in target or not isinstance(target[part], dict):
                    raise ParameterError(f"network.{key}: no such parameter group '{part}'")
                target = target[part]
            if parts[-1] not in target:
                raise ParameterError(f"network.{key}: no such parameter")
            target[parts[-1]] = value
        return NetworkParams.from_dict(nested)


def network_with(
    overrides: Mapping[str, Any] | None,
    *,
    n_neurons: int | None = None,
    plasticity: Mapping[str, Any] | None = None,
    n_assemblies: int | None = None,
    where: str = "network",
    **top: Any,
) -> NetworkParams:
    """NetworkParams from config ``overrides`` (a nested dict, not modified) with a run's own
    values set on top: ``n_neurons`` (connectivity), ``plasticity`` keys, ``n_assemblies`` and
    top-level keys such as ``dt_ms``. The one place sweeps, experiments and the CLI build a
    network from overrides; errors name keys from ``where``.
    """
    nested = copy.deepcopy(dict(overrides or {}))
    nested.update(top)
    if n_neurons is not None:
        nested.setdefault("connectivity", {})["n_neurons"] = n_neurons
    if plasticity:
        nested.setdefault("plasticity", {}).update(plasticity)
    if n_assemblies is not None:
        nested.setdefault("assemblies", {})["n_assemblies"] = n_assemblies
    return NetworkParams.from_dict(nested, where=where)


@dataclass(frozen=True)
class Constraint:
    """A rule between fields that the fields' own bounds cannot state (declared in
    :data:`CONSTRAINTS`, checked when :class:`NetworkParams` is built, before any job).

    ``key`` is the field the error names (relative to the network's root, e.g.
    ``"exc.v_reset_mv"``), ``holds(p)`` is true when the rule is met, ``allowed(p)`` says what
    is allowed in words (may quote the other fields' values). ``example`` is a config override
    that breaks this rule and no other, so the declared list can be walked by a test.
    """

    key: str
    holds: Callable[[NetworkParams], bool]
    allowed: Callable[[NetworkParams], str]
    example: Mapping[str, Any]

    def value(self, p: NetworkParams) -> Any:
        target: Any = p
        for part in self.key.split("."):
            target = getattr(target, part)
        return target

    def check(self, p: NetworkParams, where: str) -> None:
        _require(self.holds(p), f"{where}.{self.key}", self.value(p), self.allowed(p))


def _fastest_ms(p: NetworkParams) -> float:
    s = p.synapses
    return min(s.tau_rise_inh_ms, s.tau_rise_exc_ms, p.vstdp.tau_v_ms, p.exc.tau_m_ms)


CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint("synapses.tau_decay_exc_ms",
               lambda p: p.synapses.tau_decay_exc_ms != p.synapses.tau_rise_exc_ms,
               lambda p: "different from tau_rise_exc_ms",
               {"synapses": {"tau_rise_exc_ms": 6.0, "tau_decay_exc_ms": 6.0}}),
    Constraint("synapses.tau_decay_inh_ms",
               lambda p: p.synapses.tau_decay_inh_ms != p.synapses.tau_rise_inh_ms,
               lambda p: "different from tau_rise_inh_ms",
               {"synapses": {"tau_rise_inh_ms": 0.5, "tau_decay_inh_ms": 0.5}}),
    # the initial voltages are drawn uniformly in [reset, threshold] (docs/models/assemblies.md,
    # 1.1), and a reset at or above the threshold makes a cell fire at every step its refractory clamp ends
    Constraint("exc.v_reset_mv", lambda p: p.exc.v_reset_mv < p.exc.v_thresh_rest_mv,
               lambda p: f"< exc.v_thresh_rest_mv = {p.exc.v_thresh_rest_mv} (reset below the "
                         "resting threshold)",
               {"exc": {"v_reset_mv": -50.0}}),
    Constraint("exc.v_peak_mv", lambda p: p.exc.v_peak_mv > p.exc.v_thresh_rest_mv,
               lambda p: f"> exc.v_thresh_rest_mv = {p.exc.v_thresh_rest_mv} (spikes are detected "
                         "above the resting threshold)",
               {"exc": {"v_peak_mv": -55.0}}),
    Constraint("inh.v_reset_mv", lambda p: p.inh.v_reset_mv < p.inh.v_thresh_mv,
               lambda p: f"< inh.v_thresh_mv = {p.inh.v_thresh_mv} (reset below the threshold)",
               {"inh": {"v_reset_mv": -40.0}}),
    # a network without E or I cells has nothing to balance (and divides by zero later)
    Constraint("connectivity.exc_fraction", lambda p: p.connectivity.n_exc >= 1,
               lambda p: f"at least one E cell: round(n_neurons * exc_fraction) >= 1 at n_neurons "
                         f"= {p.connectivity.n_neurons} (here {p.connectivity.n_exc})",
               {"connectivity": {"n_neurons": 500, "exc_fraction": 0.0001}}),
    Constraint("connectivity.exc_fraction", lambda p: p.connectivity.n_inh >= 1,
               lambda p: f"at least one I cell: n_neurons - round(n_neurons * exc_fraction) >= 1 "
                         f"at n_neurons = {p.connectivity.n_neurons} (here {p.connectivity.n_inh})",
               {"connectivity": {"n_neurons": 500, "exc_fraction": 0.9999}}),
    Constraint("connectivity.j_e_to_e_pf",
               lambda p: (p.connectivity.j_e_to_e_min_pf <= p.connectivity.j_e_to_e_pf
                          <= p.connectivity.j_e_to_e_max_pf),
               lambda p: (f"within [j_e_to_e_min_pf, j_e_to_e_max_pf] = "
                          f"[{p.connectivity.j_e_to_e_min_pf}, {p.connectivity.j_e_to_e_max_pf}]"),
               {"connectivity": {"j_e_to_e_max_pf": 2.0}}),
    Constraint("connectivity.j_i_to_e_pf",
               lambda p: (p.connectivity.j_i_to_e_min_pf <= p.connectivity.j_i_to_e_pf
                          <= p.connectivity.j_i_to_e_max_pf),
               lambda p: (f"within [j_i_to_e_min_pf, j_i_to_e_max_pf] = "
                          f"[{p.connectivity.j_i_to_e_min_pf}, {p.connectivity.j_i_to_e_max_pf}]"),
               {"connectivity": {"j_i_to_e_max_pf": 40.0}}),
    Constraint("plasticity.normalisation_interval_ms",
               lambda p: _divides(p.plasticity.normalisation_interval_ms, p.dt_ms),
               lambda p: f"a multiple of dt_ms = {p.dt_ms}",
               {"plasticity": {"normalisation_interval_ms": 20.05}}),
    Constraint("exc.t_ref_ms", lambda p: _divides(p.exc.t_ref_ms, p.dt_ms),
               lambda p: f"a multiple of dt_ms = {p.dt_ms}", {"exc": {"t_ref_ms": 1.05}}),
    Constraint("inh.t_ref_ms", lambda p: _divides(p.inh.t_ref_ms, p.dt_ms),
               lambda p: f"a multiple of dt_ms = {p.dt_ms}", {"inh": {"t_ref_ms": 1.05}}),
    Constraint("calcium.theta_p", lambda p: p.calcium.theta_p >= p.calcium.theta_d,
               lambda p: f">= theta_d = {p.calcium.theta_d}", {"calcium": {"theta_p": 0.5}}),
    Constraint("calcium.up_down_ratio",
               lambda p: p.calcium.up_down_ratio == 0.0 or p.calcium.up_down_ratio > 1.0,
               lambda p: "> 1 (W_UP / W_DOWN), or 0 for the whole range [J_min, J_max]",
               {"calcium": {"up_down_ratio": 0.5}}),
    Constraint("guard.rate_max_hz", lambda p: p.guard.rate_max_hz > p.guard.rate_min_hz,
               lambda p: f"> rate_min_hz = {p.guard.rate_min_hz}",
               {"guard": {"rate_min_hz": 5.0, "rate_max_hz": 4.0}}),
    # forward Euler on the fastest decay must be stable and positive
    Constraint("dt_ms", lambda p: p.dt_ms < _fastest_ms(p),
               lambda p: f"< the fastest time constant ({_fastest_ms(p)} ms) for a stable Euler step",
               {"dt_ms": 0.5, "synapses": {"tau_rise_inh_ms": 0.5, "tau_decay_inh_ms": 2.0},
                "exc": {"t_ref_ms": 1.0}, "inh": {"t_ref_ms": 1.0}}),
)
"""Every rule between the network's fields, in the order they are checked; the first broken one
raises :class:`ParameterError` naming its key (``tests/assemblies/test_constraints.py`` walks
this list with each rule's ``example``)."""


def _check_network(p: NetworkParams, where: str) -> None:
    """The rules between fields (:data:`CONSTRAINTS`); keys named from ``where``."""
    for constraint in CONSTRAINTS:
        constraint.check(p, where)


def _divides(interval: float, dt: float) -> bool:
    ratio = interval / dt
    return abs(ratio - round(ratio)) < 1e-9 * max(1.0, ratio)


def steps_of(duration_ms: float, dt_ms: float, name: str) -> int:
    """Number of steps in ``duration_ms``; raise if dt does not divide it."""
    _require(duration_ms >= 0, name, duration_ms, ">= 0")
    _require(_divides(duration_ms, dt_ms), name, duration_ms, f"a multiple of dt_ms = {dt_ms}")
    return int(round(duration_ms / dt_ms))


def steps_of_seconds(duration_s: float, dt_ms: float, name: str) -> int:
    """Number of steps in ``duration_s`` seconds; the error names the value in seconds."""
    _require(duration_s >= 0, name, duration_s, ">= 0")
    _require(_divides(duration_s * 1000.0, dt_ms), name, duration_s,
             f"a multiple of dt = {dt_ms} ms")
    return int(round(duration_s * 1000.0 / dt_ms))
