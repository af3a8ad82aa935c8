"""Bundled jobs of the spiking sweep: which stores each bundle writes, and the job that writes them.

With bundling on (``assemblies.bundle``; automatic above ``max_jobs_per_step`` runs), every
per-run step (the nine stages, analyze, the run and probe figures) runs as bundles of
``points_per_job`` points; below it, one job per run and step as before. A bundle's members are
the stores of one step (a store shared by several points is one member), grouped so that a
point's seeds share bundles (:func:`homeoplastic.bundle.plan`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeoplastic.assemblies.stages import (
    STAGES,
    RunSettings,
    analysis_params,
    figure_params,
    resources_for,
    stage_params,
)
from homeoplastic.bundle import BundlePolicy, digest, owner, plan
from homeoplastic.step_bundles import seedless

RUN_STEPS = ("analyze", "figure_run", "figure_probe")
"""Per-run steps after the stages (one member per run)."""


@dataclass(frozen=True)
class BundlePlan:
    """Every step's bundles (id -> member keys: store ids for stages, run ids for run steps) and,
    per step, which bundle writes each key."""

    size: int
    bundles: Mapping[str, Mapping[str, tuple[str, ...]]]
    owners: Mapping[str, Mapping[str, str]]

    def owner_of(self, step: str, key: str) -> str:
        return self.owners[step][key]


def plan_bundles(runs: Mapping[str, RunSettings], stores: Mapping[str, Mapping[str, RunSettings]],
                 policy: BundlePolicy) -> BundlePlan | None:
    """The sweep's bundles, or None when each run's steps are jobs of their own (size 1)."""
    size = policy.size(len(runs))
    if size == 1:
        return None
    bundles: dict[str, dict[str, tuple[str, ...]]] = {}
    for stage in STAGES:
        reps = stores.get(stage, {})
        bundles[stage] = plan(list(reps), size,
                              lambda sid, s=stage, r=reps: seedless(r[sid].stage_point(s).settings()))
    by_run = lambda rid: seedless(runs[rid].point.settings())  # noqa: E731
    bundles["analyze"] = plan(list(runs), size, by_run)
    bundles["figure_run"] = bundles["analyze"]
    bundles["figure_probe"] = plan([rid for rid, run in runs.items() if "probe_after" in run.stages],
                                   size, by_run)
    return BundlePlan(size, bundles, {step: owner(b) for step, b in bundles.items()})


# ----------------------------------------------------------------- what a bundle job needs
def stage_members(step: str, keys: Sequence[str], stores: Mapping[str, Mapping[str, RunSettings]],
                  runs: Mapping[str, RunSettings], store_path) -> list[dict[str, Any]]:
    """The members of one bundle as a rule's params: the run whose settings each store takes,
    its output and its inputs (``store_path(store_id, stage)`` places a store)."""
    if step in STAGES:
        out = []
        for sid in keys:
            run = stores[step][sid]
            out.append({"run": run.run_id, "output": store_path(sid, step),
                        "inputs": {name: store_path(run.store_id(source), source)
                                   for name, source in STAGES[step].inputs}})
        return out
    out = []
    for rid in keys:
        run = runs[rid]
        stage_stores = {stage: store_path(run.store_id(stage), stage) for stage in run.stages}
        member: dict[str, Any] = {"run": rid, "output": store_path(rid, "analyze"),
                                  "inputs": stage_stores}
        if step == "figure_run":
            member["settings"] = figure_params(run)
        if step == "figure_probe":
            member["inputs"] = {k: stage_stores[f"probe_{k}"] for k in ("before", "after")}
        out.append(member)
    return out


def member_params(step: str, run: RunSettings) -> str:
    """The settings that change a member's store (what its fingerprint is taken of)."""
    return analysis_params(run) if step == "analyze" else stage_params(run, step)


def members_digest(step: str, members: Sequence[Mapping[str, Any]],
                   runs: Mapping[str, RunSettings]) -> str:
    """The rule's params fingerprint: any edit of a member's settings changes it."""
    return digest(f"{m['output']}\t{member_params(step, runs[m['run']])}" for m in members)


def bundle_resources(step: str, members: Sequence[str],
                     stores: Mapping[str, Mapping[str, RunSettings]]) -> dict[str, int]:
    """A bundle's memory (MB: its largest member's) and runtime (min: its members' sum; per-run
    steps after the stages take about a minute a member)."""
    if step not in STAGES:
        return {"mem_mb": 2000 if step == "analyze" else 4000, "runtime": 5 + len(members)}
    each = [resources_for(stores[step][m], step) for m in members]
    return {"mem_mb": max(r["mem_mb"] for r in each), "runtime": sum(r["runtime"] for r in each)}
