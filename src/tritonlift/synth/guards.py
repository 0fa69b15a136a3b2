"""Drop `where` guards that the output domain decides (e.g. `where(i < n, x[i], 0)` for i < n)."""

from __future__ import annotations

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.reductions import canon, rename_bound
from tritonlift.verify.z3_backend import Z3Ctx


def simplify_guards(body: Expr, facts: list[Expr], timeout_ms: int = 2000) -> Expr:
    """Replace where(c, a, b) by a (or b) when the facts imply c (or not c). Sound: z3 decides each."""
    cache: dict[Expr, bool | None] = {}

    def decide(c: Expr) -> bool | None:
        if c in cache:
            return cache[c]
        if any(n.op in (Op.READ, Op.MEM, Op.UNDEF) or n.kind is Kind.REAL for n in ir.walk(c)):
            cache[c] = None
            return None
        out: bool | None = None
        for want in (True, False):
            cx = Z3Ctx({})
            s = z3.Solver()
            s.set(timeout=timeout_ms)
            for f in facts:
                s.add(cx(f))
            s.add(cx(c) if not want else z3.Not(cx(c)))
            if s.check() == z3.unsat:
                out = want
                break
        cache[c] = out
        return out

    def step(n: Expr) -> Expr | None:
        if n.op is Op.WHERE:
            d = decide(n.args[0])
            if d is not None:
                return n.args[1] if d else n.args[2]
        if n.op in (Op.MINIMUM, Op.MAXIMUM) and n.kind is Kind.INT:
            a, b = n.args
            if decide(ir.le(a, b)):
                return a if n.op is Op.MINIMUM else b
            if decide(ir.le(b, a)):
                return b if n.op is Op.MINIMUM else a
        return None

    return ir.transform(body, step)


def finish_body(body: Expr, facts: list[Expr], taken: set[str]) -> Expr:
    """A derived body in its final form: reductions canonical (ir.reductions), guards and bounds the facts
    decide dropped, bound variables renamed k, l, ... (avoiding `taken`)."""
    body = canon(simplify_guards(canon(body), facts))
    return rename_bound(body, taken)


def domain_facts(index: tuple[str, ...], shape: tuple[Expr, ...]) -> list[Expr]:
    out: list[Expr] = []
    for name, ext in zip(index, shape, strict=True):
        v = ir.var(name)
        out += [ir.le(ir.ZERO, v), ir.lt(v, ext)]
    return out
