"""Train the ReLU RNN on context-dependent integration with one arm (plain, l2, balance)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

outcome = run_stage("train_rnn", snakemake.params.settings, {}, snakemake.output[0])
print(f"{snakemake.wildcards.run}: {outcome.status}, held-out R^2 "
      f"{float(open_store(outcome.output).heldout_r2):.3f}", file=sys.stderr)
