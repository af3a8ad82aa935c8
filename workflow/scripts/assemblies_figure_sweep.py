"""Sweep figure: the configured panels (assemblies.figures.panels) over the sweep's axes."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

import json  # noqa: E402

from homeoplastic.bundle import stores_of  # noqa: E402  (a bundle's manifest: its stores)
from homeoplastic.figures.assemblies import save_sweep_summary  # noqa: E402

save_sweep_summary(stores_of(snakemake.input), snakemake.output[0],
                   json.loads(snakemake.params.panels))
