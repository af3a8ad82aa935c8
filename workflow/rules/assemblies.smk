# The spiking assembly model (Litwin-Kumar & Doiron 2014), one chain per sweep point:
#
#   simulate -> train -> spontaneous_recurrent -> perturb_recurrent
#                     |                        -> remap
#                     -> spontaneous_nonrecurrent -> perturb_nonrecurrent
#   probe_before (of simulate), probe_after (of spontaneous_recurrent)           -> analyze -> figures, summary
#   probe_remap_before (of spontaneous_recurrent), probe_remap_after (of remap): the new set
#
# Runs whose rule is in `short_chain_rules` stop after spontaneous_recurrent. The stage graph (what
# each stage reads, which settings change it, what it costs) is one table in the library:
# homeoplastic.assemblies.stages.STAGE_TABLE; each rule below reads its row. Params hold only the
# settings that change the rule's output, so editing the config reruns exactly what it affects.
# A stage's store sits in the folder of the axes it reads (RunSettings.store_id): sweeping
# protocol.spontaneous_s shares simulate and train between the points that differ only there.
import json

if ASM_RUNS:
    ALL_TARGETS.extend(
        asm_analyses()
        + asm_run_figures()
        + [f"{RESULTS}/figures/assemblies_sweep.png", f"{RESULTS}/summary.csv",
           f"{RESULTS}/figures/claims.png"]
        + [f"{RESULTS}/figures/assemblies_experiments.png"]
    )
if ASM.get("enabled", False) and ASM.get("rate_dependence", {}).get("enabled", False):
    ALL_TARGETS.append(f"{RESULTS}/figures/assemblies_rate_dependence.png")
if ASM.get("enabled", False) and ASM.get("dt_check", {}).get("enabled", False):
    ALL_TARGETS.append(f"{RESULTS}/figures/assemblies_dt_check.png")


# Figures and tables read finished stores in seconds: a cluster runs them on the submit host.
localrules:
    assemblies_figure_run,
    assemblies_figure_probe,
    assemblies_figure_sweep,
    assemblies_figure_experiments,
    assemblies_summary,
    assemblies_figure_claims,
    assemblies_figure_rate_dependence,
    assemblies_figure_dt_check,
    assemblies_figure_run_bundle,
    assemblies_figure_probe_bundle,


