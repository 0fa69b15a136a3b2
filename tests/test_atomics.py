"""Atomic updates (symbolic/atomics.py, synth/accumulate.py, verify/accumulate.py): tl.atomic_add/max/min lift
to accumulated outputs; order-dependent uses are unsupported with the reason; wrong kernels are refuted with a
counterexample the launch's simulation confirms."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.bench.flaggems import _scope
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Op
from tritonlift.options import Options
from tritonlift.pipeline import kernel_spec
from tritonlift.symbolic.atomics import integer_offset

HEAD = "import torch\nimport triton\nimport triton.language as tl\n\n\n"

KERNELS = {
    "bincount": """
@triton.jit
def bincount_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask, other=0)
    tl.atomic_add(out_ptr + v, 1, mask=mask)
""",
    "bounded": """
@triton.jit
def bounded_kernel(x_ptr, w_ptr, out_ptr, n, NB: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask, other=0)
    w = tl.load(w_ptr + offs, mask=mask, other=0.0)
    tl.atomic_add(out_ptr + v, w, mask=mask & (v >= 0) & (v < NB))
""",
    "colsum": """
@triton.jit
def colsum_kernel(x_ptr, out_ptr, M, N, stride_m, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    x = tl.load(x_ptr + rows[:, None] * stride_m + cols[None, :], mask=mask, other=0.0)
    tl.atomic_add(out_ptr + cols, tl.sum(x, axis=0), mask=cols < N)
""",
    "amax": """
@triton.jit
def amax_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=float("-inf"))
    tl.atomic_max(out_ptr, tl.max(x, axis=0))
""",
    "amin_lanes": """
@triton.jit
def amin_lanes_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.atomic_min(out_ptr + tl.arange(0, BLOCK) * 0, x, mask=offs < n)
""",
    "per_program": """
@triton.jit
def per_program_kernel(out_ptr, n):
    pid = tl.program_id(0)
    old = tl.atomic_add(out_ptr + pid, 2.0)
""",
}

UNSUPPORTED = {
    "returned": (
        """
@triton.jit
def returned_kernel(out_ptr, cnt_ptr):
    pid = tl.program_id(0)
    slot = tl.atomic_add(cnt_ptr, 1)
    tl.store(out_ptr + slot, pid)
""",
        "the value it returns",
    ),
    "store_too": (
        """
@triton.jit
def store_too_kernel(out_ptr):
    pid = tl.program_id(0)
    tl.atomic_add(out_ptr + pid, 1.0)
    tl.store(out_ptr + pid, 2.0)
""",
        "depends on the order of the store and the updates",
    ),
    "reads_it": (
        """
@triton.jit
def reads_it_kernel(x_ptr, out_ptr):
    pid = tl.program_id(0)
    tl.atomic_add(out_ptr, 1.0)
    tl.store(x_ptr + pid, tl.load(out_ptr))
""",
        "the value read depends on the order",
    ),
    "add_and_max": (
        """
@triton.jit
def add_and_max_kernel(x_ptr, out_ptr):
    pid = tl.program_id(0)
    x = tl.load(x_ptr + pid)
    tl.atomic_add(out_ptr, x)
    tl.atomic_max(out_ptr, x)
""",
        "two kinds of update",
    ),
    "xchg": (
        """
@triton.jit
def xchg_kernel(lock_ptr):
    pid = tl.program_id(0)
    tl.atomic_xchg(lock_ptr + pid, 1)
""",
        "atomic_xchg",
    ),
    "cas": (
        """
@triton.jit
def cas_kernel(lock_ptr):
    tl.atomic_cas(lock_ptr, 0, 1)
