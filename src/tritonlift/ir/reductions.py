"""Canonical form of reductions: the rewrites that make a kernel's reduction and a textbook one meet.

Every rewrite is an identity of finite sums (max, min) over the reals, valid for all sizes; the
lemmas behind them are proved once in `verify.patterns` ("tiled-reindex", mask absorption):

- mask absorption:  R_{k in [lo, hi)} where(k < E & c, b, id_R)  ->  R_{k in [lo, min(hi, E))} where(c, b, id_R)
  (also k <= E, E > k, k >= E ...; id_R is the identity of R: 0 for sum, -inf for max, +inf for min, 1 for
  prod); conjuncts free of k move outside: where(c, R b, id_R);
- tiled reindex:    R_{a<A} R_{b<B} f(b*A + a)  ->  R_{k < A*B} f(k)  (and f(a*B + b)): a loop over tiles
  of a blocked accumulator is one reduction over the flattened index; a tail tile's bound b < n - a*B reads
  k < n there, by (k // B) * B + k % B = k (B >= 1: floor division; proved in tests/test_atomics.py);
- constant body:    Σ_{k in [lo, hi)} c = max(hi - lo, 0) * c;  max_{k in [lo, hi)} c = where(lo < hi, c, -inf);
- linearity:        Σ_k (c * f) = c * Σ_k f,  Σ_k f / c = (Σ_k f) / c,  Σ_k -f = -Σ_k f  (c free of k);
                     Σ_k (Σ_r f + g) = Σ_k Σ_r f + Σ_k g  (split where a summand is a sum itself);
- identities:       maximum(-inf, x) = x,  minimum(inf, x) = x;
- empty clip:       R_{k in [lo, max(hi, lo))} = R_{k in [lo, hi)} (the same integers; none for hi <= lo).
- argmax tail:      argmax_{k in [lo, hi)} where(k < E & c, b, -inf) -> argmax_{k in [lo, min(hi, E))} where(c, b, -inf)
                    (argmin with +inf): the lanes cut off are the last ones and hold -inf, below every real;
                    if every kept lane is -inf too, both sides are lo (the first index, or the empty range's).
                    Only upper bounds move: cutting lanes off the front would change the all-padding answer.

Before them, `canon` combines online-softmax denominators kept against different maxima and splits sums /
maxima of reductions (ir.rescale); among them, `max == -inf` of finite elements and the guard of an empty
range are decided (ir.rescale.ninf_step); after them, a loop's reduction and its peeled tail's over the
adjacent range are merged once (ir.adjacent, kept beside the original under the condition that makes it
exact).

`canon` applies them bottom-up to a fixpoint. Bounds stay symbolic: whether min(hi, E) is hi or E is left to
the caller, who knows the facts (`synth.guards.simplify_guards` decides it with z3).
"""

from __future__ import annotations

import math

from tritonlift.ir import expr as ir
from tritonlift.ir.adjacent import merge_pass
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm, poly, unpoly
from tritonlift.ir.rescale import ninf_step, rescale

REDUCTIONS = (Op.SUM, Op.PROD, Op.RMAX, Op.RMIN)
_IDENTITY = {Op.SUM: 0.0, Op.PROD: 1.0, Op.RMAX: -math.inf, Op.RMIN: math.inf}


def identity(op: Op, kind: Kind) -> Expr:
    v = _IDENTITY[op]
    if kind is Kind.INT and math.isfinite(v):
        return ir.const(int(v))
    return ir.const(v)


def is_identity(e: Expr, op: Op) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and float(e.value) == _IDENTITY[op]


def mentions(e: Expr, name: str) -> bool:
    return any(n.op is Op.VAR and n.attr == name for n in ir.walk(e))


