"""Two-neuron experiment: reciprocal pair and single synapse, flow vs closed form."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("two_neuron", snakemake.params.settings, {}, snakemake.output[0])
