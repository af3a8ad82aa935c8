"""Bundles: one job writes the stores of several sweep points, in turn.

A sweep of thousands of points would otherwise be tens of thousands of jobs, each a process with
its own start-up, and a plan Snakemake takes minutes to build. A bundle is one job for up to
``points_per_job`` stores of one step; it writes each store where the unbundled job would, with the
same provenance, so reading results does not change.

Snakemake sees one output per bundle, its manifest (which stores, and how each ended). A bundle
decides itself, store by store, what to recompute: a store is kept when it is complete, was written
with the settings this point asks for (its ``settings_sha256``) and from the inputs it would read
now (:func:`record_inputs` notes their checksums beside it). So growing a sweep, which regroups
points into new bundles, recomputes nothing that is there, and editing a setting recomputes only
the stores whose settings it changes, as unbundled jobs do.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeoplastic.stage import StageOutcome

BUNDLE_ID_LENGTH = 12
INPUTS_SUFFIX = ".inputs.json"


@dataclass(frozen=True)
class BundlePolicy:
    """How many points one job carries: ``points_per_job`` (an int, or ``auto``: one per job
    until the sweep has more runs than ``max_jobs_per_step``, then as few as keep each step at
    that many jobs)."""

    points_per_job: int | str = "auto"
    max_jobs_per_step: int = 500

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> BundlePolicy:
        section = dict(section or {})
        return cls(points_per_job=section.get("points_per_job", "auto"),
                   max_jobs_per_step=int(section.get("max_jobs_per_step", 500)))

    def size(self, n_points: int) -> int:
        """Points per job for a step of ``n_points`` stores."""
        if self.points_per_job == "auto":
            return max(1, math.ceil(n_points / self.max_jobs_per_step))
        return max(1, int(self.points_per_job))

    def describe(self, n_points: int, model: str) -> str:
        """One log line: how the model's jobs are bundled, and why."""
        size = self.size(n_points)
        how = (f"points_per_job: auto, at most {self.max_jobs_per_step} jobs per step"
               if self.points_per_job == "auto" else f"points_per_job: {self.points_per_job}")
        if size == 1:
            return f"{model}: {n_points} runs, one job per run and step ({how})"
        return (f"{model}: {n_points} runs bundled {size} points per job, "
                f"{math.ceil(n_points / size)} jobs per step ({model}.bundle.{how})")


def bundle_id(members: Iterable[str]) -> str:
    """A bundle's name: the hash of its members' store paths (same members, same name)."""
    text = "\n".join(members)
    return hashlib.sha256(text.encode()).hexdigest()[:BUNDLE_ID_LENGTH]


def plan(stores: Sequence[str], size: int,
         group_of: Callable[[str], Hashable] = lambda store: None) -> dict[str, tuple[str, ...]]:
    """Bundles of at most ``size`` stores, by :func:`bundle_id`, in the order given.

    Stores of one group (a point without its seed) stay together: a group of at least ``size``
    stores is cut into bundles of its own, so adding seeds to a large sweep leaves the full
    bundles of every group as they were; smaller groups share bundles.
    """
    if size < 1:
        raise ValueError(f"points per job = {size}; allowed: >= 1")
    groups: dict[Hashable, list[str]] = {}
    for store in stores:
        groups.setdefault(group_of(store), []).append(store)
    chunks: list[list[str]] = []
    pending: list[str] = []
    for members in groups.values():
        if len(members) >= size:
            chunks.extend(members[i:i + size] for i in range(0, len(members), size))
            continue
        if len(pending) + len(members) > size:
            chunks.append(pending)
            pending = []
        pending.extend(members)
    if pending:
        chunks.append(pending)
    return {bundle_id(chunk): tuple(chunk) for chunk in chunks}


