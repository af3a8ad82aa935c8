"""A software prefetch for the scattered gathers of spike delivery.

A spike's ~800 outgoing E->E weights are read through synapse indices (``pre_syn``), one cache
line each, spread over a 25 MB array at N = 5000: the loop waits on memory, and the CPU's own
prefetchers cannot guess the next address. :func:`_prefetch` asks for the line of ``arr[idx]`` a
fixed distance ahead (LLVM's ``llvm.prefetch``: a hint, no load, no fault, no result), so that
many lines are in flight at once. It changes no value: the same bits, only the speed.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

PREFETCH_AHEAD = 32
"""How many synapses ahead the delivery loops prefetch (16-64 all gained alike when measured)."""


@intrinsic
def _prefetch(typingctx, arr, idx):  # pragma: no cover - compiled
    """Hint that ``arr[idx]`` will be read soon (a 1-D contiguous array; no bounds check: a
    prefetch of any address is harmless)."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        i8p = ir.IntType(8).as_pointer()
        address = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read (0), locality 3 (keep in all cache levels), data cache (1)
        builder.call(fn, [address, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
