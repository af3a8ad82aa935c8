"""NaN and infinities are refused before any job, in one place, naming the full key.

A JSON-schema bound (``minimum``, ``exclusiveMinimum``) is false for NaN, so it never fails; before
this check ``assemblies.analysis.reactivation_threshold_factor: .nan`` ran to the end and reported
reactivations. ``homeoplastic.config.validate`` (what common.smk runs on every section) and the
parameter classes' ``check_fields`` each refuse a non-finite number by key.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import yaml

from homeoplastic.config import ConfigError, load_schema, validate
from homeoplastic.parameters import ParameterError, check_fields, from_mapping, param

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"
NAN, INF = float("nan"), float("inf")

# (section, overlay of that section, the dotted key the message must name)
CASES = [
    ("assemblies", {"analysis": {"reactivation_threshold_factor": NAN}},
     "assemblies.analysis.reactivation_threshold_factor"),
    ("assemblies", {"rate_dependence": {"rates_hz": [NAN, 2]}},
     "assemblies.rate_dependence.rates_hz[0]"),
    ("assemblies", {"resources": {"wall_s_per_sim_s_at_5000": NAN}},
     "assemblies.resources.wall_s_per_sim_s_at_5000"),
    ("assemblies", {"network": {"exc": {"tau_m_ms": INF}}}, "assemblies.network.exc.tau_m_ms"),
    ("assemblies", {"network": {"guard": {"rate_max_hz": -INF}}},
     "assemblies.network.guard.rate_max_hz"),
    ("balancing", {"two_neuron": {"t_max": NAN}}, "balancing.two_neuron.t_max"),
    ("balancing", {"sweep": {"exponents": [NAN]}}, "balancing.sweep.exponents[0]"),
    ("balancing", {"resources": {"mem_mb": INF}}, "balancing.resources.mem_mb"),
    ("reduced", {"eta": [NAN]}, "reduced.eta[0]"),
    ("reduced", {"eta": [0.001, INF]}, "reduced.eta[1]"),
]


@pytest.mark.parametrize(("section", "overlay", "key"), CASES, ids=[c[2] for c in CASES])
def test_validate_refuses_a_nonfinite_number_naming_its_key(section, overlay, key):
    schema = load_schema(SCHEMAS / f"{section}.schema.yaml")
    with pytest.raises(ConfigError) as err:
        validate(overlay, schema, where=section)
    message = str(err.value)
    assert f"{key}: " in message
    assert "allowed: a finite number" in message or "allowed:" in message
    assert "nan" in message or "inf" in message


def test_the_issue_message_reads_as_promised():
    schema = load_schema(SCHEMAS / "assemblies.schema.yaml")
    with pytest.raises(ConfigError, match=r"assemblies\.analysis\.reactivation_threshold_factor: "
                       r"nan is not allowed; allowed: a finite number"):
        validate({"analysis": {"reactivation_threshold_factor": NAN}}, schema, where="assemblies")


def test_yaml_nan_and_inf_spellings_are_refused():
    """What a user types: YAML's ``.nan``, ``.inf``, ``-.Inf``."""
    overlay = yaml.safe_load("{analysis: {reactivation_threshold_factor: .nan}, "
                             "rate_dependence: {rates_hz: [.inf, -.Inf]}}")
    schema = load_schema(SCHEMAS / "assemblies.schema.yaml")
    with pytest.raises(ConfigError) as err:
        validate(overlay, schema, where="assemblies")
    message = str(err.value)
    for key in ("assemblies.analysis.reactivation_threshold_factor",
                "assemblies.rate_dependence.rates_hz[0]", "assemblies.rate_dependence.rates_hz[1]"):
        assert key in message


def test_top_level_and_every_default_config_stays_valid():
    """The check adds no false alarm: the shipped config and the micro sweep validate."""
    for path in (ROOT / "config" / "config.yaml", ROOT / ".test" / "config.yaml"):
        if not path.exists():
            continue
        config = yaml.safe_load(path.read_text())
        config = validate(config, load_schema(SCHEMAS / "config.schema.yaml"), where="config")
        for section in ("assemblies", "balancing", "reduced"):
            if section in config:
                validate(config[section], load_schema(SCHEMAS / f"{section}.schema.yaml"),
                         where=section)


@dataclasses.dataclass(frozen=True)
class _Unbounded:
    """A float field without bounds, and one in a list."""

    x: float = param(1.0, description="unbounded")
    xs: tuple[float, ...] = param((1.0,), description="a list")
    maybe: float | None = param(None, description="optional")

    def __post_init__(self) -> None:
        check_fields(self, "demo")


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize("field", ["x", "xs", "maybe"])
def test_a_float_field_refuses_nonfinite_even_without_bounds(field, bad):
    value = (1.0, bad) if field == "xs" else bad
    with pytest.raises(ParameterError) as err:
        from_mapping(_Unbounded, {field: value}, "demo")
    assert err.value.key == f"demo.{field}"
    assert f"demo.{field} = " in str(err.value)
    assert "a finite number" in str(err.value)


def test_finite_values_still_pass():
    made = _Unbounded(x=-1e300, xs=(0.0, 2.0), maybe=3.0)
    assert math.isfinite(made.x)


@dataclasses.dataclass(frozen=True)
class _Bounded:
    rate: float | None = param(None, exclusive_minimum=0, description="optional, bounded")

    def __post_init__(self) -> None:
        check_fields(self, "demo")


def test_an_optional_bounded_float_refuses_nan_and_says_the_bounds():
    assert _Bounded().rate is None and _Bounded(rate=2.0).rate == 2.0
    with pytest.raises(ParameterError, match=r"demo\.rate = nan is invalid; allowed: a finite "
                       r"number > 0"):
        _Bounded(rate=NAN)
