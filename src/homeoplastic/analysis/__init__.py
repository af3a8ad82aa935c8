"""Reductions of stores and datasets: per-run statistics, probe numbers, the results table.

Pure functions of arrays and datasets that never run a simulation (the experiments that do live
with their model, e.g. :mod:`homeoplastic.assemblies.experiments`); spike-count statistics shared
with the models are in :mod:`homeoplastic.stats`.
"""
