"""Perturbation experiment: balanced 2-D sheet, one potentiated synapse, linear vs exact."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("perturb", snakemake.params.settings, {}, snakemake.output[0])
