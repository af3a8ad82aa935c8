"""Two-neuron figure from the two-neuron store."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])
FIG = json.loads(snakemake.params.figures)

from homeoplastic.figures.balancing import two_neuron  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

two_neuron(open_store(snakemake.input[0])).savefig(snakemake.output[0], dpi=FIG["dpi"])
