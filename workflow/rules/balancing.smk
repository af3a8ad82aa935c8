# Synaptic balancing (Stock, Harvey, Ocko & Ganguli 2022): random-network sweep, two-neuron and
# perturbation experiments, and the RNN experiment. Chain: balance -> analyze -> figures;
# train_rnn -> robustness -> figures. Library code lives in src/homeoplastic/balancing.

BAL = config["balancing"]
BAL_RES = BAL["resources"]
BAL_DIR = f"{RESULTS}/balancing"
BAL_LOGS = f"{LOGS}/balancing"
# The rules' software environment (used with --use-conda; the same pins as pyproject.toml).
BAL_ENV = "../../environment.yml"

BAL_SWEEP_STORES = expand(
    f"{BAL_DIR}/sweep/n~{{n}}_rank~{{rank}}_p~{{p}}_seed~{{seed}}/balance.zarr",
    n=BAL["sweep"]["sizes"],
    rank=[str(r) for r in BAL["sweep"]["ranks"]],
    p=[float(p) for p in BAL["sweep"]["exponents"]],
    seed=BAL["sweep"]["seeds"],
)
_rnn = BAL["rnn"]
# Training sees only its own keys, so changing the evaluation settings does not retrain.
_RNN_EVAL_KEYS = ("noise_sigmas", "n_trial_sets", "gain_floor", "enabled", "seeds")
BAL_RNN_TRAIN = {k: v for k, v in _rnn.items() if k not in _RNN_EVAL_KEYS}
BAL_RNN_RUNS = (
    [("plain", 0.0)]
    + [("l2", float(lam)) for lam in _rnn["l2_lambdas"]]
    + [("balance", float(lam)) for lam in _rnn["balance_rates"]]
)
BAL_RNN_DIRS = [
    f"{BAL_DIR}/rnn/arm~{arm}_lambda~{lam}_seed~{seed}"
    for arm, lam in BAL_RNN_RUNS
    for seed in _rnn["seeds"]
]
BAL_PERTURB_STORE = f"{BAL_DIR}/perturb/side~{BAL['perturbation']['side']}/perturb.zarr"

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
    ALL_TARGETS.extend(BAL_FIGURES + [f"{BAL_DIR}/summary/sweep_summary.zarr"])


rule balancing_all:
    input:
        BAL_FIGURES,
        f"{BAL_DIR}/summary/sweep_summary.zarr",


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
        cfg=BAL["sweep"],
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
        cfg=BAL["two_neuron"],
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
        f"{BAL_DIR}/two_neuron/two_neuron.zarr",
    output:
        report(
            f"{RESULTS}/figures/balancing_two_neuron.png",
            caption="../report/balancing_two_neuron.rst",
            category="Balancing",
        ),
    log:
        f"{BAL_LOGS}/figure_two_neuron.log",
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
        cfg=BAL["perturbation"],
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
        cfg=BAL_RNN_TRAIN,
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
        cfg=BAL["rnn"],
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
    threads: 1
    conda:
        BAL_ENV
    resources:
        mem_mb=BAL_RES["mem_mb"],
        runtime=BAL_RES["runtime_min"],
    script:
        "../scripts/balancing_figure_rnn.py"
