"""The claims of summary.csv: mean and 95 % CI over seeds beside each claim's null."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures.claims import save_claims  # noqa: E402

save_claims(snakemake.input[0], snakemake.output[0])
