"""Host code on Python values, for kernel-launching operators (symbolic/host_eval.py): `is None` tests on
parameters that default to None, dtype tests (`x.dtype is torch.bool`), `not`, short-circuit `and`/`or`, paths
that raise, `.to(device)`, `broadcast_to` (stride 0 on a dim of size 1), and the rank a host is lifted for."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from tritonlift.options import Options
from tritonlift.pipeline import lift_module_file

HEAD = "import math\n\nimport torch\nimport triton\nimport triton.language as tl\n\n"

SCALE_KERNEL = """
@triton.jit
def scale_kernel(x_ptr, out_ptr, n, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.store(out_ptr + offs, x * factor, mask=offs < n)
"""

BIAS_KERNEL = """
@triton.jit
def bias_add_kernel(x_ptr, b_ptr, out_ptr, M, N, s_bm, s_bn, BM: tl.constexpr, BN: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)[:, None]
    rn = tl.program_id(1) * BN + tl.arange(0, BN)[None, :]
    mask = (rm < M) & (rn < N)
    x = tl.load(x_ptr + rm * N + rn, mask=mask, other=0.0)
    b = tl.load(b_ptr + rm * s_bm + rn * s_bn, mask=mask, other=0.0)
    tl.store(out_ptr + rm * N + rn, x + b, mask=mask)
"""


def _lift(tmp_path: Path, source: str, op: str):
    path = tmp_path / "ops.py"
    path.write_text(HEAD + textwrap.dedent(source))
    (r,) = [r for r in lift_module_file(path, Options()) if r.name == op]
    return r


def _run(r, *args, **kwargs):
    scope: dict = {}
    exec(compile(r.torch, "<lifted>", "exec"), scope)
    return scope[r.name](*args, **kwargs)


def test_none_defaults_dtype_tests_not_and_short_circuit(tmp_path: Path):
    r = _lift(
        tmp_path,
        SCALE_KERNEL
        + """

def scale(x, factor=None, *, dtype=None, halve=False):
    if dtype is None:
        dtype = x.dtype
        if dtype is torch.bool or dtype == torch.int64:
            raise TypeError("integers")
    if factor is None or not halve:
        f = 2.0
    else:
        f = 0.5
    x = x.contiguous().to(x.device)
    n = x.numel()
    out = torch.empty_like(x)
    scale_kernel[(triton.cdiv(n, 1024),)](x, out, n, f, BLOCK=1024)
    return out
""",
        "scale",
    )
    # factor/halve choose the constant: two formulas, each under its condition; dtype's paths agree
    assert r.status == "verified", r.message
    assert (
        r.formula
        == "[not (halve and factor is not None)] out = x * 2.0; [halve and factor is not None] out = x * 0.5"
    )
    assert any("x has a real floating dtype" in a for a in r.assumptions)
    assert any(".to(" in a for a in r.assumptions)
    x = torch.linspace(-1, 1, 11)
    torch.testing.assert_close(_run(r, x), x * 2)
    torch.testing.assert_close(_run(r, x, 3.0), x * 2)
    torch.testing.assert_close(_run(r, x, 3.0, halve=True), x * 0.5)
    torch.testing.assert_close(_run(r, x, halve=True), x * 2)  # factor None: the first branch


def test_one_formula_on_every_python_value_path(tmp_path: Path):
    r = _lift(
        tmp_path,
        SCALE_KERNEL
        + """

def double(x, *, dtype=None):
    if dtype is None:
        dtype = x.dtype
    if dtype is torch.int32:
        raise TypeError("int32")
    x = x.contiguous()
    n = x.numel()
    out = torch.empty_like(x)
    scale_kernel[(triton.cdiv(n, 1024),)](x, out, n, 2.0, BLOCK=1024)
    return out
""",
        "double",
    )
    assert r.status == "verified", r.message
    assert r.formula == "out = x * 2.0", r.formula
    x = torch.linspace(-1, 1, 11)
    torch.testing.assert_close(_run(r, x), x * 2)


def test_a_path_that_raises_is_left_out_and_said_so(tmp_path: Path):
    r = _lift(
        tmp_path,
        SCALE_KERNEL
        + """

def checked(x, mode="fast"):
    if mode != "fast":
        raise ValueError("only fast")
    x = x.contiguous()
    n = x.numel()
    out = torch.empty_like(x)
    scale_kernel[(triton.cdiv(n, 256),)](x, out, n, 3.0, BLOCK=256)
    return out
""",
        "checked",
    )
    assert r.status == "verified", r.message
    assert any("raises" in a and "mode != 'fast'" in a for a in r.assumptions), r.assumptions


def _bias_host(stride_n: str) -> str:
    return (
        BIAS_KERNEL
        + f"""

def bias_add(x, bias):
    M, N = x.shape
    x = x.contiguous()
    out = torch.empty((M, N), dtype=x.dtype, device=x.device)
    bias = bias.broadcast_to(out.shape)
    grid = lambda META: (triton.cdiv(M, META["BM"]), triton.cdiv(N, META["BN"]))
    bias_add_kernel[grid](x, bias, out, M, N, bias.stride(0), {stride_n})
    return out
"""
    )


def test_broadcast_to_reads_a_size_one_dim_with_stride_zero(tmp_path: Path):
    r = _lift(tmp_path, _bias_host("bias.stride(1)"), "bias_add")
    assert r.status == "verified", r.message
    assert (
        "bias.ndim == 2" in r.assumptions
    )  # the rank is read off bias.stride(1): not the only rank the host takes
    x = torch.linspace(-1, 1, 35).reshape(5, 7)
    for b in (
        torch.arange(35.0).reshape(5, 7),
        torch.arange(7.0).reshape(1, 7),
        torch.arange(5.0).reshape(5, 1),
    ):
        torch.testing.assert_close(_run(r, x, b), x + b)


def test_broadcast_with_a_wrong_stride_lifts_to_what_it_computes(tmp_path: Path):
    # bias.stride(0) passed as the column stride too: a 1-d bias is read with strides (0, 0), every output
    # element adds bias[0]; the lifted formula says so (it is no x + bias)
    r = _lift(tmp_path, _bias_host("bias.stride(0)"), "bias_add")
    assert r.status == "verified", r.message
    assert "bias.ndim == 1" in r.assumptions
    assert r.formula_raw == "out[i, j] = x[i, j] + bias[0, 0]", r.formula_raw
    x, b = torch.linspace(-1, 1, 35).reshape(5, 7), torch.arange(1.0, 8.0)
    torch.testing.assert_close(_run(r, x, b), x + b[0])


def test_a_path_the_evaluator_cannot_follow_fails_only_its_own_case(tmp_path: Path):
    r = _lift(
        tmp_path,
        SCALE_KERNEL
        + """

def maybe(x, dims=None):
    if dims is None:
        x = x.contiguous()
        n = x.numel()
        out = torch.empty_like(x)
        scale_kernel[(triton.cdiv(n, 512),)](x, out, n, 4.0, BLOCK=512)
        return out
    return x.sum(dims)
""",
        "maybe",
    )
    assert r.status == "unsupported"  # not every case is lifted
    assert r.formula == "[dims is None] out = x * 4.0", r.formula
    assert "[dims is not None]" in r.message and "ops.py:" in r.message and "not modelled" in r.message
    x = torch.linspace(-1, 1, 9)
    torch.testing.assert_close(_run(r, x), x * 4)
    with pytest.raises(NotImplementedError):
        _run(r, x, dims=0)
