"""Reduce the balancing sweep over seeds (dask, lazily) into one summary store and a table."""

import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import sweep_summary  # noqa: E402
from homeoplastic.store import open_sweep, provenance_attrs, write_store  # noqa: E402

start = time.perf_counter()
ds = open_sweep(snakemake.input, sweep_keys=["n", "rank", "p", "seed"])
summary = sweep_summary(ds).compute()
attrs = provenance_attrs(stage="analyze", config={}, seed=0,
                         sweep={}, sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output.store, summary, attrs=attrs)
cols = ["cost_ratio_mean", "cost_ratio_std", "lower_bound_ratio_mean", "upper_bound_ratio_mean",
        "flow_time_mean", "relaxation_time_mean", "max_residual_mean", "weight_change_mean",
        "flow_converged_runs", "flow_capped_runs", "reference_converged_runs"]
summary[cols].to_dataframe().to_csv(snakemake.output.table, sep="\t", float_format="%.5g")
