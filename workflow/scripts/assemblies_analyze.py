"""Per-run statistics of the assembly chain into analyze.zarr."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.analysis.assemblies import analyze_stage  # noqa: E402

analyze_stage(snakemake.params.settings, dict(snakemake.input.items()), snakemake.output[0])
