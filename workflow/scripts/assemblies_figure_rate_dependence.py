"""Figure of the rate-dependence maps (paper Fig. 5a)."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures.rules import save_rate_dependence  # noqa: E402

save_rate_dependence(snakemake.input[0], snakemake.output[0])