def _bounds_of(c: Expr, k: str) -> tuple[Expr | None, Expr | None] | None:
    """(lower, upper) bound on k that conjunct c states (lo <= k, k < hi), else None."""
    if c.op not in (Op.LT, Op.LE, Op.GT, Op.GE) or c.args[0].kind is not Kind.INT:
        return None
    a, b = c.args
    op = c.op
    if op in (Op.GT, Op.GE):  # a > b  ==  b < a
        a, b, op = b, a, (Op.LT if op is Op.GT else Op.LE)
    kv = ir.var(k)
    if norm(a) == kv and not mentions(b, k):  # k < b, k <= b
        return None, norm(b if op is Op.LT else ir.add(b, ir.ONE))
    if norm(b) == kv and not mentions(a, k):  # a < k, a <= k
        return norm(a if op is Op.LE else ir.add(a, ir.ONE)), None
    # k with coefficient +-1 in a linear comparison: t*B + k < n  ->  k < n - t*B
    p = poly(ir.sub(a, b))
    coef = p.get((kv,), 0)
    if coef not in (1, -1) or any(mentions(x, k) for m in p if m != (kv,) for x in m):
        return None
    rest = norm(unpoly({m: c for m, c in p.items() if m != (kv,)}))  # a - b = coef*k + rest
    if coef == 1:  # k + rest < 0  ->  k < -rest
        top = ir.neg(rest)
        return None, norm(top if op is Op.LT else ir.add(top, ir.ONE))
    # -k + rest < 0  ->  rest < k
    return norm(rest if op is Op.LE else ir.add(rest, ir.ONE)), None


def _zero(e: Expr) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and float(e.value) == 0.0


def hoist(e: Expr) -> Expr:
    """Move guards outward, over the reals: where(c, a, 0) * y = where(c, a * y, 0), where(c, a, x) + where(c, b, y)
    = where(c, a + b, x + y), where(c, where(c, a, b), d) = where(c, a, d). A masked load's guard then
    wraps the whole summand, where mask absorption finds it."""

    def step(n: Expr) -> Expr | None:
        if n.op is Op.WHERE:
            c, a, b = n.args
            if a.op is Op.WHERE and a.args[0] == c:
                return ir.where(c, a.args[1], b)
            if b.op is Op.WHERE and b.args[0] == c:
                return ir.where(c, a, b.args[2])
            return None
        if n.kind is not Kind.REAL:
            return None
        if n.op is Op.NEG and n.args[0].op is Op.WHERE:
            c, a, b = n.args[0].args
            return ir.where(c, ir.neg(a), ir.neg(b))
        if n.op in (Op.MUL, Op.DIV):
            x, y = n.args
            if x.op is Op.WHERE and _zero(x.args[2]):
                return ir.where(x.args[0], ir.arith(n.op, x.args[1], y) if n.op is Op.MUL else ir.div(x.args[1], y), x.args[2])
            if n.op is Op.MUL and y.op is Op.WHERE and _zero(y.args[2]):
                return ir.where(y.args[0], ir.mul(x, y.args[1]), y.args[2])
        if n.op is Op.EXP and n.args[0].op is Op.WHERE and is_identity(n.args[0].args[2], Op.RMAX):
            c, a, _ = n.args[0].args  # exp(-inf) = 0
            return ir.where(c, ir.math_fn(Op.EXP, a), ir.const(0.0))
        if n.op in (Op.ADD, Op.SUB) and n.args[0].op is Op.WHERE and n.args[1].op is not Op.WHERE:
            (c, a, b), y = n.args[0].args, n.args[1]
            if b.is_const and b.kind is Kind.REAL and math.isinf(b.value):  # -inf - y = -inf (y finite)
                return ir.where(c, ir.arith(n.op, a, y), b)
        if n.op in (Op.ADD, Op.SUB, Op.MUL):
            x, y = n.args
            if x.op is Op.WHERE and y.op is Op.WHERE and x.args[0] == y.args[0]:
                yes, no = ir.arith(n.op, x.args[1], y.args[1]), ir.arith(n.op, x.args[2], y.args[2])
                return ir.where(x.args[0], yes, no)
        return None

    return ir.transform(e, step)


