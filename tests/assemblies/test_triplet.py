"""Triplet STDP (Pfister & Gerstner 2006) against hand computation, and engine exactness
(docs/models/assemblies.md, 7.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.stimulus import StimulusSchedule
from homeoplastic.store import is_complete

from .helpers import fire_schedule, force_spike, quiet_sim, step

# distinct, large amplitudes so that every term of the rule is visible in a single update
AMPS = {"a2_plus_pf": 0.011, "a3_plus_pf": 0.023, "a2_minus_pf": 0.017, "a3_minus_pf": 0.029}


def _triplet_sim(**sections):
    sections.setdefault("plasticity", {})
    sections["plasticity"] = {"ee_rule": "triplet", **sections["plasticity"]}
    sections.setdefault("triplet", AMPS)
    return quiet_sim(**sections)


def _pair(sim):
    """A synapse pre -> post whose reverse synapse does not exist (pre never sees post spikes)."""
    ee = sim.pathways["e_to_e"]
    pairs = set(zip(ee.pre_idx.tolist(), ee.post_idx.tolist(), strict=True))
    for s, (j, i) in enumerate(zip(ee.pre_idx.tolist(), ee.post_idx.tolist(), strict=True)):
        if (i, j) not in pairs:
            return j, i, s
    raise AssertionError("no one-way synapse")


_fire = force_spike
_run_spikes = fire_schedule


def _decay(tau_ms, dt_ms, n_steps):
    return math.exp(-dt_ms / tau_ms) ** n_steps


def test_pre_then_post_pair_potentiates_by_a2_plus_times_r1():
    sim = _triplet_sim()
    pre, post, syn = _pair(sim)
    ee, t, dt = sim.pathways["e_to_e"], sim.params.triplet, sim.params.dt_ms
    w0 = ee.weight_pf[syn]
    a, b = _run_spikes(sim, [(2, pre), (50, post)])
    # pre spike: o1_post = 0, no depression; post spike: r1_pre decayed over b - a steps, o2 = 0
    expected = w0 + _decay(t.tau_plus_ms, dt, b - a) * (t.a2_plus_pf + t.a3_plus_pf * 0.0)
    assert ee.weight_pf[syn] == pytest.approx(expected, rel=1e-12, abs=0)
    assert ee.weight_pf[syn] > w0


def test_post_then_pre_pair_depresses_by_a2_minus_times_o1():
    sim = _triplet_sim()
    pre, post, syn = _pair(sim)
    ee, t, dt = sim.pathways["e_to_e"], sim.params.triplet, sim.params.dt_ms
    w0 = ee.weight_pf[syn]
    a, b = _run_spikes(sim, [(3, post), (120, pre)])
    expected = w0 - _decay(t.tau_minus_ms, dt, b - a) * (t.a2_minus_pf + t.a3_minus_pf * 0.0)
    assert ee.weight_pf[syn] == pytest.approx(expected, rel=1e-12, abs=0)


def test_pre_post_post_triplet_uses_o2_before_its_jump():
    sim = _triplet_sim()
    pre, post, syn = _pair(sim)
    ee, t, dt = sim.pathways["e_to_e"], sim.params.triplet, sim.params.dt_ms
    w0 = ee.weight_pf[syn]
    a, b, c = _run_spikes(sim, [(1, pre), (80, post), (230, post)])
    first = _decay(t.tau_plus_ms, dt, b - a) * t.a2_plus_pf
    o2_at_c = _decay(t.tau_y_ms, dt, c - b)  # the first post spike's slow trace, before c's jump
    second = _decay(t.tau_plus_ms, dt, c - a) * (t.a2_plus_pf + t.a3_plus_pf * o2_at_c)
    assert ee.weight_pf[syn] == pytest.approx(w0 + first + second, rel=1e-12, abs=0)
    # the triplet term is what makes the second update bigger than a pure pair update
    assert second > _decay(t.tau_plus_ms, dt, c - a) * t.a2_plus_pf


def test_post_pre_pre_triplet_uses_r2_before_its_jump():
    sim = _triplet_sim()
    pre, post, syn = _pair(sim)
    ee, t, dt = sim.pathways["e_to_e"], sim.params.triplet, sim.params.dt_ms
    w0 = ee.weight_pf[syn]
    a, b, c = _run_spikes(sim, [(1, post), (90, pre), (200, pre)])
    first = _decay(t.tau_minus_ms, dt, b - a) * t.a2_minus_pf
    r2_at_c = _decay(t.tau_x_ms, dt, c - b)
    second = _decay(t.tau_minus_ms, dt, c - a) * (t.a2_minus_pf + t.a3_minus_pf * r2_at_c)
    assert ee.weight_pf[syn] == pytest.approx(w0 - first - second, rel=1e-12, abs=0)


def test_traces_are_exact_exponentials_on_the_grid_and_jump_by_one():
    sim = _triplet_sim()
    pre, post, _ = _pair(sim)
    t, dt = sim.params.triplet, sim.params.dt_ms
    a = _run_spikes(sim, [(5, pre)])[0]
    step(sim, 37)
    n = int(sim.clock[0]) - 1 - a  # decays applied after the jump
    rs = sim.rule_state
    assert rs.tri_r1[pre] == pytest.approx(_decay(t.tau_plus_ms, dt, n), rel=1e-12)
    assert rs.tri_r2[pre] == pytest.approx(_decay(t.tau_x_ms, dt, n), rel=1e-12)
    assert rs.tri_o1[pre] == pytest.approx(_decay(t.tau_minus_ms, dt, n), rel=1e-12)
    assert rs.tri_o2[pre] == pytest.approx(_decay(t.tau_y_ms, dt, n), rel=1e-12)
    assert rs.tri_r1[post] == 0.0


def test_same_step_pre_and_post_do_not_interact_and_bounds_clip():
    sim = _triplet_sim()
    pre, post, syn = _pair(sim)
    ee = sim.pathways["e_to_e"]
    w0 = ee.weight_pf[syn]
    sim.neurons.v_mv[pre] = 25.0
    sim.neurons.v_mv[post] = 25.0
    step(sim)
    assert ee.weight_pf[syn] == w0  # both fired at once: each saw the other's traces at zero
    # a huge depression is clipped at J_min
    big = _triplet_sim(triplet={**AMPS, "a2_minus_pf": 50.0})
    pre, post, syn = _pair(big)
    _run_spikes(big, [(1, post), (3, pre)])
    assert big.pathways["e_to_e"].weight_pf[syn] == big.params.connectivity.j_e_to_e_min_pf


def test_no_weight_change_before_plasticity_starts_but_traces_run():
    sim = _triplet_sim(plasticity={"start_s": 1.0})
    pre, post, syn = _pair(sim)
    ee = sim.pathways["e_to_e"]
    w0 = ee.weight_pf[syn]
    _run_spikes(sim, [(1, pre), (20, post)])
    assert ee.weight_pf[syn] == w0
    assert sim.rule_state.tri_r1[pre] > 0.0


def test_amplitudes_scale_with_learning_speed_and_network_size():
    p = NetworkParams.from_dict({"connectivity": {"n_neurons": 1000},
                                 "plasticity": {"ee_rule": "triplet", "learning_speed": 3.0}})
    sim = Simulation.build(p, 1)
    k = sim.constants(run_start_step=0)
    factor = 3.0 * 5000 / 1000
    assert k.tri_a3_plus == pytest.approx(p.triplet.a3_plus_pf * factor, rel=1e-15)
    assert k.tri_a2_minus == pytest.approx(p.triplet.a2_minus_pf * factor, rel=1e-15)
    with pytest.raises(ParameterError, match=r"triplet\.tau_x_ms"):
        NetworkParams().replace(**{"triplet.tau_x_ms": 0.0})


# ------------------------------------------------------------------ engine exactness (both rules)
RECORD = RecordSpec(rate_bin_ms=5.0, weight_interval_s=0.1, chunk_s=0.05)


def small_params(rule: str, **plasticity) -> NetworkParams:
    return NetworkParams.from_dict({
        "connectivity": {"n_neurons": 300},
        "plasticity": {"start_s": 0.05, "ee_rule": rule, **plasticity},
    })


def _schedule() -> StimulusSchedule:
    return StimulusSchedule(target=[0], t_on_s=[0.05], t_off_s=[0.15], rate_hz=[8000.0])


def _state(sim: Simulation) -> dict[str, np.ndarray]:
    ds = sim.state_dataset()
    return {name: np.asarray(ds[name].values) for name in ds.data_vars}


def assert_same_state(a: Simulation, b: Simulation) -> None:
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)


def check_determinism_and_resume(params: NetworkParams, tmp_path, monkeypatch) -> Simulation:
    """Same seed twice: identical; killed after a checkpoint and resumed: identical too."""
    duration = 0.3
    reference = Simulation.build(params, 9)
    w_start = reference.pathways["e_to_e"].weight_pf.copy()
    reference.run(duration, _schedule(), RECORD, progress=False)
    assert not np.array_equal(reference.pathways["e_to_e"].weight_pf, w_start)  # the rule acted
    again = Simulation.build(params, 9)
    again.run(duration, _schedule(), RECORD, progress=False)
    assert_same_state(reference, again)

    ckpt = tmp_path / "run.ckpt.zarr"
    interrupted = Simulation.build(params, 9)
    original = Simulation.save_checkpoint

    def save_then_die(self, path, rec, fingerprint):
        original(self, path, rec, fingerprint)
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulation, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run(duration, _schedule(), RECORD, progress=False, checkpoint_path=ckpt,
                        checkpoint_every_s=0.1)
    monkeypatch.setattr(Simulation, "save_checkpoint", original)
    assert is_complete(ckpt)
    resumed = Simulation.build(params, 9)
    rec = resumed.run(duration, _schedule(), RECORD, progress=False, checkpoint_path=ckpt,
                      checkpoint_every_s=0.1)
    assert rec.status == "completed"
    assert_same_state(reference, resumed)
    return reference


def test_triplet_run_is_deterministic_and_resumes_bit_identically(tmp_path, monkeypatch):
    sim = check_determinism_and_resume(small_params("triplet", learning_speed=20.0), tmp_path,
                                       monkeypatch)
    assert sim.rule_state.tri_o2.max() > 0.0
