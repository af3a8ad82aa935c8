"""Probe experiment on a tiny network: shapes, frozen plasticity, reproducibility, responses."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from homeoplastic.analysis.probe import probe_summary
from homeoplastic.assemblies.engine import Simulation
from homeoplastic.assemblies.experiments.probe import (
    ProbeSettings,
    baseline_clearance,
    frozen_params,
    probe_dataset,
    probe_simulation,
    run_probe,
    stimulated_pair_correlations,
    trial_table,
)
from homeoplastic.assemblies.params import NetworkParams, ParameterError

PARAMS = NetworkParams.from_dict({
    "connectivity": {"n_neurons": 500},
    "assemblies": {"n_assemblies": 3, "p_member": 0.1},
    "plasticity": {"start_s": 0.0},
})
# gap_s = 0 (the default before 0.5 s): this small network's members fire at ~10 Hz, where 1 kHz
# adds ~0.1 Hz; the gain curve's test below was written for these numbers
SETTINGS = ProbeSettings(n_stimuli=2, n_trials=6, rate_hz=4000.0, on_s=0.2, pre_s=0.2, post_s=0.1,
                         gap_s=0.0, gain_rates_hz=(1000.0, 8000.0), gain_n_trials=1,
                         completion_n_trials=2, step_s=0.05, max_record_cells=300)


@pytest.fixture(scope="module")
def state() -> xr.Dataset:
    sim = Simulation.build(PARAMS, 4)
    sim.run(0.3, progress=False)  # plasticity on: a state like a stage's output
    return sim.state_dataset()


@pytest.fixture(scope="module")
def probed(state):
    sim = Simulation.from_state_dataset(state, PARAMS)
    before = {name: sim.pathways[name].weight_pf.copy() for name in sim.pathways}
    ds = probe_simulation(sim, SETTINGS, seed=1)
    return ds, before, sim


def test_dataset_shapes_trial_table_and_units(probed):
    ds, _, sim = probed
    n_stim, n_exc = 2, PARAMS.connectivity.n_exc
    per_stim = SETTINGS.n_trials + 2 * SETTINGS.gain_n_trials + SETTINGS.completion_n_trials
    n_win = int((SETTINGS.pre_s + SETTINGS.on_s + SETTINGS.post_s - SETTINGS.window_s)
                / SETTINGS.step_s + 1e-9) + 1
    assert ds["counts"].dims == ("trial", "cell", "window_time")
    # window times count from stimulus onset, and say so (analyze.zarr's axes are absolute)
    for axis in ("window_time", "auc_time"):
        assert ds[axis].attrs["time_reference"] == "relative"
        assert ds[axis].min() < 0 < ds[axis].max()
    assert ds["counts"].shape == (n_stim * per_stim, SETTINGS.max_record_cells, n_win)
    assert np.unique(ds["cell"]).size == SETTINGS.max_record_cells
    assert ds["cell"].max() < n_exc
    kinds, stims = ds["trial_kind"].values, ds["trial_stimulus"].values
    for a in range(n_stim):
        assert ((kinds == "probe") & (stims == a)).sum() == SETTINGS.n_trials
        assert ((kinds == "completion") & (stims == a)).sum() == SETTINGS.completion_n_trials
    assert list(ds["strength"].values) == [0.0, 1000.0, 4000.0, 8000.0]
    # completion trials drive an extra group holding exactly the stored half of the assembly
    for a in range(n_stim):
        groups = np.unique(ds["trial_group"].values[(kinds == "completion") & (stims == a)])
        assert groups.size == 1 and groups[0] >= sim.n_assemblies
        half = np.flatnonzero(ds["stimulated_half"].values[:, a])
        np.testing.assert_array_equal(sim.assembly_members(int(groups[0])), half)
        members = np.flatnonzero(ds["membership"].values[:, a])
        assert np.isin(half, members).all() and abs(half.size - members.size / 2) <= 0.5
    onsets = ds["trial_onset_s"].values
    np.testing.assert_allclose(np.diff(onsets), SETTINGS.period_s)
    assert onsets[0] == pytest.approx(0.3 + SETTINGS.gap_s + SETTINGS.pre_s)
    for name, var in {**ds.data_vars, **ds.coords}.items():
        assert "units" in var.attrs, name
    assert ds.attrs["status"] == "completed"


def test_plasticity_is_frozen_bit_for_bit(probed, state):
    ds, before, sim = probed
    for name, weights in before.items():
        np.testing.assert_array_equal(sim.pathways[name].weight_pf, weights, err_msg=name)
    assert ds.attrs["max_weight_change_pf"] == 0.0
    # the same protocol with plasticity on does change weights (the check can fail)
    short = ProbeSettings(**{**SETTINGS.__dict__, "n_trials": 2, "gain_n_trials": 0,
                             "completion_n_trials": 0, "freeze_plasticity": False})
    plastic = probe_simulation(Simulation.from_state_dataset(state, PARAMS), short, seed=1)
    assert plastic.attrs["max_weight_change_pf"] > 0.0


def test_same_seed_same_result_other_seed_other_order(state, probed):
    ds, _, _ = probed
    again = run_probe(state, PARAMS, SETTINGS, seed=1)
    xr.testing.assert_identical(ds.drop_attrs(), again.drop_attrs())
    other = run_probe(state, PARAMS, SETTINGS, seed=2)
    assert not np.array_equal(other["trial_kind"].values, ds["trial_kind"].values) or \
        not np.array_equal(other["trial_stimulus"].values, ds["trial_stimulus"].values)


def test_stimulated_members_respond_above_baseline(probed):
    ds, _, _ = probed
    t = ds["window_time"].values
    w = SETTINGS.window_s
    during = (t - w / 2 >= 0) & (t + w / 2 <= SETTINGS.on_s + 1e-9)
    baseline = t + w / 2 <= 1e-9
    probe = ds["trial_kind"].values == "probe"
    counts = ds["counts"].values[probe]
    stim = ds["trial_stimulus"].values[probe]
    member = ds["membership"].sel(exc_cell=ds["cell"]).values[:, stim].T  # (trial, cell)
    # per (trial, member cell): mean count during the stimulus minus in the baseline
    diff = (counts[:, :, during].mean(axis=2) - counts[:, :, baseline].mean(axis=2))[member]
    assert diff.mean() > 4 * diff.std(ddof=1) / np.sqrt(diff.size)
    gain = ds["gain_rate_members_hz"].values
    assert np.all(np.diff(gain) > 0)  # stronger stimuli, higher member rates
    assert gain[-1] > ds["gain_rate_nonmembers_hz"].values[-1] + 5.0
    assert float(ds["auc_population"].sel(auc_time=0.1, method="nearest").mean()) > 0.8


def test_summary_and_frozen_params(probed):
    ds, _, _ = probed
    summary = probe_summary(ds, ds)
    assert summary["auc_population_before"] == summary["auc_population_after"] > 0.7
    assert np.isfinite(summary["fano_drop_after"])
    assert all(isinstance(v, float) for v in summary.values())
    frozen = frozen_params(PARAMS).plasticity
    assert (frozen.ee_rule, frozen.istdp, frozen.normalisation) == ("none", False, False)


def test_bad_settings_name_the_key():
    with pytest.raises(ParameterError, match="pre_s"):
        ProbeSettings(pre_s=0.1).validate(0.1)
    with pytest.raises(ParameterError, match="on_s"):
        ProbeSettings(on_s=0.25005).validate(0.1)
    with pytest.raises(ParameterError, match="unknown"):
        ProbeSettings.from_dict({"n_trails": 3})


def test_figure_is_written(probed, tmp_path):
    from homeoplastic.figures.probe import plot_probe

    ds, _, _ = probed
    fig = plot_probe(ds, ds, tmp_path / "probe.png")
    assert (tmp_path / "probe.png").stat().st_size > 10_000
    for ax in fig.axes:
        assert "[" in ax.get_ylabel()


def test_baselines_lie_clear_of_the_previous_stimulus_and_an_overlap_is_refused(probed):
    """Every baseline starts post_s + gap_s after the previous stimulus ended (what the store
    states); a trial table whose baseline reaches into the previous stimulus is refused, since its
    "spontaneous" windows would count evoked spikes."""
    ds, _, _ = probed
    assert ds.attrs["baseline_clear_s"] == pytest.approx(SETTINGS.post_s + SETTINGS.gap_s)
    onsets = np.array([1.0, 1.0 + SETTINGS.on_s + SETTINGS.pre_s])  # baseline touches the offset
    assert baseline_clearance(onsets, SETTINGS.pre_s, SETTINGS.on_s) == pytest.approx(0.0)
    assert baseline_clearance(onsets - [0.0, 0.05], SETTINGS.pre_s, SETTINGS.on_s) \
        == pytest.approx(-0.05)
    assert baseline_clearance(onsets[:1], SETTINGS.pre_s, SETTINGS.on_s) == np.inf
    n = 4
    table = {"kind": np.array(["probe"] * n), "stimulus": np.array([0, 1, 0, 1]),
             "group": np.array([0, 1, 0, 1]), "strength_hz": np.full(n, SETTINGS.rate_hz),
             "onset_s": 1.0 + np.arange(n) * (SETTINGS.on_s + SETTINGS.pre_s - 0.05)}
    membership = np.zeros((20, 2), bool)
    membership[:5, 0] = membership[5:10, 1] = True
    with pytest.raises(ValueError, match="baseline"):
        probe_dataset(np.array([1.05]), np.array([0]), table=table, membership=membership,
                      halves=np.zeros((20, 2), bool), stimuli=np.arange(2),
                      recorded=np.arange(20), settings=SETTINGS, rng=np.random.default_rng(0))


def test_pair_counts_are_the_closed_form_of_a_known_membership():
    """Disjoint assemblies of 4, 5 and 6 recorded cells and 5 cells in none: C(4,2) + C(5,2) +
    C(6,2) = 31 same-assembly pairs and 4*5 + 4*6 + 5*6 = 74 different-assembly pairs, all of
    them in the means when no cell is silent; the trials used are stated."""
    sizes, n_out, n_per = (4, 5, 6), 5, 10
    n_exc = sum(sizes) + n_out
    membership = np.zeros((n_exc, len(sizes)), bool)
    start = 0
    for a, m in enumerate(sizes):
        membership[start:start + m, a] = True
        start += m
    s = ProbeSettings(n_stimuli=3, n_trials=n_per, on_s=0.2, pre_s=0.2, post_s=0.1, gap_s=0.0,
                      gain_n_trials=0, completion_n_trials=0, step_s=0.05)
    rng = np.random.default_rng(3)
    table = trial_table(s, np.arange(3), np.zeros(3, np.int64), rng, 0.1)
    # every cell fires at 200 Hz throughout: no silent cell in any window
    end = table["onset_s"].max() + s.on_s + s.post_s
    counts = [rng.poisson(200 * end) for _ in range(n_exc)]
    times = np.concatenate([np.sort(rng.uniform(0, end, c)) for c in counts])
    cells = np.repeat(np.arange(n_exc), counts)
    ds = probe_dataset(times, cells, table=table, membership=membership,
                       halves=np.zeros((n_exc, 3), bool), stimuli=np.arange(3),
                       recorded=np.arange(n_exc), settings=s, rng=rng)
    assert ds.attrs["n_same_pairs_possible"] == 6 + 10 + 15
    assert ds.attrs["n_different_pairs_possible"] == 20 + 24 + 30
    assert list(ds["corr_n_same_pairs"].values) == [31, 31]
    assert list(ds["corr_n_different_pairs"].values) == [74, 74]
    assert ds.attrs["n_probe_trials"] == 3 * n_per and ds.attrs["n_probe_trials_per_stimulus"] == n_per
    summary = probe_summary(ds, ds)
    assert summary["n_same_pairs_spont_after"] == 31 and summary["n_probe_trials_before"] == 30
    assert summary["corr_same_stim_minus_spont_after"] == pytest.approx(
        summary["corr_same_stim_after"] - summary["corr_same_spont_after"])


def test_probing_given_cell_sets_stimulates_those_sets_not_the_assemblies(state):
    """The remap probes pass the new stimulus set: the stored membership is that set and the
    probe trials drive engine groups holding exactly its cells."""
    sim = Simulation.from_state_dataset(state, PARAMS)
    rng = np.random.default_rng(11)
    n_exc = PARAMS.connectivity.n_exc
    sets = [np.sort(rng.choice(n_exc, 30, replace=False)) for _ in range(3)]
    original = [sim.assembly_members(a) for a in range(sim.n_assemblies)]
    ds = probe_simulation(sim, SETTINGS, seed=1, assemblies=sets)
    for a, cells in enumerate(sets):
        np.testing.assert_array_equal(np.flatnonzero(ds["membership"].values[:, a]), cells)
        assert not np.array_equal(cells, original[a])
    kinds, stims, groups = (ds[k].values for k in ("trial_kind", "trial_stimulus", "trial_group"))
    for a in range(SETTINGS.n_stimuli):
        driven = np.unique(groups[(kinds == "probe") & (stims == a)])
        assert driven.size == 1 and driven[0] >= len(original)
        np.testing.assert_array_equal(sim.assembly_members(int(driven[0])), sets[a])


def test_stimulated_pair_correlations_see_a_shared_baseline_fluctuation_and_its_suppression():
    """Members of the stimulated assembly share a trial-to-trial fluctuation in the baseline and
    fire independently during the stimulus (Fig. 9c's suppression): the baseline epoch's mean
    correlation is high, the stimulus epoch's near 0, and the pairs are C(m, 2) times the windows
    tiling each epoch (pre_s / window_s before; (on_s - window_s) / window_s during)."""
    s = ProbeSettings(n_stimuli=1, n_trials=40, on_s=0.4, pre_s=0.3, post_s=0.1, gap_s=0.5,
                      window_s=0.1, gain_n_trials=0, completion_n_trials=0)
    rng = np.random.default_rng(5)
    m, n_exc, n_trials = 8, 12, 40
    onset = 1.0 + np.arange(n_trials) * s.period_s
    times, cells = [], []
    for t0 in onset:
        for w in range(3):  # baseline windows: one shared count for every member
            shared = rng.poisson(3.0)
            for c in range(m):
                times.append(t0 - s.pre_s + w * 0.1 + rng.uniform(0.01, 0.09, shared))
                cells.append(np.full(shared, c))
        for c in range(n_exc):  # stimulus: independent Poisson counts
            k = rng.poisson(0.4 * 30.0)
            times.append(t0 + rng.uniform(0.0, 0.4, k))
            cells.append(np.full(k, c))
    times, cells = np.concatenate(times), np.concatenate(cells)
    membership = np.zeros((n_exc, 1), bool)
    membership[:m, 0] = True
    corr, n_pairs = stimulated_pair_correlations(
        times, cells, n_exc, onset, [np.arange(n_trials)], np.arange(1), membership,
        np.arange(n_exc), s)
    assert corr[0, 0] > 0.99 and abs(corr[0, 1]) < 0.1
    assert list(n_pairs[0]) == [28 * 3, 28 * 3]
