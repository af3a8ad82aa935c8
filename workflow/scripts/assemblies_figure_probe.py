"""Probe statistics before and after training: Fano factor, ROC, correlations, gain, completion."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from homeoplastic.figures.probe import save_probe_figure  # noqa: E402

save_probe_figure(snakemake.input.before, snakemake.input.after, snakemake.output[0])