def owner(bundles: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Store -> the bundle that writes it."""
    return {store: name for name, members in bundles.items() for store in members}


def digest(texts: Iterable[str]) -> str:
    """One fingerprint of many settings (a bundle rule's params: any member's edit changes it)."""
    h = hashlib.sha256()
    for text in texts:
        h.update(len(text).to_bytes(8, "little") + text.encode())
    return h.hexdigest()


# --------------------------------------------------------------------- what to recompute
def _attrs(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    from homeoplastic.store import store_attrs_on_disk

    return store_attrs_on_disk(path)


RESUME_GROUPS = ("state",)
"""Groups of a store that only let a later stage continue from it (the network state): a store
that drops them keeps its content as far as its readers' results are concerned."""


def input_digest(path: str | os.PathLike[str]) -> str:
    """What identifies an input store's content: its array checksums (but those of
    :data:`RESUME_GROUPS`) and its settings, read from its metadata; nothing else is read."""
    from homeoplastic.store import CHECKSUM_ATTR, SETTINGS_ATTR

    attrs = _attrs(path) or {}
    try:
        sums = json.loads(attrs.get(CHECKSUM_ATTR, "{}"))
    except ValueError:
        sums = {}
    kept = {name: value for name, value in sums.items()
            if name.split("/", 1)[0] not in RESUME_GROUPS}
    text = f"{json.dumps(kept, sort_keys=True)}\n{attrs.get(SETTINGS_ATTR, '')}"
    return hashlib.sha256(text.encode()).hexdigest()


def _inputs_file(output: str | os.PathLike[str]) -> Path:
    out = Path(output)
    return out.parent / f".{out.name}{INPUTS_SUFFIX}"


def record_inputs(output: str | os.PathLike[str], inputs: Mapping[str, str]) -> None:
    """Note, beside a finished store, the content of the inputs it was computed from (atomic)."""
    target = _inputs_file(output)
    tmp = target.with_name(f"{target.name}.{os.getpid()}")
    tmp.write_text(json.dumps({name: input_digest(path) for name, path in sorted(inputs.items())},
                              sort_keys=True))
    os.replace(tmp, target)


def is_current(output: str | os.PathLike[str], fingerprint: str,
               inputs: Mapping[str, str]) -> bool:
    """True when ``output`` is complete, was written with the settings ``fingerprint`` names, and
    from inputs with today's content (the note of :func:`record_inputs`; a store without a note,
    written before notes were kept, counts when it is newer than every input, as in Snakemake)."""
    from homeoplastic.store import COMPLETE_ATTR, SETTINGS_ATTR

    attrs = _attrs(output)
    if not attrs or attrs.get(COMPLETE_ATTR) is not True or attrs.get(SETTINGS_ATTR) != fingerprint:
        return False
    note = _inputs_file(output)
    if note.exists():
        try:
            recorded = json.loads(note.read_text())
        except ValueError:
            return False
        return recorded == {name: input_digest(path) for name, path in inputs.items()}
    written = (Path(output) / "zarr.json").stat().st_mtime
    return all(os.path.exists(p) and (Path(p) / "zarr.json").stat().st_mtime <= written
               for p in inputs.values())


# --------------------------------------------------------------------------- running
@dataclass(frozen=True)
class Member:
    """One store a bundle writes: where, from which inputs, with which settings."""

    label: str
    output: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    params: str = ""


def run_bundle(members: Sequence[Member], run_one: Callable[[Member], StageOutcome],
               manifest: str | os.PathLike[str], *, step: str,
               keep_current: bool = True) -> list[StageOutcome]:
    """Write each member's store in turn (keeping those that are current), then the manifest.

    The log says, per member, whether it was kept, computed or stopped early, and how long it
    took; the manifest lists each member's outcome, so a stopped run says so here too. A member
    that raises stops the bundle without a manifest (Snakemake then reports the job failed); the
    members finished before it are kept and are not recomputed on the rerun. With
    ``keep_current`` False every member is made again (figures: seconds each).
    """
    outcomes: list[StageOutcome] = []
    start = time.perf_counter()
    for i, member in enumerate(members, 1):
        t0 = time.perf_counter()
        if keep_current and is_current(member.output, member.fingerprint, member.inputs):
            outcome = StageOutcome(_status(member.output), member.output, "kept: current")
            verb = "kept (complete, same settings and inputs)"
        else:
            outcome = run_one(member)
            if keep_current:
                record_inputs(member.output, member.inputs)
            verb = outcome.status + (f": {outcome.reason}" if outcome.reason else "")
        outcomes.append(outcome)
        _log(f"[{step} bundle {i}/{len(members)}] {member.label}: {verb} "
             f"({time.perf_counter() - t0:.1f} s; {time.perf_counter() - start:.1f} s so far)")
    write_manifest(manifest, step, members, outcomes)
    return outcomes


def _status(output: str) -> str:
    return str((_attrs(output) or {}).get("status", "completed"))


def write_manifest(path: str | os.PathLike[str], step: str, members: Sequence[Member],
                   outcomes: Sequence[StageOutcome]) -> None:
    """The bundle's output: each member's store and how it ended (atomic)."""
    from homeoplastic import __version__

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "step": step,
        "package_version": __version__,
        "members": [{"label": m.label, "store": m.output, "status": o.status, "reason": o.reason}
                    for m, o in zip(members, outcomes, strict=True)],
    }
    tmp = target.with_name(f".{target.name}.{os.getpid()}")
    tmp.write_text(json.dumps(body, indent=1, sort_keys=True))
    os.replace(tmp, target)


def stores_of(paths: Iterable[str]) -> list[str]:
    """The stores behind a job's inputs: a manifest stands for its members' stores, any other
    path for itself (so a reduction reads bundled and unbundled sweeps alike)."""
    out: list[str] = []
    for path in paths:
        if str(path).endswith(".json"):
            out.extend(m["store"] for m in json.loads(Path(path).read_text())["members"])
        else:
            out.append(str(path))
    return out


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
