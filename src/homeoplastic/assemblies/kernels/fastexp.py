"""An inlined, branch-free ``exp`` for the AdEx exponential term of the E update.

Numba lowers ``np.exp`` to a call into libm: one opaque call per E cell and step (13.9 ns here,
half of the E update) that also keeps the cell loop from vectorising. :func:`_exp` is the
textbook range reduction exp(x) = 2^k exp(r), k = round(x / ln 2), r = x - k ln 2 (Cody-Waite,
ln 2 in two parts so r is exact to a few ulp), exp(r) by its Taylor polynomial of degree 13 on
|r| <= ln(2)/2 (truncation below 2e-16 relative), and 2^k put together from its bits. It is
straight-line code (no call, no branch, no table), so LLVM inlines and vectorises it, and it gives
the same bits on every machine (no fused multiply-adds: Numba does not contract without fastmath).

Accuracy against libm over the arguments the E update sees and far beyond (``tests/assemblies/
test_neurons.py``): at most 3e-16 relative (a few ulp). The argument is clamped to
[-708, 709] (exp is 2e-308 .. 8e307 there: ample for (V - V_T)/Delta_T, whose real range is about
-20 .. 40), and a NaN argument gives NaN, so the engine's non-finite check still fires.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # ln 2 with its low 32 bits zero: k * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10  # ln 2 - LN2_HI
SHIFTER = 6755399441055744.0  # 1.5 * 2^52: x + SHIFTER rounds x to an integer in the low bits
SHIFTER_BITS = 0x4338000000000000  # the bits of SHIFTER
X_MAX = 709.0
X_MIN = -708.0
# 1/n!, n = 2..13 (Taylor coefficients of exp; 1 and 1/1! are written out)
C2 = 1.0 / 2.0
C3 = 1.0 / 6.0
C4 = 1.0 / 24.0
C5 = 1.0 / 120.0
C6 = 1.0 / 720.0
C7 = 1.0 / 5040.0
C8 = 1.0 / 40320.0
C9 = 1.0 / 362880.0
C10 = 1.0 / 3628800.0
C11 = 1.0 / 39916800.0
C12 = 1.0 / 479001600.0
C13 = 1.0 / 6227020800.0


@intrinsic
def _f64_bits(typingctx, x):  # pragma: no cover - compiled
    """The IEEE 754 bits of a float64 as an int64 (a bit cast, no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _bits_f64(typingctx, b):  # pragma: no cover - compiled
    """The float64 whose IEEE 754 bits are the int64 ``b`` (a bit cast, no conversion)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@njit(inline="always")
def _exp(x):  # pragma: no cover - compiled
    """exp(x) to a few ulp, branch-free (see the module docstring); NaN stays NaN."""
    # clamp with comparisons that are false for NaN, so NaN passes through
    x = X_MAX if x > X_MAX else x
    x = X_MIN if x < X_MIN else x
    t = x * LOG2E + SHIFTER
    k = t - SHIFTER  # round(x / ln 2), an integer in [-1022, 1023]
    r = (x - k * LN2_HI) - k * LN2_LO
    p = C13
    p = p * r + C12
    p = p * r + C11
    p = p * r + C10
    p = p * r + C9
    p = p * r + C8
    p = p * r + C7
    p = p * r + C6
    p = p * r + C5
    p = p * r + C4
    p = p * r + C3
    p = p * r + C2
    p = p * r + 1.0
    p = p * r + 1.0
    # 2^k: the low bits of t hold k (two's complement), so the exponent field is k + 1023
    two_k = _bits_f64((_f64_bits(t) - SHIFTER_BITS + 1023) << 52)
    return p * two_k
