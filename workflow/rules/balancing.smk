# Synaptic balancing (Stock, Harvey, Ocko & Ganguli 2022): random-network sweep, two-neuron and
# perturbation experiments, and the RNN experiment. Chain: balance -> analyze -> figures;
# train_rnn -> robustness -> figures; every store -> results/balancing_summary.csv.
# Library code lives in src/homeoplastic/balancing.
#
# Params hold only what changes a rule's output, as sorted JSON strings, so Snakemake's params
# trigger reruns exactly the jobs a config change affects: adding a seed, size or lambda schedules
# only the new points plus the sweep-level reductions; a figure setting reruns only figures.
import json

from homeoplastic.balancing.stages import RNN_EVAL_KEYS, RNN_TRAIN_KEYS

BAL = config["balancing"]
BAL_RES = BAL["resources"]
BAL_DIR = f"{RESULTS}/balancing"
BAL_LOGS = f"{LOGS}/balancing"
# The rules' software environment (used with --use-conda; the same pins as pyproject.toml).
BAL_ENV = "../../environment.yml"


# The given keys of a config section as a stable (sorted) JSON string.
_bal_json = lambda section, keys: json.dumps({k: section[k] for k in keys}, sort_keys=True)


_sweep = BAL["sweep"]
BAL_SWEEP_STORES = expand(
    f"{BAL_DIR}/sweep/n~{{n}}_rank~{{rank}}_p~{{p}}_seed~{{seed}}/balance.zarr",
    n=_sweep["sizes"],
    rank=[str(r) for r in _sweep["ranks"]],
    p=[float(p) for p in _sweep["exponents"]],
    seed=_sweep["seeds"],
)
# Per-point settings of the sweep (the point itself is in the wildcards).
BAL_SWEEP_SETTINGS = _bal_json(_sweep, ("solver", "tol", "flow_max_iter"))
_rnn = BAL["rnn"]
# Training sees only its own keys, so changing the evaluation settings does not retrain
# (the key lists live beside the stages that read them).
BAL_RNN_TRAIN_SETTINGS = _bal_json(_rnn, RNN_TRAIN_KEYS)
BAL_RNN_EVAL_SETTINGS = _bal_json(_rnn, RNN_EVAL_KEYS)
BAL_RNN_RUNS = (
    [("plain", 0.0)]
    + [("l2", float(lam)) for lam in _rnn["l2_lambdas"]]
    + [("balance", float(lam)) for lam in _rnn["balance_rates"]]
)
BAL_RNN_DIRS = [
    f"{BAL_DIR}/rnn/arm~{arm}_lambda~{lam}_seed~{seed}"
    for arm, lam in BAL_RNN_RUNS
    for seed in _rnn["seeds"]
] if _rnn["enabled"] else []
BAL_PERTURB_STORE = f"{BAL_DIR}/perturb/side~{BAL['perturbation']['side']}/perturb.zarr"
BAL_TWO_NEURON_STORE = f"{BAL_DIR}/two_neuron/two_neuron.zarr"
_xor = BAL["xor"]
BAL_XOR_STORES = (
    [f"{BAL_DIR}/xor/seed~{s}/xor.zarr" for s in _xor["seeds"]] if _xor["enabled"] else []
)
BAL_XOR_SETTINGS = _bal_json(_xor, ("n", "spread", "sigma", "n_trials", "t_max"))
# Figure-only settings: the figure rules' params, nothing else reads them.
BAL_FIGURE_SETTINGS = json.dumps(BAL["figures"], sort_keys=True)
BAL_SUMMARY_CSV = f"{RESULTS}/balancing_summary.csv"

BAL_FIGURES = [
    f"{RESULTS}/figures/balancing_cost_vs_rank.png",
    f"{RESULTS}/figures/balancing_cost_vs_size.png",
    f"{RESULTS}/figures/balancing_convergence.png",
    f"{RESULTS}/figures/balancing_two_neuron.png",
    f"{RESULTS}/figures/balancing_perturbation.png",
]
if _rnn["enabled"]:
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
        directory(f"{BAL_DIR}/sweep/n~{{n}}_rank~{{rank}}_p~{{p}}_seed~{{seed}}/balance.zarr"),
    log:
        f"{BAL_LOGS}/sweep/n~{{n}}_rank~{{rank}}_p~{{p}}_seed~{{seed}}.log",
    wildcard_constraints:
        n=r"\d+",
        rank=r"\d+|full",
        p=r"-?[0-9.]+(e-?\d+)?",
        seed=r"\d+",
    params:
        settings=BAL_SWEEP_SETTINGS,
    # Many short jobs: a cluster run packs them (--group-components balancing_sweep=20).
    group:
        "balancing_sweep"
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_balance.py"


