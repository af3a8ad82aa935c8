"""Rate-dependence maps of the E->E rules (paper Fig. 5a) into a Zarr store."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.assemblies.protocol import stage_rate_dependence  # noqa: E402

stage_rate_dependence(json.loads(snakemake.params.settings), snakemake.output[0])
