"""Probe statistics before and after training: Fano factor, ROC, correlations, gain, completion."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures.probe import save_probe_figure  # noqa: E402

save_probe_figure(snakemake.input.before, snakemake.input.after, snakemake.output[0])
