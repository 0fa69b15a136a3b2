"""A stored value only matters where its store's mask holds: guards the mask decides are dropped.

`tl.store(p, v, mask=m)` writes v only at lanes where m holds, so inside v any `where` condition conjunct
that is one of m's conjuncts is true there. Replacing it by `True` changes v only at lanes that are not
written. This lets masked loads of a row that the store's mask already restricts (`rows < M` in both
the load and the store of a 2-D tile) meet the reductions' canonical form: `Σ_k exp(where(row < M & k < N,
x, -inf) - ...)` becomes `Σ_k exp(where(k < N, x, -inf) - ...)`, whose mask `k < N` is a bound.

Conjuncts are compared syntactically, integer sides in normal form; a conjunct that mentions a reduction's
bound variable is never one of the mask's (the mask has none), so nothing inside a reduction is assumed
about its index.
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm

_FLIP = {Op.GT: Op.LT, Op.GE: Op.LE}


def _key(c: Expr) -> tuple[Op, Expr] | Expr:
    """An integer comparison as (op, normal form of lhs - rhs) with < / <=; anything else as itself."""
    if c.op in (Op.LT, Op.LE, Op.GT, Op.GE) and c.args[0].kind is Kind.INT and c.args[1].kind is Kind.INT:
        a, b = c.args
        op = c.op
        if op in _FLIP:
            a, b, op = b, a, _FLIP[op]
        return op, norm(ir.sub(a, b))
    return c


def under_mask(value: Expr, mask: Expr) -> Expr:
    """value with where-condition conjuncts that are conjuncts of mask replaced by True."""
    known = {_key(c) for c in ir.conjuncts(mask) if c != ir.TRUE}
    if not known:
        return value

    def step(n: Expr) -> Expr | None:
        if n.op is not Op.WHERE:
            return None
        parts = ir.conjuncts(n.args[0])
        kept = [p for p in parts if _key(p) not in known]
        if len(kept) == len(parts):
            return None
        return ir.where(ir.and_(*kept), n.args[1], n.args[2])

    return ir.transform(value, step)
