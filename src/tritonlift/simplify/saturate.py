"""Compile the rule table to egglog, saturate within a time and node budget, extract the cheapest term."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from egglog import (
    EGraph,
    Ruleset,
    String,
    back_off,
    eq,
    get_callable_args,
    get_callable_fn,
    rule,
    ruleset,
    set_cost,
    union,
)
from egglog import f64 as F64
from egglog import run as egg_run
from egglog import var as egg_var

from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.simplify import terms as t
from tritonlift.simplify.rules import APPROX_BY_VAR, Rule, egglog_rules
from tritonlift.simplify.translate import EGG_OPS, EGG_REDUCE

Term = t.Term
# a rule with more matches than this in one iteration sits that iteration out (egglog's back-off
# scheduler): associativity and commutativity over long products otherwise grow the e-graph factorially
MATCH_LIMIT = 5_000
FIRST_CHUNK = 4  # iterations in the first egglog run (small terms saturate within it)
NEXT_CHUNK = 2  # iterations per later run, between budget checks


# ---------------------------------------------------------------------------------------------
# rule sides as egglog patterns


def pattern_term(e: Expr) -> Term:
    """An IR rule side as an egglog pattern: single-letter variables and C_* constants become egglog vars."""
    if e.op is Op.VAR and e.kind is Kind.REAL:
        c = APPROX_BY_VAR.get(e.attr)
        if c is not None:
            return Term.approx(c.name, egg_var(f"v_{e.attr}", F64))
        return egg_var(e.attr, Term)
    if e.op is Op.CONST and e.kind is Kind.REAL:
        return Term.num(e.value)
    if e.op in EGG_OPS and e.op not in EGG_REDUCE:
        return EGG_OPS[e.op](*(pattern_term(a) for a in e.args))
    raise ValueError(f"no egglog pattern for {e.op.name} in a rule")


def _condition(c: Expr) -> object:
    """`t > 0.0` is pos(t), `t >= 0.0` is nonneg(t): the facts the `facts` ruleset derives."""
    if c.op in (Op.GT, Op.GE) and c.args[1] == Expr(Op.CONST, (), 0.0, Kind.REAL):
        rel = t.pos if c.op is Op.GT else t.nonneg
        return rel(pattern_term(c.args[0]))
    raise ValueError(f"unsupported side condition {c}")


def compile_rule(r: Rule) -> object:
    root = egg_var("root", Term)
    lhs, rhs = pattern_term(r.lhs_expr), pattern_term(r.rhs_expr)
    conds = [_condition(c) for c in r.conditions]
    return rule(eq(root).to(lhs), *conds, name=r.name).then(union(root).with_(rhs))


def _fact_rules() -> list[object]:
    """Sign facts for side conditions: exp, sigmoid and positive constants are > 0, and so on up."""
    a, b, v = egg_var("a", Term), egg_var("b", Term), egg_var("v", Term)
    c = egg_var("c", F64)
    k, lo, hi = egg_var("k", String), egg_var("lo", Term), egg_var("hi", Term)
    pos, nonneg = t.pos, t.nonneg
    out: list[object] = [
        rule(eq(v).to(t.exp(a)), name="fact_exp_pos").then(pos(v)),
        rule(eq(v).to(t.exp2(a)), name="fact_exp2_pos").then(pos(v)),
        rule(eq(v).to(t.sigmoid(a)), name="fact_sigmoid_pos").then(pos(v)),
        rule(eq(v).to(Term.num(c)), c > F64(0.0), name="fact_num_pos").then(pos(v)),
        rule(eq(v).to(Term.num(c)), c >= F64(0.0), name="fact_num_nonneg").then(nonneg(v)),
        rule(pos(a), name="fact_pos_nonneg").then(nonneg(a)),
        rule(eq(v).to(a + b), pos(a), nonneg(b), name="fact_add_pos").then(pos(v)),
        rule(eq(v).to(a + b), nonneg(a), pos(b), name="fact_add_pos2").then(pos(v)),
        rule(eq(v).to(a + b), nonneg(a), nonneg(b), name="fact_add_nonneg").then(nonneg(v)),
        rule(eq(v).to(a * b), pos(a), pos(b), name="fact_mul_pos").then(pos(v)),
        rule(eq(v).to(a * b), nonneg(a), nonneg(b), name="fact_mul_nonneg").then(nonneg(v)),
        rule(eq(v).to(a * a), name="fact_square_nonneg").then(nonneg(v)),
        rule(eq(v).to(a / b), pos(a), pos(b), name="fact_div_pos").then(pos(v)),
        rule(eq(v).to(t.sqrt(a)), pos(a), name="fact_sqrt_pos").then(pos(v)),
        rule(eq(v).to(t.sqrt(a)), name="fact_sqrt_nonneg").then(nonneg(v)),
        rule(eq(v).to(a / b), nonneg(a), pos(b), name="fact_div_nonneg").then(nonneg(v)),
        rule(eq(v).to(t.rsum(k, lo, hi, a)), nonneg(a), name="fact_sum_nonneg").then(nonneg(v)),
        rule(eq(v).to(t.rmax(k, lo, hi, a)), nonneg(a), name="fact_max_nonneg").then(nonneg(v)),
        rule(eq(v).to(t.maximum(a, b)), nonneg(a), name="fact_maximum_nonneg").then(nonneg(v)),
        rule(eq(v).to(t.maximum(a, b)), pos(a), name="fact_maximum_pos").then(pos(v)),
    ]
    return out


@cache
def rulesets() -> Ruleset:
    """The facts and every egglog rule of the table, as one ruleset (compiled once per process)."""
    return ruleset(*_fact_rules(), *(compile_rule(r) for r in egglog_rules()))


# ---------------------------------------------------------------------------------------------
# running


@dataclass
class Saturation:
    term: Term  # the cheapest equivalent term
    cost: int
    input_cost: int
    fired: dict[str, int]  # rule name -> matches
    iterations: int
    nodes: int
    stopped: str  # "saturated" | "time" | "nodes" | "iterations"


def node_cost(term: Term) -> int:
    fn = str(get_callable_fn(term))
    if fn in ("Term.leaf", "Term.num"):
        return t.LEAF
    if fn == "Term.approx":
        return t.HEAVY
    if fn in ("silu", "gelu", "gelu_tanh", "relu", "leaky_relu", "clamp", "softplus"):
        return t.NAMED
    return t.BASE


def tree_cost(term: Term) -> int:
    return node_cost(term) + sum(tree_cost(a) for a in get_callable_args(term) if isinstance(a, Term))


def saturate(
    term: Term, subterms: list[Term], seconds: float, max_nodes: int, max_iterations: int = 30
) -> Saturation:
    """Rewrite `term` until saturation or the budget ends; extract the cheapest term.

    Every node of the input costs one unit less than the same node built by a rule, so that among terms
    of equal size the input's own spelling (operand order, grouping) wins.
    """
    start = time.perf_counter()
    eg = _engine()
    eg.push()
    try:
        return _saturate(eg, term, subterms, start, seconds, max_nodes, max_iterations)
    finally:
        eg.pop()


@cache
def _engine() -> EGraph:
    """One e-graph per process with the rules declared once (declaring them costs ~30 ms); every
    simplification runs between push() and pop(), so no state leaks from one formula to the next."""
    eg = EGraph()
    eg.run(1, ruleset=rulesets())
    return eg


def _saturate(
    eg: EGraph,
    term: Term,
    subterms: list[Term],
    start: float,
    seconds: float,
    max_nodes: int,
    max_iterations: int,
) -> Saturation:
    root = eg.let("root", term)
    for sub in subterms:
        eg.register(set_cost(sub, node_cost(sub) - 1))
    input_cost = _input_cost(term)
    fired: dict[str, int] = {}
    stopped, iterations, nodes = "iterations", 0, 0
    schedule = egg_run(rulesets(), scheduler=back_off(match_limit=MATCH_LIMIT))
    last_seconds, growth, chunk = 0.0, 1.0, FIRST_CHUNK
    while iterations < max_iterations:
        # one egglog run cannot be interrupted: stop before a run that would overrun the budget, predicting
        # it from the last one (work grows about as fast as the e-graph, or faster)
        if time.perf_counter() - start + last_seconds * growth * growth > seconds:
            stopped = "time"
            break
        if nodes * growth > max_nodes:
            stopped = "nodes"
            break
        began = time.perf_counter()
        # several iterations per call: each call into egglog has a fixed cost that small terms feel most
        report = eg.run(schedule * min(chunk, max_iterations - iterations))
        iterations += min(chunk, max_iterations - iterations)
        last_seconds = time.perf_counter() - began
        for decl, n in report.num_matches_per_rule.items():
            name = getattr(decl, "name", None) or str(decl)
            if n and not name.startswith("fact_"):
                fired[name] = fired.get(name, 0) + n
        before, nodes = nodes, sum(size for _, size in eg.all_function_sizes())
        growth = max(1.0, nodes / before) if before else 1.0
        chunk = NEXT_CHUNK
        if not report.updated:
            stopped = "saturated"
            break
    best, cost = eg.extract(root, include_cost=True)
    return Saturation(best, int(cost), input_cost, fired, iterations, nodes, stopped)


def _input_cost(term: Term) -> int:
    """The tree cost of the input itself, whose nodes are one unit cheaper (see `saturate`)."""
    return node_cost(term) - 1 + sum(_input_cost(a) for a in get_callable_args(term) if isinstance(a, Term))
