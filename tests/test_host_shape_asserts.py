"""Host assertions about shapes (`assert x.shape == y.shape`, `assert b.shape == (N,)`) are preconditions:
they become assumptions (and facts for the proof), which is what lets an elementwise operator over
tensors of unknown rank read as a whole-tensor formula. Without them the formula stays indexed."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.ir.tensor_form import is_textbook_text

KERNEL = """
import torch
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, SHIFT: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    y = tl.load(y_ptr + offs + SHIFT, mask=mask, other=0.0)
    tl.store(out_ptr + offs, x + y, mask=mask)


def add(x, y):
    {check}
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n = x.numel()
    add_kernel[(triton.cdiv(n, 256),)](x, y, out, n, SHIFT={shift}, BLOCK=256)
    return out
"""


def _lift(tmp_path: Path, check: str, shift: int = 0):
    path = tmp_path / "add_shapes.py"
    path.write_text(textwrap.dedent(KERNEL.format(check=check, shift=shift)))
    return next(r for r in lift_file(path) if r.name == "add")


def test_same_shape_assertion_gives_a_whole_tensor_formula(tmp_path: Path):
    r = _lift(tmp_path, "assert x.shape == y.shape")
    assert r.status == "verified", r.message
    assert r.formula == "out = x + y" and is_textbook_text(r.formula)
    assert "x.shape == y.shape" in r.assumptions
    assert "out.copy_(x + y)" in r.torch


def test_without_the_assertion_the_formula_stays_indexed(tmp_path: Path):
    r = _lift(tmp_path, "pass")
    assert r.status == "verified", r.message
    assert r.formula == "out[i] = x[i] + y[i]" and not is_textbook_text(r.formula)


def test_the_assertion_hides_no_bug(tmp_path: Path):
    """The kernel reads y one element further on: the shapes agree, the formula does not."""
    r = _lift(tmp_path, "assert x.shape == y.shape", shift=1)
    assert r.status == "verified"
    assert r.formula == "out[i] = x[i] + y[i + 1]"  # not the elementwise sum, and not whole-tensor


def test_tuple_shape_assertion_fixes_the_rank(tmp_path: Path):
    src = Path(__file__).resolve().parents[1] / "examples" / "bias_add_2d.py"
    r = next(r for r in lift_file(src) if r.name == "bias_add")
    assert r.formula == "out = x + bias"
    assert r.assumptions == ["bias.shape[0] == x.shape[1]"]
