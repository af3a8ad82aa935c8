"""XOR network by construction: original, balanced and anti-balanced under neural noise."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threads: 1 (BLAS threads only contend)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import xor_experiment  # noqa: E402
from homeoplastic.store import provenance_attrs, write_store  # noqa: E402

c = json.loads(snakemake.params.settings)
seed = int(snakemake.wildcards.seed)
start = time.perf_counter()
ds = xor_experiment(c["n"], c["spread"], c["sigma"], seed, c["n_trials"], c["t_max"])
attrs = provenance_attrs(stage="xor", config=c, seed=seed, sweep={"seed": seed},
                         sim_seconds=None, wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, attrs=attrs)
