"""Run one stage (simulate, train or analyze) of one reduced-model sweep point."""

import json
import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.reduced.experiments import run_stage  # noqa: E402

w = snakemake.wildcards
path = run_stage(
    snakemake.params.stage,
    snakemake.output[0],
    json.loads(snakemake.params.cfg),
    n_pops=int(w.m),
    system_size=float(w.n),
    eta=float(w.eta),
    seed=int(w.seed),
    input_path=snakemake.input[0] if len(snakemake.input) else None,
)
print(f"{snakemake.params.stage} m={w.m} n={w.n} eta={w.eta} seed={w.seed} -> {path}", file=sys.stderr)
