"""Synaptic balancing (Stock, Harvey, Ocko & Ganguli 2022): costs, solvers, bounds, experiments.

Convention: ``J[i, j]`` is the synapse from presynaptic ``j`` onto postsynaptic ``i``; the
transformation is ``J' = D^-1 J D`` with ``D = diag(exp(h))``; the imbalance is
``g = rowsum(c) - colsum(c)``. See ``docs/models/balancing.md`` for the science.

The names below load on first use: importing the package, or a light module of it (a sweep point's
fields), loads no solver, numba or scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeoplastic._lazy import lazy_names

if TYPE_CHECKING:
    from homeoplastic.balancing.bounds import CostBounds, cost_bounds
    from homeoplastic.balancing.costs import (
        CostSpec,
        imbalance,
        incoming_cost,
        outgoing_cost,
        power_law_cost,
        robustness_cost,
        scaled_cost,
        total_cost,
    )
    from homeoplastic.balancing.diagnostics import (
        NoBalancedNetworkError,
        NoBalancedNetworkWarning,
        check_balanceable,
        cost_hessian,
        laplacian,
        per_neuron_residual,
    )
    from homeoplastic.balancing.lowrank import FactoredNetwork, balance_factored
    from homeoplastic.balancing.solvers import (
        BalanceResult,
        SolverOptions,
        balance_costs,
        balance_rank_one,
        balanced_costs,
    )
    from homeoplastic.balancing.transform import (
        RateNetwork,
        lax_vector_field,
        scale_matrix,
        simulate_relu,
        transform_network,
    )

_MODULES = {
    "bounds": ("CostBounds", "cost_bounds"),
    "costs": ("CostSpec", "imbalance", "incoming_cost", "outgoing_cost", "power_law_cost",
              "robustness_cost", "scaled_cost", "total_cost"),
    "diagnostics": ("NoBalancedNetworkError", "NoBalancedNetworkWarning", "check_balanceable",
                    "cost_hessian", "laplacian", "per_neuron_residual"),
    "lowrank": ("FactoredNetwork", "balance_factored"),
    "solvers": ("BalanceResult", "SolverOptions", "balance_costs", "balance_rank_one",
                "balanced_costs"),
    "transform": ("RateNetwork", "lax_vector_field", "scale_matrix", "simulate_relu",
                  "transform_network"),
}
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}"
                                             for module, names in _MODULES.items() for name in names})

__all__ = [
    "BalanceResult",
    "CostBounds",
    "CostSpec",
    "FactoredNetwork",
    "NoBalancedNetworkError",
    "NoBalancedNetworkWarning",
    "RateNetwork",
    "SolverOptions",
    "balance_costs",
    "balance_factored",
    "balance_rank_one",
    "balanced_costs",
    "check_balanceable",
    "cost_bounds",
    "cost_hessian",
    "imbalance",
    "incoming_cost",
    "laplacian",
    "lax_vector_field",
    "outgoing_cost",
    "per_neuron_residual",
    "power_law_cost",
    "robustness_cost",
    "scale_matrix",
    "scaled_cost",
    "simulate_relu",
    "total_cost",
    "transform_network",
]
