"""Seeds as replicates: the mean of a quantity over seeds with its 95 % confidence interval and n.

Method: Student's t interval of the mean, ``mean +- t_{0.975, n-1} * s / sqrt(n)`` with ``s`` the
sample standard deviation (ddof = 1) of the finite values; missing runs (NaN: a point without a
run, a stage a stopped run did not reach) are not counted. With fewer than two finite values the
interval is undefined (NaN) and ``n`` says why. Every sweep figure and table reduces with this one
function, so a figure and a table never disagree on what a band means.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

CONFIDENCE = 0.95
METHOD = "Student t interval of the mean over seeds (ddof=1), NaN runs excluded"


def over_seeds(data: xr.DataArray | xr.Dataset, dim: str = "seed",
               confidence: float = CONFIDENCE) -> xr.Dataset:
    """``mean``, ``ci_low``, ``ci_high`` and the count ``n_seeds`` (``n_<dim>s``) of ``data`` over
    ``dim`` (see the module); the count is not called ``n`` so that it never clashes with an axis
    of that name.

    A Dataset input gives one ``<name>_mean``... set per variable. A DataArray without ``dim``
    counts as one replicate.
    """
    count = f"n_{dim}s"
    if isinstance(data, xr.Dataset):
        parts = [over_seeds(data[name], dim, confidence).rename(
            {k: f"{name}_{k}" for k in ("mean", "ci_low", "ci_high", count)})
            for name in data.data_vars]
        return xr.merge(parts) if parts else xr.Dataset()
    if dim not in data.dims:
        data = data.expand_dims(dim)
    finite = np.isfinite(data)
    n = finite.sum(dim)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN points and single seeds
        mean = data.where(finite).mean(dim, skipna=True)
        sd = data.where(finite).std(dim, ddof=1, skipna=True)
    # scipy.stats.t.ppf(q, d) is scipy.special.stdtrit(d, q), the same numbers; importing
    # scipy.stats costs ~1 s at every sweep figure's start, scipy.special a quarter of that
    from scipy.special import stdtrit

    dof = (n - 1).where(n >= 2)
    t = xr.apply_ufunc(lambda d: stdtrit(d, 0.5 + confidence / 2), dof.astype(float),
                       dask="allowed")
    half = t * sd / np.sqrt(n.where(n >= 2))
    units = data.attrs.get("units", "1")
    out = xr.Dataset({
        "mean": mean.assign_attrs(units=units, long_name=f"mean over {dim}s"),
        "ci_low": (mean - half).assign_attrs(units=units,
                                             long_name=f"{confidence:.0%} CI, lower ({METHOD})"),
        "ci_high": (mean + half).assign_attrs(units=units,
                                              long_name=f"{confidence:.0%} CI, upper ({METHOD})"),
        count: n.assign_attrs(units="1", long_name=f"{dim}s with a value"),
    })
    out.attrs.update(method=METHOD, confidence=confidence)
    return out
