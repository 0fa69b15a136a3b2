"""Snapshot tests of the text and LaTeX printers."""

from __future__ import annotations

import math

import pytest

from tritonlift.ir.expr import (
    ONE,
    ZERO,
    Expr,
    Kind,
    Op,
    add,
    and_,
    arith,
    cast,
    const,
    div,
    eq,
    le,
    lt,
    math_fn,
    mem,
    mul,
    neg,
    not_,
    or_,
    read,
    reduce,
    sub,
    to_real,
    undef,
    var,
    where,
)
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.latex import formula_latex, latex_name, to_latex
from tritonlift.ir.printer import formula_line, formula_text, to_text

i, j, k, n, m = var("i"), var("j"), var("k"), var("n"), var("m")
alpha = var("alpha", Kind.REAL)


def x(*idx: Expr) -> Expr:
    return read("x", *idx)


def softmax_body() -> Expr:
    num = math_fn(Op.EXP, x(i, j))
    return div(num, reduce(Op.SUM, "k", ZERO, n, math_fn(Op.EXP, x(i, k))))


# (expr, text, latex)
SNAPSHOTS: list[tuple[Expr, str, str]] = [
    (add(mul(i, n), j), "i * n + j", r"i \cdot n + j"),
    (mul(add(i, n), j), "(i + n) * j", r"\left(i + n\right) \cdot j"),
    (sub(i, sub(j, k)), "i - (j - k)", r"i - \left(j - k\right)"),
    (sub(sub(i, j), k), "i - j - k", "i - j - k"),
    (add(i, const(-3)), "i + (-3)", r"i + \left(-3\right)"),
    (mul(const(-2), i), "-2 * i", r"-2 \cdot i"),
    (neg(add(i, j)), "-(i + j)", r"-\left(i + j\right)"),
    (sub(x(i), const(-0.5)), "x[i] - (-0.5)", r"x_{i} - \left(-0.5\right)"),
    (and_(lt(i, n), lt(j, m)), "(i < n) & (j < m)", r"i < n \land j < m"),
    (
        or_(and_(lt(i, n), lt(j, m)), eq(k, ZERO)),
        "(i < n) & (j < m) | (k == 0)",
        r"i < n \land j < m \lor k = 0",
    ),
    (
        and_(or_(lt(i, n), lt(j, m)), le(k, n)),
        "((i < n) | (j < m)) & (k <= n)",
        r"\left(i < n \lor j < m\right) \land k \le n",
    ),
    (not_(lt(i, n)), "~(i < n)", r"\lnot \left(i < n\right)"),
    (eq(lt(i, n), lt(j, m)), "(i < n) == (j < m)", r"\left(i < n\right) = \left(j < m\right)"),
    (arith(Op.FLOORDIV, i, const(2)), "i // 2", r"\left\lfloor i / 2 \right\rfloor"),
    (arith(Op.MOD, add(i, j), n), "(i + j) % n", r"\left(i + j\right) \bmod n"),
    (arith(Op.TRUNCDIV, neg(i), const(2)), "tdiv(-i, 2)", r"\operatorname{tdiv}\left(-i, 2\right)"),
    (arith(Op.TRUNCMOD, i, n), "tmod(i, n)", r"\operatorname{tmod}\left(i, n\right)"),
    (arith(Op.MAXIMUM, i, n), "maximum(i, n)", r"\max\left(i, n\right)"),
    (where(lt(i, n), x(i, j), const(0.0)), "where(i < n, x[i, j], 0.0)", None),
    (cast(x(i, j), "int32"), "int32(x[i, j])", r"\operatorname{int32}\left(x_{i,j}\right)"),
    (mul(to_real(i), alpha), "float(i) * alpha", r"i \cdot \alpha"),
    (
        add(var("x.shape[0]"), mul(var("x.stride(1)"), var("x.numel()"))),
        "x.shape[0] + x.stride(1) * x.numel()",
        None,
    ),
    (softmax_body(), "exp(x[i, j]) / sum(exp(x[i, k]) for k in range(n))", None),
    (
        reduce(Op.RMAX, "k", ONE, n, x(i, k)),
        "max(x[i, k] for k in range(1, n))",
        r"\max_{1 \le k < n} x_{i,k}",
    ),
    (reduce(Op.RMIN, "k", ZERO, n, x(k)), "min(x[k] for k in range(n))", r"\min_{k < n} x_{k}"),
    (reduce(Op.PROD, "k", i, n, x(k)), "prod(x[k] for k in range(i, n))", r"\prod_{k=i}^{n - 1} x_{k}"),
    (const(1e-05), "1e-05", "10^{-5}"),
    (const(2.5e-08), "2.5e-08", r"2.5 \cdot 10^{-8}"),
    (const(math.inf), "inf", r"\infty"),
    (const(-math.inf), "-inf", r"-\infty"),
    (const(math.nan), "nan", r"\mathrm{NaN}"),
    (const(True), "True", r"\mathrm{true}"),
    (math_fn(Op.POW, x(i), const(2.0)), "pow(x[i], 2.0)", "x_{i}^{2}"),
    (math_fn(Op.RSQRT, add(x(i), const(1e-05))), "rsqrt(x[i] + 1e-05)", r"\frac{1}{\sqrt{x_{i} + 10^{-5}}}"),
    (math_fn(Op.SIGMOID, x(i)), "sigmoid(x[i])", r"\sigma\left(x_{i}\right)"),
    (read("y"), "y[()]", "y"),
    (mem("x_ptr", add(i, ONE)), "mem(x_ptr, i + 1)", r"\mathrm{mem}_{\mathrm{x\_ptr}}\left[i + 1\right]"),
    (undef("masked", i, kind=Kind.INT), 'undef("masked", i, kind="int")', r"\bot_{\mathrm{masked}}"),
]


