"""Loops that store, the online-softmax pair, and the reduction/exp rewrites they rely on."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.reductions import canon
from tritonlift.verify.exp_algebra import split_exp

HEADER = "import triton\nimport triton.language as tl\n\n\n@triton.jit\n"

COPY_LOOP = HEADER + '''def copy_rows(x_ptr, y_ptr, N, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    for start in range(0, N, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        v = tl.load(x_ptr + row * stride + offs, mask=offs < N, other=0.0)
        tl.store(y_ptr + row * N + offs, v * 2.0, mask=offs < N)
'''

ONLINE = HEADER + '''def online(X, Y, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    m = float("-inf")
    d = 0.0
    for i in range(0, n, BLOCK):
        offs = i + tl.arange(0, BLOCK)
        x = tl.load(X + pid * n + offs, mask=offs < n, other=float("-inf"))
        m_new = tl.maximum(m, tl.max(x, 0))
        d = GUARD
        m = m_new
    for i in range(0, n, BLOCK):
        offs = i + tl.arange(0, BLOCK)
        x = tl.load(X + pid * n + offs, mask=offs < n, other=float("-inf"))
        tl.store(Y + pid * n + offs, tl.exp(x - m) / d, mask=offs < n)
'''
RESCALE = "d * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), 0)"


def lift_one(tmp_path: Path, src: str):
    f = tmp_path / "k.py"
    f.write_text(src)
    (r,) = lift_file(f)
    return r


def test_write_loop_is_verified_for_every_length(tmp_path: Path) -> None:
    r = lift_one(tmp_path, COPY_LOOP)
    assert r.status == "verified", r.message
    assert "2.0" in r.formula and "range" not in r.formula.split("=")[-1]


def test_write_loop_at_a_shifted_address_is_refuted(tmp_path: Path) -> None:
    r = lift_one(tmp_path, COPY_LOOP)
    wrong = COPY_LOOP.replace("tl.store(y_ptr + row * N + offs,", "tl.store(y_ptr + row * N + offs + 1,")
    from tritonlift.options import Options

    f = tmp_path / "m.py"
    f.write_text(wrong)
    (m,) = lift_file(f, Options(expect=r.formula_raw))
    assert m.status == "refuted", m.message
    assert m.counterexample is not None


@pytest.mark.parametrize(
    "update",
    [RESCALE, f"tl.where(m_new == float('-inf'), d, {RESCALE})"],
    ids=["unguarded", "guarded"],
)
def test_online_softmax_pair_is_softmax(tmp_path: Path, update: str) -> None:
    r = lift_one(tmp_path, ONLINE.replace("GUARD", update))
    assert r.status == "verified", r.message
    assert "softmax" in r.formula


def test_online_softmax_without_the_rescale_is_not_softmax(tmp_path: Path) -> None:
    # its own formula (each tile's sum shifted by the max so far, not the final max) may verify: it is what
    # the kernel computes; it is not softmax, and checked against softmax it is refuted
    from tritonlift.options import Options

    r = lift_one(tmp_path, ONLINE.replace("GUARD", "d + tl.sum(tl.exp(x - m_new), 0)"))
    assert "softmax" not in r.formula
    good = lift_one(tmp_path, ONLINE.replace("GUARD", RESCALE))
    f = tmp_path / "wrong.py"
    f.write_text(ONLINE.replace("GUARD", "d + tl.sum(tl.exp(x - m_new), 0)"))
    (m,) = lift_file(f, Options(expect=good.formula_raw))
    assert m.status == "refuted", m.message
    assert m.counterexample is not None


def test_online_softmax_sum_over_other_elements_is_not_the_pattern(tmp_path: Path) -> None:
    # the sum reads a different tile than the max: the pattern's closed form does not apply
    src = ONLINE.replace("GUARD", "d * tl.exp(m - m_new) + tl.sum(tl.exp(x * 2.0 - m_new), 0)")
    r = lift_one(tmp_path, src)
    assert r.status == "unsupported", r.message
    assert "`d`" in r.message


# -- canonical reductions: random concrete instances agree before and after ---------------------------

k, t = "_k1", "_r1"
kv, tv = ir.var(k), ir.var(t)
N, B = ir.var("N"), ir.var("B")


def _read(name: str, idx: tuple[int, ...]) -> float:
    (i,) = idx
    return math.sin(1.7 * i + 0.3)


def _mem(base: str, addr: int) -> float:
    return math.sin(1.7 * addr + 0.3)


def _eval(e: ir.Expr, **vals: int) -> float:
    return float(evaluate(e, Env(vars=vals, read=_read, mem=_mem)))


@pytest.mark.parametrize("op", [Op.SUM, Op.RMAX])
def test_masked_tiles_flatten_to_one_reduction(op: Op) -> None:
    # R_{t < cdiv(N, B)} R_{k < B} where(t*B + k < N, x[t*B + k], id)
    flat = ir.add(ir.mul(tv, B), kv)
    ident = ir.const(0.0 if op is Op.SUM else -math.inf)
    body = ir.where(ir.lt(flat, N), ir.read("x", flat), ident)
    trips = ir.maximum(ir.arith(Op.FLOORDIV, ir.sub(ir.add(N, B), ir.ONE), B), ir.ZERO)
    e = ir.reduce(op, t, ir.ZERO, trips, ir.reduce(op, k, ir.ZERO, B, body))
    c = canon(e)
    assert c.op is op and c.args[2].op is not op, c  # one reduction over the flattened index
    rng = random.Random(0)
    for _ in range(40):
        n, b = rng.randint(0, 40), rng.randint(1, 9)
        assert _eval(e, N=n, B=b) == pytest.approx(_eval(c, N=n, B=b)), (n, b)


def test_softmax_shift_cancels() -> None:
    x = ir.var("xj", Kind.REAL)
    c = ir.var("c", Kind.REAL)
    body = ir.math_fn(Op.EXP, ir.sub(ir.read("x", kv), c))
    shifted = ir.div(ir.math_fn(Op.EXP, ir.sub(x, c)), ir.reduce(Op.SUM, k, ir.ZERO, N, body))
    plain = ir.div(ir.math_fn(Op.EXP, x), ir.reduce(Op.SUM, k, ir.ZERO, N, ir.math_fn(Op.EXP, ir.read("x", kv))))
    assert split_exp(shifted) == split_exp(plain)
    lse = ir.math_fn(Op.LOG, ir.reduce(Op.SUM, k, ir.ZERO, N, body))
    out = split_exp(lse)
    for n in (1, 3, 7):
        for cv in (-2.0, 0.5):
            assert _eval(out, N=n, c=cv) == pytest.approx(_eval(lse, N=n, c=cv))


def test_results_name_their_loop_invariants_and_modelling_notes():
    """proof.invariants lists each instantiated pattern; the loop-step choice is an assumption, readable."""
    root = Path(__file__).resolve().parents[1] / "examples"
    results = {r.name: r for r in lift_file(root / "matvec.py")}
    for name in ("matvec_kernel", "matvec"):
        r = results[name]
        assert r.status == "verified", r.message
        assert any(i.endswith("acc by accumulate-sum") for i in r.proof.invariants), r.proof.invariants
        assert any("its step BLOCK_K is taken to be >= 1" in a for a in r.assumptions), r.assumptions
    straight = {r.name: r for r in lift_file(root / "vector_add.py")}
    assert all(not r.proof.invariants for r in straight.values())
