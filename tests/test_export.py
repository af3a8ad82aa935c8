"""Exported spike trains are the store's: Elephant's statistics on the Neo trains equal the
project's on the same windows, an NWB round trip keeps every spike and label, the training
stimuli are the ones the train stage presented, and the command refuses to overwrite."""

from __future__ import annotations

from pathlib import Path

import elephant.statistics as elephant_statistics
import neo
import numpy as np
import pynwb
import pytest

from homeoplastic.assemblies.runs import assembly_members
from homeoplastic.assemblies.stages import run_settings, run_stage, stage_params
from homeoplastic.assemblies.sweep import sweep_point
from homeoplastic.cli import main
from homeoplastic.config import load_schema, validate
from homeoplastic.export import to_neo, to_nwb, training_schedule_of
from homeoplastic.stats.counts import fano_factor_mean_matched, spike_counts
from homeoplastic.stats.spikes import isi_cv
from homeoplastic.store import open_store

ROOT = Path(__file__).resolve().parents[1]
N = 400


@pytest.fixture(scope="module")
def train_store(tmp_path_factory) -> Path:
    """simulate (0.3 s) and train (3 assemblies x 2 presentations of 0.2 s on, 0.2 s off) at
    N = 400: a few seconds."""
    raw = {
        "sweep": {"n_neurons": [N], "rule": ["voltage"], "learning_speed": [1.0], "seed": [4]},
        "network": {"connectivity": {"size_scaling": "mean_input"}},
        "protocol": {"warmup_s": 0.3, "n_assemblies": 3, "stimulus_on_s": 0.2,
                     "stimulus_off_s": 0.2, "repetitions": 2},
        "record": {"weight_interval_s": 0.1, "chunk_s": 0.1, "checkpoint_every_s": 0.0},
        "probe": {"enabled": False},
    }
    section = validate(raw, load_schema(ROOT / "workflow/schemas/assemblies.schema.yaml"),
                       where="assemblies")
    run = run_settings(section, sweep_point(N, "voltage", 1.0, 4))
    tmp = tmp_path_factory.mktemp("export")
    sim, train = tmp / "simulate.zarr", tmp / "train.zarr"
    assert run_stage("simulate", stage_params(run, "simulate"), {}, str(sim)).completed
    assert run_stage("train", stage_params(run, "train"), {"previous": str(sim)},
                     str(train)).completed
    return train


def _store_spikes(store: Path) -> tuple[np.ndarray, np.ndarray]:
    spikes = open_store(store, group="spikes")
    return spikes["t_s"].values, spikes["spike_cell"].values.astype(np.int64)


def test_neo_trains_are_the_stores_spikes_with_their_labels(train_store):
    segment = to_neo(train_store)
    root = open_store(train_store)
    t_s, cells = _store_spikes(train_store)
    n_exc = int(root.attrs["n_exc"])
    assert [st.annotations["cell"] for st in segment.spiketrains] == list(range(N))
    assert sum(len(st) for st in segment.spiketrains) == t_s.size
    members = assembly_members(train_store)
    for st in segment.spiketrains:
        c = st.annotations["cell"]
        assert st.annotations["cell_type"] == ("E" if c < n_exc else "I")
        assert st.annotations["assemblies"] == [a for a, m in enumerate(members) if c in m]
        assert st.t_start.rescale("s").magnitude == root.attrs["run_start_s"]
        assert st.t_stop.rescale("s").magnitude == root.attrs["run_end_s"]
        np.testing.assert_array_equal(st.rescale("s").magnitude, np.sort(t_s[cells == c]))
    assert segment.annotations["seed"] == 4
    assert segment.annotations["config_json"] == root.attrs["config_json"]
    assert segment.annotations["sweep"]["seed"] == 4


