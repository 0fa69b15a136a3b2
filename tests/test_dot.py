"""tl.dot and tiled matmul: the block semantics, the rewrites they need, the program-id remapping, and
dots that are wrong (b read transposed, a K tail that drops its tile offset) must not verify."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Op
from tritonlift.ir.poly import norm
from tritonlift.ir.reductions import canon
from tritonlift.options import Options
from tritonlift.pipeline import kernel_spec
from tritonlift.synth.guards import simplify_divmod
from tritonlift.synth.pid_map import regrid

HEADER = "import triton\nimport triton.language as tl\n\n\n"

ONE_BLOCK = """
@triton.jit
def dot_kernel(a_ptr, b_ptr, c_ptr, R, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    rm = tl.program_id(0) * M + tl.arange(0, M)
    rn = tl.arange(0, N)
    rk = tl.arange(0, K)
    a = tl.load(a_ptr + rm[:, None] * K + rk[None, :], mask=rm[:, None] < R, other=0.0)
    b = tl.load(b_ptr + {b_index})
    c = tl.dot(a, b{acc}, allow_tf32=False)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], c, mask=rm[:, None] < R)
"""

MATMUL = Path(__file__).resolve().parents[1] / "examples" / "matmul.py"
if not MATMUL.is_file():  # staged until it lifts
    MATMUL = Path(__file__).resolve().parent / "pending" / "examples" / "matmul.py"


def _write(tmp_path: Path, body: str, name: str = "k.py") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + textwrap.dedent(body))
    return p


def _lift(path: Path, expect: str | None = None, op: str | None = None):
    res = lift_file(path, Options(expect=expect) if expect else None, op)
    assert len(res) == 1, [r.name for r in res]
    return res[0]


EXPECT = ("c = as_strided(c_ptr, (R, N), (N, 1)); a = as_strided(a_ptr, (R, K), (K, 1)); "
          "b = as_strided(b_ptr, (K, N), (N, 1)); c[i, j] = sum(a[i, k] * b[k, j] for k in range(K))")


def test_dot_block_is_a_sum_over_the_shared_lane(tmp_path):
    p = _write(tmp_path, ONE_BLOCK.format(b_index="rk[:, None] * N + rn[None, :]", acc=""))
    r = _lift(p, EXPECT)
    assert r.status == "verified", r.message


def test_dot_reading_b_transposed_is_refuted(tmp_path):
    p = _write(tmp_path, ONE_BLOCK.format(b_index="rn[None, :] * K + rk[:, None]", acc=""))
    r = _lift(p, EXPECT)
    assert r.status == "refuted", r.message
    assert r.counterexample is not None


def test_dot_acc_adds(tmp_path):
    p = _write(tmp_path, ONE_BLOCK.format(b_index="rk[:, None] * N + rn[None, :]",
                                          acc=", tl.full((M, N), 1.0, tl.float32)"))
    plus_one = EXPECT.replace("c[i, j] = sum", "c[i, j] = 1.0 + sum")
    assert _lift(p, plus_one).status == "verified"
    assert _lift(p, EXPECT).status == "refuted"


def test_dot_precision_arguments_are_noted(tmp_path):
    p = _write(tmp_path, ONE_BLOCK.format(b_index="rk[:, None] * N + rn[None, :]", acc=""))
    module = load_module(p)
    spec, _ = kernel_spec(module, next(iter(module.kernels())))
    assert "tl.dot allow_tf32 ignored: reals" in spec.notes


def test_dot_inner_sizes_must_agree(tmp_path):
    p = _write(tmp_path, ONE_BLOCK.format(b_index="rn[:, None] * N + rn[None, :]", acc=""))
    r = _lift(p)
    assert r.status == "unsupported" and "inner sizes" in r.message


def test_divmod_fold_keeps_a_stride():
    k, b, s = ir.var("k"), ir.var("B"), ir.var("s")
    e = ir.add(ir.mul(ir.arith(Op.MOD, k, b), s), ir.mul(ir.mul(ir.arith(Op.FLOORDIV, k, b), b), s))
    assert norm(e) == ir.mul(k, s)
    # different strides on the two parts: no fold
    e2 = ir.add(ir.arith(Op.MOD, k, b), ir.mul(ir.mul(ir.arith(Op.FLOORDIV, k, b), b), s))
    assert norm(e2) != norm(k)


def test_tail_masked_tiles_reindex_to_one_sum():
    t, kk, big_b, big_k = ir.var("_t1"), ir.var("_k2"), ir.var("B"), ir.var("K")
    trips = ir.maximum(ir.arith(Op.TRUNCDIV, ir.sub(ir.add(big_k, big_b), ir.ONE), big_b), ir.ZERO)
    body = ir.read("x", ir.add(ir.mul(t, big_b), kk))
    inner = ir.reduce(Op.SUM, "_k2", ir.ZERO, big_b, ir.where(ir.lt(kk, ir.sub(big_k, ir.mul(t, big_b))), body,
                                                           ir.const(0.0)))
    out = canon(ir.reduce(Op.SUM, "_t1", ir.ZERO, trips, inner))
    assert out.op is Op.SUM and out.args[1] == big_k, out
    assert out.args[2] == ir.read("x", ir.var(str(out.attr)))


def test_simplify_divmod_needs_its_side_condition():
    i, m, b = ir.var("i"), ir.var("M"), ir.var("B")
    facts = [ir.le(ir.ZERO, i), ir.lt(i, m)]
    assert simplify_divmod(ir.arith(Op.TRUNCMOD, i, m), facts) == i
    assert simplify_divmod(ir.arith(Op.TRUNCDIV, i, m), facts) == ir.ZERO
    # i < M says nothing about i % B
    assert simplify_divmod(ir.arith(Op.TRUNCMOD, i, b), [*facts, ir.le(ir.ONE, b)]) == ir.arith(Op.TRUNCMOD, i, b)
    # without 0 <= i, C-style i % M is not i
    assert simplify_divmod(ir.arith(Op.TRUNCMOD, i, m), [ir.lt(i, m)]) == ir.arith(Op.TRUNCMOD, i, m)


@pytest.fixture(scope="module")
def matmul_spec():
    module = load_module(MATMUL)
    fn = module.jit["matmul_kernel"]
    spec, _ = kernel_spec(module, fn)
    return spec, {p.name for p in fn.params if p.constexpr}


def test_grouped_program_ids_regrid(matmul_spec):
    spec, constexprs = matmul_spec
    rg = regrid(spec, constexprs)
    assert rg is not None
    assert "proved bijection" in rg.assumptions[0] and "split at GROUP_SIZE_M" in rg.assumptions[0]
    assert len(rg.spec.grid) == 2
    # the tile coordinates are plain program ids again: pid_m * BLOCK_SIZE_M + lane
    assert not any(n.op is Op.TRUNCDIV for n in ir.walk(rg.spec.stores[0].offset))


def test_non_bijective_program_ids_do_not_regrid(tmp_path):
    src = MATMUL.read_text().replace(
        "    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)\n"
        "    pid_n = (pid % num_pid_in_group) // group_size_m\n",
        "    pid_m = pid % num_pid_m\n    pid_n = pid % num_pid_n\n",
    )
    assert "pid_m = pid % num_pid_m" in src
    p = tmp_path / "matmul_modulo_pids.py"
    p.write_text(src)
    module = load_module(p)
    fn = module.jit["matmul_kernel"]
    spec, _ = kernel_spec(module, fn)
    assert regrid(spec, {q.name for q in fn.params if q.constexpr}) is None
