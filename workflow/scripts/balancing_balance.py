"""Balance one random network of the size x rank x p x seed sweep and write its store."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.stages import run_stage  # noqa: E402

w = snakemake.wildcards
ds, _ = run_stage("balance", snakemake.params.settings, [], snakemake.output[0], sweep=dict(w.items()))
print(f"n={w.n} rank={w.rank} p={w.p} seed={w.seed}: ratio {float(ds.cost_ratio):.4f}, "
      f"flow converged {bool(ds.flow_converged)}", file=sys.stderr)
