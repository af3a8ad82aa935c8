"""Time-step independence (paper supplementary): training at dt and at a finer dt forms the same
assemblies at the same rates.

Runs at different dt draw different noise (the random stream is indexed by step), so they agree
in statistics, not spike for spike. The yardstick is the seed-to-seed spread at the coarsest dt:
every dt runs with the first seed, the coarsest dt also with the others. The result is the
difference between each finer dt and the coarsest, in units of that spread (at least 2 % of the
ratio and 5 % of the rate, so that two seeds that happen to agree closely do not make the check
impossible).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.output import spike_arrays
from homeoplastic.assemblies.params import network_with
from homeoplastic.assemblies.stimulus import training_schedule
from homeoplastic.parameters import check_fields, param

MIN_RATIO_SPREAD = 0.02
MIN_RATE_SPREAD = 0.05
TOLERANCE_SPREADS = 3.0
"""A finer dt agrees when it differs from the coarsest by less than this many seed spreads."""


@dataclasses.dataclass(frozen=True)
class DtCheckSettings:
    """The short training protocol run at every dt (seconds; sizes in cells)."""

    n_neurons: int = param(1500, unit="cells", minimum=100, maximum=100000,
                           description="Network size.")
    dt_ms: tuple[float, ...] = param((0.1, 0.05), unit="ms", exclusive_minimum=0, maximum=1.0,
                                     min_items=2, unique_items=True,
                                     description="Time steps compared; the coarsest is the reference.")
    seeds: tuple[int, ...] = param((3, 4), unit="1", minimum=0, min_items=2, unique_items=True,
                                   description="Seeds; the first runs at every dt, the others at the "
                                               "coarsest dt only, to measure the seed spread.")
    n_assemblies: int = param(4, unit="1", minimum=1, description="Assemblies trained.")
    repetitions: int = param(2, unit="1", minimum=1, description="Presentations of each assembly.")
    stimulus_on_s: float = param(1.0, unit="s", exclusive_minimum=0, description="Presentation length.")
    stimulus_off_s: float = param(1.0, unit="s", minimum=0, description="Gap between presentations.")
    lead_s: float = param(1.0, unit="s", minimum=0, config=False,
                          description="Unstimulated time before the first presentation.")
    tail_s: float = param(2.0, unit="s", minimum=0, config=False,
                          description="Unstimulated time after the last presentation.")
    plasticity_start_s: float = param(0.5, unit="s", minimum=0, config=False,
                                      description="Plasticity starts at this time into the run.")
    learning_speed: float = param(4.0, unit="1", exclusive_minimum=0,
                                  description="Factor on every plasticity amplitude.")

    def __post_init__(self) -> None:
        check_fields(self, "assemblies.dt_check")


def _train(base: Mapping[str, Any], settings: DtCheckSettings, dt_ms: float,
           seed: int) -> tuple[float, float]:
    """E rate (Hz) and within/between weight ratio at the end of one short training run."""
    params = network_with(base, dt_ms=dt_ms, n_neurons=settings.n_neurons,
                          plasticity={"start_s": settings.plasticity_start_s,
                                      "learning_speed": settings.learning_speed},
                          n_assemblies=settings.n_assemblies)
    sim = Simulation.build(params, seed)
    schedule = training_schedule(settings.n_assemblies, settings.repetitions,
                                 on_s=settings.stimulus_on_s, off_s=settings.stimulus_off_s,
                                 rng=np.random.default_rng(seed), lead_s=settings.lead_s)
    rec = sim.run(schedule.end_s + settings.tail_s, schedule,
                  RecordSpec(weight_interval_s=1.0), progress=False)
    _, cells = spike_arrays(rec)
    n_exc = params.connectivity.n_exc
    rate_hz = float(np.sum(cells < n_exc) / (n_exc * sim.time_s))
    return rate_hz, float(rec.snap_w_within[-1] / rec.snap_w_between[-1])


def dt_check(settings: DtCheckSettings = DtCheckSettings(),
             network: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Train at every dt (first seed) and at the coarsest dt (every seed).

    ``network`` holds model-parameter overrides (as ``assemblies.network``); without any, the
    network keeps the paper's in-degree (``fixed_indegree``), as in the measured protocol. The
    settings fix the size, dt, learning speed and assemblies. Returns ratio and rate over
    (dt_ms, seed), NaN where a combination is not run, and the differences in seed spreads as
    ``*_shift_in_spreads``.
    """
    base = dict(network or {"connectivity": {"size_scaling": "fixed_indegree"}})
    dts = sorted(settings.dt_ms, reverse=True)  # coarsest first
    ratio = np.full((len(dts), len(settings.seeds)), np.nan)
    rate = np.full_like(ratio, np.nan)
    for i, dt in enumerate(dts):
        for j, seed in enumerate(settings.seeds):
            if i == 0 or j == 0:
                rate[i, j], ratio[i, j] = _train(base, settings, dt, seed)
    ratio_spread = max(np.nanmax(np.abs(ratio[0, 1:] - ratio[0, 0])),
                       MIN_RATIO_SPREAD * ratio[0, 0])
    rate_spread = max(np.nanmax(np.abs(rate[0, 1:] - rate[0, 0])), MIN_RATE_SPREAD * rate[0, 0])
    coords = {"dt_ms": ("dt_ms", dts, {"units": "ms", "long_name": "time step"}),
              "seed": ("seed", list(settings.seeds), {"units": "1", "long_name": "seed"})}
    return xr.Dataset(
        {
            "ratio_after_training": (("dt_ms", "seed"), ratio, {
                "units": "1", "long_name": "within/between E->E weight after training"}),
            "rate_exc_hz": (("dt_ms", "seed"), rate, {
                "units": "Hz", "long_name": "mean E rate over the training run"}),
            "ratio_shift_in_spreads": ("dt_ms", np.abs(ratio[:, 0] - ratio[0, 0]) / ratio_spread, {
                "units": "1", "long_name": "|ratio - ratio at the coarsest dt| / seed spread"}),
            "rate_shift_in_spreads": ("dt_ms", np.abs(rate[:, 0] - rate[0, 0]) / rate_spread, {
                "units": "1", "long_name": "|rate - rate at the coarsest dt| / seed spread"}),
            "ratio_seed_spread": ((), ratio_spread, {
                "units": "1", "long_name": "seed-to-seed spread of the ratio at the coarsest dt"}),
            "rate_seed_spread_hz": ((), rate_spread, {
                "units": "Hz", "long_name": "seed-to-seed spread of the rate at the coarsest dt"}),
        },
        coords=coords,
        attrs={"settings_json": json.dumps(dataclasses.asdict(settings)),
               "n_neurons": settings.n_neurons, "learning_speed": settings.learning_speed,
               "tolerance_spreads": TOLERANCE_SPREADS},
    )
