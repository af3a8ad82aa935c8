"""Spike-train and spike-count statistics: pure NumPy functions of arrays, no model code.

A neutral layer: the models use it inside their experiments (the probe protocol's Fano factor and
ROC, a run's irregularity summary) and :mod:`homeoplastic.analysis` re-uses it, so neither has to
import the other. Nothing here imports another ``homeoplastic`` module.
"""