def _absorb(r: Expr) -> Expr | None:
    lo, hi, body = r.args
    k = str(r.attr)
    body = hoist(body)
    if body.op is not Op.WHERE:
        return None
    c, yes, no = body.args
    if is_identity(yes, r.op) and not is_identity(no, r.op):
        c, yes, no = ir.not_(c), no, yes
    if not is_identity(no, r.op):
        return None
    kept: list[Expr] = []
    outside: list[Expr] = []
    new_lo, new_hi = lo, hi
    changed = False
    for part in ir.conjuncts(c):
        bound = _bounds_of(part, k)
        if bound is not None:
            blo, bhi = bound
            if blo is not None and blo not in flatten(new_lo, Op.MAXIMUM):
                new_lo = ir.maximum(new_lo, blo)
            if bhi is not None and bhi not in flatten(new_hi, Op.MINIMUM):
                new_hi = ir.minimum(new_hi, bhi)
            changed = True
        elif not mentions(part, k):
            outside.append(part)
            changed = True
        else:
            kept.append(part)
    if not changed:
        return None
    inner = ir.where(ir.and_(*kept), yes, no) if kept else yes
    out = ir.reduce(r.op, k, norm(new_lo), norm(new_hi), inner)
    if outside:
        out = ir.where(ir.and_(*outside), out, identity(r.op, r.kind))
    return out


def _fresh(taken: set[str]) -> str:
    n = 0
    while f"_r{n}" in taken:
        n += 1
    return f"_r{n}"


def _reindex(r: Expr) -> Expr | None:
    """R_{a<A} R_{b<B} f  ->  R_{k<A*B} f when f reads a and b only through one flattened index."""
    lo, hi, inner = r.args
    if inner.op is not r.op or not (lo == ir.ZERO and inner.args[0] == ir.ZERO):
        return None
    a, big_a = str(r.attr), hi
    b = str(inner.attr)
    f = inner.args[2]
    # a tail tile's bound b < min(B, X(a)) (an absorbed `k < K - a*B` mask) is a guard again over b < B:
    # R_{b < min(B, X)} f = R_{b < B} where(b < X, f, id) (for b >= 0 both keep the b < min(B, X))
    free: list[Expr] = []
    for x in flatten(inner.args[1], Op.MINIMUM):
        if not mentions(x, a) and norm(x) not in free:
            free.append(norm(x))
    tied = [x for x in flatten(inner.args[1], Op.MINIMUM) if mentions(x, a)]
    if not free:
        return None
    big_b = free[0]
    for x in free[1:]:  # the tile may be a min itself: min(next_power_of_2(n), 32)
        big_b = ir.minimum(big_b, x)
    if tied:
        f = ir.where(ir.and_(*(ir.lt(ir.var(b), x) for x in tied)), f, identity(r.op, r.kind))
    taken = {str(n.attr) for n in ir.walk(r) if n.op is Op.VAR or n.op in REDUCTIONS}
    k = _fresh(taken)
    kv = ir.var(k)
    for outer_div, ext in ((True, big_b), (False, big_a)):
        if outer_div:  # f depends on a*B + b: a = k // B, b = k % B
            sub = {ir.var(a): ir.arith(Op.FLOORDIV, kv, ext), ir.var(b): ir.arith(Op.MOD, kv, ext)}
        else:  # f depends on b*A + a: b = k // A, a = k % A
            sub = {ir.var(b): ir.arith(Op.FLOORDIV, kv, ext), ir.var(a): ir.arith(Op.MOD, kv, ext)}
        g = _norm_ints(ir.substitute(f, sub), k)
        if any(n.op in (Op.FLOORDIV, Op.MOD) and mentions(n, k) for n in ir.walk(g)):
            # (k // E) * E + k % E = k (E >= 1, a tile's extent): a tail bound `b < n - a*B` reads `k < n`
            g = _norm_ints(ir.substitute(g, {ir.arith(Op.MOD, kv, ext): ir.sub(kv, ir.mul(ext, ir.arith(
                Op.FLOORDIV, kv, ext)))}), k)
        if not any(n.op in (Op.FLOORDIV, Op.MOD) and mentions(n, k) for n in ir.walk(g)):
            return ir.reduce(r.op, k, ir.ZERO, norm(ir.mul(big_a, big_b)), g)
    return None


