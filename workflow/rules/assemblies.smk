# The spiking assembly model (Litwin-Kumar & Doiron 2014), one chain per sweep point:
# simulate -> train -> spontaneous_{recurrent,nonrecurrent} -> perturb_{recurrent,nonrecurrent},
# remap (after the recurrent spontaneous phase), probe_before/probe_after (of the simulate/train
# networks) -> analyze; then per-run, sweep and experiments figures, rate maps, the dt check and
# results/summary.csv.
# Which stages a run has: protocol.stages_for. Logic: src/homeoplastic/spiking/protocol.py.
if ASM_RUNS:
    ALL_TARGETS.extend(
        [f"{ASM_DIR}/{run}/analyze.zarr" for run in ASM_RUNS]
        + [f"{RESULTS}/figures/assemblies/{run}.png" for run in ASM_RUNS]
        + [f"{RESULTS}/figures/assemblies/{run}_probe.png" for run in asm_probe_runs()]
        + [f"{RESULTS}/figures/assemblies_sweep.png", f"{RESULTS}/summary.csv"]
        + [f"{RESULTS}/figures/assemblies_experiments.png"]
    )
if ASM.get("enabled", False) and ASM.get("rate_dependence", {}).get("enabled", False):
    ALL_TARGETS.append(f"{RESULTS}/figures/assemblies_rate_dependence.png")
if ASM.get("enabled", False) and ASM.get("dt_check", {}).get("enabled", False):
    ALL_TARGETS.append(f"{RESULTS}/figures/assemblies_dt_check.png")


ASM_RUN_REGEX = "|".join(ASM_RUNS) if ASM_RUNS else "no-assembly-runs"
ASM_STAGE_REGEX = "|".join(ASM_STAGES)


rule assemblies_stage:
    wildcard_constraints:
        run=ASM_RUN_REGEX,
        stage=ASM_STAGE_REGEX,
    input:
        unpack(asm_stage_inputs),
    output:
        directory(f"{ASM_DIR}/{{run}}/{{stage}}.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/{{stage}}.log",
    params:
        section=ASM,
    threads: 1
    resources:
        mem_mb=_asm_resource("mem_mb"),
        runtime=_asm_resource("runtime"),
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_analyze:
    wildcard_constraints:
        run=ASM_RUN_REGEX,
    input:
        unpack(asm_run_stores),
    output:
        directory(f"{ASM_DIR}/{{run}}/analyze.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/analyze.log",
    params:
        section=ASM,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_analyze.py"


rule assemblies_figure_run:
    wildcard_constraints:
        run=ASM_RUN_REGEX,
    input:
        unpack(asm_run_stores),
        analysis=f"{ASM_DIR}/{{run}}/analyze.zarr",
    output:
        report(
            f"{RESULTS}/figures/assemblies/{{run}}.png",
            caption="../report/assemblies_run.rst",
            category="Assemblies",
            subcategory="Runs",
        ),
    log:
        f"{ASM_LOGS}/{{run}}/figure.log",
    params:
        section=ASM,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_run.py"


rule assemblies_figure_probe:
    wildcard_constraints:
        run=ASM_RUN_REGEX,
    input:
        before=f"{ASM_DIR}/{{run}}/probe_before.zarr",
        after=f"{ASM_DIR}/{{run}}/probe_after.zarr",
    output:
        report(
            f"{RESULTS}/figures/assemblies/{{run}}_probe.png",
            caption="../report/assemblies_probe.rst",
            category="Assemblies",
            subcategory="Probe statistics",
        ),
    log:
        f"{ASM_LOGS}/{{run}}/figure_probe.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_probe.py"


rule assemblies_figure_sweep:
    input:
        [f"{ASM_DIR}/{run}/analyze.zarr" for run in ASM_RUNS],
    output:
        report(
            f"{RESULTS}/figures/assemblies_sweep.png",
            caption="../report/assemblies_sweep.rst",
            category="Assemblies",
            subcategory="Sweep",
        ),
    log:
        f"{ASM_LOGS}/figure_sweep.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_sweep.py"


rule assemblies_figure_experiments:
    input:
        [f"{ASM_DIR}/{run}/analyze.zarr" for run in ASM_RUNS],
    output:
        report(
            f"{RESULTS}/figures/assemblies_experiments.png",
            caption="../report/assemblies_experiments.rst",
            category="Assemblies",
            subcategory="Sweep",
        ),
    log:
        f"{ASM_LOGS}/figure_experiments.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_experiments.py"


rule assemblies_summary:
    input:
        unpack(asm_summary_inputs),
    output:
        f"{RESULTS}/summary.csv",
    log:
        f"{ASM_LOGS}/summary.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_summary.py"


rule assemblies_rate_dependence:
    output:
        directory(f"{ASM_DIR}/rate_dependence.zarr"),
    log:
        f"{ASM_LOGS}/rate_dependence.log",
    params:
        section=ASM,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_rate_dependence.py"


rule assemblies_figure_rate_dependence:
    input:
        f"{ASM_DIR}/rate_dependence.zarr",
    output:
        report(
            f"{RESULTS}/figures/assemblies_rate_dependence.png",
            caption="../report/assemblies_rate_dependence.rst",
            category="Assemblies",
            subcategory="Plasticity rules",
        ),
    log:
        f"{ASM_LOGS}/figure_rate_dependence.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_rate_dependence.py"


rule assemblies_dt_check:
    output:
        directory(f"{ASM_DIR}/dt_check.zarr"),
    log:
        f"{ASM_LOGS}/dt_check.log",
    params:
        section=ASM,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_dt_check.py"


rule assemblies_figure_dt_check:
    input:
        f"{ASM_DIR}/dt_check.zarr",
    output:
        report(
            f"{RESULTS}/figures/assemblies_dt_check.png",
            caption="../report/assemblies_dt_check.rst",
            category="Assemblies",
            subcategory="Supplementary",
        ),
    log:
        f"{ASM_LOGS}/figure_dt_check.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ASM_ENV
    script:
        "../scripts/assemblies_figure_dt_check.py"
