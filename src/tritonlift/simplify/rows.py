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
    free_vars,
    row,
    sub,
    substitute,
    to_real,
    transform,
    var,
)


@dataclass
class RowContext:
    """The assignment around the term: index variable -> extent (each index runs over 0..extent)."""

    extents: dict[str, Expr] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)


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
    if e.op is Op.MUL and e.args[0] == e.args[1]:
        return e.args[0]
    if e.op is Op.POW and e.args[1] == const(2.0):
        return e.args[0]
    return None


def _inv_sqrt_factor(e: Expr) -> tuple[Expr, Expr] | None:
    """e == num * rsqrt(y) or num / sqrt(y): (num, y)."""
    if e.op is Op.MUL and e.args[1].op is Op.RSQRT:
        return e.args[0], e.args[1].args[0]
    if e.op is Op.MUL and e.args[0].op is Op.RSQRT:
        return e.args[1], e.args[0].args[0]
    if e.op is Op.DIV and e.args[1].op is Op.SQRT:
        return e.args[0], e.args[1].args[0]
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
                and parts[1] == m
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


def _norms(e: Expr, ctx: RowContext) -> Expr | None:
    parts = _inv_sqrt_factor(e)
    if parts is None or parts[1].op is not Op.ADD:
        return None
    num, (stat, eps) = parts[0], parts[1].args
    if stat.op not in (Op.VARIANCE, Op.MEAN):
        stat, eps = eps, stat
    if stat.op not in (Op.VARIANCE, Op.MEAN) or stat.attr in free_vars(eps):
        return None
    lo, hi, v = stat.args
    if stat.op is Op.VARIANCE and num.op is Op.SUB and num.args[1].op is Op.MEAN:
        mean = num.args[1]
        at = match_at(v, stat.attr, num.args[0])
        if at is not None and same_row(stat, mean):
            ctx.applied.append("layer_norm")
            return row(Op.LAYER_NORM, stat.attr, lo, hi, v, at, eps)
    if stat.op is Op.MEAN:
        x = _square_of(v)
        at = None if x is None else match_at(x, stat.attr, num)
        if at is not None:
            ctx.applied.append("rms_norm")
            return row(Op.RMS_NORM, stat.attr, lo, hi, x, at, eps)
    return None


RECOGNISERS: tuple[Callable[[Expr, RowContext], Expr | None], ...] = (
    _logsumexp, _softmax, _log_softmax, _shift, _mean, _variance, _norms,
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
