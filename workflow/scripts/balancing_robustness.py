"""Balance a trained RNN with the robustness cost; task loss vs neural noise, both networks."""

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import RNNSetup, rnn_robustness  # noqa: E402
from homeoplastic.store import load_group, open_store, provenance_attrs, write_store  # noqa: E402

c = snakemake.params.cfg
sweep = json.loads(open_store(snakemake.input[0]).attrs["sweep_json"])
setup = RNNSetup(c["n"], c["n_timesteps"], c["sigma_in"], c["sigma_ctx"], c["rec_scale"])
start = time.perf_counter()
ds = rnn_robustness(load_group(snakemake.input[0], "state"), setup, c["noise_sigmas"],
                    c["n_trial_sets"], sweep["seed"], c["dt"], c["substeps"],
    c["gain_floor"])
attrs = provenance_attrs(stage="robustness", config=snakemake.config["balancing"],
                         seed=sweep["seed"], sweep=sweep, sim_seconds=None,
                         wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, attrs=attrs)
