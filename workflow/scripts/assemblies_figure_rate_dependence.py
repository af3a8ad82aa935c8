"""Figure of the rate-dependence maps (paper Fig. 5a)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.figures.rules import save_rate_dependence  # noqa: E402

save_rate_dependence(snakemake.input[0], snakemake.output[0])