def _norm_ints(e: Expr, k: str | None = None) -> Expr:
    """Integer sums in normal form; with `k`, integer comparisons that mention k as `k-part < rest` (every
    monomial holding k on the left), so `k % B < K - (k // B) * B` reads `k < K`."""

    def step(n: Expr) -> Expr | None:
        if n.kind is Kind.INT and n.op in (Op.ADD, Op.SUB, Op.MUL, Op.NEG):
            return norm(n)
        if k is not None and n.op in (Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE) and n.args[0].kind is Kind.INT:
            return _isolate(n, k)
        return None

    return ir.transform(e, step)


def _isolate(c: Expr, k: str) -> Expr | None:
    x, y = c.args
    if x.kind is not Kind.INT or y.kind is not Kind.INT or not (mentions(x, k) or mentions(y, k)):
        return None
    diff = poly(ir.sub(x, y))
    left = {m: v for m, v in diff.items() if any(mentions(a, k) for a in m)}
    right = {m: -v for m, v in diff.items() if m not in left}
    new = ir.compare(c.op, unpoly(left), unpoly(right))
    return None if new == c else new


def _constant_body(r: Expr) -> Expr | None:
    lo, hi, body = r.args
    if mentions(body, str(r.attr)):
        return None
    if r.op is Op.SUM:
        count = norm(ir.maximum(ir.sub(hi, lo), ir.ZERO)) if not _nonneg(ir.sub(hi, lo)) else norm(ir.sub(hi, lo))
        return ir.mul(count if body.kind is Kind.INT else ir.to_real(count), body)
    if r.op in (Op.RMAX, Op.RMIN):
        return ir.where(ir.lt(lo, hi), body, identity(r.op, r.kind))
    return None


def _nonneg(e: Expr) -> bool:
    e = norm(e)
    return e.is_const and int(e.value) >= 0


def _linear(r: Expr) -> Expr | None:
    if r.op is not Op.SUM:
        return None
    lo, hi, body = r.args
    k = str(r.attr)
    if body.op in (Op.ADD, Op.SUB) and any(a.op is Op.SUM for a in body.args):
        # Σ_k (Σ_r f + g) = Σ_k Σ_r f + Σ_k g: a loop over full tiles plus a masked tail tile, each
        # then in canonical form on its own (tiled reindex, mask absorption)
        a, b = (ir.reduce(Op.SUM, k, lo, hi, x) for x in body.args)
        return ir.add(a, b) if body.op is Op.ADD else ir.sub(a, b)
    if body.op is Op.NEG:
        return ir.neg(ir.reduce(Op.SUM, k, lo, hi, body.args[0]))
    if body.op is Op.MUL:
        x, y = body.args
        if not mentions(x, k) and mentions(y, k):
            return ir.mul(x, ir.reduce(Op.SUM, k, lo, hi, y))
        if not mentions(y, k) and mentions(x, k):
            return ir.mul(ir.reduce(Op.SUM, k, lo, hi, x), y)
    if body.op is Op.DIV:
        x, y = body.args
        if not mentions(y, k) and mentions(x, k):
            return ir.div(ir.reduce(Op.SUM, k, lo, hi, x), y)
    return None


