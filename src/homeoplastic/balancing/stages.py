"""The balancing model's stages: one table of :class:`homeoplastic.stage.Stage` rows and the one
entry the workflow calls, ``run_stage(stage, params, inputs, output) -> StageOutcome``.

The contract of every model: a rule's ``params`` hold the JSON of only what changes its store (the
run's visible point, for the store's attrs, and the settings the stage reads, resolved by
:mod:`homeoplastic.balancing.runs` before any job), ``inputs`` maps an input's name to its store
(or list of stores), and :func:`run_stage` builds the model's settings objects (checked again,
naming the key), runs the stage and writes its store atomically with provenance and timing
(:func:`homeoplastic.store.timed_write`). Every store carries ``sweep_json`` (the run's visible
point) and ``settings_json`` (the flat settings it depended on).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from homeoplastic.balancing.experiments import (
    RNNSetup,
    SweepPoint,
    balance_sweep_point,
    perturbation_experiment,
    rnn_robustness,
    rnn_train,
    sweep_summary,
    two_neuron_experiment,
    xor_experiment,
)
from homeoplastic.balancing.rnn import TrainConfig
from homeoplastic.balancing.runs import RNN_EVAL_KEYS, RNN_SETUP_KEYS, RNN_TRAIN_KEYS
from homeoplastic.balancing.sweep_data import open_points
from homeoplastic.parameters import config_keys, from_mapping
from homeoplastic.stage import Stage, StageOutcome, table_index
from homeoplastic.store import load_group, open_store, timed_write, verify_store, write_point

__all__ = ["RNN_EVAL_KEYS", "RNN_SETUP_KEYS", "RNN_TRAIN_KEYS", "STAGES", "STAGE_TABLE",
           "StageError", "run_stage"]

Result = xr.Dataset | tuple[xr.Dataset, Mapping[str, xr.Dataset]]
Planned = tuple[int, Callable[[], Result]]
"""A stage's seed and its computation (which run_stage times)."""


class StageError(ValueError):
    """A stage name, a setting or an input the stage cannot run with; names the key."""


class Params:
    """A stage's params: ``settings`` (the section's keys it reads), ``point`` (the run's visible
    values, for the store's attrs) and ``run`` (named values that are not settings)."""

    def __init__(self, stage: Stage, section: str, raw: Mapping[str, Any]) -> None:
        self.stage, self.section = stage, section
        self.settings = dict(raw.get("settings", {}))
        self.point = dict(raw.get("point", {}))
        self.run = dict(raw.get("run", {}))

    def value(self, key: str) -> Any:
        """A setting the stage declares; a missing one raises naming ``balancing.<section>.key``."""
        if key not in self.settings:
            raise StageError(f"balancing.{self.section}.{key} is missing from the params of stage "
                             f"{self.stage.name!r}")
        return self.settings[key]

    def of(self, cls: type) -> dict[str, Any]:
        return {key: self.value(key) for key in config_keys(cls)}

    def named(self, key: str) -> Any:
        if key not in self.run:
            raise StageError(f"stage {self.stage.name!r} needs the run value {key!r} in its params")
        return self.run[key]


# ------------------------------------------------------------------------------- the stages
def _balance(p: Params, inputs: Mapping[str, Any]) -> Planned:
    pt = from_mapping(SweepPoint, {k: p.value(k) for k in ("n", "rank", "p", "seed",
                                                            *config_keys(SweepPoint))},
                      "balancing.sweep")
    return pt.seed, lambda: balance_sweep_point(pt)


def _analyze(p: Params, inputs: Mapping[str, Any]) -> Planned:
    return 0, lambda: sweep_summary(open_points(inputs["stores"])).compute()


def _two_neuron(p: Params, inputs: Mapping[str, Any]) -> Planned:
    b, c, diag, p_values, t_max, dt = (p.value(k) for k in ("b", "c", "diag", "exponents",
                                                             "t_max", "dt"))
    return 0, lambda: two_neuron_experiment(b=b, c=c, diag=diag, p_values=p_values, t_max=t_max,
                                            dt=dt)


def _perturb(p: Params, inputs: Mapping[str, Any]) -> Planned:
    side, eps, cost_p, eps_sweep = (p.value(k) for k in ("side", "eps", "p", "eps_sweep"))
    return 0, lambda: perturbation_experiment(side=side, eps=eps, p=cost_p, eps_sweep=eps_sweep)


def rnn_setup(p: Params) -> RNNSetup:
    """The RNN's size and task from ``balancing.rnn``."""
    return from_mapping(RNNSetup, p.of(RNNSetup), "balancing.rnn")


