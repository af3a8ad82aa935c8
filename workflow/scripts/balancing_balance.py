"""Balance one random network of the size x rank x p x seed sweep and write its store."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

outcome = run_stage("balance", snakemake.params.settings, {}, snakemake.output[0])
ds = open_store(outcome.output)
print(f"{snakemake.wildcards.run}: {outcome.status}, ratio {float(ds.cost_ratio):.4f}, "
      f"flow converged {bool(ds.flow_converged)}", file=sys.stderr)
