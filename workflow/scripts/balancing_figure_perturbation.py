"""Perturbation figure: root (error vs eps) merged with the neuron and synapse groups."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])
FIG = json.loads(snakemake.params.figures)

import xarray as xr  # noqa: E402

from homeoplastic.figures.balancing import perturbation_response  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

path = snakemake.input[0]
parts = [open_store(path), open_store(path, "neurons"), open_store(path, "synapses")]
ds = xr.merge(parts, combine_attrs="drop_conflicts").load()
perturbation_response(ds).savefig(snakemake.output[0], dpi=FIG["dpi"])
