# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Run on a SLURM cluster
#
# The workflow ships a Snakemake profile for SLURM, `workflow/profiles/slurm/config.yaml`
# (snakemake-executor-plugin-slurm, a dependency of the package). On the cluster's login node,
# from the repository root, in tmux or similar (Snakemake submits the jobs and watches them):
#
# ```bash
# snakemake --workflow-profile workflow/profiles/slurm --configfile config/paper.yaml
# ```
#
# Every job goes out with `sbatch`: `--mem` from the job's `mem_mb`, `-t` from `runtime`
# (minutes), `-c` from `cpus_per_task`. Each assembly stage sizes its memory and runtime from the
# network size and the seconds it simulates (`assemblies.resources` in the config sets the
# constants); a retry doubles the runtime. The Python environment and the results folder must be
# visible from the compute nodes. [Running the workflow](../workflow.md) lists the site-specific
# points (accounting, `MinJobAge`, `SLURM_CONF`); `tests/workflow/test_slurm.py` runs the micro
# sweep through this profile on a throw-away single-node cluster.
#
# This tutorial makes a copy of the profile for your site and shows, without a cluster, what each
# job would ask for: a dry run (`-n`) plans the jobs with the profile's resources and submits
# nothing. `HOMEOPLASTIC_CONFIG` and `HOMEOPLASTIC_RESULTS` name the config and results folder
# (defaults `config/config.yaml`, `results`).

# %%
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

CONFIG = Path(os.environ.get("HOMEOPLASTIC_CONFIG", "config/config.yaml"))
RESULTS = Path(os.environ.get("HOMEOPLASTIC_RESULTS", "results"))

# %% [markdown]
# ## Your site's profile
#
# Copy the profile and put your account and partition under `default-resources` (ask your admins
# for the names; the ones below are placeholders).

# %%
profile = Path(tempfile.mkdtemp()) / "slurm"
shutil.copytree("workflow/profiles/slurm", profile)
settings = yaml.safe_load((profile / "config.yaml").read_text())
settings["default-resources"].update({"slurm_account": "my_lab", "slurm_partition": "compute"})
(profile / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
print((profile / "config.yaml").read_text())

# %% [markdown]
# ## What each job asks for
#
# `-F` plans every job, also those whose outputs exist, so the table shows the whole sweep.

# %%
command = [sys.executable, "-m", "snakemake", "-n", "-F", "--workflow-profile", str(profile),
           "--configfile", str(CONFIG), "--config", f"results_dir={RESULTS}",
           f"logs_dir={RESULTS.parent / 'logs'}"]
done = subprocess.run(command, capture_output=True, text=True)
if done.returncode != 0:
    raise RuntimeError(f"snakemake -n failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
jobs = re.findall(r"^(?:local)?rule (\w+):\n(?:.*\n)*?\s+resources: (.*)$", done.stdout, re.MULTILINE)
asks: dict[str, list[dict[str, str]]] = defaultdict(list)
for rule, resources in jobs:
    asks[rule].append(dict(item.split("=", 1) for item in resources.split(", ")))
for rule, each in sorted(asks.items()):
    mem = sorted({int(r["mem_mb"]) for r in each})
    minutes = sorted({int(r["runtime"]) for r in each})
    print(f"{rule:38s} {len(each):3d} jobs  mem_mb {mem[0]}-{mem[-1]}  "
          f"runtime {minutes[0]}-{minutes[-1]} min")

# %% [markdown]
# Every job carries the site's account and partition, and the assembly stages ask for what their
# network size and simulated time need rather than the profile's default.

# %%
assert jobs, done.stdout[-2000:]
assert all(r["slurm_account"] == "my_lab" and r["slurm_partition"] == "compute"
           for each in asks.values() for r in each)
default_mb = settings["default-resources"]["mem_mb"]
assert asks["assemblies_train"] and all(int(r["mem_mb"]) != default_mb for r in asks["assemblies_train"])
