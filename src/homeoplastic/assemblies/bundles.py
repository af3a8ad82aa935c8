"""Bundled jobs of the spiking sweep: which stores each bundle writes, and the job that writes them.

With bundling on (``assemblies.bundle``; automatic above ``max_jobs_per_step`` runs), every
per-run step (the nine stages, analyze, the run and probe figures) runs as bundles of
``points_per_job`` points; below it, one job per run and step as before. A bundle's members are
the stores of one step (a store shared by several points is one member), grouped so that a
point's seeds share bundles (:func:`homeoplastic.bundle.plan`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeoplastic.assemblies.stages import (
    STAGES,
    RunSettings,
    analysis_params,
    figure_params,
    resolve_runs,
    stage_params,
)
from homeoplastic.assemblies.sweep import sweep_points
from homeoplastic.bundle import BundlePolicy, Member, digest, owner, plan, run_bundle
from homeoplastic.stage import StageOutcome

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


def _group(point) -> tuple:
    return tuple((k, repr(v)) for k, v in point.settings().items() if k != "seed")


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
                              lambda sid, s=stage, r=reps: _group(r[sid].stage_point(s)))
    by_run = lambda rid: _group(runs[rid].point)  # noqa: E731
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


# ------------------------------------------------------------------------ the job
def run_step_bundle(step: str, section: Mapping[str, Any], members_json: str, expected: str,
                    manifest: str, *, chunk_s: float | None = None,
                    checkpoint_every_s: float | None = None) -> list[StageOutcome]:
    """Write a bundle's stores (a stage's or the analysis), each as its unbundled job would.

    The members' settings are resolved again from the config and must give the fingerprint the
    plan saw (``expected``); else the config or code changed between planning and running.
    """
    from homeoplastic.analysis.assemblies import analyze_stage
    from homeoplastic.assemblies.stages import keeps_state, run_stage
    from homeoplastic.store import settings_fingerprint

    members = json.loads(members_json)
    wanted = {m["run"] for m in members}
    runs = resolve_runs(section, [p for p in sweep_points(section) if p.run_id in wanted])
    found = members_digest(step, members, runs)
    if found != expected:
        raise RuntimeError(f"{step} bundle {manifest}: its members' settings differ from those "
                           "the workflow planned (the config or the code changed since); "
                           "rerun snakemake")
    jobs = []
    for m in members:
        params = member_params(step, runs[m["run"]])
        jobs.append(Member(label=m["run"], output=m["output"], inputs=m["inputs"], params=params,
                           fingerprint=settings_fingerprint({"assemblies": json.loads(params)})))

    def run_one(member: Member) -> StageOutcome:
        if step == "analyze":
            analyze_stage(member.params, member.inputs, member.output)
            return StageOutcome("completed", member.output)
        return run_stage(step, member.params, member.inputs, member.output, chunk_s=chunk_s,
                         checkpoint_every_s=checkpoint_every_s,
                         keep_state=keeps_state(section, step, runs[member.label].point.rule))

    return run_bundle(jobs, run_one, manifest, step=step)


def draw_figure_bundle(step: str, members_json: str, manifest: str) -> None:
    """Draw a bundle's per-run figures (``figure_run`` or ``figure_probe``), one per member
    (figures take seconds: a rerun bundle draws all of its members again), then its manifest."""
    members = json.loads(members_json)
    if step == "figure_probe":
        from homeoplastic.figures.probe import save_probe_figure

        def draw(m: Mapping[str, Any]) -> None:
            save_probe_figure(m["inputs"]["before"], m["inputs"]["after"], m["figure"])
    else:
        from homeoplastic.figures.assemblies import save_run_overview

        def draw(m: Mapping[str, Any]) -> None:
            save_run_overview(m["inputs"], m["output"], json.loads(m["settings"]), m["run"],
                              m["figure"])

    def run_one(member: Member) -> StageOutcome:
        draw(by_label[member.label])
        return StageOutcome("completed", member.output)

    by_label = {m["run"]: m for m in members}
    jobs = [Member(label=m["run"], output=m["figure"]) for m in members]
    run_bundle(jobs, run_one, manifest, step=step, keep_current=False)
