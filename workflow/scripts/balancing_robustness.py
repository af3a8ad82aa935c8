"""Balance a trained RNN with the robustness cost; task loss vs neural noise, all networks."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import warnings

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])
warnings.simplefilter("default")  # dead-neuron warnings go to the log

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("robustness", snakemake.params.settings, {"train": snakemake.input.train},
          snakemake.output[0])
