"""Bundled jobs of the balancing model (``balancing.bundle``): several points per job.

A random network balances in milliseconds and an XOR network in about a second, so their jobs
are mostly start-up: by default ``points_per_job: 12`` (the default sweep's 36 networks are 3
jobs). RNN training and its robustness evaluation take tens of seconds a run, so they stay one
job per run (``rnn_points_per_job: auto``) until the RNN experiment has more runs than
``max_jobs_per_step``. Each store is written where its own job would write it, with the same
params, so a store is the same bit for bit bundled or not (see :mod:`homeoplastic.step_bundles`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from homeoplastic.balancing.runs import (
    balance_params,
    rnn_points,
    robustness_params,
    run_ids,
    sweep_points,
    train_params,
)
from homeoplastic.bundle import BundlePolicy
from homeoplastic.stage import StageOutcome
from homeoplastic.step_bundles import RuleBundles, StepPlan, plan_steps, run_step, seedless
from homeoplastic.sweep import Point

STEPS = {"balance": "points_per_job", "xor": "points_per_job",
         "train_rnn": "rnn_points_per_job", "robustness": "rnn_points_per_job"}
"""The bundled steps and the ``balancing.bundle`` key that sizes each."""
XOR_SETTINGS = ("n", "spread", "sigma", "n_trials", "t_max")
"""The ``balancing.xor`` keys an XOR store depends on."""

Key = Point | int
"""What a step's member is: a sweep or RNN point, or an XOR seed."""


def policy(section: Mapping[str, Any], step: str) -> BundlePolicy:
    """The bundle policy of one step from ``balancing.bundle``."""
    bundle = dict(section.get("bundle") or {})
    return BundlePolicy(points_per_job=bundle.get(STEPS[step], "auto"),
                        max_jobs_per_step=int(bundle.get("max_jobs_per_step", 500)))


def xor_key(seed: int) -> str:
    """An XOR store's folder (and member key): ``seed~0``."""
    return f"seed~{int(seed)}"


def step_keys(section: Mapping[str, Any], sweep: Mapping[str, Point],
              rnn: Mapping[str, Point]) -> dict[str, dict[str, Key]]:
    """Each bundled step's members (key -> point or seed), from the resolved runs."""
    xor = section.get("xor", {}) or {}
    seeds = list(xor.get("seeds", [])) if xor.get("enabled", True) else []
    return {"balance": dict(sweep), "xor": {xor_key(s): int(s) for s in seeds},
            "train_rnn": dict(rnn), "robustness": dict(rnn)}


def plan_bundles(section: Mapping[str, Any],
                 keys: Mapping[str, Mapping[str, Key]]) -> tuple[StepPlan, list[str]]:
    """The steps' bundles, and a log line for each bundled step."""
    sizes = {step: policy(section, step).size(len(keys[step])) for step in STEPS}
    groups = {step: {k: seedless(v.settings()) if isinstance(v, Point) else ()
                     for k, v in keys[step].items()} for step in STEPS}
    plan = plan_steps(groups, sizes)
    notes = [f"balancing_{step}: {len(keys[step])} stores, {sizes[step]} per job, "
             f"{len(plan.bundles[step])} jobs (balancing.bundle.{STEPS[step]}: "
             f"{policy(section, step).points_per_job})" for step in STEPS if plan.bundled(step)]
    return plan, notes


STORES = {"balance": "sweep/{key}/balance.zarr", "xor": "xor/{key}/xor.zarr",
          "train_rnn": "rnn/{key}/train.zarr", "robustness": "rnn/{key}/robust.zarr"}
"""Where each step's store lives under ``results/balancing`` (as the unbundled rules write it)."""


def rule_bundles(section: Mapping[str, Any], directory: str,
                 keys: Mapping[str, Mapping[str, Key]]) -> tuple[RuleBundles, list[str]]:
    """The balancing rules' bundles (stores under ``directory``, manifests in its ``bundles``
    folder), and a log line per bundled step."""
    plan, notes = plan_bundles(section, keys)
    return RuleBundles(
        plan, f"{directory}/bundles",
        store=lambda step, key: f"{directory}/" + STORES[step].format(key=key),
        reads=lambda step, key: {"train": ("train_rnn", key)} if step == "robustness" else {},
        params=lambda step, key: member_params(section, step, keys[step][key])), notes


def xor_params(section: Mapping[str, Any], seed: int) -> str:
    """The XOR stage's params: the seed and the ``balancing.xor`` keys it reads."""
    xor = section["xor"]
    return json.dumps({"point": {"seed": int(seed)}, "run": {"seed": int(seed)},
                       "settings": {k: xor[k] for k in XOR_SETTINGS}}, sort_keys=True)


def member_params(section: Mapping[str, Any], step: str, key: Key) -> str:
    """The params of one member's store: the unbundled rule's params, the same JSON."""
    if step == "xor":
        return xor_params(section, int(key))
    make = {"balance": balance_params, "train_rnn": train_params,
            "robustness": robustness_params}[step]
    return make(section, key)


def fingerprint(params: str) -> str:
    """The ``settings_sha256`` of a store written with ``params`` (its settings)."""
    from homeoplastic.store import settings_fingerprint

    return settings_fingerprint(json.loads(params)["settings"])


def resolve(section: Mapping[str, Any], step: str) -> dict[str, Key]:
    """A step's members resolved again from the config (what a bundle job checks against)."""
    if step == "balance":
        return dict(run_ids(sweep_points(section)))
    if step in ("train_rnn", "robustness"):
        return dict(run_ids(rnn_points(section)))
    return step_keys(section, {}, {})["xor"]


def run_step_bundle(step: str, section: Mapping[str, Any], members: str, expected: str,
                    manifest: str) -> list[StageOutcome]:
    """The job of one bundle: each member's store, as :func:`balancing.stages.run_stage` writes
    it for the unbundled rule, then the manifest."""
    from homeoplastic.balancing.stages import run_stage

    keys = resolve(section, step)
    return run_step(step, members, expected, manifest,
                    params_of=lambda key: member_params(section, step, keys[key]),
                    fingerprint_of=fingerprint,
                    run_one=lambda params, inputs, output: run_stage(step, params, inputs,
                                                                     output))
