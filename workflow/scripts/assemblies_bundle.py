"""A bundle of one step of the assembly chain (a stage or the analysis): several points' stores
written in turn, each as its own job would write it; then the bundle's manifest."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.jobs.assemblies import run_step_bundle  # noqa: E402

# Chunking and checkpoint cadence change how a stage runs, not its store: from the config.
record = snakemake.config["assemblies"].get("record", {})
run_step_bundle(
    snakemake.params.step,
    snakemake.config["assemblies"],
    snakemake.params.members,
    snakemake.params.settings,
    snakemake.output[0],
    chunk_s=record.get("chunk_s"),
    checkpoint_every_s=record.get("checkpoint_every_s"),
)
