"""Parameters of the balanced spiking network (Litwin-Kumar & Doiron 2014), as frozen dataclasses.

Defaults are the values of the authors' code ``sim.jl`` (see ``shared/spec/assemblies-lkd2014.md``
sections 1-5); a comment marks the few that are not from the code. Units are in the names:
``_ms``, ``_mv``, ``_pf`` (pF = nS*ms, the integrated conductance of one synaptic event), ``_ns``,
``_pa``, ``_hz``, ``_s``. Everything without a unit suffix is dimensionless.

``NetworkParams.from_dict`` builds the parameters from a nested dict (the config's ``network``
overrides): it checks every value's type against its field's annotation (a flag must be a real
boolean, a number must not be a string or a list, ...) and every range, and raises
:class:`ParameterError` naming the full key path and the allowed values before any compute starts.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import functools
import math
import numbers
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EE_RULES = ("voltage", "triplet", "calcium", "none")
"""Names of the E->E plasticity rules; a rule is a config value, not a code fork."""

IMPLEMENTED_EE_RULES = ("voltage", "triplet", "calcium", "none")
SIZE_SCALINGS = ("mean_input", "fixed_indegree", "none")


class ParameterError(ValueError):
    """A model parameter has the wrong type or is out of its allowed range.

    ``key`` is the offending parameter's full dotted path when known (e.g.
    ``"assemblies.network.exc.tau_m_ms"``).
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


# Where the keys of the parameters being built live in the config ("network" for the library,
# "assemblies.network" for the workflow): range errors raised while NetworkParams validates
# itself are named from this root. Set by NetworkParams.from_dict.
_KEY_ROOT: contextvars.ContextVar[str] = contextvars.ContextVar("key_root", default="network")


@dataclass(frozen=True)
class ExcitatoryParams:
    """Adaptive exponential integrate-and-fire E cell with adaptive threshold (spec 1.1)."""

    tau_m_ms: float = 20.0
    c_pf: float = 300.0
    e_leak_mv: float = -70.0
    delta_t_mv: float = 2.0
    v_thresh_rest_mv: float = -52.0
    v_thresh_jump_mv: float = 10.0
    tau_thresh_ms: float = 30.0
    v_peak_mv: float = 20.0
    v_reset_mv: float = -60.0
    t_ref_ms: float = 1.0
    a_adapt_ns: float = 4.0
    b_adapt_pa: float = 0.805
    tau_adapt_ms: float = 150.0


@dataclass(frozen=True)
class InhibitoryParams:
    """Leaky integrate-and-fire I cell (spec 1.2)."""

    tau_m_ms: float = 20.0
    c_pf: float = 300.0
    e_leak_mv: float = -62.0
    v_thresh_mv: float = -52.0
    v_reset_mv: float = -60.0
    t_ref_ms: float = 1.0


@dataclass(frozen=True)
class SynapseParams:
    """Conductance synapses with unit-area difference-of-exponentials kernels (spec 1.3, 2.3)."""

    e_rev_exc_mv: float = 0.0
    e_rev_inh_mv: float = -75.0
    tau_rise_exc_ms: float = 1.0
    tau_decay_exc_ms: float = 6.0
    tau_rise_inh_ms: float = 0.5
    tau_decay_inh_ms: float = 2.0


@dataclass(frozen=True)
class ConnectivityParams:
    """Random connectivity and weights at the reference size N = 5000 (spec 2.1, 2.2).

    Names read pre_to_post. ``j_e_to_e_pf`` is 2.86 pF in the authors' code and 2.76 pF in the
    paper's table (spec 2.2); the code value made the published figures and is the default.

    ``size_scaling`` says how networks of another size stay balanced: ``"mean_input"`` keeps the
    mean recurrent input K*J of every cell at its N = 5000 value. Above N = 5000 the in-degree K is
    held (p = p_ref * N_ref / N, weights unchanged); below it p stays p_ref and all recurrent
    weights, their bounds and the plasticity amplitudes are multiplied by N_ref / N.
    ``"fixed_indegree"`` holds the in-degree K = p_ref * N_ref at every size (p = p_ref * N_ref / N,
    at most 1) with weights unchanged, so each cell sees the reference network's inputs in number
    and size, assemblies included; smaller networks then share more of their inputs. ``"none"``
    uses p and weights as given at every size.
    """

    n_neurons: int = 5000
    exc_fraction: float = 0.8
    p_connect: float = 0.2
    reference_n_neurons: int = 5000
    size_scaling: str = "mean_input"
    j_e_to_e_pf: float = 2.86
    j_i_to_e_pf: float = 48.7
    j_e_to_i_pf: float = 1.27
    j_i_to_i_pf: float = 16.2
    j_e_to_e_min_pf: float = 1.78
    j_e_to_e_max_pf: float = 21.4
    j_i_to_e_min_pf: float = 48.7
    j_i_to_e_max_pf: float = 243.0

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
    """Independent Poisson excitatory drive to every cell (spec 2.5)."""

    rate_to_e_hz: float = 4500.0
    rate_to_i_hz: float = 2250.0
    j_ext_to_e_pf: float = 1.78
    j_ext_to_i_pf: float = 1.27


