"""Behaviour tests for two bugs that only golden hashes used to catch (issue 26, item 7).

* A stimulus switches its assembly's external drive on at exactly its scheduled step and off at
  exactly its end step (not one step late or early).
* iSTDP never takes an I->E weight above ``j_i_to_e_max_pf``, also when an E spike potentiates it
  (the E-spike branch of the rule, which an unclipped version would push over the bound).

Both are checked by what the engine does, not by comparing to stored numbers, so they still fail
after the hashes are regenerated. ``benchmarks/mutations.py`` injects these bugs and checks that
these tests catch them.
"""

from __future__ import annotations

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation, spike_arrays
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.assemblies.stimulus import StimulusSchedule

RECORD = RecordSpec(rate_bin_ms=0.1)
STATIC = {"ee_rule": "none", "istdp": False, "normalisation": False, "start_s": 0.0}


def _params(**overrides) -> NetworkParams:
    base = {"connectivity": {"n_neurons": 200, "size_scaling": "none"},
            "guard": {"enabled": False}, "plasticity": dict(STATIC)}
    for group, values in overrides.items():
        base.setdefault(group, {}).update(values)
    return NetworkParams.from_dict(base)


def _members(sim: Simulation, group: int) -> np.ndarray:
    return np.asarray(sim.group_members[sim.group_ptr[group]:sim.group_ptr[group + 1]])


def _state_after(steps: int, schedule: StimulusSchedule | None) -> tuple[Simulation, dict]:
    sim = Simulation.build(_params(external={"rate_to_e_hz": 0.0, "rate_to_i_hz": 0.0}), 1)
    sim.run(steps * 1e-4, schedule, RECORD, progress=False)
    state = sim.state_dataset()
    return sim, {name: np.asarray(state[name].values) for name in ("xr_exc", "v_mv")}


def test_a_stimulus_drives_its_members_from_exactly_its_onset_step():
    """No other drive at all: the members' E-conductance rise variable is untouched until the
    stimulus's first step. A run whose last step is the onset step must already carry its kicks
    (the drive is restored after each run, so the kicks are what a run leaves behind)."""
    for onset in (0, 1, 37):
        schedule = StimulusSchedule(target=[0], t_on_s=[onset * 1e-4],
                                    t_off_s=[(onset + 1) * 1e-4], rate_hz=[1e7])
        sim, stimulated = _state_after(onset + 1, schedule)
        _, reference = _state_after(onset + 1, None)
        members = _members(sim, 0)
        assert members.size > 0
        others = np.setdiff1d(np.arange(sim.neurons.v_mv.size), members)
        np.testing.assert_array_equal(stimulated["xr_exc"][others], reference["xr_exc"][others])
        assert np.all(stimulated["xr_exc"][members] > reference["xr_exc"][members]), (
            f"onset at step {onset}: the members got no drive in that step (late onset)")


def test_a_stimulus_stops_exactly_at_its_end_step():
    """A stimulus of one step and one of two steps differ in what their second step leaves."""
    one = StimulusSchedule(target=[0], t_on_s=[0.0005], t_off_s=[0.0006], rate_hz=[1e7])
    two = StimulusSchedule(target=[0], t_on_s=[0.0005], t_off_s=[0.0007], rate_hz=[1e7])
    sim, a = _state_after(7, one)
    _, b = _state_after(7, two)
    members = _members(sim, 0)
    assert np.all(b["xr_exc"][members] > a["xr_exc"][members])
    _, c = _state_after(7, StimulusSchedule(target=[0], t_on_s=[0.0005], t_off_s=[0.0006],
                                            rate_hz=[1e7]))
    np.testing.assert_array_equal(a["xr_exc"], c["xr_exc"])  # deterministic


def test_istdp_never_exceeds_its_upper_bound_at_an_e_spike():
    """I cells silent (no drive, no E->I input) but with a large presynaptic trace, E cells
    driven hard, every I->E weight starting at its upper bound: each E spike potentiates its
    incoming I->E weights by eta * y_pre > 0, which only the clip keeps at the bound."""
    j_max = 243.0
    params = _params(plasticity={"istdp": True, "start_s": 0.0, "learning_speed": 10.0},
                     connectivity={"j_i_to_e_pf": j_max, "j_i_to_e_max_pf": j_max},
                     external={"rate_to_i_hz": 0.0, "rate_to_e_hz": 30000.0})
    params = params.replace(ei_transmission=False)
    sim = Simulation.build(params, 2)
    n_exc = params.connectivity.n_exc
    weights = sim.pathways["i_to_e"].weight_pf
    assert np.all(weights == j_max)
    sim.neurons.y_trace[n_exc:] = 5.0  # as if every I cell had just fired a burst
    sim.neurons.v_mv[:n_exc] = -45.0  # above the threshold: every E cell fires within ~1 ms
    rec = sim.run(0.01, None, RECORD, progress=False)
    _, cells = spike_arrays(rec)
    assert np.sum(cells < n_exc) > 20, "the E cells did not fire"
    assert np.sum(cells >= n_exc) == 0, "the I cells fired (the test needs them silent)"
    weights = sim.pathways["i_to_e"].weight_pf
    assert weights.max() <= j_max, f"I->E weight {weights.max()} pF above the bound {j_max} pF"
    assert np.all(weights == j_max)  # at the bound, pushed up, clipped: exactly the bound
