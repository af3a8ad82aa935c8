"""Figures of the sweep: the panels the config asks for (``balancing.figures.panels``: mean and
95 % CI over seeds against any axis) and the flow's convergence at the config's settings."""

import json

from homeoplastic.joblog import log_to

log_to(snakemake.log[0])
FIG = json.loads(snakemake.params.figures)
PANELS = json.loads(snakemake.params.panels)

from homeoplastic.balancing.sweep_data import at_settings, open_points  # noqa: E402
from homeoplastic.bundle import stores_of  # noqa: E402
from homeoplastic.figures.balancing import convergence, sweep_panel  # noqa: E402

ds = open_points(stores_of(snakemake.input))
defaults = json.loads(snakemake.params.defaults)
for panel, path in zip(PANELS, snakemake.output.panels, strict=True):
    sweep_panel(ds, panel, defaults).savefig(path, dpi=FIG["dpi"])
convergence(at_settings(ds, defaults)[0]).savefig(snakemake.output.convergence, dpi=FIG["dpi"])