def _range_guards(r: Expr) -> Expr | None:
    """Inside R_{k in [lo, hi)}, a guard k < E with E one of hi's upper bounds (hi = E or min(.., E, ..))
    holds: drop it (likewise lo <= k)."""
    lo, hi, body = r.args
    k = str(r.attr)
    uppers = set(_min_args(hi))
    lowers = set(_max_args(lo))

    def implied(c: Expr) -> bool:
        b = _bounds_of(c, k)
        return b is not None and ((b[1] is not None and b[1] in uppers) or (b[0] is not None and b[0] in lowers))

    def step(n: Expr) -> Expr | None:
        if n.op is Op.WHERE:
            parts = ir.conjuncts(n.args[0])
            kept = [p for p in parts if not implied(p)]
            if len(kept) < len(parts):
                return ir.where(ir.and_(*kept), n.args[1], n.args[2]) if kept else n.args[1]
        return None

    new = _transform_free(body, k, step)
    return None if new == body else ir.reduce(r.op, k, lo, hi, new)


def _transform_free(e: Expr, k: str, step) -> Expr:
    """transform, but not inside a nested binder of the same name (which would shadow k)."""
    if e.op in REDUCTIONS and str(e.attr) == k:
        return e
    if not e.args:
        return e
    new = ir.rebuild(e, tuple(_transform_free(a, k, step) for a in e.args))
    out = step(new)
    return new if out is None else out


def flatten(e: Expr, op: Op) -> list[Expr]:
    """The operands of a nest of one associative op: minimum(a, minimum(b, c)) -> [a, b, c]."""
    return flatten(e.args[0], op) + flatten(e.args[1], op) if e.op is op else [e]


def _min_args(e: Expr) -> list[Expr]:
    return [norm(x) for x in flatten(e, Op.MINIMUM)]


def _max_args(e: Expr) -> list[Expr]:
    return [norm(x) for x in flatten(e, Op.MAXIMUM)]


def _clip_empty(r: Expr) -> Expr | None:
    """R_{k in [lo, max(hi, lo))} = R_{k in [lo, hi)}: both ranges hold the same integers (none when
    hi <= lo). A loop `for k in range(N)` runs max(N, 0) times."""
    lo, hi, body = r.args
    if hi.op is not Op.MAXIMUM:
        return None
    parts = flatten(hi, Op.MAXIMUM)
    if norm(lo) not in [norm(p) for p in parts]:
        return None
    kept = [p for p in parts if norm(p) != norm(lo)]
    if not kept:
        return None
    new_hi = kept[0]
    for p in kept[1:]:
        new_hi = ir.maximum(new_hi, p)
    return ir.reduce(r.op, str(r.attr), lo, new_hi, body)


_RULES = (_absorb, _reindex, _constant_body, _linear, _range_guards, _clip_empty)
_ARG_PAD = {Op.ARGMAX: -math.inf, Op.ARGMIN: math.inf}


def _absorb_arg(r: Expr) -> Expr | None:
    """The argmax-tail rule (module docstring)."""
    lo, hi, body = r.args
    k = str(r.attr)
    body = hoist(body)
    if body.op is not Op.WHERE:
        return None
    c, yes, no = body.args
    if not (no.is_const and no.kind is Kind.REAL and no.value == _ARG_PAD[r.op]):
        return None
    kept: list[Expr] = []
    new_hi = hi
    for part in ir.conjuncts(c):
        bound = _bounds_of(part, k)
        if bound is not None and bound[0] is None and bound[1] is not None:
            if bound[1] not in flatten(new_hi, Op.MINIMUM):
                new_hi = ir.minimum(new_hi, bound[1])
        else:
            kept.append(part)
    if len(kept) == len(ir.conjuncts(c)):
        return None
    inner = ir.where(ir.and_(*kept), yes, no) if kept else yes
    return ir.argreduce(r.op, k, lo, norm(new_hi), inner)


