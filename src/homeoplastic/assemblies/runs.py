"""One run of the network written to one Zarr store: the unit every stage and the CLI share.

The engine, its kernels and the sweep's settings are imported where a function needs them, so a
reader of stores (a figure calling :func:`assembly_members`) loads no simulation kernel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies.storage import STATE_GROUP
from homeoplastic.store import open_store, provenance_attrs, write_store

if TYPE_CHECKING:
    from homeoplastic.assemblies.engine import RunRecord, Simulation


def write_run_store(
    path: str | os.PathLike[str],
    sim: Simulation,
    rec: RunRecord,
    *,
    stage: str,
    config: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Any] | None = None,
    extra_groups: Mapping[str, xr.Dataset] | None = None,
    **attrs: Any,
) -> None:
    """Write the run's regular data, spikes and continuation state atomically to ``path``."""
    from homeoplastic.assemblies.output import record_dataset, spikes_dataset

    root = with_sweep_coords(record_dataset(sim, rec), sweep or {})
    groups = {"state": state_group(sim)}
    if rec.spike_steps or rec.steps_done:
        groups["spikes"] = spikes_dataset(rec)
    groups.update(extra_groups or {})
    write_store(
        path,
        root,
        groups=groups,
        attrs=provenance_attrs(
            stage=stage,
            config=dict(config or {"network": sim.params.to_dict()}),
            seed=sim.seed,
            sweep=sweep,
            sim_seconds=rec.steps_done * rec.dt_ms * 1e-3,
            wall_seconds=rec.wall_seconds,
            **attrs,
        ),
    )


STATE_UNITS = {"xr_exc": "pF", "xd_exc": "pF", "xr_inh": "pF", "xd_inh": "pF"}
"""Units of ``state`` variables the engine's table leaves dimensionless: the conductance rise and
decay variables hold pF (``assemblies/kernels/state.py``), like the ``*_pf`` variables."""


def state_group(sim: Simulation) -> xr.Dataset:
    """The run's continuation state (the store's ``state`` group) with every variable's units."""
    state = sim.state_dataset()
    for name, units in STATE_UNITS.items():
        if name in state:
            state[name].attrs["units"] = units
    return state


def with_sweep_coords(ds: xr.Dataset, sweep: Mapping[str, Any]) -> xr.Dataset:
    """Attach a run's sweep values as scalar coordinates with the units their parameters declare
    (they align runs on combine)."""
    from homeoplastic.assemblies.sweep import axis_unit

    for name, value in sweep.items():
        ds = ds.assign_coords({name: ",".join(map(str, value)) if isinstance(value, (list, tuple))
                               else value})
        ds[name].attrs.update(units=axis_unit(name),
                              long_name=name.rsplit(".", 1)[-1].replace("_", " "))
    return ds


def assembly_members(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """E cells of each assembly of a run store, in assembly order.

    The reader figures and users call instead of decoding the engine's continuation state
    (the ``state`` group's ``group_ptr``/``group_members`` layout is the engine's business and may
    change); groups beyond the assemblies (probe halves) are left out.
    """
    state = open_store(path, group=STATE_GROUP)  # kept when the state is dropped (MEMBERSHIP)
    ptr = state.group_ptr.values
    members = state.group_members.values
    return [members[ptr[a]:ptr[a + 1]] for a in range(int(state.attrs["n_assemblies"]))]
