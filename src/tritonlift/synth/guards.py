"""Drop `where` guards that the output domain decides (e.g. `where(i < n, x[i], 0)` for i < n)."""

from __future__ import annotations

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import divide_mono, norm, poly, unpoly
from tritonlift.ir.reductions import canon, rename_bound
from tritonlift.verify.z3_backend import Z3Ctx

# decisions by (guard, facts, timeout): the same guards come back in every round of a fixpoint and on every host
# path that shares the facts (a store's value settled again after composing launches)
_DECIDED: dict[tuple, bool | None] = {}
_DECIDED_MAX = 20000


def simplify_guards(body: Expr, facts: list[Expr], timeout_ms: int = 2000) -> Expr:
    """Replace where(c, a, b) by a (or b) when the facts imply c (or not c). Sound: z3 decides each."""
    facts_key = tuple(facts)
    known = {str(n.attr) for f in facts for n in ir.walk(f) if n.op is Op.VAR and n.kind is Kind.BOOL}

    def decide(c: Expr) -> bool | None:
        key = (c, facts_key, timeout_ms)
        if key in _DECIDED:
            return _DECIDED[key]
        if len(_DECIDED) >= _DECIDED_MAX:
            _DECIDED.clear()
        if any(n.op in (Op.READ, Op.MEM, Op.UNDEF) or n.kind is Kind.REAL for n in ir.walk(c)) or (
            c.op is Op.VAR and c.kind is Kind.BOOL and str(c.attr) not in known
        ):  # a memory value, or a flag no fact mentions: not decided by the facts
            _DECIDED[key] = None
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
        _DECIDED[key] = out
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


_DIVMOD = (Op.TRUNCDIV, Op.TRUNCMOD, Op.FLOORDIV, Op.MOD)


def prove(hyps: list[Expr], goal: Expr, timeout_ms: int, rlimit: int = 5_000_000) -> bool:
    """z3 proves hyps => goal (integers exact). The resource limit, not the clock, bounds the search, so the
    answer does not depend on the machine's load (the side conditions that hold took under 1.5M here);
    the wall-clock timeout is a backstop."""
    cx = Z3Ctx({})
    s = z3.Solver()
    s.set(timeout=max(timeout_ms, 10_000))
    s.set("rlimit", rlimit)
    for h in hyps:
        s.add(cx(h))
    s.add(z3.Not(cx(goal)))
    return s.check() == z3.unsat


def simplify_divmod(e: Expr, facts: list[Expr], timeout_ms: int = 2000, skip: frozenset[Expr] = frozenset()) -> Expr:
    """X div D -> Q and X mod D -> R where X = Q * D + R (monomials) and z3 proves D >= 1, 0 <= R < D
    (and X >= 0 for C-style division) from the facts. Nodes in `skip` are left alone (no proof tried);
    integer sums are kept in normal form."""
    cache: dict[Expr, Expr | None] = {}

    def step(n: Expr) -> Expr | None:
        if n.kind is not Kind.INT:
            return None
        if n.op in (Op.ADD, Op.SUB, Op.MUL, Op.NEG):
            return norm(n)
        if n.op not in _DIVMOD or n in skip:
            return None
        if n not in cache:
            cache[n] = _divmod(n, facts, timeout_ms)
        return cache[n]

    return ir.transform(e, step)


def _divmod(n: Expr, facts: list[Expr], timeout_ms: int) -> Expr | None:
    x, d = n.args
    pd = poly(d)
    if len(pd) != 1:
        return None
    ((dm, dc),) = pd.items()
    q: dict = {}
    r: dict = {}
    for m, c in poly(x).items():
        rest = divide_mono(m, dm)
        if rest is not None and c % dc == 0:
            q[rest] = q.get(rest, 0) + c // dc
        else:
            r[m] = c
    qe, re_ = unpoly(q), unpoly(r)
    conds = [ir.le(ir.ONE, d), ir.le(ir.ZERO, re_), ir.lt(re_, d)]
    if n.op in (Op.TRUNCDIV, Op.TRUNCMOD):
        conds.append(ir.le(ir.ZERO, x))
    if not prove(facts, ir.and_(*conds), timeout_ms):
        return None
    return qe if n.op in (Op.TRUNCDIV, Op.FLOORDIV) else re_


def finish_body(body: Expr, facts: list[Expr], taken: set[str]) -> Expr:
    """A derived body in its final form: reductions canonical (ir.reductions), guards and bounds the facts
    decide dropped, bound variables renamed k, l, ... (avoiding `taken`)."""
    body = canon(simplify_guards(canon(body), facts))
    # `(pid * B + arange) % M` read where the output index i = pid * B + lane is < M: i % M = i
    index_vars = {str(f.args[1].attr) for f in facts if f.op is Op.LE and f.args[0] == ir.ZERO and f.args[1].op is Op.VAR}
    skip = frozenset(n for n in ir.walk(body) if n.op in _DIVMOD and not any(
        m.op is Op.VAR and m.attr in index_vars for m in ir.walk(n)))
    body = simplify_divmod(body, facts, 1000, skip)
    return rename_bound(body, taken)


def domain_facts(index: tuple[str, ...], shape: tuple[Expr, ...]) -> list[Expr]:
    out: list[Expr] = []
    for name, ext in zip(index, shape, strict=True):
        v = ir.var(name)
        out += [ir.le(ir.ZERO, v), ir.lt(v, ext)]
    return out
