"""Adjacent ranges of one reduction: a loop over full tiles and its peeled, masked last tile.

Kernels often split a row into the full tiles `range(0, P, B)` (unmasked loads) and the last tile
`range(P, N, B)` (masked), so once each loop's reduction is in canonical form (ir.reductions) a row's sum or
max is the combination of two reductions over adjacent ranges, the second one shifted by the first one's
end:

    R_{k in [lo1, hi1)} f(k)  (+)  R_{k in [lo2, hi2)} f(c + k)   ->   R_{k in [lo1, c + hi2)} f(k)

valid when hi1 = c + lo2, lo1 <= hi1 and lo2 <= hi2 (R = Σ with +, max with maximum; finite reductions
split at any point inside their range). Canon does not know the sizes, so the rewrite keeps both forms:
`where(hi1 == c + lo2 & lo1 <= hi1 & lo2 <= hi2, merged, original)`, equal to the original for every
value of the sizes; the verifier's facts decide the condition. `merge_pass` applies it once, top-down, and
leaves an already merged pair alone (a `where` whose else-branch merges under its own condition), so a
second canonicalisation does not nest the original again.

The shift c is read off the first memory read of the bound index in the two bodies (the difference of their addresses, free of
the bound index) and checked by substitution: f(c + k) must be the second body exactly (integer parts in
normal form).
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm


def _mentions(e: Expr, name: str) -> bool:
    return any(n.op is Op.VAR and n.attr == name for n in ir.walk(e))


def _norm_ints(e: Expr) -> Expr:
    def step(n: Expr) -> Expr | None:
        if n.kind is Kind.INT and n.op in (Op.ADD, Op.SUB, Op.MUL, Op.NEG):
            return norm(n)
        return None

    return ir.transform(e, step)


def _first_read(e: Expr, k: str) -> Expr | None:
    return next((n for n in ir.walk(e) if n.op is Op.MEM and _mentions(n, k)), None)


def _shifted_body(r1: Expr, r2: Expr) -> Expr | None:
    """c when r2's body (over its index) is r1's body at c + index, else None."""
    k = str(r1.attr)
    b1 = _norm_ints(r1.args[2])
    b2 = _norm_ints(ir.substitute(r2.args[2], {ir.var(str(r2.attr)): ir.var(k)}))
    m1, m2 = _first_read(b1, k), _first_read(b2, k)
    if m1 is None or m2 is None or m1.attr != m2.attr:
        return None
    c = norm(ir.sub(m2.args[0], m1.args[0]))
    if _mentions(c, k):
        return None
    if _norm_ints(ir.substitute(b1, {ir.var(k): ir.add(ir.var(k), c)})) != b2:
        return None
    return c


def merge_step(n: Expr) -> Expr | None:
    """The rewrite of the module docstring on one node (ADD of two sums, MAXIMUM of two maxima)."""
    if n.kind is not Kind.REAL or n.op not in (Op.ADD, Op.MAXIMUM):
        return None
    want = Op.SUM if n.op is Op.ADD else Op.RMAX
    a, b = n.args
    if a.op is not want or b.op is not want:
        return None
    for r1, r2 in ((a, b), (b, a)):
        c = _shifted_body(r1, r2)
        if c is None:
            continue
        (lo1, hi1, body1), (lo2, hi2) = r1.args, r2.args[:2]
        cond = ir.and_(ir.eq(norm(hi1), norm(ir.add(c, lo2))), ir.le(lo1, hi1), ir.le(lo2, hi2))
        merged = ir.reduce(want, str(r1.attr), lo1, norm(ir.add(c, hi2)), body1)
        return ir.where(cond, merged, n)
    return None


def merge_pass(e: Expr) -> Expr:
    memo: dict[Expr, Expr] = {}

    def go(n: Expr) -> Expr:
        if n in memo:
            return memo[n]
        if not n.args:
            return n
        if n.op is Op.WHERE and (m := merge_step(n.args[2])) is not None and m.args[0] == n.args[0]:
            out = ir.rebuild(
                n, (n.args[0], go(n.args[1]), n.args[2])
            )  # merged before: keep the original as is
        else:
            new = ir.rebuild(n, tuple(go(a) for a in n.args))
            out = merge_step(new) or new
        memo[n] = out
        return out

    if not any(n.op in (Op.SUM, Op.RMAX) for n in ir.walk(e)):
        return e
    return go(e)
