"""Claims table of the balancing model: each claim per configuration over seeds, next to its null
and the paper's."""

import json
import sys

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.claims import (  # noqa: E402
    perturbation_rows,
    rnn_rows,
    sweep_rows,
    two_neuron_rows,
    write_table,
    xor_rows,
)
from homeoplastic.balancing.sweep_data import at_settings, open_points  # noqa: E402
from homeoplastic.bundle import stores_of  # noqa: E402
from homeoplastic.store import open_store, open_sweep  # noqa: E402

cfg = json.loads(snakemake.params.settings)
inp = snakemake.input
# the claims describe the runs at the config's settings of any extra axis (e.g. sweep.tol)
sweep, _ = at_settings(open_points(stores_of(inp.sweep)), json.loads(snakemake.params.defaults))
rows = sweep_rows(sweep.load())
rows += two_neuron_rows(open_store(inp.two_neuron).load())
rows += perturbation_rows(open_store(inp.perturb).load(), open_store(inp.perturb, "neurons").load(),
                          open_store(inp.perturb, "synapses").load(),
                          open_store(inp.perturb, "modes").load())
if inp.train:
    rows += rnn_rows(open_sweep(stores_of(inp.train), ["run", "seed"]).load(),
                     open_sweep(stores_of(inp.robust), ["run", "seed"]).load(),
                     cfg["r2_min"], cfg["sigma_max_normalised"])
if inp.xor:
    rows += xor_rows(open_sweep(stores_of(inp.xor), ["seed"]).load())
write_table(rows, snakemake.output[0])  # atomic
print(f"{len(rows)} rows, {sum(r['agrees'] == 'no' for r in rows)} disagree", file=sys.stderr)
