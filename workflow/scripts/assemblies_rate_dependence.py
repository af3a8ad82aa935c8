"""Rate-dependence maps of the E->E rules (paper Fig. 5a) into a Zarr store."""

import json
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.assemblies.protocol import stage_rate_dependence  # noqa: E402

stage_rate_dependence(json.loads(snakemake.params.settings), snakemake.output[0])
