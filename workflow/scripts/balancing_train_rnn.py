"""Train the ReLU RNN on context-dependent integration with one arm (plain, l2, balance)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.stages import run_stage  # noqa: E402

w = snakemake.wildcards
ds, _ = run_stage("train_rnn", snakemake.params.settings, [], snakemake.output[0],
                  sweep=dict(w.items()))
print(f"arm={w.arm} lam={w.lam} seed={w.seed}: held-out R^2 {float(ds.heldout_r2):.3f}",
      file=sys.stderr)
