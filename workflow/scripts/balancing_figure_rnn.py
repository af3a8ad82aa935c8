"""RNN figures: training curves with the imbalance null (train stores), noise robustness."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])
FIG = json.loads(snakemake.params.figures)

from homeoplastic.bundle import stores_of  # noqa: E402
from homeoplastic.figures.balancing import rnn_robustness, rnn_training  # noqa: E402
from homeoplastic.store import open_sweep  # noqa: E402

keys = ["run", "seed"]
train = open_sweep(stores_of(snakemake.input.train), keys)
robust = open_sweep(stores_of(snakemake.input.robust), keys)
rnn_training(train, ci=FIG["ci"]).savefig(snakemake.output.train, dpi=FIG["dpi"])
rnn_robustness(robust, ci=FIG["ci"]).savefig(snakemake.output.robust, dpi=FIG["dpi"])
