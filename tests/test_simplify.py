"""The simplification stage end to end: textbook forms, untouched inputs, budgets, and never a crash."""

from __future__ import annotations

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


def test_exhausted_budget_returns_the_input():
    f = _formula("0.5 * x[i] * (1.0 + erf(x[i] * 0.7071067811865476))")
    out = simplify_formula(f, Budget(seconds=0.0))
    assert out.formula == f


def test_node_budget_stops_early_and_keeps_an_equal_formula():
    from tritonlift.simplify.engine import agrees

    product = " * ".join(f"x[{k}]" for k in range(9))
    f = _formula(f"{product} + {product.replace('x', 'y')}")
    out = simplify_formula(f, Budget(seconds=5.0, max_nodes=50))
    assert any("budget spent (nodes)" in note for note in out.notes), out.notes
    assert agrees(f.assigns[0].body, out.formula.assigns[0].body)


def test_time_budget_holds():
    """`1.0 / sqrt(a * a + b)` took 19 s under a 2 s budget (the loop rsqrt(s) = 1.0 * rsqrt(s)); a long
    product grows factorially under associativity and commutativity. Both stay near their budget."""
    import time

    product = " * ".join(f"x[{k}]" for k in range(12))
    for text in ("1.0 / sqrt(x[i] * x[i] + x[0])", f"{product} + {product.replace('x', 'y')}"):
        start = time.perf_counter()
        out = simplify_formula(_formula(text), Budget(seconds=0.5, max_nodes=10**9))
        assert time.perf_counter() - start < 1.5, (text, out.notes)
    out = simplify_formula(_formula("1.0 / sqrt(x[i] * x[i] + x[0])"))
    assert formula_line(out.formula) == "out[i] = rsqrt(x[i] * x[i] + x[0])"


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
