"""The spiking model's bundle jobs: write a bundle's stage or analysis stores, or draw its
per-run figures (what ``workflow/scripts/assemblies_bundle.py`` and
``assemblies_figure_bundle.py`` run; the plan is :mod:`homeoplastic.assemblies.bundles`).

This module sits above the model, the analysis and the figures: it runs each of them for a
bundle's members, as their own jobs would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeoplastic.assemblies.bundles import member_params, members_digest
from homeoplastic.assemblies.stages import resolve_runs
from homeoplastic.assemblies.sweep import sweep_points
from homeoplastic.bundle import Member, run_bundle
from homeoplastic.stage import StageOutcome


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
        Path(member.output).parent.mkdir(parents=True, exist_ok=True)  # not a Snakemake output
        draw(by_label[member.label])
        return StageOutcome("completed", member.output)

    by_label = {m["run"]: m for m in members}
    jobs = [Member(label=m["run"], output=m["figure"]) for m in members]
    run_bundle(jobs, run_one, manifest, step=step, keep_current=False)
