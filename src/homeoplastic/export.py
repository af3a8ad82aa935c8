"""Spike trains of an assemblies run store for the field's tools: Neo/Elephant and NWB.

:func:`to_neo` gives a ``neo.Segment`` of ``neo.SpikeTrain`` (one per cell, every cell, in cell
order) with the run's provenance as annotations; :func:`to_nwb` writes an NWB file (HDF5) with a
units table (spike times, E/I, assembly membership) and, for a training store, the presentations
of the training stage as trials. ``homeoplastic export`` calls both from the shell.

Neo, quantities and pynwb are optional (``pip install -e ".[neo,nwb]"``) and imported only here,
inside the functions that need them. Only the assemblies model has spike trains; nothing in the
model layers imports this module (tests/test_layers.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from homeoplastic.store import open_store, store_attrs_on_disk

if TYPE_CHECKING:
    import neo

    from homeoplastic.assemblies.stimulus import StimulusSchedule

PROVENANCE_KEYS = ("stage", "package", "package_version", "config_json", "settings_sha256",
                   "sweep_json", "run_id", "seed", "created_utc", "numpy_version", "status")
"""Root attrs of a store carried into the exported file (the Segment's annotations, the NWB
file's notes): what made the run, so an exported file can be traced back."""

RUN_FOLDER_STORE = "train.zarr"
"""The store :func:`to_nwb` exports from a run folder: the training stage (spikes and stimuli)."""


@dataclass(frozen=True)
class RunSpikes:
    """Every spike of one store, with what the exporters need to label them."""

    t_s: np.ndarray  # float64, simulation clock, one entry per spike
    cell: np.ndarray  # int64 cell index (E cells first, then I cells)
    n_exc: int
    n_neurons: int
    t_start_s: float
    t_stop_s: float
    dt_ms: float
    members: tuple[np.ndarray, ...]  # E cells of each assembly
    provenance: dict[str, Any]

    def times_of(self, cell: int) -> np.ndarray:
        """Spike times of ``cell`` in s, ascending."""
        return self.t_s[self.cell == cell]

    def assemblies_of(self) -> list[list[int]]:
        """For each cell, the assemblies it belongs to (empty for none and for I cells)."""
        out: list[list[int]] = [[] for _ in range(self.n_neurons)]
        for a, cells in enumerate(self.members):
            for c in cells:
                out[int(c)].append(a)
        return out


def read_spikes(store: str | os.PathLike[str]) -> RunSpikes:
    """The spikes of an assemblies run store, sorted by (cell, time), and its labels."""
    from homeoplastic.assemblies.runs import assembly_members

    root = open_store(store)
    attrs = dict(root.attrs)
    if "n_exc" not in attrs or "run_start_s" not in attrs:
        raise ValueError(f"{store} is not a store of an assemblies run (no n_exc/run_start_s)")
    try:
        spikes = open_store(store, group="spikes")
    except (FileNotFoundError, KeyError, OSError) as err:
        raise ValueError(f"{store} has no spikes group (a run that recorded no spikes)") from err
    t_s = np.asarray(spikes["t_s"].values, dtype=np.float64)
    cell = np.asarray(spikes["spike_cell"].values, dtype=np.int64)
    order = np.lexsort((t_s, cell))
    return RunSpikes(
        t_s=t_s[order], cell=cell[order],
        n_exc=int(attrs["n_exc"]), n_neurons=int(attrs["n_neurons"]),
        t_start_s=float(attrs["run_start_s"]), t_stop_s=float(attrs["run_end_s"]),
        dt_ms=float(attrs["dt_ms"]),
        members=tuple(np.asarray(m, dtype=np.int64) for m in assembly_members(store)),
        provenance={key: attrs[key] for key in PROVENANCE_KEYS if key in attrs},
    )


def training_schedule_of(store: str | os.PathLike[str]) -> StimulusSchedule | None:
    """The presentations of a ``train`` store on the simulation clock (None for other stages).

    Stores do not record the schedule; it is rebuilt from the store's ``config_json`` with the
    train stage's own settings and schedule (``stimulus.train_stage_schedule``, which
    ``stage_train`` presents), then shifted by the run's start.
    """
    from homeoplastic.assemblies.context import StageContext
    from homeoplastic.assemblies.stimulus import StimulusSchedule, train_stage_schedule

    attrs = store_attrs_on_disk(store) or {}
    if attrs.get("stage") != "train":
        return None
    settings = json.loads(attrs["config_json"])["assemblies"]
    ctx = StageContext.from_params("train", settings)
    protocol = ctx.protocol
    schedule = train_stage_schedule(protocol, ctx.point.seed)  # the stage's own schedule
    start = float(open_store(store).attrs["run_start_s"])
    return StimulusSchedule(schedule.target, schedule.t_on_s + start, schedule.t_off_s + start,
                            schedule.rate_hz)


def _segment_annotations(spikes: RunSpikes, store: str | os.PathLike[str]) -> dict[str, Any]:
    notes: dict[str, Any] = {key: (int(v) if isinstance(v, (np.integer, bool)) else v)
                             for key, v in spikes.provenance.items()}
    if "sweep_json" in notes:
        notes["sweep"] = json.loads(notes["sweep_json"])
    notes["store"] = str(Path(store))
    notes["dt_ms"] = spikes.dt_ms
    notes["n_assemblies"] = len(spikes.members)
    return notes


def to_neo(store_path: str | os.PathLike[str]) -> neo.Segment:
    """A ``neo.Segment`` with one ``neo.SpikeTrain`` per cell of the store, in cell order.

    Times in s (quantities), ``t_start``/``t_stop`` the run's ``run_start_s``/``run_end_s`` (the
    simulation clock, as the store's). Each train is annotated with ``cell`` (index), ``cell_type``
    ("E"/"I") and ``assemblies`` (list of assembly indices, empty when none); the segment with the
    store's provenance (config, seed, package version, sweep point) and, for a train store, an
    ``Epoch`` ``training_stimuli`` labelled by target assembly.
    """
    import neo
    import quantities as pq

    spikes = read_spikes(store_path)
    segment = neo.Segment(name=f"{spikes.provenance.get('stage', 'run')} "
                               f"{spikes.provenance.get('run_id', '')}".strip(),
                          **_segment_annotations(spikes, store_path))
    bounds = np.searchsorted(spikes.cell, np.arange(spikes.n_neurons + 1))
    assemblies = spikes.assemblies_of()
    for cell in range(spikes.n_neurons):
        times = spikes.t_s[bounds[cell]:bounds[cell + 1]]
        train = neo.SpikeTrain(times, units=pq.s, t_start=spikes.t_start_s * pq.s,
                               t_stop=spikes.t_stop_s * pq.s, name=f"cell {cell}",
                               cell=cell, cell_type="E" if cell < spikes.n_exc else "I",
                               assemblies=assemblies[cell])
        segment.spiketrains.append(train)
    schedule = training_schedule_of(store_path)
    if schedule is not None:
        segment.epochs.append(neo.Epoch(
            times=schedule.t_on_s * pq.s, durations=(schedule.t_off_s - schedule.t_on_s) * pq.s,
            labels=np.array([f"assembly {a}" for a in schedule.target]), name="training_stimuli",
            target=schedule.target, rate_hz=schedule.rate_hz))
    return segment


def store_in(run_dir_or_store: str | os.PathLike[str]) -> Path:
    """The store to export: the path itself when it is a store, else its ``train.zarr``."""
    path = Path(run_dir_or_store)
    if store_attrs_on_disk(path) is not None:
        return path
    if (path / RUN_FOLDER_STORE).is_dir():
        return path / RUN_FOLDER_STORE
    found = sorted(p.name for p in path.glob("*.zarr")) if path.is_dir() else []
    raise FileNotFoundError(f"{path} is neither a store nor a run folder with {RUN_FOLDER_STORE}"
                            + (f" (stores there: {', '.join(found)}; name one)" if found else ""))


def to_nwb(run_dir_or_store: str | os.PathLike[str], path: str | os.PathLike[str], *,
           force: bool = False) -> Path:
    """Write an NWB 2 file (HDF5) of a store's spikes to ``path``, atomically; return the path.

    Units table: one row per cell in cell order (``id`` = cell index) with ``spike_times`` (s,
    simulation clock, float64 as stored), ``cell_type`` ("E"/"I") and the ragged ``assemblies``
    column. A train store's presentations are the trials (``start_time``, ``stop_time``, ``target``
    assembly, ``rate_hz``). Provenance attrs go into the file's ``notes`` as JSON. Refuses an
    existing ``path`` unless ``force``.
    """
    from pynwb import NWBHDF5IO, NWBFile

    store = store_in(run_dir_or_store)
    out = Path(path)
    if os.path.lexists(out) and not force:
        raise FileExistsError(f"{out} exists; pass force=True (--force) to replace it")
    spikes = read_spikes(store)
    prov = spikes.provenance
    created = prov.get("created_utc")
    start = (datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if created
             else datetime.fromtimestamp(0, tz=UTC))
    nwb = NWBFile(
        session_description=f"homeoplastic assemblies run, stage {prov.get('stage')}, run "
                            f"{prov.get('run_id')}: simulated spiking network (times on the "
                            "simulation clock, 0 = network built)",
        identifier=f"homeoplastic-{prov.get('stage')}-{prov.get('run_id')}-"
                   f"{str(prov.get('settings_sha256', ''))[:16]}",
        session_start_time=start,
        source_script=f"homeoplastic {prov.get('package_version')} (homeoplastic.export.to_nwb)",
        source_script_file_name="homeoplastic/export.py",
        notes=json.dumps(_segment_annotations(spikes, store), sort_keys=True, default=str),
    )
    nwb.add_unit_column(name="cell_type", description="E (excitatory) or I (inhibitory)")
    nwb.add_unit_column(name="assemblies", description="assemblies the cell belongs to (E only)",
                        index=True)
    bounds = np.searchsorted(spikes.cell, np.arange(spikes.n_neurons + 1))
    assemblies = spikes.assemblies_of()
    for cell in range(spikes.n_neurons):
        nwb.add_unit(id=cell, spike_times=spikes.t_s[bounds[cell]:bounds[cell + 1]],
                     obs_intervals=[[spikes.t_start_s, spikes.t_stop_s]],
                     cell_type="E" if cell < spikes.n_exc else "I", assemblies=assemblies[cell])
    schedule = training_schedule_of(store)
    if schedule is not None and len(schedule):
        nwb.add_trial_column(name="target", description="assembly stimulated")
        nwb.add_trial_column(name="rate_hz", description="external rate added to its members, Hz")
        for a, on, off, rate in zip(schedule.target, schedule.t_on_s, schedule.t_off_s,
                                    schedule.rate_hz, strict=True):
            nwb.add_trial(start_time=float(on), stop_time=float(off), target=int(a),
                          rate_hz=float(rate))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.stem}.tmp-{os.getpid()}.nwb"  # pynwb warns without .nwb
    try:
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
        if os.path.lexists(out) and not force:  # appeared while writing
            raise FileExistsError(f"{out} exists; pass force=True (--force) to replace it")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def write_neo(store: str | os.PathLike[str], path: str | os.PathLike[str], *,
              force: bool = False) -> Path:
    """:func:`to_neo` in a ``neo.Block`` pickled with ``neo.io.PickleIO`` at ``path``, atomically
    (lossless and needs nothing beyond Neo; read with ``neo.io.PickleIO(path).read_block()``)."""
    import neo
    from neo.io import PickleIO

    out = Path(path)
    if os.path.lexists(out) and not force:
        raise FileExistsError(f"{out} exists; pass force=True (--force) to replace it")
    segment = to_neo(store_in(store))
    block = neo.Block(name=segment.name, **segment.annotations)
    block.segments.append(segment)
    segment.block = block
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    try:
        PickleIO(str(tmp)).write_block(block)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
