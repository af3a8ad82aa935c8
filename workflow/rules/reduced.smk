# The reduced birth-death population model (LKD 2014 Fig. 7).
# Chain per sweep point: simulate (frozen-weight rates, Fig. 7a/c) and train (plastic trajectories)
# -> analyze (vector fields over the weight plane, trajectories, transition-rate check) -> figures.
# Any setting of the model is a sweep axis (`sweep`, `extra_sweeps`; homeoplastic.reduced.runs);
# run ids are m~M_n~N_eta~ETA_seed~SEED, then key~value for each other axis off its default. A
# stage's store lives in the folder of the point restricted to what the stage reads (its row of
# homeoplastic.reduced.experiments.STAGE_TABLE). Library code lives in src/homeoplastic/reduced.
# By default a job writes up to 12 stores of one stage (reduced.bundle; homeoplastic.reduced.bundles):
# the bundle rules at the end; with points_per_job: 1, one job per store and stage.
import json

from snakemake.logging import logger

from homeoplastic.parameters import ParameterError
from homeoplastic.reduced import bundles as red_bundles
from homeoplastic.reduced import runs as red_runs

RED = config["reduced"]
RED_DIR = f"{RESULTS}/reduced"
RED_LOGS = f"{LOGS}/reduced"

# Every point of the sweep and every figure panel, checked before any job.
try:
    RED_SWEEP = red_runs.Workflow(RED, RED_DIR)
except ParameterError as err:
    raise WorkflowError(f"config: {err}")
RED_MODELS = RED_SWEEP.models
RED_BUNDLES = red_bundles.Bundles(RED_SWEEP)
if RED["enabled"]:
    for _note in RED_BUNDLES.notes():
        logger.info(_note)
# Today's figures draw the sweep over m, n, eta and seed (other axes at their defaults).
RED_STORES = {
    (stage, m): RED_SWEEP.figure_stores(stage, m)
    for stage in ("simulate", "analyze")
    for m in RED_MODELS
}


RED_FIGURES = [f"{RESULTS}/figures/reduced_rates_m{m}.png" for m in RED_MODELS]
RED_FIGURES += [f"{RESULTS}/figures/reduced_field_m{m}.png" for m in RED_MODELS]
if 2 in RED_MODELS:
    RED_FIGURES.append(f"{RESULTS}/figures/reduced_escape.png")
if RED_SWEEP.panels:
    RED_FIGURES.append(f"{RESULTS}/figures/reduced_sweep.png")

if RED["enabled"]:
    ALL_TARGETS.extend(RED_FIGURES)
    ALL_TARGETS.extend(RED_BUNDLES.all_targets())  # every point's chain, drawn or not


# Figures read finished stores in seconds: a cluster runs them on the submit host.
localrules:
    reduced_all,
    reduced_figure_rates,
    reduced_figure_field,
    reduced_figure_escape,
    reduced_figure_sweep,


rule reduced_all:
    input:
        RED_FIGURES,
        RED_BUNDLES.all_targets(),


rule reduced_simulate:
    output:
        directory(f"{RED_DIR}/{{run}}/simulate.zarr"),
    log:
        f"{RED_LOGS}/{{run}}/simulate.log",
    wildcard_constraints:
        run=RED_BUNDLES.stage_regex("simulate"),
    params:
        cfg=RED_SWEEP.params("simulate"),
        point=RED_SWEEP.params("simulate", "point"),
        stage="simulate",
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_train:
    output:
        directory(f"{RED_DIR}/{{run}}/train.zarr"),
    log:
        f"{RED_LOGS}/{{run}}/train.log",
    wildcard_constraints:
        run=RED_BUNDLES.stage_regex("train"),
    params:
        cfg=RED_SWEEP.params("train"),
        point=RED_SWEEP.params("train", "point"),
        stage="train",
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_analyze:
    input:
        unpack(RED_SWEEP.inputs("analyze")),
    output:
        directory(f"{RED_DIR}/{{run}}/analyze.zarr"),
    log:
        f"{RED_LOGS}/{{run}}/analyze.log",
    wildcard_constraints:
        run=RED_BUNDLES.stage_regex("analyze"),
    params:
        cfg=RED_SWEEP.params("analyze"),
        point=RED_SWEEP.params("analyze", "point"),
        stage="analyze",
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_figure_rates:
    input:
        lambda wc: RED_BUNDLES.store_targets(RED_STORES.get(("simulate", int(wc.m)), [])),
    output:
        report(
            f"{RESULTS}/figures/reduced_rates_m{{m}}.png",
            caption="../report/reduced_rates.rst",
            category="Reduced model",
        ),
    log:
        f"{RED_LOGS}/figures/rates_m{{m}}.log",
    wildcard_constraints:
        m=r"[24]",
    params:
        kind="rates",
        **RED_BUNDLES.figure_params(lambda wc: RED_STORES.get(("simulate", int(wc.m)), [])),
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"


rule reduced_figure_field:
    input:
        lambda wc: RED_BUNDLES.store_targets(RED_STORES.get(("analyze", int(wc.m)), [])),
    output:
        report(
            f"{RESULTS}/figures/reduced_field_m{{m}}.png",
            caption="../report/reduced_field.rst",
            category="Reduced model",
        ),
    log:
        f"{RED_LOGS}/figures/field_m{{m}}.log",
    wildcard_constraints:
        m=r"[24]",
    params:
        kind="field",
        **RED_BUNDLES.figure_params(lambda wc: RED_STORES.get(("analyze", int(wc.m)), [])),
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"


rule reduced_figure_escape:
    input:
        RED_BUNDLES.store_targets(RED_STORES.get(("analyze", 2), [])),
    output:
        report(
            f"{RESULTS}/figures/reduced_escape.png",
            caption="../report/reduced_escape.rst",
            category="Reduced model",
        ),
    log:
        f"{RED_LOGS}/figures/escape.log",
    params:
        kind="escape",
        **RED_BUNDLES.figure_params(lambda wc: RED_STORES.get(("analyze", 2), [])),
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"


rule reduced_figure_sweep:
    input:
        RED_BUNDLES.store_targets(RED_SWEEP.sweep_stores()),
    output:
        report(
            f"{RESULTS}/figures/reduced_sweep.png",
            caption="../report/reduced_sweep.rst",
            category="Reduced model",
        ),
    log:
        f"{RED_LOGS}/figures/sweep.log",
    params:
        panels=json.dumps(RED_SWEEP.panels),
        runs=RED_SWEEP.sweep_runs_json(),
    threads: 1
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure_sweep.py"


# ---- Bundled stages (reduced.bundle): each job writes several stores of one stage in turn,
# exactly where the rules above would, and a manifest that Snakemake tracks. A store that is
# complete, with its settings and inputs, is kept.
for _stage in ("simulate", "train", "analyze"):

    rule:
        name:
            f"reduced_{_stage}_bundle"
        wildcard_constraints:
            bundle="[0-9a-f]+",
        input:
            RED_BUNDLES.inputs(_stage),
        output:
            f"{RED_DIR}/bundles/{_stage}/{{bundle}}.json",
        log:
            f"{RED_LOGS}/bundles/{_stage}/{{bundle}}.log",
        params:
            stage=_stage,
            members=RED_BUNDLES.members(_stage),
            settings=RED_BUNDLES.digest(_stage),
        threads: 1
        resources:
            mem_mb=RED["resources"]["mem_mb"],
            runtime=RED_BUNDLES.runtime(_stage, RED["resources"]["runtime_min"]),
        script:
            "../scripts/reduced_bundle.py"
