"""Statistics of spike trains and weights, as plain functions of arrays or datasets."""
