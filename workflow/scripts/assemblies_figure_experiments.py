"""Rules and ablations side by side (paper Figs. 1, 3, 4 and 5)."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.bundle import stores_of  # noqa: E402  (a bundle's manifest: its stores)
from homeoplastic.figures.assemblies import save_experiments  # noqa: E402

save_experiments(stores_of(snakemake.input), snakemake.output[0])
