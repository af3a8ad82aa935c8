"""The chain run once per variant of its settings (homeoplastic.analysis.variants)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from homeoplastic.analysis import variants as var
from homeoplastic.assemblies.params import ParameterError
from homeoplastic.assemblies.sweep import sweep_point
from homeoplastic.config import load_schema, validate
from homeoplastic.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema(ROOT / "workflow/schemas/assemblies.schema.yaml")
POINT = sweep_point(500, "calcium", 4.0, 1)


def _section() -> dict:
    raw = {
        "sweep": {"n_neurons": [500], "rule": ["calcium"], "learning_speed": [4.0], "seed": [1]},
        "network": {"connectivity": {"size_scaling": "mean_input"}},
        "protocol": {"warmup_s": 0.2, "n_assemblies": 2, "stimulus_on_s": 0.2,
                     "stimulus_off_s": 0.1, "repetitions": 1, "spontaneous_s": 0.3},
        "record": {"weight_interval_s": 0.1, "chunk_s": 0.1, "checkpoint_every_s": 0.0},
    }
    return validate(raw, SCHEMA, where="assemblies")


def test_a_variant_replaces_only_its_rules_own_settings():
    section = _section()
    out = var.with_variant(section, "calcium", {"network.calcium.noise": False,
                                                "protocol.repetitions": 4})
    assert out["rule_network"]["calcium"]["calcium"] == {"noise": False}
    assert out["rule_protocol"]["calcium"]["repetitions"] == 4
    assert section.get("rule_network", {}).get("calcium") is None  # the input is not changed
    for bad in ("calcium.noise", "network.noise", "protocol.a.b", "record.chunk_s"):
        with pytest.raises(ParameterError, match=r"'network.<group>.<key>' or 'protocol.<key>'"):
            var.with_variant(section, "calcium", {bad: 1})


def test_chain_variants_runs_each_variant_with_its_own_constants(tmp_path, monkeypatch):
    """Each variant's stores carry its own parameters, the statistics follow them, and a second
    call with the same settings simulates nothing, while a changed variant under an old name is
    refused instead of mixing the two."""
    variants = {"as configured": {}, "rho spans [J_min, J_max], longer": {
        "network.calcium.up_down_ratio": 0.0, "protocol.repetitions": 2}}
    table = var.chain_variants(_section(), POINT, variants, tmp_path)
    assert list(table.variant.values) == list(variants)
    assert set(table.data_vars) == set(var.STATISTICS)
    assert all(table[k].attrs["units"] for k in table.data_vars)
    first, second = (tmp_path / var._folder_name(name) for name in variants)
    params = [json.loads(open_store(str(f / "train.zarr"), group="state").attrs["params_json"])
              for f in (first, second)]
    assert params[0]["calcium"]["up_down_ratio"] == pytest.approx(5.40988)
    assert params[1]["calcium"]["up_down_ratio"] == 0.0
    ends = [float(open_store(str(f / "train.zarr")).attrs["run_end_s"]) for f in (first, second)]
    assert ends[1] == pytest.approx(ends[0] + 2 * (0.2 + 0.1))  # one more block of 2 stimuli
    assert np.isfinite(table.ratio_after_training).all()
    assert table.ratio_after_training[0] != table.ratio_after_training[1]

    def no_simulation(*args, **kwargs):
        raise AssertionError("a finished stage ran again")

    monkeypatch.setattr(var, "run_stage", no_simulation)
    again = var.chain_variants(_section(), POINT, variants, tmp_path)
    np.testing.assert_array_equal(again.ratio_after_training, table.ratio_after_training)
    with pytest.raises(ParameterError, match="holds the chain of other settings"):
        var.chain_variants(_section(), POINT, {"as configured": {"network.calcium.noise": False}},
                           tmp_path)
