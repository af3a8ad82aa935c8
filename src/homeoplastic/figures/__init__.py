"""Figures: one module per figure family, each function takes an xarray Dataset."""
