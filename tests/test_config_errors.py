"""Every wrong config type or value names its full key path and what is allowed, before any job.

The bad configs go through the checks the workflow runs at parse time (workflow/rules/common.smk):
the JSON schemas via ``homeoplastic.config.validate`` (top level, then each model section), then
``check_section`` for the assembly model's parameters of every sweep point.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.settings import network_params
from homeoplastic.assemblies.stages import check_section
from homeoplastic.assemblies.sweep import sweep_points
from homeoplastic.config import load_schema, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def check_like_the_workflow(overlay_yaml: str) -> dict:
    """Merge ``overlay_yaml`` over config/config.yaml as ``--configfile`` does; run common.smk's checks."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    update_config(config, yaml.safe_load(overlay_yaml))
    config = validate(config, load_schema(SCHEMAS / "config.schema.yaml"), where="config")
    for section in ("assemblies", "balancing", "reduced"):
        if section in config:
            config[section] = validate(config[section], load_schema(SCHEMAS / f"{section}.schema.yaml"),
                                       where=section)
    if config["assemblies"].get("enabled", False):
        check_section(config["assemblies"])
    return config


# (overlay, the key path the message must name, what it must say is allowed)
BAD = {
    "number given as text": (
        "assemblies: {network: {exc: {tau_m_ms: twenty}}}",
        "assemblies.network.exc.tau_m_ms", "a number"),
    "number given as a list": (
        "assemblies: {network: {guard: {rate_max_hz: [20]}}}",
        "assemblies.network.guard.rate_max_hz", "a number"),
    "flag given as text": (
        "assemblies: {network: {plasticity: {istdp: 'no'}}}",
        "assemblies.network.plasticity.istdp", "true or false"),
    "flag given as a number": (
        "assemblies: {network: {ee_transmission: 0}}",
        "assemblies.network.ee_transmission", "true or false"),
    "integer given as a decimal": (
        "assemblies: {network: {connectivity: {reference_n_neurons: 5000.5}}}",
        "assemblies.network.connectivity.reference_n_neurons", "an integer"),
    "parameter group given as a number": (
        "assemblies: {network: {exc: 3}}",
        "assemblies.network.exc", "tau_m_ms"),
    "misspelt nested parameter": (
        "assemblies: {network: {exc: {tau_mem_ms: 15.0}}}",
        "assemblies.network.exc.tau_mem_ms", "tau_m_ms"),
    "misspelt parameter group": (
        "assemblies: {network: {guards: {rate_max_hz: 15.0}}}",
        "assemblies.network.guards", "guard"),
    "misspelt protocol key": (
        "assemblies: {protocol: {warmup: 2.0}}",
        "assemblies.protocol.warmup", "warmup_s"),
    "misspelt section": (
        "assembly: {enabled: false}",
        "config.assembly", "assemblies"),
    "negative protocol duration": (
        "assemblies: {protocol: {spontaneous_s: -5}}",
        "assemblies.protocol.spontaneous_s", "> 0"),
    "negative network time constant": (
        "assemblies: {network: {plasticity: {normalisation_interval_ms: -20.0}}}",
        "assemblies.network.plasticity.normalisation_interval_ms", "> 0"),
    "duration off the time grid": (
        "assemblies: {protocol: {warmup_s: 2.00005}}",
        "assemblies.protocol.warmup_s", "multiple of dt"),
    "guard band upside down": (
        "assemblies: {network: {guard: {rate_max_hz: 0.01}}}",
        "assemblies.network.guard.rate_max_hz", "> rate_min_hz"),
    "unknown sweep rule": (
        "assemblies: {sweep: {rule: [hebb]}}",
        "assemblies.sweep.rule[0]", "voltage_no_istdp"),
    "unknown E->E rule override": (
        "assemblies: {network: {plasticity: {ee_rule: hebb}}}",
        "assemblies.network.plasticity.ee_rule", "triplet"),
    "text where a list is expected": (
        "assemblies: {sweep: {rule: voltage}}",
        "assemblies.sweep.rule", "a list"),
    "number where a list is expected": (
        "balancing: {sweep: {seeds: 3}}",
        "balancing.sweep.seeds", "a list"),
    "rank neither an integer nor 'full'": (
        "balancing: {sweep: {ranks: [1, ful]}}",
        "balancing.sweep.ranks[1]", "an integer >= 1 and <= 100000 or one of ['full']"),
    "forbidden cost exponent": (
        "balancing: {sweep: {exponents: [0]}}",
        "balancing.sweep.exponents[0]", "not 0"),
    "flag of a section given as text": (
        "assemblies: {probe: {enabled: 'yes'}}",
        "assemblies.probe.enabled", "true or false"),
    "perturbed assembly that does not exist": (
        "assemblies: {protocol: {perturb_assembly: 9}}",
        "assemblies.protocol.perturb_assembly", "0..4"),
    "rate bin off the time grid": (
        "assemblies: {record: {rate_bin_ms: 0.15}}",
        "assemblies.record.rate_bin_ms", "a multiple of dt_ms"),
    "probe shorter than its count window": (
        "assemblies: {probe: {on_s: 0.05}}",
        "assemblies.probe.on_s", ">= window_s"),
    "rate-map window off the time grid": (
        "assemblies: {rate_dependence: {window_s: 0.00015}}",
        "assemblies.rate_dependence.window_s", "a multiple of dt"),
    "dt-check step the network cannot take": (
        "assemblies: {dt_check: {dt_ms: [0.1, 0.03]}}",
        "assemblies.dt_check.dt_ms", "multiple of dt_ms = 0.03"),
    "dt-check seed repeated": (
        "assemblies: {dt_check: {seeds: [3, 3]}}",
        "assemblies.dt_check.seeds", "no item repeated"),
    "reduced model size not offered": (
        "reduced: {models: [3]}",
        "reduced.models[0]", "[2, 4]"),
}


