# Config validation and paths shared by every rule file. Runs before any job is scheduled.
import json
from pathlib import Path

from snakemake.logging import logger

from homeoplastic.config import load_schema, validate

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

# One workflow at a time per results folder (Snakemake itself locks only its working directory).
if getattr(workflow, "is_main_process", True) and not workflow.dryrun:
    from homeoplastic.locks import ResultsInUse, hold_results_lock

    try:
        _RESULTS_LOCK = hold_results_lock(RESULTS)
    except ResultsInUse as err:
        raise WorkflowError(str(err))

# Rule files append their final outputs here; `rule all` requests them.
ALL_TARGETS = []

# One rule file per model; a model whose section is absent or disabled contributes nothing.
MODEL_RULE_FILES = [
    f"workflow/rules/{name}.smk"
    for name in ("assemblies", "balancing", "reduced")
    if (Path(workflow.basedir) / "workflow" / "rules" / f"{name}.smk").exists()
]


# ---- assemblies: one RunSettings per run, and each stage's stores ----
from homeoplastic.assemblies.stages import (
    STAGES as ASM_STAGE_TABLE,
    analysis_params,
    figure_params,
    resources_for,
    stage_params,
    stage_stores,
    sweep_settings,
)
from homeoplastic.assemblies.bundles import (
    bundle_resources,
    members_digest,
    plan_bundles,
    stage_members,
)
from homeoplastic.assemblies.sweep import AXES as ASM_AXES
from homeoplastic.bundle import BundlePolicy
from homeoplastic.config import validate_sweep
from homeoplastic.figures.panels import check_panels
from homeoplastic.analysis.assemblies import is_analyze_quantity
from homeoplastic.sweep import axis_names, id_regex

ASM = config.get("assemblies", {"enabled": False})
ASM_DIR = f"{RESULTS}/assemblies"
ASM_LOGS = f"{LOGS}/assemblies"

if ASM.get("enabled", False):
    try:
        # every value of every axis against the schema, then every run resolved and validated
        validate_sweep(ASM, load_schema(SCHEMA_DIR / "assemblies.schema.yaml"), "assemblies",
                       ASM_AXES)
        ASM_SETTINGS = sweep_settings(ASM)
        ASM_STORES = stage_stores(ASM_SETTINGS)  # stage -> store folder -> a run that has it
        check_panels(ASM["figures"]["panels"], is_analyze_quantity,
                     axis_names(run.point for run in ASM_SETTINGS.values()),
                     "assemblies.figures.panels")
    except ValueError as err:
        raise WorkflowError(f"config: {err}")
    # large sweeps run several points per job (assemblies.bundle; automatic above 500 runs)
    _policy = BundlePolicy.from_config(ASM.get("bundle"))
    ASM_BUNDLES = plan_bundles(ASM_SETTINGS, ASM_STORES, _policy)
    if ASM_BUNDLES is not None:
        logger.info(_policy.describe(len(ASM_SETTINGS), "assemblies"))
else:
    ASM_SETTINGS, ASM_STORES, ASM_BUNDLES = {}, {}, None
ASM_RUNS = list(ASM_SETTINGS)
# wildcard constraint of the one-job-per-run rules: any run of the sweep, none when bundled
ASM_RUN_REGEX = id_regex(ASM_RUNS if ASM_BUNDLES is None else ())


def asm_store(run, stage):
    return f"{ASM_DIR}/{run}/{stage}.zarr"


def asm_runs_with(stage):
    """Wildcard constraint: the store folders of ``stage`` (points that differ only in what the
    stage does not read share one); none when the sweep is bundled."""
    return id_regex(ASM_STORES.get(stage, {}) if ASM_BUNDLES is None else ())


def asm_manifest(step, bundle):
    return f"{ASM_DIR}/bundles/{step}/{bundle}.json"


def asm_target(step, key):
    """What Snakemake tracks for a stage store (``key`` its folder) or a run's analysis
    (``key`` the run): the store, or the manifest of the bundle that writes it."""
    if ASM_BUNDLES is None:
        return asm_store(key, step)
    return asm_manifest(step, ASM_BUNDLES.owner_of(step, key))


def asm_stage_inputs(stage):
    """The stores a stage reads, by name, from the stage table."""
    sources = ASM_STAGE_TABLE[stage].inputs

    def inputs(wc):
        run = ASM_STORES[stage][wc.run]
        return {name: asm_store(run.store_id(source), source) for name, source in sources}

    return inputs


