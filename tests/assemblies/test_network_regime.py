"""The untrained N = 5000 network is asynchronous and irregular
(docs/models/assemblies.md, 10; paper Fig. 1c left)."""

from __future__ import annotations

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.stats.spikes import implied_pairwise_correlation, isi_cv2, population_fano


def test_untrained_paper_network_is_asynchronous_irregular():
    params = NetworkParams.from_dict(
        {"connectivity": {"n_neurons": 5000}, "plasticity": {"start_s": 10.0}}
    )
    sim = Simulation.build(params, 11)
    sim.run(0.5, record=RecordSpec(spikes=False), progress=False)  # let the initial transient pass
    rec = sim.run(4.0, record=RecordSpec(rate_bin_ms=10.0), progress=False)
    steps = np.concatenate(rec.spike_steps)
    cells = np.concatenate(rec.spike_cells)
    n_exc = params.connectivity.n_exc
    rate_e = np.sum(cells < n_exc) / (n_exc * 4.0)
    rate_i = np.sum(cells >= n_exc) / (params.connectivity.n_inh * 4.0)
    assert 1.0 <= rate_e <= 5.0
    assert rate_i > rate_e
    cv2 = isi_cv2(steps, cells, n_cells=n_exc)
    assert 0.6 < cv2 < 1.3  # irregular (Poisson: 1; refractoriness and adaptation lower it)
    fano = population_fano(steps, cells, n_cells=n_exc, dt_ms=params.dt_ms, bin_ms=5.0)
    # synchrony: mean pairwise count correlation implied by the population Fano factor
    assert implied_pairwise_correlation(fano, n_exc) < 0.005
    # no oscillation: the 10 ms population rate fluctuates little around its mean
    rate_bins = rec.counts_exc / (n_exc * 0.01)
    assert rate_bins.std() < rate_bins.mean()
