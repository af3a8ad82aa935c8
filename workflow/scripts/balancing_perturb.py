"""Perturbation experiment: balanced 2-D sheet, one potentiated synapse, linear vs exact."""

import json
import sys
import time

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.balancing.experiments import perturbation_experiment  # noqa: E402
from homeoplastic.store import provenance_attrs, write_store  # noqa: E402

cfg = json.loads(snakemake.params.settings)
side = int(snakemake.wildcards.side)
start = time.perf_counter()
ds, groups = perturbation_experiment(side=side, eps=cfg["eps"], p=cfg["p"],
                                     eps_sweep=cfg["eps_sweep"])
attrs = provenance_attrs(stage="perturb", config=cfg, seed=0,
                         sweep={"side": side}, sim_seconds=None,
                         wall_seconds=time.perf_counter() - start)
write_store(snakemake.output[0], ds, groups=groups, attrs=attrs)
