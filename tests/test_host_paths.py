"""Operator-level host modelling: size-dependent branches split into paths, math.* and element_size() on host
values, and two-launch operators composed through their scratch buffer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Kind, Op
from tritonlift.options import Options
from tritonlift.pipeline import lift_module_file
from tritonlift.symbolic.host_math import math_value
from tritonlift.symbolic.host_paths import MAX_PATHS, negate, satisfiable

HEAD = "import math\n\nimport torch\nimport triton\nimport triton.language as tl\n\n"

ROW_SUM_KERNEL = '''
@triton.jit
def row_sum_kernel(x_ptr, out_ptr, x_row_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=cols < n_cols, other=0.0)
    tl.store(out_ptr + row, tl.sum(x, axis=0))
'''

SUM_KERNELS = '''
@triton.jit
def sum_kernel_1(inp, mid, M, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offset = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    val = tl.load(inp + offset, mask=offset < M, other=0.0)
    tl.store(mid + pid, tl.sum(val))


@triton.jit
def sum_kernel_2(mid, out, mid_size, BLOCK_MID: tl.constexpr):
    offset = tl.arange(0, BLOCK_MID)
    val = tl.load(mid + offset, mask=offset < mid_size, other=0.0)
    tl.store(out, tl.sum(val))
'''


def _lift(tmp_path: Path, source: str, op: str, expect: str | None = None):
    path = tmp_path / "ops.py"
    path.write_text(HEAD + textwrap.dedent(source))
    (r,) = lift_module_file(path, Options(expect=expect), op)
    return r


def _row_sum_host(then_block: str, else_block: str) -> str:
    return ROW_SUM_KERNEL + f'''

def row_sum(x):
    n_rows, n_cols = x.shape
    if x.stride(1) != 1:
        x = x.contiguous()
    if n_cols <= 1024:
        BLOCK = {then_block}
    else:
        BLOCK = {else_block}
    out = torch.empty((n_rows,), dtype=x.dtype, device=x.device)
    row_sum_kernel[(n_rows,)](x, out, x.stride(0), n_cols, BLOCK_SIZE=BLOCK)
    return out
'''


def test_size_branches_split_into_paths_each_verified(tmp_path: Path):
    r = _lift(tmp_path, _row_sum_host("triton.next_power_of_2(n_cols)", "triton.next_power_of_2(n_cols) * 2"),
              "row_sum")
    assert r.status == "verified", r.message
    assert r.formula_raw == "out[i] = sum(x[i, k] for k in range(x.shape[1]))"
    assert "4 host paths" in r.message
    assert "x.shape[1] <= 1024" in r.message and "x.shape[1] > 1024" in r.message


def test_one_wrong_path_refutes_with_its_counterexample(tmp_path: Path):
    # the large-row path caps a single-block kernel at 1024 columns: columns from 1024 on are dropped
    r = _lift(tmp_path, _row_sum_host("triton.next_power_of_2(n_cols)", "1024"), "row_sum",
              expect="out[i] = sum(x[i, k] for k in range(x.shape[1]))")
    assert r.status == "refuted", r.message
    assert r.counterexample is not None
    assert "x.shape[1] > 1024" in r.counterexample.reason
    sizes = {**r.counterexample.sizes, **r.counterexample.index}
    assert sizes["x.shape[1]"] > 1024


def test_infeasible_side_is_not_a_path(tmp_path: Path):
    source = ROW_SUM_KERNEL + '''

def row_sum(x):
    n_rows, n_cols = x.shape
    x = x.contiguous()
    BLOCK = triton.next_power_of_2(n_cols)
    if BLOCK < n_cols:
        BLOCK = 0
    out = torch.empty((n_rows,), dtype=x.dtype, device=x.device)
    row_sum_kernel[(n_rows,)](x, out, x.stride(0), n_cols, BLOCK_SIZE=BLOCK)
    return out
'''
    r = _lift(tmp_path, source, "row_sum")
    assert r.status == "verified", r.message
    assert "host paths" not in r.message  # next_power_of_2(n) >= n: the branch has one feasible side


def test_too_many_paths_is_unsupported(tmp_path: Path):
    ifs = "".join(f"    if n_cols > {k}:\n        BLOCK = BLOCK + 0\n" for k in range(4))
    source = ROW_SUM_KERNEL + f'''

def row_sum(x):
    n_rows, n_cols = x.shape
    x = x.contiguous()
    BLOCK = triton.next_power_of_2(n_cols)
{ifs}    out = torch.empty((n_rows,), dtype=x.dtype, device=x.device)
    row_sum_kernel[(n_rows,)](x, out, x.stride(0), n_cols, BLOCK_SIZE=BLOCK)
    return out
'''
    r = _lift(tmp_path, source, "row_sum")
    # nested thresholds: once n_cols > k is decided the earlier ones are too, so only 5 of 16 paths are
    # feasible and the bound is not hit
    assert r.status == "verified", r.message
    # thresholds on two independent sizes: 5 intervals each, 25 feasible paths, past the bound
    independent = "".join(f"    if {v} > {k}:\n        BLOCK = BLOCK + 0\n" for v in ("n_rows", "n_cols") for k in range(4))
    r = _lift(tmp_path, source.replace(ifs, independent), "row_sum")
    assert r.status == "unsupported", r.message
    assert f"more than {MAX_PATHS}" in r.message


def test_element_size_is_a_symbol_over_real_dtypes(tmp_path: Path):
    source = '''
@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def copy(x):
    x = x.contiguous()
    y = torch.empty_like(x)
    n = x.numel()
    BLOCK = 256 // x.element_size()
    copy_kernel[(triton.cdiv(n, BLOCK),)](x, y, n, BLOCK=BLOCK)
    return y
'''
    r = _lift(tmp_path, source, "copy")
    assert r.status == "verified", r.message
    assert any("element_size() in (1, 2, 4, 8)" in a for a in r.assumptions)


def test_two_launch_sum_composes_through_the_scratch_buffer(tmp_path: Path):
    host = '''

def full_sum(inp):
    inp = inp.contiguous()
    M = inp.numel()
    block_size = triton.next_power_of_2(math.ceil(math.sqrt(M)))
    mid_size = triton.cdiv(M, block_size)
    mid = torch.empty((mid_size,), dtype=torch.float32, device=inp.device)
    out = torch.empty([], dtype=inp.dtype, device=inp.device)
    sum_kernel_1[(mid_size, 1, 1)](inp, mid, M, block_size)
    sum_kernel_2[(1, 1, 1)](mid, out, mid_size, triton.next_power_of_2(mid_size))
    return out
'''
    r = _lift(tmp_path, SUM_KERNELS + host, "full_sum")
    assert r.status == "verified", r.message
    assert r.formula_raw == "out[()] = sum(inp[k] for k in range(inp.numel()))"
    # the first launch's grid floors: the last partial sum stays unwritten scratch memory
    floor = host.replace("sum_kernel_1[(mid_size, 1, 1)]", "sum_kernel_1[(M // block_size, 1, 1)]")
    r = _lift(tmp_path, SUM_KERNELS + floor, "full_sum", expect="out[()] = sum(inp[k] for k in range(inp.numel()))")
    assert r.status == "refuted", r.message
    assert r.counterexample is not None


def test_negate_is_the_complementary_comparison():
    n = ir.var("n")
    assert negate(ir.le(n, ir.const(1024))) == ir.compare(Op.GT, n, ir.const(1024))
    assert not satisfiable([ir.le(n, ir.const(3)), negate(ir.le(n, ir.const(5)))])
    assert satisfiable([ir.le(n, ir.const(3))])


def test_math_values():
    assert math_value("sqrt", [16]) == (4.0, [])
    assert math_value("ceil", [2.5]) == (3, [])
    v, facts = math_value("sqrt", [ir.var("M")])
    assert v.op is Op.SQRT and v.kind is Kind.REAL
    assert facts == [ir.le(ir.ZERO, ir.var("M"))]  # math.sqrt raises on a negative: the host got past it
    c, facts = math_value("ceil", [v])
    assert c.kind is Kind.INT and len(facts) == 2
    assert math_value("ceil", [ir.var("M")]) == (ir.var("M"), [])  # an integer already
    assert math_value("frexp", [ir.var("M")]) == (None, [])


@pytest.mark.parametrize("name", ["sqrt", "log2", "exp"])
def test_math_real_functions_are_real(name: str):
    v, _ = math_value(name, [ir.var("M")])
    assert v is not None and v.kind is Kind.REAL
