"""Balance a trained RNN with the robustness cost; task loss vs neural noise, all networks."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import sys
import time
import warnings

sys.stderr = open(snakemake.log[0], "w")
warnings.simplefilter("default")  # dead-neuron warnings go to the log

from homeoplastic.balancing.experiments import RNNSetup, rnn_robustness  # noqa: E402
from homeoplastic.store import load_group, open_store, provenance_attrs, write_store  # noqa: E402

c = json.loads(snakemake.params.settings)
sweep = json.loads(open_store(snakemake.input[0]).attrs["sweep_json"])
setup = RNNSetup(c["n"], c["n_timesteps"], c["sigma_in"], c["sigma_ctx"], c["rec_scale"])
start = time.perf_counter()
ds = rnn_robustness(load_group(snakemake.input[0], "state"), setup, c["noise_sigmas"],
                    c["n_trial_sets"], sweep["seed"], c["dt"], c["substeps"],
                    c["gain_floor"], c["silent_gain"])
attrs = provenance_attrs(stage="robustness", config=c, seed=sweep["seed"], sweep=sweep,
                         sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, attrs=attrs)
