"""RNN figures: training curves (train stores) and noise robustness (robustness stores)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from homeoplastic.figures.balancing import rnn_robustness, rnn_training  # noqa: E402
from homeoplastic.store import open_sweep  # noqa: E402

keys = ["run", "seed"]
rnn_training(open_sweep(snakemake.input.train, keys)).savefig(snakemake.output.train, dpi=130)
rnn_robustness(open_sweep(snakemake.input.robust, keys)).savefig(snakemake.output.robust, dpi=130)
