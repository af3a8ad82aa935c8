# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Add a plasticity rule variant
#
# A value of the sweep axis `rule` names a **rule variant**: an E->E rule plus which homeostatic
# mechanisms run. The variants are one table,
# {data}`homeoplastic.assemblies.settings.RULE_VARIANTS`; a key without a dot is a `plasticity`
# setting, a dotted key names its network group (`calcium.noise`). Every stage, the run ids, the
# resources and the figures read the rule from there.
#
# Before adding one, check that you need it: a single setting changed for every run is a
# `--configfile` overlay (`assemblies.network...`), a setting compared across runs is a sweep axis
# (`network.istdp.target_rate_hz: [2.0, 3.0]`), and a setting for one rule's runs only is
# `assemblies.rule_network`. A variant is for a *named model*, typically an ablation the paper
# compares. Here: **iSTDP alone**, E->E plasticity and normalisation off, the control that asks
# whether inhibitory plasticity by itself changes the excitatory structure (it cannot: E->E is
# frozen), against the full voltage rule.

# %%
from typing import Any

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.assemblies.settings import RULE_VARIANTS, variant_overrides
from homeoplastic.sweep import set_dotted

for name, settings in RULE_VARIANTS.items():
    print(f"{name:26s} {settings}")

# %% [markdown]
# ## The entry
#
# In the repository the variant is one line in `RULE_VARIANTS`
# (`src/homeoplastic/assemblies/settings.py`):
#
# ```python
#     "voltage_istdp_only": {"ee_rule": "none", "normalisation": False},
# ```
#
# plus its name in the `rule` enum of `workflow/schemas/assemblies.schema.yaml` (with a word in
# the description) and in `config/README.md`, so that a config naming it validates
# (`python -m homeoplastic.paramdocs --check` and `tests/test_docs.py` say what is missing). This
# tutorial adds it in memory only, so it runs without editing the package:

# %%
VARIANT = "voltage_istdp_only"
RULE_VARIANTS.setdefault(VARIANT, {"ee_rule": "none", "normalisation": False})
print(variant_overrides(VARIANT))

# %% [markdown]
# ## Check what it does
#
# A variant's network is the model's parameters with the variant's settings laid over them, as
# {func}`homeoplastic.assemblies.settings.network_params` does for every sweep point. Run a small
# network under the full rule and under the variant from the same seed, plasticity on from the
# start, and compare the weights each pathway ends with.


# %%
def network(rule: str) -> NetworkParams:
    """Small test network (N = 500, the paper's in-degree scaling) under rule variant ``rule``."""
    values: dict[str, Any] = {"connectivity": {"n_neurons": 500}, "plasticity": {"start_s": 0.0}}
    for key, value in variant_overrides(rule).items():
        values = set_dotted(values, key, value)
    return NetworkParams.from_dict(values)


def weights_change(rule: str, seconds: float = 0.5) -> dict[str, float]:
    """Largest absolute change (pF) of each plastic pathway's weights over ``seconds``."""
    sim = Simulation.build(network(rule), seed=3)
    before = sim.state_dataset()
    sim.run(seconds, None, RecordSpec(weight_interval_s=0.0))
    after = sim.state_dataset()
    return {p: float(np.max(np.abs(after[f"{p}_weight_pf"].values - before[f"{p}_weight_pf"].values)))
            for p in ("e_to_e", "i_to_e")}


full, variant = weights_change("voltage"), weights_change(VARIANT)
print("voltage:           ", full)
print(f"{VARIANT}:", variant)
assert full["e_to_e"] > 0 and full["i_to_e"] > 0
assert variant["e_to_e"] == 0.0 and variant["i_to_e"] > 0  # E->E frozen, iSTDP still at work

# %% [markdown]
# With the entry in the package, `rule: [voltage, voltage_istdp_only]` in a config's sweep runs
# both through the whole chain; a variant that needs its own protocol or guard gets it from
# `assemblies.rule_protocol` / `assemblies.rule_network`, and `assemblies.short_chain_rules` or
# `control_chain_rules` choose how far its runs go. Add a test that builds the variant's parameters
# and checks the settings
# it changes, as `tests/assemblies/test_calcium_forms.py` does for `calcium_plain`.
