"""Every rewrite rule: both sides agree on random inputs (IR evaluator) and, where z3 can, z3 proves them.

Pattern variables take random reals in [-3, 3] (seeded; the seed is in the test id); C_* constants take
their named values exactly (the float32-precision matching is tested on its own below). Rows are checked
on random rows of every length 1..5.
"""

from __future__ import annotations

import math
import random

import pytest
import z3

from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Expr, Kind, Op, const, free_vars, substitute, var, walk
from tritonlift.simplify import docs
from tritonlift.simplify.engine import simplify_expr
from tritonlift.simplify.rows import RowContext, recognise_rows
from tritonlift.simplify.rules import APPROX_BY_VAR, APPROX_CONSTANTS, RULES, egglog_rules
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

SEED = 20240604
EGG = egglog_rules()
ROWS = tuple(r for r in RULES if r.engine == "rows")
# rules z3 cannot prove with the backend's ground axioms, and why (the numeric test still runs)
Z3_CANNOT = {
    "log_exp": "no axiom makes exp injective (log(exp(a)) = a)",
    "exp_add": "the backend has no exp(a + b) = exp(a) * exp(b) axiom",
    "exp_sub": "the backend has no exp(a - b) = exp(a) / exp(b) axiom",
    "exp_recip": "the backend has no exp(-a) = 1 / exp(a) axiom",
    "log_mul": "the backend has no log(a * b) = log(a) + log(b) axiom",
    "log_div": "the backend has no log(a / b) = log(a) - log(b) axiom",
    "sigmoid_exp": "the backend has no exp(a) * exp(-a) = 1 axiom",
    "sqrt_pow": "pow with a fractional exponent is uninterpreted to the backend",
    "rsqrt_pow": "pow with a fractional exponent is uninterpreted to the backend",
    "gelu_erf_div": "float64 sqrt(2) and 1/sqrt(2) are not exact reciprocals (the reals they name are)",
    "exp2_log2e": "exp2 and exp are unrelated functions to the backend (and log2(e) is irrational)",
    "log2_ln2": "log2 and log are unrelated functions to the backend (and ln(2) is irrational)",
}
# conditions a z3 proof adds to a rule's own: where both sides divide by zero, z3's division by zero is an
# unspecified value per dividend, so a * (1 / 0) and a / 0 need not agree there (both are undefined)
Z3_ASSUME = {"rsqrt_mul": "b > 0.0"}


def _exact(e: Expr) -> Expr:
    """The rule side with its C_* constants at their named values."""
    return substitute(e, {var(c.var, Kind.REAL): const(c.value) for c in APPROX_CONSTANTS})


def _holds(rule_conds: tuple[Expr, ...], env: Env) -> bool:
    return all(evaluate(c, env) for c in rule_conds)


