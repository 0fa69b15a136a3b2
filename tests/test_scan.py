"""Scans: tl.cumsum, tl.cumprod and tl.associative_scan with a + or * combine function, as reductions over a
prefix (suffix) of lanes; their whole-tensor form `x.cumsum(dim=d)` in every printer and read back."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.ir import expr as ir
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.latex import formula_latex
from tritonlift.ir.printer import formula_line
from tritonlift.ir.tensor_form import tensor_form
from tritonlift.options import Options

HEADER = "import torch\nimport triton\nimport triton.language as tl\n\n\n"


def lift_src(tmp_path: Path, src: str, op: str, expect: str | None = None):
    f = tmp_path / "k.py"
    f.write_text(HEADER + src)
    results = lift_file(f, Options(expect=expect) if expect else Options())
    return next(r for r in results if r.name == op)


SCAN = """@triton.jit
def _add(a, b):
    return b + a


@triton.jit
def _max(a, b):
    return tl.maximum(a, b)


@triton.jit
def scan_kernel(x_ptr, out_ptr, N, stride_m, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(x_ptr + row * stride_m + cols, mask=mask, other=OTHER)
    tl.store(out_ptr + row * N + cols, SCAN, mask=mask)


def scan(x):
    x = x.contiguous()
    M, N = x.shape
    out = torch.empty((M, N), device=x.device, dtype=x.dtype)
    scan_kernel[(M,)](x, out, N, x.stride(0), BLOCK_N=triton.next_power_of_2(N))
    return out
"""


def scan_src(scan: str, other: str = "0.0") -> str:
    return SCAN.replace("SCAN", scan).replace("OTHER", other)


@pytest.mark.parametrize(
    ("scan", "other", "formula"),
    [
        ("tl.cumsum(x, axis=0)", "0.0", "out = x.cumsum(dim=1)"),
        ("tl.cumsum(x, 0)", "0.0", "out = x.cumsum(dim=1)"),
        ("tl.cumprod(x, axis=0)", "1.0", "out = x.cumprod(dim=1)"),
        ("tl.associative_scan(x, 0, _add)", "0.0", "out = x.cumsum(dim=1)"),
    ],
)
def test_prefix_scans_verify_in_textbook_form(tmp_path, scan, other, formula):
    r = lift_src(tmp_path, scan_src(scan, other), "scan")
    assert r.status == "verified", r.message
    assert r.formula == formula
    op = "cumsum" if "sum" in formula else "cumprod"
    assert f"torch.{op}(" in r.torch
    assert rf"\operatorname{{{op}}}" in r.latex


def test_reverse_scan_is_a_suffix_sum(tmp_path):
    r = lift_src(tmp_path, scan_src("tl.cumsum(x, axis=0, reverse=True)"), "scan")
    assert r.status == "verified", r.message
    assert "for k in range(j, x.shape[1])" in r.formula
    ns: dict = {}
    exec(r.torch, ns)
    x = torch.randn(3, 7, dtype=torch.float64)
    assert torch.allclose(ns["scan"](x), torch.flip(torch.cumsum(torch.flip(x, [1]), dim=1), [1]))


@pytest.mark.parametrize(
    ("scan", "expect"),
    [
        ("tl.cumsum(x, axis=0)", "out = x.cumsum(dim=0)"),  # along the wrong dimension
        ("tl.cumsum(x, axis=0)", "out = x.cumprod(dim=1)"),
        ("tl.cumsum(x, axis=0, reverse=True)", "out = x.cumsum(dim=1)"),
        ("tl.cumsum(x, axis=0) - x", "out = x.cumsum(dim=1)"),  # exclusive scan
    ],
)
def test_wrong_scans_refuted(tmp_path, scan, expect):
    r = lift_src(tmp_path, scan_src(scan), "scan", expect)
    assert r.status == "refuted", r.message
    assert r.counterexample is not None


def test_padding_past_the_prefix_is_refuted_when_it_enters(tmp_path):
    """other=1.0 under a reverse scan: the suffix of a stored lane j < N runs to BLOCK_N, through the padded
    lanes N..BLOCK_N-1, so the padding enters every stored sum (a prefix scan never reaches it): refuted."""
    r = lift_src(
        tmp_path,
        scan_src("tl.cumsum(x, axis=0, reverse=True)", "1.0"),
        "scan",
        "out[i, j] = sum(x[i, k] for k in range(j, x.shape[1]))",
    )
    assert r.status == "refuted", r.message


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        ("tl.associative_scan(x, 0, _max)", "only sum and product scans"),
        ("tl.associative_scan((x, x), 0, _add)", "tuple of blocks"),
        ("tl.cumsum(x, axis=1)", "scan axis"),
    ],
)
def test_unmodelled_scans_unsupported(tmp_path, scan, message):
    r = lift_src(tmp_path, scan_src(scan), "scan_kernel")
    assert r.status == "unsupported", r.message
    assert message in r.message


def _formula(body: ir.Expr) -> Formula:
    n, m = ir.var("n"), ir.var("m")
    decls = (TensorDecl("x", (m, n), (n, ir.ONE), "x"), TensorDecl("out", (m, n), (n, ir.ONE), "out"))
    return Formula("f", (Param("x", "tensor"),), decls, (Assign("out", ("i", "j"), body),))


def test_tensor_form_of_a_prefix_sum():
    xk = ir.read("x", ir.var("i"), ir.var("k"))
    f = _formula(ir.reduce(ir.Op.SUM, "k", ir.ZERO, ir.add(ir.var("j"), ir.ONE), xk))
    t = tensor_form(f.assigns[0], f)
    assert t is not None and t.scan and t.dim == 1
    assert formula_line(f, whole=True).endswith("out = x.cumsum(dim=1)")
    assert "cumsum" in formula_latex(f, whole=True)
    # a prefix of the other axis, or a bound that is not the index + 1: stays indexed
    for hi in (ir.add(ir.var("i"), ir.ONE), ir.var("j"), ir.add(ir.var("j"), ir.const(2))):
        g = _formula(ir.reduce(ir.Op.SUM, "k", ir.ZERO, hi, xk))
        assert tensor_form(g.assigns[0], g) is None
