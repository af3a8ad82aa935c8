"""A bundle of one balancing step (balance, xor, train_rnn or robustness): several points'
stores written in turn, each as its own job would write it; then the bundle's manifest."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.bundles import run_step_bundle  # noqa: E402

run_step_bundle(
    snakemake.params.step,
    snakemake.config["balancing"],
    snakemake.params.members,
    snakemake.params.settings,
    snakemake.output[0],
)
