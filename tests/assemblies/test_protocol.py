"""Sweep expansion: the product of `sweep`, the union with `extra_sweeps`, and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeoplastic.assemblies.sweep import sweep_point, sweep_points
from homeoplastic.config import ConfigError, load_schema, validate

SCHEMA = load_schema(Path(__file__).resolve().parents[2] / "workflow/schemas/assemblies.schema.yaml")
SWEEP = {"n_neurons": [2000, 2500], "rule": ["voltage"], "learning_speed": [4.0], "seed": [1]}


def _ids(section):
    return [p.run_id for p in sweep_points(section)]


def test_sweep_is_the_full_product_in_axis_order():
    ids = _ids({"sweep": {**SWEEP, "learning_speed": [4.0, 8.0]}})
    assert ids == [sweep_point(n_neurons=n, rule="voltage", learning_speed=s, seed=1).run_id
                   for n in (2000, 2500) for s in (4.0, 8.0)]


def test_extra_blocks_add_runs_take_missing_axes_from_sweep_and_never_repeat_one():
    section = {"sweep": SWEEP, "extra_sweeps": [
        {"n_neurons": [2000], "learning_speed": [8.0]},
        {"n_neurons": [2000], "rule": ["voltage", "triplet", "voltage_no_istdp"]},
    ]}
    points = sweep_points(section)
    assert len(points) == 2 + 1 + 2  # voltage at N=2000, speed 4, is named twice and runs once
    assert len({p.run_id for p in points}) == len(points)
    extra_speed = [p for p in points if p.learning_speed == 8.0]
    assert extra_speed == [sweep_point(n_neurons=2000, rule="voltage", learning_speed=8.0, seed=1)]
    assert {p.rule for p in points if p.n_neurons == 2500} == {"voltage"}


def test_schema_rejects_an_unknown_axis_or_rule_in_an_extra_block_by_name():
    with pytest.raises(ConfigError, match="extra_sweeps"):
        validate({"sweep": SWEEP, "extra_sweeps": [{"size": [100]}]}, SCHEMA, where="assemblies")
    with pytest.raises(ConfigError, match=r"extra_sweeps\[0\]\.rule\[0\].*allowed values"):
        validate({"sweep": SWEEP, "extra_sweeps": [{"rule": ["hebb"]}]}, SCHEMA, where="assemblies")
    filled = validate({"sweep": SWEEP, "extra_sweeps": [{"rule": ["triplet"]}]}, SCHEMA,
                      where="assemblies")
    assert filled["extra_sweeps"] == [{"rule": ["triplet"]}]  # no defaults leak into a block


@pytest.mark.parametrize("name", ["paper.yaml", "experiments.yaml"])
def test_larger_configs_keep_their_own_runs_over_the_default(name):
    """Snakemake merges a --configfile over config/config.yaml key by key but replaces lists, so
    the larger configs must set the default's list-valued run choices themselves."""
    import yaml
    from snakemake.utils import update_config

    from homeoplastic.assemblies.stages import run_settings

    root = Path(__file__).resolve().parents[2] / "config"
    config = yaml.safe_load((root / "config.yaml").read_text())
    update_config(config, yaml.safe_load((root / name).read_text()))
    section = validate(config["assemblies"], SCHEMA, where="assemblies")
    own = yaml.safe_load((root / name).read_text())["assemblies"]["sweep"]
    points = sweep_points(section)
    assert {p.n_neurons for p in points} == set(own["n_neurons"])  # no default extra blocks
    for point in points:
        runaway = point.rule in ("voltage_no_istdp", "voltage_no_homeostasis")
        assert ("probe_after" in run_settings(section, point).stages) != runaway, point.rule
    assert {"triplet", "calcium"} <= {p.rule for p in points}
    # rule_protocol merges key by key too: a protocol key the default sets for one rule (the
    # triplet rule's 180 s spontaneous phase) must not reach that rule's runs here
    mine = yaml.safe_load((root / name).read_text())["assemblies"]
    for point in points:
        protocol = run_settings(section, point).protocol
        expect = {**mine.get("protocol", {}), **mine.get("rule_protocol", {}).get(point.rule, {})}
        for key, value in expect.items():
            assert getattr(protocol, key) == value, (point.rule, key)
