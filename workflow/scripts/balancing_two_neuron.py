"""Two-neuron experiment: reciprocal pair and single synapse, flow vs closed form."""

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import two_neuron_experiment  # noqa: E402
from homeoplastic.store import provenance_attrs, write_store  # noqa: E402

cfg = json.loads(snakemake.params.settings)
start = time.perf_counter()
ds = two_neuron_experiment(b=cfg["b"], c=cfg["c"], diag=cfg["diag"], p_values=cfg["exponents"],
                           t_max=cfg["t_max"], dt=cfg["dt"])
attrs = provenance_attrs(stage="two_neuron", config=cfg, seed=0,
                         sweep={}, sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, attrs=attrs)
