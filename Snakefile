# homeoplastic: parameter sweeps of homeostatic synaptic plasticity models.
# This file is the table of contents; logic lives in src/homeoplastic, rules in workflow/rules.

from snakemake.utils import min_version

min_version("8.20")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


for _rule_file in MODEL_RULE_FILES:

    include: _rule_file


localrules:
    all,


rule all:
    default_target: True
    input:
        ALL_TARGETS,
