"""The paper's Fig. 7 experiments as functions of plain arguments, each returning xarray Datasets.

Stages (one Zarr store each, per run ``m~M_n~N_eta~ETA_seed~SEED`` plus any other swept axis off
its default; see :mod:`homeoplastic.reduced.runs`), one row each of :data:`STAGE_TABLE`:

* ``simulate``: frozen-weight Gillespie runs of the untrained and trained configurations: rates
  and the weight change they would drive (Fig. 7a, c).
* ``train``: plastic Gillespie runs from several points of the weight plane (Fig. 7b, d, red).
* ``analyze``: the slow weight vector field over the plane from metastable-state occupancies (and,
  coarser, from frozen-weight Gillespie averages), the train trajectories projected on the plane,
  and for M = 2 the transition rates against direct Gillespie escape-time estimates.

``system_size`` is always N of the two-population model; the four-population model uses N / 2 per
population, w_max / 2 and w_inh / 2 (paper Methods), so that a pair is one population of the
two-population model. Time is in units of the population time constant.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.parameters import ParameterError, from_mapping
from homeoplastic.reduced.gillespie import first_passage_times, simulate
from homeoplastic.reduced.params import (
    Plasticity,
    PopulationModel,
    ReducedPoint,
    ReducedSettings,
    four_population_plane,
    trained_weights,
    two_population_plane,
)
from homeoplastic.reduced.plasticity import metastable_field, sampled_field
from homeoplastic.reduced.transitions import escape_target, metastable_chain
from homeoplastic.reduced.wilson_cowan import stable_states
from homeoplastic.stage import Stage, StageOutcome, table_index
from homeoplastic.sweep import flatten

CONDITIONS = {2: ("uniform", "diagonal"), 4: ("13_24", "12_34")}
PLANE_AXES = {2: ("W11", "W22"), 4: ("W12", "W34")}
PLANE_INDEX = {2: ((0, 0), (1, 1)), 4: ((0, 1), (2, 3))}
_STAGE_CODE = {"simulate": 1, "train": 2, "analyze": 3}
_MODEL_KEYS = ("activation", "w_max", "w_inh", "external_input", "theta")
NAMED_AXES = ("m", "n", "eta", "seed")
"""The point values every stage reads (M, N, eta, seed); the settings each stage reads are its row's."""


def for_model(key: str, n_pops: int) -> bool:
    """False for the settings an M-population run does not read (the other M's train starts)."""
    top = key.split(".", 1)[0]
    return not (top.startswith("train_starts_") and top != f"train_starts_{n_pops}pop")


def stage_config(cfg: Mapping[str, Any], stage: str, n_pops: int) -> dict[str, Any]:
    """Only the settings of ``cfg`` that change ``stage``'s store for the M-population model: the
    keys its row of :data:`STAGE_TABLE` declares (``train_starts_<M>pop`` of this M only).

    The workflow passes this as a rule's params, so editing another key reruns nothing here.
    """
    if stage not in STAGE_TABLE:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    keys = [key for key in STAGE_TABLE[stage].settings if for_model(key, n_pops)]
    missing = [key for key in keys if key not in cfg]
    if missing:
        raise ValueError(f"reduced: missing key(s) {missing} for stage {stage}")
    return {key: cfg[key] for key in keys}


STRUCTURAL_KEYS = ("enabled", "models", "system_size", "eta", "seeds", "sweep", "extra_sweeps",
                   "figures", "resources", "bundle")
"""``reduced`` keys that are the sweep and the workflow's, not a run's settings."""


def reduced_settings(cfg: ReducedSettings | Mapping[str, Any]) -> ReducedSettings:
    """The run's settings from the (validated) ``reduced`` section or a stage's part of it.

    Keys a stage's part leaves out keep their defaults; an unknown key or a bad value raises
    :class:`~homeoplastic.parameters.ParameterError` naming ``reduced.<key>``.
    """
    if isinstance(cfg, ReducedSettings):
        return cfg
    return from_mapping(ReducedSettings,
                        {k: v for k, v in cfg.items() if k not in STRUCTURAL_KEYS}, "reduced")


def build_model(cfg: ReducedSettings | Mapping[str, Any], n_pops: int,
                system_size: float) -> PopulationModel:
    """The M-population model from the config's ``reduced`` section (2-population constants)."""
    cfg = reduced_settings(cfg)
    if n_pops not in (2, 4):
        raise ValueError(f"n_pops must be 2 or 4, got {n_pops}")
    if not system_size > 0:
        raise ValueError(f"system_size must be > 0, got {system_size}")
    act = cfg.activation
    scale = 2.0 / n_pops
    return PopulationModel(
        n_pops=n_pops,
        system_size=float(system_size) * scale,
        w_max=float(cfg.w_max) * scale,
        w_inh=float(cfg.w_inh) * scale,
        external_input=float(cfg.external_input),
        activation=act,
    )


