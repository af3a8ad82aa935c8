"""One stage of the assembly chain; which one, and its settings, come from the rule's params."""


from homeoplastic.joblog import log_to

log_to(snakemake.log[0])

import json  # noqa: E402

from homeoplastic.assemblies.stages import keeps_state, run_stage  # noqa: E402

# Chunking and checkpoint cadence change how the stage runs, not its store: read from the config,
# not the params, so changing them reruns nothing. The network state is kept where a later stage
# of the run continues from it (or everywhere with record.keep_state).
section = snakemake.config["assemblies"]
record = section.get("record", {})
rule = json.loads(snakemake.params.settings)["sweep"]["rule"]
run_stage(
    snakemake.params.stage,
    snakemake.params.settings,
    dict(snakemake.input.items()),
    snakemake.output[0],
    chunk_s=record.get("chunk_s"),
    checkpoint_every_s=record.get("checkpoint_every_s"),
    keep_state=keeps_state(section, snakemake.params.stage, rule),
)
