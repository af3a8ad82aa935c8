"""Run one stage (simulate, train or analyze) of one reduced-model sweep point."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.reduced.experiments import run_stage  # noqa: E402

outcome = run_stage(
    snakemake.params.stage,
    {"settings": snakemake.params.cfg, "point": snakemake.params.point},
    dict(snakemake.input.items()),
    snakemake.output[0],
)
print(f"{snakemake.params.stage} {snakemake.wildcards.run}: {outcome.status} -> {outcome.output}",
      file=sys.stderr)
