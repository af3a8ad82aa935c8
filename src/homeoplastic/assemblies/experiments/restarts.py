"""Which mechanism decides maintenance: restart a stored network with one mechanism changed.

Each variant continues the same stored state (same weights, traces and random streams) for the
same time with some parameters replaced, and reports the change of the mean within-assembly E->E
weight and the E rate. Differences between variants are then caused by the changed mechanism
alone. :data:`CALCIUM_VARIANTS` is the set behind the account of the calcium rule in docs/comparison/index.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams, ParameterError

CALCIUM_VARIANTS: dict[str, dict[str, Any]] = {
    "as run": {},
    "noise off": {"calcium.noise": False},
    "cubic term alone": {"calcium.gamma_scale": 1e-6, "calcium.noise": False},
    "cubic 100x weaker (GB's tau_rho, gammas, sigma)": {
        "calcium.tau_rho_s": 346.3615, "calcium.gamma_scale": 100.0, "calcium.sigma": 3.3501},
    "no normalisation": {"plasticity.normalisation": False},
    "rho frozen": {"plasticity.ee_rule": "none"},
}
"""Calcium-rule variants; ``gamma_scale`` values multiply the stored one (x 100 on the default
gammas gives Graupner & Brunel's own)."""


def restart_variants(state: xr.Dataset, variants: Mapping[str, Mapping[str, Any]],
                     seconds: float) -> xr.Dataset:
    """Run the stored ``state`` (a store's ``state`` group) for ``seconds`` once per variant.

    ``variants`` maps a name to dotted parameter changes (as :meth:`NetworkParams.replace` takes);
    ``calcium.gamma_scale`` is relative to the stored value. Returns, per variant, the mean
    within-assembly weight at the start and end (pF), its change, and the mean E rate (Hz).
    """
    if not (np.isfinite(seconds) and seconds > 0):
        raise ParameterError(f"seconds = {seconds} is invalid; allowed: > 0")
    base = NetworkParams.from_dict(json.loads(state.attrs["params_json"]))
    names, start, end, rate = [], [], [], []
    for name, change in variants.items():
        change = dict(change)
        if "calcium.gamma_scale" in change:
            change["calcium.gamma_scale"] *= base.calcium.gamma_scale
        sim = Simulation.from_state_dataset(state, base.replace(**change) if change else base)
        rec = sim.run(seconds, None, RecordSpec(spikes=False, rate_bin_ms=100.0,
                                                weight_interval_s=seconds, chunk_s=1.0),
                      progress=False)
        w = np.asarray(rec.snap_w_within)
        n_exc = base.connectivity.n_exc
        names.append(name)
        start.append(float(w[0]))
        end.append(float(w[-1]))
        rate.append(float(rec.counts_exc.sum()) / (n_exc * rec.steps_done * rec.dt_ms * 1e-3))
    start_a, end_a = np.array(start), np.array(end)
    return xr.Dataset(
        {
            "w_within_start_pf": ("variant", start_a,
                                  {"units": "pF", "long_name": "mean within weight at the start"}),
            "w_within_end_pf": ("variant", end_a,
                                {"units": "pF", "long_name": "mean within weight at the end"}),
            "w_within_change_pf": ("variant", end_a - start_a,
                                   {"units": "pF", "long_name": "change of the mean within weight"}),
            "rate_exc_hz": ("variant", np.array(rate),
                            {"units": "Hz", "long_name": "mean E rate over the restart"}),
        },
        coords={"variant": ("variant", names, {"units": "1", "long_name": "changed mechanism"})},
        attrs={"seconds": float(seconds)},
    )
