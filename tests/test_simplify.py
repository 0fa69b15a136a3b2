"""The simplification stage end to end: textbook forms, untouched inputs, budgets, and never a crash."""

from __future__ import annotations

import pytest

from tritonlift.ir.expr import ONE, mem, var
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.parse import parse_expr
from tritonlift.ir.printer import formula_line
from tritonlift.simplify import Budget, simplify_formula

n = var("n")


def _formula(text: str, index=("i",), shape=(n,), kinds=None) -> Formula:
    body = parse_expr(text, kinds or {})
    strides = (ONE,) if len(shape) == 1 else (var("s0"), ONE)
    tensors = (TensorDecl("x", shape, strides, "x"), TensorDecl("out", shape, strides, "out"))
    return Formula(
        "f", (Param("x", "tensor"), Param("out", "tensor")), tensors, (Assign("out", index, body),)
    )


def test_silu_comes_back_named():
    out = simplify_formula(_formula("x[i] / (1.0 + exp(-x[i]))"))
    assert formula_line(out.formula) == "out[i] = silu(x[i])"
    assert "silu_div" in out.rules


def test_flaggems_gelu_constant_is_listed_as_an_approximation():
    out = simplify_formula(_formula("0.5 * x[i] * (1.0 + erf(x[i] * 0.7071067811))"))
    assert formula_line(out.formula) == "out[i] = gelu(x[i])"
    assert "approx_inv_sqrt2" in out.rules


def test_irrational_constants_are_always_an_approximation():
    """exp2(x * 1.4426950408889634) is exp(x) only for the irrational log2(e), which no float is."""
    out = simplify_formula(_formula("1.0 / (1.0 + exp2(-x[i] * 1.4426950408889634))"))
    assert formula_line(out.formula) == "out[i] = sigmoid(x[i])"
    assert {"exp2_log2e", "approx_log2e"} <= set(out.rules)


def test_exact_constant_needs_no_approximation():
    out = simplify_formula(_formula("0.5 * x[i] * (1.0 + erf(x[i] * 0.7071067811865476))"))
    assert "approx_inv_sqrt2" not in out.rules


def test_softmax_row_is_recognised():
    text = "exp(x[i, j] - max(x[i, k] for k in range(n))) / sum(exp(x[i, k] - max(x[i, k2] for k2 in range(n))) for k in range(n))"
    out = simplify_formula(_formula(text, ("i", "j"), (var("m"), n)))
    assert formula_line(out.formula) == "out[i, j] = softmax(x[i, k] for k in range(n))[j]", out
    assert {"softmax", "softmax_shift"} <= set(out.rules)


def test_plain_formulas_stay_as_they_are():
    f = _formula("x[i] + 2.0 * x[i]")
    assert simplify_formula(f).formula.assigns == f.assigns


def test_saturation_is_skipped_where_no_rule_can_fire():
    from tritonlift.simplify.engine import may_rewrite

    assert not may_rewrite(parse_expr("x[i] * 2.0 + x[0] * x[1] / x[2]"))
    assert may_rewrite(parse_expr("x[i] * x[1] + x[2] * x[i]"))  # a shared factor
    assert may_rewrite(parse_expr("1.0 / (1.0 + exp2(-x[i] * 1.4426950408889634))"))  # exp2 -> exp -> sigmoid
    assert not may_rewrite(parse_expr("1.0 / (1.0 + exp2(x[i]))"))  # no product for exp2_log2e: nothing
    out = simplify_formula(_formula("x[i] * 2.0 + x[0] * x[1]"))
    assert out.formula.assigns == _formula("x[i] * 2.0 + x[0] * x[1]").assigns


def test_exhausted_budget_returns_the_input():
    f = _formula("0.5 * x[i] * (1.0 + erf(x[i] * 0.7071067811865476))")
    out = simplify_formula(f, Budget(seconds=0.0))
    assert out.formula == f