@dataclass(frozen=True)
class VoltageSTDPParams:
    """Clopath-type voltage-based STDP on E->E (spec 3). Amplitudes at learning speed 1."""

    a_ltd_pf_per_mv: float = 8e-4
    a_ltp_pf_per_mv2: float = 14e-4
    theta_ltd_mv: float = -70.0
    theta_ltp_mv: float = -49.0
    tau_u_ms: float = 10.0
    tau_v_ms: float = 7.0
    tau_x_ms: float = 15.0


@dataclass(frozen=True)
class TripletSTDPParams:
    """Pfister & Gerstner (2006) all-to-all triplet STDP on E->E (spec 7.1).

    Each E cell has two presynaptic traces (r1: ``tau_plus_ms``, r2: ``tau_x_ms``) and two
    postsynaptic traces (o1: ``tau_minus_ms``, o2: ``tau_y_ms``), each jumping by 1 at the cell's
    spikes. A presynaptic spike of j depresses every W_ij by o1_i (A2- + A3- r2_j); a postsynaptic
    spike of i potentiates every W_ij by r1_j (A2+ + A3+ o2_i), both with the traces before this
    spike's jump. Amplitudes (pF per trace product) are the spec's "most likely LKD values" (the
    PG2006 visual-cortex all-to-all set with both LTP amplitudes x 1.5) at learning speed 1; they
    are multiplied by ``plasticity.learning_speed`` and the size scaling's weight factor.
    """

    a2_plus_pf: float = 7.5e-10
    a3_plus_pf: float = 9.3e-3
    a2_minus_pf: float = 7e-3
    a3_minus_pf: float = 2.3e-4
    tau_plus_ms: float = 16.8
    tau_x_ms: float = 101.0
    tau_minus_ms: float = 33.7
    tau_y_ms: float = 125.0


