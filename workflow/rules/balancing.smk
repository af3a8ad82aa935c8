# Synaptic balancing (Stock, Harvey, Ocko & Ganguli 2022): random-network sweep, two-neuron and
# perturbation experiments, and the RNN experiment. Chain: balance -> analyze -> figures;
# train_rnn -> robustness -> figures; every store -> results/balancing_summary.csv.
# Library code lives in src/homeoplastic/balancing.
#
# Params hold only what changes a rule's output, as sorted JSON strings, so Snakemake's params
# trigger reruns exactly the jobs a config change affects: adding a seed, size, lambda or a value
# of any axis schedules only the new points plus the sweep-level reductions; an axis whose values
# include today's setting keeps every finished run (homeoplastic.balancing.runs); a figure setting
# reruns only figures. Each stage rule calls balancing.stages.run_stage(stage, params, inputs,
# output) of the stage table. Short per-point steps run several points per job by default
# (balancing.bundle; homeoplastic.balancing.bundles): the bundle rules at the end; a step of one
# point per job runs the one-job-per-point rule below, as before.
import json

from snakemake.logging import logger

from homeoplastic.balancing.bundles import STEPS as BAL_STEPS, rule_bundles, step_keys, xor_params
from homeoplastic.balancing.runs import (
    balance_params,
    figure_panels,
    rnn_points,
    robustness_params,
    run_ids,
    side_id,
    sweep_points,
    train_params,
)
from homeoplastic.parameters import ParameterError
from homeoplastic.sweep import id_regex

BAL = config["balancing"]
BAL_RES = BAL["resources"]
BAL_DIR = f"{RESULTS}/balancing"
BAL_LOGS = f"{LOGS}/balancing"


# Every run of the random-network sweep and of the RNN experiment, each value checked (type,
# range, rank <= size), and the figure panels, before any job; a bad one names its key.
try:
    BAL_SWEEP = run_ids(sweep_points(BAL)) if BAL["enabled"] else {}
    BAL_RNN = run_ids(rnn_points(BAL)) if BAL["enabled"] else {}
    BAL_PANELS = figure_panels(BAL, list(BAL_SWEEP.values())) if BAL["enabled"] else []
except ParameterError as err:
    raise WorkflowError(f"config: {err}")
BAL_KEYS = step_keys(BAL if BAL["enabled"] else {"xor": {"enabled": False}}, BAL_SWEEP, BAL_RNN)
BAL_BUNDLES, _notes = rule_bundles(BAL, BAL_DIR, BAL_KEYS)
for _note in _notes:
    logger.info(_note)
# What Snakemake tracks of each step: its stores, or the manifests of their bundles (the
# reductions read the stores behind them: homeoplastic.bundle.stores_of).
BAL_SWEEP_TARGETS = BAL_BUNDLES.targets("balance", BAL_SWEEP)
BAL_TRAIN_TARGETS = BAL_BUNDLES.targets("train_rnn", BAL_RNN)
BAL_ROBUST_TARGETS = BAL_BUNDLES.targets("robustness", BAL_RNN)
_side = side_id(BAL["perturbation"]["side"])
BAL_PERTURB_STORE = f"{BAL_DIR}/perturb/{_side}/perturb.zarr"
BAL_TWO_NEURON_STORE = f"{BAL_DIR}/two_neuron/two_neuron.zarr"
BAL_XOR_TARGETS = BAL_BUNDLES.targets("xor", BAL_KEYS["xor"])
# Figure-only settings: the figure rules' params, nothing else reads them.
# (the sweep panels are the sweep figure's own params, so a new panel redraws only that figure)
BAL_FIGURE_SETTINGS = json.dumps(
    {k: v for k, v in BAL["figures"].items() if k != "panels"}, sort_keys=True
)
BAL_SUMMARY_CSV = f"{RESULTS}/balancing_summary.csv"
# Config settings of the sweep's points: tables and figures show today's runs at these.
BAL_SWEEP_DEFAULTS = json.dumps(
    {f"sweep.{k}": v for k, v in BAL["sweep"].items() if "." not in k and not isinstance(v, list)},
    sort_keys=True,
)
BAL_PANEL_FILES = [f"{RESULTS}/figures/balancing_{panel['name']}.png" for panel in BAL_PANELS]
_PANEL_CAPTIONS = {"cost_vs_rank", "cost_vs_size"}

