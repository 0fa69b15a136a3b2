"""The parser inverts the text printer: snapshots, random IR trees, formulas, and one-line errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_ir_printer import SNAPSHOTS
from tritonlift.ir.expr import (
    INT_DTYPES,
    ONE,
    REDUCE_OPS,
    UNARY_MATH_OPS,
    ZERO,
    Expr,
    Kind,
    Op,
    add,
    and_,
    arith,
    cast,
    compare,
    const,
    div,
    lt,
    math_fn,
    mul,
    neg,
    not_,
    or_,
    read,
    reduce,
    to_real,
    var,
    where,
)
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.parse import parse_expr, parse_formula
from tritonlift.ir.printer import formula_line, formula_text, to_text

KINDS = {"alpha": Kind.REAL, "beta": Kind.REAL, "flag": Kind.BOOL, "x.stride(1)": Kind.INT}

# ---------------------------------------------------------------------------------------------
# random IR trees, built with the smart constructors

INT_LEAVES = st.one_of(
    st.sampled_from([var("i"), var("j"), var("k"), var("n"), var("x.shape[0]"), var("x.stride(1)")]),
    st.integers(-(2**70), 2**70).map(const),
)
REAL_LEAVES = st.one_of(
    st.sampled_from([var("alpha", Kind.REAL), var("beta", Kind.REAL)]),
    st.floats(allow_nan=True, allow_infinity=True).map(const),
)
BOOL_LEAVES = st.one_of(st.just(var("flag", Kind.BOOL)), st.booleans().map(const))
INT_BINOPS = [Op.ADD, Op.SUB, Op.MUL, Op.FLOORDIV, Op.MOD, Op.TRUNCDIV, Op.TRUNCMOD, Op.MINIMUM, Op.MAXIMUM]
COMPARES = [Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE]


@st.composite
def exprs(draw: st.DrawFn, kind: Kind, depth: int = 4) -> Expr:
    """A random Expr of the given kind (reductions bind `k`; reads index tensors x (2-D) and b (1-D))."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return draw({Kind.INT: INT_LEAVES, Kind.REAL: REAL_LEAVES, Kind.BOOL: BOOL_LEAVES}[kind])
    sub = lambda k: exprs(k, depth - 1)  # noqa: E731
    any_num = st.sampled_from([Kind.INT, Kind.REAL, Kind.BOOL])
    if kind is Kind.BOOL:
        match draw(st.integers(0, 3)):
            case 0:
                k = draw(any_num)
                return compare(draw(st.sampled_from(COMPARES)), draw(sub(k)), draw(sub(k)))
            case 1:
                return and_(draw(sub(Kind.BOOL)), draw(sub(Kind.BOOL)))
            case 2:
                return or_(draw(sub(Kind.BOOL)), draw(sub(Kind.BOOL)))
            case _:
                return not_(draw(sub(Kind.BOOL)))
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return neg(draw(sub(kind)))
    if choice == 1:
        return where(draw(sub(Kind.BOOL)), draw(sub(kind)), draw(sub(kind)))
    if choice == 2:
        op = draw(st.sampled_from(sorted(REDUCE_OPS, key=lambda o: o.value)))
        return reduce(op, "k", draw(sub(Kind.INT)), draw(sub(Kind.INT)), draw(sub(kind)))
    if kind is Kind.INT:
        if choice == 3:
            return cast(draw(sub(Kind.REAL)), draw(st.sampled_from(sorted(INT_DTYPES))))
        return arith(draw(st.sampled_from(INT_BINOPS)), draw(sub(Kind.INT)), draw(sub(Kind.INT)))
    match choice:
        case 3:
            return (
                read("x", draw(sub(Kind.INT)), draw(sub(Kind.INT)))
                if draw(st.booleans())
                else read("b", draw(sub(Kind.INT)))
            )
        case 4:
            op = draw(st.sampled_from(sorted(UNARY_MATH_OPS, key=lambda o: o.value)))
            return math_fn(op, draw(sub(draw(any_num))))
    a, b = draw(sub(draw(any_num))), draw(sub(Kind.REAL))
    match draw(st.integers(0, 4)):
        case 0:
            return div(a, b)
        case 1:
            return math_fn(Op.POW, a, b)
        case 2:
            return to_real(draw(sub(Kind.BOOL)))
        case _:
            return arith(draw(st.sampled_from(INT_BINOPS)), a, b)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([Kind.INT, Kind.REAL, Kind.BOOL]).flatmap(exprs))