@pytest.mark.parametrize("overlay, key, allowed", BAD.values(), ids=BAD.keys())
def test_bad_config_names_the_key_path_and_what_is_allowed(overlay, key, allowed):
    with pytest.raises(ValueError) as caught:
        check_like_the_workflow(overlay)
    message = str(caught.value)
    assert f"{key}:" in message or f"{key} =" in message, message
    assert allowed in message, message
    assert "allowed" in message, message


def test_good_overrides_are_kept_with_their_types():
    config = check_like_the_workflow(
        "assemblies: {network: {exc: {tau_m_ms: 15}, plasticity: {istdp: false}}}")
    params = network_params(config["assemblies"], sweep_points(config["assemblies"])[0])
    assert params.exc.tau_m_ms == 15 and params.plasticity.istdp is False


def _leaf_fields(cls, prefix=()):
    for f in dataclasses.fields(cls):
        kind = typing.get_type_hints(cls)[f.name]
        if dataclasses.is_dataclass(kind):
            yield from _leaf_fields(kind, (*prefix, f.name))
        else:
            yield (*prefix, f.name), kind


LEAVES = list(_leaf_fields(NetworkParams))
WRONG = {bool: ["no", 0, 1.0, None], int: ["10", 2.5, True, [10]], float: ["1.0", [1.0], True, None],
         str: [1, True, ["voltage"]]}


def _nested(path, value):
    for part in reversed(path):
        value = {part: value}
    return value


def test_every_network_parameter_has_a_checked_type():
    assert len(LEAVES) > 80 and {kind for _, kind in LEAVES} == set(WRONG)
    assert NetworkParams.from_dict(NetworkParams().to_dict()) == NetworkParams()


@pytest.mark.parametrize("path, kind", LEAVES, ids=[".".join(p) for p, _ in LEAVES])
def test_every_network_parameter_rejects_a_wrong_type_by_its_full_key(path, kind):
    key = "assemblies.network." + ".".join(path)
    for value in WRONG[kind]:
        with pytest.raises(ParameterError, match=key.replace(".", r"\.") + " = .*allowed: ") as caught:
            NetworkParams.from_dict(_nested(path, value), where="assemblies.network")
        assert caught.value.key == key


def test_library_keys_are_rooted_at_network_and_the_workflows_at_assemblies_network():
    with pytest.raises(ParameterError, match=r"^network\.exc\.tau_m_ms = -1 "):
        NetworkParams.from_dict({"exc": {"tau_m_ms": -1}})
    with pytest.raises(ParameterError, match=r"^assemblies\.network\.exc\.tau_m_ms = -1 "):
        NetworkParams.from_dict({"exc": {"tau_m_ms": -1}}, where="assemblies.network")
    with pytest.raises(ParameterError, match=r"^network\.exc\.tau_m_ms = -1 "):  # root is reset
        NetworkParams().replace(**{"exc.tau_m_ms": -1})


def test_snakemake_dry_run_stops_on_a_bad_type_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assemblies:\n  network:\n    plasticity:\n      istdp: 'no'\n")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(bad),
         "--config", f"results_dir={tmp_path}/results", f"logs_dir={tmp_path}/logs"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # the schema (generated from the parameter classes) stops it, before the classes would
    assert "assemblies.network.plasticity.istdp: 'no' is invalid; allowed: true or false" in output
    assert "Job stats" not in output and "rule " not in result.stdout
    assert not (tmp_path / "results").exists()


def test_sweep_values_print_integers_without_a_decimal_point():
    from homeoplastic.sweep import format_value as sweep_value

    assert [sweep_value(v) for v in (16, 16.0, 16.5, 0.001, 4.0, "voltage")] == \
        ["16", "16", "16.5", "0.001", "4", "voltage"]


def test_table_value_prints_measured_numbers_one_way_for_every_results_table():
    """One formatter for summary.csv and balancing_summary.csv (they had two copies)."""
    import numpy as np

    from homeoplastic.config import table_value

    assert table_value("as predicted") == "as predicted"
    assert table_value(0.123456) == table_value(np.float64(0.123456)) == "0.1235"
    assert table_value(np.float32(0.5)) == "0.5"
    assert table_value(float("nan")) == table_value(np.nan) == "nan"
    assert table_value(12345) == table_value(np.int64(12345)) == "12345"  # integers in full
    assert table_value(2.5e-7) == "2.5e-07" and table_value(np.bool_(True)) == "True"
