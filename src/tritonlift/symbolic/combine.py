"""`tl.reduce(x, axis, combine_fn)`: which IR reduction a combine function is.

The combine function (a small `@triton.jit` helper such as `def reduce_mul(a, b): return a * b`) is
evaluated once on two fresh scalars `a`, `b` of the block's kind, and the value it returns is proved equal,
for every `a` and `b`, to one of the four associative, commutative combinations the IR reduces with:

    a + b  -> Σ (Op.SUM)      a * b  -> Π (Op.PROD)
    maximum(a, b) -> max (Op.RMAX)     minimum(a, b) -> min (Op.RMIN)

The proof is a z3 query over the reals (integers for integer blocks) in a context of its own, so any
spelling of the same function is recognised (`b + a`, `tl.where(a > b, a, b)`, `a.to(tl.float32) * b`,
`tl.maximum(b, a)`). Because `tl.reduce` combines lanes in a tree whose shape Triton chooses, only a
combination that is associative and commutative gives a value independent of that shape; the four above
are (over the reals), and a combine function equal to one of them computes that reduction. Anything else
(a combination that is not one of these, or one the proof does not decide) is not modelled.
"""

from __future__ import annotations

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.verify.z3_backend import Z3Ctx

A_NAME, B_NAME = "_combine_a", "_combine_b"

# the candidates in the order they are tried: (IR reduction, its binary combination)
CANDIDATES: tuple[tuple[Op, str], ...] = (
    (Op.SUM, "a + b"),
    (Op.PROD, "a * b"),
    (Op.RMAX, "maximum(a, b)"),
    (Op.RMIN, "minimum(a, b)"),
)


def combination(op: Op, a: Expr, b: Expr) -> Expr:
    """The binary combination of reduction `op`."""
    return {Op.SUM: ir.add, Op.PROD: ir.mul, Op.RMAX: ir.maximum, Op.RMIN: ir.minimum}[op](a, b)


def operands(kind: Kind) -> tuple[Expr, Expr]:
    """The two fresh scalars a combine function is evaluated on."""
    return ir.var(A_NAME, kind), ir.var(B_NAME, kind)


def classify(result: Expr, kind: Kind, timeout_ms: int = 2000) -> Op | None:
    """The reduction whose combination equals `result` (over the operands of `operands(kind)`) for every
    value of the operands, or None when it is none of them (or the solver cannot tell)."""
    a, b = operands(kind)
    if result.kind is Kind.BOOL or any(n.op in (Op.MEM, Op.READ, Op.UNDEF) for n in ir.walk(result)):
        return None
    free = ir.free_vars(result) - {A_NAME, B_NAME}
    if free:
        return None  # the combination reads something besides its operands (a scalar argument, a lane)
    for op, _text in CANDIDATES:
        if _equal(result, combination(op, a, b), kind, timeout_ms):
            return op
    return None


def _equal(x: Expr, y: Expr, kind: Kind, timeout_ms: int) -> bool:
    cx = Z3Ctx({A_NAME: kind, B_NAME: kind})
    if x.kind is not y.kind:
        x, y = ir.to_real(x), ir.to_real(y)
    goal = z3.Not(cx(x) == cx(y))
    ctx = z3.Context()
    s = z3.Solver(ctx=ctx)
    s.set(timeout=timeout_ms)
    s.add(goal.translate(ctx))
    for t in _math(cx):
        s.add(t.translate(ctx))
    return s.check() == z3.unsat


def _math(cx: Z3Ctx) -> list[z3.BoolRef]:
    from tritonlift.verify.z3_backend import math_axioms

    return math_axioms(cx)
