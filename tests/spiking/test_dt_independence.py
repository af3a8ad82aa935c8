"""Results do not hinge on the time step: dt = 0.1 ms and 0.05 ms agree (paper supplementary).

The two runs draw different noise (the random stream is indexed by step), so they agree in
statistics, not spike for spike: the tolerances are a few times the seed-to-seed spread measured
at dt = 0.1 ms with the same protocol.
"""

from __future__ import annotations

import numpy as np

from homeoplastic.spiking.engine import RecordSpec, Simulation
from homeoplastic.spiking.params import NetworkParams
from homeoplastic.spiking.stimulus import training_schedule


def _train(dt_ms: float, seed: int) -> tuple[float, float]:
    params = NetworkParams.from_dict({
        "dt_ms": dt_ms,
        "connectivity": {"n_neurons": 1500, "size_scaling": "fixed_indegree"},
        "plasticity": {"start_s": 0.5, "learning_speed": 4.0},
        "assemblies": {"n_assemblies": 4},
    })
    sim = Simulation.build(params, seed)
    schedule = training_schedule(4, 2, on_s=1.0, off_s=1.0, rng=np.random.default_rng(seed),
                                 lead_s=1.0)
    rec = sim.run(schedule.end_s + 2.0, schedule, RecordSpec(weight_interval_s=1.0),
                  progress=False)
    cells = np.concatenate(rec.spike_cells)
    n_exc = params.connectivity.n_exc
    rate_hz = np.sum(cells < n_exc) / (n_exc * sim.time_s)
    return rate_hz, rec.snap_w_within[-1] / rec.snap_w_between[-1]


def test_training_at_half_the_time_step_gives_the_same_assemblies_and_rates():
    rate_coarse, ratio_coarse = _train(0.1, seed=3)
    rate_fine, ratio_fine = _train(0.05, seed=3)
    rate_other, ratio_other = _train(0.1, seed=4)  # seed-to-seed spread at dt = 0.1 ms
    print(f"dt 0.1 ms: ratio {ratio_coarse:.3f}, E rate {rate_coarse:.3f} Hz; dt 0.05 ms: ratio "
          f"{ratio_fine:.3f}, E rate {rate_fine:.3f} Hz; other seed: {ratio_other:.3f}, "
          f"{rate_other:.3f} Hz")
    assert ratio_coarse > 1.2  # assemblies formed, so the comparison means something
    seed_spread = max(abs(ratio_other - ratio_coarse), 0.02 * ratio_coarse)
    assert abs(ratio_fine - ratio_coarse) < 3 * seed_spread
    rate_spread = max(abs(rate_other - rate_coarse), 0.05 * rate_coarse)
    assert abs(rate_fine - rate_coarse) < 3 * rate_spread
