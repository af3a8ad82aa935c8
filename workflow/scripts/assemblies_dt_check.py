"""Time-step independence check (paper supplementary) into a Zarr store."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.assemblies.protocol import stage_dt_check  # noqa: E402

stage_dt_check(json.loads(snakemake.params.settings), snakemake.output[0])
