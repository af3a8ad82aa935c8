"""Sweep figure: weight ratios and rates against network size and learning speed."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.figures.assemblies import save_sweep_summary  # noqa: E402

save_sweep_summary(list(snakemake.input), snakemake.output[0])
