"""The C math library's log10 as a plain call, for compiled code that keeps its results in a table.

Numba lowers ``math.log10`` to LLVM's ``llvm.log10`` intrinsic, which LLVM may compute ahead of the
branch that needs it (it is marked free of side effects): in `senses._sound_kernel` it computed the
logarithm before looking it up in its table of spreading losses, so every look-up paid for a log10
(a sound of a default run took 225 µs instead of 197). `log10` calls the very same C function, ``log10`` of the
process's libm, so the values are the same to the bit; as an ordinary call it stays where it is
written, behind the table's test.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["log10"]


@intrinsic
def log10(typingctx, x):  # type: ignore[no-untyped-def]  # (numba passes the typing context)
    """Base-10 logarithm of a number (as a float64) through libm's ``log10`` (callable from compiled code only)."""
    if not isinstance(x, (types.Float, types.Integer)):
        return None
    signature = types.float64(types.float64)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        value = context.cast(builder, args[0], sig.args[0], types.float64)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.DoubleType(), [ir.DoubleType()]), "log10"
        )
        # Free of side effects (so it does not stop loads being kept in registers around it), but not
        # `speculatable`: LLVM may not compute it before the branch that calls it.
        function.attributes.add("readnone")
        function.attributes.add("nounwind")
        return builder.call(function, [value])

    return signature, codegen
