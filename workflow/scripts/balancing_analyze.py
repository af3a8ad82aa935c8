"""Reduce the balancing sweep over seeds (dask, lazily) into one summary store and a table."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

from homeoplastic.balancing.stages import run_stage  # noqa: E402
from homeoplastic.bundle import stores_of  # noqa: E402
from homeoplastic.store import open_store  # noqa: E402

run_stage("analyze", "{}", {"stores": stores_of(snakemake.input.stores)}, snakemake.output.store)
summary = open_store(snakemake.output.store).load()
cols = ["cost_ratio_mean", "cost_ratio_std", "lower_bound_ratio_mean", "upper_bound_ratio_mean",
        "flow_time_mean", "relaxation_time_mean", "max_residual_mean", "weight_change_mean",
        "flow_converged_runs", "flow_capped_runs", "reference_converged_runs"]
summary[cols].to_dataframe().to_csv(snakemake.output.table, sep="\t", float_format="%.5g")