def build_plasticity(cfg: ReducedSettings | Mapping[str, Any], eta: float) -> Plasticity:
    """The plasticity rule with this run's learning rate."""
    cfg = reduced_settings(cfg)
    return Plasticity(eta=float(eta), theta=float(cfg.theta))


def plane_weights(model: PopulationModel, a: float, b: float) -> np.ndarray:
    """Weight matrix at plane coordinates (W11, W22) for M = 2 or (W12, W34) for M = 4."""
    if model.n_pops == 2:
        return two_population_plane(model, a, b)
    return four_population_plane(model, a, b)


def _rng(seed: int, stage: str, *more: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), _STAGE_CODE[stage], *map(int, more)])


def _low_state(weights: np.ndarray, model: PopulationModel) -> np.ndarray:
    states = stable_states(weights, model)
    return states[np.argmin(states.sum(axis=1))]


def _pop_coords(model: PopulationModel) -> dict[str, Any]:
    pops = np.arange(1, model.n_pops + 1)
    return {
        "pop": ("pop", pops, {"units": "1", "long_name": "population index"}),
        "post": ("post", pops, {"units": "1", "long_name": "postsynaptic population"}),
        "pre": ("pre", pops, {"units": "1", "long_name": "presynaptic population"}),
    }


def _sweep_coords(n_pops: int, system_size: float, eta: float, seed: int) -> dict[str, Any]:
    return {
        "m": ((), int(n_pops), {"units": "1", "long_name": "number of populations"}),
        "n": ((), float(system_size), {"units": "1", "long_name": "system size N (2-pop model)"}),
        "eta": ((), float(eta), {"units": "1/tau", "long_name": "learning rate"}),
        "seed": ((), int(seed), {"units": "1", "long_name": "random seed"}),
    }


def _time_coord(edges: np.ndarray) -> tuple:
    return ("time", edges[1:], {"units": "tau", "long_name": "time (population time constants)"})


def simulate_rates(
    cfg: ReducedSettings, n_pops: int, system_size: float, eta: float, seed: int
) -> xr.Dataset:
    """Fig. 7a/c: rates of the untrained and trained configurations, weights frozen.

    ``delta_w`` is the weight change the rate fluctuations drive with row sums held and bounds
    ignored: eta * int (D_kl - mean_l D_kl) dt, D_kl = x_l x_k (x_k - theta).
    """
    model = build_model(cfg, n_pops, system_size)
    plast = build_plasticity(cfg, eta)
    rates, dws, ws = [], [], []
    for i, cond in enumerate(CONDITIONS[n_pops]):
        w = trained_weights(model, cond)
        traj = simulate(
            model,
            w,
            float(cfg.rates_duration),
            _rng(seed, "simulate", i),
            plasticity=plast,
            plastic=False,
            bin_width=float(cfg.rates_bin),
            initial_rates=_low_state(w, model),
        )
        held = traj.drift_integral - traj.drift_integral.mean(axis=2, keepdims=True)
        rates.append(traj.rates)
        dws.append(plast.eta * held)
        ws.append(w)
    coords = {
        "condition": (
            "condition",
            list(CONDITIONS[n_pops]),
            {"units": "1", "long_name": "weight configuration"},
        ),
        "time": _time_coord(traj.bin_edges),
        **_pop_coords(model),
        **_sweep_coords(n_pops, system_size, eta, seed),
    }
    return xr.Dataset(
        {
            "rate": (
                ("condition", "time", "pop"),
                np.array(rates),
                {"units": "1", "long_name": "population activity x = n/N (bin mean)"},
            ),
            "delta_w": (
                ("condition", "time", "post", "pre"),
                np.array(dws),
                {"units": "1", "long_name": "weight change driven, row sums held"},
            ),
            "weights": (
                ("condition", "post", "pre"),
                np.array(ws),
                {"units": "1", "long_name": "frozen weight W[post, pre]"},
            ),
        },
        coords=coords,
    )


