"""Bundles: how points are grouped into jobs, and which stores a bundle keeps or recomputes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import xarray as xr

from homeoplastic.bundle import (
    BundlePolicy,
    Member,
    is_current,
    plan,
    record_inputs,
    run_bundle,
    stores_of,
)
from homeoplastic.stage import StageOutcome
from homeoplastic.store import provenance_attrs, settings_fingerprint, write_store


def _ids(groups: int, seeds: int) -> list[str]:
    return [f"n~{g}_seed~{s}" for g in range(groups) for s in range(seeds)]


def _group(store: str) -> str:
    return store.split("_seed")[0]


def test_policy_bundles_only_above_the_job_limit_and_by_the_given_size():
    auto = BundlePolicy()
    assert auto.size(500) == 1 and auto.size(501) == 2 and auto.size(10_080) == 21
    assert BundlePolicy(points_per_job=5).size(3) == 5
    assert "21 points per job" in auto.describe(10_080, "assemblies")


def test_plan_covers_every_store_once_and_no_bundle_exceeds_the_size():
    stores = _ids(7, 13)
    bundles = plan(stores, 5, _group)
    members = [s for b in bundles.values() for s in b]
    assert sorted(members) == sorted(stores) and len(members) == len(stores)
    assert max(map(len, bundles.values())) == 5
    # a group of at least the size is cut into bundles of its own: none mixes two such groups
    assert all(len({_group(s) for s in b}) == 1 for b in bundles.values())


def test_adding_seeds_keeps_the_full_bundles_of_every_group():
    """Growing a sweep regroups as little as possible: the full bundles stay (same name, same
    members), so their jobs do not run again."""
    before = plan(_ids(4, 10), 5, _group)
    after = plan(_ids(4, 12), 5, _group)
    assert set(before) <= set(after)
    assert len(set(after) - set(before)) == 4  # one new bundle per group (seeds 10, 11)


def test_small_groups_share_bundles():
    bundles = plan(_ids(6, 2), 5, _group)
    assert sorted(map(len, bundles.values())) == [4, 4, 4]


def _store(path: Path, settings: dict, value: float = 1.0) -> None:
    write_store(path, xr.Dataset({"x": ("t", [value, 2.0])}),
                attrs=provenance_attrs(stage="s", config=settings, seed=1))


def test_a_store_is_current_only_with_its_settings_and_its_inputs(tmp_path):
    upstream, output = tmp_path / "a.zarr", tmp_path / "b.zarr"
    _store(upstream, {"up": 1})
    _store(output, {"me": 1})
    inputs = {"previous": str(upstream)}
    record_inputs(output, inputs)
    fingerprint = settings_fingerprint({"me": 1})
    assert is_current(output, fingerprint, inputs)
    assert not is_current(output, settings_fingerprint({"me": 2}), inputs)  # an edited setting
    _store(upstream, {"up": 1}, value=5.0)  # the input recomputed with other content
    assert not is_current(output, fingerprint, inputs)
    assert not is_current(tmp_path / "missing.zarr", fingerprint, inputs)


def test_a_store_without_a_note_counts_as_current_when_newer_than_its_inputs(tmp_path):
    upstream, output = tmp_path / "a.zarr", tmp_path / "b.zarr"
    _store(upstream, {"up": 1})
    _store(output, {"me": 1})
    fingerprint = settings_fingerprint({"me": 1})
    assert is_current(output, fingerprint, {"previous": str(upstream)})
    later = time.time() + 10
    os.utime(upstream / "zarr.json", (later, later))
    assert not is_current(output, fingerprint, {"previous": str(upstream)})


def test_run_bundle_keeps_current_members_and_writes_a_manifest(tmp_path):
    made = []

    def run_one(member: Member) -> StageOutcome:
        made.append(member.label)
        _store(Path(member.output), {"label": member.label})
        return StageOutcome("completed", member.output)

    members = [Member(label=f"m{i}", output=str(tmp_path / f"m{i}.zarr"),
                      fingerprint=settings_fingerprint({"label": f"m{i}"})) for i in range(3)]
    manifest = tmp_path / "bundle.json"
    run_bundle(members[:2], run_one, manifest, step="s")
    assert made == ["m0", "m1"]
    run_bundle(members, run_one, manifest, step="s")  # the bundle grew by one member
    assert made == ["m0", "m1", "m2"]
    body = json.loads(manifest.read_text())
    assert [m["status"] for m in body["members"]] == ["completed"] * 3
    assert [m["reason"] for m in body["members"]] == ["kept: current", "kept: current", ""]
    assert stores_of([str(manifest), "other.zarr"]) == [m.output for m in members] + ["other.zarr"]


def test_a_failing_member_leaves_no_manifest_and_keeps_the_members_before_it(tmp_path):
    def run_one(member: Member) -> StageOutcome:
        if member.label == "bad":
            raise RuntimeError("diverged")
        _store(Path(member.output), {"label": member.label})
        return StageOutcome("completed", member.output)

    members = [Member(label=name, output=str(tmp_path / f"{name}.zarr"),
                      fingerprint=settings_fingerprint({"label": name})) for name in ("ok", "bad")]
    with pytest.raises(RuntimeError):
        run_bundle(members, run_one, tmp_path / "bundle.json", step="s")
    assert not (tmp_path / "bundle.json").exists()
    assert is_current(members[0].output, members[0].fingerprint, {})


def test_a_large_spiking_sweep_is_bundled_automatically_to_at_most_500_jobs_a_step():
    """2016 runs (7 sizes x 3 rules x 4 speeds x 24 seeds): every store of every step in exactly
    one bundle, no step above 500 jobs, and a bundle's stores differ only in their seed."""
    from homeoplastic.assemblies.bundles import plan_bundles
    from homeoplastic.assemblies.stages import stage_stores, sweep_settings
    from homeoplastic.config import load_schema, validate

    root = Path(__file__).resolve().parents[1]
    section = validate({"sweep": {"n_neurons": [1000, 1500, 2000, 2500, 3000, 4000, 5000],
                                  "rule": ["voltage", "triplet", "calcium"],
                                  "learning_speed": [1.0, 2.0, 4.0, 8.0],
                                  "seed": list(range(24))}},
                       load_schema(root / "workflow/schemas/assemblies.schema.yaml"),
                       where="assemblies")
    runs = sweep_settings(section)
    stores = stage_stores(runs)
    bundles = plan_bundles(runs, stores, BundlePolicy.from_config(section["bundle"]))
    assert len(runs) == 2016 and bundles is not None and bundles.size == 5
    for step, found in bundles.bundles.items():
        keys = list(stores[step]) if step in stores else None
        members = [m for b in found.values() for m in b]
        assert len(members) == len(set(members))
        if keys is not None:
            assert sorted(members) == sorted(keys), step
        assert 0 < len(found) <= 500, (step, len(found))
        for group in found.values():
            assert len({m.rsplit("_seed~", 1)[0] for m in group}) == 1, (step, group)
    assert len(bundles.bundles["analyze"]) == 84 * 5  # 24 seeds: 4 bundles of 5 and one of 4
