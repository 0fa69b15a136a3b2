"""Masked-off lanes of loads without `other=`: undefined by the Triton language, zero on real backends.

`tl.load(p, mask)` with no `other=` leaves the lanes where the mask is false undefined (the language's own
rule); the evaluator models each such lane as an `undef` value tagged `ptr@line`, which a proof cannot use.
Every backend PyTorch and FlagGems run on (NVIDIA, AMD, Intel) fills those lanes with zeros, and real kernels
rely on it (FlagGems' bmm sums the masked K tail of a tile). With `Options.masked_loads == "zero"` a kernel
that is not verified under the language's rule is tried again with those lanes read as 0; a proof found then
is reported with that assumption, naming the loads. `"undefined"` keeps the language's rule only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.symbolic.spec import KernelSpec

MODES = ("zero", "undefined")


def undefined_tags(spec: KernelSpec) -> list[str]:
    """The loads (`ptr@line`) whose undefined lanes reach a stored value, offset or mask."""
    tags = {str(n.attr) for st in spec.stores for e in (st.value, st.offset, st.mask) for n in ir.walk(e)
            if n.op is Op.UNDEF}
    return sorted(tags)


def zero_filled(spec: KernelSpec) -> KernelSpec:
    """The spec with every undefined lane read as 0 (of its kind)."""

    def step(n: Expr) -> Expr | None:
        if n.op is Op.UNDEF:
            return ir.const(0.0) if n.kind is ir.Kind.REAL else ir.const(0)
        return None

    stores = [replace(st, value=ir.transform(st.value, step), offset=ir.transform(st.offset, step),
                      mask=ir.transform(st.mask, step)) for st in spec.stores]
    return replace(spec, stores=stores)


READS_UNDEFINED = ("the formula reads masked-off lanes of loads without other=, which the Triton language leaves "
                   "undefined")


def adopt_zero_filled(zero: Any, first: Any, tags: list[str]) -> Any:
    """The result lifted with masked-off lanes read as 0 in place of the first (language-rule) one: with the
    assumption naming the loads, and the time of both attempts."""
    zero.assumptions.append(assumption(tags))
    zero.seconds = {k: v + first.seconds.get(k, 0.0) for k, v in zero.seconds.items()}
    return zero


def assumption(tags: list[str]) -> str:
    """The assumption a zero-filled proof rests on, naming the loads."""
    where = ", ".join(t.replace("@", " at line ") for t in tags)
    return (f"masked-off lanes of loads without other= ({where}) read 0: the Triton language leaves them "
            "undefined; NVIDIA, AMD and Intel backends fill them with zeros (--masked-loads undefined drops this)")
