"""Tiny networks for kernel tests: no external drive, plasticity on from t = 0."""

from __future__ import annotations

from typing import Any

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams

STEP_RECORD = RecordSpec(spikes=True, rate_bin_ms=0.1, weight_interval_s=0.0, chunk_s=0.1)


def quiet_params(**sections: Any) -> NetworkParams:
    """N = 50, p = 0.2, no external drive, plasticity from t = 0 (normalisation off), guard off."""
    base: dict[str, Any] = {
        "connectivity": {"n_neurons": 50, "size_scaling": "none"},
        "external": {"rate_to_e_hz": 0.0, "rate_to_i_hz": 0.0},
        "plasticity": {"start_s": 0.0, "normalisation": False},
        "guard": {"enabled": False},
    }
    for key, value in sections.items():
        if isinstance(value, dict):
            base.setdefault(key, {}).update(value)
        else:
            base[key] = value
    return NetworkParams.from_dict(base)


def quiet_sim(seed: int = 3, **sections: Any) -> Simulation:
    return Simulation.build(quiet_params(**sections), seed)


def step(sim: Simulation, n: int = 1):
    """Advance ``n`` steps and return the run record."""
    return sim.run(n * sim.params.dt_ms * 1e-3, record=STEP_RECORD, progress=False)


def spikes_of(rec) -> tuple[np.ndarray, np.ndarray]:
    if not rec.spike_steps:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    return np.concatenate(rec.spike_steps), np.concatenate(rec.spike_cells)


def force_spike(sim: Simulation, cell: int) -> int:
    """Force ``cell`` to spike in the next step and advance that step; return the step index."""
    sim.neurons.v_mv[cell] = 25.0
    at = int(sim.clock[0])
    step(sim)
    return at


def fire_schedule(sim: Simulation, schedule) -> list[int]:
    """``schedule``: list of (step, cell); fire them in order, idling in between; spike steps."""
    fired = []
    for at, cell in schedule:
        gap = at - int(sim.clock[0])
        assert gap >= 0
        if gap:
            step(sim, gap)
        fired.append(force_spike(sim, cell))
    return fired
