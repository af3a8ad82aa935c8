"""Bundled jobs of the reduced model (``reduced.bundle``): several stores of a stage per job.

A reduced-model store takes seconds at the default sizes, about what a job's start-up costs, so
by default a job writes up to ``points_per_job: 12`` stores of one stage (simulate, train or
analyze) in turn, each where its own job would, with the same params; a stage of one store per
job keeps its one-job-per-store rule (``points_per_job: 1`` plans exactly the unbundled jobs).
Snakemake tracks one manifest per bundle; see :mod:`homeoplastic.step_bundles`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from homeoplastic.bundle import BundlePolicy
from homeoplastic.reduced.experiments import STAGE_TABLE
from homeoplastic.reduced.runs import Workflow, points, stage_params, stage_point, stage_run_id
from homeoplastic.stage import StageOutcome
from homeoplastic.step_bundles import RuleBundles, plan_steps, run_step, seedless
from homeoplastic.sweep import Point


def member_params(section: Mapping[str, Any], point: Point, stage: str) -> str:
    """One store's params as one JSON string: the unbundled rule's ``cfg`` and ``point``."""
    return json.dumps(stage_params(section, point, stage), sort_keys=True)


def fingerprint(params: str) -> str:
    """The ``settings_sha256`` of a store written with ``params`` (its stage's settings)."""
    from homeoplastic.store import settings_fingerprint

    return settings_fingerprint(json.loads(json.loads(params)["cfg"]))


class Bundles(RuleBundles):
    """The reduced rules' bundles (see :class:`homeoplastic.step_bundles.RuleBundles`); a store's
    key is its run folder (``Workflow.runs[stage]``)."""

    def __init__(self, workflow: Workflow) -> None:
        self.wf = workflow
        self.policy = BundlePolicy.from_config(workflow.section.get("bundle"))
        runs = workflow.runs
        sizes = {stage: self.policy.size(len(runs[stage])) for stage in STAGE_TABLE}
        groups = {stage: {key: seedless(stage_point(point, stage).settings())
                          for key, point in runs[stage].items()} for stage in STAGE_TABLE}
        super().__init__(
            plan_steps(groups, sizes), f"{workflow.results}/bundles",
            store=lambda stage, key: f"{workflow.results}/{key}/{stage}.zarr",
            reads=lambda stage, key: {
                name: (source, stage_run_id(runs[stage][key], source))
                for name, source in STAGE_TABLE[stage].inputs},
            params=lambda stage, key: member_params(workflow.section, runs[stage][key], stage))

    def notes(self) -> list[str]:
        """A log line per bundled stage."""
        return [f"reduced_{stage}: {len(self.wf.runs[stage])} stores, "
                f"{len(self.plan.bundles[stage])} jobs (reduced.bundle.points_per_job: "
                f"{self.policy.points_per_job})" for stage in self.plan.bundles]

    def stage_regex(self, stage: str) -> str:
        """The one-job-per-store rule's wildcard constraint (none when the stage is bundled)."""
        return self.run_regex(stage, self.wf.runs[stage])

    def store_targets(self, stores: Iterable[str]) -> list[str]:
        """Stores (``<results>/<key>/<stage>.zarr``) as Snakemake tracks them."""
        return sorted({self.target(Path(s).stem, Path(s).parent.name) for s in stores})

    def all_targets(self) -> list[str]:
        return self.store_targets(self.wf.all_stores())

    def figure_params(self, stores_of: Callable[[Any], list[str]]) -> dict[str, Any]:
        """A figure rule's extra params when anything is bundled: ``stores``, the stores it
        draws (JSON; a manifest also lists stores the figure does not draw). Empty otherwise,
        so that the unbundled rule's params are today's."""
        if not self.plan.bundles:
            return {}
        return {"stores": lambda wc: json.dumps(sorted(stores_of(wc)))}


def resolve(section: Mapping[str, Any], stage: str) -> dict[str, Point]:
    """A stage's stores (key -> a point that has it), resolved again from the config."""
    out: dict[str, Point] = {}
    for point in points(section):
        out.setdefault(stage_run_id(point, stage), point)
    return out


def run_stage_bundle(stage: str, section: Mapping[str, Any], members: str, expected: str,
                     manifest: str) -> list[StageOutcome]:
    """The job of one bundle: each member's store as the unbundled rule writes it, then the
    manifest."""
    from homeoplastic.reduced.experiments import run_stage

    keys = resolve(section, stage)

    def run_one(params: str, inputs: Mapping[str, str], output: str) -> StageOutcome:
        p = json.loads(params)
        return run_stage(stage, {"settings": p["cfg"], "point": p["point"]}, inputs, output)

    return run_step(stage, members, expected, manifest,
                    params_of=lambda key: member_params(section, keys[key], stage),
                    fingerprint_of=fingerprint, run_one=run_one)
