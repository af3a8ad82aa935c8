"""The triplet and calcium rules driven by Poisson spike trains (rate analysis)."""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from homeoplastic.assemblies.kernels.calcium import _calcium_step, calcium_scratch
from homeoplastic.assemblies.kernels.drive import _counter_uniform, _mix64
from homeoplastic.assemblies.kernels.state import CA_NOISE_SALT, RULE_CALCIUM, RULE_TRIPLET
from homeoplastic.assemblies.kernels.triplet import _triplet_step


@njit(cache=True)
def poisson_rule_drift(
    rule, k, ee, rs, rate_hz, key, warm_steps, window_steps, n_windows, w0_pf, dw_sum_pf,
    spike_count,
):  # pragma: no cover - compiled
    """Drive the triplet or calcium rule with Poisson spike trains (rate analysis, paper Fig. 5a).

    Every cell (all E, indices of ``rate_hz``) spikes in a step with probability rate * dt from the
    counter-based stream ``key``; the step's spikes then go through :func:`_triplet_step` or
    :func:`_calcium_step`, the engine's own code, in the engine's order. After ``warm_steps``
    (plasticity starts then: ``k.plastic_start_step``) come ``n_windows`` windows of
    ``window_steps``; each starts with every weight at ``w0_pf`` and adds its weight change to
    ``dw_sum_pf``. ``spike_count`` counts spikes in the windows.
    """
    n = rate_hz.size
    dt_s = k.dt_ms * 1e-3
    cells = np.empty(n, dtype=np.int32)
    ca_key = _mix64(key + CA_NOISE_SALT)
    ca_scratch = calcium_scratch(ee.pre_ptr, rule == RULE_CALCIUM)
    weight = ee.weight_pf
    total = warm_steps + window_steps * n_windows
    for step in range(total):
        measuring = step >= warm_steps
        if measuring and (step - warm_steps) % window_steps == 0:
            if step > warm_steps:
                for s in range(weight.size):
                    dw_sum_pf[s] += weight[s] - w0_pf
            weight[:] = w0_pf
        base = uint64(step) * uint64(n)
        n_spk = 0
        for i in range(n):
            if _counter_uniform(key, base + uint64(i)) < rate_hz[i] * dt_s:
                cells[n_spk] = i
                n_spk += 1
                if measuring:
                    spike_count[i] += 1
        plastic = step >= k.plastic_start_step
        if rule == RULE_TRIPLET:
            _triplet_step(cells, 0, n_spk, n, plastic, ee, rs, k)
        elif rule == RULE_CALCIUM:
            _calcium_step(step, cells, 0, n_spk, n, ee, rs, k, ca_key, ca_scratch)
    if n_windows > 0:
        for s in range(weight.size):
            dw_sum_pf[s] += weight[s] - w0_pf