@dataclass(frozen=True)
class CalciumSTDPParams:
    """Graupner & Brunel (2012) calcium-based rule on E->E (spec 7.2), as the LKD paper prints it.

    Every E->E synapse has a calcium variable c (jumps ``c_pre`` at a presynaptic spike delayed by
    ``delay_ms`` and ``c_post`` at a postsynaptic spike, decay ``tau_ca_ms``) and an efficacy
    rho in [0, 1] with

        tau_rho d(rho)/dt = -rho (1 - rho)(rho_star - rho) + g_p (1 - rho) H(c - theta_p)
                            - g_d rho H(c - theta_d) + noise * sigma sqrt(tau_rho) H(c - theta_d) eta(t)

    where g_p = ``gamma_p * gamma_scale`` and g_d = ``gamma_d * gamma_scale``. Recovered: the
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

    tau_ca_ms: float = 22.6936
    c_pre: float = 0.5617539
    c_post: float = 1.23964
    delay_ms: float = 4.6098
    theta_d: float = 1.0
    theta_p: float = 1.3
    gamma_d: float = 3.31909
    gamma_p: float = 7.25085
    gamma_scale: float = 1.0
    sigma: float = 0.33501
    tau_rho_s: float = 3.463615
    rho_star: float = 0.5
    noise: bool = True
    up_down_ratio: float = 5.40988


@dataclass(frozen=True)
class InhibitorySTDPParams:
    """Vogels et al. (2011) symmetric iSTDP on I->E (spec 5)."""

    tau_y_ms: float = 20.0
    eta_pf: float = 1.0
    target_rate_hz: float = 3.0


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

    ee_rule: str = "voltage"
    istdp: bool = True
    istdp_bounded: bool = True
    normalisation: bool = True
    normalisation_interval_ms: float = 20.0
    start_s: float = 10.0
    learning_speed: float = 1.0


@dataclass(frozen=True)
class AssemblyParams:
    """Overlapping assemblies: every E cell joins each with probability ``p_member`` (spec 6.1)."""

    n_assemblies: int = 20
    p_member: float = 0.05


@dataclass(frozen=True)
class GuardParams:
    """Run guard: stop when the smoothed E rate leaves [rate_min_hz, rate_max_hz].

    The estimate is an exponential average with time constant ``tau_s``, started at the band's
    midpoint (so it cannot trip at t = 0) and checked only after ``start_s`` of the run.
    """

    enabled: bool = True
    rate_min_hz: float = 0.05
    rate_max_hz: float = 60.0
    tau_s: float = 0.5
    start_s: float = 1.0


@dataclass(frozen=True)
class NetworkParams:
    """Everything that defines the network and its integration.

    ``ee_transmission`` / ``ei_transmission`` switch whether E spikes evoke EPSPs in E / I cells
    (both true except in the non-recurrent control); plasticity sees the spikes either way.
    """

    dt_ms: float = 0.1
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
    ee_transmission: bool = True
    ei_transmission: bool = True

    def __post_init__(self) -> None:
        validate_params(self, where=_KEY_ROOT.get())

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None, *, where: str = "network") -> NetworkParams:
        """Build from a nested dict, checking every key, type and range.

        An unknown key, a value of the wrong type (see :func:`check_type`) or out of range raises
        :class:`ParameterError` naming the key as ``where.group.name`` and what is allowed.
        """
        if values is not None and not isinstance(values, dict):
            raise ParameterError(f"{where} = {values!r} is invalid; allowed: a mapping of "
                                 f"parameter groups {sorted(f.name for f in dataclasses.fields(cls))}",
                                 key=where)
        token = _KEY_ROOT.set(where)
        try:
            return _from_dict(cls, dict(values or {}), where)
        finally:
            _KEY_ROOT.reset(token)

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


def _from_dict(cls, values: dict[str, Any], where: str):
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        names = ", ".join(f"{where}.{name}" for name in unknown)
        raise ParameterError(
            f"{names}: unknown parameter; allowed in {where}: {', '.join(sorted(known))}",
            key=f"{where}.{unknown[0]}",
        )
    hints = _field_types(cls)
    kwargs = {}
    for name, value in values.items():
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise ParameterError(
                    f"{where}.{name} = {value!r} is invalid; allowed: a mapping of "
                    f"{sorted(f.name for f in dataclasses.fields(kind))}",
                    key=f"{where}.{name}",
                )
            kwargs[name] = _from_dict(kind, value, f"{where}.{name}")
        else:
            check_type(value, kind, f"{where}.{name}")
            kwargs[name] = value
    return cls(**kwargs)


_field_types = functools.cache(typing.get_type_hints)  # annotations are strings here

_TYPE_NAMES = {
    bool: "true or false (a YAML boolean, not a string or a number)",
    int: "an integer",
    float: "a number (integer or decimal, not a string or a list)",
    str: "a string",
}


def check_type(value: Any, kind: type, key: str) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a ``kind`` (a field's annotation).

    Strict where Python is lax: a ``bool`` field takes only ``True``/``False`` (not ``"no"`` or
    ``0``), an ``int`` field only integers (not ``True`` or ``2.0``), a ``float`` field any real
    number but no boolean, string or list.
    """
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    elif kind is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"{key}: no type check for annotation {kind!r}")
    if not ok:
        raise ParameterError(f"{key} = {value!r} is invalid; allowed: {_TYPE_NAMES[kind]}",
                             key=key)


