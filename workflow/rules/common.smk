# Config validation and paths shared by every rule file. Runs before any job is scheduled.
import os
from pathlib import Path

from homeoplastic.config import ConfigError, load_schema, validate

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"

# Each model section of the config has its own schema; a section is validated (and its defaults
# filled in) before any job runs. A bad key or value stops the workflow with a message naming it.
_top_schema = load_schema(SCHEMA_DIR / "config.schema.yaml")
config.update(validate(config, _top_schema, where="config"))
for _section in ("assemblies", "balancing", "reduced"):
    _schema_file = SCHEMA_DIR / f"{_section}.schema.yaml"
    if _schema_file.exists() and _section in config:
        config[_section] = validate(config[_section], load_schema(_schema_file), where=_section)

RESULTS = config["results_dir"]
LOGS = config["logs_dir"]

# Rule files append their final outputs here; `rule all` requests them.
ALL_TARGETS = []

# One rule file per model; a model whose section is absent or disabled contributes nothing.
MODEL_RULE_FILES = [
    f"workflow/rules/{name}.smk"
    for name in ("assemblies", "balancing", "reduced", "figures")
    if (Path(workflow.basedir) / "workflow" / "rules" / f"{name}.smk").exists()
]


# ---- assemblies: runs, stage inputs and per-job resources ----
from homeoplastic.spiking.protocol import (
    PROBE_STAGES,
    STAGES,
    check_section,
    parse_run_id,
    resources_for,
    run_id,
    stages_for,
    sweep_points,
)

ASM = config.get("assemblies", {"enabled": False})
ASM_DIR = f"{RESULTS}/assemblies"
ASM_LOGS = f"{LOGS}/assemblies"
ASM_ENV = "../../environment.yml"

if ASM.get("enabled", False):
    try:
        check_section(ASM)  # every sweep point's parameters, before any job runs
    except ValueError as err:
        raise WorkflowError(f"config: {err}")
    ASM_RUNS = [run_id(point) for point in sweep_points(ASM)]
else:
    ASM_RUNS = []

ASM_STAGES = [*STAGES, *PROBE_STAGES]
ASM_PREVIOUS = {
    **PROBE_STAGES,
    "train": "simulate",
    "spontaneous_recurrent": "train",
    "spontaneous_nonrecurrent": "train",
    "perturb_recurrent": "spontaneous_recurrent",
    "perturb_nonrecurrent": "spontaneous_nonrecurrent",
    "remap": "spontaneous_recurrent",
}


def asm_store(run, stage):
    return f"{ASM_DIR}/{run}/{stage}.zarr"


def asm_run_stores(wildcards):
    """The stage stores of one run (its rule decides the full or the short chain)."""
    stages = stages_for(ASM, parse_run_id(wildcards.run))
    return {stage: asm_store(wildcards.run, stage) for stage in stages}


def asm_probe_runs():
    """Runs whose chain includes the probe stages."""
    return [run for run in ASM_RUNS if "probe_after" in stages_for(ASM, parse_run_id(run))]


def asm_summary_inputs(wildcards):
    """Every run's analysis, and the rate maps (Fig. 5a) and dt check when they are computed."""
    inputs = {"analyses": [f"{ASM_DIR}/{run}/analyze.zarr" for run in ASM_RUNS]}
    if ASM.get("rate_dependence", {}).get("enabled", False):
        inputs["rate_dependence"] = f"{ASM_DIR}/rate_dependence.zarr"
    if ASM.get("dt_check", {}).get("enabled", False):
        inputs["dt_check"] = f"{ASM_DIR}/dt_check.zarr"
    return inputs


def asm_stage_inputs(wildcards):
    stage = wildcards.stage
    inputs = {}
    if stage in ASM_PREVIOUS:
        inputs["previous"] = asm_store(wildcards.run, ASM_PREVIOUS[stage])
    if stage == "spontaneous_nonrecurrent":
        inputs["recurrent"] = asm_store(wildcards.run, "spontaneous_recurrent")
    return inputs


def _asm_resource(key):
    def get(wildcards, attempt):
        value = resources_for(ASM, wildcards.run, wildcards.stage)[key]
        return value * attempt if key == "runtime" else value

    return get


