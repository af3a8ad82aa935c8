"""Balance one random network of the size x rank x p x seed sweep and write its store."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import SweepPoint, balance_sweep_point  # noqa: E402
from homeoplastic.store import provenance_attrs, write_store  # noqa: E402

w, cfg = snakemake.wildcards, json.loads(snakemake.params.settings)
point = SweepPoint(
    n=int(w.n), rank=str(w.rank), p=float(w.p), seed=int(w.seed), solver=cfg["solver"],
    tol=cfg["tol"], flow_max_iter=cfg["flow_max_iter"],
)
start = time.perf_counter()
ds, groups = balance_sweep_point(point)
sweep = {"n": point.n, "rank": point.rank, "p": point.p, "seed": point.seed}
attrs = provenance_attrs(stage="balance", config=cfg, seed=point.seed,
                         sweep=sweep, sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, groups=groups, attrs=attrs)
print(f"{sweep}: ratio {float(ds.cost_ratio):.4f}, flow converged {bool(ds.flow_converged)}", file=sys.stderr)
