"""The PyTorch printer's output runs, and computes what the formula says (plain torch and `evaluate` agree)."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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
    compare,
    const,
    div,
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
from tritonlift.ir.formula import Alloc, Assign, Formula, Param, TensorDecl
from tritonlift.ir.torch_printer import formula_torch

i, j, k = var("i"), var("j"), var("k")


def compile_formula(f: Formula, **kwargs: str) -> Callable[..., object]:
    src = formula_torch(f, **kwargs)
    tree = ast.parse(src)
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef) and tree.body[0].name == f.name
    assert src.splitlines()[1:3] == ["    import math", "    import torch"]
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imports == {"math", "torch"} and not any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))
    namespace: dict[str, object] = {}
    exec(compile(src, f"<{f.name}>", "exec"), namespace)  # an empty namespace: self-contained
    return namespace[f.name]  # type: ignore[return-value]


def tensor_params(*names: str) -> tuple[Param, ...]:
    return tuple(Param(n, "tensor") for n in names)


# ---------------------------------------------------------------------------------------------
# kernels: writes into pointer arguments through strided views


def add_kernel() -> Formula:
    n = var("n_elements")
    views = tuple(TensorDecl(t, (n,), (ONE,), f"{t}_ptr") for t in ("x", "y", "out"))
    return Formula(
        name="add_kernel",
        params=(
            *tensor_params("x_ptr", "y_ptr", "out_ptr"),
            Param("n_elements", "int"),
            Param("BLOCK", "constexpr"),
        ),
        tensors=views,
        assigns=(Assign("out", ("i",), add(read("x", i), read("y", i))),),
    )


def test_1d_add_over_views_with_storage_offsets() -> None:
    fn = compile_formula(add_kernel())
    storage = torch.randn(20)
    x, y = storage[3:11], storage[11:]  # non-zero storage offsets
    out = torch.full((10,), -7.0)
    fn(x, y, out[2:], 8, 1024)
    torch.testing.assert_close(out[2:], x + y[:8])
    assert (out[:2] == -7.0).all()
    fn(x, y, out, 0, 1024)  # an empty domain does nothing, and does not crash


def bias_add_kernel() -> Formula:
    M, N = var("M"), var("N")
    return Formula(
        name="bias_add",
        params=(
            *tensor_params("x_ptr", "b_ptr", "out_ptr"),
            *(Param(name, "int") for name in ("M", "N", "stride_xm", "stride_om")),
        ),
        tensors=(
            TensorDecl("x", (M, N), (var("stride_xm"), ONE), "x_ptr"),
            TensorDecl("b", (N,), (ONE,), "b_ptr"),
            TensorDecl("out", (M, N), (var("stride_om"), ONE), "out_ptr"),
        ),
        assigns=(Assign("out", ("i", "j"), add(read("x", i, j), read("b", j))),),
    )


def test_2d_broadcast_bias_over_non_unit_row_strides() -> None:
    fn = compile_formula(bias_add_kernel())
    wide = torch.randn(4, 9)
    x, b = wide[:, 2:7], torch.randn(5)
    out = torch.zeros(4, 8)
    fn(wide[:, 2:], b, out, 4, 5, wide.stride(0), out.stride(0))
    torch.testing.assert_close(out[:, :5], x + b)
    assert (out[:, 5:] == 0).all()


def test_transpose() -> None:
    M, N = var("M"), var("N")
    f = Formula(
        name="transpose",
        params=(*tensor_params("x_ptr", "y_ptr"), Param("M", "int"), Param("N", "int")),
        tensors=(TensorDecl("x", (M, N), (N, ONE), "x_ptr"), TensorDecl("y", (N, M), (M, ONE), "y_ptr")),
        assigns=(Assign("y", ("j", "i"), read("x", i, j)),),
    )
    fn = compile_formula(f)
    x, y = torch.randn(3, 5), torch.empty(5, 3)
    fn(x, y, 3, 5)
    torch.testing.assert_close(y, x.T)


def test_guarded_out_of_range_reads() -> None:
    n = var("n")
    body = add(
        where(lt(add(i, ONE), n), read("x", add(i, ONE)), const(0.0)),
        where(lt(ZERO, i), read("x", sub(i, ONE)), const(100.0)),
    )
    f = Formula(
        name="neighbours",
        params=(*tensor_params("x_ptr", "out_ptr"), Param("n", "int")),
        tensors=(TensorDecl("x", (n,), (ONE,), "x_ptr"), TensorDecl("out", (n,), (ONE,), "out_ptr")),
        assigns=(Assign("out", ("i",), body),),
    )
    fn = compile_formula(f)
    x, out = torch.arange(1.0, 6.0), torch.empty(5)
    fn(x, out, 5)
    assert out.tolist() == [2.0 + 100.0, 3.0 + 1.0, 4.0 + 2.0, 5.0 + 3.0, 0.0 + 4.0]
    fn(torch.empty(0), torch.empty(0), 0)


def row_reduction_kernel(op: Op, body: Expr) -> Formula:
    M, N = var("M"), var("N")
    return Formula(
        name="rows",
        params=(*tensor_params("x_ptr", "out_ptr"), Param("M", "int"), Param("N", "int")),
        tensors=(TensorDecl("x", (M, N), (N, ONE), "x_ptr"), TensorDecl("out", (M,), (ONE,), "out_ptr")),
        assigns=(Assign("out", ("i",), reduce(op, "k", ZERO, N, body)),),
    )


@pytest.mark.parametrize(
    ("op", "ref"),
    [
        (Op.SUM, lambda x: x.sum(1)),
        (Op.PROD, lambda x: x.prod(1)),
        (Op.RMAX, lambda x: x.amax(1)),
        (Op.RMIN, lambda x: x.amin(1)),
    ],
)
def test_row_reductions(op: Op, ref: Callable[[torch.Tensor], torch.Tensor]) -> None:
    fn = compile_formula(row_reduction_kernel(op, read("x", i, k)))
    x, out = torch.randn(4, 6), torch.empty(4)
    fn(x, out, 4, 6)
    torch.testing.assert_close(out, ref(x))
    fn(x, out, 4, 0)  # empty rows: the identity
    identity = {Op.SUM: 0.0, Op.PROD: 1.0, Op.RMAX: -math.inf, Op.RMIN: math.inf}[op]
    assert (out == identity).all()


def test_reduction_bounds_depend_on_the_index_and_nest() -> None:
    n = var("n")
    m = var("m")
    cumsum = reduce(Op.SUM, "k", ZERO, add(i, ONE), read("x", k))
    # sum_{k <= i} sum_{m <= k} x[m], and a window [i - 1, i + 2) clipped by n
    nested = reduce(Op.SUM, "k", ZERO, add(i, ONE), reduce(Op.SUM, "m", ZERO, add(k, ONE), read("x", m)))
    window = reduce(Op.RMAX, "k", sub(i, ONE), arith(Op.MINIMUM, add(i, const(2)), n), read("x", k))
    f = Formula(
        name="scans",
        params=(*tensor_params("x", "a", "b", "c"), Param("n", "int")),
        tensors=tuple(TensorDecl(t, (n,), (ONE,), t) for t in "xabc"),
        assigns=(Assign("a", ("i",), cumsum), Assign("b", ("i",), nested), Assign("c", ("i",), window)),
    )
    fn = compile_formula(f)
    x = torch.tensor([3.0, -1.0, 4.0, 1.0, -5.0])
    a, b, c = torch.empty(5), torch.empty(5), torch.empty(5)
    fn(x, a, b, c, 5)
    torch.testing.assert_close(a, torch.cumsum(x, 0))
    torch.testing.assert_close(b, torch.cumsum(torch.cumsum(x, 0), 0))
    assert c.tolist() == [3.0, 4.0, 4.0, 4.0, 1.0]  # at i = 0 the window is [-1, 2): x[-1] reads x[0]


def test_one_sub_term_under_two_reductions_with_different_ranges() -> None:
    n = var("n")
    xk = read("x", k)  # the same node, bound by two different reductions
    body = add(reduce(Op.SUM, "k", ZERO, n, xk), reduce(Op.RMAX, "k", i, n, mul(xk, xk)))
    f = Formula(
        name="two",
        params=(*tensor_params("x", "out"), Param("n", "int")),
        tensors=(TensorDecl("x", (n,), (ONE,), "x"), TensorDecl("out", (n,), (ONE,), "out")),
        assigns=(Assign("out", ("i",), body),),
    )
    fn = compile_formula(f)
    x, out = torch.tensor([3.0, -1.0, 4.0, 1.0, -5.0]), torch.empty(5)
    fn(x, out, 5)
    assert out.tolist() == [2.0 + v for v in (25.0, 25.0, 25.0, 25.0, 25.0)]
    x2 = torch.tensor([-6.0, -1.0, 4.0, 1.0, 0.5])
    fn(x2, out, 5)
    assert out.tolist() == [-1.5 + v for v in (36.0, 16.0, 16.0, 1.0, 0.25)]


def test_int_outputs_and_host_c_division() -> None:
    n = var("n")
    half = arith(Op.TRUNCDIV, n, const(2))  # a size computed with C division on the host
    body = sub(arith(Op.FLOORDIV, sub(i, const(5)), const(2)), arith(Op.TRUNCDIV, sub(i, const(5)), const(2)))
    # host-level (Python int) C division and remainder of a negative scalar argument
    body = add(body, mul(arith(Op.TRUNCDIV, var("m"), const(4)), arith(Op.TRUNCMOD, var("m"), const(4))))
    f = Formula(
        name="ints",
        params=(*tensor_params("out", "flags"), Param("n", "int"), Param("m", "int")),
        tensors=(TensorDecl("out", (half,), (ONE,), "out"), TensorDecl("flags", (half,), (ONE,), "flags")),
        assigns=(
            Assign("out", ("i",), add(body, arith(Op.TRUNCMOD, sub(i, const(5)), const(3)))),
            Assign("flags", ("i",), and_(lt(const(1), i), not_(compare(Op.EQ, i, const(3))))),
        ),
    )
    fn = compile_formula(f)
    out, flags = torch.empty(7, dtype=torch.int32), torch.empty(7, dtype=torch.bool)
    fn(out, flags, 15, -7)
    want = [(v - 5) // 2 - int((v - 5) / 2) + int(math.fmod(v - 5, 3)) + (-1) * (-3) for v in range(7)]
    assert out.tolist() == want
    assert flags.tolist() == [False, False, True, False, True, True, True]


def test_guarded_integer_division_by_zero_does_not_raise() -> None:
    n = var("n")
    f = Formula(
        name="ratios",
        params=(*tensor_params("a", "b"), Param("n", "int"), Param("d", "int")),
        tensors=(TensorDecl("a", (n,), (ONE,), "a"), TensorDecl("b", (n,), (ONE,), "b")),
        assigns=(
            Assign("a", ("i",), where(lt(ZERO, i), arith(Op.TRUNCDIV, const(-7), i), const(99))),
            Assign("b", ("i",), where(lt(ZERO, var("d")), arith(Op.MOD, i, var("d")), const(-1))),
        ),
    )
    fn = compile_formula(f)
    a, b = torch.empty(4, dtype=torch.int64), torch.empty(4, dtype=torch.int64)
    fn(a, b, 4, 0)
    assert a.tolist() == [99, -7, -3, -2] and b.tolist() == [-1] * 4
    fn(a, b, 4, 3)
    assert b.tolist() == [0, 1, 2, 0]


def test_constant_and_scalar_bodies() -> None:
    n = var("n")
    alpha = var("alpha", Kind.REAL)
    f = Formula(
        name="fill",
        params=(*tensor_params("a", "b", "c", "d"), Param("n", "int"), Param("alpha", "float", "0.5")),
        tensors=(*(TensorDecl(t, (n,), (ONE,), t) for t in "abd"), TensorDecl("c", (), (), "c")),
        assigns=(
            Assign("a", ("i",), const(1.5)),
            Assign("d", ("i",), where(lt(i, ONE), const(-math.inf), const(math.nan))),
            Assign("b", ("i",), mul(math_fn(Op.EXP, alpha), div(alpha, const(0.0)))),
            Assign("c", (), add(to_real(n), const(0.25))),
        ),
    )
    fn = compile_formula(f)
    a, b, c, d = torch.empty(3), torch.empty(3), torch.empty(()), torch.empty(3)
    fn(a, b, c, d, 3)  # alpha's default
    assert a.tolist() == [1.5] * 3 and b.tolist() == [math.inf] * 3 and c.item() == 3.25
    assert d[0].item() == -math.inf and d[1:].isnan().all()


def softmax_operator() -> Formula:
    M, N = var("x.shape[0]"), var("x.shape[1]")
    x = lambda *idx: read("x", *idx)  # noqa: E731
    mx = reduce(Op.RMAX, "k", ZERO, N, x(i, k))
    denom = reduce(Op.SUM, "k", ZERO, N, math_fn(Op.EXP, sub(x(i, k), mx)))
    strides = lambda t: (var(f"{t}.stride(0)"), var(f"{t}.stride(1)"))  # noqa: E731
    return Formula(
        name="softmax",
        params=(Param("x", "tensor"), Param("dim", "int", "1")),
        tensors=(
            TensorDecl("x", (M, N), strides("x"), "x"),
            TensorDecl("out", (M, N), strides("out"), "out"),
        ),
        assigns=(Assign("out", ("i", "j"), div(math_fn(Op.EXP, sub(x(i, j), mx)), denom)),),
        returns=("out",),
        allocs=(Alloc("out", (M, N), like="x"),),
    )


def test_operator_with_alloc_and_return() -> None:
    fn = compile_formula(softmax_operator())
    x = torch.randn(7, 5).T  # non-contiguous
    torch.testing.assert_close(fn(x), torch.softmax(x, dim=1))
    assert fn(torch.empty(0, 3)).shape == (0, 3)


def test_allocs_without_like_and_several_returns() -> None:
    M, N = var("x.shape[0]"), var("x.shape[1]")
    f = Formula(
        name="row_stats",
        params=(Param("x", "tensor"),),
        tensors=(
            TensorDecl("x", (M, N), (var("x.stride(0)"), var("x.stride(1)")), "x"),
            TensorDecl("s", (M,), (ONE,), "s"),
            TensorDecl("t", (M,), (ONE,), "t"),
        ),
        assigns=(
            Assign("s", ("i",), reduce(Op.SUM, "k", ZERO, N, read("x", i, k))),
            Assign("t", ("i",), add(read("s", i), const(1.0))),
        ),
        returns=("s", "t"),
        allocs=(Alloc("s", (M,), dtype_like="x"), Alloc("t", (M,), zeros=True)),
    )
    fn = compile_formula(f)
    x = torch.randn(3, 4, dtype=torch.float64)
    s, t = fn(x)
    assert s.dtype == torch.float64 and t.dtype == torch.float32
    torch.testing.assert_close(s, x.sum(1))
    torch.testing.assert_close(t, (x.sum(1) + 1).float())


def test_names_that_collide_with_parameters() -> None:
    n = var("i")  # a size parameter called `i`, and a reduction index called `k` while a parameter is `k`
    f = Formula(
        name="clash",
        params=(*tensor_params("x", "out"), Param("i", "int"), Param("k", "int")),
        tensors=(TensorDecl("x", (n,), (ONE,), "x"), TensorDecl("out", (n,), (ONE,), "out")),
        assigns=(Assign("out", ("i",), add(read("x", i), mul(to_real(var("k")), const(0.0)))),),
    )
    fn = compile_formula(f)
    x, out = torch.randn(4), torch.empty(4)
    fn(x, out, 4, 99)
    torch.testing.assert_close(out, x)


@pytest.mark.parametrize("bad", [mem("x_ptr", i), undef("masked")], ids=["MEM", "UNDEF"])
def test_mem_and_undef_are_refused(bad: Expr) -> None:
    f = Formula(
        "f", tensor_params("out"), (TensorDecl("out", (ONE,), (ONE,), "out"),), (Assign("out", ("i",), bad),)
    )
    with pytest.raises(ValueError, match=bad.op.name):
        formula_torch(f)


# ---------------------------------------------------------------------------------------------
# differential: random bodies, the printed torch against `evaluate` element by element

M_, N_ = var("x.shape[0]"), var("x.shape[1]")
INT_LEAVES = st.one_of(st.sampled_from([i, j, var("n"), N_]), st.integers(-3, 6).map(const))
REAL_LEAVES = st.one_of(
    st.just(var("alpha", Kind.REAL)),
    st.floats(-3, 3, allow_nan=False).map(const),
    st.builds(lambda a, b: read("x", a, b), st.sampled_from([i, j, k]), st.sampled_from([i, j, k])),
    st.builds(lambda a: read("b", a), st.sampled_from([i, j, k])),
)


@st.composite
def int_exprs(draw: st.DrawFn, depth: int) -> Expr:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(INT_LEAVES)
    a, b = draw(int_exprs(depth - 1)), draw(int_exprs(depth - 1))
    match draw(st.integers(0, 4)):
        case 0:
            return arith(draw(st.sampled_from([Op.ADD, Op.SUB, Op.MUL, Op.MINIMUM, Op.MAXIMUM])), a, b)
        case 1:
            op = draw(st.sampled_from([Op.FLOORDIV, Op.MOD, Op.TRUNCDIV, Op.TRUNCMOD]))
            return arith(op, a, const(draw(st.sampled_from([-3, -2, 2, 3]))))
        case 2:
            return where(draw(bool_exprs(depth - 1)), a, b)
        case 3:
            return cast(draw(REAL_LEAVES), "int32")
    return neg(a) if draw(st.booleans()) else reduce(Op.SUM, "k", a, arith(Op.MINIMUM, b, const(7)), k)


@st.composite
def bool_exprs(draw: st.DrawFn, depth: int) -> Expr:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.booleans())
        leaves = int_exprs(depth) if kind else real_exprs(max(depth - 1, 0))
        return compare(
            draw(st.sampled_from([Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE])), draw(leaves), draw(leaves)
        )
    a, b = draw(bool_exprs(depth - 1)), draw(bool_exprs(depth - 1))
    return draw(st.sampled_from([and_(a, b), or_(a, b), not_(a)]))


@st.composite
def real_exprs(draw: st.DrawFn, depth: int) -> Expr:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(REAL_LEAVES)
    a, b = draw(real_exprs(depth - 1)), draw(real_exprs(depth - 1))
    match draw(st.integers(0, 7)):
        case 0:
            return arith(draw(st.sampled_from([Op.ADD, Op.SUB, Op.MUL, Op.MINIMUM, Op.MAXIMUM])), a, b)
        case 1:
            return div(a, add(const(0.5), math_fn(Op.ABS, b)))  # denominators away from 0
        case 2:
            ops = [Op.EXP, Op.EXP2, Op.SIGMOID, Op.ERF, Op.TANH, Op.SIN, Op.COS, Op.FLOOR, Op.CEIL, Op.ABS]
            return math_fn(draw(st.sampled_from(ops)), a)
        case 3:
            positive = add(const(0.25), math_fn(Op.ABS, a))
            op = draw(st.sampled_from([Op.LOG, Op.LOG2, Op.SQRT, Op.RSQRT]))
            return math_fn(op, positive) if draw(st.booleans()) else math_fn(Op.POW, positive, const(1.5))
        case 4:
            return where(draw(bool_exprs(depth - 1)), a, b)
        case 5:
            return to_real(draw(st.one_of(int_exprs(depth - 1), bool_exprs(depth - 1))))
        case 6:
            return neg(a)
    op = draw(st.sampled_from([Op.SUM, Op.RMAX, Op.RMIN]))
    lo, hi = draw(int_exprs(1)), draw(int_exprs(1))
    return reduce(op, "k", lo, arith(Op.MINIMUM, hi, const(8)), a)


def _differential_formula(body: Expr) -> Formula:
    n = var("n")
    return Formula(
        name="diff",
        # `k` outside a reduction is this parameter; inside, the reduction's index shadows it
        params=(
            *tensor_params("x", "b", "out"),
            Param("alpha", "float"),
            Param("n", "int"),
            Param("k", "int"),
        ),
        tensors=(
            TensorDecl("x", (M_, N_), (var("x.stride(0)"), var("x.stride(1)")), "x"),
            TensorDecl("b", (N_,), (ONE,), "b"),
            TensorDecl("out", (M_, N_), (N_, ONE), "out"),
        ),
        assigns=(Assign("out", ("i", "j"), where(le(n, const(-100)), const(0.0), body)),),
    )


@settings(max_examples=200, deadline=None)
@given(
    body=real_exprs(4),
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4)),
    alpha=st.floats(-2, 2),
    n=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_torch_agrees_with_evaluate(
    body: Expr, shape: tuple[int, int], alpha: float, n: int, seed: int
) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=gen, dtype=torch.float64) * 4 - 2
    b = torch.rand(shape[1], generator=gen, dtype=torch.float64) * 4 - 2
    out = torch.empty(shape, dtype=torch.float64)
    f = _differential_formula(body)
    compile_formula(f, real_dtype="float64")(x, b, out, alpha, n, 1)

    def clamped_read(name: str, idx: tuple[int, ...]) -> float:  # the printer's defined out-of-range reads
        t = {"x": x, "b": b}[name]
        return float(t[tuple(min(max(v, 0), s - 1) for v, s in zip(idx, t.shape, strict=True))])

    sizes = {"x.shape[0]": shape[0], "x.shape[1]": shape[1], "x.stride(0)": shape[1], "x.stride(1)": 1}
    for ii in range(shape[0]):
        for jj in range(shape[1]):
            env = Env(vars={"i": ii, "j": jj, "alpha": alpha, "n": n, "k": 1, **sizes}, read=clamped_read)
            try:
                want = evaluate(f.assigns[0].body, env)
            except ValueError:  # int cast of nan/inf: no defined value
                continue
            got = out[ii, jj].item()
            if math.isnan(want):
                continue
            assert got == pytest.approx(want, rel=1e-6, abs=1e-6), (ii, jj, formula_torch(f))


# ---------------------------------------------------------------------------------------------
# whole-tensor forms (ir.tensor_form): the idiomatic torch call computes what the indexed formula does

WHOLE_CASES = [
    ("x[i, j] + alpha * y[i, j]", ("i", "j"), "x + alpha * y"),
    ("x[i, j] * s[i]", ("i", "j"), "x * s[:, None]"),
    ("sum(x[i, k] for k in range(N))", ("i",), "torch.sum(x, dim=1)"),
    ("max(x[k, i] for k in range(M))", ("i",), "_amax(x, dim=0)"),
    ("min(x[i, k] for k in range(N))", ("i",), "_amin(x, dim=1)"),
    ("softmax(x[i, k] for k in range(N))[j]", ("i", "j"), "torch.softmax(x, dim=1)"),
    ("log_softmax(x[k, j] for k in range(M))[i]", ("i", "j"), "torch.log_softmax(x, dim=0)"),
    ("logsumexp(x[i, k] for k in range(N))", ("i",), "torch.logsumexp(x, dim=1)"),
    ("mean(x[i, k] for k in range(N))", ("i",), "torch.mean(x, dim=1)"),
    ("variance(x[i, k] for k in range(N))", ("i",), "torch.var(x, dim=1, correction=0)"),
    ("std(x[k, i] for k in range(M))", ("i",), "torch.std(x, dim=0, correction=0)"),
    ("normalize((x[i, k] for k in range(N)), eps)[j]", ("i", "j"), "torch.nn.functional.normalize("),
    ("layer_norm((x[i, k] for k in range(N)), eps)[j]", ("i", "j"), "torch.nn.functional.layer_norm("),
    (
        "layer_norm((x[i, k] for k in range(N)), eps)[j] * b[j] + c[j]",
        ("i", "j"),
        "torch.nn.functional.layer_norm(x, (x.shape[1],), b, c, eps=eps)",
    ),
    (
        "c[j] + layer_norm((x[i, k] for k in range(N)), eps)[j]",
        ("i", "j"),
        "torch.nn.functional.layer_norm(x, (x.shape[1],), None, c, eps=eps)",
    ),
    (
        "b[j] * rms_norm((x[i, k] for k in range(N)), eps)[j]",
        ("i", "j"),
        "torch.nn.functional.rms_norm(x, (x.shape[1],), b, eps=eps)",
    ),
    ("sum(x[i, k] * t[k, j] for k in range(N))", ("i", "j"), "x @ t"),
]


@pytest.mark.parametrize(("text", "index", "call"), WHOLE_CASES, ids=[c[0] for c in WHOLE_CASES])
@pytest.mark.parametrize("shape", [(3, 4), (2, 1), (3, 0), (0, 2)], ids=str)
def test_whole_tensor_torch_agrees_with_evaluate(text: str, index: tuple[str, ...], call: str, shape) -> None:
    """The operator's torch function calls the tensors themselves (no as_strided) and agrees with the
    formula element by element, empty rows included (max over nothing is -inf)."""
    from tritonlift.ir.parse import parse_expr

    m, n = shape
    M, N = var("x.shape[0]"), var("x.shape[1]")
    sizes = {"x.shape[0]": m, "x.shape[1]": n, "M": m, "N": n}
    body = parse_expr(text.replace("range(M)", "range(x.shape[0])").replace("range(N)", "range(x.shape[1])"), {
        "alpha": Kind.REAL, "eps": Kind.REAL})  # fmt: skip
    own = lambda t, r: TensorDecl(t, tuple(var(f"{t}.shape[{d}]") for d in range(r)), tuple(var(f"{t}.stride({d})") for d in range(r)), t)  # noqa: E731
    out_shape = (M, N)[: len(index)] if not (text.startswith(("max(x[k", "std(x[k"))) else (N,)
    if "t[k, j]" in text:
        out_shape = (M, var("t.shape[1]"))
    out = Alloc("out", out_shape, dtype_like="x")
    f = Formula(
        name="op",
        params=(*tensor_params("x", "y", "s", "b", "c", "t"), Param("alpha", "float"), Param("eps", "float")),
        tensors=(
            own("x", 2), own("y", 2), own("s", 1), own("b", 1), own("c", 1), own("t", 2),
            TensorDecl("out", out_shape, tuple(reversed((ONE, out_shape[-1])))[2 - len(out_shape):], "out"),
        ),
        assigns=(Assign("out", index, body),),
        returns=("out",),
        allocs=(out,),
        assumptions=("y.shape[0] == x.shape[0]", "y.shape[1] == x.shape[1]", "s.shape[0] == x.shape[0]",
                     "b.shape[0] == x.shape[1]", "c.shape[0] == x.shape[1]", "t.shape[0] == x.shape[1]"),
    )  # fmt: skip
    src = formula_torch(f, real_dtype="float64", whole=True)
    assert call in src and "as_strided" not in src and "_rd(" not in src, src
    gen = torch.Generator().manual_seed(5)
    x, y = (torch.randn(m, n, generator=gen, dtype=torch.float64) for _ in range(2))
    s = torch.randn(m, generator=gen, dtype=torch.float64)
    b, c = (torch.randn(n, generator=gen, dtype=torch.float64) for _ in range(2))
    t = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    got = compile_formula(f, real_dtype="float64", whole=True)(x, y, s, b, c, t, 0.7, 1e-5)
    tensors = {"x": x, "y": y, "s": s, "b": b, "c": c, "t": t}
    env_sizes = sizes | {"t.shape[1]": 3}
    for idx in np_index(got.shape):
        env = Env(vars={**dict(zip(index, idx, strict=True)), "alpha": 0.7, "eps": 1e-5, **env_sizes},
                  read=lambda name, i: float(tensors[name][i]))  # fmt: skip
        want = evaluate(body, env)
        assert got[idx].item() == pytest.approx(want, rel=1e-9, abs=1e-9, nan_ok=True), (idx, src)


def np_index(shape: torch.Size) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(*(range(d) for d in shape)))


def test_batched_matmul_is_one_at_sign() -> None:
    from tritonlift.ir.parse import parse_expr
    from tritonlift.ir.printer import contiguous_strides

    def own(t: str) -> TensorDecl:
        return TensorDecl(t, tuple(var(f"{t}.shape[{d}]") for d in range(3)), tuple(var(f"{t}.stride({d})") for d in range(3)), t)  # fmt: skip

    shape = (var("P.shape[0]"), var("P.shape[1]"), var("Q.shape[2]"))
    body = parse_expr("sum(P[i, j, k] * Q[i, k, l] for k in range(P.shape[2]))")
    f = Formula(
        name="bmm",
        params=tensor_params("P", "Q"),
        tensors=(own("P"), own("Q"), TensorDecl("out", shape, contiguous_strides(shape), "out")),
        assigns=(Assign("out", ("i", "j", "l"), body),),
        returns=("out",),
        allocs=(Alloc("out", shape, dtype_like="P"),),
        assumptions=("Q.shape[0] == P.shape[0]", "Q.shape[1] == P.shape[2]"),
    )  # fmt: skip
    src = formula_torch(f, real_dtype="float64", whole=True)
    assert "out.copy_(P @ Q)" in src, src
    gen = torch.Generator().manual_seed(3)
    p, q = torch.randn(2, 3, 4, generator=gen, dtype=torch.float64), torch.randn(2, 4, 5, generator=gen, dtype=torch.float64)
    got = compile_formula(f, real_dtype="float64", whole=True)(p, q)
    sizes = {"P.shape[0]": 2, "P.shape[1]": 3, "P.shape[2]": 4, "Q.shape[2]": 5}
    for idx in np_index(got.shape):
        env = Env(vars={**dict(zip(("i", "j", "l"), idx, strict=True)), **sizes},
                  read=lambda name, ix: float({"P": p, "Q": q}[name][ix]))  # fmt: skip
        assert got[idx].item() == pytest.approx(evaluate(body, env), rel=1e-9, abs=1e-9)
