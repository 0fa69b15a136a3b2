"""Loops with a symbolic trip count, summarized by invariant patterns (never unrolled).

The body runs once, symbolically, at iteration `t` (a fresh variable `_tN`, 0 <= t < T) with every
loop-carried variable replaced by a placeholder: a READ of the pseudo-tensor `@name` at the lanes of its
tile. Each carried variable's update must then have the step shape of a pattern of `verify.patterns`
(each proved once by induction there); the loop's result is the pattern's closed form at T:

- unchanged:        v' = v                      ->  v_T = v_0
- accumulate-sum:   v' = v + g(t)               ->  v_T = v_0 + Σ_{t<T} g(t)   (pointer-advance: g constant)
- accumulate-prod:  v' = v * g(t)               ->  v_T = v_0 * Π_{t<T} g(t)
- running-max/min:  v' = maximum(v, g(t))       ->  v_T = maximum(v_0, max_{t<T} g(t))

g may read other carried variables whose closed forms are already known (a pointer advanced in the
same loop, say): their state at iteration t is substituted. Anything else is `Unsupported`, naming the
variable and the line: no silent approximation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.reductions import canon
from tritonlift.symbolic.values import Block, PtrBlock, lane

PLACEHOLDER = "@"


def placeholder(name: str, shape: tuple[Expr, ...], kind: Kind) -> Expr:
    node = ir.read(PLACEHOLDER + name, *(lane(k) for k in range(len(shape))))
    return ir.Expr(Op.READ, node.args, node.attr, kind) if node.kind is not kind else node


def mentions_placeholder(e: Expr, name: str | None = None) -> bool:
    return any(
        n.op is Op.READ and str(n.attr).startswith(PLACEHOLDER) and (name is None or n.attr == PLACEHOLDER + name)
        for n in ir.walk(e)
    )


def replace_placeholder(e: Expr, name: str, value: Expr, rank: int) -> Expr:
    """Every read of `@name` at lanes (a0..) becomes `value` with its lanes l0.. set to a0.."""

    def step(n: Expr) -> Expr | None:
        if n.op is Op.READ and n.attr == PLACEHOLDER + name:
            return ir.substitute(value, {lane(k): a for k, a in enumerate(n.args[:rank])})
        return None

    return ir.transform(e, step)


@dataclass
class Summary:
    pattern: str
    closed: Expr  # the state after T iterations (over lanes l0.., symbols, and T)
    at: Expr  # the state at the start of iteration t (what reads inside the body see)
    step: Expr | None = None  # g(t) of the update (running max: m' = maximum(m, g(t)))
    init: Expr | None = None
    # side conditions of the instantiation, each (goal, what) to prove for 0 <= t < T (verify does)
    side: list[tuple[Expr, str]] | None = None
    update: Expr | None = None  # the kernel's update, over the placeholder (Welford's M2 needs the mean's)


def _step_term(new: Expr, p: Expr) -> tuple[str, Expr] | None:
    """(pattern, g) when new = p (+|max|min) g with g free of p."""
    if new == p:
        return "unchanged", p
    if new.op is Op.ADD:
        a, b = new.args
        if a == p and not _has(b, p):
            return "accumulate-sum", b
        if b == p and not _has(a, p):
            return "accumulate-sum", a
    if new.op is Op.SUB and new.args[0] == p and not _has(new.args[1], p):
        return "accumulate-sum", ir.neg(new.args[1])
    if new.op is Op.MUL and new.kind is Kind.REAL:
        a, b = new.args
        if a == p and not _has(b, p):
            return "accumulate-prod", b
        if b == p and not _has(a, p):
            return "accumulate-prod", a
    if new.op in (Op.MAXIMUM, Op.MINIMUM):
        a, b = new.args
        name = "running-max" if new.op is Op.MAXIMUM else "running-min"
        if a == p and not _has(b, p):
            return name, b
        if b == p and not _has(a, p):
            return name, a
    return None


def _has(e: Expr, p: Expr) -> bool:
    return any(n == p for n in ir.walk(e))


def summarize(
    name: str, init: Expr, new: Expr, p: Expr, t: str, trips: Expr, line: int, file: str, bound: str | None = None
) -> Summary:
    """The closed form of one carried variable whose update is `new` (over placeholder p, iteration t)."""
    found = _step_term(new, p)
    if found is None:
        raise Unsupported(
            f"loop-carried `{name}`: its update matches no invariant pattern (accumulate sum/product, running max/min)", file, line
        )
    pattern, g = found
    if pattern == "unchanged":
        return Summary(pattern, init, init, None, init)
    if mentions_placeholder(g):
        raise Unsupported(f"loop-carried `{name}`: its update reads another carried value", file, line)
    tv = ir.var(t)
    op = {"accumulate-sum": Op.SUM, "accumulate-prod": Op.PROD, "running-max": Op.RMAX, "running-min": Op.RMIN}[pattern]
    body = g if g.kind is not Kind.BOOL else ir.cast(g, "int32")
    upto = ir.var("_upto")
    bound = bound or t + "s"  # the reduction's own index: iterations 0 .. upto-1
    partial = ir.reduce(op, bound, ir.ZERO, upto, ir.substitute(body, {tv: ir.var(bound)}))
    combine = {Op.SUM: ir.add, Op.PROD: ir.mul, Op.RMAX: ir.maximum, Op.RMIN: ir.minimum}[op]
    init_x = ir.to_real(init) if body.kind is Kind.REAL else init
    closed_upto = combine(init_x, partial)
    closed = ir.substitute(closed_upto, {upto: trips})
    at = ir.substitute(closed_upto, {upto: tv})  # the state iteration t starts from
    if pattern == "accumulate-sum" and init.kind is Kind.INT and not any(
        n.op is Op.VAR and n.attr == t for n in ir.walk(body)
    ):
        # pointer-advance: a constant step closes to init + t * g
        closed = ir.add(init, ir.mul(trips, body))
        at = ir.add(init, ir.mul(tv, body))
    return Summary(pattern, closed, at, g, init)


def _is_ninf(e: Expr) -> bool:
    return e.is_const and e.kind is Kind.REAL and e.value == -math.inf


def _is_zero(e: Expr) -> bool:
    return e.is_const and e.value == 0


NINF = ir.const(-math.inf)


def _zero_at_ninf(d0: Expr, m0: Expr) -> bool:
    """d0 is 0 whenever m0 is -inf: d0 = 0, or d0 = where(m0 == -inf, 0, ...) (an online-softmax closed form)."""
    if _is_zero(d0):
        return True
    return d0.op is Op.WHERE and d0.args[0] == ir.eq(m0, NINF) and _is_zero(d0.args[1])


def _max_new(m: Summary) -> list[Expr]:
    """m' as the kernel may write it: maximum(m, g) or maximum(g, m), m at the start of iteration t."""
    assert m.step is not None
    return [ir.maximum(m.at, m.step), ir.maximum(m.step, m.at)]


