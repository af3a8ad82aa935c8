"""Two-neuron figure from the two-neuron store."""

import json
import sys

sys.stderr = open(snakemake.log[0], "w")
FIG = json.loads(snakemake.params.figures)

from homeoplastic.figures.balancing import two_neuron  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

two_neuron(open_store(snakemake.input[0])).savefig(snakemake.output[0], dpi=FIG["dpi"])
