# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Continue a stored network state
#
# A stage store whose state a later stage reads (simulate, train and the spontaneous phases of a
# full chain; every stage with `assemblies.record.keep_state: true`) holds the whole network in
# its `state` group: every weight, each cell's variables, the plasticity traces, the random
# number generator and the clock. {meth}`homeoplastic.assemblies.engine.Simulation.from_state_dataset`
# rebuilds the network from it, so a trained network can be run on by hand, e.g. longer than the
# workflow's spontaneous phase. Randomness is counter-based, so a run continued from a state is
# the same, bit for bit, as one that never stopped; this tutorial checks that.
#
# `HOMEOPLASTIC_RESULTS` names the results folder (default `results`).

# %%
import os
from pathlib import Path

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.store import open_store

RESULTS = Path(os.environ.get("HOMEOPLASTIC_RESULTS", "results"))
run = next(p.parent for p in sorted(RESULTS.glob("assemblies/*/train.zarr"))
           if open_store(p).attrs["status"] == "completed")
state = open_store(run / "train.zarr", group="state").load()
print(run.name, f"trained network at t = {state.attrs['time_s']} s on the simulation clock")

# %% [markdown]
# ## Run it on
#
# With no stimulus schedule the network runs spontaneously, its plasticity on. The record holds
# the E and I spike counts per 10 ms bin and, every `weight_interval_s`, the mean weight between
# each pair of groups (assemblies, then the cells in none).

# %%
SECONDS = 0.4
record_spec = RecordSpec(weight_interval_s=0.1)
once = Simulation.from_state_dataset(state)
whole = once.run(SECONDS, None, record_spec)
within = [np.diagonal(w)[:-1] for w in whole.snap_w_groups]
print("each assembly's within weight (pF), start and end:", within[0], within[-1])
print("E rate:", whole.counts_exc.sum() / (once.params.connectivity.n_exc * SECONDS), "Hz")

# %% [markdown]
# ## Stop, store, continue
#
# `state_dataset()` is what a stage writes into its store's `state` group. Run half, store,
# rebuild from the stored state and run the other half: the weights and spikes equal those of the
# uninterrupted run exactly.

# %%
first = Simulation.from_state_dataset(state)
first.run(SECONDS / 2, None, record_spec)
resumed = Simulation.from_state_dataset(first.state_dataset())
second = resumed.run(SECONDS / 2, None, record_spec)
assert np.array_equal(resumed.state_dataset()["e_to_e_weight_pf"].values,
                      once.state_dataset()["e_to_e_weight_pf"].values)
half = whole.counts_exc.shape[0] // 2
assert np.array_equal(second.counts_exc, whole.counts_exc[half:])
print("continued run equals the uninterrupted one, bit for bit")
