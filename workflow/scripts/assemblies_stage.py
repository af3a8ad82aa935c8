"""One stage of the assembly chain (simulate, train, spontaneous_*, perturb_*, remap)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.spiking.protocol import run_stage  # noqa: E402

run_stage(
    snakemake.wildcards.stage,
    snakemake.params.section,
    snakemake.wildcards.run,
    dict(snakemake.input.items()),
    snakemake.output[0],
)
