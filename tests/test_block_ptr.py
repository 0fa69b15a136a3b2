"""Block pointers (symbolic/block_ptr.py): tl.make_block_ptr, tl.advance, boundary_check, padding_option,
block pointers carried through loops, and the exact removal of implied `0 <= offset` lower bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Kind
from tritonlift.options import Options
from tritonlift.symbolic import block_ptr as bptr
from tritonlift.symbolic.values import Block, PtrBlock, lane, pid

HEADER = "import triton\nimport triton.language as tl\n\n\n"


def lift_src(tmp_path: Path, src: str, op: str | None = None, expect: str | None = None, **options: object):
    f = tmp_path / "k.py"
    f.write_text(HEADER + src)
    results = lift_file(f, Options(expect=expect, **options))
    return {r.name: r for r in results} if op is None else next(r for r in results if r.name == op)


def fail(what: str) -> Unsupported:
    return Unsupported(what, "k.py", 1)


M, N, SM, SN, BM, BN = (ir.var(n) for n in ("M", "N", "sm", "sn", "BM", "BN"))
BASE = PtrBlock((), "x", ir.var("off"))


def make(offsets=(ir.ZERO, ir.ZERO)) -> bptr.BlockPtr:
    return bptr.make_block_ptr(BASE, (M, N), (SM, SN), offsets, (BM, BN), (1, 0), fail)


# ---- the value: Triton's _block_ptr._materialize


def test_materialize_checks_only_the_named_dimensions():
    p = make((ir.mul(pid(0), BM), ir.const(3)))
    ptrs, mask = bptr.materialize(p, (1,))
    r = ir.add(ir.mul(pid(0), BM), lane(0))
    c = ir.add(ir.const(3), lane(1))
    assert ptrs.shape == (BM, BN) and ptrs.base == "x"
    assert ptrs.offset == ir.add(ir.add(ir.var("off"), ir.mul(r, SM)), ir.mul(c, SN))
    assert mask == ir.and_(ir.le(ir.ZERO, c), ir.lt(c, N))  # dimension 0 unchecked
    assert bptr.materialize(p, ())[1] == ir.TRUE
    both = bptr.materialize(p, (1, 0))[1]
    assert set(ir.conjuncts(both)) == {ir.le(ir.ZERO, r), ir.lt(r, M), ir.le(ir.ZERO, c), ir.lt(c, N)}


def test_advance_adds_to_the_offsets():
    p = bptr.advance(make(), (ir.const(0), Block((), BN)), fail)
    assert p.offsets == (ir.ZERO, BN)
    assert bptr.advance(p, (1, 2), fail).offsets == (ir.ONE, ir.add(BN, ir.const(2)))
    with pytest.raises(Unsupported, match="rank 2"):
        bptr.advance(p, (1,), fail)
    with pytest.raises(Unsupported, match="not a block pointer"):
        bptr.advance(BASE, (1, 2), fail)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((Block((BM,), lane(0)), (M,), (1,), (0,), (BM,), (0,)), "scalar pointer"),
        ((BASE, (M, N), (SM,), (0, 0), (BM, BN), (1, 0)), "differ in length"),
        ((BASE, (M, N), (SM, SN), (0, 0), (BM, BN), (1, 1)), "permutation"),
        ((BASE, (M,), (Block((), ir.var("s", Kind.REAL)),), (0,), (BM,), (0,)), "integer"),
    ],
)
def test_make_block_ptr_rejects(args, match):
    with pytest.raises(Unsupported, match=match):
        bptr.make_block_ptr(*args, fail)


def test_boundary_check_dimensions():
    assert bptr.checked_dims((0, 1), 2, fail) == (0, 1)
    assert bptr.checked_dims(1, 2, fail) == (1,)
    assert bptr.checked_dims(None, 2, fail) == ()
    with pytest.raises(Unsupported):
        bptr.checked_dims((2,), 2, fail)
    with pytest.raises(Unsupported):
        bptr.checked_dims((0, 0), 2, fail)


def test_select_componentwise():
    c = ir.var("c", Kind.BOOL)
    a, b = make((ir.ZERO, ir.ZERO)), make((ir.ONE, ir.ZERO))
    s = bptr.select(c, a, b, fail)
    assert s.offsets == (ir.where(c, ir.ZERO, ir.ONE), ir.ZERO)
    other = bptr.make_block_ptr(PtrBlock((), "y", ir.ZERO), (M, N), (SM, SN), (0, 0), (BM, BN), (1, 0), fail)
    with pytest.raises(Unsupported, match="different tensors"):
        bptr.select(c, a, other, fail)


# ---- lower bounds: dropped only where implied


def test_implied_lower_bound_dropped():
    r = ir.add(ir.mul(pid(0), BM), lane(0))
    guard = ir.and_(ir.le(ir.ZERO, r), ir.lt(r, M))
    value = ir.where(guard, ir.mem("x", r), ir.const(0.0))
    ctx = [ir.le(ir.ZERO, pid(0)), ir.le(ir.ZERO, lane(0)), ir.lt(lane(0), BM), ir.le(ir.ONE, BM)]
    new_value, new_mask = bptr.drop_implied_lower_bounds(value, guard, ctx)
    assert new_mask == ir.lt(r, M)
    assert new_value == ir.where(ir.lt(r, M), ir.mem("x", r), ir.const(0.0))


def test_lower_bound_kept_when_it_can_fail():
    r = ir.sub(ir.add(ir.mul(pid(0), BM), lane(0)), ir.ONE)  # pid * BM + lane - 1: -1 for the first lane
    guard = ir.and_(ir.le(ir.ZERO, r), ir.lt(r, M))
    value = ir.where(guard, ir.mem("x", r), ir.const(0.0))
    ctx = [ir.le(ir.ZERO, pid(0)), ir.le(ir.ZERO, lane(0)), ir.lt(lane(0), BM), ir.le(ir.ONE, BM)]
    assert bptr.drop_implied_lower_bounds(value, ir.TRUE, ctx) == (value, ir.TRUE)


def test_lower_bound_inside_a_reduction_uses_the_bound_range():
    k = ir.var("_k1")
    r = ir.add(ir.mul(k, BN), lane(0))  # tile k of a loop: k >= 0 inside the reduction only
    body = ir.where(ir.and_(ir.le(ir.ZERO, r), ir.lt(r, N)), ir.mem("x", r), ir.const(0.0))
    red = ir.reduce(ir.Op.SUM, "_k1", ir.ZERO, ir.var("T"), body)
    ctx = [ir.le(ir.ZERO, lane(0)), ir.lt(lane(0), BN), ir.le(ir.ONE, BN)]
    value, _ = bptr.drop_implied_lower_bounds(red, ir.TRUE, ctx)
    assert value == ir.reduce(
        ir.Op.SUM, "_k1", ir.ZERO, ir.var("T"), ir.where(ir.lt(r, N), ir.mem("x", r), ir.const(0.0))
    )
    # the same guard outside the reduction, where k is a free integer: kept
    free = ir.where(ir.le(ir.ZERO, r), ir.mem("x", r), ir.const(0.0))
    assert bptr.drop_implied_lower_bounds(free, ir.TRUE, ctx)[0] == free


# ---- end to end


ROW_SUM = """@triton.jit
def row_sum_kernel(x_ptr, out_ptr, M, N, stride_m, stride_n, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)
    p = tl.make_block_ptr(x_ptr, (M, N), (stride_m, stride_n), (pid * BLOCK_M, 0), (BLOCK_M, BLOCK_N), (1, 0))
    acc = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for _ in range(0, tl.cdiv(N, BLOCK_N)):
        acc += tl.sum(tl.load(p, boundary_check=CHECK, padding_option=PAD), axis=1)
        p = ADVANCE
    q = tl.make_block_ptr(out_ptr, (M,), (1,), (pid * BLOCK_M,), (BLOCK_M,), (0,))
    tl.store(q, acc, boundary_check=(0,))