@pytest.mark.parametrize(("e", "text", "latex"), SNAPSHOTS, ids=[s[1] for s in SNAPSHOTS])
def test_snapshots(e: Expr, text: str, latex: str | None) -> None:
    assert to_text(e) == text
    if latex is not None:
        assert to_latex(e) == latex


def test_softmax_latex() -> None:
    assert to_latex(softmax_body()) == (
        r"\frac{\exp\left(x_{i,j}\right)}{\sum_{k=0}^{n - 1} \exp\left(x_{i,k}\right)}"
    )


def test_reduction_operand_keeps_parentheses_in_latex() -> None:
    e = add(reduce(Op.SUM, "k", ZERO, n, x(k)), ONE)
    assert to_latex(e) == r"\left(\sum_{k=0}^{n - 1} x_{k}\right) + 1"
    assert to_text(e) == "sum(x[k] for k in range(n)) + 1.0"


def test_where_latex_uses_cases() -> None:
    e = where(lt(i, n), x(i), const(0.0))
    assert to_latex(e) == r"\begin{cases} x_{i} & \text{if } i < n \\ 0 & \text{otherwise} \end{cases}"


def test_latex_names() -> None:
    assert latex_name("i") == "i"
    assert latex_name("alpha") == r"\alpha"
    assert latex_name("n_elements") == r"\mathrm{n\_elements}"
    assert latex_name("x.shape[0]") == r"\mathrm{x.shape[0]}"


def _kernel_formula() -> Formula:
    M, N = var("M"), var("N")
    return Formula(
        name="bias_add",
        params=(Param("x_ptr", "tensor"), Param("b_ptr", "tensor"), Param("out", "tensor")),
        tensors=(
            TensorDecl("x", (M, N), (var("stride_xm"), ONE), "x_ptr"),
            TensorDecl("b", (N,), (ONE,), "b_ptr", offset=const(4)),
            TensorDecl("out", (M, N), (N, ONE), "out"),
        ),
        assigns=(Assign("out", ("i", "j"), add(x(i, j), read("b", j))), Assign("out", (), const(0.0))),
    )


def test_formula_text_and_line() -> None:
    f = _kernel_formula()
    lines = [
        "x = as_strided(x_ptr, (M, N), (stride_xm, 1))",
        "b = as_strided(b_ptr, (N,), (1,), 4)",
        "out[i, j] = x[i, j] + b[j]",
        "out[()] = 0.0",
    ]
    assert formula_text(f) == "\n".join(lines)
    assert formula_line(f) == "; ".join(lines)


def test_formula_latex() -> None:
    f = _kernel_formula()
    assert formula_latex(f) == r"\mathrm{out}_{i,j} = x_{i,j} + b_{j} \\ \mathrm{out} = 0"
