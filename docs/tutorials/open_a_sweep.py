# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Open a sweep with xarray and reduce it over seeds
#
# Every stage of every run writes one Zarr store; `analyze.zarr` holds a run's statistics.
# {func}`homeoplastic.store.open_sweep` opens many runs' stores of one stage as **one** dataset
# whose dimensions are the sweep axes (read from the stores themselves), with `seed` last, and
# {func}`homeoplastic.stats.replicates.over_seeds` reduces the seed axis to a mean, a 95 % CI
# (Student t) and the number of seeds, exactly as the sweep figure does.
#
# The results folder is `results/` after `snakemake --cores 2`; set `HOMEOPLASTIC_RESULTS` to read
# another one (the tests point it at the micro sweep).

# %%
import json
import os
from pathlib import Path

import numpy as np

from homeoplastic.stats.replicates import over_seeds
from homeoplastic.store import open_store, open_sweep

RESULTS = Path(os.environ.get("HOMEOPLASTIC_RESULTS", "results"))
paths = sorted(RESULTS.glob("assemblies/*/analyze.zarr"))
print(len(paths), "runs")

# %% [markdown]
# `scalars_only=True` keeps the per-run numbers (no time series), which is what a sweep table
# needs; without it the time axes of all runs are aligned too (NaN where a run has no value).

# %%
sweep = open_sweep(paths, scalars_only=True)
print(dict(sweep.sizes))
print(sweep.ratio_after_training)

# %% [markdown]
# The dataset is lazy (dask); `.load()` reads it. Each variable has `units` and `long_name`:

# %%
ratio = sweep.ratio_after_training.load()
print(ratio.attrs.get("long_name"), f"[{ratio.attrs.get('units')}]")

# %% [markdown]
# ## Reduce over seeds
#
# `over_seeds` gives `mean`, `ci_low`, `ci_high` and `n_seeds` for every point of the other axes.
# A point with one seed has a mean and no CI (NaN); a point no run reached has `n_seeds` 0.

# %%
summary = over_seeds(ratio)
print(summary.to_dataframe().dropna(subset=["mean"]))

# %% [markdown]
# The mean at a point is the plain mean of its runs' values: check one against the run's own store.

# %%
first = next(s for s in map(open_store, paths) if s.attrs["run_status"] == "completed")
point = {k: v for k, v in json.loads(first.attrs["sweep_json"]).items() if k != "seed"}
own = float(first.ratio_after_training)
assert np.isfinite(own)
at_point = summary["mean"].sel(point)
if int(summary["n_seeds"].sel(point)) == 1:
    assert float(at_point) == own  # one seed: the mean is that run's value
print(point, "mean", float(at_point), "this run", own)

# %% [markdown]
# ## One row per run, for pandas
#
# `to_dataframe()` flattens the sweep; dropping the points no run reached leaves one row per run.

# %%
table = sweep[["ratio_after_training", "rate_exc_post_training_hz"]].load().to_dataframe()
table = table.dropna(how="all")
print(table)
assert len(table) == len(paths)
