"""Spike delivery: the engine's weight layout against a presynaptically ordered copy.

    python benchmarks/delivery_layout.py --n-neurons 5000

The engine stores each pathway's weights sorted by postsynaptic cell (rows for normalisation and
postsynaptic plasticity) and delivers a spike through its synapse index ``pre_syn``, so each of a
spike's ~800 E->E weights is a separate cache line of a 25 MB array. This times that loop alone
on the network's E->E pathway, for random presynaptic cells: plain, as the engine runs it (its
``_deliver``, which prefetches the weights 32 synapses ahead), and over weights copied into
presynaptic order (contiguous per spike; the engine's ``_deliver_copy`` for pathways no rule
changes during a run, ``kernels/delivery.py``). Prints one JSON line per layout with ns per synaptic
event; every loop adds the same weights in the same order (the sums are checked).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from numba import njit

from homeoplastic.assemblies.kernels.delivery import _deliver


@njit(cache=True)
def _deliver_indexed(spikes, pre_ptr, pre_syn, pre_post, weight_pf, pend):  # pragma: no cover
    for j in spikes:
        for q in range(pre_ptr[j], pre_ptr[j + 1]):
            pend[pre_post[q]] += weight_pf[pre_syn[q]]


@njit(cache=True)
def _deliver_engine(spikes, pre_ptr, pre_syn, pre_post, weight_pf, pend):  # pragma: no cover
    for j in spikes:
        _deliver(pre_ptr[j], pre_ptr[j + 1], pre_syn, pre_post, weight_pf, pend, 0)


@njit(cache=True)
def _deliver_contiguous(spikes, pre_ptr, pre_post, weight_pre_pf, pend):  # pragma: no cover
    for j in spikes:
        for q in range(pre_ptr[j], pre_ptr[j + 1]):
            pend[pre_post[q]] += weight_pre_pf[q]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-neurons", type=int, default=5000)
    parser.add_argument("--n-spikes", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from homeoplastic.assemblies.engine import Simulation
    from homeoplastic.assemblies.params import NetworkParams

    params = NetworkParams.from_dict({"connectivity": {"n_neurons": args.n_neurons}})
    ee = Simulation.build(params, args.seed).pathways["e_to_e"]
    n_exc = ee.pre_ptr.size - 1
    spikes = np.random.default_rng(args.seed).integers(0, n_exc, args.n_spikes)
    events = int((ee.pre_ptr[spikes + 1] - ee.pre_ptr[spikes]).sum())
    weight_pre = np.ascontiguousarray(ee.weight_pf[ee.pre_syn])
    sums = {}
    for layout, run in (
        ("post_ordered_indexed", lambda p: _deliver_indexed(
            spikes, ee.pre_ptr, ee.pre_syn, ee.pre_post, ee.weight_pf, p)),
        ("post_ordered_indexed_prefetch", lambda p: _deliver_engine(
            spikes, ee.pre_ptr, ee.pre_syn, ee.pre_post, ee.weight_pf, p)),
        ("pre_ordered_contiguous", lambda p: _deliver_contiguous(
            spikes, ee.pre_ptr, ee.pre_post, weight_pre, p)),
    ):
        pend = np.zeros(n_exc)
        run(np.zeros(n_exc))  # compile
        best = np.inf
        for _ in range(args.repeats):
            pend[:] = 0.0
            t0 = time.perf_counter()
            run(pend)
            best = min(best, time.perf_counter() - t0)
        sums[layout] = pend.copy()
        print(json.dumps({
            "benchmark": "delivery_layout", "layout": layout, "n_neurons": args.n_neurons,
            "weight_array_mb": ee.weight_pf.nbytes / 2**20, "events": events,
            "ns_per_event": best / events * 1e9, "load_avg_1min": os.getloadavg()[0],
        }))
    first, *others = sums.values()
    if not all(np.array_equal(first, other) for other in others):
        raise SystemExit("the layouts delivered different sums")


if __name__ == "__main__":
    main()