rule assemblies_simulate:
    """Build the network from the seed; warm-up without plasticity."""
    wildcard_constraints:
        run=asm_runs_with("simulate"),
    input:
        unpack(asm_stage_inputs("simulate")),
    output:
        directory(f"{ASM_DIR}/{{run}}/simulate.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/simulate.log",
    params:
        stage="simulate",
        settings=asm_stage_params("simulate"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("simulate", "mem_mb"),
        runtime=asm_stage_resources("simulate", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_train:
    """Present each assembly's stimulus with plasticity on."""
    wildcard_constraints:
        run=asm_runs_with("train"),
    input:
        unpack(asm_stage_inputs("train")),
    output:
        directory(f"{ASM_DIR}/{{run}}/train.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/train.log",
    params:
        stage="train",
        settings=asm_stage_params("train"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("train", "mem_mb"),
        runtime=asm_stage_resources("train", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_spontaneous_recurrent:
    """Spontaneous activity of the trained, intact network."""
    wildcard_constraints:
        run=asm_runs_with("spontaneous_recurrent"),
    input:
        unpack(asm_stage_inputs("spontaneous_recurrent")),
    output:
        directory(f"{ASM_DIR}/{{run}}/spontaneous_recurrent.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/spontaneous_recurrent.log",
    params:
        stage="spontaneous_recurrent",
        settings=asm_stage_params("spontaneous_recurrent"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("spontaneous_recurrent", "mem_mb"),
        runtime=asm_stage_resources("spontaneous_recurrent", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_spontaneous_nonrecurrent:
    """The non-recurrent control: E EPSPs replaced by external drive."""
    wildcard_constraints:
        run=asm_runs_with("spontaneous_nonrecurrent"),
    input:
        unpack(asm_stage_inputs("spontaneous_nonrecurrent")),
    output:
        directory(f"{ASM_DIR}/{{run}}/spontaneous_nonrecurrent.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/spontaneous_nonrecurrent.log",
    params:
        stage="spontaneous_nonrecurrent",
        settings=asm_stage_params("spontaneous_nonrecurrent"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("spontaneous_nonrecurrent", "mem_mb"),
        runtime=asm_stage_resources("spontaneous_nonrecurrent", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_perturb_recurrent:
    """Weaken one assembly's within weights and follow recovery (intact)."""
    wildcard_constraints:
        run=asm_runs_with("perturb_recurrent"),
    input:
        unpack(asm_stage_inputs("perturb_recurrent")),
    output:
        directory(f"{ASM_DIR}/{{run}}/perturb_recurrent.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/perturb_recurrent.log",
    params:
        stage="perturb_recurrent",
        settings=asm_stage_params("perturb_recurrent"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("perturb_recurrent", "mem_mb"),
        runtime=asm_stage_resources("perturb_recurrent", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_perturb_nonrecurrent:
    """The same perturbation in the non-recurrent control."""
    wildcard_constraints:
        run=asm_runs_with("perturb_nonrecurrent"),
    input:
        unpack(asm_stage_inputs("perturb_nonrecurrent")),
    output:
        directory(f"{ASM_DIR}/{{run}}/perturb_nonrecurrent.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/perturb_nonrecurrent.log",
    params:
        stage="perturb_nonrecurrent",
        settings=asm_stage_params("perturb_nonrecurrent"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("perturb_nonrecurrent", "mem_mb"),
        runtime=asm_stage_resources("perturb_nonrecurrent", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_remap:
    """Train a new stimulus set; follow old and new assemblies."""
    wildcard_constraints:
        run=asm_runs_with("remap"),
    input:
        unpack(asm_stage_inputs("remap")),
    output:
        directory(f"{ASM_DIR}/{{run}}/remap.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/remap.log",
    params:
        stage="remap",
        settings=asm_stage_params("remap"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("remap", "mem_mb"),
        runtime=asm_stage_resources("remap", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_probe_before:
    """Probe statistics of the untrained network (plasticity frozen)."""
    wildcard_constraints:
        run=asm_runs_with("probe_before"),
    input:
        unpack(asm_stage_inputs("probe_before")),
    output:
        directory(f"{ASM_DIR}/{{run}}/probe_before.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/probe_before.log",
    params:
        stage="probe_before",
        settings=asm_stage_params("probe_before"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("probe_before", "mem_mb"),
        runtime=asm_stage_resources("probe_before", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_probe_after:
    """Probe statistics of the trained network (plasticity frozen)."""
    wildcard_constraints:
        run=asm_runs_with("probe_after"),
    input:
        unpack(asm_stage_inputs("probe_after")),
    output:
        directory(f"{ASM_DIR}/{{run}}/probe_after.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/probe_after.log",
    params:
        stage="probe_after",
        settings=asm_stage_params("probe_after"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("probe_after", "mem_mb"),
        runtime=asm_stage_resources("probe_after", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_probe_remap_before:
    """Probe statistics of the remap stimulus set before its training (of spontaneous_recurrent)."""
    wildcard_constraints:
        run=asm_runs_with("probe_remap_before"),
    input:
        unpack(asm_stage_inputs("probe_remap_before")),
    output:
        directory(f"{ASM_DIR}/{{run}}/probe_remap_before.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/probe_remap_before.log",
    params:
        stage="probe_remap_before",
        settings=asm_stage_params("probe_remap_before"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("probe_remap_before", "mem_mb"),
        runtime=asm_stage_resources("probe_remap_before", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_probe_remap_after:
    """Probe statistics of the remap stimulus set after its training (of remap)."""
    wildcard_constraints:
        run=asm_runs_with("probe_remap_after"),
    input:
        unpack(asm_stage_inputs("probe_remap_after")),
    output:
        directory(f"{ASM_DIR}/{{run}}/probe_remap_after.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/probe_remap_after.log",
    params:
        stage="probe_remap_after",
        settings=asm_stage_params("probe_remap_after"),
    threads: 1
    resources:
        mem_mb=asm_stage_resources("probe_remap_after", "mem_mb"),
        runtime=asm_stage_resources("probe_remap_after", "runtime"),
    script:
        "../scripts/assemblies_stage.py"


rule assemblies_analyze:
    """Per-run statistics from the run's stage stores."""
    wildcard_constraints:
        run=ASM_RUN_REGEX,
    input:
        unpack(asm_run_stores),
    output:
        directory(f"{ASM_DIR}/{{run}}/analyze.zarr"),
    log:
        f"{ASM_LOGS}/{{run}}/analyze.log",
    params:
        settings=asm_analysis_params,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
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
        settings=asm_figure_params,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/assemblies_figure_run.py"


rule assemblies_figure_probe:
    wildcard_constraints:
        run=id_regex(asm_probe_runs()),
    input:
        before=lambda wc: asm_store(ASM_SETTINGS[wc.run].store_id("probe_before"), "probe_before"),
        after=lambda wc: asm_store(ASM_SETTINGS[wc.run].store_id("probe_after"), "probe_after"),
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
    script:
        "../scripts/assemblies_figure_probe.py"


rule assemblies_figure_sweep:
    input:
        asm_analyses(),
    output:
        report(
            f"{RESULTS}/figures/assemblies_sweep.png",
            caption="../report/assemblies_sweep.rst",
            category="Assemblies",
            subcategory="Sweep",
        ),
    log:
        f"{ASM_LOGS}/figure_sweep.log",
    params:
        panels=json.dumps(ASM.get("figures", {}).get("panels", []), sort_keys=True),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/assemblies_figure_sweep.py"


rule assemblies_figure_experiments:
    input:
        asm_analyses(),
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
    script:
        "../scripts/assemblies_summary.py"


rule assemblies_figure_claims:
    """Each judged claim's mean and 95 % CI over seeds beside its null, as summary.csv has them."""
    input:
        f"{RESULTS}/summary.csv",
    output:
        report(
            f"{RESULTS}/figures/claims.png",
            caption="../report/claims.rst",
            category="Assemblies",
            subcategory="Sweep",
        ),
    log:
        f"{ASM_LOGS}/figure_claims.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/assemblies_figure_claims.py"


rule assemblies_rate_dependence:
    output:
        directory(f"{ASM_DIR}/rate_dependence.zarr"),
    log:
        f"{ASM_LOGS}/rate_dependence.log",
    params:
        settings=asm_section_params("network", "rate_dependence"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
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
    script:
        "../scripts/assemblies_figure_rate_dependence.py"


rule assemblies_dt_check:
    output:
        directory(f"{ASM_DIR}/dt_check.zarr"),
    log:
        f"{ASM_LOGS}/dt_check.log",
    params:
        settings=asm_section_params("network", "dt_check"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
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
    script:
        "../scripts/assemblies_figure_dt_check.py"


# ---- Bundled steps (large sweeps; assemblies.bundle): each job writes the stores of several
# points in turn, exactly where the one-job-per-run rules above would, and a manifest that
# Snakemake tracks. A member whose store is complete, with its settings and inputs, is kept.
for _step in ASM_STAGE_TABLE:

    rule:
        name:
            f"assemblies_{_step}_bundle"
        wildcard_constraints:
            bundle="[0-9a-f]+",
        input:
            asm_bundle_inputs(_step),
        output:
            f"{ASM_DIR}/bundles/{_step}/{{bundle}}.json",
        log:
            f"{ASM_LOGS}/bundles/{_step}/{{bundle}}.log",
        params:
            step=_step,
            members=asm_bundle_members(_step),
            settings=asm_bundle_digest(_step),
        threads: 1
        resources:
            mem_mb=asm_bundle_resources(_step, "mem_mb"),
            runtime=asm_bundle_resources(_step, "runtime"),
        script:
            "../scripts/assemblies_bundle.py"


rule assemblies_analyze_bundle:
    """Per-run statistics of a bundle of runs."""
    wildcard_constraints:
        bundle="[0-9a-f]+",
    input:
        asm_bundle_inputs("analyze"),
    output:
        f"{ASM_DIR}/bundles/analyze/{{bundle}}.json",
    log:
        f"{ASM_LOGS}/bundles/analyze/{{bundle}}.log",
    params:
        step="analyze",
        members=asm_bundle_members("analyze"),
        settings=asm_bundle_digest("analyze"),
    threads: 1
    resources:
        mem_mb=asm_bundle_resources("analyze", "mem_mb"),
        runtime=asm_bundle_resources("analyze", "runtime"),
    script:
        "../scripts/assemblies_bundle.py"


rule assemblies_figure_run_bundle:
    """The per-run figures of a bundle of runs."""
    wildcard_constraints:
        bundle="[0-9a-f]+",
    input:
        asm_bundle_inputs("figure_run"),
    output:
        f"{ASM_DIR}/bundles/figure_run/{{bundle}}.json",
    log:
        f"{ASM_LOGS}/bundles/figure_run/{{bundle}}.log",
    params:
        step="figure_run",
        members=asm_bundle_members("figure_run"),
    threads: 1
    resources:
        mem_mb=asm_bundle_resources("figure_run", "mem_mb"),
        runtime=asm_bundle_resources("figure_run", "runtime"),
    script:
        "../scripts/assemblies_figure_bundle.py"


rule assemblies_figure_probe_bundle:
    """The probe figures of a bundle of runs."""
    wildcard_constraints:
        bundle="[0-9a-f]+",
    input:
        asm_bundle_inputs("figure_probe"),
    output:
        f"{ASM_DIR}/bundles/figure_probe/{{bundle}}.json",
    log:
        f"{ASM_LOGS}/bundles/figure_probe/{{bundle}}.log",
    params:
        step="figure_probe",
        members=asm_bundle_members("figure_probe"),
    threads: 1
    resources:
        mem_mb=asm_bundle_resources("figure_probe", "mem_mb"),
        runtime=asm_bundle_resources("figure_probe", "runtime"),
    script:
        "../scripts/assemblies_figure_bundle.py"
