"""Figs. 1c, 3b, 3c quantities from a training store (homeoplastic.analysis.ablations), on
synthetic stores whose answers are known."""

import json

import numpy as np
import pytest
import xarray as xr

from homeoplastic.analysis.ablations import (
    block_statistics,
    inhibition_size_statistics,
    oscillation_statistics,
    runaway_onset_s,
    size_elasticity,
)

SIZES = np.array([79, 77, 67, 84, 78])


def test_size_elasticity_of_known_lines():
    w = 40.0 + 0.5 * SIZES
    assert size_elasticity(w, SIZES) == pytest.approx(0.5 * SIZES.mean() / w.mean(), rel=1e-12)
    assert size_elasticity(3.0 * SIZES, SIZES) == pytest.approx(1.0, rel=1e-12)
    assert size_elasticity(np.full(5, 48.7), SIZES) == 0.0
    assert size_elasticity(100.0 - 0.5 * SIZES, SIZES) < 0  # more inhibition onto small ones
    assert size_elasticity(np.arange(5.0) + 1, np.full(5, 80)) is None


def _train(times, **variables) -> xr.Dataset:
    ds = xr.Dataset({name: (dims, values) for name, (dims, values) in variables.items()},
                    coords={"snapshot_time": times})
    ds.attrs.update(dt_ms=0.1, rate_bin_ms=10.0, run_start_s=float(times[0]),
                    run_end_s=float(times[-1]), n_exc=100,
                    config_json=json.dumps({"assemblies": {"protocol": {
                        "n_assemblies": 5, "stimulus_on_s": 1.0, "stimulus_off_s": 5.0}}}))
    return ds


def test_inhibition_against_size_reads_the_end_of_training_against_its_start():
    times = np.array([2.0, 32.0, 62.0])
    w = np.stack([np.full(5, 48.7), np.full(5, 60.0), 20.0 + 0.9 * SIZES])
    ds = _train(times, w_inh_onto_assembly_pf=(("snapshot_time", "assembly"), w),
                assembly_size=(("assembly",), SIZES))
    out = inhibition_size_statistics(ds)
    assert out["inh_size_elasticity_after_training"][0] == pytest.approx(
        0.9 * SIZES.mean() / w[-1].mean(), rel=1e-12)
    assert out["inh_size_elasticity_before_training"][0] == 0.0


def test_runaway_onset_is_the_first_coarse_bin_above_threshold():
    rate = np.full(6000, 1.5)
    rate[3090:] = 22.0  # 10-ms bins from t = 2 s: the rate jumps at 32.9 s
    rate[1500:1505] = 15.0  # a 50-ms burst above 10 Hz: its 0.1-s bin averages 8.25 Hz
    assert runaway_onset_s(rate, 10.0, 2.0, threshold_hz=25.0) is None
    assert runaway_onset_s(rate, 10.0, 2.0) == pytest.approx(32.9)
    assert runaway_onset_s(np.full(6000, 3.0), 10.0, 2.0) is None


def _spikes_with_runaway(rng, onset_s=4.5, end_s=6.0):
    """E cells 0-99 fire Poisson at 2 Hz from 2 s; from ``onset_s`` cells 0-29 fire in lockstep at
    460 Hz (jitter 0.1 ms) and the rest stop; I cells 100-119 fire at 100 Hz in lockstep
    throughout (a rhythm the E measure must not see)."""
    steps, cells = [], []
    n_before = rng.poisson(100 * 2.0 * (onset_s - 2.0))
    steps.append(rng.integers(20_000, int(onset_s * 1e4), n_before))
    cells.append(rng.integers(0, 100, n_before))
    ticks = np.arange(onset_s, end_s, 1 / 460.0)
    for cell in range(30):
        steps.append(np.round(ticks * 1e4 + rng.normal(0, 1, ticks.size)).astype(np.int64))
        cells.append(np.full(ticks.size, cell))
    i_ticks = np.round(np.arange(2.0, end_s, 0.01) * 1e4).astype(np.int64)
    for cell in range(100, 120):
        steps.append(i_ticks)
        cells.append(np.full(i_ticks.size, cell))
    steps, cells = np.concatenate(steps), np.concatenate(cells)
    keep = steps < end_s * 1e4
    order = np.argsort(steps[keep], kind="stable")
    return {"spike_step": steps[keep][order], "spike_cell": cells[keep][order]}


