"""Docs match code: every model parameter and schema key is documented in config/README.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from homeoplastic.spiking.params import NetworkParams

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "config" / "README.md").read_text()


def _keys(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _keys(value, prefix + f.name + ".")
        else:
            yield prefix + f.name


def test_every_network_parameter_is_documented():
    missing = [k for k in _keys(NetworkParams()) if f"`{k}`" not in README]
    assert not missing


def test_every_assembly_schema_key_is_documented():
    schema = yaml.safe_load((ROOT / "workflow/schemas/assemblies.schema.yaml").read_text())
    missing = [key for key in schema["properties"] if f"`{key}`" not in README
               and f"assemblies.{key}" not in README]
    for block in ("sweep", "protocol", "probe", "rate_dependence", "dt_check", "record",
                  "analysis", "resources"):
        for key in schema["properties"][block]["properties"]:
            if key not in README:
                missing.append(f"{block}.{key}")
    assert not missing


def test_every_numeric_parameter_has_a_unit_suffix_or_is_dimensionless():
    dimensionless = {"n_neurons", "exc_fraction", "p_connect", "reference_n_neurons", "n_assemblies",
                     "p_member", "learning_speed",
                     # Graupner-Brunel calcium rule: calcium, thresholds and rates are dimensionless
                     "c_pre", "c_post", "theta_d", "theta_p", "gamma_d", "gamma_p", "gamma_scale",
                     "sigma", "rho_star"}
    units = ("_ms", "_mv", "_pf", "_ns", "_pa", "_hz", "_s", "_pf_per_mv", "_pf_per_mv2")
    for key in _keys(NetworkParams()):
        name = key.rsplit(".", 1)[-1]
        value = eval("NetworkParams()." + key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        assert name in dimensionless or name.endswith(units), key