def _rescaled(e: Expr, p: Expr, m_at: Expr, m_new: Expr) -> Expr | None:
    """S when e = d * exp(m - m') + S (either order of + and *) with S free of d."""
    if e.op is not Op.ADD:
        return None
    for a, b in (e.args, e.args[::-1]):
        if a.op is Op.MUL and not _has(b, p):
            x, y = a.args
            for dd, ex in ((x, y), (y, x)):
                if dd == p and ex == ir.math_fn(Op.EXP, ir.sub(m_at, m_new)):
                    return b
    return None


def _tile_terms(g: Expr, s: Expr, m_new: Expr) -> bool:
    """Whether S is Σ exp(x - m') over exactly the elements whose max is g (same bounds, same x):
    the shape the online-softmax patterns are proved for (verify.patterns)."""
    if g.op is Op.RMAX and s.op is Op.SUM:
        (glo, ghi, gx), (slo, shi, sx) = g.args, s.args
        if (glo, ghi) != (slo, shi):
            return False
        sx = ir.substitute(sx, {ir.var(str(s.attr)): ir.var(str(g.attr))})
        return sx == ir.math_fn(Op.EXP, ir.sub(gx, m_new))
    # scalar form: one element per iteration
    return s == ir.math_fn(Op.EXP, ir.sub(g, m_new))


