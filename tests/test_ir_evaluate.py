"""The scalar evaluator's exact semantics, op by op, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from tritonlift.ir.evaluate import Env, evaluate
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
    lt,
    math_fn,
    mem,
    mul,
    neg,
    not_,
    or_,
    read,
    reduce,
    to_real,
    undef,
    var,
    where,
)

i, j, k, n = var("i"), var("j"), var("k"), var("n")
X = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]


def tensor_read(name: str, idx: tuple[int, ...]) -> float:
    assert name == "x", name
    r, c = idx
    if not (0 <= r < len(X) and 0 <= c < len(X[0])):
        raise IndexError(f"x{list(idx)} out of bounds")
    return X[r][c]


def ev(e: Expr, **vars: int | float | bool) -> int | float | bool:
    return evaluate(e, Env(vars=vars, read=tensor_read))


@pytest.mark.parametrize(
    ("op", "a", "b", "want"),
    [
        (Op.TRUNCDIV, -7, 2, -3),
        (Op.FLOORDIV, -7, 2, -4),
        (Op.TRUNCMOD, -7, 2, -1),
        (Op.MOD, -7, 2, 1),
        (Op.TRUNCDIV, 7, -2, -3),
        (Op.FLOORDIV, 7, -2, -4),
        (Op.TRUNCMOD, 7, -2, 1),
        (Op.MOD, 7, -2, -1),
        (Op.TRUNCDIV, -8, 2, -4),
        (Op.TRUNCMOD, -8, 2, 0),
        (Op.MINIMUM, -7, 2, -7),
        (Op.MAXIMUM, -7, 2, 2),
    ],
)
def test_c_and_python_integer_division(op: Op, a: int, b: int, want: int) -> None:
    # through variables, so the smart constructors cannot fold the constant away
    got = ev(arith(op, i, j), i=a, j=b)
    assert got == want and type(got) is int


def test_integers_are_exact_and_unbounded() -> None:
    big = 2**80 + 1
    assert ev(arith(Op.TRUNCDIV, neg(i), const(3)), i=big) == -((2**80 + 1) // 3)
    assert ev(mul(i, i), i=big) == big * big


def test_integer_division_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        ev(arith(Op.TRUNCDIV, i, j), i=1, j=0)
    with pytest.raises(ZeroDivisionError):
        ev(arith(Op.MOD, i, j), i=1, j=0)


def test_real_division_is_ieee() -> None:
    a, b = var("a", Kind.REAL), var("b", Kind.REAL)
    assert ev(div(a, b), a=1.0, b=0.0) == math.inf
    assert ev(div(a, b), a=-1.0, b=0.0) == -math.inf
    assert ev(div(a, b), a=1.0, b=-0.0) == -math.inf
    assert math.isnan(ev(div(a, b), a=0.0, b=0.0))
    assert ev(div(a, b), a=1e308, b=1e-10) == math.inf
    assert ev(arith(Op.FLOORDIV, a, b), a=-7.5, b=2.0) == -4.0
    assert ev(arith(Op.TRUNCDIV, a, b), a=-7.5, b=2.0) == -3.0
    assert ev(arith(Op.TRUNCMOD, a, b), a=-7.5, b=2.0) == -1.5
    assert ev(arith(Op.MOD, a, b), a=-7.5, b=2.0) == 0.5
    assert math.isnan(ev(arith(Op.MOD, a, b), a=1.0, b=0.0))


def test_where_is_lazy_so_guarded_reads_never_happen() -> None:
    guarded = where(lt(j, const(3)), read("x", i, j), const(0.0))
    assert ev(guarded, i=1, j=1) == 4.0
    assert ev(guarded, i=1, j=5) == 0.0
    with pytest.raises(IndexError):
        ev(read("x", i, j), i=1, j=5)
    # `&` short-circuits too
    assert ev(and_(lt(j, const(3)), lt(const(0.0), read("x", i, j))), i=0, j=7) is False
    assert ev(or_(lt(j, const(9)), lt(const(0.0), read("x", i, j))), i=0, j=7) is True


def test_reductions() -> None:
    row = lambda op: reduce(op, "k", ZERO, n, read("x", i, k))  # noqa: E731
    assert ev(row(Op.SUM), i=0, n=3) == 2.0
    assert ev(row(Op.PROD), i=1, n=3) == -2.0
    assert ev(row(Op.RMAX), i=0, n=3) == 3.0
    assert ev(row(Op.RMIN), i=0, n=3) == -2.0
    assert ev(row(Op.SUM), i=0, n=0) == 0.0
    assert ev(row(Op.RMAX), i=0, n=0) == -math.inf
    assert ev(row(Op.RMIN), i=0, n=-4) == math.inf
    # int sums stay ints; a bool body counts
    assert ev(reduce(Op.SUM, "k", ONE, n, mul(k, k)), n=4) == 14
    assert ev(reduce(Op.SUM, "k", ZERO, n, lt(k, i)), n=10, i=3) == 3
    # nested, with an inner bound depending on the outer index; the inner k shadows nothing outside
    tri = reduce(Op.SUM, "k", ZERO, n, reduce(Op.SUM, "m", ZERO, add(k, ONE), var("m")))
    assert ev(tri, n=4) == 0 + 1 + 3 + 6
    # softmax denominator
    denom = reduce(Op.SUM, "k", ZERO, const(3), math_fn(Op.EXP, read("x", i, k)))
    assert ev(div(math_fn(Op.EXP, read("x", i, j)), denom), i=0, j=2) == pytest.approx(
        math.exp(3.0) / (math.exp(1.0) + math.exp(-2.0) + math.exp(3.0))
    )


@pytest.mark.parametrize(
    ("op", "arg", "want"),
    [
        (Op.EXP, 1.0, math.e),
        (Op.EXP, 1000.0, math.inf),
        (Op.EXP2, 10.0, 1024.0),
        (Op.EXP2, 2000.0, math.inf),
        (Op.LOG, 0.0, -math.inf),
        (Op.LOG, -1.0, math.nan),
        (Op.LOG2, 8.0, 3.0),
        (Op.SQRT, 4.0, 2.0),
        (Op.SQRT, -4.0, math.nan),
        (Op.RSQRT, 4.0, 0.5),
        (Op.RSQRT, 0.0, math.inf),
        (Op.SIGMOID, 0.0, 0.5),
        (Op.SIGMOID, -1000.0, 0.0),
        (Op.SIGMOID, 1000.0, 1.0),
        (Op.ABS, -2.5, 2.5),
        (Op.ERF, 0.5, math.erf(0.5)),
        (Op.TANH, 0.5, math.tanh(0.5)),
        (Op.SIN, math.inf, math.nan),
        (Op.COS, 0.0, 1.0),
        (Op.FLOOR, -2.5, -3.0),
        (Op.CEIL, -2.5, -2.0),
        (Op.FLOOR, math.inf, math.inf),
    ],
)
def test_math(op: Op, arg: float, want: float) -> None:
    got = ev(math_fn(op, var("a", Kind.REAL)), a=arg)
    assert type(got) is float
    assert math.isnan(got) if math.isnan(want) else got == pytest.approx(want)


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (2.0, 10.0, 1024.0),
        (-2.0, 3.0, -8.0),
        (-2.0, 0.5, math.nan),
        (10.0, 400.0, math.inf),
        (0.0, -1.0, math.inf),
    ],
)
def test_pow(a: float, b: float, want: float) -> None:
    got = ev(math_fn(Op.POW, var("a", Kind.REAL), var("b", Kind.REAL)), a=a, b=b)
    assert math.isnan(got) if math.isnan(want) else got == want


def test_casts_and_kinds() -> None:
    r = var("r", Kind.REAL)
    assert ev(cast(r, "int32"), r=-2.7) == -2  # toward zero
    assert ev(cast(r, "int32"), r=2.7) == 2
    assert ev(to_real(i), i=3) == 3.0 and type(ev(to_real(i), i=3)) is float
    assert ev(cast(lt(i, n), "int32"), i=1, n=2) == 1
    assert ev(add(lt(i, n), lt(i, n)), i=1, n=2) == 2  # bools add as ints
    assert ev(neg(lt(i, n)), i=1, n=2) == -1
    assert ev(not_(lt(i, n)), i=1, n=2) is False
    assert type(ev(r, r=2)) is float  # an int given for a REAL variable is a real
    with pytest.raises(ValueError, match="cannot cast"):
        ev(cast(r, "int32"), r=math.nan)


def test_leaves_from_the_environment() -> None:
    env = Env(vars={"i": 2}, mem=lambda ptr, off: 10.0 * off, undef=lambda tag: -1.0)
    assert evaluate(mem("x_ptr", add(i, ONE)), env) == 30.0
    assert evaluate(undef("masked", i), env) == -1.0
    with pytest.raises(ValueError, match="undefined value"):
        evaluate(undef("masked"), Env())
    with pytest.raises(ValueError, match="unbound variable 'j'"):
        evaluate(j, env)
    with pytest.raises(ValueError, match="cannot read x"):
        evaluate(read("x", i), env)


def test_nan_propagates_through_minimum_and_maximum() -> None:
    a = var("a", Kind.REAL)
    assert math.isnan(ev(arith(Op.MINIMUM, a, const(1.0)), a=math.nan))
    assert math.isnan(ev(arith(Op.MAXIMUM, const(1.0), a), a=math.nan))
    assert math.isnan(ev(reduce(Op.RMAX, "k", ZERO, const(3), where(lt(k, ONE), a, const(0.0))), a=math.nan))
