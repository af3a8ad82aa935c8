"""Where a config schema section mirrors a library dataclass, their defaults agree.

A default stated twice can drift (``flow_max_iter`` was 100000 in the schema and 20000 in the
library). Each check below compares every field the two share; differences that are intended are
listed with their reason, and the test fails when one appears or disappears.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from homeoplastic.assemblies.experiments.dt_check import DtCheckSettings
from homeoplastic.assemblies.experiments.probe import ProbeSettings
from homeoplastic.assemblies.experiments.rate_dependence import RateMapSettings
from homeoplastic.assemblies.settings import Protocol, RecordSettings
from homeoplastic.balancing.experiments import RNNSetup, SweepPoint
from homeoplastic.balancing.rnn import TrainConfig
from homeoplastic.balancing.runs import RNN_SETUP_KEYS
from homeoplastic.balancing.stages import STAGES, Params, rnn_setup, train_config
from homeoplastic.config import load_schema, validate
from homeoplastic.figures import DPI

SCHEMAS = Path(__file__).resolve().parents[1] / "workflow/schemas"


def _defaults(cls) -> dict:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _section(schema: str, name: str) -> dict:
    """The section with every schema default filled in (what a job sees for an empty config)."""
    return validate({}, load_schema(SCHEMAS / schema), where=schema)[name]


def _schema_properties(schema: str, name: str) -> dict:
    return load_schema(SCHEMAS / schema)["properties"][name]["properties"]


def _differences(schema: str, name: str, cls) -> dict[str, tuple]:
    section, declared = _section(schema, name), _defaults(cls)
    return {key: (section[key], declared[key]) for key in declared
            if key in section and section[key] != declared[key]}


# (section, dataclass, dataclass fields that are not config keys, config keys it does not hold)
SPIKING = [
    ("protocol", Protocol, set(), set()),
    ("record", RecordSettings, set(), set()),
    ("probe", ProbeSettings, set(), {"enabled", "remap"}),
    # the rate maps' rules, rates and seed are arguments of rate_dependence(), not settings
    ("rate_dependence", RateMapSettings, set(), {"enabled", "rules", "rates_hz", "seed"}),
    # lead, tail and plasticity start are fixed by the dt check's design, not configurable
    ("dt_check", DtCheckSettings, {"lead_s", "tail_s", "plasticity_start_s"}, {"enabled"}),
]


@pytest.mark.parametrize(("name", "cls", "library_only", "config_only"), SPIKING,
                         ids=[row[0] for row in SPIKING])
def test_assemblies_schema_defaults_equal_the_dataclass_defaults(name, cls, library_only,
                                                              config_only):
    assert _differences("assemblies.schema.yaml", name, cls) == {}
    fields = {f.name for f in dataclasses.fields(cls)}
    keys = set(_schema_properties("assemblies.schema.yaml", name))
    assert fields - keys == library_only, f"assemblies.{name}: dataclass fields without a key"
    assert keys - fields == config_only, f"assemblies.{name}: keys without a dataclass field"


def test_balancing_sweep_defaults_equal_the_sweep_point_defaults():
    assert _differences("balancing.schema.yaml", "sweep", SweepPoint) == {}
    assert {"solver", "tol", "flow_max_iter"} <= set(_section("balancing.schema.yaml", "sweep"))


def test_rnn_schema_and_dataclass_defaults_are_one_value():
    """One default per setting: the default run's own values are set in config/config.yaml."""
    found = {**_differences("balancing.schema.yaml", "rnn", TrainConfig),
             **_differences("balancing.schema.yaml", "rnn", RNNSetup)}
    assert found == {}


def test_a_run_sees_the_schema_default_of_every_rnn_setting():
    """The stage entry passes every schema key on, so no dataclass default reaches a run."""
    section = _section("balancing.schema.yaml", "rnn")
    ctx = Params(STAGES["train_rnn"], "rnn",
                 {"settings": section, "run": {"arm": "plain", "lam": 0.0, "seed": 0}})
    built = {**dataclasses.asdict(train_config(ctx)), **dataclasses.asdict(rnn_setup(ctx))}
    shared = [key for key in built if key in section]
    assert set(RNN_SETUP_KEYS) <= set(shared) and {"n_iterations", "learning_rate", "dt"} <= set(shared)
    assert {key: built[key] for key in shared} == {key: section[key] for key in shared}


def test_balancing_figure_dpi_default_is_the_library_figure_dpi():
    assert _section("balancing.schema.yaml", "figures")["dpi"] == DPI