def online_softmax(
    name: str, init: Expr, new: Expr, p: Expr, t: str, trips: Expr, m: Summary, bound: str
) -> Summary | None:
    """The running denominator d of online softmax, given the running max m it is rescaled by:

        m' = maximum(m, g(t));  d' = d * exp(m - m') + S(t, m')   [or where(m' == -inf, d, ...)]

    with S(t, c) = Σ_l exp(x(t, l) - c) over exactly the elements whose max is g(t) (or exp(g(t) - c) for
    one element), from (m_0, d_0) = (-inf, 0) or from a state with d_0 = 0 whenever m_0 = -inf (where an
    earlier online-softmax loop left it: its closed form is guarded so). Proved once (verify.patterns
    online-softmax, -tile):

        d_T = where(m_T == -inf, 0, d_0 * exp(m_0 - m_T) + Σ_{t<T} S(t, m_T))

    (the guard is part of the closed form: a lane that never sees an element keeps d = 0, where the sum
    alone would read exp(-inf - -inf)). The unguarded update agrees with the guarded one while m' is
    finite: a side condition (every tile has an element) that the verifier discharges for 0 <= t < T.
    """
    if m.pattern != "running-max" or m.step is None or m.init is None:
        return None
    if not _zero_at_ninf(init, m.init):
        return None
    for m_new in _max_new(m):
        body = new
        guarded = False
        if body.op is Op.WHERE:
            c, keep, upd = body.args
            if keep == p and c == ir.compare(Op.EQ, m_new, ir.const(-math.inf)):
                body, guarded = upd, True
        s_t = _rescaled(body, p, m.at, m_new)
        if s_t is None or not _tile_terms(m.step, s_t, m_new):
            continue
        tv, c = ir.var(t), ir.var("_m_final", Kind.REAL)
        term = ir.substitute(ir.substitute(s_t, {m_new: c}), {tv: ir.var(bound)})  # S(s, c)

        closed, at = (_denominator_after(k, m, tv, term, c, init, bound) for k in (trips, tv))
        side = []
        if not guarded:
            g = canon(m.step)  # masked lanes become bounds
            if any(_is_ninf(n) for n in ir.walk(g.args[2] if g.op is Op.RMAX else g)):
                nonempty = ir.FALSE  # a lane may still be -inf: no proof that m' is finite
            else:
                nonempty = ir.lt(g.args[0], g.args[1]) if g.op is Op.RMAX else ir.TRUE
            side.append((nonempty, f"loop-carried `{name}` (online softmax without the -inf guard): "
                         "every iteration's max is over at least one element"))
        return Summary("online-softmax" + ("-tile" if m.step.op is Op.RMAX else ""), closed, at, s_t, init, side)
    return None


def _denominator_after(k: Expr, m: Summary, tv: Expr, term: Expr, c: Expr, d0: Expr, bound: str) -> Expr:
    """d after k iterations, the pattern's closed form: where(m_k == -inf, 0, d0 * exp(m0 - m_k) + Σ_{s<k} S(s, m_k))
    (term = S(bound, c)); the d0 part only when the loop resumes from d0 != 0."""
    assert m.init is not None
    m_k = ir.substitute(m.at, {tv: k})
    total = ir.substitute(ir.reduce(Op.SUM, bound, ir.ZERO, k, term), {c: m_k})
    if not _is_zero(d0):
        total = ir.add(ir.mul(ir.to_real(d0), ir.math_fn(Op.EXP, ir.sub(m.init, m_k))), total)
    return ir.where(ir.eq(m_k, NINF), ir.const(0.0), total)


def tile_elem(v: object) -> tuple[str, Expr, tuple[Expr, ...]] | None:
    """(kind of value, its element expr, shape) of a carried Block or PtrBlock."""
    if isinstance(v, PtrBlock):
        return "ptr", v.offset, v.shape
    if isinstance(v, Block):
        return "block", v.elem, v.shape
    return None