def test_node_budget_stops_early_and_keeps_an_equal_formula():
    from tritonlift.simplify.engine import agrees

    # exp(a) * exp(b) somewhere in the product: a rule may fire, so saturation runs (and explodes)
    product = " * ".join(["exp(x[0])", *(f"x[{k}]" for k in range(9)), "exp(x[1])"])
    f = _formula(f"{product} + {product.replace('x', 'y')}")
    out = simplify_formula(f, Budget(seconds=5.0, max_nodes=50))
    assert any("budget spent (nodes)" in note for note in out.notes), out.notes
    assert agrees(f.assigns[0].body, out.formula.assigns[0].body)


def test_budgets_bound_the_saturation():
    """`1.0 / sqrt(a * a + b)` once took 19 s under a 2 s budget: the rules looped (rsqrt(s) = 1.0 * rsqrt(s)).
    Deterministic checks instead of wall-clock ones: that formula now saturates (a loop never would), and a
    formula that grows factorially under associativity and commutativity is stopped by the node budget."""
    from tritonlift.simplify.engine import agrees

    out = simplify_formula(_formula("1.0 / sqrt(x[i] * x[i] + x[0])"), Budget(seconds=600.0, max_nodes=20_000))
    assert not any("budget spent" in note for note in out.notes), out.notes
    assert formula_line(out.formula) == "out[i] = rsqrt(x[i] * x[i] + x[0])"
    product = " * ".join(["exp(x[0])", *(f"x[{k}]" for k in range(12)), "exp(x[1])"])
    f = _formula(f"{product} + {product.replace('x', 'y')}")
    out = simplify_formula(f, Budget(seconds=600.0, max_nodes=2_000))
    assert any("budget spent (nodes)" in note for note in out.notes), out.notes
    assert agrees(f.assigns[0].body, out.formula.assigns[0].body)
    out = simplify_formula(f, Budget(seconds=0.0))  # no time left: the formula comes back as it was
    assert out.formula.assigns[0].body == f.assigns[0].body


def test_never_raises_on_odd_input():
    f = _formula("x[i]")
    odd = Formula(f.name, f.params, f.tensors, (Assign("nowhere", ("i",), mem("p", var("i"))),))
    assert simplify_formula(odd).formula == odd


def test_pipeline_keeps_raw_and_records_rules():
    from pathlib import Path

    from tritonlift.api import lift_file

    root = Path(__file__).resolve().parents[1]
    r = next(r for r in lift_file(root / "examples" / "silu.py") if r.kind == "kernel")
    assert r.formula == "out_ptr.view(n_elements) = silu(x_ptr.view(n_elements))"
    assert "exp" in r.formula_raw and "silu_div" in r.proof.rules
    assert "torch.nn.functional.silu" in r.torch
    assert r.seconds["simplification"] > 0


# --- textbook forms of the usual kernel spellings, end to end (simplifier, then the whole-tensor text) ----

M, N = var("M"), var("N")


def _row_formula(text: str, out_index=("i", "j")) -> Formula:
    """Rows of x (M, N) with a weight w and bias b (N,), scalar eps, lo, hi."""
    from tritonlift.ir.expr import Kind

    kinds = {n: Kind.REAL for n in ("eps", "lo", "hi")}
    body = parse_expr(text, kinds)
    shape = (M, N) if len(out_index) == 2 else (M,)
    tensors = (
        TensorDecl("x", (M, N), (N, ONE), "x"),
        TensorDecl("w", (N,), (ONE,), "w"),
        TensorDecl("b", (N,), (ONE,), "b"),
        TensorDecl("out", shape, (N, ONE)[2 - len(shape) :], "out"),
    )
    params = (*(Param(t, "tensor") for t in ("x", "w", "b", "out")), *(Param(n, "float") for n in kinds))
    return Formula("f", params, tensors, (Assign("out", out_index, body),))