def _require(condition: bool, name: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ParameterError(f"{name} = {value!r} is invalid; allowed: {allowed}", key=name)


def validate_params(p: NetworkParams, where: str = "network") -> None:
    """Check ranges of every parameter; raise :class:`ParameterError` naming the first bad one.

    Keys are named from ``where`` (``"network"``, or ``"assemblies.network"`` in the workflow).
    """
    _require(p.dt_ms > 0 and math.isfinite(p.dt_ms), f"{where}.dt_ms", p.dt_ms, "> 0")
    positive = {
        "exc.tau_m_ms": p.exc.tau_m_ms, "exc.c_pf": p.exc.c_pf, "exc.delta_t_mv": p.exc.delta_t_mv,
        "exc.tau_thresh_ms": p.exc.tau_thresh_ms, "exc.tau_adapt_ms": p.exc.tau_adapt_ms,
        "inh.tau_m_ms": p.inh.tau_m_ms, "inh.c_pf": p.inh.c_pf,
        "synapses.tau_rise_exc_ms": p.synapses.tau_rise_exc_ms,
        "synapses.tau_decay_exc_ms": p.synapses.tau_decay_exc_ms,
        "synapses.tau_rise_inh_ms": p.synapses.tau_rise_inh_ms,
        "synapses.tau_decay_inh_ms": p.synapses.tau_decay_inh_ms,
        "vstdp.tau_u_ms": p.vstdp.tau_u_ms, "vstdp.tau_v_ms": p.vstdp.tau_v_ms,
        "vstdp.tau_x_ms": p.vstdp.tau_x_ms, "istdp.tau_y_ms": p.istdp.tau_y_ms,
        "plasticity.normalisation_interval_ms": p.plasticity.normalisation_interval_ms,
        "guard.tau_s": p.guard.tau_s,
        "triplet.tau_plus_ms": p.triplet.tau_plus_ms, "triplet.tau_x_ms": p.triplet.tau_x_ms,
        "triplet.tau_minus_ms": p.triplet.tau_minus_ms, "triplet.tau_y_ms": p.triplet.tau_y_ms,
        "calcium.tau_ca_ms": p.calcium.tau_ca_ms, "calcium.tau_rho_s": p.calcium.tau_rho_s,
        "calcium.theta_d": p.calcium.theta_d,
    }
    for name, value in positive.items():
        _require(value > 0 and math.isfinite(value), f"{where}.{name}", value, "> 0")
    non_negative = {
        "exc.t_ref_ms": p.exc.t_ref_ms, "inh.t_ref_ms": p.inh.t_ref_ms,
        "exc.a_adapt_ns": p.exc.a_adapt_ns, "exc.b_adapt_pa": p.exc.b_adapt_pa,
        "external.rate_to_e_hz": p.external.rate_to_e_hz,
        "external.rate_to_i_hz": p.external.rate_to_i_hz,
        "external.j_ext_to_e_pf": p.external.j_ext_to_e_pf,
        "external.j_ext_to_i_pf": p.external.j_ext_to_i_pf,
        "vstdp.a_ltd_pf_per_mv": p.vstdp.a_ltd_pf_per_mv,
        "vstdp.a_ltp_pf_per_mv2": p.vstdp.a_ltp_pf_per_mv2,
        "istdp.eta_pf": p.istdp.eta_pf, "istdp.target_rate_hz": p.istdp.target_rate_hz,
        "plasticity.start_s": p.plasticity.start_s,
        "plasticity.learning_speed": p.plasticity.learning_speed,
        "guard.rate_min_hz": p.guard.rate_min_hz, "guard.start_s": p.guard.start_s,
        "triplet.a2_plus_pf": p.triplet.a2_plus_pf, "triplet.a3_plus_pf": p.triplet.a3_plus_pf,
        "triplet.a2_minus_pf": p.triplet.a2_minus_pf,
        "triplet.a3_minus_pf": p.triplet.a3_minus_pf,
        "calcium.c_pre": p.calcium.c_pre, "calcium.c_post": p.calcium.c_post,
        "calcium.delay_ms": p.calcium.delay_ms, "calcium.gamma_d": p.calcium.gamma_d,
        "calcium.gamma_p": p.calcium.gamma_p, "calcium.gamma_scale": p.calcium.gamma_scale,
        "calcium.sigma": p.calcium.sigma,
    }
    for name, value in non_negative.items():
        _require(value >= 0 and math.isfinite(value), f"{where}.{name}", value, ">= 0")
    s = p.synapses
    _require(s.tau_decay_exc_ms != s.tau_rise_exc_ms, f"{where}.synapses.tau_decay_exc_ms",
             s.tau_decay_exc_ms, "different from tau_rise_exc_ms")
    _require(s.tau_decay_inh_ms != s.tau_rise_inh_ms, f"{where}.synapses.tau_decay_inh_ms",
             s.tau_decay_inh_ms, "different from tau_rise_inh_ms")
    c = p.connectivity
    _require(isinstance(c.n_neurons, int) and c.n_neurons >= 10, f"{where}.connectivity.n_neurons",
             c.n_neurons, "an integer >= 10")
    _require(0 < c.exc_fraction < 1, f"{where}.connectivity.exc_fraction", c.exc_fraction,
             "0 < value < 1")
    _require(0 < c.p_connect <= 1, f"{where}.connectivity.p_connect", c.p_connect, "0 < p <= 1")
    _require(c.size_scaling in SIZE_SCALINGS, f"{where}.connectivity.size_scaling",
             c.size_scaling, str(SIZE_SCALINGS))
    _require(c.reference_n_neurons > 0, f"{where}.connectivity.reference_n_neurons",
             c.reference_n_neurons, "> 0")
    for name in ("j_e_to_e_pf", "j_i_to_e_pf", "j_e_to_i_pf", "j_i_to_i_pf",
                 "j_e_to_e_min_pf", "j_i_to_e_min_pf"):
        value = getattr(c, name)
        _require(value >= 0 and math.isfinite(value), f"{where}.connectivity.{name}", value, ">= 0")
    _require(c.j_e_to_e_min_pf <= c.j_e_to_e_pf <= c.j_e_to_e_max_pf,
             f"{where}.connectivity.j_e_to_e_pf", c.j_e_to_e_pf,
             f"within [j_e_to_e_min_pf, j_e_to_e_max_pf] = [{c.j_e_to_e_min_pf}, "
             f"{c.j_e_to_e_max_pf}]")
    _require(c.j_i_to_e_min_pf <= c.j_i_to_e_pf <= c.j_i_to_e_max_pf,
             f"{where}.connectivity.j_i_to_e_pf", c.j_i_to_e_pf,
             f"within [j_i_to_e_min_pf, j_i_to_e_max_pf] = [{c.j_i_to_e_min_pf}, "
             f"{c.j_i_to_e_max_pf}]")
    pl = p.plasticity
    _require(pl.ee_rule in EE_RULES, f"{where}.plasticity.ee_rule", pl.ee_rule, str(EE_RULES))
    _require(pl.ee_rule in IMPLEMENTED_EE_RULES, f"{where}.plasticity.ee_rule", pl.ee_rule,
             f"{IMPLEMENTED_EE_RULES} (the others are not implemented yet)")
    _require(_divides(pl.normalisation_interval_ms, p.dt_ms),
             f"{where}.plasticity.normalisation_interval_ms", pl.normalisation_interval_ms,
             f"a multiple of dt_ms = {p.dt_ms}")
    for name, t_ms in (("exc.t_ref_ms", p.exc.t_ref_ms), ("inh.t_ref_ms", p.inh.t_ref_ms)):
        _require(_divides(t_ms, p.dt_ms), f"{where}.{name}", t_ms, f"a multiple of dt_ms = {p.dt_ms}")
    ca = p.calcium
    _require(ca.theta_p >= ca.theta_d, f"{where}.calcium.theta_p", ca.theta_p,
             f">= theta_d = {ca.theta_d}")
    _require(0.0 <= ca.rho_star <= 1.0, f"{where}.calcium.rho_star", ca.rho_star, "0 <= value <= 1")
    _require(ca.up_down_ratio == 0.0 or ca.up_down_ratio > 1.0, f"{where}.calcium.up_down_ratio",
             ca.up_down_ratio, "> 1 (W_UP / W_DOWN), or 0 for the whole range [J_min, J_max]")
    a = p.assemblies
    _require(isinstance(a.n_assemblies, int) and a.n_assemblies >= 0,
             f"{where}.assemblies.n_assemblies", a.n_assemblies, "an integer >= 0")
    _require(0 <= a.p_member <= 1, f"{where}.assemblies.p_member", a.p_member, "0 <= p <= 1")
    g = p.guard
    _require(g.rate_max_hz > g.rate_min_hz, f"{where}.guard.rate_max_hz", g.rate_max_hz,
             f"> rate_min_hz = {g.rate_min_hz}")
    # Forward Euler on the fastest decay must be stable and positive.
    fastest = min(s.tau_rise_inh_ms, s.tau_rise_exc_ms, p.vstdp.tau_v_ms, p.exc.tau_m_ms)
    _require(p.dt_ms < fastest, f"{where}.dt_ms", p.dt_ms,
             f"< the fastest time constant ({fastest} ms) for a stable Euler step")


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
