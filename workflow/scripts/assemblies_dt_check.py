"""Time-step independence check (paper supplementary) into a Zarr store."""

import json
import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.assemblies.protocol import stage_dt_check  # noqa: E402

stage_dt_check(json.loads(snakemake.params.settings), snakemake.output[0])
