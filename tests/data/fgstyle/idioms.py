"""Kernels using FlagGems idioms: element types of pointers, dtype helpers from another file, `tle`,
int64 program ids, `not FLAG` on heuristics booleans, dtype predicates."""

import triton
import triton.language as tl

import fgstyle.utils.triton_lang_extension as ext

from .utils import triton_lang_extension as tle
from .utils.limits import highest, lowest


@triton.jit
def relu_lowest_kernel(inp, out, n, BLOCK: tl.constexpr):
    # out = max(inp, 0): masked lanes read the dtype's lowest value
    pid = tle.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    low = lowest(inp.type.element_ty)
    x = tl.load(inp + offs, mask=mask, other=low)
    y = tl.maximum(x, 0.0)
    tl.store(out + offs, y.to(out.dtype.element_ty), mask=mask)


@triton.jit
def clamp_high_kernel(inp, out, n, BLOCK: tl.constexpr):
    pid = ext.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(inp + offs, mask=mask)
    top = highest(x.type.scalar)
    tl.store(out + offs, tl.minimum(x, top), mask=mask)


@triton.jit
def scale_int64_kernel(inp, out, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    start = tl.cast(pid, tl.int64) * BLOCK
    offs = start + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(inp + offs, mask=mask)
    tl.store(out + offs, 3.0 * x, mask=mask)


@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def copy_even_kernel(inp, out, n, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    pid = tle.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    if not EVEN:
        x = tl.load(inp + offs, mask=offs < n, other=0.0)
        tl.store(out + offs, x, mask=offs < n)
    else:
        x = tl.load(inp + offs)
        tl.store(out + offs, x)


@triton.jit
def acc_dtype_kernel(inp, out, n, BLOCK: tl.constexpr):
    pid = tle.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(inp + offs, mask=mask)
    if x.type.scalar.is_int():
        y = x.to(tl.int64) * 2
    else:
        y = x.to(tl.float32) * 2
    tl.store(out + offs, y, mask=mask)


@triton.jit
def width_test_kernel(inp, out, n, BLOCK: tl.constexpr):
    pid = tle.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(inp + offs, mask=mask)
    if inp.dtype.element_ty.is_fp64():
        y = x
    else:
        y = x.to(tl.float32)
    tl.store(out + offs, y, mask=mask)


@triton.jit
def bitcast_kernel(inp, out, n, BLOCK: tl.constexpr):
    pid = tle.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(inp + offs, mask=mask)
    tl.store(out + offs, x.to(tl.int32, bitcast=True) < 0, mask=mask)
