"""The simplification stage: a verified Formula in, the same formula in textbook form out (never raises).

Per assignment: IR -> egglog term (translate), saturation within the time and node budget and extraction
of the cheapest term (saturate), back to IR, then the row-level patterns (rows). The result is accepted
only if it agrees with the input on a few random points (a guard against a translation bug; the rules
themselves are proved and tested in tests/test_simplify_rules.py); on any failure or disagreement the
input comes back unchanged, with the reason. An exhausted budget keeps the cheapest term found so far
(every term of the e-graph equals the input).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace
from functools import cache

from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Expr, Kind, Op, free_vars, substitute, walk
from tritonlift.ir.formula import Assign, Formula
from tritonlift.simplify.rows import RowContext, recognise_rows
from tritonlift.simplify.rules import APPROX_BY_NAME, RULES, approx_rule_name
from tritonlift.simplify.saturate import saturate
from tritonlift.simplify.translate import Translation

RULE_ORDER = {r.name: n for n, r in enumerate(RULES)}


@dataclass
class Simplified:
    formula: Formula
    rules: list[str] = field(default_factory=list)  # applied rules, table order; approximations included
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # why an assignment was left as it was


@dataclass
class Budget:
    seconds: float = 1.0  # for the whole formula
    max_nodes: int = 20_000  # e-graph size for one assignment


def simplify_formula(f: Formula, budget: Budget | None = None) -> Simplified:
    """`f` with every assignment's body in its cheapest known equivalent form."""
    budget = budget or Budget()
    start = time.perf_counter()
    out = Simplified(f)
    assigns: list[Assign] = []
    rules: set[str] = set()
    position = {p.name: n for n, p in enumerate(f.params)}
    order = {t.name: position.get(t.base, len(position)) for t in f.tensors}
    for a in f.assigns:
        left = budget.seconds - (time.perf_counter() - start)
        body = a.body
        try:
            extents = dict(zip(a.index, f.tensor(a.target).shape, strict=True))
            body, used = simplify_expr(a.body, extents, left, budget.max_nodes, out.notes, a.target, order)
            rules |= used
        except Exception as e:
            out.notes.append(f"{a.target}: not simplified ({type(e).__name__}: {e})")
            body = a.body
        assigns.append(Assign(a.target, a.index, body))
    out.formula = replace(f, assigns=tuple(assigns))  # every other field as it was
    out.rules = sorted(rules, key=lambda r: (RULE_ORDER.get(r, len(RULE_ORDER)), r))
    out.seconds = time.perf_counter() - start
    return out


class Unsimplified(Exception):
    """The body stays as it is, for the reason given."""


def simplify_expr(
    e: Expr,
    extents: dict[str, Expr],
    seconds: float,
    max_nodes: int,
    notes: list[str] | None = None,
    target: str = "",
    order: dict[str, int] | None = None,
) -> tuple[Expr, set[str]]:
    """The simplified body and the names of the rules used (raises Unsimplified to keep `e`). `order` ranks
    tensors by the position of their parameter in the signature (a tie-breaker for symmetric operands)."""
    if e.kind is not Kind.REAL:
        return e, set()
    if seconds <= 0:
        raise Unsimplified("time budget spent")
    tr = Translation()
    fired: dict[str, int] = {}
    best = e
    if may_rewrite(e):
        term = tr.to_term(e)
        sat = saturate(term, list(tr.nodes.values()), seconds, max_nodes)
        if sat.stopped in ("time", "nodes") and notes is not None:  # what was found so far is kept: sound
            notes.append(f"{target}: budget spent ({sat.stopped}) after {sat.iterations} iterations")
        best, fired = tr.to_expr(sat.term), sat.fired
    ctx = RowContext(extents, order=order or {})
    best = recognise_rows(best, ctx)
    if best == e:
        return e, set()
    if not agrees(e, best):
        raise Unsimplified("the simplified form disagrees with the input on a random point")
    used = set(fired) | set(ctx.applied)
    consts = {n.value for n in walk(best) if n.op is Op.CONST and n.kind is Kind.REAL}
    for value, name in tr.approx.items():
        c = APPROX_BY_NAME[name]
        if not c.exact(value) and value not in consts:  # consumed by a rule: the named value replaced it
            used.add(approx_rule_name(c))
    return best, used


