"""Figure of the time-step independence check (paper supplementary)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.figures.rules import save_dt_check  # noqa: E402

save_dt_check(snakemake.input[0], snakemake.output[0])
