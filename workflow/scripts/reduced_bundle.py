"""A bundle of one reduced-model stage: several points' stores written in turn, each as its own
job would write it; then the bundle's manifest."""

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.reduced.bundles import run_stage_bundle  # noqa: E402

run_stage_bundle(
    snakemake.params.stage,
    snakemake.config["reduced"],
    snakemake.params.members,
    snakemake.params.settings,
    snakemake.output[0],
)
