"""A stage reads only the stores it should: another stage's store, another run's store or a
damaged one is refused with the store named, a setting the sweep would replace is an error, and
a finished stage leaves no checkpoint debris."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homeoplastic.assemblies.params import ParameterError
from homeoplastic.assemblies.protocol import remove_checkpoints
from homeoplastic.assemblies.stages import input_run_id, run_settings, run_stage, stage_params
from homeoplastic.assemblies.sweep import sweep_point
from homeoplastic.store import StoreError

from .test_stages import _section

KEY = "network.istdp.target_rate_hz"


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict[str, Path]:
    """simulate and train of two seeds at N = 200."""
    tmp = tmp_path_factory.mktemp("inputs")
    stores: dict[str, Path] = {}
    for seed in (1, 2):
        run = run_settings(_section(), sweep_point(200, "voltage", 1.0, seed))
        sim, train = tmp / f"s{seed}" / "simulate.zarr", tmp / f"s{seed}" / "train.zarr"
        assert run_stage("simulate", stage_params(run, "simulate"), {}, str(sim)).completed
        assert run_stage("train", stage_params(run, "train"), {"previous": str(sim)},
                         str(train)).completed
        stores[f"simulate{seed}"], stores[f"train{seed}"] = sim, train
    return stores


def _spontaneous(tmp_path: Path, previous: Path, seed: int = 1):
    run = run_settings(_section(), sweep_point(200, "voltage", 1.0, seed))
    return run_stage("spontaneous_recurrent", stage_params(run, "spontaneous_recurrent"),
                     {"previous": str(previous)}, str(tmp_path / "spontaneous.zarr"))


def test_the_right_input_runs(chain, tmp_path):
    assert _spontaneous(tmp_path, chain["train1"]).completed


def test_a_store_of_another_stage_is_refused_by_name(chain, tmp_path):
    copied = tmp_path / "train.zarr"
    shutil.copytree(chain["simulate1"], copied)  # simulate.zarr copied over train.zarr
    with pytest.raises(StoreError, match=r"simulate.*train|train.*simulate") as caught:
        _spontaneous(tmp_path, copied)
    assert str(copied) in str(caught.value)
    assert not (tmp_path / "spontaneous.zarr").exists()


def test_a_store_of_another_run_is_refused(chain, tmp_path):
    with pytest.raises(StoreError, match="seed~2"):
        _spontaneous(tmp_path, chain["train2"], seed=1)


def test_a_store_of_other_network_settings_is_refused(chain, tmp_path):
    section = {**_section(), "network": {"connectivity": {"size_scaling": "mean_input"},
                                         "istdp": {"target_rate_hz": 5.0}}}
    run = run_settings(section, sweep_point(200, "voltage", 1.0, 1))
    with pytest.raises(StoreError, match=r"other network settings.*network.istdp.target_rate_hz"):
        run_stage("spontaneous_recurrent", stage_params(run, "spontaneous_recurrent"),
                  {"previous": str(chain["train1"])}, str(tmp_path / "spontaneous.zarr"))


def test_a_damaged_store_is_refused(chain, tmp_path):
    damaged = tmp_path / "train.zarr"
    shutil.copytree(chain["train1"], damaged)
    chunk = next(p for p in sorted((damaged / "state").rglob("c/*")) if p.is_file())
    chunk.unlink()
    with pytest.raises(StoreError, match=str(damaged)):
        _spontaneous(tmp_path, damaged)


def test_analyze_refuses_a_swapped_or_damaged_stage_store(chain, tmp_path):
    from homeoplastic.analysis.assemblies import analyze_stage

    run = run_settings(_section(), sweep_point(200, "voltage", 1.0, 1))
    params = {"sweep": run.point.visible(), "analysis": {"reactivation_threshold_factor": 4.0,
                                                         "reactivation_min_hz": 1.0,
                                                         "train_rate_bin_s": 0.1}}
    stores = {"simulate": str(chain["simulate1"]), "train": str(chain["simulate1"])}
    with pytest.raises(StoreError, match="train"):
        analyze_stage(params, stores, str(tmp_path / "analyze.zarr"))
    stores["train"] = str(chain["train2"])  # another seed's training
    with pytest.raises(StoreError, match="seed~2"):
        analyze_stage(params, stores, str(tmp_path / "analyze.zarr"))
    stores["train"] = str(chain["train1"])
    analyze_stage(params, stores, str(tmp_path / "analyze.zarr"))
    assert (tmp_path / "analyze.zarr").exists()


def test_the_input_run_id_drops_only_what_the_input_stage_does_not_read():
    point = sweep_point(200, "voltage", 1.0, 1, **{KEY: 5.0, "protocol.spontaneous_s": 0.3})
    base = "n_neurons~200_rule~voltage_learning_speed~1_seed~1"
    assert input_run_id(point, "train") == f"{base}_{KEY}~5"
    assert input_run_id(point, "spontaneous_recurrent") == \
        f"{base}_{KEY}~5_protocol.spontaneous_s~0.3"


@pytest.mark.parametrize("network, named", [
    ({"connectivity": {"n_neurons": 10000}}, "assemblies.sweep.n_neurons"),
    ({"plasticity": {"learning_speed": 2.0}}, "assemblies.sweep.learning_speed"),
    ({"plasticity": {"ee_rule": "triplet"}}, "assemblies.sweep.rule = voltage"),
])
def test_a_network_setting_the_sweep_replaces_is_an_error_naming_both(network, named):
    section = {**_section(), "network": network}
    with pytest.raises(ParameterError) as caught:
        run_settings(section, sweep_point(200, "voltage", 1.0, 1))
    key = next(iter(network)) + "." + next(iter(next(iter(network.values()))))
    assert f"assemblies.network.{key}" in str(caught.value) and named in str(caught.value)
    # the same value as the sweep's is no conflict
    same = {"plasticity": {"ee_rule": "voltage", "learning_speed": 1.0}}
    assert run_settings({**_section(), "network": same}, sweep_point(200, "voltage", 1.0, 1))


def test_a_finished_stage_leaves_no_checkpoint_debris(tmp_path):
    out = tmp_path / "train.zarr"
    ckpts = tmp_path / ".checkpoints"
    for name in ("train.zarr.ckpt", "train.zarr.pre.ckpt", ".train.zarr.ckpt.old-123",
                 ".train.zarr.ckpt.tmp-456", "simulate.zarr.ckpt"):
        (ckpts / name).mkdir(parents=True)
    (ckpts / ".train.zarr.ckpt.old-789").touch()
    remove_checkpoints(out)
    assert sorted(p.name for p in ckpts.iterdir()) == ["simulate.zarr.ckpt"]
