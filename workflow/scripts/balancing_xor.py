"""XOR network by construction: original, balanced and anti-balanced under neural noise."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("xor", snakemake.params.settings, {}, snakemake.output[0])