def _step(n: Expr) -> Expr | None:
    if n.op in ir.ARG_OPS:
        return _absorb_arg(n)
    if n.op in (Op.EQ, Op.WHERE):  # max == -inf of finite elements; an empty range's guard (ir.rescale)
        return ninf_step(n)
    if n.op in REDUCTIONS:
        for rule in _RULES:
            out = rule(n)
            if out is not None:
                return out
        return None
    if n.op is Op.MAXIMUM and n.kind is Kind.REAL:
        a, b = n.args
        if is_identity(a, Op.RMAX):
            return b
        if is_identity(b, Op.RMAX):
            return a
    if n.op is Op.MINIMUM and n.kind is Kind.INT:
        a, b = n.args
        if _covers(a, b):
            return b
        if _covers(b, a):
            return a
    if n.op is Op.MINIMUM and n.kind is Kind.REAL:
        a, b = n.args
        if is_identity(a, Op.RMIN):
            return b
        if is_identity(b, Op.RMIN):
            return a
    return None


def _covers(a: Expr, e: Expr) -> bool:
    """a == max(cdiv(e, B), 0) * B or cdiv(e, B) * B: the tiles of a loop `range(0, e, B)` cover [0, e), so
    min(a, e) = e (B >= 1, the loop step): (e + B - 1) // B * B = ceil(e / B) * B >= e, tdiv rounds up from
    floor, and the clip at 0 (which `_clip_empty` may have dropped from a reduction's bound) only raises it."""
    if a.op is not Op.MUL:
        return False
    for m, b in (a.args, a.args[::-1]):
        # a trip count `tl.cdiv(e, B)` comes as `tdiv(e + B - 1, B) + 1 - 1`
        q = norm(m.args[0]) if m.op is Op.MAXIMUM and m.args[1] == ir.ZERO else norm(m)
        if q.op in (Op.FLOORDIV, Op.TRUNCDIV):
            x, d = q.args
            if d == b and norm(x) == norm(ir.sub(ir.add(e, b), ir.ONE)):
                return True
    return False


def canon(e: Expr, limit: int = 32) -> Expr:
    """Apply the reduction rewrites bottom-up until nothing changes (at most `limit` rounds)."""
    if not any(n.op in REDUCTIONS or n.op in ir.ARG_OPS or n.op in (Op.MAXIMUM, Op.MINIMUM) for n in ir.walk(e)):
        return e
    e = rescale(e)  # online-softmax denominators brought to a common max (ir.rescale)
    e = _fixpoint(e, limit)
    merged = merge_pass(e)  # a loop and its peeled tail over adjacent ranges (ir.adjacent), once
    return e if merged == e else _fixpoint(merged, limit)


def _fixpoint(e: Expr, limit: int) -> Expr:
    for _ in range(limit):
        out = ir.transform(e, _step)
        if out == e:
            return out
        e = out
    return e


def rename_bound(e: Expr, taken: set[str], names: tuple[str, ...] = ("k", "l", "m", "n", "p", "q")) -> Expr:
    """Readable, distinct names for bound variables (k, l, ...) avoiding `taken` (index names, symbols)."""
    used = set(taken) | {str(n.attr) for n in ir.walk(e) if n.op is Op.VAR}
    pool = [x for x in names if x not in used]
    counter = 0

    def pick() -> str:
        nonlocal counter
        if pool:
            return pool.pop(0)
        counter += 1
        while f"k{counter}" in used:
            counter += 1
        return f"k{counter}"

    def go(n: Expr) -> Expr:
        if n.op in REDUCTIONS or n.op in ir.ARG_OPS:
            lo, hi, body = (go(a) for a in n.args)
            new = pick()
            used.add(new)
            body = ir.substitute(body, {ir.var(str(n.attr)): ir.var(new)})
            if n.op in ir.ARG_OPS:
                return ir.argreduce(n.op, new, lo, hi, body)
            return ir.reduce(n.op, new, lo, hi, body)
        if not n.args:
            return n
        return ir.rebuild(n, tuple(go(a) for a in n.args))

    return go(e)
