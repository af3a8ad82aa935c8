"""Overview figure of one run: rasters, rates, assembly weights, recovery, remapping."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures.assemblies import save_run_overview  # noqa: E402

stores = {k: v for k, v in snakemake.input.items() if k != "analysis"}
save_run_overview(stores, snakemake.input.analysis, json.loads(snakemake.params.settings),
                  snakemake.wildcards.run, snakemake.output[0])
