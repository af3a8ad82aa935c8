"""Benchmark: balance a dense N = 2000 network and a rank-10 N = 100000 factored network.

Prints one JSON line per case (wall time, iterations, final ||g||/C, peak RSS). Numba kernels are
compiled (or loaded from cache) on a small warm-up problem first, so the timings exclude JIT.
Run: ``python benchmarks/balancing.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from homeoplastic.balancing import (
    FactoredNetwork,
    SolverOptions,
    balance_costs,
    balance_factored,
    power_law_cost,
)
from homeoplastic.balancing.ensembles import random_factors, random_network


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _emit(case: str, n: int, rank: int, method: str, res, setup_s: float) -> None:
    print(
        json.dumps(
            {
                "case": case,
                "n": n,
                "rank": rank,
                "method": res.method if method is None else method,
                "wall_s": round(res.wall_s, 4),
                "setup_s": round(setup_s, 3),
                "iterations": res.iterations,
                "final_rel_imbalance": res.rel_imbalance,
                "converged": res.converged,
                "cost_ratio": res.cost_after / res.cost_before,
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (N=500, N=10000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_dense, n_factored, rank = (500, 10_000, 10) if args.quick else (2000, 100_000, 10)
    tol = 1e-8

    t0 = time.perf_counter()
    warm = np.random.default_rng(1)
    c_small = power_law_cost(random_network(20, "full", warm), 2.0)
    for method in ("flow", "sweeps", "newton"):
        balance_costs(c_small, 2.0, method)
    U, V = random_factors(50, 2, warm)
    for method in ("flow", "sweeps"):
        balance_factored(FactoredNetwork.create(U, V), method)
    print(json.dumps({"case": "jit_warmup", "wall_s": round(time.perf_counter() - t0, 2)}))

    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    c0 = power_law_cost(random_network(n_dense, "full", rng), 2.0)
    setup = time.perf_counter() - t0
    for method in ("flow", "sweeps", "newton"):
        res = balance_costs(c0, 2.0, method, SolverOptions(tol=tol, max_iter=100_000))
        _emit("dense_full_rank", n_dense, n_dense, method, res, setup)

    t0 = time.perf_counter()
    U, V = random_factors(n_factored, rank, rng)
    net = FactoredNetwork.create(U, V)
    setup = time.perf_counter() - t0
    res = balance_factored(net, "sweeps", SolverOptions(tol=tol, max_iter=10_000))
    _emit("factored_low_rank", n_factored, rank, "factored-sweeps", res, setup)
    res = balance_factored(net, "flow", SolverOptions(tol=tol, max_iter=20_000))
    _emit("factored_low_rank", n_factored, rank, "factored-flow", res, setup)


if __name__ == "__main__":
    main()
