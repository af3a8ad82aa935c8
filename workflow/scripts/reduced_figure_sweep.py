"""The reduced model's sweep figure: the configured panels over the swept axes, mean and 95 % CI
over seeds per point."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.figures import DPI, reduced  # noqa: E402

data = reduced.sweep_data([(values, path) for values, path in json.loads(snakemake.params.runs)])
reduced.sweep_figure(data, json.loads(snakemake.params.panels)).savefig(snakemake.output[0], dpi=DPI)