def asm_analyses():
    """Every run's analysis as Snakemake tracks it (stores, or bundle manifests)."""
    if ASM_BUNDLES is None:
        return [asm_store(run, "analyze") for run in ASM_RUNS]
    return [asm_manifest("analyze", b) for b in ASM_BUNDLES.bundles["analyze"]]


def asm_figure(run, step="figure_run"):
    suffix = "_probe" if step == "figure_probe" else ""
    return f"{RESULTS}/figures/assemblies/{run}{suffix}.png"


def asm_run_figures():
    """The per-run and probe figures (or, bundled, the manifests of their bundles)."""
    if ASM_BUNDLES is not None:
        return [asm_manifest(step, b) for step in ("figure_run", "figure_probe")
                for b in ASM_BUNDLES.bundles[step]]
    return ([asm_figure(run) for run in ASM_RUNS]
            + [asm_figure(run, "figure_probe") for run in asm_probe_runs()])


# ---- bundled steps: one job per bundle of points (see homeoplastic.assemblies.bundles)
def _asm_bundle(step, wc):
    return ASM_BUNDLES.bundles[step][wc.bundle]


def asm_bundle_members(step):
    """A bundle's members as JSON: each store's run, output and inputs."""

    def members(wc):
        found = stage_members(step, _asm_bundle(step, wc), ASM_STORES, ASM_SETTINGS, asm_store)
        if step.startswith("figure"):
            for member in found:
                member["figure"] = asm_figure(member["run"], step)
        return json.dumps(found, sort_keys=True)

    return members


def asm_bundle_digest(step):
    """Fingerprint of the members' settings: an edit of any member reruns the bundle (which
    recomputes only the members whose settings changed)."""

    def params(wc):
        return members_digest(step, json.loads(asm_bundle_members(step)(wc)), ASM_SETTINGS)

    return params


def asm_bundle_inputs(step):
    """The manifests of the bundles that write a bundle's inputs."""

    def inputs(wc):
        needed = set()
        for member in json.loads(asm_bundle_members(step)(wc)):
            run = ASM_SETTINGS[member["run"]]
            sources = ([source for _, source in ASM_STAGE_TABLE[step].inputs]
                       if step in ASM_STAGE_TABLE else list(run.stages))
            if step == "figure_probe":
                sources = ["probe_before", "probe_after"]
            needed.update(asm_target(s, run.store_id(s)) for s in sources)
            if step in ("figure_run",):
                needed.add(asm_target("analyze", run.run_id))
        return sorted(needed)

    return inputs


def asm_bundle_resources(step, key):
    """A bundle's memory is its largest member's, its runtime the sum of its members'."""

    def get(wildcards, attempt):
        value = bundle_resources(step, _asm_bundle(step, wildcards), ASM_STORES)[key]
        return value * attempt if key == "runtime" else value

    return get



def asm_stage_params(stage):
    """Only the settings that change this stage's store (stable JSON)."""
    return lambda wc: stage_params(ASM_STORES[stage][wc.run], stage)


def asm_stage_resources(stage, key):
    def get(wildcards, attempt):
        value = resources_for(ASM_STORES[stage][wildcards.run], stage)[key]
        return value * attempt if key == "runtime" else value

    return get


def asm_run_stores(wildcards):
    """The stage stores of one run (its rule decides the chain), each in its own folder."""
    run = ASM_SETTINGS[wildcards.run]
    return {stage: asm_store(run.store_id(stage), stage) for stage in run.stages}


def asm_analysis_params(wildcards):
    return analysis_params(ASM_SETTINGS[wildcards.run])


def asm_figure_params(wildcards):
    return figure_params(ASM_SETTINGS[wildcards.run])


def asm_probe_runs():
    """Runs whose chain includes the probe stages."""
    return [run for run, settings in ASM_SETTINGS.items() if "probe_after" in settings.stages]


def asm_summary_inputs(wildcards):
    """Every run's analysis, and the rate maps (Fig. 5a) and dt check when they are computed."""
    inputs = {"analyses": asm_analyses()}
    if ASM.get("rate_dependence", {}).get("enabled", False):
        inputs["rate_dependence"] = f"{ASM_DIR}/rate_dependence.zarr"
    if ASM.get("dt_check", {}).get("enabled", False):
        inputs["dt_check"] = f"{ASM_DIR}/dt_check.zarr"
    return inputs


def asm_section_params(*keys):
    """Params of a sweep-independent job: the named subsections of the config (stable JSON)."""
    import json

    return json.dumps({key: ASM.get(key, {}) for key in keys}, sort_keys=True)
