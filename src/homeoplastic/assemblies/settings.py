"""Settings of the assembly chain: the protocol and record dataclasses, the rule variants, and how
one run's network, protocol, record and probe settings are resolved from the config section.

Config: the ``assemblies`` section of ``config/config.yaml`` (schema
``workflow/schemas/assemblies.schema.yaml``). A sweep point's axes (``homeoplastic.sweep``) are
laid over the section last: a swept value wins over ``rule_network`` / ``rule_protocol``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeoplastic.assemblies.params import NetworkParams, ParameterError, network_with
from homeoplastic.parameters import check_fields, from_mapping, param
from homeoplastic.sweep import Point, set_dotted

if TYPE_CHECKING:  # the engine loads the kernels; reading settings needs none
    from homeoplastic.assemblies.engine import RecordSpec

RULE_VARIANTS: dict[str, dict[str, Any]] = {
    "voltage": {"ee_rule": "voltage"},
    "voltage_no_istdp": {"ee_rule": "voltage", "istdp": False},
    "voltage_no_normalisation": {"ee_rule": "voltage", "normalisation": False},
    "voltage_no_homeostasis": {"ee_rule": "voltage", "istdp": False, "normalisation": False},
    "static": {"ee_rule": "none", "istdp": False, "normalisation": False},
    "triplet": {"ee_rule": "triplet"},
    "calcium": {"ee_rule": "calcium"},
    "calcium_plain": {"ee_rule": "calcium", "calcium.bistable": False, "calcium.noise": False,
                      "calcium.up_down_ratio": 0.0, "calcium.tau_rho_s": 28.0},
}
"""Sweep values of ``rule``: an E->E rule plus which homeostatic mechanisms run (ablations).

