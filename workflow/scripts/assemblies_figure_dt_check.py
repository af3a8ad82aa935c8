"""Figure of the time-step independence check (paper supplementary)."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures.rules import save_dt_check  # noqa: E402

save_dt_check(snakemake.input[0], snakemake.output[0])
