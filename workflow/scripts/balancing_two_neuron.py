"""Two-neuron experiment: reciprocal pair and single synapse, flow vs closed form."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.stages import run_stage  # noqa: E402

run_stage("two_neuron", snakemake.params.settings, {}, snakemake.output[0])
