"""Gillespie throughput of the reduced model: prints one JSON line (events per second, wall time).

Runs the trained two-population model (N = 16) and the four-population model with the (1,3)(2,4)
pairing (N = 8 per population) with plasticity on, after one short run to compile the kernels.
Usage: python benchmarks/reduced.py [duration_tau]
"""

import json
import sys
import time

import numpy as np

from homeoplastic.reduced.gillespie import simulate
from homeoplastic.reduced.params import (
    Plasticity,
    four_population_model,
    trained_weights,
    two_population_model,
)


def main(duration: float = 200_000.0) -> None:
    plast = Plasticity()
    cases = {
        "m2_n16": (two_population_model(16.0), "diagonal"),
        "m4_n8": (four_population_model(8.0), "13_24"),
    }
    start_all = time.perf_counter()
    out: dict[str, object] = {"benchmark": "reduced_gillespie", "duration_tau": duration}
    total_events, total_wall = 0, 0.0
    for name, (model, pairing) in cases.items():
        w = trained_weights(model, pairing)
        simulate(model, w, 10.0, np.random.default_rng(0), plasticity=plast, plastic=True)
        t0 = time.perf_counter()
        traj = simulate(
            model, w, duration, np.random.default_rng(1), plasticity=plast, plastic=True, bin_width=100.0
        )
        wall = time.perf_counter() - t0
        out[f"{name}_events_per_s"] = round(traj.events / wall)
        total_events += traj.events
        total_wall += wall
    out["events"] = total_events
    out["events_per_s"] = round(total_events / total_wall)
    out["wall_s"] = round(time.perf_counter() - start_all, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 200_000.0)
