"""argmax / argmin: the index-valued reductions of the IR (first index of the extremum, lo when empty), their
canonical rule, z3 encoding, printers, and tl.argmax / tl.argmin / tl.max(return_indices=True) in kernels."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import z3

from tritonlift.api import lift_file
from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.parse import parse_expr
from tritonlift.ir.printer import to_text
from tritonlift.ir.reductions import canon
from tritonlift.options import Options
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

K = ir.var("k")
N, E, LO = ir.var("n"), ir.var("e"), ir.var("lo")


def x_at(k: ir.Expr) -> ir.Expr:
    return ir.read("x", k)


def env(xs: list[float], **sizes: int) -> Env:
    return Env(vars=dict(sizes), read=lambda name, idx: xs[idx[0]])


def run(expr: ir.Expr, xs: list[float], **sizes: int):
    return evaluate(expr, env(xs, **sizes))


# ---- meaning


def test_first_index_among_ties_and_empty_range():
    xs = [1.0, 5.0, 2.0, 5.0, -1.0]
    amax = ir.argreduce(Op.ARGMAX, "k", LO, N, x_at(K))
    amin = ir.argreduce(Op.ARGMIN, "k", LO, N, x_at(K))
    assert run(amax, xs, lo=0, n=5) == 1  # 5.0 at 1 and 3: the first
    assert run(amax, xs, lo=2, n=5) == 3
    assert run(amin, xs, lo=0, n=5) == 4
    assert run(amin, [2.0, 2.0], lo=0, n=2) == 0
    assert run(amax, xs, lo=3, n=3) == 3  # empty: lo
    assert run(amax, [-math.inf, -math.inf], lo=0, n=2) == 0


def test_text_round_trip_and_kind():
    e = ir.argreduce(Op.ARGMIN, "k", ir.ZERO, N, x_at(K))
    assert e.kind is Kind.INT
    assert to_text(e) == "argmin(x[k] for k in range(n))"
    assert parse_expr(to_text(e), {"x": Kind.REAL}) == e


# ---- the argmax-tail rule, checked against the meaning on random rows


def _masked(op: Op, cond: ir.Expr) -> ir.Expr:
    pad = ir.const(-math.inf if op is Op.ARGMAX else math.inf)
    return ir.argreduce(op, "k", LO, N, ir.where(cond, x_at(K), pad))


@pytest.mark.parametrize("op", [Op.ARGMAX, Op.ARGMIN])
def test_tail_mask_becomes_a_bound(op):
    before = _masked(op, ir.lt(K, E))
    after = canon(before)
    assert after == ir.argreduce(op, "k", LO, ir.minimum(N, E), x_at(K))
    rng = random.Random(0)
    for _ in range(300):
        n, e, lo = rng.randint(0, 6), rng.randint(-1, 7), rng.randint(0, 3)
        xs = [float(rng.randint(-2, 2)) for _ in range(8)]  # small values: many ties
        assert run(before, xs, lo=lo, n=n, e=e) == run(after, xs, lo=lo, n=n, e=e), (n, e, lo, xs)


def test_lower_bound_masks_stay():
    """Cutting padded lanes off the front changes the answer when every lane is padding: not rewritten."""
    before = _masked(Op.ARGMAX, ir.le(E, K))
    assert canon(before) == before
    assert run(before, [1.0] * 4, lo=0, n=3, e=5) == 0  # all padding: the first lane


def test_other_padding_is_not_absorbed():
    e = ir.argreduce(Op.ARGMAX, "k", ir.ZERO, N, ir.where(ir.lt(K, E), x_at(K), ir.const(0.0)))
    assert canon(e) == e


# ---- z3


def _proved(goal: ir.Expr, *hyps: ir.Expr) -> bool:
    cx = Z3Ctx({})
    s = z3.Solver()
    s.set(timeout=5000)
    terms = [cx(h) for h in hyps] + [z3.Not(cx(goal))]
    for t in terms + math_axioms(cx):
        s.add(t)
    return s.check() == z3.unsat


def test_z3_index_in_range_and_attains_the_max():
    mem = ir.mem("x", K)
    a = ir.argreduce(Op.ARGMAX, "k", ir.ZERO, N, mem)
    m = ir.reduce(Op.RMAX, "k", ir.ZERO, N, mem)
    assert _proved(ir.and_(ir.le(ir.ZERO, a), ir.lt(a, N)), ir.le(ir.ONE, N))
    assert _proved(ir.eq(ir.mem("x", a), m), ir.le(ir.ONE, N))
    assert _proved(ir.eq(a, ir.ZERO), ir.le(N, ir.ZERO))
    # equal bodies and bounds: equal indices; argmax and argmin are not the same
    same = ir.argreduce(Op.ARGMAX, "j", ir.ZERO, N, ir.mem("x", ir.var("j")))
    assert _proved(ir.eq(a, same))
    assert not _proved(ir.eq(a, ir.argreduce(Op.ARGMIN, "k", ir.ZERO, N, mem)), ir.le(ir.const(2), N))


# ---- kernels


HEADER = "import torch\nimport triton\nimport triton.language as tl\n\n\n"


def lift_src(tmp_path: Path, src: str, op: str, expect: str | None = None):
    f = tmp_path / "k.py"
    f.write_text(HEADER + src)
    return next(r for r in lift_file(f, Options(expect=expect) if expect else Options()) if r.name == op)


COLS = """@triton.jit
def col_argmax_kernel(x_ptr, out_ptr, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)
    rows = tl.arange(0, BLOCK_M)[:, None]
    cols = pid * BLOCK_N + tl.arange(0, BLOCK_N)[None, :]
    x = tl.load(x_ptr + rows * N + cols, mask=(rows < M) & (cols < N), other=-float("inf"))
    tl.store(out_ptr + cols, CALL, mask=cols < N)


def col_argmax(x):
    x = x.contiguous()
    M, N = x.shape
    out = torch.empty((N,), device=x.device, dtype=torch.int64)
    col_argmax_kernel[(triton.cdiv(N, 16),)](x, out, M, N, BLOCK_M=triton.next_power_of_2(M), BLOCK_N=16)
    return out
"""


@pytest.mark.parametrize(
    "call", ["tl.argmax(x, axis=0, keep_dims=True)", "tl.max(x, 0, return_indices=True, keep_dims=True)[1]"]
)
def test_column_argmax_verifies(tmp_path, call):
    r = lift_src(tmp_path, COLS.replace("CALL", call), "col_argmax")
    assert r.status == "verified", r.message
    assert r.formula == "out = float(x.argmax(dim=0))"
    assert "torch.argmax(" in r.torch


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ("tl.argmax(x, axis=0, tie_break_left=False, keep_dims=True)", "tie_break_left=False"),
        (
            "tl.max(x, 0, return_indices=True, return_indices_tie_break_left=False, keep_dims=True)[1]",
            "tie_break_left=False",
        ),
    ],
)
def test_unspecified_tie_break_unsupported(tmp_path, call, match):
    r = lift_src(tmp_path, COLS.replace("CALL", call), "col_argmax_kernel")
    assert r.status == "unsupported" and match in r.message


def test_column_argmax_with_a_capped_block_refuted(tmp_path):
    src = COLS.replace("CALL", "tl.argmax(x, axis=0, keep_dims=True)").replace(
        "BLOCK_M=triton.next_power_of_2(M)", "BLOCK_M=min(triton.next_power_of_2(M), 16)"
    )
    r = lift_src(tmp_path, src, "col_argmax", "out = float(x.argmax(dim=0))")
    assert r.status == "refuted", r.message
