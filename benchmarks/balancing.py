"""Benchmark the full public balancing calls on easy and hard cases.

Cases: dense full rank (easy: well conditioned), dense rank 2 (hard for the flow: small spectral
gap), factored rank 1 and rank 10 at N = 1e5. Each line times the whole public call
(``balance_costs`` / ``balance_factored``: validation, existence check, solve, final costs), not
only the kernel, and reports iterations, ``converged`` and ``status`` (a run that hits its cap
says so). Numba kernels are compiled or loaded on a small warm-up first, so timings exclude JIT.
Run: ``python benchmarks/balancing.py [--quick]``; prints one JSON line per case.
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


def _emit(case: str, n: int, rank: int | str, call_s: float, res) -> None:
    print(
        json.dumps(
            {
                "case": case,
                "n": n,
                "rank": rank,
                "method": res.method,
                "call_s": round(call_s, 4),
                "solver_s": round(res.wall_s, 4),
                "iterations": res.iterations,
                "converged": res.converged,
                "status": res.status,
                "final_rel_imbalance": res.rel_imbalance,
                "cost_ratio": res.cost_after / res.cost_before,
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        ),
        flush=True,
    )


def _timed(fn, *args):
    t0 = time.perf_counter()
    res = fn(*args)
    return time.perf_counter() - t0, res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (N=300, N=10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flow-max-iter", type=int, default=5000)
    args = parser.parse_args()
    n_dense, n_factored = (300, 10_000) if args.quick else (2000, 100_000)
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
    caps = {"flow": args.flow_max_iter, "sweeps": 10_000, "newton": 100}
    for rank in ("full", 2):
        c0 = power_law_cost(random_network(n_dense, rank, rng), 2.0)
        for method in ("flow", "sweeps", "newton"):
            opts = SolverOptions(tol=tol, max_iter=caps[method])
            call_s, res = _timed(balance_costs, c0, 2.0, method, opts)
            _emit(f"dense_rank_{rank}", n_dense, rank, call_s, res)

    for rank in (1, 10):
        U, V = random_factors(n_factored, rank, rng)
        net = FactoredNetwork.create(U, V)
        for method in ("sweeps", "flow"):
            opts = SolverOptions(tol=tol, max_iter=caps[method])
            call_s, res = _timed(balance_factored, net, method, opts)
            _emit(f"factored_rank_{rank}", n_factored, rank, call_s, res)


if __name__ == "__main__":
    main()