""",
        "atomic_cas",
    ),
}


def _write(tmp_path: Path, name: str, src: str) -> Path:
    p = tmp_path / f"{name}.py"
    p.write_text(HEAD + textwrap.dedent(src))
    return p


def _one(path: Path, **kw):
    results = [r for r in lift_file(path, Options(timeout=60, **kw)) if r.kind == "kernel"]
    assert len(results) == 1, results
    return results[0]


def test_atomic_update_is_a_store_with_its_combine_op(tmp_path: Path):
    for name, op in (("bincount", Op.SUM), ("amax", Op.RMAX), ("amin_lanes", Op.RMIN)):
        path = _write(tmp_path, name, KERNELS[name])
        m = load_module(path)
        spec, _ = kernel_spec(m, m.jit[f"{name}_kernel"])
        assert [s.combine for s in spec.stores] == [op]
        assert spec.stores[0].atomic


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_atomic_kernels_verify(tmp_path: Path, name: str):
    r = _one(_write(tmp_path, name, KERNELS[name]))
    assert r.status == "verified", (r.status, r.message)
    assert any("atomic updates" in a and "order" in a for a in r.assumptions), r.assumptions


def test_formulas_read_as_reductions_over_the_updates(tmp_path: Path):
    r = _one(_write(tmp_path, "bincount", KERNELS["bincount"]))
    assert "out[i] = out0[i] + sum(where(int64(x[k]) == i, 1.0, 0.0) for k in range(n))" in r.formula
    # the kernel does not check its loaded indices: that they land inside out is a listed precondition
    assert any("lands inside out" in a for a in r.assumptions), r.assumptions
    b = _one(_write(tmp_path, "bounded", KERNELS["bounded"]))
    assert "out = out_ptr.view(NB)" in b.formula and "(int64(x[k]) == i), w[k], 0.0)" in b.formula, b.formula
    assert not any("lands inside" in a for a in b.assumptions), b.assumptions  # the mask bounds them
    c = _one(_write(tmp_path, "colsum", KERNELS["colsum"]))
    assert c.formula.endswith("out_ptr.view(N) = out_ptr.view(N) + x.sum(dim=0)"), c.formula
    m = _one(_write(tmp_path, "amax", KERNELS["amax"]))
    assert "maximum(out_ptr.view(()), x_ptr.view(n).amax())" in m.formula, m.formula
    p = _one(_write(tmp_path, "per_program", KERNELS["per_program"]))  # an unused returned value is fine
    assert p.formula == "out_ptr.view(grid[0]) = out_ptr.view(grid[0]) + 2.0", p.formula


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_order_dependent_uses_are_unsupported(tmp_path: Path, name: str):
    src, why = UNSUPPORTED[name]
    path = _write(tmp_path, name, src)
    r = _one(path)
    assert r.status == "unsupported", (r.status, r.message)
    assert why in r.message and f"{path.name}:" in r.message, r.message


def test_wrong_address_is_refuted_with_a_simulated_counterexample(tmp_path: Path):
    good = _one(_write(tmp_path, "bincount", KERNELS["bincount"]))
    bad = _write(
        tmp_path, "bincount_shifted", KERNELS["bincount"].replace("out_ptr + v,", "out_ptr + v + 1,")
    )
    r = _one(bad, expect=good.formula)
    assert r.status == "refuted", (r.status, r.message)
    assert r.counterexample is not None and "atomic update" in r.counterexample.reason + str(
        r.counterexample.kernel_value
    )


def test_missing_mask_is_refuted(tmp_path: Path):
    good = _one(_write(tmp_path, "colsum", KERNELS["colsum"]))
    bad = KERNELS["colsum"].replace("(rows[:, None] < M)", "(rows[:, None] < M + BLOCK_M)")  # a tile too many
    r = _one(_write(tmp_path, "colsum_rows_unmasked", bad), expect=good.formula)
    assert r.status == "refuted", (r.status, r.message)
    assert r.counterexample is not None


def test_wrong_combine_is_refuted(tmp_path: Path):
    good = _one(_write(tmp_path, "amax", KERNELS["amax"]))
    r = _one(
        _write(tmp_path, "amax_as_min", KERNELS["amax"].replace("tl.atomic_max(", "tl.atomic_min(")),
        expect=good.formula,
    )
    assert r.status in ("refuted", "unknown"), (r.status, r.message)
    assert r.status != "verified"


def test_operator_accumulating_into_empty_memory_is_not_verified(tmp_path: Path):
    src = KERNELS["colsum"] + textwrap.dedent("""

    def colsum(x):
        x = x.contiguous()
        M, N = x.shape
        out = torch.empty(N, dtype=torch.float32, device=x.device)
        grid = (triton.cdiv(M, 16), triton.cdiv(N, 16))
        colsum_kernel[grid](x, out, M, N, x.stride(0), BLOCK_M=16, BLOCK_N=16)
        return out
    """)
    path = _write(tmp_path, "colsum_empty", src)
    ops = [r for r in lift_file(path, Options(timeout=60)) if r.kind == "operator"]
    assert ops and ops[0].status == "unknown" and "torch.empty" in ops[0].message, ops
    zeros = _write(tmp_path, "colsum_zeros", src.replace("torch.empty(", "torch.zeros("))
    ok = next(r for r in lift_file(zeros, Options(timeout=60)) if r.kind == "operator")
    assert ok.status == "verified" and ok.formula == "out = x.sum(dim=0)", (ok.status, ok.formula, ok.message)


def test_integer_offsets_from_memory():
    m = ir.mem("x", ir.var("_l0"))
    assert integer_offset(m) == ir.cast(m, "int64")
    n = ir.var("N")
    # integer arithmetic outside the cast: an index along stride N
    assert integer_offset(ir.add(ir.mul(m, ir.to_real(n)), ir.const(1.0))) == ir.add(
        ir.mul(ir.cast(m, "int64"), n), ir.ONE
    )
    assert integer_offset(ir.mul(m, ir.const(0.5))) is None  # a fractional factor: no integer offset
    assert integer_offset(ir.math_fn(Op.EXP, m)) is None
    assert integer_offset(ir.var("n")) == ir.var("n")


def _fn(src: str) -> ast.FunctionDef:
    node = ast.parse(textwrap.dedent(src)).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def test_bench_scope_keeps_order_independent_atomics_in_scope():
    aliases = {"tl": "triton.language"}
    assert _scope(_fn(KERNELS["bincount"]), aliases, "x") == (None, "")
    family, why = _scope(_fn(UNSUPPORTED["returned"][0]), aliases, "x")
    assert family == "atomics" and "returned old value" in why
    assert _scope(_fn(UNSUPPORTED["xchg"][0]), aliases, "x")[0] == "atomics"


def test_tail_tiles_flatten_into_one_reduction():
    """Σ_{a<A} Σ_{b<min(B, n - a*B)} x[a*B + b] = Σ_{k<min(A*B, n)} x[k]: the tile's tail bound reads k < n once
    (k // B) * B + k % B is k (ir.reductions' tiled reindex)."""
    from tritonlift.ir.reductions import canon

    a, b, big_a, big_b, n = (ir.var(x) for x in ("_a", "_b", "A", "B", "n"))
    x = ir.mem("x", ir.add(ir.mul(a, big_b), b))
    inner = ir.reduce(Op.SUM, "_b", ir.ZERO, ir.minimum(big_b, ir.sub(n, ir.mul(a, big_b))), x)
    out = canon(ir.reduce(Op.SUM, "_a", ir.ZERO, big_a, inner))
    assert out.op is Op.SUM and out.args[2].op is Op.MEM, out
    k = ir.var(str(out.attr))
    assert out.args[2] == ir.mem("x", k)
    assert set(ir.free_vars(out.args[1])) == {"A", "B", "n"}


def test_rows_indexed_by_loaded_values(tmp_path: Path):
    """index_add along rows (embedding backward): grad[idx[r], j] += g[r, j]; the row index is a filter, the
    column solved; that idx lands inside grad is a listed precondition, and its own formula checks back."""
    src = """
    @triton.jit
    def index_add_rows_kernel(g_ptr, idx_ptr, out_ptr, N, BLOCK: tl.constexpr):
        r = tl.program_id(0)
        cols = tl.arange(0, BLOCK)
        row = tl.load(idx_ptr + r)
        g = tl.load(g_ptr + r * N + cols, mask=cols < N, other=0.0)
        tl.atomic_add(out_ptr + row * N + cols, g, mask=cols < N)
    """
    path = _write(tmp_path, "index_add_rows", src)
    r = _one(path)
    assert r.status == "verified", (r.status, r.message)
    assert "where(j < BLOCK, sum(where(int64(idx[k]) == i, g[k, j], 0.0) for k in range(grid[0])), 0.0)" in (
        r.formula
    ), r.formula
    assert any("lands inside out" in a for a in r.assumptions), r.assumptions
    assert _one(path, expect=r.formula).status == "verified"


def test_constexpr_is_never_a_pointer(tmp_path: Path):
    from tritonlift.symbolic.params import classify

    src = """
    @triton.jit
    def tiles_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        start = tl.program_id(0) * BLOCK * 2
        for t in tl.static_range(2):
            offs = start + tl.arange(0, BLOCK)
            tl.atomic_add(out_ptr, tl.sum(tl.load(x_ptr + offs, mask=offs < n, other=0.0)))
            start += BLOCK
    """
    path = _write(tmp_path, "tiles", src)
    m = load_module(path)
    ptrs, kinds = classify(m, m.jit["tiles_kernel"])
    assert ptrs == ["x_ptr", "out_ptr"] and kinds["BLOCK"] is ir.Kind.INT
    assert _one(path).status == "verified"


def test_atomics_across_several_launches_are_unsupported(tmp_path: Path):
    src = KERNELS["amax"] + textwrap.dedent("""

    def twice(x):
        n = x.numel()
        out = torch.zeros((), dtype=torch.float32, device=x.device)
        amax_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
        amax_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
        return out
    """)
    ops = [r for r in lift_file(_write(tmp_path, "twice", src), Options(timeout=60)) if r.kind == "operator"]
    assert ops and ops[0].status == "unsupported" and "several kernels" in ops[0].message, ops


def test_floor_division_recombines():
    """The identity behind the tail-tile rewrite: (k // E) * E + k % E == k for every integer k and E >= 1
    (z3, with the backend's floor division and remainder); a wrong variant (ceiling division) is refuted."""
    import z3

    from tritonlift.ir.expr import Kind
    from tritonlift.verify.z3_backend import Z3Ctx

    k, e = ir.var("k"), ir.var("E")
    lhs = ir.add(ir.mul(ir.arith(Op.FLOORDIV, k, e), e), ir.arith(Op.MOD, k, e))
    cx = Z3Ctx({"k": Kind.INT, "E": Kind.INT})
    s = z3.Solver()
    s.add(cx(ir.le(ir.ONE, e)), z3.Not(cx(ir.eq(lhs, k))))
    assert s.check() == z3.unsat
    s = z3.Solver()  # a wrong variant: with ceiling-style division it does not hold
    wrong = ir.add(ir.mul(ir.arith(Op.FLOORDIV, ir.add(k, ir.sub(e, ir.ONE)), e), e), ir.arith(Op.MOD, k, e))
    s.add(cx(ir.le(ir.ONE, e)), z3.Not(cx(ir.eq(wrong, k))))
    assert s.check() == z3.sat