# rules that only reorder or respell (commutativity, associativity, powers as products): alone they never
# make a term cheaper, they only line a term up for the other rules
ENABLING = frozenset({"add_comm", "mul_comm", "max_comm", "min_comm", "mul_assoc", "square", "cube"})
FACTORING = frozenset({"factor", "factor_one"})  # a*b + a*c: need a shared factor, checked on the term


def _ops(e: Expr) -> frozenset[Op]:
    return frozenset(n.op for n in walk(e) if n.op not in (Op.VAR, Op.CONST))


@cache
def _rule_ops() -> tuple[tuple[str, frozenset[Op], frozenset[Op]], ...]:
    return tuple((r.name, _ops(r.lhs_expr), _ops(r.rhs_expr)) for r in RULES if r.engine == "egglog")


def may_rewrite(e: Expr) -> bool:
    """False when no rule can make `e` cheaper, so saturation is skipped (it would return `e`): a necessary
    condition for a rule to fire is that every op of its left side occurs in `e` or in the right side of a
    rule that can fire itself (a closure over op sets); factoring needs a sum of two products with a
    common factor in `e` itself (no rule reassociates sums)."""
    have = set(_ops(e))
    rules = _rule_ops()
    changed = True
    while changed:
        changed = False
        for _name, lhs, rhs in rules:
            if lhs <= have and not rhs <= have:
                have |= rhs
                changed = True
    if any(lhs <= have for name, lhs, _ in rules if name not in ENABLING | FACTORING):
        return True
    return any(_shares_a_factor(n) for n in walk(e) if n.op is Op.ADD)


def _factors_of(e: Expr) -> list[Expr]:
    if e.op is Op.MUL:
        return _factors_of(e.args[0]) + _factors_of(e.args[1])
    return [e]


def _shares_a_factor(e: Expr) -> bool:
    """a*b + a*c or a + a*c (either order, factors in any order)."""
    left, right = (set(_factors_of(x)) for x in e.args)
    return bool(left & right)


@cache
def warm_up() -> None:
    """Import egglog, declare the rules and import the printers once in this process (about 1-2 s), so that
    the first formula's `seconds.simplification` measures that formula only (pipeline.lift_module_file calls
    it before its clock starts; later calls cost nothing)."""
    import tritonlift.ir.latex
    import tritonlift.ir.tensor_form
    import tritonlift.ir.torch_printer  # noqa: F401 (the printers that render the result: imported once)
    from tritonlift.ir.expr import read, var
    from tritonlift.ir.parse import parse_expr

    x = parse_expr("a / (1.0 + exp(-a))", {"a": Kind.REAL})
    simplify_expr(substitute(x, {var("a", Kind.REAL): read("x", var("i"))}), {"i": var("n")}, 5.0, 1000)


def agrees(a: Expr, b: Expr, points: int = 3, seed: int = 0) -> bool:
    """a and b evaluate alike (or both to nan/inf) at a few random points: tensors and reals in [-3, 3],
    ints in [1, 6]. A guard, not a proof: the rules are proved and tested on their own."""
    rng = random.Random(seed)
    names = free_vars(a) | free_vars(b)
    kinds = {n.attr: n.kind for x in (a, b) for n in walk(x) if n.op is Op.VAR}
    for _ in range(points):
        values = {n: (rng.uniform(-3, 3) if kinds.get(n) is Kind.REAL else rng.randint(1, 6)) for n in names}
        cache: dict[tuple[str, tuple[int, ...]], float] = {}

        def read(t: str, idx: tuple[int, ...], cache=cache) -> float:
            return cache.setdefault((t, idx), rng.uniform(-3, 3))

        env = Env(vars=values, read=read, mem=lambda p, o: read(p, (o,)), undef=lambda tag: 0.0)
        try:
            x, y = float(evaluate(a, env)), float(evaluate(b, env))
        except (ValueError, ZeroDivisionError, OverflowError, RecursionError):
            continue
        if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
            continue
        if not math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9):
            return False
    return True


__all__ = ["Budget", "Simplified", "simplify_formula", "warm_up"]
