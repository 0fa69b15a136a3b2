"""The rewrite rules, as data: one per line, `lhs -> rhs` in the IR's text syntax, side conditions explicit.

Pattern variables are the single lower-case names (`a`, `b`, `c`, `s`); they stand for real-valued terms.
`C_*` names are numeric constants recognised to float32 precision (see APPROX_CONSTANTS). Each rule is
sound over the reals under its `when` conditions; tests/test_simplify_rules.py checks every rule on random
inputs with the concrete evaluator and proves it with z3 where z3 can. `docs/rules.md` is generated from
this table (`python -m tritonlift.simplify.docs`).

Rules of engine "egglog" are compiled to egglog rewrites (simplify.saturate); rules of engine "rows" are
the row-level patterns (softmax, layer_norm, ...) that need substitution and free-variable checks, which
simplify.rows implements in Python and which this table documents and tests the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from tritonlift.ir.expr import Expr, Kind, free_vars
from tritonlift.ir.named import GELU_TANH_CUBIC, INV_SQRT2, SQRT_2_OVER_PI
from tritonlift.ir.parse import parse_expr

# float32's unit roundoff: a constant within this relative distance of a named value is that value
# written to float32 precision (0.7071067811 for 1/sqrt(2), 0.79788456 for sqrt(2/pi))
F32_RTOL = 2.0**-24


@dataclass(frozen=True)
class ApproxConstant:
    """A named real constant that kernels write to float32 precision (or better)."""

    var: str  # the pattern variable standing for it in rules
    name: str
    value: float  # the value the named operators' definitions use (float64, as PyTorch)
    doc: str
    # True when a named operator's definition uses exactly `value` (gelu's 1/sqrt(2)): a kernel that writes
    # `value` itself is then exactly that operator. False when the rules need the irrational number itself
    # (exp2(x * log2(e)) = exp(x)), which no float is: consuming it is always an approximation.
    in_definition: bool = True

    def exact(self, v: float) -> bool:
        """A kernel's constant v, consumed by a rule, gives exactly the rule's right side."""
        return self.in_definition and v == self.value

    def matches(self, v: float) -> bool:
        return math.isfinite(v) and abs(v - self.value) <= F32_RTOL * abs(self.value)


APPROX_CONSTANTS: tuple[ApproxConstant, ...] = (
    ApproxConstant("C_INV_SQRT2", "inv_sqrt2", INV_SQRT2, "1/sqrt(2), e.g. FlagGems' 0.7071067811"),
    ApproxConstant("C_SQRT_2_OVER_PI", "sqrt_2_over_pi", SQRT_2_OVER_PI, "sqrt(2/pi), e.g. 0.79788456"),
    ApproxConstant("C_GELU_CUBIC", "gelu_cubic", GELU_TANH_CUBIC, "the tanh-GELU's 0.044715"),
    ApproxConstant(
        "C_SQRT2", "sqrt2", math.sqrt(2.0), "sqrt(2), e.g. 1.4142135623730951 (erf(x / sqrt(2)))", False
    ),
    ApproxConstant(
        "C_LOG2E", "log2e", math.log2(math.e), "log2(e), e.g. 1.4426950408889634 (exp via exp2)", False
    ),
    ApproxConstant("C_LN2", "ln2", math.log(2.0), "ln(2), e.g. 0.6931471805599453 (log via log2)", False),
)
APPROX_BY_VAR = {c.var: c for c in APPROX_CONSTANTS}
APPROX_BY_NAME = {c.name: c for c in APPROX_CONSTANTS}


def approx_rule_name(c: ApproxConstant) -> str:
    return f"approx_{c.name}"


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    lhs: str
    rhs: str
    when: tuple[str, ...] = ()  # conditions on pattern variables: `t > 0.0` or `t >= 0.0`
    engine: str = "egglog"  # "egglog" | "rows"
    doc: str = ""

    @property
    def lhs_expr(self) -> Expr:
        return pattern(self.lhs)

    @property
    def rhs_expr(self) -> Expr:
        return pattern(self.rhs)

    @property
    def conditions(self) -> tuple[Expr, ...]:
        return tuple(pattern(c) for c in self.when)

    @property
    def constants(self) -> tuple[ApproxConstant, ...]:
        names = free_vars(self.lhs_expr)
        return tuple(c for c in APPROX_CONSTANTS if c.var in names)


@cache
def pattern(text: str) -> Expr:
    """A rule side as an IR Expr: pattern variables and C_* constants are real variables."""
    return parse_expr(text, PATTERN_KINDS)


PATTERN_VARS = ("a", "b", "c", "d", "s")  # real-valued pattern variables; i, j, k, n are indices and sizes
PATTERN_KINDS: dict[str, Kind] = {name: Kind.REAL for name in PATTERN_VARS} | {
    c.var: Kind.REAL for c in APPROX_CONSTANTS
}


R = Rule
RULES: tuple[Rule, ...] = (
    # --- activations: textbook names for their usual spellings
    R("sigmoid_long", "activations", "1.0 / (1.0 + exp(-a))", "sigmoid(a)"),
    R("sigmoid_exp", "activations", "exp(a) / (1.0 + exp(a))", "sigmoid(a)", doc="e^a / (1 + e^a)"),
    R("silu_div", "activations", "a / (1.0 + exp(-a))", "silu(a)"),
    R("silu_mul", "activations", "a * sigmoid(a)", "silu(a)"),
    R("tanh_sigmoid", "activations", "2.0 * sigmoid(2.0 * a) - 1.0", "tanh(a)"),
    R("gelu_erf", "activations", "0.5 * a * (1.0 + erf(a * C_INV_SQRT2))", "gelu(a)"),
    R(
        "gelu_erf_div",
        "activations",
        "0.5 * a * (1.0 + erf(a / C_SQRT2))",
        "gelu(a)",
        doc="x / sqrt(2) = x * (1/sqrt(2)) over the reals; their float64 values differ in the last bit",
    ),
    R(
        "gelu_tanh",
        "activations",
        "0.5 * a * (1.0 + tanh(C_SQRT_2_OVER_PI * (a + C_GELU_CUBIC * a * a * a)))",
        "gelu_tanh(a)",
    ),
    R(
        "gelu_tanh_factored",
        "activations",
        "0.5 * a * (1.0 + tanh(a * C_SQRT_2_OVER_PI * (1.0 + C_GELU_CUBIC * a * a)))",
        "gelu_tanh(a)",
    ),
    R("relu_where", "activations", "where(a > 0.0, a, 0.0)", "relu(a)"),
    R("relu_where_ge", "activations", "where(a >= 0.0, a, 0.0)", "relu(a)"),
    R("relu_maximum", "activations", "maximum(a, 0.0)", "relu(a)"),
    R("relu_maximum_left", "activations", "maximum(0.0, a)", "relu(a)"),
    R("leaky_relu_where", "activations", "where(a > 0.0, a, a * s)", "leaky_relu(a, s)"),
    R("leaky_relu_where_ge", "activations", "where(a >= 0.0, a, a * s)", "leaky_relu(a, s)"),
    R(
        "leaky_relu_maxmin",
        "activations",
        "maximum(a, 0.0) + s * minimum(a, 0.0)",
        "leaky_relu(a, s)",
        doc="the positive part plus s times the negative part",
    ),
    R("clamp", "activations", "minimum(maximum(a, b), c)", "clamp(a, b, c)"),
    R("softplus", "activations", "log(1.0 + exp(a))", "softplus(a)"),
    R("rsqrt_recip", "activations", "1.0 / sqrt(a)", "rsqrt(a)", doc="rsqrt is 1/sqrt by definition"),
    R("sqrt_pow", "activations", "pow(a, 0.5)", "sqrt(a)", doc="a^(1/2); both undefined for a < 0"),
    R("rsqrt_pow", "activations", "pow(a, -0.5)", "rsqrt(a)", doc="a^(-1/2); both undefined for a <= 0"),
    R(
        "rsqrt_mul",
        "activations",
        "a * rsqrt(b)",
        "a / sqrt(b)",
        doc="towards `/ sqrt` (the reverse, with a = 1.0, made `rsqrt(b)` = `1.0 * rsqrt(b)`: a loop that "
        "multiplied e-nodes without end)",
    ),
    # --- selection
    R("where_min_gt", "selection", "where(a > b, b, a)", "minimum(a, b)"),
    R("where_min_lt", "selection", "where(a < b, a, b)", "minimum(a, b)"),
    R("where_max_gt", "selection", "where(a > b, a, b)", "maximum(a, b)"),
    R("where_max_lt", "selection", "where(a < b, b, a)", "maximum(a, b)"),
    R("mul_where_one", "selection", "a * where(c > b, 1.0, s)", "where(c > b, a, a * s)"),
    # --- exp / log algebra
    R("log_exp", "exp_log", "log(exp(a))", "a"),
    R("exp_log", "exp_log", "exp(log(a))", "a", when=("a > 0.0",)),
    R("exp_add", "exp_log", "exp(a) * exp(b)", "exp(a + b)"),
    R("exp_sub", "exp_log", "exp(a) / exp(b)", "exp(a - b)"),
    R("exp_recip", "exp_log", "1.0 / exp(a)", "exp(-a)"),
    R("log_mul", "exp_log", "log(a * b)", "log(a) + log(b)", when=("a > 0.0", "b > 0.0")),
    R("log_div", "exp_log", "log(a / b)", "log(a) - log(b)", when=("a > 0.0", "b > 0.0")),
    R(
        "exp2_log2e",
        "exp_log",
        "exp2(a * C_LOG2E)",
        "exp(a)",
        doc="2^(a log2 e) = e^a: kernels that compute exp with exp2 (FlagGems' sigmoid, softmax)",
    ),
    R("log2_ln2", "exp_log", "log2(a) * C_LN2", "log(a)", doc="log2(a) ln 2 = log(a): log computed with log2"),
    R("max_nonneg", "selection", "maximum(a, 0.0)", "a", when=("a >= 0.0",), doc="a clamp at 0 of a value known non-negative, e.g. `maximum(variance, 0.0)`"),
    # --- ring algebra (enough to line a kernel's spelling up with the patterns above)
    R("add_comm", "algebra", "a + b", "b + a"),
    R("mul_comm", "algebra", "a * b", "b * a"),
    R("max_comm", "algebra", "maximum(a, b)", "maximum(b, a)"),
    R("min_comm", "algebra", "minimum(a, b)", "minimum(b, a)"),
    R("mul_assoc", "algebra", "a * (b * c)", "a * b * c"),
    R("factor", "algebra", "a * b + a * c", "a * (b + c)"),
    R("factor_one", "algebra", "a + a * c", "a * (1.0 + c)"),
    R("square", "algebra", "pow(a, 2.0)", "a * a"),
    R("cube", "algebra", "pow(a, 3.0)", "a * a * a"),
    # --- row operators (simplify.rows): over a row `body for k in range(lo, hi)`, `at` in the row
    R(
        "softmax",
        "rows",
        "exp(x[i, j]) / sum(exp(x[i, k]) for k in range(n))",
        "softmax(x[i, k] for k in range(n))[j]",
        engine="rows",
        doc="the numerator is the summand at k = j (any body, any `at`)",
    ),
    R(
        "softmax_shift",
        "rows",
        "softmax(x[i, k] - a for k in range(n))[j]",
        "softmax(x[i, k] for k in range(n))[j]",
        when=("n > 0",),
        engine="rows",
        doc="a does not depend on k (typically max(x[i, k] for k in range(n))); the row is not empty",
    ),
    R(
        "log_softmax",
        "rows",
        "x[i, j] - log(sum(exp(x[i, k]) for k in range(n)))",
        "log_softmax(x[i, k] for k in range(n))[j]",
        engine="rows",
    ),
    R(
        "log_softmax_shift",
        "rows",
        "log_softmax(x[i, k] - a for k in range(n))[j]",
        "log_softmax(x[i, k] for k in range(n))[j]",
        when=("n > 0",),
        engine="rows",
        doc="a does not depend on k; the row is not empty",
    ),
    R(
        "logsumexp",
        "rows",
        "log(sum(exp(x[i, k]) for k in range(n)))",
        "logsumexp(x[i, k] for k in range(n))",
        engine="rows",
    ),
    R(
        "logsumexp_shift",
        "rows",
        "a + logsumexp(x[i, k] - a for k in range(n))",
        "logsumexp(x[i, k] for k in range(n))",
        when=("n > 0",),
        engine="rows",
        doc="a does not depend on k; the row is not empty",
    ),
    R(
        "mean",
        "rows",
        "sum(x[i, k] for k in range(n)) / float(n)",
        "mean(x[i, k] for k in range(n))",
        engine="rows",
        doc="the divisor is the row's length hi - lo",
    ),
    R(
        "variance",
        "rows",
        "mean((x[i, k] - mean(x[i, k] for k in range(n))) * (x[i, k] - mean(x[i, k] for k in range(n))) for k in range(n))",
        "variance(x[i, k] for k in range(n))",
        engine="rows",
        doc="population variance (correction=0)",
    ),
    R(
        "variance_moments",
        "rows",
        "mean(x[i, k] * x[i, k] for k in range(n)) - mean(x[i, k] for k in range(n)) * mean(x[i, k] for k in range(n))",
        "variance(x[i, k] for k in range(n))",
        when=("n > 0",),
        engine="rows",
        doc="E[x^2] - E[x]^2; n > 0 wherever the left side is defined (it divides by n)",
    ),
    R(
        "nonneg_row",
        "rows",
        "relu(variance(x[i, k] for k in range(n)))",
        "variance(x[i, k] for k in range(n))",
        engine="rows",
        doc="also maximum(v, 0.0), and for std: a mean of squares is >= 0 (FlagGems' std clamps it at 0)",
    ),
    R(
        "std",
        "rows",
        "sqrt(variance(x[i, k] for k in range(n)))",
        "std(x[i, k] for k in range(n))",
        engine="rows",
        doc="population standard deviation (correction=0)",
    ),
    R(
        "layer_norm",
        "rows",
        "(x[i, j] - mean(x[i, k] for k in range(n))) * rsqrt(variance(x[i, k] for k in range(n)) + a) * b",
        "layer_norm((x[i, k] for k in range(n)), a)[j] * b",
        engine="rows",
        doc="also with `/ sqrt(...)` (rsqrt(y) is 1/sqrt(y) by definition); a does not depend on k; the other "
        "factors (b: a weight, or none) in any position of the product",
    ),
    R(
        "rms_norm",
        "rows",
        "x[i, j] * rsqrt(mean(x[i, k] * x[i, k] for k in range(n)) + a) * b",
        "rms_norm((x[i, k] for k in range(n)), a)[j] * b",
        engine="rows",
        doc="also with `/ sqrt(...)` (rsqrt(y) is 1/sqrt(y) by definition); a does not depend on k; the other "
        "factors (b: a weight, or none) in any position of the product",
    ),
    R(
        "normalize",
        "rows",
        "x[i, j] / maximum(sqrt(sum(x[i, k] * x[i, k] for k in range(n))), a)",
        "normalize((x[i, k] for k in range(n)), a)[j]",
        engine="rows",
        doc="L2 normalisation, torch.nn.functional.normalize(x, p=2, dim, eps=a); maximum's operands in either "
        "order; a does not depend on k; other factors of the product kept",
    ),
    R(
        "clamp_order",
        "rows",
        "clamp(a, x[i, j], b)",
        "clamp(x[i, j], a, b)",
        engine="rows",
        doc="minimum(maximum(a, x), b) = minimum(maximum(x, a), b); applied when a reads no tensor and x does "
        "(or both do and x's parameter comes first), so that the clamped tensor comes first",
    ),
)

RULES_BY_NAME = {r.name: r for r in RULES}
assert len(RULES_BY_NAME) == len(RULES), "duplicate rule names"


def egglog_rules() -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.engine == "egglog")
