"""Compiled kernels of the spiking engine, one module per section of
``docs/models/assemblies.md``.

state       codes, :class:`KernelConstants`, the state tuples (neurons, rules, deferred LTP)
drive       counter-based random numbers and the external Poisson drive
step        :func:`_advance`, the step (its docstring gives the step order and why)
fastexp     the inlined, branch-free exp of the AdEx term
vectorwidth lets a kernel's loops use 512-bit vectors (AVX-512)
delivery    spike delivery: gathered weights, or contiguous copies of frozen pathways
prefetch    a software prefetch for the scattered gathers of spike delivery
voltage     deferred voltage LTP
triplet     triplet STDP
calcium     the calcium rule
reductions  row normalisation, assembly weight means, binned spike counts
rule_drive  the triplet and calcium rules under Poisson spike trains (rate analysis)
profile     cycle-counter timing of the step's phases
testing     wrappers that expose internals to the tests
cache       flushes the on-disk kernel cache when any kernel source changed
"""

from homeoplastic.assemblies.kernels.cache import refresh_stale_caches
from homeoplastic.assemblies.kernels.delivery import (
    DeliveryCopies,
    copied_pathways,
    delivery_copies,
    frozen_pathways,
)
from homeoplastic.assemblies.kernels.drive import fill_poisson_cdf
from homeoplastic.assemblies.kernels.profile import PHASES, cycle_count
from homeoplastic.assemblies.kernels.reductions import (
    bin_group_counts,
    expand_pattern_sums,
    pattern_pair_sums,
    row_sums,
)
from homeoplastic.assemblies.kernels.rule_drive import poisson_rule_drift
from homeoplastic.assemblies.kernels.state import (
    CA_NOISE_SALT,
    CDF_LEN,
    RULE_CALCIUM,
    RULE_CODES,
    RULE_NONE,
    RULE_TRIPLET,
    RULE_VOLTAGE,
    STATUS_BUFFER_FULL,
    STATUS_DONE,
    STATUS_GUARD,
    STATUS_NONFINITE,
    KernelConstants,
    LazyLtp,
    NeuronState,
    RuleState,
    calcium_delay_steps,
    new_lazy_ltp,
    new_rule_state,
    rule_constants,
    rule_state_fits,
)
from homeoplastic.assemblies.kernels.step import _advance
from homeoplastic.assemblies.kernels.testing import (
    calcium_rho_after,
    calcium_times_above,
    cdf_thresholds,
    kick_counts,
    poisson_draws,
    raw_draws,
    uniform_draws,
)
from homeoplastic.assemblies.kernels.voltage import ltp_flush_and_restart, ltp_materialise

refresh_stale_caches()  # after every kernel module above is imported

__all__ = [
    "CA_NOISE_SALT", "CDF_LEN", "PHASES", "RULE_CALCIUM", "RULE_CODES", "RULE_NONE",
    "RULE_TRIPLET", "RULE_VOLTAGE", "STATUS_BUFFER_FULL", "STATUS_DONE", "STATUS_GUARD",
    "STATUS_NONFINITE", "DeliveryCopies", "KernelConstants", "LazyLtp", "NeuronState",
    "RuleState", "_advance", "bin_group_counts", "calcium_delay_steps", "calcium_rho_after",
    "calcium_times_above", "cdf_thresholds", "copied_pathways", "cycle_count", "delivery_copies",
    "expand_pattern_sums", "fill_poisson_cdf", "frozen_pathways", "kick_counts",
    "ltp_flush_and_restart", "ltp_materialise", "new_lazy_ltp", "new_rule_state",
    "pattern_pair_sums", "poisson_draws", "poisson_rule_drift", "raw_draws", "row_sums",
    "rule_constants", "rule_state_fits", "uniform_draws",
]
