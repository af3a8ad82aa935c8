"""Engine speed: wall seconds per simulated second, synaptic events per second, memory.

    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 5           # all plasticity on
    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 5 --static  # no plasticity

Prints one JSON line. Plasticity is on for the whole timed window (it starts at t = 0 and a
0.5 s warm-up runs before timing). ``compile_s`` is a cold Numba compile: the script points
NUMBA_CACHE_DIR at an empty folder unless ``--warm-cache`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-neurons", type=int, default=5000)
    parser.add_argument("--sim-seconds", type=float, default=5.0)
    parser.add_argument("--static", action="store_true", help="all plasticity off")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm-cache", action="store_true", help="reuse Numba's on-disk cache")
    args = parser.parse_args()
    if not args.warm_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-bench-")

    import numpy as np

    from homeoplastic.spiking.engine import RecordSpec, Simulation
    from homeoplastic.spiking.params import NetworkParams

    plasticity = {"start_s": 0.0}
    if args.static:
        plasticity.update(ee_rule="none", istdp=False, normalisation=False)
    params = NetworkParams.from_dict(
        {"connectivity": {"n_neurons": args.n_neurons}, "plasticity": plasticity,
         "guard": {"enabled": False}}
    )
    t0 = time.perf_counter()
    sim = Simulation.build(params, args.seed)
    build_s = time.perf_counter() - t0
    record = RecordSpec(spikes=True, rate_bin_ms=10.0, weight_interval_s=1.0, chunk_s=1.0)
    t0 = time.perf_counter()
    sim.run(0.001, record=record, progress=False)  # first call compiles the kernels
    compile_s = time.perf_counter() - t0
    sim.run(0.5, record=record, progress=False)  # warm-up past the initial transient
    t0 = time.perf_counter()
    rec = sim.run(args.sim_seconds, record=record, progress=False)
    wall = time.perf_counter() - t0

    n_exc = params.connectivity.n_exc
    cells = np.concatenate(rec.spike_cells)
    out_degree = np.zeros(params.connectivity.n_neurons, dtype=np.int64)
    out_degree[:n_exc] += np.diff(sim.pathways["e_to_e"].pre_ptr)
    out_degree[:n_exc] += np.diff(sim.pathways["e_to_i"].pre_ptr)
    out_degree[n_exc:] += np.diff(sim.pathways["i_to_e"].pre_ptr)
    out_degree[n_exc:] += np.diff(sim.pathways["i_to_i"].pre_ptr)
    events = int(out_degree[cells].sum())
    n_syn = sum(p.weight_pf.size for p in sim.pathways.values())
    result = {
        "benchmark": "engine",
        "n_neurons": args.n_neurons,
        "plastic": not args.static,
        "sim_seconds": args.sim_seconds,
        "wall_s_per_sim_s": wall / args.sim_seconds,
        "rate_e_hz": float(np.sum(cells < n_exc) / (n_exc * args.sim_seconds)),
        "rate_i_hz": float(np.sum(cells >= n_exc) / (params.connectivity.n_inh * args.sim_seconds)),
        "synaptic_events_per_wall_s": events / wall,
        "n_synapses": n_syn,
        "build_s": build_s,
        "compile_s": compile_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "status": rec.status,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