def test_random_round_trip(e: Expr) -> None:
    text = to_text(e)
    assert parse_expr(text, KINDS) == e, text


@pytest.mark.parametrize("e", [s[0] for s in SNAPSHOTS], ids=[s[1] for s in SNAPSHOTS])
def test_snapshot_round_trip(e: Expr) -> None:
    kinds = {"alpha": Kind.REAL, "x.stride(1)": Kind.INT}
    assert parse_expr(to_text(e), kinds) == e


def test_kinds_and_host_symbols() -> None:
    e = parse_expr("x.shape[0] * x.stride(1) + len(x) + alpha", {"alpha": Kind.REAL})
    shape, stride, length = var("x.shape[0]"), var("x.stride(1)"), var("len(x)")
    assert e == add(to_real(add(mul(shape, stride), length)), var("alpha", Kind.REAL))
    assert parse_expr("x[i, j]") == read("x", var("i"), var("j"))
    assert parse_expr("sizes[0]", {"sizes[0]": Kind.INT}) == var("sizes[0]")
    assert parse_expr("inf") == const(float("inf")) and parse_expr("inf", {"inf": Kind.INT}) == var("inf")


def test_bound_index_is_int_whatever_kinds_say() -> None:
    e = parse_expr("sum(x[k] * k for k in range(n))", {"k": Kind.REAL})
    assert e == reduce(Op.SUM, "k", ZERO, var("n"), mul(read("x", var("k")), to_real(var("k"))))


def test_friendly_spellings() -> None:
    i, n = var("i"), var("n")
    assert parse_expr("i < n < 3") == and_(lt(i, n), lt(n, const(3)))
    assert parse_expr("max(i, n)") == arith(Op.MAXIMUM, i, n)
    assert parse_expr("i if flag else n", KINDS) == where(var("flag", Kind.BOOL), i, n)
    assert parse_expr("(i < n) and not flag", KINDS) == and_(lt(i, n), not_(var("flag", Kind.BOOL)))


@pytest.mark.parametrize(
    "text",
    ["i +", "i is n", "sum(x[k] for k in n)", "tdiv(i)", "lambda: 0", "'s'", "x[i:j]", "undef(3)", "[i]"],
)
def test_parse_errors_are_one_line_value_errors(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_expr(text)
    assert "\n" not in str(info.value)


def _formula() -> Formula:
    i, j, k, M, N = var("i"), var("j"), var("k"), var("M"), var("N")
    alpha = var("alpha", Kind.REAL)
    x, b = TensorDecl("x", (M, N), (var("stride_xm"), ONE), "x_ptr"), TensorDecl("b", (N,), (ONE,), "b_ptr")
    row = TensorDecl(
        "row", (M,), (var("out.stride(0)"),), "out", offset=add(var("out.storage_offset()"), ONE)
    )
    out = TensorDecl("out", (M, N), (N, ONE), "out")
    s = reduce(Op.SUM, "k", ZERO, N, math_fn(Op.EXP, read("x", i, k)))
    assigns = (
        Assign("out", ("i", "j"), add(mul(alpha, read("x", i, j)), read("b", j))),
        Assign("row", ("i",), div(const(1.0), s)),
        Assign("out", (), where(lt(M, const(2)), const(0.0), neg(read("x", ZERO, ZERO)))),
    )
    params = (
        Param("x_ptr", "tensor"),
        Param("b_ptr", "tensor"),
        Param("out", "tensor"),
        Param("alpha", "float"),
    )
    return Formula("k", params, (out, x, b, row), assigns)


@pytest.mark.parametrize("printer", [formula_text, formula_line])
def test_formula_round_trip(printer) -> None:
    f = _formula()
    hidden = {t.name: t for t in f.tensors if t.base == t.name}
    back = parse_formula(printer(f), name=f.name, params=f.params, tensors=hidden, kinds={"alpha": Kind.REAL})
    assert back == f  # the hidden declarations come first, as in `f`


@pytest.mark.parametrize(
    "text",
    [
        "x = as_strided(x_ptr, M, (1,))",
        "x = zeros(3)",
        "out[i, i] = 0.0",
        "out[i + 1] = 0.0",
        "out = as_strided(x_ptr, (M,), (1,))",  # `out` is already declared
        "print(1)",
    ],
)
def test_formula_errors(text: str) -> None:
    out = TensorDecl("out", (var("M"),), (ONE,), "out")
    with pytest.raises(ValueError) as info:
        parse_formula(text, name="f", params=(), tensors={"out": out})
    assert "\n" not in str(info.value)
