"""Hosts over tensors of symbolic rank (symbolic/host_rank.py, synth/rank_views.py): shapes as chains of size
products, list parameters bound to a tensor's trailing dims under PyTorch's contract, product loops, views
of flat memory; and the failures that must stay failures."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.poly import norm
from tritonlift.symbolic.host_rank import RankChain, RankState, SymSizes, bind_trailing

ROW_KERNEL = """
import math
import torch
import triton
import triton.language as tl


@triton.jit
def row_norm_kernel(X, W, Y, M, N, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(X + row * N + cols, mask=mask, other=0.0)
    w = tl.load(W + cols, mask=mask, other=0.0)
    s = tl.sum(x * x, axis=0) / N
    tl.store(Y + row * N + cols, x / tl.sqrt(s + 1e-6) * w, mask=mask)


@triton.jit
def scale_kernel(X, Y, M, N, K, BLOCK_N: tl.constexpr):
    m = tl.program_id(0)
    k = tl.program_id(1)
    n = tl.arange(0, BLOCK_N)
    mask = n < N
    offs = m * N * K + n * K + k
    x = tl.load(X + offs, mask=mask, other=0.0)
    tl.store(Y + offs, x * 2.0, mask=mask)
"""


def _lift(tmp_path: Path, host: str, name: str):
    path = tmp_path / "mod.py"
    path.write_text(textwrap.dedent(ROW_KERNEL) + "\n\n" + textwrap.dedent(host))
    return next(r for r in lift_file(path) if r.name == name)


def _run(r, *args, **kwargs):
    ns: dict = {}
    exec(compile(r.torch, "<lifted>", "exec"), ns)
    return ns[r.name](*args, **kwargs)


def test_chain_cuts_relate_products():
    facts: list[ir.Expr] = [ir.le(ir.ONE, ir.var("x.ndim"))]
    c = RankChain("x")
    last = c.product(ir.sub(c.ndim, ir.ONE), c.ndim, facts, "t")
    lead = c.product(ir.ZERO, ir.sub(c.ndim, ir.ONE), facts, "t")
    assert str(last.attr) == "x.shape[-1]" and str(lead.attr) == "math.prod(x.shape[:-1])"
    assert c.numel() == norm(ir.mul(lead, last))
    # the old whole-tensor symbol is tied to the new ones by a fact, so earlier values stay related
    assert (
        ir.eq(ir.var("x.numel()"), norm(ir.mul(last, lead))) in facts
        or ir.eq(ir.var("x.numel()"), norm(ir.mul(lead, last))) in facts
    )


def test_unordered_cuts_are_unsupported():
    facts: list[ir.Expr] = [
        ir.le(ir.ONE, ir.var("x.ndim")),
        ir.le(ir.ZERO, ir.var("d")),
        ir.lt(ir.var("d"), ir.var("x.ndim")),
    ]
    c = RankChain("x")
    c.cut(ir.var("d"), facts, "t")
    with pytest.raises(Unsupported):  # d and x.ndim - 1: the facts do not say which comes first
        c.cut(ir.var("e"), facts, "t")


def test_negative_index_of_a_shape_is_not_guessed():
    rs = RankState()
    seq = rs.shape("x")
    facts: list[ir.Expr] = []
    with pytest.raises(Unsupported):
        seq.item(ir.var("dim"), facts, "t")  # dim may be negative: Python would count from the end


def test_list_bound_to_trailing_dims_is_an_assumption():
    rs = RankState()
    facts: list[ir.Expr] = []
    said: list[str] = []
    bind_trailing(rs, "normalized_shape", "x", facts, said, "t")
    assert said and "PyTorch's contract" in said[0] and "the host does not check it" in said[0]
    assert ir.var("math.prod(normalized_shape)") in rs.chain("x").segs


def test_replaced_item_text_and_length():
    rs = RankState()
    facts: list[ir.Expr] = [ir.le(ir.ZERO, ir.var("d")), ir.lt(ir.var("d"), ir.var("x.ndim"))]
    seq = rs.shape("x").replace_item(ir.var("d"), ir.ONE, facts, "t")
    assert isinstance(seq, SymSizes)
    assert seq.text() == "(*x.shape[:d], 1, *x.shape[d + 1:])"
    assert seq.length() == ir.var("x.ndim")


RMS_HOST = """
def rms(x, normalized_shape, weight):
    N = math.prod(normalized_shape)
    M = x.numel() // N
    x = x.contiguous()
    y = torch.empty_like(x)
    row_norm_kernel[(M,)](x, weight, y, M, N, BLOCK_N=triton.next_power_of_2(N))
    return y
"""


def test_normalized_shape_host_verifies_with_the_contract(tmp_path: Path):
    r = _lift(tmp_path, RMS_HOST, "rms")
    assert r.status == "verified", r.message
    assert any(
        "tuple(normalized_shape) == x.shape[x.ndim - len(normalized_shape):]" in a for a in r.assumptions
    )
    # shown at the tensors' own rank (symbolic/rank_text.py), weight's shape as PyTorch's contract says
    assert r.formula == "y = rms_norm(x, normalized_shape, weight=weight, eps=1e-06)"
    assert any(a.startswith("weight.shape == tuple(normalized_shape)") for a in r.assumptions)
    # the verified form keeps the views, and so does the torch code
    assert "x_v = as_strided(x, (math.prod(x.shape[:x.ndim - len(normalized_shape)])" in r.formula_raw
    g = torch.Generator().manual_seed(0)
    for shape, k in (((5, 12), 1), ((2, 3, 4, 6), 2), ((17,), 1)):
        x = torch.randn(*shape, generator=g)
        w = torch.randn(*shape[-k:], generator=g)
        got = _run(r, x, list(shape[-k:]), w)
        torch.testing.assert_close(
            got, torch.nn.functional.rms_norm(x, shape[-k:], w, 1e-6), rtol=1e-4, atol=1e-5
        )


def test_a_row_short_is_refuted_unwritten(tmp_path: Path):
    """The host launches one row fewer than the tensor holds: the output's last row is never written."""
    r = _lift(tmp_path, RMS_HOST.replace("M = x.numel() // N", "M = x.numel() // N - 1"), "rms")
    assert r.status == "refuted", r.message
    assert r.counterexample is not None and r.counterexample.kernel_value == "not written"


SCALE_HOST = """
def scale(x, dim):
    assert dim >= -x.ndim and dim < x.ndim
    dim = dim % x.ndim
    M = 1
    for i in range(dim):
        M *= x.shape[i]
    N = x.shape[dim]
    x = x.contiguous()
    K = x.numel() // M // N
    y = torch.empty_like(x)
    scale_kernel[(M, K)](x, y, M, N, K, BLOCK_N=triton.next_power_of_2(N))
    return y
"""


def test_dim_host_products_and_views(tmp_path: Path):
    r = _lift(tmp_path, SCALE_HOST, "scale")
    assert r.status == "verified", r.message
    m, n, k = (
        "math.prod(x.shape[:dim % x.ndim])",
        "x.shape[dim % x.ndim]",
        "math.prod(x.shape[dim % x.ndim + 1:])",
    )
    assert r.formula == "y = x * 2.0"  # elementwise over views of one grouping: over the tensors
    assert f"y_v = as_strided(y, ({m}, {n}, {k})" in r.formula_raw
    x = torch.randn(3, 4, 5)
    for d in (0, 1, 2, -1):
        torch.testing.assert_close(_run(r, x, d), x * 2.0)


def test_dim_host_reading_transposed_is_not_the_elementwise_formula(tmp_path: Path):
    """The kernel reads x with N and K swapped (right only when N == 1 or K == 1)."""
    bad = ROW_KERNEL.replace("x = tl.load(X + offs,", "x = tl.load(X + m * N * K + n + k * N,")
    path = tmp_path / "mod.py"
    path.write_text(textwrap.dedent(bad) + "\n\n" + textwrap.dedent(SCALE_HOST))
    r = next(r for r in lift_file(path) if r.name == "scale")
    assert r.formula != "y = x * 2.0"
    if r.status == "verified":  # its own formula: what the kernel computes, not 2 * x
        x = torch.randn(3, 4, 5)
        want = (x.reshape(3, 5, 4).transpose(1, 2) * 2.0).reshape(3, 4, 5)
        torch.testing.assert_close(_run(r, x, 1), want)
        assert not torch.allclose(want, x * 2.0)


def test_shape_slice_allocation(tmp_path: Path):
    """row_mean's pattern: out of shape x.shape[:-1], one row per element."""
    src = Path(__file__).resolve().parents[1] / "examples" / "row_mean.py"
    r = next(r for r in lift_file(src) if r.name == "row_mean")
    assert r.status == "verified", r.message
    assert r.formula == "out = x.mean(dim=-1)"
    assert r.formula_raw.startswith("x_v = as_strided(x, (math.prod(x.shape[:-1]), x.shape[-1])")
    for shape in ((7, 9), (2, 3, 5), (11,)):
        x = torch.randn(*shape)
        torch.testing.assert_close(_run(r, x), x.mean(dim=-1), rtol=1e-5, atol=1e-6)


def test_expected_formula_at_the_tensors_rank(tmp_path: Path):
    """--expect reads a formula written at the tensors' own rank back through the problem's views."""
    from tritonlift.options import Options

    path = tmp_path / "mod.py"
    path.write_text(textwrap.dedent(ROW_KERNEL) + "\n\n" + textwrap.dedent(RMS_HOST))
    good = "y = rms_norm(x, normalized_shape, weight=weight, eps=1e-06)"
    r = next(r for r in lift_file(path, Options(expect=good)) if r.name == "rms")
    assert r.status == "verified", r.message
    wrong = "y = rms_norm(x, normalized_shape, weight=weight, eps=1e-05)"
    r = next(r for r in lift_file(path, Options(expect=wrong)) if r.name == "rms")
    assert r.status == "refuted", r.message
    src = Path(__file__).resolve().parents[1] / "examples" / "row_mean.py"
    r = next(r for r in lift_file(src, Options(expect="out = x.sum(dim=-1)")) if r.name == "row_mean")
    assert r.status == "refuted", r.message
