# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Sweep a parameter and read its figure
#
# Any settings key of a model is a sweep axis: write its dotted key with a list of values under
# `assemblies.sweep` in a config file of your own, pass it with `--configfile`, and Snakemake lays
# it over the base config key by key. Here the parameter is the **learning speed** (how much
# faster than the paper the plastic weights move; `learning_speed` in `config/README.md`), drawn
# against the within/between weight ratio after training. The same works for any key, e.g.
# `network.istdp.target_rate_hz: [2.0, 3.0, 5.0]` (`config/examples/istdp_target_rate.yaml`).
#
# `HOMEOPLASTIC_CONFIG` names the base config (default `config/config.yaml`) and
# `HOMEOPLASTIC_RESULTS` the results folder (default `results`); the tests point them at the micro
# sweep. Run from the repository root.

# %%
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

from homeoplastic.stats.replicates import over_seeds
from homeoplastic.store import open_sweep

BASE = Path(os.environ.get("HOMEOPLASTIC_CONFIG", "config/config.yaml"))
RESULTS = Path(os.environ.get("HOMEOPLASTIC_RESULTS", "results"))
base = yaml.safe_load(BASE.read_text())["assemblies"]["sweep"]

# %% [markdown]
# ## The overlay
#
# Only the keys that change go into it; lists replace the base's lists whole. The panel says what
# `results/figures/assemblies_sweep.png` draws: the ratio against the swept axis, a line per rule.

# %%
overlay = {"assemblies": {
    "sweep": {**base, "learning_speed": [1.0, 2.0]},
    "figures": {"panels": [{"y": "ratio_after_training", "x": "learning_speed", "hue": "rule"}]},
}}
mine = Path(tempfile.mkdtemp()) / "mine.yaml"
mine.write_text(yaml.safe_dump(overlay))
print(mine.read_text())

# %% [markdown]
# ## What it would run
#
# `snakemake -n` plans without running. Runs already in the results folder are not recomputed: a
# rule's params hold only what changes its output, so only the new sweep points are planned, and,
# where Snakemake still has the finished jobs' metadata (`.snakemake/`), the outputs whose params
# changed (here the sweep figure, whose panels changed). On the default run's results this plans
# the 1x and 2x runs; on a folder that already holds them, little or nothing. Drop `-n` to run.

# %%
command = [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile", str(BASE),
           str(mine), "--config", f"results_dir={RESULTS}", f"logs_dir={RESULTS.parent / 'logs'}"]
print(" ".join(command[2:]))
done = subprocess.run(command, capture_output=True, text=True)
if done.returncode != 0:
    raise RuntimeError(f"snakemake -n failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
plan = done.stdout
planned = re.findall(r"^(?:local)?rule (\w+):$", plan, flags=re.MULTILINE)
print(len(planned), "jobs planned:", dict(Counter(planned)))

# %% [markdown]
# ## Read the figure
#
# Each point of the sweep figure is the mean over seeds with its 95 % CI (Student t) and n. The
# same numbers, from the stores:

# %%
figure = RESULTS / "figures" / "assemblies_sweep.png"
print(figure, "exists" if figure.exists() else "is written by the run")
sweep = open_sweep(sorted(RESULTS.glob("assemblies/*/analyze.zarr")), scalars_only=True)
points = over_seeds(sweep.ratio_after_training.load())
table = points.to_dataframe().dropna(subset=["mean"])
print(table)
assert (table["n_seeds"] >= 1).all()  # every point drawn has at least one run behind it

# %% [markdown]
# Read it as the paper does: the ratio says how much stronger synapses within an assembly are than
# between assemblies after the same presentations. A faster learning speed packs the paper's slow
# training into a short run; the sweep shows whether the structure that forms depends on it
# (at the default scale, 4x and 8x give 7.13 and 7.12; see [Results](../comparison/index.md)).
