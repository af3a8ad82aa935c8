"""Figures of the sweep: cost ratio against rank (lines per size) and against size (per rank)."""

import json
import sys

sys.stderr = open(snakemake.log[0], "w")
FIG = json.loads(snakemake.params.figures)

from homeoplastic.figures.balancing import (  # noqa: E402
    convergence,
    cost_ratio_vs_rank,
    cost_ratio_vs_size,
)
from homeoplastic.store import open_sweep  # noqa: E402

ds = open_sweep(snakemake.input, sweep_keys=["n", "rank", "p", "seed"])
cost_ratio_vs_rank(ds).savefig(snakemake.output.rank, dpi=FIG["dpi"])
cost_ratio_vs_size(ds).savefig(snakemake.output.size, dpi=FIG["dpi"])
convergence(ds).savefig(snakemake.output.convergence, dpi=FIG["dpi"])
