"""Perturbation experiment: balanced 2-D sheet, one potentiated synapse, linear vs exact."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("perturb", snakemake.params.settings, {}, snakemake.output[0])