def train_trajectories(
    cfg: ReducedSettings, n_pops: int, system_size: float, eta: float, seed: int
) -> tuple[xr.Dataset, xr.Dataset]:
    """Fig. 7b/d red lines: plastic Gillespie runs from the configured starting points.

    Returns the root dataset and the ``state`` group (final counts and weights per start).
    """
    model = build_model(cfg, n_pops, system_size)
    plast = build_plasticity(cfg, eta)
    starts = np.asarray(getattr(cfg, f"train_starts_{n_pops}pop"), dtype=np.float64) * model.w_max
    rates, weights, counts, finals = [], [], [], []
    for i, (a, b) in enumerate(starts):
        w = plane_weights(model, a, b)
        traj = simulate(
            model,
            w,
            float(cfg.train_duration),
            _rng(seed, "train", i),
            plasticity=plast,
            plastic=True,
            bin_width=float(cfg.train_bin),
            initial_rates=_low_state(w, model),
        )
        rates.append(traj.rates)
        weights.append(np.concatenate([w[None], traj.weights]))
        counts.append(traj.final_counts)
        finals.append(traj.final_weights)
    weights_arr = np.array(weights)
    (i1, j1), (i2, j2) = PLANE_INDEX[n_pops]
    plane = np.stack([weights_arr[:, :, i1, j1], weights_arr[:, :, i2, j2]], axis=-1)
    edges = traj.bin_edges
    coords = {
        "start": ("start", np.arange(len(starts)), {"units": "1", "long_name": "start index"}),
        "time": _time_coord(edges),
        "time_w": ("time_w", edges, {"units": "tau", "long_name": "time of weight sample"}),
        "axis": ("axis", list(PLANE_AXES[n_pops]), {"units": "1", "long_name": "plane axis"}),
        **_pop_coords(model),
        **_sweep_coords(n_pops, system_size, eta, seed),
    }
    ds = xr.Dataset(
        {
            "rate": (
                ("start", "time", "pop"),
                np.array(rates),
                {"units": "1", "long_name": "population activity x = n/N (bin mean)"},
            ),
            "weights": (
                ("start", "time_w", "post", "pre"),
                weights_arr,
                {"units": "1", "long_name": "weight W[post, pre]"},
            ),
            "trajectory": (
                ("start", "time_w", "axis"),
                plane,
                {"units": "1", "long_name": "weights on the plane"},
            ),
            "start_point": (
                ("start", "axis"),
                starts,
                {"units": "1", "long_name": "starting weights on the plane"},
            ),
        },
        coords=coords,
    )
    state = xr.Dataset(
        {
            "counts": (
                ("start", "pop"),
                np.array(counts),
                {"units": "1", "long_name": "active neurons n at the end"},
            ),
            "weights": (
                ("start", "post", "pre"),
                np.array(finals),
                {"units": "1", "long_name": "weights at the end"},
            ),
        },
        coords={k: v for k, v in coords.items() if k in ("start", "pop", "post", "pre")},
    )
    return ds, state


def vector_fields(
    cfg: ReducedSettings, n_pops: int, system_size: float, eta: float, seed: int
) -> xr.Dataset:
    """The weight vector field over the plane: metastable (fine grid) and sampled (coarse grid)."""
    model = build_model(cfg, n_pops, system_size)
    plast = build_plasticity(cfg, eta)
    names = PLANE_AXES[n_pops]
    (i1, j1), (i2, j2) = PLANE_INDEX[n_pops]
    grid = np.linspace(0.0, model.w_max, int(cfg.field_points))
    field = np.zeros((grid.size, grid.size, 2))
    n_states = np.zeros((grid.size, grid.size), dtype=np.int64)
    high_occ = np.zeros((grid.size, grid.size))
    for ia, a in enumerate(grid):
        for ib, b in enumerate(grid):
            v, chain = metastable_field(
                plane_weights(model, a, b),
                model,
                plast,
                cfg.transition_method,
                cfg.reduction,
            )
            field[ia, ib] = v[i1, j1], v[i2, j2]
            n_states[ia, ib] = len(chain.states)
            high_occ[ia, ib] = chain.occupancy @ np.any(chain.states > plast.theta, axis=1)
    coarse = np.linspace(0.0, model.w_max, int(cfg.sampled_field_points))
    sampled = np.full((coarse.size, coarse.size, 2), np.nan)
    for ia, a in enumerate(coarse):
        for ib, b in enumerate(coarse):
            v, _ = sampled_field(
                plane_weights(model, a, b),
                model,
                plast,
                float(cfg.sampled_field_duration),
                _rng(seed, "analyze", 100 + ia, ib),
            )
            sampled[ia, ib] = v[i1, j1], v[i2, j2]
    w_attrs = {"units": "1"}
    return xr.Dataset(
        {
            "field": (
                ("a", "b", "component"),
                field,
                {"units": "1/tau", "long_name": "weight drift from metastable occupancy"},
            ),
            "n_states": (("a", "b"), n_states, {"units": "1", "long_name": "stable Wilson-Cowan states"}),
            "high_occupancy": (
                ("a", "b"),
                high_occ,
                {"units": "1", "long_name": "occupancy of states with x > theta"},
            ),
            "field_sampled": (
                ("a_s", "b_s", "component"),
                sampled,
                {"units": "1/tau", "long_name": "weight drift from Gillespie runs"},
            ),
        },
        coords={
            "a": ("a", grid, {**w_attrs, "long_name": names[0]}),
            "b": ("b", grid, {**w_attrs, "long_name": names[1]}),
            "a_s": ("a_s", coarse, {**w_attrs, "long_name": f"{names[0]} (sampled grid)"}),
            "b_s": ("b_s", coarse, {**w_attrs, "long_name": f"{names[1]} (sampled grid)"}),
            "component": (
                "component",
                [f"d{names[0]}/dt", f"d{names[1]}/dt"],
                {"units": "1", "long_name": "field component"},
            ),
            **_sweep_coords(n_pops, system_size, eta, seed),
        },
    )


