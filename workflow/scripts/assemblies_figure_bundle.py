"""The per-run (or probe) figures of a bundle of runs, then the bundle's manifest."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.jobs.assemblies import draw_figure_bundle  # noqa: E402

draw_figure_bundle(snakemake.params.step, snakemake.params.members, snakemake.output[0])
