"""Engine behaviour: determinism, exact resume, the run guard, parameter errors, stores."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from homeoplastic.assemblies.engine import PATHWAYS, RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.runs import write_run_store
from homeoplastic.assemblies.stimulus import StimulusSchedule, training_schedule
from homeoplastic.store import is_complete, open_store

SMALL = {"connectivity": {"n_neurons": 400}, "plasticity": {"start_s": 0.1}}
RECORD = RecordSpec(rate_bin_ms=5.0, weight_interval_s=0.1, chunk_s=0.05)


def _small(**changes) -> NetworkParams:
    return NetworkParams.from_dict(SMALL).replace(**changes) if changes else \
        NetworkParams.from_dict(SMALL)


def _schedule() -> StimulusSchedule:
    return StimulusSchedule(target=[0, 3], t_on_s=[0.1, 0.3], t_off_s=[0.2, 0.4],
                            rate_hz=[8000.0, 8000.0])


def _final(sim: Simulation) -> dict[str, np.ndarray]:
    return {name: np.asarray(sim.state_dataset()[name].values)
            for name in sim.state_dataset().data_vars}


def _assert_same_state(a: Simulation, b: Simulation) -> None:
    fa, fb = _final(a), _final(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        np.testing.assert_array_equal(fa[name], fb[name], err_msg=name)


def test_same_seed_same_result_bit_for_bit_and_seeds_differ():
    recs = []
    sims = []
    for seed in (5, 5, 6):
        sim = Simulation.build(_small(), seed)
        recs.append(sim.run(0.5, _schedule(), RECORD, progress=False))
        sims.append(sim)
    _assert_same_state(sims[0], sims[1])
    np.testing.assert_array_equal(np.concatenate(recs[0].spike_cells),
                                  np.concatenate(recs[1].spike_cells))
    assert not np.array_equal(sims[0].neurons.v_mv, sims[2].neurons.v_mv)


def test_chunk_size_does_not_change_the_result():
    a = Simulation.build(_small(), 2)
    b = Simulation.build(_small(), 2)
    a.run(0.4, _schedule(), RECORD, progress=False)
    b.run(0.4, _schedule(), RecordSpec(rate_bin_ms=5.0, weight_interval_s=0.1, chunk_s=0.0137),
          progress=False)
    _assert_same_state(a, b)


def test_resume_from_checkpoint_is_bit_identical(tmp_path, monkeypatch):
    reference = Simulation.build(_small(), 9)
    ref_rec = reference.run(0.6, _schedule(), RECORD, progress=False)

    ckpt = tmp_path / "run.ckpt.zarr"
    interrupted = Simulation.build(_small(), 9)
    saves = {"n": 0}
    original = Simulation.save_checkpoint

    def save_then_die(self, path, rec, fingerprint):
        original(self, path, rec, fingerprint)
        saves["n"] += 1
        if saves["n"] == 2:
            raise KeyboardInterrupt  # the job is killed right after its second checkpoint

    monkeypatch.setattr(Simulation, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        interrupted.run(0.6, _schedule(), RECORD, progress=False, checkpoint_path=ckpt,
                        checkpoint_every_s=0.15)
    monkeypatch.setattr(Simulation, "save_checkpoint", original)
    assert is_complete(ckpt)

    resumed = Simulation.build(_small(), 9)  # a fresh process would start like this
    held_w = resumed.pathways["e_to_e"].weight_pf  # references a caller took before the run
    held_v = resumed.neurons.v_mv
    rec = resumed.run(0.6, _schedule(), RECORD, progress=False, checkpoint_path=ckpt,
                      checkpoint_every_s=0.15)
    assert rec.status == "completed"
    _assert_same_state(reference, resumed)
    # the resume wrote into the simulation's own arrays: the references see the resumed state
    assert held_w is resumed.pathways["e_to_e"].weight_pf and held_v is resumed.neurons.v_mv
    np.testing.assert_array_equal(held_w, reference.pathways["e_to_e"].weight_pf)
    np.testing.assert_array_equal(rec.counts_groups, ref_rec.counts_groups)
    np.testing.assert_array_equal(np.concatenate(rec.spike_steps),
                                  np.concatenate(ref_rec.spike_steps))
    assert rec.snap_w_within == ref_rec.snap_w_within


def test_checkpoint_of_another_run_is_refused(tmp_path):
    ckpt = tmp_path / "c.zarr"
    sim = Simulation.build(_small(), 1)
    rec = sim.run(0.1, None, RECORD, progress=False)
    sim.save_checkpoint(ckpt, rec, "not-this-run")
    with pytest.raises(ParameterError, match="different run"):
        Simulation.build(_small(), 1).run(0.2, None, RECORD, progress=False,
                                          checkpoint_path=ckpt, checkpoint_every_s=0.1)


def test_state_round_trip_continues_identically(tmp_path):
    a = Simulation.build(_small(), 4)
    a.run(0.2, None, RECORD, progress=False)
    state = a.state_dataset()
    path = tmp_path / "state.zarr"
    state.to_zarr(path, mode="w", zarr_format=3, consolidated=False)
    b = Simulation.from_state_dataset(xr.open_zarr(path, consolidated=False).load())
    a.run(0.2, _schedule_shifted(), RECORD, progress=False)
    b.run(0.2, _schedule_shifted(), RECORD, progress=False)
    _assert_same_state(a, b)


def _schedule_shifted() -> StimulusSchedule:
    return StimulusSchedule(target=[1], t_on_s=[0.05], t_off_s=[0.15], rate_hz=[8000.0])


def test_stimulus_raises_members_rate_only_while_on():
    params = _small(**{"plasticity.ee_rule": "none", "plasticity.istdp": False,
                       "connectivity.n_neurons": 2000})
    sim = Simulation.build(params, 3)
    sched = StimulusSchedule(target=[0], t_on_s=[0.1], t_off_s=[0.3], rate_hz=[8000.0])
    rec = sim.run(0.4, sched, RecordSpec(rate_bin_ms=100.0, weight_interval_s=0.0), progress=False)
    members = sim.assembly_members(0)
    counts = rec.counts_groups[:, 0] / members.size
    assert counts[1] > 3 * counts[0] and counts[2] > 3 * counts[3]
    assert np.all(sim.neurons.ext_rate_hz[: sim.params.connectivity.n_exc] == 4500.0)


def test_guard_stops_a_runaway_network_and_the_store_says_why(tmp_path):
    # tripled drive without iSTDP: E rates far above a 10 Hz band
    params = NetworkParams.from_dict({
        "connectivity": {"n_neurons": 1000},
        "external": {"rate_to_e_hz": 13500.0},
        "plasticity": {"istdp": False},
        "guard": {"rate_max_hz": 10.0, "start_s": 0.05, "tau_s": 0.02},
    })
    sim = Simulation.build(params, 1)
    rec = sim.run(1.0, None, RECORD, progress=False)
    assert rec.status == "aborted"
    assert rec.abort_reason["checker"] == "rate_band"
    assert rec.abort_reason["value"] > 10.0
    assert 0.05 <= rec.abort_reason["sim_time_s"] < 1.0
    path = tmp_path / "aborted.zarr"
    write_run_store(path, sim, rec, stage="test")
    ds = open_store(path)
    assert ds.attrs["status"] == "aborted"
    assert json.loads(ds.attrs["abort_reason_json"])["checker"] == "rate_band"
    assert ds.attrs["sim_seconds"] == pytest.approx(rec.abort_reason["sim_time_s"])


def test_guard_catches_silence():
    params = NetworkParams.from_dict({
        "connectivity": {"n_neurons": 400},
        "external": {"rate_to_e_hz": 0.0, "rate_to_i_hz": 0.0},
        "guard": {"rate_min_hz": 0.5, "start_s": 0.1, "tau_s": 0.02},
    })
    rec = Simulation.build(params, 1).run(1.0, None, RECORD, progress=False)
    assert rec.status == "aborted" and rec.abort_reason["value"] < 0.5


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"dt_ms": -0.1}, "dt_ms"),
        ({"exc.tau_m_ms": 0.0}, "exc.tau_m_ms"),
        ({"external.rate_to_e_hz": -5.0}, "external.rate_to_e_hz"),
        ({"plasticity.ee_rule": "hebbian"}, "ee_rule"),
        ({"plasticity.normalisation_interval_ms": 20.05}, "normalisation_interval_ms"),
        ({"istdp.tau_y_ms": -1.0}, "istdp.tau_y_ms"),
        ({"connectivity.p_connect": 1.5}, "p_connect"),
        ({"connectivity.j_e_to_e_pf": 30.0}, "j_e_to_e_pf"),
    ],
)
def test_bad_parameters_name_the_parameter(changes, needle):
    with pytest.raises(ParameterError, match=needle.replace(".", r"\.")):
        NetworkParams().replace(**changes)


def test_unknown_parameter_is_named():
    with pytest.raises(ParameterError, match="tau_mem"):
        NetworkParams.from_dict({"exc": {"tau_mem": 10.0}})


def test_bad_protocols_are_refused_before_any_compute():
    sim = Simulation.build(_small(), 1)
    clock = sim.clock.copy()
    with pytest.raises(ParameterError, match="past the run's end"):
        sim.run(0.5, StimulusSchedule([0], [0.4], [0.6], [8000.0]), RECORD, progress=False)
    with pytest.raises(ParameterError, match="out of range"):
        sim.run(0.5, StimulusSchedule([25], [0.1], [0.2], [8000.0]), RECORD, progress=False)
    with pytest.raises(ParameterError, match="multiple of dt"):
        sim.run(0.50005, None, RECORD, progress=False)
    with pytest.raises(ParameterError, match="multiples of dt"):
        sim.run(0.5, StimulusSchedule([0], [0.10004], [0.2], [8000.0]), RECORD, progress=False)
    with pytest.raises(ParameterError, match="rate_hz"):
        sim.run(0.5, StimulusSchedule([0], [0.1], [0.2], [-8000.0]), RECORD, progress=False)
    np.testing.assert_array_equal(sim.clock, clock)  # nothing ran


def test_training_schedule_has_the_paper_shape():
    sched = training_schedule(20, 3, rng=np.random.default_rng(0))
    assert len(sched) == 60
    assert sched.end_s == pytest.approx(59 * 4.0 + 1.0)
    for block in range(3):
        assert sorted(sched.target[block * 20:(block + 1) * 20]) == list(range(20))
    assert np.all(sched.target[1:] != sched.target[:-1])  # no immediate repeats
    np.testing.assert_allclose(sched.t_off_s - sched.t_on_s, 1.0)


def test_store_round_trip_keeps_units_attrs_and_provenance(tmp_path):
    sim = Simulation.build(_small(), 2)
    rec = sim.run(0.5, _schedule(), RECORD, progress=False)
    path = tmp_path / "run.zarr"
    write_run_store(path, sim, rec, stage="test", sweep={"n_neurons": 400, "seed": 2})
    ds = xr.open_zarr(path, consolidated=False)
    assert ds.attrs["stage"] == "test" and ds.attrs["seed"] == 2
    assert json.loads(ds.attrs["sweep_json"]) == {"n_neurons": 400, "seed": 2}
    assert "package_version" in ds.attrs and ds.attrs["store_complete"]
    for name in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[name].attrs, name
    assert ds.time.attrs["units"] == "s"
    assert float(ds.rate_exc_hz.mean()) > 0
    spikes = xr.open_zarr(path, group="spikes", consolidated=False)
    assert spikes.spike_step.size == sum(s.size for s in rec.spike_steps)
    restored = Simulation.from_state_dataset(open_store(path, group="state").load())
    _assert_same_state(sim, restored)


def test_size_scaling_keeps_mean_input():
    for n in (1000, 5000, 20000):
        c = NetworkParams().replace(**{"connectivity.n_neurons": n}).connectivity
        k_exc = c.effective_p_connect * c.n_exc
        assert k_exc * c.j_e_to_e_pf * c.weight_scale == pytest.approx(800 * 2.86)


def test_stale_checkpoint_can_be_discarded_instead_of_refused(tmp_path, capsys):
    """The workflow reruns a stage after an upstream change: the old checkpoint must not block it."""
    ckpt = tmp_path / "c.zarr"
    sim = Simulation.build(_small(), 1)
    rec = sim.run(0.1, None, RECORD, progress=False)
    sim.save_checkpoint(ckpt, rec, "not-this-run")
    fresh = Simulation.build(_small(), 1)
    rec = fresh.run(0.2, None, RECORD, progress=False, checkpoint_path=ckpt,
                    checkpoint_every_s=0.1, stale_checkpoint="restart")
    assert rec.status == "completed" and rec.steps_done == 2000
    assert "discarding checkpoint" in capsys.readouterr().err
    reference = Simulation.build(_small(), 1)
    reference.run(0.2, None, RECORD, progress=False)
    _assert_same_state(fresh, reference)


def test_cli_refuses_networks_below_the_workflow_minimum(capsys):
    from homeoplastic.assemblies.sweep import MIN_NEURONS
    from homeoplastic.cli import main

    assert main(["simulate", "--n-neurons", str(MIN_NEURONS - 50), "--sim-seconds", "0.1",
                 "--quiet"]) == 2
    assert f">= {MIN_NEURONS}" in capsys.readouterr().err


def test_cli_run_stopped_by_the_guard_exits_nonzero_and_says_why(capsys):
    from homeoplastic.cli import main

    code = main(["simulate", "--n-neurons", "200", "--sim-seconds", "2.0", "--quiet",
                 "--rate-max-hz", "0.5", "--json"])
    err = capsys.readouterr().err
    assert code == 3
    assert "stopped early (aborted)" in err and "rate_band" in err and "[0.05, 0.5] Hz" in err


def test_schema_minimum_size_is_the_cli_minimum():
    from pathlib import Path

    import yaml

    from homeoplastic.assemblies.sweep import MIN_NEURONS

    schema = Path(__file__).resolve().parents[2] / "workflow/schemas/assemblies.schema.yaml"
    text = yaml.safe_load(schema.read_text())
    assert text["properties"]["sweep"]["properties"]["n_neurons"]["items"]["minimum"] == MIN_NEURONS


def test_profiling_times_the_phases_and_changes_nothing():
    from homeoplastic.assemblies import kernels

    plain = Simulation.build(_small(), 3)
    timed = Simulation.build(_small(), 3)
    timed.profile_cycles = np.zeros(len(kernels.PHASES), dtype=np.uint64)
    plain.run(0.4, _schedule(), RECORD, progress=False)
    timed.run(0.4, _schedule(), RECORD, progress=False)
    _assert_same_state(plain, timed)
    cycles = dict(zip(kernels.PHASES, timed.profile_cycles.tolist(), strict=True))
    for phase in ("poisson", "e_update", "i_update", "delivery", "normalisation", "ltp"):
        assert cycles[phase] > 0, phase
    assert cycles["triplet_calcium"] < cycles["e_update"]  # no triplet/calcium rule selected
    assert plain.profile_cycles.size == 0


def test_assembly_weights_equal_a_plain_loop_over_synapses_and_groups():
    """The snapshot's group-pair means, within, between and I->E means equal a plain loop over
    every synapse and both cells' groups (cells in several assemblies, in one, and in none), to
    rounding; between counts a synapse only if its cells share no assembly (two cells outside
    every assembly share none)."""
    sim = Simulation.build(_small(), 5)
    ee = sim.pathways["e_to_e"]
    w = np.random.default_rng(1).uniform(0.5, 3.0, ee.weight_pf.size)  # distinct weights
    n_asm = sim.n_assemblies
    n_g = n_asm + 1
    ptr, ids = sim.cell_group_ptr, sim.cell_group_ids
    n_groups_of = np.diff(ptr)
    assert (n_groups_of > 1).any() and (ids == n_g - 1).any()  # overlaps and "outside" exist
    ref_sum = np.zeros((n_g, n_g))
    ref_count = np.zeros((n_g, n_g))
    between_sum, between_n = 0.0, 0
    post_of = np.repeat(np.arange(ee.post_ptr.size - 1), np.diff(ee.post_ptr))
    for s, (j, i) in enumerate(zip(ee.pre_idx.tolist(), post_of.tolist(), strict=True)):
        pre_groups, post_groups = ids[ptr[j]:ptr[j + 1]].tolist(), ids[ptr[i]:ptr[i + 1]].tolist()
        for ga in pre_groups:
            for gb in post_groups:
                ref_sum[ga, gb] += w[s]
                ref_count[ga, gb] += 1
        if not set(pre_groups) & set(post_groups) - {n_asm}:
            between_sum += w[s]
            between_n += 1
    assert 0 < between_n < w.size
    ie = sim.pathways["i_to_e"]
    ie_ref = np.zeros(n_asm)
    for a in range(n_asm):
        members = sim.group_members[sim.group_ptr[a]:sim.group_ptr[a + 1]]
        onto = np.isin(ie.post_idx, members)
        ie_ref[a] = ie.weight_pf[onto].mean()
    matrix, within, between, ie_groups = sim.assembly_weights(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_allclose(matrix, ref_sum / ref_count, rtol=1e-13, equal_nan=True)
    assert within == pytest.approx(np.nanmean(np.diag(ref_sum / ref_count)[:n_asm]), rel=1e-13)
    assert between == pytest.approx(between_sum / between_n, rel=1e-13)
    np.testing.assert_allclose(ie_groups, ie_ref, rtol=1e-13)
    # the structural counts, from a pass over weights of 1, are the exact pair counts
    counts, n_between = sim._snapshot_counts
    np.testing.assert_array_equal(counts, ref_count)
    assert n_between == between_n


def test_assembly_weight_sums_are_reproducible_and_follow_the_weights():
    """Two passes over the same weights give the same bits; moving one synapse's weight moves
    exactly its (pre group, post group) sums."""
    sim = Simulation.build(_small(), 5)
    ee = sim.pathways["e_to_e"]
    w = ee.weight_pf.copy()
    first = sim.assembly_weights(w)
    again = sim.assembly_weights(w.copy())
    np.testing.assert_array_equal(first[0], again[0])
    assert first[1:3] == again[1:3]
    ptr, ids = sim.cell_group_ptr, sim.cell_group_ids
    s = int(np.flatnonzero(np.diff(ptr)[ee.pre_idx] > 1)[0])  # a synapse from a multi-group cell
    post = int(np.searchsorted(ee.post_ptr, s, side="right") - 1)
    w[s] += 100.0
    moved = sim.assembly_weights(w)[0] != first[0]
    expect = np.zeros_like(moved)
    expect[np.ix_(ids[ptr[ee.pre_idx[s]]:ptr[ee.pre_idx[s] + 1]], ids[ptr[post]:ptr[post + 1]])] = True
    np.testing.assert_array_equal(moved, expect)


@pytest.mark.parametrize("rules", [
    {"ee_rule": "none", "istdp": False, "normalisation": False},
    {"ee_rule": "none", "istdp": True, "normalisation": False},
    {"ee_rule": "voltage", "istdp": False, "normalisation": False},
])
def test_weight_snapshots_are_reused_only_when_no_rule_changes_weights(rules):
    """Without weight plasticity every snapshot of a run holds the same values, which are the
    weights' means before and after it (the run reuses its first snapshot); with iSTDP or a
    voltage rule the snapshots follow the changing weights."""
    params = NetworkParams.from_dict(
        {"connectivity": {"n_neurons": 400}, "plasticity": {"start_s": 0.0, **rules}})
    sim = Simulation.build(params, 3)
    before = sim.assembly_weights()
    w_ee = sim.pathways["e_to_e"].weight_pf.copy()
    w_ie = sim.pathways["i_to_e"].weight_pf.copy()
    rec = sim.run(0.15, record=RecordSpec(rate_bin_ms=5.0, weight_interval_s=0.05,
                                          chunk_s=0.05), progress=False)
    assert len(rec.snap_steps) == 4
    if rules["ee_rule"] == "none" and not rules["istdp"]:
        np.testing.assert_array_equal(sim.pathways["e_to_e"].weight_pf, w_ee)
        np.testing.assert_array_equal(sim.pathways["i_to_e"].weight_pf, w_ie)
        for snap in (before, sim.assembly_weights()):
            m, within, between, ie = snap
            for t in range(4):
                np.testing.assert_array_equal(rec.snap_w_groups[t], m)
                np.testing.assert_array_equal(rec.snap_w_ie_groups[t], ie)
                assert (rec.snap_w_within[t], rec.snap_w_between[t]) == (within, between)
    else:
        for t in range(1, 4):
            assert (not np.array_equal(rec.snap_w_groups[t], rec.snap_w_groups[t - 1])
                    or not np.array_equal(rec.snap_w_ie_groups[t], rec.snap_w_ie_groups[t - 1]))
        m, within, between, ie = sim.assembly_weights()  # the last snapshot is the end state
        np.testing.assert_allclose(rec.snap_w_groups[-1], m, rtol=1e-12)
        np.testing.assert_allclose(rec.snap_w_ie_groups[-1], ie, rtol=1e-12)


def test_the_step_kernel_asks_llvm_for_wide_vectors():
    """The step's loops are marked prefer-vector-width=512 (kernels/vectorwidth.py): without the
    mark they run at half width on AVX-512 machines, same bits, no test would see it otherwise.
    The mark is checked on a small function compiled here (a kernel loaded from Numba's cache
    carries no IR to inspect), and the step kernel is checked to call it."""
    import inspect

    from numba import njit

    from homeoplastic.assemblies.kernels import step
    from homeoplastic.assemblies.kernels.vectorwidth import PREFER_512, _prefer_wide_vectors

    @njit(cache=False)
    def scaled(x):
        _prefer_wide_vectors()
        return x * 2.0

    scaled(np.ones(4))
    ir = next(iter(scaled.inspect_llvm().values()))
    assert PREFER_512 in ir
    assert "_prefer_wide_vectors()" in inspect.getsource(step._advance.py_func)


def test_delivery_with_prefetch_or_copy_adds_each_weight_once_in_order():
    """``_deliver`` (kernels/delivery.py) prefetches weights ahead of the loop and
    ``_deliver_copy`` reads a presynaptic-order copy when given one; the sums either adds must be
    those of the plain loop, bit for bit, for spikes with no synapse, fewer synapses than the
    prefetch distance and many more, and with the target offset of the I population. A prefetch
    that read past the end would not fail here (it is a hint), but one that replaced the read, a
    skipped entry, a copy indexed by synapse instead of entry or a dropped offset would."""
    import inspect

    from numba import njit

    from homeoplastic.assemblies.kernels import delivery, step
    from homeoplastic.assemblies.kernels.prefetch import PREFETCH_AHEAD, _prefetch

    @njit(cache=False)
    def deliver(q0, q1, pre_syn, pre_post, weight, copy, pend, offset):
        if copy.size:
            delivery._deliver_copy(q0, q1, pre_syn, pre_post, weight, copy, pend, offset)
        else:
            delivery._deliver(q0, q1, pre_syn, pre_post, weight, pend, offset)

    @njit(cache=False)
    def hint(x, i):
        _prefetch(x, i)
        return x[i]

    rng = np.random.default_rng(3)
    n_syn, n_post, offset = 500, 40, 7
    weight = rng.random(n_syn)
    pre_syn = rng.permutation(n_syn).astype(np.int32)
    pre_post = rng.integers(0, n_post, n_syn).astype(np.uint16)
    for copy in (np.zeros(0), weight[pre_syn]):
        for q0, q1 in [(10, 10), (10, 10 + PREFETCH_AHEAD // 2), (0, n_syn), (n_syn - 3, n_syn)]:
            got = np.zeros(offset + n_post)
            deliver(q0, q1, pre_syn, pre_post, weight, copy, got, offset)
            want = np.zeros(offset + n_post)
            for q in range(q0, q1):
                want[offset + pre_post[q]] += weight[pre_syn[q]]
            np.testing.assert_array_equal(got, want)
    assert hint(weight, 5) == weight[5]
    ir = next(iter(hint.inspect_llvm().values()))
    assert "llvm.prefetch" in ir
    assert inspect.getsource(step._advance.py_func).count("_deliver_copy(") == 4


@pytest.mark.parametrize(
    "plasticity",
    [
        {"ee_rule": "none", "istdp": False, "normalisation": False},  # every pathway frozen
        {"ee_rule": "voltage", "start_s": 0.0},  # E->I and I->I frozen, E->E and I->E change
        {"ee_rule": "none", "istdp": True, "normalisation": True, "start_s": 0.0},
        {"ee_rule": "none", "istdp": True, "normalisation": False, "start_s": 0.6},
    ],
    ids=["static", "voltage", "istdp-norm", "istdp-late"],
)
def test_delivery_copies_of_frozen_pathways_change_no_spike_or_weight(monkeypatch, plasticity):
    """A run that delivers from presynaptic-order copies of its frozen pathways equals one that
    gathers every weight through the indices, bit for bit (spikes and all four weight arrays).
    The copies are taken only of pathways no rule touches during the run: a copy of I->E under
    iSTDP, or of E->E under normalisation, would deliver stale weights and change the spikes
    (the E->E rows start off their targets so that normalisation moves them; the "istdp-late"
    run starts its plasticity mid-run, so I->E must not count as frozen)."""
    from homeoplastic.assemblies.kernels import delivery

    params = NetworkParams.from_dict({
        "connectivity": {"n_neurons": 400}, "guard": {"enabled": False},
        "plasticity": plasticity,
    })
    results = []
    for min_steps in (0, 10**12):
        monkeypatch.setattr(delivery, "COPY_MIN_STEPS", min_steps)
        sim = Simulation.build(params, 5)
        # rows off their normalisation targets, so that normalisation changes E->E weights
        sim.pathways["e_to_e"].weight_pf[:] *= np.random.default_rng(0).uniform(
            0.8, 1.2, sim.pathways["e_to_e"].weight_pf.size)
        rec = sim.run(1.0, record=RecordSpec(spikes=True), progress=False)
        results.append((np.concatenate(rec.spike_steps), np.concatenate(rec.spike_cells),
                        [sim.pathways[n].weight_pf.copy() for n in PATHWAYS]))
    (steps_a, cells_a, w_a), (steps_b, cells_b, w_b) = results
    assert steps_a.size > 1000
    np.testing.assert_array_equal(steps_a, steps_b)
    np.testing.assert_array_equal(cells_a, cells_b)
    for a, b in zip(w_a, w_b, strict=True):
        np.testing.assert_array_equal(a, b)


def test_delivery_copies_are_taken_only_of_frozen_pathways_in_long_runs():
    """Which pathways get a copy: E->I and I->I always; E->E without an E->E rule and
    normalisation; I->E without iSTDP or when plasticity starts after the run; none in a run
    shorter than COPY_MIN_STEPS or for a silenced pathway; each copy is weight_pf[pre_syn]."""
    from homeoplastic.assemblies.kernels import delivery

    def sizes(plasticity, n_steps, **net):
        params = NetworkParams.from_dict({"connectivity": {"n_neurons": 200},
                                          "plasticity": plasticity, **net})
        sim = Simulation.build(params, 1)
        pws = tuple(sim.pathways[n] for n in PATHWAYS)
        copies = delivery.delivery_copies(sim.constants(run_start_step=0), pws, 0, n_steps)
        for pw, copy in zip(pws, copies, strict=True):
            if copy.size:
                np.testing.assert_array_equal(copy, pw.weight_pf[pw.pre_syn])
        return tuple(bool(c.size) for c in copies)

    long_run, short_run = delivery.COPY_MIN_STEPS, delivery.COPY_MIN_STEPS - 1
    static = {"ee_rule": "none", "istdp": False, "normalisation": False}
    assert sizes(static, long_run) == (True, True, True, True)
    assert sizes(static, short_run) == (False, False, False, False)
    assert sizes({"ee_rule": "voltage", "start_s": 0.0}, long_run) == (False, False, True, True)
    assert sizes({**static, "normalisation": True}, long_run) == (False, True, True, True)
    assert sizes({**static, "ee_rule": "triplet"}, long_run) == (False, True, True, True)
    late = {**static, "istdp": True, "start_s": 100.0}
    assert sizes(late, long_run) == (True, True, True, True)
    assert sizes({**late, "start_s": 0.5}, long_run) == (True, False, True, True)
    silent = sizes(static, long_run, ee_transmission=False, ei_transmission=False)
    assert silent == (False, True, False, True)


def test_a_run_without_a_terminal_logs_its_progress(monkeypatch, capsys):
    """Under Snakemake stderr is a log file: a long stage without checkpoints (the probes) must
    still say how far it is. With the interval at 0 every chunk but the last prints a line with
    the simulated time, the fraction done and the E rate; ``progress=False`` prints nothing, and
    the logging does not change the run."""
    from homeoplastic.assemblies import engine

    monkeypatch.setattr(engine, "PROGRESS_LOG_WALL_S", 0.0)
    record = RecordSpec(rate_bin_ms=5.0, weight_interval_s=0.0, chunk_s=0.05)
    logged = Simulation.build(_small(), 2)
    logged.run(0.2, record=record, progress=None, label="probe")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("probe: t =")]
    assert [line.split(",")[1].strip() for line in lines] == [
        "25 % of 0.2 s", "50 % of 0.2 s", "75 % of 0.2 s"]
    assert all("E rate" in line and "wall" in line for line in lines)
    quiet = Simulation.build(_small(), 2)
    quiet.run(0.2, record=record, progress=False, label="probe")
    assert "probe: t =" not in capsys.readouterr().err
    _assert_same_state(logged, quiet)