A key without a dot is a ``plasticity`` setting; a dotted key names its network group.
``calcium_plain`` is the calcium rule as the LKD paper prints it (only the calcium drive's
constants): no bistable cubic term, no noise, rho mapped onto [J_min, J_max]
(docs/models/assemblies.md, 7.2); a sweep can switch the noise back on as a ``network.calcium.*``
axis (with ``noise_form: corrected``). Its tau_rho, 28 s (8.1x the bistable rule's 3.46 s), is
calibrated on the rate map (paper Fig. 5a, ``experiments.rate_dependence``): at the training rates
(pre and post 50 Hz, independent Poisson) and the weight training starts from (J^0 = 2.86 pF) it
gives the voltage rule's dW/dt, 3.40 pF/s at learning speed 1 (measured 3.39 and the voltage
rule's 3.35-3.46 over seeds 1-3; with the bistable rule's tau_rho it was 24.5 pF/s, 7.2x).
"""


def variant_overrides(rule: str) -> dict[str, Any]:
    """The network settings of rule variant ``rule`` as dotted keys (``plasticity.ee_rule``, ...)."""
    return {(key if "." in key else f"plasticity.{key}"): value
            for key, value in RULE_VARIANTS[rule].items()}


@dataclass(frozen=True)
class Protocol:
    """Durations and stimuli of the chain (seconds, Hz). Paper values in config/paper.yaml."""

    warmup_s: float = param(10.0, unit="s", minimum=0,
                            description="Simulate stage: plasticity off (paper: 10 s).")
    n_assemblies: int = param(20, unit="1", minimum=1, maximum=200,
                              description="Stimuli / assemblies; each E cell joins each with p = 0.05.")
    stimulus_rate_hz: float = param(8000.0, unit="Hz", exclusive_minimum=0,
                                    description="Added external rate to members while a stimulus is on "
                                                "(paper: 8 kHz).")
    stimulus_on_s: float = param(1.0, unit="s", exclusive_minimum=0,
                                 description="Presentation length (paper: 1 s).")
    stimulus_off_s: float = param(3.0, unit="s", minimum=0,
                                  description="Gap after each presentation (paper: 3 s).")
    repetitions: int = param(20, unit="1", minimum=1,
                             description="Presentation blocks of all assemblies, shuffled order (paper: 20) "
                                         "[order unverified].")
    spontaneous_s: float = param(1000.0, unit="s", exclusive_minimum=0,
                                 description="Spontaneous phase after training, recurrent and non-recurrent "
                                             "[length unverified].")
    nonrecurrent_extra_rate_to_e_hz: float = param(4000.0, unit="Hz", minimum=0,
                                                   description="Extra external drive to E cells in the "
                                                               "non-recurrent control [unverified].")
    nonrecurrent_extra_rate_to_i_hz: float = param(2000.0, unit="Hz", minimum=0,
                                                   description="Extra external drive to I cells in the "
                                                               "non-recurrent control [unverified].")
    nonrecurrent_settle_s: float = param(200.0, unit="s", minimum=0,
                                         description="Control settles with E->E plasticity frozen and iSTDP "
                                                     "targets set to the intact network's measured per-cell "
                                                     "rates [mechanics unverified].")
    nonrecurrent_rate_window_s: float = param(0.0, unit="s", minimum=0,
                                              description="The control's iSTDP target of each E cell is its "
                                                          "rate over this final part of the intact "
                                                          "spontaneous phase, after the inhibition built up "
                                                          "in training has relaxed; 0 = the whole phase.")
    nonrecurrent_targets: str = param("rate_matched", enum=("rate_matched", "intact_rates"),
                                      description="The control's iSTDP targets: rate_matched sets "
                                                  "r0 = intact rate x (kappa + rho) / 2, iSTDP's "
                                                  "fixed point measured in the settle and re-set "
                                                  "every nonrecurrent_match_interval_s before its "
                                                  "final quarter, so the control settles at the "
                                                  "intact rates; intact_rates sets the intact rates "
                                                  "themselves (the control then settles ~15 % "
                                                  "above them).")
    nonrecurrent_match_interval_s: float = param(5.0, unit="s", minimum=1,
                                                 description="rate_matched: the targets are re-set "
                                                             "after every this many seconds of the "
                                                             "settle (rounded to whole seconds).")
    nonrecurrent_settle_istdp_speed: float = param(1.0, unit="1", exclusive_minimum=0,
                                                   description="iSTDP's rate during the control's "
                                                               "settle, times its rate afterwards: "
                                                               "the settle's fixed point does not "
                                                               "depend on it, only how fast the "
                                                               "cells reach it (training leaves "
                                                               "assembly members more inhibition "
                                                               "than the control needs).")
    nonrecurrent_block_e_to_i: bool = param(True,
                                            description="The control blocks E->I EPSPs as well as E->E "
                                                        "(paper: \"excitatory spikes did not cause EPSPs in "
                                                        "postsynaptic targets\"); false blocks E->E only "
                                                        "[unverified].")
    nonrecurrent_istdp_bounds: bool = param(False,
                                            description="Keep iSTDP's I->E weight bounds in the control; "
                                                        "the paper \"removed synaptic bounds for inhibitory "
                                                        "STDP\", so by default only the physical floor of 0 "
                                                        "pF stays.")
    perturb_assembly: int = param(0, unit="1", minimum=0,
                                  description="Assembly whose within weights are reduced.")
    perturb_fraction: float = param(0.1, unit="1", exclusive_minimum=0, maximum=1,
                                    description="Fractional reduction of the within weights (paper: 10 %).")
    perturb_at_s: float = param(15.0, unit="s", minimum=0,
                                description="Time of the perturbation into the perturb stage (paper: 15 s).")
    perturb_duration_s: float = param(200.0, unit="s", exclusive_minimum=0,
                                      description="Length of the perturb stage, including perturb_at_s "
                                                  "[unverified].")
    remap_repetitions: int = param(80, unit="1", minimum=1,
                                   description="Presentations of each stimulus of the new set, in shuffled "
                                               "blocks (paper: 80 each).")
    remap_after_s: float = param(100.0, unit="s", minimum=0,
                                 description="Spontaneous activity after the remapping presentations "
                                             "[unverified].")

    def __post_init__(self) -> None:
        check_fields(self, "protocol")


@dataclass(frozen=True)
class RecordSettings:
    """What the stages record and how often they checkpoint."""

    rate_bin_ms: float = param(10.0, unit="ms", exclusive_minimum=0,
                               description="Bin of the population and assembly rates.")
    weight_interval_s: float = param(1.0, unit="s", minimum=0,
                                     description="Interval of assembly weight snapshots (0: start and end "
                                                 "only).")
    chunk_s: float = param(1.0, unit="s", exclusive_minimum=0,
                           description="Simulated time per compiled-kernel call (progress granularity).")
    checkpoint_every_s: float = param(60.0, unit="s", minimum=0,
                                      description="Simulated seconds between checkpoints of a running stage "
                                                  "(0: none).")
    keep_spikes: bool = param(True, description="Store every spike (needed for rasters and per-cell rates).")
    keep_state: bool = param(False, description="Keep every stage store's network state (to continue a run "
                                                 "by hand); by default only stores a later stage of the run "
                                                 "continues from keep it (records, spikes and assembly "
                                                 "membership are always kept).")

    def __post_init__(self) -> None:
        check_fields(self, "record")

    def spec(self) -> RecordSpec:
        from homeoplastic.assemblies.engine import RecordSpec

        return RecordSpec(spikes=self.keep_spikes, rate_bin_ms=self.rate_bin_ms,
                          weight_interval_s=self.weight_interval_s, chunk_s=self.chunk_s)


def protocol_from_config(section: Mapping[str, Any], rule: str | None = None,
                         point: Point | None = None) -> Protocol:
    """The section's protocol, with ``rule_protocol[rule]``'s keys replacing the shared ones and
    the point's ``protocol.*`` axes replacing both."""
    shared = from_mapping(Protocol, section.get("protocol", {}), "assemblies.protocol")
    own = dict(section.get("rule_protocol", {}).get(rule, {})) if rule is not None else {}
    swept = point_values(point, "protocol")
    if not own and not swept:
        return shared
    where = ("assemblies.sweep (protocol axes)" if swept else f"assemblies.rule_protocol.{rule}")
    return from_mapping(Protocol, {**section.get("protocol", {}), **own, **swept}, where)


