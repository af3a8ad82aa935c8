"""Engine speed: wall seconds per simulated second, synaptic events per second, memory.

    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 5             # all plasticity on
    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 5 --static    # no plasticity
    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 5 --rule triplet   # or calcium
    python benchmarks/engine.py --n-neurons 5000 --sim-seconds 2 --profile   # time per phase
    python benchmarks/engine.py --scaling --sim-seconds 1                    # N = 1000..20000
    python benchmarks/engine.py --n-neurons 1000 --size-scaling mean_input   # K = 0.2 N below 5000

Prints JSON lines. Plasticity is on for the whole timed window (it starts at t = 0 and a 0.5 s
warm-up runs before timing); ``--rule`` picks the E->E rule (iSTDP and normalisation stay on).
``compile_s`` is a cold Numba compile: the script points NUMBA_CACHE_DIR at an empty folder unless
``--warm-cache`` is given. ``--profile`` adds one line per phase of the kernel step, timed with the
CPU's cycle counter (calibrated against the wall clock), in seconds per simulated second;
``recording`` is the time spent outside the kernel. ``--scaling`` prints one line per network size
with the cost per synapse (``ns_per_synapse_per_sim_s``) and per cell and step
(``ns_per_cell_per_step``), for both size scalings: ``fixed_indegree`` (the default config's: K =
1000 inputs a cell at every N, so the synapses per cell are constant) and ``mean_input`` (the
library default: K = 0.2 N below N = 5000, so a small network has fewer synapses a cell and its
per-cell work weighs more); ``--size-scaling`` picks one. Every line gives peak RSS, the bytes per
synapse of the synapse arrays, those of the scratch copies that delivery reads frozen pathways from
during the run, and, with ``--checkpoint-size``, the size of a checkpoint written at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

SCALING_SIZES = (1000, 2000, 5000, 10000, 20000)


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_one(args: argparse.Namespace, n_neurons: int, size_scaling: str) -> dict:
    """Build, warm up and time one network; the result line (and phase lines when profiling)."""
    import numpy as np

    from homeoplastic.assemblies import kernels
    from homeoplastic.assemblies.engine import PATHWAYS, RecordSpec, Simulation
    from homeoplastic.assemblies.params import NetworkParams

    plasticity: dict = {"start_s": 0.0}
    if args.static:
        plasticity.update(ee_rule="none", istdp=False, normalisation=False)
    else:
        plasticity.update(ee_rule=args.rule)
    params = NetworkParams.from_dict(
        {"connectivity": {"n_neurons": n_neurons, "size_scaling": size_scaling},
         "plasticity": plasticity,
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
    if args.profile:
        sim.profile_cycles = np.zeros(len(kernels.PHASES), dtype=np.uint64)
    sim.kernel_seconds = 0.0
    c0, t0 = kernels.cycle_count(), time.perf_counter()
    rec = sim.run(args.sim_seconds, record=record, progress=False)
    wall = time.perf_counter() - t0
    cycles_per_s = float(kernels.cycle_count() - c0) / wall

    n_exc = params.connectivity.n_exc
    cells = np.concatenate(rec.spike_cells)
    out_degree = np.zeros(params.connectivity.n_neurons, dtype=np.int64)
    out_degree[:n_exc] += np.diff(sim.pathways["e_to_e"].pre_ptr)
    out_degree[:n_exc] += np.diff(sim.pathways["e_to_i"].pre_ptr)
    out_degree[n_exc:] += np.diff(sim.pathways["i_to_e"].pre_ptr)
    out_degree[n_exc:] += np.diff(sim.pathways["i_to_i"].pre_ptr)
    events = int(out_degree[cells].sum())
    n_syn = sum(p.weight_pf.size for p in sim.pathways.values())
    syn_bytes = sum(a.nbytes for p in sim.pathways.values() for a in p
                    if a.size == p.weight_pf.size)
    # the scratch copies of frozen pathways a run of this length delivers from
    n_steps = int(round(args.sim_seconds * 1000.0 / params.dt_ms))
    copied = kernels.copied_pathways(sim.constants(run_start_step=0), 0, n_steps)
    copy_bytes = sum(sim.pathways[n].weight_pf.nbytes
                     for n, c in zip(PATHWAYS, copied, strict=True) if c)
    result = {
        "benchmark": "engine",
        "n_neurons": n_neurons,
        "size_scaling": size_scaling,
        "synapses_per_cell": n_syn / n_neurons,
        "plastic": not args.static,
        "rule": "none" if args.static else args.rule,
        "sim_seconds": args.sim_seconds,
        "wall_s_per_sim_s": wall / args.sim_seconds,
        "ns_per_synapse_per_sim_s": wall / args.sim_seconds / n_syn * 1e9,
        # the same time per cell and step: the cell updates and Poisson draws cost per cell
        "ns_per_cell_per_step": wall / (n_steps * params.connectivity.n_neurons) * 1e9,
        "rate_e_hz": float(np.sum(cells < n_exc) / (n_exc * args.sim_seconds)),
        "rate_i_hz": float(np.sum(cells >= n_exc) / (params.connectivity.n_inh * args.sim_seconds)),
        "synaptic_events_per_wall_s": events / wall,
        "n_synapses": n_syn,
        "synapse_array_bytes_per_synapse": syn_bytes / n_syn,
        "delivery_copy_bytes_per_synapse": copy_bytes / n_syn,
        "build_s": build_s,
        "compile_s": compile_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "load_avg_1min": os.getloadavg()[0],
        "status": rec.status,
        "python": sys.version.split()[0],
    }
    if args.checkpoint_size:
        folder = Path(tempfile.mkdtemp(prefix="engine-ckpt-"))
        try:
            sim.save_checkpoint(folder / "c.zarr", rec, "benchmark")
            result["checkpoint_mb"] = _dir_bytes(folder) / 2**20
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.profile:
        lines = []
        timed = 0.0
        for name, cyc in zip(kernels.PHASES, sim.profile_cycles, strict=True):
            seconds = float(cyc) / cycles_per_s
            timed += seconds
            lines.append({"phase": name, "s_per_sim_s": seconds / args.sim_seconds})
        lines.append({"phase": "untimed_in_kernel",
                      "s_per_sim_s": (sim.kernel_seconds - timed) / args.sim_seconds})
        lines.append({"phase": "recording",
                      "s_per_sim_s": (wall - sim.kernel_seconds) / args.sim_seconds})
        for line in lines:
            print(json.dumps({"benchmark": "engine_profile", "n_neurons": n_neurons,
                              "size_scaling": size_scaling, "rule": result["rule"], **line}))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-neurons", type=int, default=5000)
    parser.add_argument("--sim-seconds", type=float, default=5.0)
    parser.add_argument("--static", action="store_true", help="all plasticity off")
    parser.add_argument("--rule", choices=("voltage", "triplet", "calcium"), default="voltage",
                        help="E->E rule when plastic (default: voltage)")
    parser.add_argument("--profile", action="store_true", help="also print time per phase")
    parser.add_argument("--scaling", action="store_true",
                        help=f"one line per N in {SCALING_SIZES} (ignores --n-neurons)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="with --scaling: these N instead (e.g. --sizes 1000 2000 5000)")
    parser.add_argument("--size-scaling", choices=("fixed_indegree", "mean_input", "none"),
                        default=None,
                        help="connectivity.size_scaling (default: fixed_indegree, the default "
                             "config's; --scaling without it runs fixed_indegree and mean_input)")
    parser.add_argument("--checkpoint-size", action="store_true",
                        help="write a checkpoint at the end and print its size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm-cache", action="store_true", help="reuse Numba's on-disk cache")
    args = parser.parse_args()
    if not args.warm_cache:
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-bench-")
    sizes = tuple(args.sizes or SCALING_SIZES) if args.scaling else (args.n_neurons,)
    if args.size_scaling is not None:
        scalings: tuple[str, ...] = (args.size_scaling,)
    else:
        scalings = ("fixed_indegree", "mean_input") if args.scaling else ("fixed_indegree",)
    for scaling in scalings:
        for n in sizes:
            print(json.dumps(run_one(args, n, scaling)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
