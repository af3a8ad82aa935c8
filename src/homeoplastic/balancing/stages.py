"""The balancing model's stages, one table, and the one entry the workflow calls.

The same contract as the spiking model's :mod:`homeoplastic.assemblies.stages`: a rule's ``params``
hold the JSON of only the ``balancing`` settings its stage reads (so an edit reruns exactly what it
affects), its wildcards hold the sweep point, and :func:`run_stage` turns both into one frozen
:class:`StageContext`, runs the stage and writes its store with provenance and timing
(:func:`homeoplastic.store.timed_write`). The library, not the script, builds the model's
settings objects (:class:`SweepPoint`, :class:`RNNSetup`, :class:`TrainConfig`) from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
from homeoplastic.parameters import config_keys, from_mapping
from homeoplastic.store import load_group, open_store, open_sweep, timed_write

Result = xr.Dataset | tuple[xr.Dataset, Mapping[str, xr.Dataset]]

RNN_SETUP_KEYS = config_keys(RNNSetup)
"""``balancing.rnn`` keys of the network and task, read by training and evaluation alike."""


class StageError(ValueError):
    """A stage name, a setting or a sweep value the stage cannot run with; names the key."""


@dataclass(frozen=True)
class StageContext:
    """What a balancing stage receives: its settings (the rule's params) and its sweep point."""

    stage: str
    settings: Mapping[str, Any]
    sweep: Mapping[str, str]

    def value(self, key: str) -> Any:
        """A setting the stage declares; a missing one raises naming ``balancing.<section>.key``."""
        if key not in self.settings:
            raise StageError(f"balancing.{STAGES[self.stage].section}.{key} is missing from the "
                             f"params of stage {self.stage!r}")
        return self.settings[key]

    def point(self, key: str, kind: Callable[[str], Any]) -> Any:
        """A sweep value (wildcard) converted by ``kind``; a missing or bad one names the key."""
        if key not in self.sweep:
            raise StageError(f"stage {self.stage!r} needs the sweep value {key!r}")
        try:
            return kind(self.sweep[key])
        except ValueError:
            raise StageError(f"stage {self.stage!r}: sweep value {key} = {self.sweep[key]!r} "
                             f"is not a {kind.__name__}") from None


# ------------------------------------------------------------------------ settings objects
def _settings(ctx: StageContext, cls: type) -> dict[str, Any]:
    """Every config field of ``cls`` from the stage's params (a missing one names its key)."""
    return {key: ctx.value(key) for key in config_keys(cls)}


def sweep_point(ctx: StageContext) -> SweepPoint:
    """The random-network sweep point from the wildcards and ``balancing.sweep``'s settings."""
    point = {"n": ctx.point("n", int), "rank": ctx.point("rank", str), "p": ctx.point("p", float),
             "seed": ctx.point("seed", int)}
    return from_mapping(SweepPoint, {**point, **_settings(ctx, SweepPoint)}, "balancing.sweep")


def rnn_setup(ctx: StageContext) -> RNNSetup:
    """The RNN's size and task from ``balancing.rnn``."""
    return from_mapping(RNNSetup, _settings(ctx, RNNSetup), "balancing.rnn")


def train_config(ctx: StageContext) -> TrainConfig:
    """One training arm's optimiser settings from ``balancing.rnn`` and the arm/lambda wildcards.

    lambda is the L2 penalty of the ``l2`` arm and the balancing rate of the ``balance`` arm.
    """
    arm, lam = ctx.point("arm", str), ctx.point("lam", float)
    return from_mapping(TrainConfig, {"arm": arm, "l2_lambda": lam if arm == "l2" else 0.0,
                                      "balance_rate": lam if arm == "balance" else 0.0,
                                      **_settings(ctx, TrainConfig)}, "balancing.rnn")


# ------------------------------------------------------------------------------- the stages
# Each resolves its settings (so a bad one fails before any work) and returns the store's seed,
# its sweep values and the computation, which run_stage times.
Planned = tuple[int, dict[str, Any], Callable[[], Result]]


def _balance(ctx: StageContext, inputs: list[str]) -> Planned:
    point = sweep_point(ctx)
    sweep = {"n": point.n, "rank": point.rank, "p": point.p, "seed": point.seed}
    return point.seed, sweep, lambda: balance_sweep_point(point)


def _analyze(ctx: StageContext, inputs: list[str]) -> Planned:
    def compute() -> Result:
        return sweep_summary(open_sweep(inputs, sweep_keys=["n", "rank", "p", "seed"])).compute()
    return 0, {}, compute


def _two_neuron(ctx: StageContext, inputs: list[str]) -> Planned:
    b, c, diag, p_values, t_max, dt = (ctx.value(k) for k in ("b", "c", "diag", "exponents",
                                                               "t_max", "dt"))
    return 0, {}, lambda: two_neuron_experiment(b=b, c=c, diag=diag, p_values=p_values,
                                                t_max=t_max, dt=dt)


def _perturb(ctx: StageContext, inputs: list[str]) -> Planned:
    side = ctx.point("side", int)
    eps, p, eps_sweep = ctx.value("eps"), ctx.value("p"), ctx.value("eps_sweep")
    return 0, {"side": side}, lambda: perturbation_experiment(side=side, eps=eps, p=p,
                                                              eps_sweep=eps_sweep)


# The balancing.rnn keys each RNN stage reads: the workflow's params for its rules, so that
# changing an evaluation setting does not retrain.
RNN_TRAIN_KEYS: tuple[str, ...] = (*RNN_SETUP_KEYS, *config_keys(TrainConfig), "n_permutations")
RNN_EVAL_KEYS: tuple[str, ...] = (*RNN_SETUP_KEYS, "dt", "substeps", "noise_sigmas",
                                  "n_trial_sets", "gain_floor", "silent_gain")


def _train_rnn(ctx: StageContext, inputs: list[str]) -> Planned:
    setup, cfg, seed = rnn_setup(ctx), train_config(ctx), ctx.point("seed", int)
    n_permutations, lam = ctx.value("n_permutations"), ctx.point("lam", float)
    sweep = {"arm": cfg.arm, "lam": lam, "seed": seed, "run": f"{cfg.arm} λ={lam:g}"}
    return seed, sweep, lambda: rnn_train(setup, cfg, seed, n_permutations)


def _robustness(ctx: StageContext, inputs: list[str]) -> Planned:
    (train_path,) = inputs
    setup = rnn_setup(ctx)
    args = [ctx.value(k) for k in ("noise_sigmas", "n_trial_sets")]
    rest = [ctx.value(k) for k in ("dt", "substeps", "gain_floor", "silent_gain")]
    sweep = json.loads(open_store(train_path).attrs["sweep_json"])  # the trained run's point
    seed = sweep["seed"]
    return seed, sweep, lambda: rnn_robustness(load_group(train_path, "state"), setup, *args,
                                               seed, *rest)


def _xor(ctx: StageContext, inputs: list[str]) -> Planned:
    seed = ctx.point("seed", int)
    n, spread, sigma, n_trials, t_max = (ctx.value(k) for k in ("n", "spread", "sigma",
                                                                 "n_trials", "t_max"))
    return seed, {"seed": seed}, lambda: xor_experiment(n, spread, sigma, seed, n_trials, t_max)


@dataclass(frozen=True)
class Stage:
    """One balancing stage: its function, the config section its params come from, its inputs."""

    name: str
    run: Callable[[StageContext, list[str]], Planned]
    section: str
    n_inputs: int | None = 0
    """How many input stores it reads (None: any number, at least one)."""


STAGE_TABLE: tuple[Stage, ...] = (
    Stage("balance", _balance, "sweep"),
    Stage("analyze", _analyze, "sweep", n_inputs=None),
    Stage("two_neuron", _two_neuron, "two_neuron"),
    Stage("perturb", _perturb, "perturbation"),
    Stage("train_rnn", _train_rnn, "rnn"),
    Stage("robustness", _robustness, "rnn", n_inputs=1),
    Stage("xor", _xor, "xor"),
)
STAGES: dict[str, Stage] = {stage.name: stage for stage in STAGE_TABLE}


def run_stage(stage: str, params: str | Mapping[str, Any], inputs: list[str] | tuple[str, ...],
              out_path: str | Path, *, sweep: Mapping[str, str] | None = None
              ) -> tuple[xr.Dataset, Path]:
    """Run one balancing stage and write its store (atomic, timed, with provenance attrs).

    ``params`` is the rule's settings JSON (or the mapping), ``inputs`` the stores it reads,
    ``sweep`` the rule's wildcards. Raises :class:`StageError` naming the stage, the setting or
    the sweep value it cannot run with. Returns the root dataset and the store's path.
    """
    if stage not in STAGES:
        raise StageError(f"stage = {stage!r} is unknown; allowed: {list(STAGES)}")
    spec = STAGES[stage]
    settings = json.loads(params) if isinstance(params, str) else dict(params)
    if not isinstance(settings, Mapping):
        raise StageError(f"params of stage {stage!r} must be a JSON object, got {settings!r}")
    inputs = [str(path) for path in inputs]
    if (spec.n_inputs is None and not inputs) or (spec.n_inputs is not None
                                                  and len(inputs) != spec.n_inputs):
        wanted = "one or more" if spec.n_inputs is None else spec.n_inputs
        raise StageError(f"stage {stage!r} reads {wanted} input "
                         f"store(s), got {len(inputs)}")
    ctx = StageContext(stage=stage, settings=settings, sweep=dict(sweep or {}))
    seed, values, compute = spec.run(ctx, inputs)
    return timed_write(out_path, compute, stage=stage, config=settings, seed=seed, sweep=values)
