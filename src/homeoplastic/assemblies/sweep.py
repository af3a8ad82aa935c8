"""The sweep of the spiking model: one :class:`homeoplastic.sweep.Point` per run.

The named axes are ``n_neurons`` (``network.connectivity.n_neurons``), ``rule`` (a variant of
:data:`~homeoplastic.assemblies.settings.RULE_VARIANTS`), ``learning_speed``
(``network.plasticity.learning_speed``) and ``seed``; they name every run, as they always have
(``n_neurons~2000_rule~voltage_learning_speed~4_seed~1``). Any other settings key of the section
is an axis too, written as its dotted key (``network.istdp.target_rate_hz``,
``protocol.spontaneous_s``, ``record.rate_bin_ms``, ``probe.n_trials``,
``analysis.reactivation_threshold_factor``); it names a run only where it differs from the value
the config would run without it (see :mod:`homeoplastic.sweep`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.settings import (
    Protocol,
    RecordSettings,
    network_params,
    point_values,
    probe_settings,
    protocol_from_config,
    record_from_config,
)
from homeoplastic.parameters import leaves, spec_of
from homeoplastic.sweep import Axes, Point, expand, flatten

AXES = Axes(aliases={"n_neurons": "network.connectivity.n_neurons", "rule": "rule",
                     "learning_speed": "network.plasticity.learning_speed", "seed": "seed"},
            named=("n_neurons", "rule", "learning_speed", "seed"))
"""The spiking sweep's named axes (always in a run id, in this order) and their settings keys."""
SWEEP_KEYS = AXES.named
"""The named axes, as the analysis stores' coordinates spell them."""
SETTING_GROUPS = ("network", "protocol", "record", "probe", "analysis")
"""The groups of the ``assemblies`` section whose keys may be swept."""
MIN_NEURONS = 100
"""Smallest network the workflow (schema) and the CLI accept: below it the scaled network leaves
the asynchronous balanced regime (N = 50 runs away to ~700 Hz)."""

_ALIAS_PAIRS = tuple((key, alias) for alias, key in AXES.aliases.items())
_NAMED_KEYS = tuple(AXES.aliases[name] for name in AXES.named)


def sweep_point(n_neurons: int, rule: str, learning_speed: float, seed: int,
                **settings: Any) -> Point:
    """One point of the spiking sweep from its named values and any other axes by dotted key
    (``sweep_point(2000, "voltage", 4.0, 1)``). Other axes are named in the run id, as given."""
    values = ((_NAMED_KEYS[0], int(n_neurons)), ("rule", str(rule)),
              (_NAMED_KEYS[2], float(learning_speed)), ("seed", int(seed)))
    return Point(values + tuple(sorted(settings.items())), _NAMED_KEYS, (), _ALIAS_PAIRS)


def in_id_order(values: Mapping[str, Any]) -> dict[str, Any]:
    """Visible sweep values (e.g. read back from sorted JSON) in run-id order: the named axes,
    then the others by key."""
    order = [n for n in AXES.named if n in values] + sorted(set(values) - set(AXES.named))
    return {key: values[key] for key in order}


def _named_point(named: Mapping[str, Any]) -> Point:
    return Point(tuple((key, named[key]) for key in _NAMED_KEYS), _NAMED_KEYS, (), _ALIAS_PAIRS)


def flat_settings(section: Mapping[str, Any], point: Point) -> dict[str, Any]:
    """Every setting one run of the section resolves to, as dotted keys (``network.exc.c_pf``)."""
    flat = flatten({"network": network_params(section, point).to_dict()})
    flat.update(flatten({"protocol": dataclasses.asdict(
        protocol_from_config(section, point.rule, point))}))
    flat.update(flatten({"record": dataclasses.asdict(record_from_config(section, point))}))
    flat.update(flatten({"probe": dataclasses.asdict(probe_settings(section, point))}))
    flat.update(flatten({"analysis": {**section.get("analysis", {}),
                                      **point_values(point, "analysis")}}))
    return flat


def sweep_points(section: Mapping[str, Any]) -> list[Point]:
    """Every run of the ``assemblies`` section, in table order, each once.

    The union of the product of ``sweep`` and of each ``extra_sweeps`` block; an axis a block
    leaves out takes ``sweep``'s values. An axis that is not a settings key of the section is an
    error naming it.
    """
    for path, block in _blocks(section):
        for key in block:
            group = key.split(".")[0]
            if "." in key and group not in SETTING_GROUPS:
                raise ParameterError(f"{path}.{key}: unknown sweep axis; allowed: n_neurons, rule, "
                                     f"learning_speed, seed or a key of {', '.join(SETTING_GROUPS)}",
                                     key=f"{path}.{key}")
    return expand(section, AXES, "assemblies",
                  lambda named: flat_settings(section, _named_point(named)))


def _blocks(section: Mapping[str, Any]):
    yield "assemblies.sweep", section.get("sweep", {}) or {}
    for index, block in enumerate(section.get("extra_sweeps", ()) or ()):
        yield f"assemblies.extra_sweeps[{index}]", block


_UNIT_SOURCES = {"network": NetworkParams, "protocol": Protocol, "record": RecordSettings}


def axis_unit(key: str) -> str:
    """The unit of an axis from its parameter's declaration (``1`` when it declares none)."""
    if key in ("n_neurons", _NAMED_KEYS[0]):
        return "cells"
    group, _, rest = key.partition(".")
    cls = _UNIT_SOURCES.get(group)
    if cls is None and group == "probe":
        from homeoplastic.assemblies.experiments.probe import ProbeSettings

        cls = ProbeSettings
    if cls is not None:
        for dotted, f, _ in leaves(cls):
            if dotted == rest:
                return spec_of(f).unit or "1"
    return "1"
