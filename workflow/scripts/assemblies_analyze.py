"""Per-run statistics of the assembly chain into analyze.zarr."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.analysis.assemblies import analyze_stage  # noqa: E402

analyze_stage(snakemake.params.settings, dict(snakemake.input.items()), snakemake.output[0])
