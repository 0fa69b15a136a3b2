"""Row-level named operators (softmax, log_softmax, logsumexp, mean, variance, layer_norm, rms_norm).

These patterns relate a reduction's summand to a term outside it (`exp(x[i, j]) / Σ_k exp(x[i, k])`: the
numerator is the summand at k = j) and need "does not depend on k" checks, which e-matching cannot state;
they are plain Python over the IR, applied bottom-up after saturation. Each pattern is a rule of
rules.RULES (engine "rows") under the same name, and is tested like the egglog rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tritonlift.ir.expr import (
    BINDER_OPS,
    ZERO,
    Expr,
    Kind,
    Op,
    const,
    div,
    free_vars,
    mul,
    named,
    row,
    sub,
    substitute,
    to_real,
    transform,
    var,
    walk,
)


@dataclass
class RowContext:
    """The assignment around the term: index variable -> extent (each index runs over 0..extent)."""

    extents: dict[str, Expr] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict)  # tensor -> its parameter's position in the signature


def alpha_eq(p: Expr, t: Expr) -> bool:
    """Equal up to the names of bound indices."""
    if p == t:
        return True
    if p.op is not t.op or len(p.args) != len(t.args) or p.kind is not t.kind:
        return False
    if p.op in BINDER_OPS:
        renamed = substitute(t.args[2], {var(t.attr): var(p.attr)}) if t.attr != p.attr else t.args[2]
        if p.attr != t.attr and p.attr in free_vars(t.args[2]):
            return False  # renaming would capture
        rest = [i for i in range(len(p.args)) if i != 2]
        return alpha_eq(p.args[2], renamed) and all(alpha_eq(p.args[i], t.args[i]) for i in rest)
    return p.attr == t.attr and all(alpha_eq(a, b) for a, b in zip(p.args, t.args, strict=True))


def match_at(body: Expr, k: str, target: Expr) -> Expr | None:
    """The `at` with body[k := at] == target, or None (first-order matching with one variable)."""
    binding: dict[str, Expr] = {}
    kv = var(k)

    def go(p: Expr, t: Expr) -> bool:
        if p == kv:
            if k in binding:
                return binding[k] == t
            binding[k] = t
            return True
        if k not in free_vars(p):
            return alpha_eq(p, t)
        if p.op is not t.op or p.attr != t.attr or len(p.args) != len(t.args) or p.kind is not t.kind:
            return False
        if p.op in (Op.SUM, Op.PROD, Op.RMAX, Op.RMIN) and p.attr == k:
            return False  # k is rebound inside: no occurrence to match
        return all(go(a, b) for a, b in zip(p.args, t.args, strict=True))

    if not go(body, target):
        return None
    return binding.get(k)


def same_row(a: Expr, b: Expr) -> bool:
    """Two binder nodes over the same row (bounds equal, bodies equal up to the bound index's name)."""
    if a.args[:2] != b.args[:2]:
        return False

    def as_sum(e: Expr) -> Expr:
        return Expr(Op.SUM, e.args[:3], e.attr, e.args[2].kind)

    return alpha_eq(as_sum(a), as_sum(b))


def _nonempty(lo: Expr, hi: Expr, at: Expr, ctx: RowContext) -> bool:
    """`at` is an output index running over 0..hi: whenever the formula has an element, lo <= at < hi."""
    return lo == ZERO and at.op is Op.VAR and ctx.extents.get(at.attr) == hi


def _shifted(body: Expr, k: str) -> tuple[Expr, Expr] | None:
    """body == b - m with m free of k: (b, m)."""
    if body.op is Op.SUB and k not in free_vars(body.args[1]):
        return body.args[0], body.args[1]
    return None


def _is_max_of(m: Expr, k: str, lo: Expr, hi: Expr, b: Expr) -> bool:
    return m.op is Op.RMAX and same_row(Expr(Op.RMAX, (lo, hi, b), k, b.kind), m)


def _square_of(e: Expr) -> Expr | None:
    """e == t * t (the two factors equal up to the names of their bound indices) or pow(t, 2.0): t."""
    if e.op is Op.MUL and alpha_eq(e.args[0], e.args[1]):
        return e.args[0]
    if e.op is Op.POW and e.args[1] == const(2.0):
        return e.args[0]
    return None


def _softmax(e: Expr, ctx: RowContext) -> Expr | None:
    if (
        e.op is Op.DIV
        and e.args[0].op is Op.EXP
        and e.args[1].op is Op.SUM
        and e.args[1].args[2].op is Op.EXP
    ):
        s = e.args[1]
        at = match_at(s.args[2].args[0], s.attr, e.args[0].args[0])
        if at is not None:
            ctx.applied.append("softmax")
            return row(Op.SOFTMAX, s.attr, s.args[0], s.args[1], s.args[2].args[0], at)
    return None


def _log_softmax(e: Expr, ctx: RowContext) -> Expr | None:
    if e.op is Op.SUB and e.args[1].op is Op.LOGSUMEXP:
        lse = e.args[1]
        at = match_at(lse.args[2], lse.attr, e.args[0])
        if at is not None:
            ctx.applied.append("log_softmax")
            return row(Op.LOG_SOFTMAX, lse.attr, lse.args[0], lse.args[1], lse.args[2], at)
    return None


def _logsumexp(e: Expr, ctx: RowContext) -> Expr | None:
    if e.op is Op.LOG and e.args[0].op is Op.SUM and e.args[0].args[2].op is Op.EXP:
        s = e.args[0]
        ctx.applied.append("logsumexp")
        return row(Op.LOGSUMEXP, s.attr, s.args[0], s.args[1], s.args[2].args[0])
    return None


def _shift(e: Expr, ctx: RowContext) -> Expr | None:
    """softmax / log_softmax of (b - m), m free of k, on a non-empty row: of b; m + logsumexp(b - m)."""
    if e.op in (Op.SOFTMAX, Op.LOG_SOFTMAX):
        lo, hi, body, at = e.args
        parts = _shifted(body, e.attr)
        if parts is not None and (
            _nonempty(lo, hi, at, ctx) or _is_max_of(parts[1], e.attr, lo, hi, parts[0])
        ):
            ctx.applied.append(f"{e.op.value}_shift")
            return row(e.op, e.attr, lo, hi, parts[0], at)
    if e.op is Op.ADD:
        for m, lse in (e.args, reversed(e.args)):
            if lse.op is not Op.LOGSUMEXP:
                continue
            parts = _shifted(lse.args[2], lse.attr)
            if (
                parts is not None
                and alpha_eq(parts[1], m)
                and _is_max_of(m, lse.attr, lse.args[0], lse.args[1], parts[0])
            ):
                ctx.applied.append("logsumexp_shift")
                return row(Op.LOGSUMEXP, lse.attr, lse.args[0], lse.args[1], parts[0])
    return None


def _mean(e: Expr, ctx: RowContext) -> Expr | None:
    if e.op is Op.DIV and e.args[0].op is Op.SUM and e.args[0].kind is Kind.REAL:
        lo, hi, body = e.args[0].args
        if e.args[1] == to_real(sub(hi, lo)):
            ctx.applied.append("mean")
            return row(Op.MEAN, e.args[0].attr, lo, hi, body)
    return None


def _variance(e: Expr, ctx: RowContext) -> Expr | None:
    if e.op is not Op.MEAN:
        return None
    d = _square_of(e.args[2])
    if d is None or d.op is not Op.SUB or d.args[1].op is not Op.MEAN:
        return None
    lo, hi, _v = e.args
    if same_row(Expr(Op.MEAN, (lo, hi, d.args[0]), e.attr, Kind.REAL), d.args[1]):
        ctx.applied.append("variance")
        return row(Op.VARIANCE, e.attr, lo, hi, d.args[0])
    return None


def _factors(e: Expr) -> tuple[list[Expr], list[Expr]]:
    """e as a product of numerator factors over a product of denominator factors (products and quotients
    regrouped: associativity and commutativity of * over the reals; a / b / c is a / (b * c))."""
    if e.op is Op.MUL:
        n1, d1 = _factors(e.args[0])
        n2, d2 = _factors(e.args[1])
        return n1 + n2, d1 + d2
    if e.op is Op.DIV:
        n1, d1 = _factors(e.args[0])
        return n1, d1 + _mul_factors(e.args[1])
    return [e], []


def _mul_factors(e: Expr) -> list[Expr]:
    if e.op is Op.MUL:
        return _mul_factors(e.args[0]) + _mul_factors(e.args[1])
    return [e]


def _product(head: Expr, nums: list[Expr], dens: list[Expr]) -> Expr:
    out = head
    for f in nums:
        if f != const(1.0):
            out = mul(out, f)
    for f in dens:
        out = div(out, f)
    return out


def _inv_sqrt(nums: list[Expr], dens: list[Expr]) -> list[tuple[int, bool, Expr]]:
    """The factors rsqrt(y) (numerator) and sqrt(y) (denominator): (position, in numerator, y)."""
    out = [(n, True, f.args[0]) for n, f in enumerate(nums) if f.op is Op.RSQRT]
    return out + [(n, False, f.args[0]) for n, f in enumerate(dens) if f.op is Op.SQRT]


def _stat_eps(y: Expr) -> tuple[Expr, Expr] | None:
    """y == stat + eps (either order) with stat a variance or mean of the row and eps free of its index."""
    if y.op is not Op.ADD:
        return None
    for stat, eps in (y.args, y.args[::-1]):
        if stat.op in (Op.VARIANCE, Op.MEAN) and stat.attr not in free_vars(eps):
            return stat, eps
    return None


def _norms(e: Expr, ctx: RowContext) -> Expr | None:
    """(x - mean) * rsqrt(var + eps) * rest -> layer_norm * rest; x * rsqrt(mean(x * x) + eps) * rest ->
    rms_norm * rest (also with / sqrt(...)); the other factors (a weight) in any position."""
    if e.op not in (Op.MUL, Op.DIV):
        return None
    nums, dens = _factors(e)
    for pos, in_num, y in _inv_sqrt(nums, dens):
        parts = _stat_eps(y)
        if parts is None:
            continue
        stat, eps = parts
        lo, hi, v = stat.args
        rest_n = [f for n, f in enumerate(nums) if not (in_num and n == pos)]
        rest_d = [f for n, f in enumerate(dens) if in_num or n != pos]
        for m, num in enumerate(rest_n):
            others = rest_n[:m] + rest_n[m + 1 :]
            if stat.op is Op.VARIANCE and num.op is Op.SUB and num.args[1].op is Op.MEAN:
                at = match_at(v, stat.attr, num.args[0])
                if at is not None and same_row(stat, num.args[1]):
                    ctx.applied.append("layer_norm")
                    head = row(Op.LAYER_NORM, stat.attr, lo, hi, v, at, eps)
                    return _product(head, others, rest_d)
            if stat.op is Op.MEAN:
                x = _square_of(v)
                at = None if x is None else match_at(x, stat.attr, num)
                if at is not None:
                    ctx.applied.append("rms_norm")
                    return _product(row(Op.RMS_NORM, stat.attr, lo, hi, x, at, eps), others, rest_d)
    return None


def _normalize(e: Expr, ctx: RowContext) -> Expr | None:
    """x[j] / maximum(sqrt(sum(x[k] * x[k] for k)), eps) * rest -> normalize(x, eps)[j] * rest."""
    if e.op not in (Op.MUL, Op.DIV):
        return None
    nums, dens = _factors(e)
    for pos, den in enumerate(dens):
        if den.op is not Op.MAXIMUM:
            continue
        for norm, eps in (den.args, den.args[::-1]):
            if norm.op is not Op.SQRT or norm.args[0].op is not Op.SUM:
                continue
            total = norm.args[0]
            lo, hi, sq = total.args
            x = _square_of(sq)
            if x is None or total.attr in free_vars(eps):
                continue
            for m, num in enumerate(nums):
                at = match_at(x, total.attr, num)
                if at is not None:
                    ctx.applied.append("normalize")
                    head = row(Op.NORMALIZE, total.attr, lo, hi, x, at, eps)
                    return _product(head, nums[:m] + nums[m + 1 :], dens[:pos] + dens[pos + 1 :])
    return None


def _std(e: Expr, ctx: RowContext) -> Expr | None:
    if e.op is Op.SQRT and e.args[0].op is Op.VARIANCE:
        v = e.args[0]
        ctx.applied.append("std")
        return row(Op.STD, v.attr, *v.args)
    return None


def _variance_moments(e: Expr, ctx: RowContext) -> Expr | None:
    """mean(x * x) - mean(x) * mean(x) -> variance(x) (the same row)."""
    if e.op is not Op.SUB or e.args[0].op is not Op.MEAN:
        return None
    sq_mean, m = e.args[0], _square_of(e.args[1])
    x = _square_of(sq_mean.args[2])
    if m is None or m.op is not Op.MEAN or x is None:
        return None
    lo, hi = sq_mean.args[:2]
    if same_row(Expr(Op.MEAN, (lo, hi, x), sq_mean.attr, Kind.REAL), m):
        ctx.applied.append("variance_moments")
        return row(Op.VARIANCE, sq_mean.attr, lo, hi, x)
    return None


def _nonneg_row(e: Expr, ctx: RowContext) -> Expr | None:
    """relu(v) and maximum(v, 0.0) are v for a variance or std v (a mean of squares is >= 0)."""
    if e.op is Op.RELU:
        v = e.args[0]
    elif e.op is Op.MAXIMUM and const(0.0) in e.args:
        v = e.args[1] if e.args[0] == const(0.0) else e.args[0]
    else:
        return None
    if v.op in (Op.VARIANCE, Op.STD):
        ctx.applied.append("nonneg_row")
        return v
    return None


def _clamp_order(e: Expr, ctx: RowContext) -> Expr | None:
    """clamp(lo, x, hi) -> clamp(x, lo, hi) (the same value: max commutes) when x reads a tensor and lo
    does not, or both do and x's tensor comes first in the signature: the clamped tensor first."""
    if e.op is Op.CLAMP and _clamp_key(e.args[1], ctx) < _clamp_key(e.args[0], ctx):
        ctx.applied.append("clamp_order")
        return named(Op.CLAMP, e.args[1], e.args[0], e.args[2])
    return None


def _clamp_key(e: Expr, ctx: RowContext) -> tuple[int, int]:
    tensors = [str(n.attr) for n in walk(e) if n.op in (Op.READ, Op.MEM)]
    if not tensors:
        return (1, 0)
    return (0, min(ctx.order.get(t, len(ctx.order)) for t in tensors))


RECOGNISERS: tuple[Callable[[Expr, RowContext], Expr | None], ...] = (
    _logsumexp, _softmax, _log_softmax, _shift, _mean, _variance, _variance_moments, _nonneg_row, _std, _norms,
    _normalize, _clamp_order,
)  # fmt: skip


def recognise_rows(e: Expr, ctx: RowContext) -> Expr:
    """Bottom-up: each node rewritten by the first pattern that applies, repeatedly (a fixpoint per node)."""

    def step(node: Expr) -> Expr | None:
        changed = False
        for _ in range(8):  # each pattern shrinks the term: a handful of rounds reach the fixpoint
            for fn in RECOGNISERS:
                new = fn(node, ctx)
                if new is not None:
                    node, changed = new, True
                    break
            else:
                break
        return node if changed else None

    return transform(e, step)