@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")
def test_elephant_fano_factor_and_cv_equal_the_projects(train_store):
    """Per cell, Fano factor of counts over 0.1 s windows (the windows are the 'trials') and the
    E cells' mean ISI CV, Elephant on the Neo trains against ``stats.counts`` / ``stats.spikes``
    on the store's arrays. Elephant's Fano uses the population variance (ddof 0), the project's
    the sample variance (ddof 1): the factor n/(n-1) is applied. Tolerance 1e-12 relative: both
    sides count the same integers; only the division order differs (the CV's intervals are
    steps on the project's side, seconds on Elephant's, equal to rounding)."""
    segment = to_neo(train_store)
    root = open_store(train_store)
    t_s, cells = _store_spikes(train_store)  # the store's arrays, not the exporter's reading
    start, stop, dt_s = (float(root.attrs[k]) for k in ("run_start_s", "run_end_s", "dt_ms"))
    dt_s *= 1e-3
    window = 0.1
    starts = start + window * np.arange(int(round((stop - start) / window)))
    counts = spike_counts(t_s, cells, N, starts, window, window, duration_s=window)
    ours = np.array([fano_factor_mean_matched(counts[:, [c], :], n_repeats=0,
                                              rng=np.random.default_rng(0)).raw[0]
                     for c in range(N)])
    n = starts.size
    theirs = []
    for st in segment.spiketrains:  # half-open windows [t, t + window), as spike_counts
        times = st.rescale("s").magnitude
        theirs.append(elephant_statistics.fanofactor(
            [times[(times >= t - dt_s / 2) & (times < t + window - dt_s / 2)] for t in starts]))
    theirs = np.array(theirs) * n / (n - 1)
    active = counts.sum(axis=(0, 2)) > 0
    assert active.sum() > 0.8 * N
    np.testing.assert_allclose(theirs[active], ours[active], rtol=1e-12)
    assert np.all(np.isnan(theirs[~active]))

    exc = [st for st in segment.spiketrains if st.annotations["cell_type"] == "E"]
    cvs = [elephant_statistics.cv(elephant_statistics.isi(st).magnitude)
           for st in exc if len(st) >= 3]
    steps = open_store(train_store, group="spikes")["spike_step"].values
    ours_cv = isi_cv(steps, cells, n_cells=int(root.attrs["n_exc"]), dt_ms=dt_s * 1e3)
    assert len(cvs) > 100
    assert np.mean(cvs) == pytest.approx(ours_cv, rel=1e-12)


def test_training_stimuli_are_the_presentations_the_stage_ran(train_store):
    """Rebuilt from the settings: in each presentation the target assembly fires fastest (a
    schedule drawn from another stream or left unshifted puts some on the wrong assembly)."""
    schedule = training_schedule_of(train_store)
    root = open_store(train_store)
    assert len(schedule) == 6
    assert schedule.t_on_s[0] == pytest.approx(root.attrs["run_start_s"])
    rates = root["rate_assembly_hz"]
    for target, on, off in zip(schedule.target, schedule.t_on_s, schedule.t_off_s, strict=True):
        during = rates.sel(time=slice(on, off - 1e-9)).mean("time").values
        assert int(np.argmax(during)) == target, (target, on, during)
    epoch = to_neo(train_store).epochs[0]
    np.testing.assert_array_equal(epoch.times.magnitude, schedule.t_on_s)


def test_nwb_round_trip_keeps_every_spike_and_label(train_store, tmp_path):
    out = to_nwb(train_store.parent, tmp_path / "run.nwb")  # the run folder: its train store
    t_s, cells = _store_spikes(train_store)
    members = assembly_members(train_store)
    n_exc = int(open_store(train_store).attrs["n_exc"])
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        units = nwb.units
        assert list(units.id[:]) == list(range(N))
        total = 0
        for row in range(N):
            times = units["spike_times"][row]
            np.testing.assert_array_equal(times, np.sort(t_s[cells == row]))  # exact, float64
            total += len(times)
            assert units["cell_type"][row] == ("E" if row < n_exc else "I")
        assert total == t_s.size
        for a, m in enumerate(members):
            in_a = [row for row in range(N) if a in list(units["assemblies"][row])]
            np.testing.assert_array_equal(in_a, np.sort(m))
        trials = nwb.trials.to_dataframe()
        schedule = training_schedule_of(train_store)
        np.testing.assert_array_equal(trials["start_time"], schedule.t_on_s)
        np.testing.assert_array_equal(trials["target"], schedule.target)
    assert pynwb.validate(path=str(out)) == []  # a valid NWB file (schema checked)


def test_export_command_writes_and_refuses_an_existing_out(train_store, tmp_path, capsys):
    out = tmp_path / "run.nwb"
    assert main(["export", str(train_store), "--to", "nwb", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(["export", str(train_store), "--to", "neo", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["export", str(train_store), "--to", "neo", "--out", str(out), "--force"]) == 0
    block = neo.io.PickleIO(str(out)).read_block()
    assert len(block.segments[0].spiketrains) == N
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
