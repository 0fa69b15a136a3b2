"""Kernel parameters classified through the @triton.jit helpers they are passed to (symbolic/params.py)."""

from __future__ import annotations

from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.ir.expr import Kind
from tritonlift.symbolic.params import classify

SRC = """import triton
import triton.language as tl


@triton.jit
def _copy_impl(pid, src, dst, n, BLOCK: tl.constexpr):
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.load(src + offs, mask=offs < n, other=0.0) * 2.0, mask=offs < n)


@triton.jit
def copy_kernel(x_ptr: tl.tensor, out_ptr: tl.tensor, n_elements, BLOCK: tl.constexpr):
    _copy_impl(tl.program_id(0), x_ptr, out_ptr, n=n_elements, BLOCK=BLOCK)
"""


def test_pointers_found_through_a_helper(tmp_path: Path):
    f = tmp_path / "k.py"
    f.write_text(SRC)
    module = load_module(f)
    kernel = module.jit["copy_kernel"]
    pointers, kinds = classify(module, kernel)
    assert pointers == ["x_ptr", "out_ptr"]
    assert kinds["n_elements"] is Kind.INT  # passed (by keyword) to the helper's integer parameter
    r = next(r for r in lift_file(f) if r.name == "copy_kernel")
    assert r.status == "verified", r.message
    assert r.formula == "out_ptr.view(n_elements) = x_ptr.view(n_elements) * 2.0", r.formula
