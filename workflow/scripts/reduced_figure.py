"""One reduced-model figure from the stores of a sweep (opened as one dask-backed dataset)."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures import DPI, reduced  # noqa: E402
from homeoplastic.store import open_sweep  # noqa: E402

make = {"rates": reduced.rates_figure, "field": reduced.field_figure, "escape": reduced.escape_figure}
# bundled inputs are manifests: the stores drawn are then the params' (see reduced.smk)
stores = getattr(snakemake.params, "stores", None)
stores = json.loads(stores) if stores else list(snakemake.input)
ds = open_sweep(stores, sweep_keys=["m", "n", "eta", "seed"])
make[snakemake.params.kind](ds).savefig(snakemake.output[0], dpi=DPI)