def test_oscillation_after_the_runaway_against_windows_before_it():
    rng = np.random.default_rng(4)
    spikes = _spikes_with_runaway(rng)
    e = spikes["spike_cell"] < 100
    counts = np.bincount((spikes["spike_step"][e] - 20_000) // 100, minlength=400)[:400]
    ds = _train(np.array([2.0, 6.0]), rate_exc_hz=(("time",), counts / (100 * 0.01)))
    out = oscillation_statistics(ds, spikes)
    assert out["runaway_onset_s"][0] == pytest.approx(4.5)
    assert out["oscillation_peak_hz_after_runaway"][0] == pytest.approx(460.0, abs=5.0)
    assert out["oscillation_peak_db_after_runaway"][0] > 10.0  # a line 10x over its floor
    # null: 1.3-s windows ending 1 s before the onset (one fits in 2.0-3.5 s), Poisson: no peak
    assert out["oscillation_window_s"][0] == pytest.approx(1.3)
    assert out["oscillation_peak_db_before_runaway"][0] < 10 * np.log10(3.0)
    assert out["oscillation_peak_hz_before_runaway"][0] != pytest.approx(100.0, abs=5.0)


def test_no_runaway_no_oscillation_quantities():
    ds = _train(np.array([2.0, 6.0]), rate_exc_hz=(("time",), np.full(400, 2.0)))
    spikes = {"spike_step": np.arange(20_000, 60_000, 7), "spike_cell": np.zeros(5715, int)}
    assert oscillation_statistics(ds, spikes) == {}


def test_potentiation_is_read_at_the_end_of_each_block_for_the_median_assembly():
    times = np.arange(2.0, 64.0, 2.0)  # snapshots every 2 s; blocks end at 32 and 62 s
    gain = 0.1 * (times - 2.0)
    diag = 2.86 * (1.0 + np.outer(gain, [1, 1, 1, 1, 10.0]))  # one assembly runs away with it
    w = np.zeros((times.size, 6, 6))
    w[:, range(5), range(5)] = diag
    rate = np.full(6000, 2.0)
    rate[3100:] = 22.0  # a runaway in the sixth presentation: after block 1, before block 2
    ds = _train(times, w_assembly_pf=(("snapshot_time", "pre", "post"), w),
                w_ratio=(("snapshot_time",), 1.0 + gain), rate_exc_hz=(("time",), rate))
    out = block_statistics(ds)
    assert out["w_within_gain_median_assembly_block1"][0] == pytest.approx(3.0)  # at 32 s, not 34
    assert out["w_within_gain_median_assembly_block2"][0] == pytest.approx(6.0)
    assert out["w_ratio_block1"][0] == pytest.approx(4.0)
    assert out["rate_exc_max_block1_hz"][0] == pytest.approx(2.0)
    assert out["rate_exc_max_block2_hz"][0] == pytest.approx(22.0)
    short = ds.isel(snapshot_time=slice(0, 20)).assign_attrs(run_end_s=40.0)  # stopped at 40 s
    assert "w_ratio_block1" in block_statistics(short)
    assert "w_ratio_block2" not in block_statistics(short)


def test_synchrony_after_the_runaway_against_before():
    rng = np.random.default_rng(6)
    spikes = _spikes_with_runaway(rng)  # lockstep after the onset, Poisson before
    e = spikes["spike_cell"] < 100
    counts = np.bincount((spikes["spike_step"][e] - 20_000) // 100, minlength=400)[:400]
    ds = _train(np.array([2.0, 6.0]), rate_exc_hz=(("time",), counts / (100 * 0.01)))
    out = oscillation_statistics(ds, spikes)
    assert out["synchrony_after_runaway"][0] > 0.5
    assert abs(out["synchrony_before_runaway"][0]) < 0.05  # the I cells' lockstep is not counted