rule balancing_analyze:
    input:
        BAL_SWEEP_STORES,
    output:
        store=directory(f"{BAL_DIR}/summary/sweep_summary.zarr"),
        table=f"{BAL_DIR}/summary/sweep_summary.tsv",
    log:
        f"{BAL_LOGS}/analyze.log",
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_analyze.py"


rule balancing_figure_sweep:
    input:
        BAL_SWEEP_STORES,
    output:
        rank=report(
            f"{RESULTS}/figures/balancing_cost_vs_rank.png",
            caption="../report/balancing_cost_vs_rank.rst",
            category="Balancing",
        ),
        size=report(
            f"{RESULTS}/figures/balancing_cost_vs_size.png",
            caption="../report/balancing_cost_vs_size.rst",
            category="Balancing",
        ),
        convergence=report(
            f"{RESULTS}/figures/balancing_convergence.png",
            caption="../report/balancing_convergence.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_sweep.log",
    params:
        figures=BAL_FIGURE_SETTINGS,
    threads: 1
    conda:
        BAL_ENV
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
        settings=json.dumps(BAL["two_neuron"], sort_keys=True),
    threads: 1
    conda:
        BAL_ENV
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
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_two_neuron.py"


rule balancing_perturb:
    output:
        directory(f"{BAL_DIR}/perturb/side~{{side}}/perturb.zarr"),
    log:
        f"{BAL_LOGS}/perturb/side~{{side}}.log",
    wildcard_constraints:
        side=r"\d+",
    params:
        settings=_bal_json(BAL["perturbation"], ("eps", "p", "eps_sweep")),
    threads: 1
    conda:
        BAL_ENV
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
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_perturbation.py"


rule balancing_train_rnn:
    output:
        directory(f"{BAL_DIR}/rnn/arm~{{arm}}_lambda~{{lam}}_seed~{{seed}}/train.zarr"),
    log:
        f"{BAL_LOGS}/rnn/arm~{{arm}}_lambda~{{lam}}_seed~{{seed}}/train.log",
    wildcard_constraints:
        arm="plain|l2|balance",
        lam=r"[0-9.]+(e-?\d+)?",
        seed=r"\d+",
    params:
        settings=BAL_RNN_TRAIN_SETTINGS,
    group:
        "balancing_rnn"
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_train_rnn.py"


rule balancing_robustness:
    input:
        f"{BAL_DIR}/rnn/arm~{{arm}}_lambda~{{lam}}_seed~{{seed}}/train.zarr",
    output:
        directory(f"{BAL_DIR}/rnn/arm~{{arm}}_lambda~{{lam}}_seed~{{seed}}/robust.zarr"),
    log:
        f"{BAL_LOGS}/rnn/arm~{{arm}}_lambda~{{lam}}_seed~{{seed}}/robust.log",
    wildcard_constraints:
        arm="plain|l2|balance",
        lam=r"[0-9.]+(e-?\d+)?",
        seed=r"\d+",
    params:
        settings=BAL_RNN_EVAL_SETTINGS,
    group:
        "balancing_rnn"
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_robustness.py"


rule balancing_figure_rnn:
    input:
        train=[f"{d}/train.zarr" for d in BAL_RNN_DIRS],
        robust=[f"{d}/robust.zarr" for d in BAL_RNN_DIRS],
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
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_rnn.py"


rule balancing_summary:
    input:
        sweep=BAL_SWEEP_STORES,
        two_neuron=BAL_TWO_NEURON_STORE,
        perturb=BAL_PERTURB_STORE,
        train=[f"{d}/train.zarr" for d in BAL_RNN_DIRS],
        robust=[f"{d}/robust.zarr" for d in BAL_RNN_DIRS],
        xor=BAL_XOR_STORES,
    output:
        BAL_SUMMARY_CSV,
    log:
        f"{BAL_LOGS}/summary.log",
    params:
        settings=json.dumps(BAL["summary"], sort_keys=True),
    threads: 1
    conda:
        BAL_ENV
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
        seed=r"\d+",
    params:
        settings=BAL_XOR_SETTINGS,
    group:
        "balancing_sweep"
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_xor.py"