def train_config(p: Params) -> TrainConfig:
    """One training arm's optimiser settings: lambda is the L2 penalty of the ``l2`` arm and the
    balancing rate of the ``balance`` arm."""
    arm, lam = p.named("arm"), float(p.named("lam"))
    return from_mapping(TrainConfig, {"arm": arm, "l2_lambda": lam if arm == "l2" else 0.0,
                                      "balance_rate": lam if arm == "balance" else 0.0,
                                      **p.of(TrainConfig)}, "balancing.rnn")


def _train_rnn(p: Params, inputs: Mapping[str, Any]) -> Planned:
    setup = rnn_setup(p)
    cfg, seed = train_config(p), int(p.named("seed"))
    n_permutations = p.value("n_permutations")
    return seed, lambda: rnn_train(setup, cfg, seed, n_permutations)


def _robustness(p: Params, inputs: Mapping[str, Any]) -> Planned:
    train_path = inputs["train"]
    setup = rnn_setup(p)
    args = [p.value(k) for k in ("noise_sigmas", "n_trial_sets")]
    rest = [p.value(k) for k in ("dt", "substeps", "gain_floor", "silent_gain")]
    seed = int(open_store(train_path).attrs["seed"])
    return seed, lambda: rnn_robustness(load_group(train_path, "state"), setup, *args, seed,
                                        *rest)


def _xor(p: Params, inputs: Mapping[str, Any]) -> Planned:
    seed = int(p.named("seed"))
    n, spread, sigma, n_trials, t_max = (p.value(k) for k in ("n", "spread", "sigma", "n_trials",
                                                              "t_max"))
    return seed, lambda: xor_experiment(n, spread, sigma, seed, n_trials, t_max)


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("balance", _balance, settings=("n", "rank", "p", "seed", "sweep"),
          description="balance one random network of the sweep"),
    Stage("analyze", _analyze, inputs=(("stores", "balance"),),
          description="mean and spread over seeds of every point"),
    Stage("two_neuron", _two_neuron, settings=("two_neuron",)),
    Stage("perturb", _perturb, settings=("perturbation",)),
    Stage("train_rnn", _train_rnn, settings=("rnn",)),
    Stage("robustness", _robustness, inputs=(("train", "train_rnn"),), settings=("rnn",)),
    Stage("xor", _xor, settings=("xor",)),
)
STAGES: dict[str, Stage] = table_index(STAGE_TABLE)
SECTIONS = {"balance": "sweep", "analyze": "sweep", "two_neuron": "two_neuron",
            "perturb": "perturbation", "train_rnn": "rnn", "robustness": "rnn", "xor": "xor"}
"""The ``balancing`` section whose keys a stage's params hold (for error messages)."""


def run_stage(stage: str | Stage, params: str | Mapping[str, Any],
              inputs: Mapping[str, str | Sequence[str]], output: str | Path) -> StageOutcome:
    """Run one balancing stage and write its store (atomic, timed, with provenance attrs).

    ``params`` is the rule's params JSON (or the mapping): ``{"settings": ..., "point": ...,
    "run": ...}``; ``inputs`` maps each input the table row names to its store (``stores``: a list).
    Raises :class:`StageError` naming the stage, the setting or the input it cannot run with.
    """
    name = stage.name if isinstance(stage, Stage) else stage
    if name not in STAGES:
        raise StageError(f"stage = {name!r} is unknown; allowed: {list(STAGES)}")
    spec = STAGES[name]
    raw = json.loads(params) if isinstance(params, str) else params
    if not isinstance(raw, Mapping):
        raise StageError(f"params of stage {name!r} must be a JSON object, got {raw!r}")
    wanted = {key for key, _ in spec.inputs}
    inputs = dict(inputs)
    if set(inputs) != wanted:
        raise StageError(f"stage {name!r} reads the inputs {sorted(wanted)}, got {sorted(inputs)}")
    p = Params(spec, SECTIONS[name], raw)
    seed, compute = spec.run(p, inputs)  # resolves the settings: a bad one is named first
    for key, source in spec.inputs:  # damaged or another stage's stores are refused by name
        for path in [inputs[key]] if isinstance(inputs[key], (str, Path)) else inputs[key]:
            verify_store(path, stage=STAGES[source].stage_attr)
    write_point(output, p.point)
    settings_flat = {f"{SECTIONS[name]}.{k}" if k not in ("n", "rank", "p", "seed") or name !=
                     "balance" else k: v for k, v in p.settings.items()}
    timed_write(output, compute, stage=spec.stage_attr, config=p.settings, seed=seed,
                sweep=p.point, settings_json=json.dumps(settings_flat, sort_keys=True))
    return StageOutcome("completed", str(output))
