"""Cycle-counter timing of the phases of a step (``benchmarks/engine.py --profile``)."""

from __future__ import annotations

from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

PHASES = ("stimulus", "normalisation", "poisson", "e_update", "i_update", "delivery",
          "ltd_istdp", "triplet_calcium", "ltp", "guard")
"""Phases of :func:`_advance` timed with the cycle counter when its ``prof`` array is non-empty.

Under the voltage rule ``delivery`` includes the E->E catch-up of deferred LTP and the voltage LTD
(one loop with the E->E transmission); ``ltd_istdp`` is then iSTDP alone."""
(PH_STIM, PH_NORM, PH_POISSON, PH_E, PH_I, PH_DELIVERY, PH_LTD_ISTDP, PH_RULE, PH_LTP,
 PH_GUARD) = range(len(PHASES))


@intrinsic
def _cycles(typingctx):  # pragma: no cover - compiled
    """The CPU's time-stamp counter (LLVM readcyclecounter; constant rate on x86)."""
    sig = types.uint64()

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return sig, codegen


@njit(inline="always")
def _tick(prof, phase, t0):  # pragma: no cover - compiled
    """Add the cycles since ``t0`` to ``prof[phase]`` and return now (no-op when disabled)."""
    if prof.size == 0:
        return t0
    t1 = _cycles()
    prof[phase] += t1 - t0
    return t1


@njit(cache=True)
def cycle_count():  # pragma: no cover - compiled
    """The time-stamp counter now (for calibrating :data:`PHASES` timings)."""
    return _cycles()
