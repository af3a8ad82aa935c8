"""The sweep core: run ids that survive growth, projections onto what a stage reads, seeds as
replicates (mean and Student-t CI)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

from homeoplastic.assemblies.stages import STAGES, run_settings, stage_reads
from homeoplastic.assemblies.sweep import AXES, axis_unit, sweep_point, sweep_points
from homeoplastic.parameters import ParameterError
from homeoplastic.stats.replicates import over_seeds
from homeoplastic.sweep import (
    MAX_ID_LENGTH,
    Axes,
    dim_names,
    expand,
    format_value,
    id_regex,
    run_id_of,
    same_value,
)

SWEEP = {"n_neurons": [500], "rule": ["voltage"], "learning_speed": [1.0], "seed": [1, 2]}
KEY = "network.istdp.target_rate_hz"


def test_values_are_spelled_stably():
    assert [format_value(v) for v in (4.0, 4, 0.001, 1e-7, True, "full", [1.0, 2.5])] == \
        ["4", "4", "0.001", "1e-07", "true", "full", "1,2.5"]
    with pytest.raises(ParameterError, match="cannot name a run folder"):
        format_value("a/b")
    assert same_value(3, 3.0) and not same_value(3.0, 3.1) and not same_value(True, 1)
    assert not same_value(float("nan"), float("nan"))


def test_an_axis_at_its_default_stays_out_of_the_id_and_others_follow_the_named_axes():
    ids = [p.run_id for p in sweep_points({"sweep": {**SWEEP, KEY: [2.0, 3.0, 5.0]}})]
    base = "n_neurons~500_rule~voltage_learning_speed~1_seed~{}"
    assert ids == [base.format(1) + f"_{KEY}~2", base.format(1), base.format(1) + f"_{KEY}~5",
                   base.format(2) + f"_{KEY}~2", base.format(2), base.format(2) + f"_{KEY}~5"]
    # without the axis the same runs have the same ids: adding it reuses them
    plain = [p.run_id for p in sweep_points({"sweep": SWEEP})]
    assert set(plain) <= set(ids)


def test_the_default_is_what_the_config_runs_without_the_axis():
    section = {"sweep": {**SWEEP, KEY: [2.0, 5.0]}, "network": {"istdp": {"target_rate_hz": 5.0}}}
    ids = [p.run_id for p in sweep_points(section)]
    assert sum(KEY in i for i in ids) == 2  # 5 Hz is today's setting here, 2 Hz is not
    rule_protocol = {"sweep": {**SWEEP, "protocol.spontaneous_s": [0.6, 1.0]},
                     "rule_protocol": {"voltage": {"spontaneous_s": 1.0}}}
    ids = [p.run_id for p in sweep_points(rule_protocol)]
    assert [i.endswith("protocol.spontaneous_s~0.6") for i in ids] == [True, False, True, False]


def test_long_ids_become_a_prefix_and_a_stable_hash_and_never_collide():
    values = {f"network.group{i}.key_{i}": i * 1.5 for i in range(20)}
    first, again = run_id_of(values), run_id_of(dict(values))
    assert first == again and len(first) <= MAX_ID_LENGTH and "_h~" in first
    other = run_id_of({**values, "network.group19.key_19": 0.5})
    assert other != first and other.split("_h~")[0] == first.split("_h~")[0]


def test_wildcard_constraints_escape_regex_characters():
    ids = ["n~1_p~2.5", "n~1_p~2x5"]
    pattern = re.compile(f"^(?:{id_regex(ids[:1])})$")
    assert pattern.match(ids[0]) and not pattern.match(ids[1])


def test_extra_blocks_and_aliases():
    axes = Axes({"size": "model.size", "seed": "seed"}, ("size", "seed"))
    section = {"sweep": {"size": [1], "seed": [0]}, "extra_sweeps": [{"model.theta": [1, 2]}]}
    points = expand(section, axes, "m", lambda named: {"model.theta": 1})
    assert [p.run_id for p in points] == ["size~1_seed~0", "size~1_seed~0_model.theta~2"]
    with pytest.raises(ParameterError, match="given twice"):
        expand({"sweep": {"size": [1], "model.size": [2], "seed": [0]}}, axes, "m")
    with pytest.raises(ParameterError, match=r"m.sweep.seed is missing"):
        expand({"sweep": {"size": [1]}}, axes, "m")
    with pytest.raises(ParameterError, match="finite"):
        expand({"sweep": {"size": [1], "seed": [0], "model.theta": [float("nan")]}}, axes, "m",
               lambda named: {"model.theta": 1})


def test_an_unknown_settings_key_is_named():
    with pytest.raises(ParameterError, match=r"assemblies.sweep.network.istdp.target_rate\b"):
        sweep_points({"sweep": {**SWEEP, "network.istdp.target_rate": [1.0]}})
    with pytest.raises(ParameterError, match="unknown sweep axis"):
        sweep_points({"sweep": {**SWEEP, "resources.mem_mb_base": [1]}})


def test_a_stage_store_depends_only_on_the_axes_it_or_its_inputs_read():
    assert all(stage_reads(stage, KEY) for stage in STAGES)
    spont = "protocol.spontaneous_s"
    assert not stage_reads("simulate", spont) and not stage_reads("train", spont)
    assert stage_reads("spontaneous_recurrent", spont) and stage_reads("perturb_recurrent", spont)
    assert not stage_reads("probe_before", spont) and stage_reads("analyze", spont)
    assert stage_reads("probe_after", spont)  # it probes the network after its spontaneous phase
    assert stage_reads("remap", "protocol.repetitions")  # through train
    point = sweep_point(500, "voltage", 1.0, 1, **{spont: 0.3})
    run = run_settings({"protocol": {"spontaneous_s": 0.6}}, point)
    assert run.protocol.spontaneous_s == 0.3
    assert run.store_id("train") == "n_neurons~500_rule~voltage_learning_speed~1_seed~1"
    assert run.store_id("spontaneous_recurrent").endswith(f"_{spont}~0.3")


def test_units_of_axes_come_from_their_declarations():
    assert axis_unit(KEY) == "Hz" and axis_unit("n_neurons") == "cells"
    assert axis_unit("protocol.spontaneous_s") == "s" and axis_unit("seed") == "1"
    assert AXES.canonical("learning_speed", "x") == "network.plasticity.learning_speed"
    assert dim_names(["network.exc.tau_m_ms", "network.inh.tau_m_ms", KEY]) == {
        "network.exc.tau_m_ms": "exc.tau_m_ms", "network.inh.tau_m_ms": "inh.tau_m_ms",
        KEY: "target_rate_hz"}


def test_over_seeds_is_the_student_t_interval_and_skips_missing_runs():
    da = xr.DataArray([[1.0, 2.0, 3.0, np.nan], [4.0, np.nan, np.nan, np.nan]],
                      dims=("x", "seed"), attrs={"units": "Hz"})
    out = over_seeds(da)
    half = 4.302652729911275 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n), sd = 1
    np.testing.assert_allclose(out["mean"].values, [2.0, 4.0])
    np.testing.assert_allclose(out["ci_low"].values[0], 2.0 - half)
    np.testing.assert_allclose(out["ci_high"].values[0], 2.0 + half)
    assert list(out["n_seeds"].values) == [3, 1]
    assert np.isnan(out["ci_low"].values[1])  # one seed: no interval
    assert out["mean"].attrs["units"] == "Hz"