ESTIMATORS = ("wkb_slaved", "exact_slaved", "wkb_frozen", "exact_frozen", "gillespie")
TRANSITIONS = ("out_of_low_low", "out_of_high_low")


def escape_rates(cfg: ReducedSettings, system_size: float, seed: int) -> xr.Dataset:
    """Two-population trained model: total escape rates out of (low, low) and (high, low).

    Metastable-chain rates (WKB or exact 1-D first passage; slaved or frozen reduction) against
    the reciprocal mean of ``escape_samples`` direct Gillespie escape times. The Gillespie
    estimate is skipped (NaN) when it would take more than ``escape_max_events`` events.
    """
    model = build_model(cfg, 2, system_size)
    w = trained_weights(model, "diagonal")
    rates = np.full((len(TRANSITIONS), len(ESTIMATORS)), np.nan)
    se = np.full_like(rates, np.nan)
    chains = {}
    for est in ESTIMATORS[:-1]:
        method, reduction = est.split("_")
        chains[est] = metastable_chain(w, model, method, reduction)
    ref = chains["exact_slaved"]
    if len(ref.states) != 3:
        raise ValueError("the trained two-population model is not bistable for these constants")
    for j, est in enumerate(ESTIMATORS[:-1]):
        rates[0, j] = -chains[est].generator[1, 1]
        rates[1, j] = -chains[est].generator[2, 2]
    n = model.system_size
    samples = int(cfg.escape_samples)
    events_per_time = 2.0 * n * (model.activation.f_max + ref.states.max())
    big = 10**9
    starts = [np.rint(n * ref.states[1]).astype(int), np.rint(n * ref.states[2]).astype(int)]
    hi = escape_target(ref.states[2, 0], True, n)
    lo = escape_target(ref.states[1, 0], False, n)
    bounds = [([-1, -1], [hi, hi]), ([lo, -1], [big, big])]
    for t in range(2):
        expected_events = samples * events_per_time / rates[t, 1]
        if samples == 0 or expected_events > float(cfg.escape_max_events):
            continue
        times, _ = first_passage_times(model, w, starts[t], *bounds[t], samples, _rng(seed, "analyze", 7, t))
        rates[t, -1] = 1.0 / times.mean()
        se[t, -1] = rates[t, -1] * times.std() / times.mean() / np.sqrt(samples)
    return xr.Dataset(
        {
            "escape_rate": (
                ("transition", "estimator"),
                rates,
                {"units": "1/tau", "long_name": "total escape rate"},
            ),
            "escape_rate_se": (
                ("transition", "estimator"),
                se,
                {"units": "1/tau", "long_name": "standard error (Gillespie)"},
            ),
        },
        coords={
            "transition": (
                "transition",
                list(TRANSITIONS),
                {"units": "1", "long_name": "metastable state left"},
            ),
            "estimator": ("estimator", list(ESTIMATORS), {"units": "1", "long_name": "rate estimator"}),
        },
    )


def analyze_run(
    cfg: ReducedSettings,
    n_pops: int,
    system_size: float,
    eta: float,
    seed: int,
    train: xr.Dataset,
) -> xr.Dataset:
    """Vector fields, the train stage's plane trajectories, and (M = 2) escape-rate validation."""
    ds = vector_fields(cfg, n_pops, system_size, eta, seed)
    traj = train[["trajectory", "start_point"]].load()
    ds = ds.merge(traj.drop_vars([c for c in ("m", "n", "eta", "seed") if c in traj.coords]))
    if n_pops == 2:
        ds = ds.merge(escape_rates(cfg, system_size, seed))
    return ds