BAL_FIGURES = BAL_PANEL_FILES + [
    f"{RESULTS}/figures/balancing_convergence.png",
    f"{RESULTS}/figures/balancing_two_neuron.png",
    f"{RESULTS}/figures/balancing_perturbation.png",
]
if BAL_RNN:
    BAL_FIGURES += [
        f"{RESULTS}/figures/balancing_rnn_training.png",
        f"{RESULTS}/figures/balancing_rnn_robustness.png",
    ]

if BAL["enabled"]:
    ALL_TARGETS.extend(
        BAL_FIGURES + [f"{BAL_DIR}/summary/sweep_summary.zarr", BAL_SUMMARY_CSV]
    )

# Cheap jobs run on the submitting host, not as cluster jobs.
localrules:
    balancing_all,
    balancing_analyze,
    balancing_summary,
    balancing_two_neuron,
    balancing_perturb,
    balancing_figure_sweep,
    balancing_figure_two_neuron,
    balancing_figure_perturbation,
    balancing_figure_rnn,


rule balancing_all:
    input:
        BAL_FIGURES,
        f"{BAL_DIR}/summary/sweep_summary.zarr",
        BAL_SUMMARY_CSV,


rule balancing_balance:
    output:
        directory(f"{BAL_DIR}/sweep/{{run}}/balance.zarr"),
    log:
        f"{BAL_LOGS}/sweep/{{run}}.log",
    wildcard_constraints:
        run=BAL_BUNDLES.run_regex("balance", BAL_SWEEP),
    params:
        # the point and the settings it reads (n, rank, p, seed, solver, tol, flow_max_iter)
        settings=lambda wc: balance_params(BAL, BAL_SWEEP[wc.run]),
    # Many short jobs: a cluster run packs them (--group-components balancing_sweep=20).
    group:
        "balancing_sweep"
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_balance.py"


rule balancing_analyze:
    input:
        stores=BAL_SWEEP_TARGETS,
    output:
        store=directory(f"{BAL_DIR}/summary/sweep_summary.zarr"),
        table=f"{BAL_DIR}/summary/sweep_summary.tsv",
    log:
        f"{BAL_LOGS}/analyze.log",
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_analyze.py"


