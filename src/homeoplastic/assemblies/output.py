"""Turn a run record into xarray datasets with units, ready for a Zarr store.

Root dataset (regular, combines across runs): binned E/I and per-assembly rates over ``time``, the
assembly-by-assembly mean E->E weights, within/between means and I->E weights onto each assembly
over ``snapshot_time``. Ragged groups: ``spikes`` (step index and cell id of every spike) and
``state`` (everything needed to continue, including the final weights of every pathway).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from homeoplastic.assemblies.engine import RunRecord, Simulation, spike_arrays
from homeoplastic.assemblies.storage import encode_spikes
from homeoplastic.store import variable as _var


def record_dataset(sim: Simulation, rec: RunRecord) -> xr.Dataset:
    """The regular part of a run: rates and assembly weights with coordinates in seconds."""
    dt_s = rec.dt_ms * 1e-3
    n_exc = sim.params.connectivity.n_exc
    n_inh = sim.params.connectivity.n_inh
    n_asm = rec.n_assemblies
    n_bins_done = -(-rec.steps_done // rec.rate_bin_steps)
    bin_s = rec.rate_bin_steps * dt_s
    # the last bin may be partial (aborted run or a run length not a multiple of the bin)
    widths = np.full(n_bins_done, bin_s)
    if n_bins_done:
        widths[-1] = (rec.steps_done - (n_bins_done - 1) * rec.rate_bin_steps) * dt_s
    t_bins = (rec.start_step + np.arange(n_bins_done) * rec.rate_bin_steps) * dt_s
    sizes = np.diff(sim.group_ptr[: n_asm + 1]).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_asm = rec.counts_groups[:n_bins_done, :n_asm] / (widths[:, None] * sizes[None, :])
        rate_exc = rec.counts_exc[:n_bins_done] / (widths * n_exc)
        rate_inh = rec.counts_inh[:n_bins_done] / (widths * max(n_inh, 1))
        within = np.array(rec.snap_w_within)
        between = np.array(rec.snap_w_between)
        ratio = within / between
    snaps = len(rec.snap_steps)
    n_g = n_asm + 1
    w_groups = np.array(rec.snap_w_groups).reshape(snaps, n_g, n_g)
    w_ie = np.array(rec.snap_w_ie_groups).reshape(snaps, n_asm)
    ds = xr.Dataset(
        data_vars={
            "rate_exc_hz": _var("time", rate_exc, "Hz", "E population rate"),
            "rate_inh_hz": _var("time", rate_inh, "Hz", "I population rate"),
            "rate_assembly_hz": _var(("time", "assembly"), rate_asm, "Hz",
                                     "mean rate of assembly members"),
            "w_assembly_pf": _var(("snapshot_time", "pre_group", "post_group"), w_groups, "pF",
                                  "mean E->E weight from pre group to post group"),
            "w_within_pf": _var("snapshot_time", within, "pF",
                                "mean E->E weight within assemblies"),
            "w_between_pf": _var("snapshot_time", between, "pF",
                                 "mean E->E weight between cells sharing no assembly"),
            "w_ratio": _var("snapshot_time", ratio, "1", "within / between E->E weight"),
            "w_inh_onto_assembly_pf": _var(("snapshot_time", "assembly"), w_ie, "pF",
                                           "mean I->E weight onto assembly members"),
            "assembly_size": _var("assembly", sizes.astype(np.int64), "cells",
                                  "number of E cells in the assembly"),
        },
        coords={
            "time": _var("time", t_bins, "s", "start of rate bin (simulation clock)",
                         time_reference="absolute"),
            "snapshot_time": _var("snapshot_time", np.array(rec.snap_steps) * dt_s, "s",
                                  "time of weight snapshot (simulation clock)",
                                  time_reference="absolute"),
            "assembly": _var("assembly", np.arange(n_asm), "1", "assembly index"),
            "pre_group": _var("pre_group", np.arange(n_g), "1",
                              "presynaptic group (last = outside any assembly)"),
            "post_group": _var("post_group", np.arange(n_g), "1",
                               "postsynaptic group (last = outside any assembly)"),
        },
    )
    ds.attrs.update(
        status=rec.status,
        abort_reason_json=json.dumps(rec.abort_reason),
        run_start_s=rec.start_step * dt_s,
        run_end_s=(rec.start_step + rec.steps_done) * dt_s,
        rate_bin_ms=rec.rate_bin_steps * rec.dt_ms,
        dt_ms=rec.dt_ms,
        n_neurons=sim.params.connectivity.n_neurons,
        n_exc=n_exc,
        n_inh=n_inh,
        groups_note="pre_group/post_group 0..n_assemblies-1 are assemblies; the last is 'outside'",
    )
    return ds


def spikes_dataset(rec: RunRecord) -> xr.Dataset:
    """Ragged spike events of a run: step index (simulation clock) and cell id.

    ``spike_step``/``spike_cell`` are exact (integers); ``t_s`` (seconds, ``step * dt``, the same
    clock as every other time axis) and ``i`` (cell index) are the names Brian2 users expect.
    Stored compactly and losslessly (:func:`~homeoplastic.assemblies.storage.encode_spikes`).
    """
    steps, cells = spike_arrays(rec)
    ds = xr.Dataset(
        {
            "spike_step": _var("spike", steps, "steps", "time step of the spike (t = step * dt)"),
            "spike_cell": _var("spike", cells, "1", "cell index (E cells first, then I cells)"),
            "t_s": _var("spike", steps * (rec.dt_ms * 1e-3), "s",
                        "spike time (simulation clock; spike_step * dt)"),
            "i": _var("spike", cells.copy(), "1", "cell index (E cells first, then I cells)"),
        }
    )
    ds.attrs["dt_ms"] = rec.dt_ms
    return encode_spikes(ds, rec.dt_ms * 1e-3)


def summarise(sim: Simulation, rec: RunRecord) -> dict[str, float | str]:
    """A few numbers that say whether a run looks right (rates, irregularity, assembly ratio)."""
    ds = record_dataset(sim, rec)
    steps, cells = spike_arrays(rec)
    from homeoplastic.stats.spikes import isi_cv, isi_cv2, population_fano

    n_exc = sim.params.connectivity.n_exc
    sim_s = rec.steps_done * rec.dt_ms * 1e-3
    return {
        "status": rec.status,
        "sim_seconds": sim_s,
        "wall_seconds": rec.wall_seconds,
        "wall_s_per_sim_s": rec.wall_seconds / sim_s if sim_s else float("nan"),
        "rate_exc_hz": float(ds.rate_exc_hz.mean()) if ds.time.size else float("nan"),
        "rate_inh_hz": float(ds.rate_inh_hz.mean()) if ds.time.size else float("nan"),
        "cv_isi_exc": isi_cv(steps, cells, n_cells=n_exc, dt_ms=rec.dt_ms),
        "cv2_isi_exc": isi_cv2(steps, cells, n_cells=n_exc),
        "population_fano_exc_5ms": population_fano(steps, cells, n_cells=n_exc,
                                                   dt_ms=rec.dt_ms, bin_ms=5.0),
        "w_ratio_start": float(ds.w_ratio[0]) if ds.snapshot_time.size else float("nan"),
        "w_ratio_end": float(ds.w_ratio[-1]) if ds.snapshot_time.size else float("nan"),
    }
