"""Train the ReLU RNN on context-dependent integration with one arm (plain, l2, balance)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import RNNSetup, rnn_train  # noqa: E402
from homeoplastic.balancing.rnn import TrainConfig  # noqa: E402
from homeoplastic.store import provenance_attrs, write_store  # noqa: E402

w, c = snakemake.wildcards, json.loads(snakemake.params.settings)
lam, seed = float(w.lam), int(w.seed)
setup = RNNSetup(c["n"], c["n_timesteps"], c["sigma_in"], c["sigma_ctx"], c["rec_scale"])
cfg = TrainConfig(arm=w.arm, n_iterations=c["n_iterations"], learning_rate=c["learning_rate"],
                  optimizer=c["optimizer"], lr_final_factor=c["lr_final_factor"],
                  clip_norm=c["clip_norm"], l2_lambda=lam if w.arm == "l2" else 0.0,
                  balance_rate=lam if w.arm == "balance" else 0.0, dt=c["dt"],
                  substeps=c["substeps"], log_every=c["log_every"],
                  batch_sets=c["batch_sets"])
start = time.perf_counter()
ds, groups = rnn_train(setup, cfg, seed, c["n_permutations"])
sweep = {"arm": w.arm, "lam": lam, "seed": seed, "run": f"{w.arm} λ={lam:g}"}
attrs = provenance_attrs(stage="train_rnn", config=c, seed=seed,
                         sweep=sweep, sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, groups=groups, attrs=attrs)
print(f"{sweep}: held-out R^2 {float(ds.heldout_r2):.3f}", file=sys.stderr)
