"""Online-softmax algebra on formula IR: combining denominators kept against different maxima.

An online-softmax loop leaves, per lane or per row, a running max c and a denominator kept against it
(symbolic/loops.py, the closed form of verify.patterns online-softmax):

    d = where(c == -inf, 0, Σ_{t in R} exp(y(t) - c)),   c = max(..., max_{t in R} y(t), ...)

and kernels then bring such denominators to a common max c' by `d * exp(c - c')`: after a second loop that
resumes from the first one's state, or across the lanes of a per-lane accumulator
(`tl.sum(z * tl.exp(m - tl.max(m)))`). The rewrites here perform that combination on the terms:

- rescale:  where(c == -inf, 0, Σ_i Σ_{t in R_i} exp(y_i(t) - c)) * exp(c - c')  ->  Σ_i Σ_{t in R_i} exp(y_i(t) - c')
            when every max_{t in R_i} y_i(t) is one of the operands of the maximum c (so c >= each of them);
            a term may nest: Σ_s Σ_l exp(x(s, l) - c) against max_s max_l x(s, l). Proved once as the lemma
            verify.patterns "sum-exp-rescale" (and "-tile" for the nested form): for c finite it is the
            shift Σ exp(y - c') = exp(c - c') Σ exp(y - c); for c = -inf every y is -inf and both sides are 0.
            Side condition: c' finite. c' = -inf only where no element at all is finite, where the kernel's
            result (exp(x - c'), x - c' - log(d)) is NaN whichever way d is written.
- split:    Σ_k (A + B) -> Σ_k A + Σ_k B  and  max_k maximum(A, B) -> maximum(max_k A, max_k B)  (finite sums
            and maxima; applied when A and B are reductions themselves, so the inner reductions can then be
            re-indexed one by one: ir.reductions' tiled reindex);
- -inf tests: max_{k in [lo, hi)} f == -inf  ->  hi <= lo  when f is finite (built from inputs, finite
            constants and operations that keep values finite: the inputs are reals), and
            where(hi <= lo, id_R, R_{k in [lo, hi)} f) -> R_{k in [lo, hi)} f (an empty reduction is id_R).

`rescale` runs the first two bottom-up; `canon` (ir.reductions) runs it before its own rules, and calls
`ninf_step` for the third.
"""

from __future__ import annotations

import math

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op

NINF = ir.const(-math.inf)
_FINITE_OPS = {
    Op.MEM,
    Op.VAR,
    Op.ADD,
    Op.SUB,
    Op.MUL,
    Op.NEG,
    Op.CAST,
    Op.MAXIMUM,
    Op.MINIMUM,
    Op.EXP,
    Op.ABS,
}


def _is_zero(e: Expr) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and float(e.value) == 0.0


def _ninf_of(c: Expr) -> Expr | None:
    """x when c is `x == -inf` (either order)."""
    if c.op is not Op.EQ:
        return None
    a, b = c.args
    if b == NINF:
        return a
    if a == NINF:
        return b
    return None


def max_operands(c: Expr) -> list[Expr]:
    return max_operands(c.args[0]) + max_operands(c.args[1]) if c.op is Op.MAXIMUM else [c]


def _addends(e: Expr) -> list[Expr]:
    return _addends(e.args[0]) + _addends(e.args[1]) if e.op is Op.ADD else [e]


def _rename(r: Expr, k: str) -> Expr:
    """The body of reduction r with its bound variable renamed to k."""
    return ir.substitute(r.args[2], {ir.var(str(r.attr)): ir.var(k)})


def _shift(term: Expr, mx: Expr, c: Expr, c2: Expr) -> Expr | None:
    """term = Σ_{t in R} exp(y(t) - c) with mx = max_{t in R} y(t) (or nested Σ/max alike): the same sum
    against c2, else None."""
    if term.op is Op.EXP and term.args[0] == ir.sub(mx, c):
        return ir.math_fn(Op.EXP, ir.sub(mx, c2))
    if term.op is not Op.SUM or mx.op is not Op.RMAX or term.args[:2] != mx.args[:2]:
        return None
    k = str(term.attr)
    inner = _shift(term.args[2], _rename(mx, k), c, c2)
    return None if inner is None else ir.reduce(Op.SUM, k, term.args[0], term.args[1], inner)


def _rescale(n: Expr) -> Expr | None:
    if n.op is not Op.MUL:
        return None
    for g, x in (n.args, n.args[::-1]):
        if g.op is not Op.WHERE or x.op is not Op.EXP or x.args[0].op is not Op.SUB:
            continue
        c, c2 = x.args[0].args
        if _ninf_of(g.args[0]) != c or not _is_zero(g.args[1]):
            continue
        atoms = [a for a in max_operands(c) if a.op is Op.RMAX]
        out: list[Expr] = []
        for term in _addends(g.args[2]):
            new = next((s for a in atoms if (s := _shift(term, a, c, c2)) is not None), None)
            if new is None:
                break
            out.append(new)
        else:
            total = out[0]
            for t in out[1:]:
                total = ir.add(total, t)
            return total
    return None


def _split(n: Expr) -> Expr | None:
    if n.op is Op.SUM:
        parts, join = [p for p in _addends(n.args[2]) if not _is_zero(p)], ir.add
    elif n.op is Op.RMAX:
        parts, join = [p for p in max_operands(n.args[2]) if p != NINF], ir.maximum  # -inf: max's identity
    else:
        return None
    if len(parts) < 2 or any(p.op is not n.op for p in parts):
        return None
    k, lo, hi = str(n.attr), n.args[0], n.args[1]
    out = ir.reduce(n.op, k, lo, hi, parts[0])
    for p in parts[1:]:
        out = join(out, ir.reduce(n.op, k, lo, hi, p))
    return out


def _step(n: Expr) -> Expr | None:
    return _rescale(n) or _split(n)


def rescale(e: Expr) -> Expr:
    """The rescale and split rewrites above, bottom-up (one pass: each rewrite's result is final)."""
    return ir.transform(e, _step)


def finite(e: Expr) -> bool:
    """e is a real number whatever the inputs (which are reals): no infinities, no reductions."""
    if e.is_const:
        return e.kind is not Kind.REAL or math.isfinite(float(e.value))
    if e.op is Op.WHERE:
        return finite(e.args[1]) and finite(e.args[2])
    if e.op is Op.MEM:
        return True
    return e.op in _FINITE_OPS and all(finite(a) for a in e.args)


def ninf_step(n: Expr) -> Expr | None:
    """The -inf tests of the module docstring (one node)."""
    x = _ninf_of(n)
    if x is not None:
        if x.op is Op.RMAX and finite(x.args[2]):
            return ir.le(x.args[1], x.args[0])
        if x.is_const or x.op is Op.MEM:
            return ir.const(x == NINF)
        return None
    if n.op is Op.WHERE and n.args[0].op is Op.LE:
        hi, lo = n.args[0].args
        r = n.args[2]
        if r.op in (Op.SUM, Op.RMAX, Op.RMIN, Op.PROD) and (r.args[0], r.args[1]) == (lo, hi):
            from tritonlift.ir.reductions import is_identity

            if is_identity(n.args[1], r.op):
                return r
    return None
