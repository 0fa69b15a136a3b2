"""tl.reduce with combine functions, product accumulators, keep_dims, tl.range / tl.static_range loops, fused
lane dimensions, and the reduction rewrites and printing they rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.reductions import canon
from tritonlift.options import Options
from tritonlift.symbolic.combine import classify, operands
from tritonlift.symbolic.loops import placeholder, summarize

HEADER = "import triton\nimport triton.language as tl\n\n\n"


def lift_src(tmp_path: Path, src: str, op: str | None = None, expect: str | None = None):
    f = tmp_path / "k.py"
    f.write_text(HEADER + src)
    results = lift_file(f, Options(expect=expect) if expect else Options())
    return {r.name: r for r in results} if op is None else next(r for r in results if r.name == op)


# ---- combine functions: which reduction a helper is


A, B = operands(Kind.REAL)


@pytest.mark.parametrize(
    ("body", "op"),
    [
        (ir.add(A, B), Op.SUM),
        (ir.add(B, A), Op.SUM),
        (ir.mul(B, A), Op.PROD),
        (ir.maximum(A, B), Op.RMAX),
        (ir.where(ir.compare(Op.GT, A, B), A, B), Op.RMAX),
        (ir.where(ir.compare(Op.GE, B, A), B, A), Op.RMAX),
        (ir.where(ir.lt(A, B), A, B), Op.RMIN),
        (ir.minimum(B, A), Op.RMIN),
    ],
)
def test_combine_recognised(body, op):
    assert classify(body, Kind.REAL) is op


@pytest.mark.parametrize(
    "body",
    [
        ir.sub(A, B),  # not commutative
        ir.add(ir.mul(A, B), ir.const(1.0)),  # a * b + 1: not one of the four
        ir.where(ir.lt(A, B), A, ir.add(A, B)),  # min where a < b, a + b elsewhere
        ir.add(A, ir.var("alpha", Kind.REAL)),  # reads something besides its operands
        ir.math_fn(Op.EXP, ir.add(A, B)),
        A,  # keeps its first operand: associative, not commutative
    ],
)
def test_combine_rejected(body):
    assert classify(body, Kind.REAL) is None


def test_combine_integers():
    a, b = operands(Kind.INT)
    assert classify(ir.add(a, b), Kind.INT) is Op.SUM
    assert classify(ir.maximum(b, a), Kind.INT) is Op.RMAX


REDUCE_ROWS = """@triton.jit
def _combine(a, b):
    return BODY


