"""Golden output: a tiny plastic network's spikes and final weights, hashed.

A change of this hash means the numerics of the engine changed (step order, an update formula, the
random stream). If that was intended, say why in the commit and update the hash; the closed-form,
hand-computed and Brian2 tests say whether the new numbers are right.
"""

from __future__ import annotations

import hashlib

import numpy as np

from homeoplastic.spiking import NetworkParams, RecordSpec, Simulation, StimulusSchedule

GOLDEN_SHA256 = "49efcfd3a3805ce9b2258c15451899a60d3640ba67287181c5305742811f2c03"
GOLDEN_SPIKES = 2333


def test_tiny_network_reproduces_its_golden_hash():
    params = NetworkParams.from_dict(
        {"connectivity": {"n_neurons": 300}, "plasticity": {"start_s": 0.05}}
    )
    sim = Simulation.build(params, 42)
    rec = sim.run(0.3, StimulusSchedule([1], [0.1], [0.2], [8000.0]),
                  RecordSpec(rate_bin_ms=10.0, weight_interval_s=0.1), progress=False)
    steps = np.concatenate(rec.spike_steps)
    cells = np.concatenate(rec.spike_cells)
    digest = hashlib.sha256(
        steps.tobytes() + cells.tobytes() + sim.pathways["e_to_e"].weight_pf.tobytes()
        + sim.pathways["i_to_e"].weight_pf.tobytes()
    ).hexdigest()
    assert steps.size == GOLDEN_SPIKES
    assert digest == GOLDEN_SHA256