"""
GOOD = {"CHECK": "(0, 1)", "PAD": '"zero"', "ADVANCE": "tl.advance(p, (0, BLOCK_N))"}
ROW_SUM_FORMULA = "x = as_strided(x_ptr, (N, M), (stride_n, stride_m)); out_ptr.view(M) = x.sum(dim=0)"


def row_sum_src(**changes: str) -> str:
    src = ROW_SUM
    for k, v in (GOOD | changes).items():
        src = src.replace(k, v)
    return src


def test_row_sum_through_a_carried_block_pointer(tmp_path):
    r = lift_src(tmp_path, row_sum_src(), "row_sum_kernel")
    assert r.status == "verified", r.message
    assert r.formula == ROW_SUM_FORMULA


def test_advance_as_a_method(tmp_path):
    r = lift_src(tmp_path, row_sum_src(ADVANCE="p.advance((0, BLOCK_N))"), "row_sum_kernel", ROW_SUM_FORMULA)
    assert r.status == "verified", r.message


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"CHECK": "(0,)"}, "columns past N read unmasked"),
        ({"PAD": '""'}, "columns past N undefined"),
        ({"ADVANCE": "tl.advance(p, (0, BLOCK_N - 1))"}, "tiles overlap"),
        ({"ADVANCE": "tl.advance(p, (1, BLOCK_N))"}, "walks down the rows"),
    ],
)
def test_row_sum_mutants_not_verified(tmp_path, change, why):
    # the language's rule for undefined padding; zero-filled padding is the next test
    r = lift_src(tmp_path, row_sum_src(**change), "row_sum_kernel", ROW_SUM_FORMULA, masked_loads="undefined")
    assert r.status == "refuted", (why, r.status, r.message)
    assert r.counterexample is not None


def test_undefined_padding_read_as_zero_is_an_assumption(tmp_path):
    """padding_option="" leaves out-of-bounds lanes undefined; real backends zero them, and by default the
    proof then rests on that, saying so."""
    r = lift_src(tmp_path, row_sum_src(PAD='""'), "row_sum_kernel", ROW_SUM_FORMULA)
    assert r.status == "verified", r.message
    assert any(a.startswith("masked-off lanes of loads without other=") for a in r.assumptions), r.assumptions


SHIFT = """@triton.jit
def shift_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    src = tl.make_block_ptr(x_ptr, (n,), (1,), (pid * BLOCK - 1,), (BLOCK,), (0,))
    dst = tl.make_block_ptr(out_ptr, (n,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    tl.store(dst, tl.load(src, boundary_check=(0,), padding_option="zero"), boundary_check=(0,))
"""


def test_lower_bound_that_matters_is_kept(tmp_path):
    """out[i] = x[i - 1], zero at i = 0: the `0 <= offset` half of the boundary check is the semantics."""
    r = lift_src(tmp_path, SHIFT, "shift_kernel")
    assert r.status == "verified", r.message
    assert "0 <= i + (-1)" in r.formula
    unguarded = r.formula.replace("where((0 <= i + (-1)) & (i + (-1) < n), x[i + (-1)], 0.0)", "x[i + (-1)]")
    assert unguarded != r.formula
    wrong = lift_src(tmp_path, SHIFT, "shift_kernel", unguarded)
    assert wrong.status == "refuted", wrong.message


HEAD_FIRST = """@triton.jit
def pick_kernel(x_ptr, out_ptr, n, FLAG: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    if FLAG:
        p = tl.make_block_ptr(x_ptr, (n,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    else:
        p = tl.make_block_ptr(x_ptr, (n,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    q = tl.make_block_ptr(out_ptr, (n,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    tl.store(q, tl.load(p, boundary_check=(0,)) * 2.0, boundary_check=(0,))
"""


def test_block_pointers_selected_by_a_constexpr(tmp_path):
    r = lift_src(tmp_path, HEAD_FIRST, "pick_kernel")
    assert r.status == "verified", r.message
    assert r.formula.endswith("= x_ptr.view(n) * 2.0"), r.formula


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ("tl.load(p, mask=None, other=0.0, boundary_check=(0,))", "no mask= or other="),
        ('tl.load(p, boundary_check=(0,), padding_option="one")', "padding_option"),
        ("tl.load(p, boundary_check=(1,))", "boundary_check"),
    ],
)
def test_bad_block_pointer_loads_unsupported(tmp_path, call, match):
    src = f"""@triton.jit
def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    p = tl.make_block_ptr(x_ptr, (n,), (1,), (pid * BLOCK,), (BLOCK,), (0,))
    tl.store(out_ptr + pid * BLOCK + tl.arange(0, BLOCK), {call})
"""
    r = lift_src(tmp_path, src, "k")
    assert r.status == "unsupported", r.message
    assert match in r.message and r.message.split(": ")[0].endswith(":9")