MEAN = "sum(x[i, k] for k in range(N)) / float(N)"
VAR = f"sum((x[i, k] - {MEAN.replace('k', 'k2')}) * (x[i, k] - {MEAN.replace('k', 'k2')}) for k in range(N)) / float(N)"
TEXTBOOK = [
    (  # FlagGems' layer_norm: rstd = 1 / sqrt(var + eps), y = (x - mean) * rstd * w + b
        f"(x[i, j] - {MEAN}) * (1.0 / sqrt({VAR} + eps)) * w[j] + b[j]",
        ("i", "j"),
        "out = layer_norm(x, (N,), weight=w, bias=b, eps=eps)",
    ),
    (  # the weight first, the division last
        f"w[j] * (x[i, j] - {MEAN}) / sqrt({VAR} + eps)",
        ("i", "j"),
        "out = layer_norm(x, (N,), weight=w, eps=eps)",
    ),
    (
        "x[i, j] * rsqrt(sum(x[i, k] * x[i, k] for k in range(N)) / float(N) + eps) * w[j]",
        ("i", "j"),
        "out = rms_norm(x, (N,), weight=w, eps=eps)",
    ),
    (
        "x[i, j] / maximum(sqrt(sum(x[i, k] * x[i, k] for k in range(N))), eps)",
        ("i", "j"),
        "out = normalize(x, dim=1, eps=eps)",
    ),
    (f"sqrt({VAR})", ("i",), "out = x.std(dim=1, correction=0)"),
    (  # the two factors of the square reduce over differently named indices
        f"sum((x[i, k] - {MEAN.replace('k', 'k2')}) * (x[i, k] - {MEAN.replace('k', 'k3')}) for k in range(N)) / float(N)",
        ("i",),
        "out = x.var(dim=1, correction=0)",
    ),
    (  # E[x^2] - E[x]^2, clamped at 0 (FlagGems' std does this)
        f"sqrt(maximum(sum(x[i, k] * x[i, k] for k in range(N)) / float(N) - ({MEAN}) * ({MEAN}), 0.0))",
        ("i",),
        "out = x.std(dim=1, correction=0)",
    ),
    (  # FlagGems' sigmoid: 1 / (1 + exp2(-x * log2(e)))
        "1.0 / (1.0 + exp2(-x[i, j] * 1.4426950408889634))",
        ("i", "j"),
        "out = sigmoid(x)",
    ),
    ("minimum(hi, maximum(lo, x[i, j]))", ("i", "j"), "out = clamp(x, lo, hi)"),  # FlagGems' clamp
    (  # logsumexp with the max shift
        "max(x[i, k] for k in range(N)) + log(sum(exp(x[i, k] - max(x[i, k2] for k2 in range(N))) for k in range(N)))",
        ("i",),
        "out = x.logsumexp(dim=1)",
    ),
]


@pytest.mark.parametrize(("text", "index", "want"), TEXTBOOK, ids=[c[2] for c in TEXTBOOK])
def test_kernel_spellings_come_back_in_textbook_form(text, index, want):
    from tritonlift.simplify.engine import agrees

    f = _row_formula(text, index)
    out = simplify_formula(f, Budget(seconds=10.0))
    assert formula_line(out.formula, whole=True) == want, (formula_line(out.formula), out.notes)
    assert agrees(f.assigns[0].body, out.formula.assigns[0].body, points=10)


def test_clamp_puts_the_first_parameter_first_when_both_operands_are_tensors():
    """clamp(a, b, c) is symmetric in a and b: FlagGems' minimum(maxi, maximum(mini, x)) over three tensors
    reads clamp(x, mini, maxi), x being the first parameter (as in torch.clamp(input, min, max))."""
    from tritonlift.ir.expr import Kind

    shape = (n,)
    tensors = tuple(TensorDecl(t, shape, (ONE,), t) for t in ("x", "mini", "out"))
    params = (Param("x", "tensor"), Param("mini", "tensor"), Param("maxi", "float"), Param("out", "tensor"))
    body = parse_expr("minimum(maxi, maximum(mini[i], x[i]))", {"maxi": Kind.REAL})
    f = Formula("f", params, tensors, (Assign("out", ("i",), body),))
    assert formula_line(simplify_formula(f).formula) == "out[i] = clamp(x[i], mini[i], maxi)"
    swapped = Formula("f", (params[1], params[0], *params[2:]), tensors, f.assigns)
    assert formula_line(simplify_formula(swapped).formula) == "out[i] = clamp(mini[i], x[i], maxi)"
