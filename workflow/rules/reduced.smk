# The reduced birth-death population model (LKD 2014 Fig. 7; spec section 8).
# Chain per sweep point m~M_n~N_eta~ETA_seed~SEED: simulate (frozen-weight rates, Fig. 7a/c) and
# train (plastic trajectories) -> analyze (vector fields over the weight plane, trajectories,
# transition-rate check) -> figures. Library code lives in src/homeoplastic/reduced.

RED = config["reduced"]
RED_DIR = f"{RESULTS}/reduced"
RED_LOGS = f"{LOGS}/reduced"
RED_RUN = "m~{m}_n~{n}_eta~{eta}_seed~{seed}"
RED_WC = {
    "m": r"[24]",
    "n": r"[0-9]+(\.[0-9]+)?",
    "eta": r"[0-9.]+(e-?[0-9]+)?",
    "seed": r"[0-9]+",
}


# Stores of every sweep point, per stage and model size M.
RED_STORES = {
    (stage, m): expand(
        f"{RED_DIR}/{RED_RUN}/{stage}.zarr",
        m=[m],
        n=[sweep_value(n) for n in RED["system_size"]],
        eta=[str(float(e)) for e in RED["eta"]],
        seed=RED["seeds"],
    )
    for stage in ("simulate", "analyze")
    for m in (2, 4)
}

# The rules' software environment (used with --use-conda; the same pins as pyproject.toml).
RED_ENV = "../../environment.yml"

RED_FIGURES = [f"{RESULTS}/figures/reduced_rates_m{m}.png" for m in RED["models"]]
RED_FIGURES += [f"{RESULTS}/figures/reduced_field_m{m}.png" for m in RED["models"]]
if 2 in RED["models"]:
    RED_FIGURES.append(f"{RESULTS}/figures/reduced_escape.png")

if RED["enabled"]:
    ALL_TARGETS.extend(RED_FIGURES)


# Figures read finished stores in seconds: a cluster runs them on the submit host.
localrules:
    reduced_all,
    reduced_figure_rates,
    reduced_figure_field,
    reduced_figure_escape,


rule reduced_all:
    input:
        RED_FIGURES,


rule reduced_simulate:
    output:
        directory(f"{RED_DIR}/{RED_RUN}/simulate.zarr"),
    log:
        f"{RED_LOGS}/{RED_RUN}/simulate.log",
    wildcard_constraints:
        **RED_WC,
    params:
        cfg=reduced_stage_params("simulate"),
        stage="simulate",
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_train:
    output:
        directory(f"{RED_DIR}/{RED_RUN}/train.zarr"),
    log:
        f"{RED_LOGS}/{RED_RUN}/train.log",
    wildcard_constraints:
        **RED_WC,
    params:
        cfg=reduced_stage_params("train"),
        stage="train",
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_analyze:
    input:
        f"{RED_DIR}/{RED_RUN}/train.zarr",
    output:
        directory(f"{RED_DIR}/{RED_RUN}/analyze.zarr"),
    log:
        f"{RED_LOGS}/{RED_RUN}/analyze.log",
    wildcard_constraints:
        **RED_WC,
    params:
        cfg=reduced_stage_params("analyze"),
        stage="analyze",
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_stage.py"


rule reduced_figure_rates:
    input:
        lambda wc: RED_STORES[("simulate", int(wc.m))],
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
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"


rule reduced_figure_field:
    input:
        lambda wc: RED_STORES[("analyze", int(wc.m))],
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
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"


rule reduced_figure_escape:
    input:
        RED_STORES[("analyze", 2)],
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
    threads: 1
    conda:
        RED_ENV
    resources:
        mem_mb=RED["resources"]["mem_mb"],
        runtime=RED["resources"]["runtime_min"],
    script:
        "../scripts/reduced_figure.py"