def _simulate(cfg: ReducedSettings, point: ReducedPoint, inputs: Mapping[str, Any]):
    ds = simulate_rates(cfg, point.m, point.n, point.eta, point.seed)
    return ds, None, float(cfg.rates_duration) * len(CONDITIONS[point.m])


def _train(cfg: ReducedSettings, point: ReducedPoint, inputs: Mapping[str, Any]):
    ds, state = train_trajectories(cfg, point.m, point.n, point.eta, point.seed)
    return ds, {"state": state}, float(cfg.train_duration) * ds.sizes["start"]


def _analyze(cfg: ReducedSettings, point: ReducedPoint, inputs: Mapping[str, Any]):
    from homeoplastic.store import open_store

    ds = analyze_run(cfg, point.m, point.n, point.eta, point.seed, open_store(inputs["train"]))
    return ds, None, None


STAGE_TABLE = table_index((
    Stage("simulate", _simulate, settings=(*_MODEL_KEYS, "rates_duration", "rates_bin"),
          description="frozen-weight rates of the untrained and trained configurations (Fig. 7a/c)"),
    Stage("train", _train, settings=(*_MODEL_KEYS, "train_duration", "train_bin",
                                     "train_starts_2pop", "train_starts_4pop"),
          description="plastic Gillespie runs from points of the weight plane (Fig. 7b/d, red)"),
    Stage("analyze", _analyze, inputs=(("train", "train"),),
          settings=(*_MODEL_KEYS, "field_points", "sampled_field_points", "sampled_field_duration",
                    "transition_method", "reduction", "escape_samples", "escape_max_events"),
          description="vector fields, train trajectories on the plane, escape rates (M = 2)"),
))
"""The reduced model's stages: what each reads (stores, and the ``reduced`` keys that change its
store besides M, N, eta and the seed) and the function that runs it. The rules' params, the run
folders a stage shares between points and the chain all follow from this table."""
STAGES = tuple(STAGE_TABLE)


def run_point(values: Mapping[str, Any], where: str = "reduced.sweep") -> ReducedPoint:
    """The named axes (m, n, eta, seed) of a point's values, checked by their declarations."""
    named = {key: values[key] for key in NAMED_AXES if key in values}
    missing = [key for key in NAMED_AXES if key not in named]
    if missing:
        raise ParameterError(f"{where}.{missing[0]} is missing; every run needs m, n, eta and seed",
                             key=f"{where}.{missing[0]}")
    point = from_mapping(ReducedPoint, named, where)
    return ReducedPoint(m=int(point.m), n=float(point.n), eta=float(point.eta), seed=int(point.seed))


def run_stage(stage: Stage | str, params: Mapping[str, Any], inputs: Mapping[str, Any],
              output: str | Path) -> StageOutcome:
    """Run one stage of one sweep point and write its Zarr store (atomic, with provenance).

    ``params`` holds ``settings`` (the ``reduced`` settings, of which the stage reads only the
    keys its table row declares; a mapping or its JSON) and ``point`` (the point's visible values:
    m, n, eta, seed and any other axis off its default); ``inputs`` maps the row's input names to
    store paths. The store's attrs carry ``config_json`` (the settings the stage read),
    ``sweep_json`` (the point) and ``settings_json`` (those settings as flat dotted keys).
    """
    from homeoplastic.store import timed_write, verify_store, write_point

    row = stage if isinstance(stage, Stage) else STAGE_TABLE.get(stage)
    if row is None:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    settings = params["settings"]
    settings = json.loads(settings) if isinstance(settings, str) else dict(settings)
    values = params["point"]
    values = json.loads(values) if isinstance(values, str) else dict(values)
    point = run_point(values)
    missing = [name for name, _ in row.inputs if not inputs.get(name)]
    if missing:
        raise ValueError(f"the {row.name} stage needs the input(s) {missing}")
    for name, source in row.inputs:  # damaged or another stage's stores are refused by name
        verify_store(inputs[name], stage=STAGE_TABLE[source].stage_attr)
    own = stage_config(settings, row.name, point.m)  # a stage reads only its own keys
    cfg = reduced_settings(own)
    sweep = {**values, **dataclasses.asdict(point)}
    write_point(output, values)
    sim: dict[str, float | None] = {}

    def compute():
        ds, groups, sim["seconds"] = row.run(cfg, point, inputs)
        return (ds, groups) if groups else ds

    _, path = timed_write(output, compute, stage=row.stage_attr, config=own, seed=point.seed,
                          sweep=sweep, sim_seconds=lambda ds: sim["seconds"],
                          time_unit="population time constant (tau)",
                          settings_json=json.dumps(flatten(own), sort_keys=True))
    return StageOutcome("completed", str(path))
