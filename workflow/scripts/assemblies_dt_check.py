"""Time-step independence check (paper supplementary) into a Zarr store."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.spiking.protocol import stage_dt_check  # noqa: E402

stage_dt_check(snakemake.params.section, snakemake.output[0])
