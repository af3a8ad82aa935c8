"""Bundles for models whose per-point steps are short (balancing, reduced): which steps are
bundled, which bundle writes each store, and the job that runs a bundle.

The machinery is :mod:`homeoplastic.bundle`'s (plans, manifests, what to keep); this module adds
what the spiking model's :mod:`homeoplastic.assemblies.bundles` does for its own stage table, but
for a model that describes a step by a callback (``params_of(key)``: the JSON the unbundled rule
would pass as its params). A step of bundle size 1 is not bundled: its one-job-per-point rule runs
as before, so ``points_per_job: 1`` plans exactly the unbundled jobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeoplastic.bundle import Member, digest, owner, plan, run_bundle
from homeoplastic.stage import StageOutcome


@dataclass(frozen=True)
class StepPlan:
    """The bundles of each bundled step (id -> member keys, e.g. run ids), and which bundle
    writes each key; a step absent from ``bundles`` runs one job per key."""

    bundles: Mapping[str, Mapping[str, tuple[str, ...]]]
    owners: Mapping[str, Mapping[str, str]]

    def bundled(self, step: str) -> bool:
        return step in self.bundles

    def owner_of(self, step: str, key: str) -> str:
        return self.owners[step][key]


def plan_steps(groups: Mapping[str, Mapping[str, Hashable]],
               sizes: Mapping[str, int]) -> StepPlan:
    """Bundle every step whose size is above 1: ``groups[step]`` maps each member key, in
    order, to its group (the point without its seed, so that seeds share bundles)."""
    bundles = {step: plan(list(keys), sizes[step], keys.__getitem__)
               for step, keys in groups.items() if sizes[step] > 1 and keys}
    return StepPlan(bundles, {step: owner(b) for step, b in bundles.items()})


def seedless(values: Mapping[str, Any]) -> tuple:
    """A point's group: its values other than the seed (hashable)."""
    return tuple((k, repr(v)) for k, v in sorted(values.items()) if k != "seed")


def members_json(keys: Sequence[str], output_of: Callable[[str], str],
                 inputs_of: Callable[[str], Mapping[str, str]]) -> str:
    """A bundle's members as a rule's params: each key with its store and its inputs."""
    return json.dumps([{"key": k, "output": output_of(k), "inputs": dict(inputs_of(k))}
                       for k in keys], sort_keys=True)


def members_digest(members: Sequence[Mapping[str, Any]], params_of: Callable[[str], str]) -> str:
    """The rule's settings fingerprint: any edit of a member's params changes it (and reruns the
    bundle, which then recomputes only the members whose settings changed)."""
    return digest(f"{m['output']}\t{params_of(m['key'])}" for m in members)


class RuleBundles:
    """What a model's rules need of its bundles: for each store, what Snakemake tracks (the
    store, or its bundle's manifest under ``manifests/<step>/<bundle>.json``), and per bundle
    rule the functions of its wildcards (members, settings digest, inputs, runtime).

    ``store(step, key)`` places a store; ``reads(step, key)`` names the stores it reads
    (input name -> (step, key)); ``params(step, key)`` is its unbundled rule's params JSON.
    """

    def __init__(self, plan: StepPlan, manifests: str, store: Callable[[str, str], str],
                 reads: Callable[[str, str], Mapping[str, tuple[str, str]]],
                 params: Callable[[str, str], str]) -> None:
        self.plan, self.manifests = plan, manifests
        self.store, self.reads, self.params = store, reads, params

    def bundled(self, step: str) -> bool:
        return self.plan.bundled(step)

    def manifest(self, step: str, bundle: str) -> str:
        return f"{self.manifests}/{step}/{bundle}.json"

    def target(self, step: str, key: str) -> str:
        """What Snakemake tracks for a store: itself, or its bundle's manifest."""
        if not self.bundled(step):
            return self.store(step, key)
        return self.manifest(step, self.plan.owner_of(step, key))

    def targets(self, step: str, keys: Iterable[str]) -> list[str]:
        """The targets of ``keys``' stores, each once, in order."""
        return list(dict.fromkeys(self.target(step, key) for key in keys))

    def run_regex(self, step: str, keys: Iterable[str]) -> str:
        """The one-job-per-store rule's wildcard constraint: ``keys``, none when bundled."""
        from homeoplastic.sweep import id_regex

        return id_regex(() if self.bundled(step) else keys)

    def members(self, step: str) -> Callable[[Any], str]:
        """A bundle's members as JSON: each store's key, output and inputs."""
        def get(wc) -> str:
            return members_json(
                self.plan.bundles[step][wc.bundle], lambda k: self.store(step, k),
                lambda k: {name: self.store(*src) for name, src in self.reads(step, k).items()})
        return get

    def digest(self, step: str) -> Callable[[Any], str]:
        """Fingerprint of the members' params: an edit of any member reruns the bundle (which
        recomputes only the stores whose settings changed)."""
        def get(wc) -> str:
            return members_digest(json.loads(self.members(step)(wc)),
                                  lambda k: self.params(step, k))
        return get

    def inputs(self, step: str) -> Callable[[Any], list[str]]:
        """The targets (stores or manifests) of the stores a bundle's members read."""
        def get(wc) -> list[str]:
            return sorted({self.target(*src) for k in self.plan.bundles[step][wc.bundle]
                           for src in self.reads(step, k).values()})
        return get

    def runtime(self, step: str, per_store: int) -> Callable[[Any, int], int]:
        """A bundle's runtime limit (minutes): one store's limit per member."""
        def get(wc, attempt: int) -> int:
            return per_store * len(self.plan.bundles[step][wc.bundle]) * attempt
        return get


def run_step(step: str, members: str | Sequence[Mapping[str, Any]], expected: str,
             manifest: str, params_of: Callable[[str], str],
             fingerprint_of: Callable[[str], str],
             run_one: Callable[[str, Mapping[str, str], str], StageOutcome]) -> list[StageOutcome]:
    """Write a bundle's stores in turn, each as the unbundled job would, then its manifest.

    ``params_of(key)`` resolves a member's params from today's config and code; they must give
    the fingerprint the plan saw (``expected``), else the config or the code changed between
    planning and running. ``fingerprint_of(params)`` is the ``settings_sha256`` the member's
    store carries when written with them (a complete store with it and unchanged inputs is kept);
    ``run_one(params, inputs, output)`` writes one store.
    """
    found = json.loads(members) if isinstance(members, str) else list(members)
    params = {m["key"]: params_of(m["key"]) for m in found}
    if members_digest(found, params.__getitem__) != expected:
        raise RuntimeError(f"{step} bundle {manifest}: its members' settings differ from those "
                           "the workflow planned (the config or the code changed since); "
                           "rerun snakemake")
    jobs = [Member(label=m["key"], output=m["output"], inputs=m["inputs"], params=params[m["key"]],
                   fingerprint=fingerprint_of(params[m["key"]])) for m in found]
    return run_bundle(jobs, lambda m: run_one(m.params, m.inputs, m.output), manifest, step=step)
