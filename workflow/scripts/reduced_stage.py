"""Run one stage (simulate, train or analyze) of one reduced-model sweep point."""

import sys

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.reduced.experiments import run_stage  # noqa: E402

outcome = run_stage(
    snakemake.params.stage,
    {"settings": snakemake.params.cfg, "point": snakemake.params.point},
    dict(snakemake.input.items()),
    snakemake.output[0],
)
print(f"{snakemake.params.stage} {snakemake.wildcards.run}: {outcome.status} -> {outcome.output}",
      file=sys.stderr)