def _agree(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("rule", EGG, ids=[f"{r.name}-seed{SEED}" for r in EGG])
def test_rule_agrees_on_random_inputs(rule):
    lhs, rhs = _exact(rule.lhs_expr), _exact(rule.rhs_expr)
    names = sorted(free_vars(lhs) | free_vars(rhs))
    rng = random.Random(f"{SEED}:{rule.name}")
    checked = 0
    for _ in range(400):
        env = Env(vars={n: rng.uniform(-3, 3) for n in names})
        if not _holds(rule.conditions, env):
            continue
        x, y = evaluate(lhs, env), evaluate(rhs, env)
        assert _agree(x, y), f"{rule.name}: {x} != {y} at {env.vars}"
        checked += 1
    assert checked >= 50, f"{rule.name}: only {checked} samples met the conditions"


@pytest.mark.parametrize("rule", EGG, ids=[r.name for r in EGG])
def test_rule_proved_by_z3(rule):
    if rule.name in Z3_CANNOT:
        pytest.skip(Z3_CANNOT[rule.name])
    lhs, rhs = _exact(rule.lhs_expr), _exact(rule.rhs_expr)
    cx = Z3Ctx({})
    left, right = cx(lhs), cx(rhs)
    hyps = [cx(c) for c in rule.conditions]
    if rule.name in Z3_ASSUME:
        from tritonlift.simplify.rules import pattern

        hyps.append(cx(pattern(Z3_ASSUME[rule.name])))
    s = z3.Solver()
    s.set("timeout", 10_000)
    s.add(*math_axioms(cx), *hyps, left != right)
    assert s.check() == z3.unsat, f"{rule.name}: z3 did not prove it"


def test_z3_exceptions_name_existing_rules():
    names = {r.name for r in RULES}
    assert set(Z3_CANNOT) <= names and set(Z3_ASSUME) <= names


@pytest.mark.parametrize("c", APPROX_CONSTANTS, ids=[c.name for c in APPROX_CONSTANTS])
def test_approx_constants_match_float32_spellings_only(c):
    import numpy as np

    assert c.matches(c.value)
    assert c.matches(float(np.float32(c.value)))  # the value as float32 kernels spell it
    assert not c.matches(c.value * (1 + 1e-6))  # not a looser approximation
    assert APPROX_BY_VAR[c.var] is c


def test_flaggems_constants_are_recognised():
    assert APPROX_BY_VAR["C_INV_SQRT2"].matches(0.7071067811)
    assert APPROX_BY_VAR["C_SQRT_2_OVER_PI"].matches(0.79788456)


NAMED_RESULTS = [
    r
    for r in EGG
    if r.rhs_expr.op
    in (Op.SILU, Op.GELU, Op.GELU_TANH, Op.RELU, Op.LEAKY_RELU, Op.CLAMP, Op.SOFTPLUS, Op.SIGMOID, Op.TANH)
]


@pytest.mark.parametrize("rule", NAMED_RESULTS, ids=[r.name for r in NAMED_RESULTS])
def test_engine_applies_rule(rule):
    """Instantiated with tensor reads (and FlagGems' float32 constants), the lhs simplifies to the rhs."""
    sub = {var(n, Kind.REAL): Expr(Op.READ, (var("i"),), f"t{n}", Kind.REAL) for n in "abcds"}
    consts = {var(c.var, Kind.REAL): const(float(_f32(c.value))) for c in APPROX_CONSTANTS}
    lhs = substitute(rule.lhs_expr, sub | consts)
    got, used = simplify_expr(lhs, {"i": var("n")}, 5.0, 20_000)
    assert got == substitute(rule.rhs_expr, sub), f"{rule.name}: {got}"
    assert rule.name in used


def _f32(v: float) -> float:
    import numpy as np

    return float(np.float32(v))


# --- row rules -------------------------------------------------------------------------------


def _row_env(rng: random.Random, n: int) -> Env:
    table = {(r, k): rng.uniform(-3, 3) for r in range(3) for k in range(n)}
    return Env(
        vars={"i": 1, "j": rng.randrange(n), "n": n, "a": rng.uniform(0.1, 2), "b": rng.uniform(-3, 3)},
        read=lambda t, idx: table[idx],
    )


@pytest.mark.parametrize("rule", ROWS, ids=[f"{r.name}-seed{SEED}" for r in ROWS])
def test_row_rule_agrees_on_random_rows(rule):
    rng = random.Random(f"{SEED}:{rule.name}")
    lhs, rhs = rule.lhs_expr, rule.rhs_expr
    for n in range(1, 6):
        for _ in range(20):
            env = _row_env(rng, n)
            x, y = evaluate(lhs, env), evaluate(rhs, env)
            assert _agree(x, y), f"{rule.name}: {x} != {y} for n={n}"


def _max_shift(text: str) -> Expr:
    """The numerically stable spelling: the shift `a` is the row's own maximum."""
    from tritonlift.simplify.rules import pattern

    return substitute(pattern(text), {var("a", Kind.REAL): pattern("max(x[i, k_1] for k_1 in range(n))")})


@pytest.mark.parametrize("rule", ROWS, ids=[r.name for r in ROWS])
def test_recogniser_rewrites_lhs_into_rhs(rule):
    lhs = rule.lhs_expr
    if rule.name.endswith("_shift") and rule.name != "logsumexp_shift":
        lhs = rule.lhs_expr  # `at` = j runs over 0..n: the non-empty-row condition holds
    if rule.name == "logsumexp_shift":
        lhs = _max_shift(rule.lhs)
    ctx = RowContext({"i": var("m"), "j": var("n")})
    got = recognise_rows(lhs, ctx)
    assert got == rule.rhs_expr, f"{rule.name}: {got}"
    assert rule.name in ctx.applied


def test_shift_needs_a_nonempty_row():
    from tritonlift.simplify.rules import pattern

    e = pattern("softmax(x[i, k] - a for k in range(n))[j]")
    assert recognise_rows(e, RowContext({"j": var("p")})) == e  # j's extent is not the row: unknown
    assert recognise_rows(e, RowContext({"j": var("n")})) != e


def test_rows_agree_on_every_row_op():
    """The rows' right sides use every row op, and every row op has a rule producing it."""
    from tritonlift.ir.expr import ROW_OPS

    made = {n.op for r in ROWS for n in walk(r.rhs_expr)}
    assert made >= ROW_OPS


def test_rules_are_not_folded_away():
    """A rule side the smart constructors fold (e.g. `a * 1.0` is `a`) would be a different rule."""
    for r in RULES:
        assert any(n.op is not Op.VAR for n in walk(r.lhs_expr)), r.name


def test_docs_page_is_up_to_date():
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert page.read_text() == docs.rules_markdown(), "run `python -m tritonlift.simplify.docs`"