rule balancing_figure_sweep:
    input:
        BAL_SWEEP_TARGETS,
    output:
        panels=[
            report(
                path,
                caption=(
                    f"../report/balancing_{panel['name']}.rst"
                    if panel["name"] in _PANEL_CAPTIONS
                    else "../report/balancing_panel.rst"
                ),
                category="Balancing",
            )
            for path, panel in zip(BAL_PANEL_FILES, BAL_PANELS)
        ],
        convergence=report(
            f"{RESULTS}/figures/balancing_convergence.png",
            caption="../report/balancing_convergence.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_sweep.log",
    params:
        figures=BAL_FIGURE_SETTINGS,
        panels=json.dumps(BAL_PANELS),
        defaults=BAL_SWEEP_DEFAULTS,
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_sweep.py"


rule balancing_two_neuron:
    output:
        directory(f"{BAL_DIR}/two_neuron/two_neuron.zarr"),
    log:
        f"{BAL_LOGS}/two_neuron.log",
    params:
        settings=json.dumps({"settings": BAL["two_neuron"]}, sort_keys=True),
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_two_neuron.py"


rule balancing_figure_two_neuron:
    input:
        BAL_TWO_NEURON_STORE,
    output:
        report(
            f"{RESULTS}/figures/balancing_two_neuron.png",
            caption="../report/balancing_two_neuron.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_two_neuron.log",
    params:
        figures=BAL_FIGURE_SETTINGS,
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_two_neuron.py"


rule balancing_perturb:
    output:
        directory(f"{BAL_DIR}/perturb/{{run}}/perturb.zarr"),
    log:
        f"{BAL_LOGS}/perturb/{{run}}.log",
    wildcard_constraints:
        run=id_regex([_side]),
    params:
        settings=json.dumps(
            {
                "point": {"side": BAL["perturbation"]["side"]},
                "settings": {
                    k: BAL["perturbation"][k] for k in ("side", "eps", "p", "eps_sweep")
                },
            },
            sort_keys=True,
        ),
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_perturb.py"


rule balancing_figure_perturbation:
    input:
        BAL_PERTURB_STORE,
    output:
        report(
            f"{RESULTS}/figures/balancing_perturbation.png",
            caption="../report/balancing_perturbation.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_perturbation.log",
    params:
        figures=BAL_FIGURE_SETTINGS,
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_perturbation.py"


rule balancing_train_rnn:
    output:
        directory(f"{BAL_DIR}/rnn/{{run}}/train.zarr"),
    log:
        f"{BAL_LOGS}/rnn/{{run}}/train.log",
    wildcard_constraints:
        run=BAL_BUNDLES.run_regex("train_rnn", BAL_RNN),
    params:
        # the run and only the rnn keys training reads (an evaluation setting does not retrain)
        settings=lambda wc: train_params(BAL, BAL_RNN[wc.run]),
    group:
        "balancing_rnn"
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_train_rnn.py"


rule balancing_robustness:
    input:
        train=lambda wc: BAL_BUNDLES.target("train_rnn", wc.run),
    output:
        directory(f"{BAL_DIR}/rnn/{{run}}/robust.zarr"),
    log:
        f"{BAL_LOGS}/rnn/{{run}}/robust.log",
    wildcard_constraints:
        run=BAL_BUNDLES.run_regex("robustness", BAL_RNN),
    params:
        settings=lambda wc: robustness_params(BAL, BAL_RNN[wc.run]),
    group:
        "balancing_rnn"
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_robustness.py"


rule balancing_figure_rnn:
    input:
        train=BAL_TRAIN_TARGETS,
        robust=BAL_ROBUST_TARGETS,
    output:
        train=report(
            f"{RESULTS}/figures/balancing_rnn_training.png",
            caption="../report/balancing_rnn_training.rst",
            category="Balancing",
        ),
        robust=report(
            f"{RESULTS}/figures/balancing_rnn_robustness.png",
            caption="../report/balancing_rnn_robustness.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_rnn.log",
    params:
        figures=BAL_FIGURE_SETTINGS,
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_rnn.py"


rule balancing_summary:
    input:
        sweep=BAL_SWEEP_TARGETS,
        two_neuron=BAL_TWO_NEURON_STORE,
        perturb=BAL_PERTURB_STORE,
        train=BAL_TRAIN_TARGETS,
        robust=BAL_ROBUST_TARGETS,
        xor=BAL_XOR_TARGETS,
    output:
        BAL_SUMMARY_CSV,
    log:
        f"{BAL_LOGS}/summary.log",
    params:
        settings=json.dumps(BAL["summary"], sort_keys=True),
        defaults=BAL_SWEEP_DEFAULTS,
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_summary.py"


rule balancing_xor:
    output:
        directory(f"{BAL_DIR}/xor/seed~{{seed}}/xor.zarr"),
    log:
        f"{BAL_LOGS}/xor/seed~{{seed}}.log",
    wildcard_constraints:
        seed="no-such-seed" if BAL_BUNDLES.bundled("xor") else r"\d+",
    params:
        settings=lambda wc: xor_params(BAL, int(wc.seed)),
    group:
        "balancing_sweep"
    threads: 1
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_xor.py"


# ---- Bundled steps (balancing.bundle): each job writes the stores of several points in turn,
# exactly where the rules above would, and a manifest that Snakemake tracks. A store that is
# complete, with its settings and inputs, is kept.
for _step in BAL_STEPS:

    rule:
        name:
            f"balancing_{_step}_bundle"
        wildcard_constraints:
            bundle="[0-9a-f]+",
        input:
            BAL_BUNDLES.inputs(_step),
        output:
            f"{BAL_DIR}/bundles/{_step}/{{bundle}}.json",
        log:
            f"{BAL_LOGS}/bundles/{_step}/{{bundle}}.log",
        params:
            step=_step,
            members=BAL_BUNDLES.members(_step),
            settings=BAL_BUNDLES.digest(_step),
        threads: 1
        resources:
            mem_mb=BAL_RES["mem_mb"],
            runtime=BAL_BUNDLES.runtime(_step, BAL_RES["runtime_min"]),
        script:
            "../scripts/balancing_bundle.py"
