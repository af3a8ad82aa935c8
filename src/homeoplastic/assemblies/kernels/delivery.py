"""Spike delivery: a spike's outgoing weights added to its targets' pending input.

Weights are stored in postsynaptic order (:mod:`homeoplastic.assemblies.connectivity`), so a
spike reads its ~800 outgoing weights through synapse indices (``pre_syn``), one cache line each.
Two ways to read them, the same sums in the same order (the same bits):

- :func:`_deliver` gathers ``weight[pre_syn[q]]``, prefetching :data:`PREFETCH_AHEAD` entries
  ahead; right for a pathway whose weights change during the run.
- :func:`_deliver_copy` reads a copy of the weights in presynaptic order, contiguously: about a
  quarter of the time per event. Valid only while the weights do not change, so
  :func:`delivery_copies` makes one per run for each pathway that no rule or normalisation
  touches during it (E->I and I->I always; E->E and I->E in a run without their plasticity),
  when the run is long enough to repay the copy (:data:`COPY_MIN_STEPS`). The copies are
  scratch: 8 bytes per synapse of a frozen pathway, freed when the run returns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from homeoplastic.assemblies.kernels.prefetch import PREFETCH_AHEAD, _prefetch
from homeoplastic.assemblies.kernels.state import RULE_NONE, KernelConstants

COPY_MIN_STEPS = 10_000
"""Runs shorter than this many steps (1 s at dt = 0.1 ms) gather through the indices: a copy costs
~8 ns per synapse and saves ~6 ns per event, so it repays itself after ~1/rate seconds."""

_EMPTY = np.zeros(0)


class DeliveryCopies(NamedTuple):
    """Presynaptic-order copies ``weight_pf[pre_syn]`` of frozen pathways (size 0: none)."""

    ee: np.ndarray
    ie: np.ndarray
    ei: np.ndarray
    ii: np.ndarray


def frozen_pathways(k: KernelConstants, end_step: int) -> tuple[bool, bool, bool, bool]:
    """Which of (E->E, I->E, E->I, I->I) keep their weights over a run ending at ``end_step``.

    E->E changes under any E->E rule or normalisation (whether or not plasticity has started:
    normalisation does not wait for it); I->E changes under iSTDP once plasticity starts; no rule
    changes E->I or I->I.
    """
    ee = k.ee_rule == RULE_NONE and not k.norm_on
    ie = not k.istdp_on or end_step <= k.plastic_start_step
    return ee, ie, True, True


def copied_pathways(k: KernelConstants, start_step: int,
                    end_step: int) -> tuple[bool, bool, bool, bool]:
    """Which of (E->E, I->E, E->I, I->I) a run over ``start_step .. end_step`` delivers from a
    copy: the frozen ones that transmit, and none when the run is shorter than
    :data:`COPY_MIN_STEPS`."""
    if end_step - start_step < COPY_MIN_STEPS:
        return False, False, False, False
    ee, ie, ei, ii = frozen_pathways(k, end_step)
    return ee and k.ee_transmission, ie, ei and k.ei_transmission, ii


def delivery_copies(
    k: KernelConstants, pathways: tuple, start_step: int, end_step: int
) -> DeliveryCopies:
    """The copies for a run over ``start_step .. end_step`` of ``pathways`` (E->E, I->E, E->I,
    I->I), ``weight_pf[pre_syn]`` for each of :func:`copied_pathways`, else empty."""
    copied = copied_pathways(k, start_step, end_step)
    return DeliveryCopies(*(np.ascontiguousarray(pw.weight_pf[pw.pre_syn]) if c else _EMPTY
                            for pw, c in zip(pathways, copied, strict=True)))


@njit(inline="always")
def _prefetch_head(q0, q1, pre_syn, weight_pf):  # pragma: no cover - compiled
    """Prefetch the weights of the first :data:`PREFETCH_AHEAD` entries of q0..q1-1."""
    for q in range(q0, min(q0 + PREFETCH_AHEAD, q1)):
        _prefetch(weight_pf, pre_syn[q])


@njit(inline="always")
def _prefetch_ahead(q, q1, pre_syn, weight_pf):  # pragma: no cover - compiled
    """Inside a loop over entries ..q1-1 at entry q: prefetch the weight PREFETCH_AHEAD entries
    on (the last entry's near the end: a repeated hint is free, a branch is not)."""
    _prefetch(weight_pf, pre_syn[min(q + PREFETCH_AHEAD, q1 - 1)])


@njit(inline="always")
def _deliver(q0, q1, pre_syn, pre_post, weight_pf, pend, offset):  # pragma: no cover - compiled
    """Add the weights of synapse entries q0..q1-1 (one spike's outgoing synapses) to their
    targets' pending input (``pend[offset + post]``), prefetching the scattered weights
    :data:`PREFETCH_AHEAD` entries ahead (the same sums in the same order)."""
    _prefetch_head(q0, q1, pre_syn, weight_pf)
    for q in range(q0, q1):
        _prefetch_ahead(q, q1, pre_syn, weight_pf)
        pend[offset + pre_post[q]] += weight_pf[pre_syn[q]]


@njit(inline="always")
def _deliver_copy(q0, q1, pre_syn, pre_post, weight_pf, copy, pend, offset):  # pragma: no cover
    """:func:`_deliver`, reading the presynaptic-order ``copy`` when there is one (size > 0)."""
    if copy.size:
        for q in range(q0, q1):
            pend[offset + pre_post[q]] += copy[q]
    else:
        _deliver(q0, q1, pre_syn, pre_post, weight_pf, pend, offset)