def record_from_config(section: Mapping[str, Any], point: Point | None = None) -> RecordSettings:
    """The section's record settings, the point's ``record.*`` axes over them."""
    return from_mapping(RecordSettings, {**section.get("record", {}),
                                         **point_values(point, "record")}, "assemblies.record")


def _merged(base: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``own`` laid over it, nested mappings merged key by key (neither modified)."""
    out = copy.deepcopy(dict(base))
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def network_overrides(section: Mapping[str, Any], rule: str | None) -> tuple[dict[str, Any], str]:
    """The network overrides of a rule's runs and the key that names them in errors.

    ``rule_network[rule]`` is laid over ``network`` group by group, e.g. a higher rate guard for
    the no-iSTDP ablation, whose winner-take-all state (Fig. 3) fires above the shared guard.
    """
    own = section.get("rule_network", {}).get(rule, {}) if rule is not None else {}
    where = f"assemblies.rule_network.{rule}" if own else "assemblies.network"
    return _merged(section.get("network", {}), own), where


def point_values(point: Point | None, group: str) -> dict[str, Any]:
    """The point's axes under ``group.`` (e.g. ``network``), by their key inside the group."""
    if point is None:
        return {}
    prefix = group + "."
    return {key[len(prefix):]: value for key, value in point.settings().items()
            if key.startswith(prefix)}


def network_params(section: Mapping[str, Any], point: Point) -> NetworkParams:
    """NetworkParams of one sweep point: config overrides (the rule's own over the shared ones),
    the rule's variant, then the point's ``network.*`` axes (size and learning speed included)."""
    rule = point.rule
    overrides, where = network_overrides(section, rule)
    protocol = protocol_from_config(section, rule, point)
    if rule not in RULE_VARIANTS:
        raise ParameterError(
            f"assemblies.sweep.rule = {rule!r} is invalid; allowed: {sorted(RULE_VARIANTS)}"
        )
    _refuse_replaced(overrides, where, rule, point)
    overrides = copy.deepcopy(overrides)
    overrides.setdefault("plasticity", {})
    for key, value in variant_overrides(rule).items():
        overrides = set_dotted(overrides, key, value)
    for key, value in point_values(point, "network").items():
        overrides = set_dotted(overrides, key, value)
    overrides["plasticity"].setdefault("start_s", protocol.warmup_s)  # else the warm-up
    return network_with(overrides, n_assemblies=protocol.n_assemblies, where=where)


def _refuse_replaced(overrides: Mapping[str, Any], where: str, rule: str, point: Point) -> None:
    """A network setting that the sweep's named axes replace (size, learning speed, and what the
    rule variant sets) is an error naming both, instead of being dropped without a word."""
    replaced = {"connectivity.n_neurons": (point.n_neurons, "assemblies.sweep.n_neurons"),
                "plasticity.learning_speed": (point.learning_speed,
                                              "assemblies.sweep.learning_speed")}
    for key, value in variant_overrides(rule).items():
        replaced[key] = (value, f"assemblies.sweep.rule = {rule}")
    for key, (value, by) in replaced.items():
        group, name = key.split(".")
        given = overrides.get(group, {}).get(name)
        if given is not None and given != value:
            raise ParameterError(
                f"{where}.{key} = {given!r} is replaced by {by} ({value!r}); allowed: set it "
                "through the sweep (a named axis or a rule variant), not in the network section",
                key=f"{where}.{key}")


def probe_settings(section: Mapping[str, Any], point: Point | None = None):
    """The probe protocol of the config (``assemblies.probe`` without the switches ``enabled`` and
    ``remap``, which choose stages, not how a probe runs), the point's ``probe.*`` axes over it."""
    from homeoplastic.assemblies.experiments.probe import ProbeSettings

    values = {k: v for k, v in section.get("probe", {}).items() if k not in ("enabled", "remap")}
    return ProbeSettings.from_dict({**values, **point_values(point, "probe")},
                                   where="assemblies.probe")