@triton.jit
def rows(X, Out, N, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    x = tl.load(X + pid * N + offs, mask=offs < N, other=OTHER)
    tl.store(Out + pid, tl.reduce(x, 0, _combine))


def host(x):
    x = x.contiguous()
    M, N = x.shape
    out = torch.empty((M,), device=x.device, dtype=x.dtype)
    rows[(M,)](x, out, N, BLOCK=triton.next_power_of_2(N))
    return out
"""


@pytest.mark.parametrize(
    ("body", "other", "formula"),
    [
        ("a * b", "1.0", "out = x.prod(dim=1)"),
        ("b + a", "0.0", "out = x.sum(dim=1)"),
        ("tl.maximum(a, b)", 'float("-inf")', "out = x.amax(dim=1)"),
        ("tl.where(a < b, a, b)", 'float("inf")', "out = x.amin(dim=1)"),
    ],
)
def test_tl_reduce_rows(tmp_path: Path, body: str, other: str, formula: str) -> None:
    src = "import torch\n" + REDUCE_ROWS.replace("BODY", body).replace("OTHER", other)
    got = lift_src(tmp_path, src)
    assert got["rows"].status == "verified", got["rows"].message
    assert got["host"].status == "verified", got["host"].message
    assert got["host"].formula == formula
    assert "_combine" not in got  # a combine helper is not an entry point


def test_tl_reduce_wrong_identity_is_refuted(tmp_path: Path) -> None:
    src = "import torch\n" + REDUCE_ROWS.replace("BODY", "a * b").replace("OTHER", "0.0")
    got = lift_src(tmp_path, src, "host", expect="out = x.prod(dim=1)")
    assert got.status == "refuted"
    assert got.counterexample is not None


@pytest.mark.parametrize(
    ("body", "why"),
    [("a - b", "is not +, *, maximum or minimum"), ("a * b + 1.0", "is not +, *, maximum or minimum")],
)
def test_tl_reduce_other_combine_unsupported(tmp_path: Path, body: str, why: str) -> None:
    src = "import torch\n" + REDUCE_ROWS.replace("BODY", body).replace("OTHER", "0.0")
    r = lift_src(tmp_path, src, "rows")
    assert r.status == "unsupported"
    assert why in r.message and "k.py:16:" in r.message


def test_tl_reduce_tuple_unsupported(tmp_path: Path) -> None:
    src = """@triton.jit
def _argmax_combine(a, ia, b, ib):
    keep = (a > b) | ((a == b) & (ia < ib))
    return tl.where(keep, a, b), tl.where(keep, ia, ib)


@triton.jit
def amax_index(X, Out, N, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(X + offs, mask=offs < N, other=float("-inf"))
    v, i = tl.reduce((x, offs), 0, _argmax_combine)
    tl.store(Out, i)
"""
    r = lift_src(tmp_path, src, "amax_index")
    assert r.status == "unsupported"
    assert "tl.reduce over a tuple" in r.message and "k.py:15:" in r.message


# ---- product accumulators


def test_accumulate_prod_summary():
    p = placeholder("acc", (), Kind.REAL)
    g = ir.read("x", ir.var("_t1"))
    s = summarize("acc", ir.const(1.0), ir.mul(p, g), p, "_t1", ir.var("T"), 3, "k.py")
    assert s.pattern == "accumulate-prod"
    assert s.closed.op is Op.PROD and s.closed.args[1] == ir.var("T")
    env = Env(vars={"T": 4}, read=lambda name, idx: float(idx[0] + 2))
    assert evaluate(s.closed, env) == 2 * 3 * 4 * 5
    with pytest.raises(Unsupported, match="accumulate sum/product"):  # acc = acc * acc is no pattern
        summarize("acc", ir.const(1.0), ir.mul(p, p), p, "_t1", ir.var("T"), 3, "k.py")


PROD_LOOP = """@triton.jit
def prod_rows(X, Out, N, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    acc = tl.full((BLOCK,), 1.0, tl.float32)
    for start in LOOP:
        offs = start + tl.arange(0, BLOCK)
        acc *= tl.load(X + pid * N + offs, mask=offs < N, other=OTHER)
    tl.store(Out + pid, tl.reduce(acc, 0, _mul))


@triton.jit
def _mul(a, b):
    return a * b
"""


@pytest.mark.parametrize(
    "loop", ["range(0, N, BLOCK)", "tl.range(0, N, BLOCK)", "tl.range(0, N, BLOCK, num_stages=2)"]
)
def test_prod_loop_verified(tmp_path: Path, loop: str) -> None:
    r = lift_src(tmp_path, PROD_LOOP.replace("LOOP", loop).replace("OTHER", "1.0"), "prod_rows")
    assert r.status == "verified", r.message
    assert r.formula == "Out.view(grid[0]) = X.view(grid[0], N).prod(dim=1)", r.formula


def test_prod_loop_other_zero_refuted(tmp_path: Path) -> None:
    good = lift_src(
        tmp_path, PROD_LOOP.replace("LOOP", "range(0, N, BLOCK)").replace("OTHER", "1.0"), "prod_rows"
    )
    bad = PROD_LOOP.replace("LOOP", "range(0, N, BLOCK)").replace("OTHER", "0.0")
    r = lift_src(tmp_path, bad, "prod_rows", expect=good.formula)
    assert r.status == "refuted" and r.counterexample is not None


def test_static_range_unrolls(tmp_path: Path) -> None:
    src = """@triton.jit
def three_rows(X, Out, N, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    acc = tl.zeros((BLOCK,), tl.float32)
    for r in tl.static_range(3):
        acc += tl.load(X + r * N + offs, mask=offs < N, other=0.0)
    tl.store(Out + offs, acc, mask=offs < N)
"""
    r = lift_src(tmp_path, src, "three_rows")
    assert r.status == "verified", r.message
    raw = r.formula_raw
    assert raw.count("X_v[") == 3, raw


def test_keep_dims(tmp_path: Path) -> None:
    src = """@triton.jit
def row_sums(X, Out, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.program_id(0) * BM + tl.arange(0, BM)[:, None]
    cols = tl.arange(0, BN)[None, :]
    x = tl.load(X + rows * N + cols, mask=(rows < M) & (cols < N), other=0.0)
    s = tl.sum(x, axis=1, keep_dims=True)
    tl.store(Out + rows, s, mask=rows < M)
"""
    r = lift_src(tmp_path, src, "row_sums")
    assert r.status == "verified", r.message
    assert r.formula.endswith(".sum(dim=1)"), r.formula


# ---- fused lane dimensions: a [BLOCK, VEC] tile walking one contiguous dimension


VEC = """@triton.jit
def scale(X, Out, K, B: tl.constexpr, V: tl.constexpr):
    pid = tl.program_id(0)
    k = pid * B * V + tl.arange(0, B)[:, None] * V + tl.arange(0, V)[None, :]
    x = tl.load(X + k, mask=k < K, other=0.0)
    tl.store(Out + k, x * 2.0, mask=MASK)
"""


def test_fused_tile_verified(tmp_path: Path) -> None:
    r = lift_src(tmp_path, VEC.replace("MASK", "k < K"), "scale")
    assert r.status == "verified", r.message
    assert r.formula == "Out.view(K) = X.view(K) * 2.0", r.formula


def test_fused_tile_off_by_one_refuted(tmp_path: Path) -> None:
    good = lift_src(tmp_path, VEC.replace("MASK", "k < K"), "scale")
    r = lift_src(tmp_path, VEC.replace("MASK", "k < K - 1"), "scale", expect=good.formula)
    assert r.status == "refuted" and r.counterexample is not None


# ---- reduction rewrites


def _sum(lo, hi, body, k="k"):
    return ir.reduce(Op.SUM, k, lo, hi, body)


def test_clip_empty_range():
    n, k = ir.var("n"), ir.var("k")
    body = ir.read("x", k)
    assert canon(_sum(ir.ZERO, ir.maximum(n, ir.ZERO), body)) == _sum(ir.ZERO, n, body)
    lo = ir.var("a")
    assert canon(_sum(lo, ir.maximum(lo, n), body)) == _sum(lo, n, body)
    # the same integers for every n and a: compare by evaluation
    for a in range(-3, 4):
        for nv in range(-3, 6):
            env = Env(vars={"n": nv, "a": a}, read=lambda name, idx: float(idx[0] * idx[0] + 1))
            assert evaluate(_sum(lo, ir.maximum(lo, n), body), env) == evaluate(_sum(lo, n, body), env)


def test_prod_mask_absorbed():
    n, k = ir.var("n"), ir.var("k")
    masked = ir.reduce(
        Op.PROD, "k", ir.ZERO, ir.var("B"), ir.where(ir.lt(k, n), ir.read("x", k), ir.const(1.0))
    )
    out = canon(masked)
    assert out.op is Op.PROD and out.args[1] == ir.minimum(ir.var("B"), n)
    assert out.args[2] == ir.read("x", k)


def test_covers_without_clip():
    """min(cdiv(e, B) * B, e) = e whether or not the trip count is clipped at 0."""
    e, b = ir.var("e"), ir.var("B")
    q = ir.arith(Op.FLOORDIV, ir.sub(ir.add(e, b), ir.ONE), b)
    for count in (q, ir.maximum(q, ir.ZERO)):
        assert canon(ir.minimum(ir.mul(count, b), e)) == e
        for ev in range(-9, 20):
            for bv in range(1, 6):
                env = Env(vars={"e": ev, "B": bv})
                assert evaluate(ir.minimum(ir.mul(count, b), e), env) == ev


# ---- printing a whole reduction of a flat view, and reading it back


def test_total_reduction_prints_without_dim(tmp_path: Path) -> None:
    src = """import torch


@triton.jit
def total(X, Out, N, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(X + offs, mask=offs < N, other=1.0)
    tl.store(Out, tl.reduce(x, 0, _mul))


@triton.jit
def _mul(a, b):
    return a * b


def total_prod(x):
    x = x.contiguous()
    n = x.numel()
    out = torch.empty([], device=x.device, dtype=x.dtype)
    total[(1,)](x, out, n, BLOCK=triton.next_power_of_2(n))
    return out
"""
    r = lift_src(tmp_path, src, "total_prod")
    assert r.status == "verified", r.message
    assert r.formula == "out = x.prod()"
    assert r.latex == r"\mathbf{out} = \prod \mathbf{x}"
    again = lift_src(tmp_path, src, "total_prod", expect="out = x.prod()")
    assert again.status == "verified", again.message
    ns: dict = {}
    exec(r.torch, ns)
    x = torch.rand(3, 4) + 0.5
    torch.testing.assert_close(ns["total_prod"](x), x.prod())


def test_middle_axis_reduction_is_whole_tensor(tmp_path: Path) -> None:
    src = """@triton.jit
def mid_sum(X, Out, N, K, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    ks = tl.program_id(1) * BLOCK_K + tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_K,), tl.float32)
    for n in range(N):
        acc += tl.load(X + pid_m * N * K + n * K + ks, mask=ks < K, other=0.0)
    tl.store(Out + pid_m * K + ks, acc / N, mask=ks < K)
"""
    r = lift_src(tmp_path, src, "mid_sum")
    assert r.status == "verified", r.message
    assert r.formula == "Out.view(grid[0], K) = X.view(grid[0], N, K).mean(dim=1)", r.formula
    assert "maximum(N, 0)" not in r.formula


def test_is_none_host_branch(tmp_path: Path) -> None:
    src = """import torch


@triton.jit
def copy(X, Out, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(Out + offs, tl.load(X + offs, mask=offs < N), mask=offs < N)


def copy_as(x, *, dtype=None):
    if dtype is None:
        dtype = x.dtype
    x = x.contiguous()
    out = torch.empty_like(x, dtype=dtype)
    n = x.numel()
    copy[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
    return out
"""
    r = lift_src(tmp_path, src, "copy_as")
    assert r.status == "verified", r.message
    assert r.formula == "out = x"  # both sides of `dtype is None` (host cases with one formula, merged)
    assert r.torch.startswith("def copy_as(x, *, dtype=None):")
