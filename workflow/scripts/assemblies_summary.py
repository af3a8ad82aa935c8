"""Results table: every claim of the paper, measured per run, next to the paper's value."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.analysis.summary import write_summary  # noqa: E402
from homeoplastic.bundle import stores_of  # noqa: E402  (a bundle's manifest: its stores)

write_summary(stores_of(snakemake.input.analyses), snakemake.output[0],
              rate_dependence_path=snakemake.input.get("rate_dependence"),
              dt_check_path=snakemake.input.get("dt_check"))
