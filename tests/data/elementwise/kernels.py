"""Elementwise constructs for tests/test_elementwise.py: libdevice math (through the numpy stand-in in
libdevice.py), float `%`, integer bit operations and shifts (on loaded values and in index arithmetic), element
type dispatch and casts to a dtype parameter. Run in Triton's CPU interpreter and lifted by tritonlift."""

import triton
import triton.language as tl

from . import libdevice


@triton.jit
def tan_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.tan(x.to(tl.float32)), mask=mask)


@triton.jit
def inverse_trig_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.asin(x) * libdevice.acos(x) + libdevice.atan(x), mask=mask)


@triton.jit
def atan2_kernel(y_ptr, x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    y = tl.load(y_ptr + offs, mask=mask)
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.atan2(y, x), mask=mask)


@triton.jit
def remainder_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # Python's remainder from C's: float % is fmod (the sign of the dividend), as in FlagGems' div.py
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    r = x % y
    tl.store(out_ptr + offs, tl.where((r != 0) & ((x < 0) ^ (y < 0)), r + y, r), mask=mask)


@triton.jit
def trunc_div_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.trunc(libdevice.div_rz(x, y)) + libdevice.fmod(x, y), mask=mask)


@triton.jit
def nan_to_zero_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    bad = libdevice.isnan(x) | libdevice.isinf(x)
    tl.store(out_ptr + offs, tl.where(bad, 0.0, x), mask=mask)


@triton.jit
def finite_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.finitef(x), mask=mask)


@triton.jit
def copysign_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, libdevice.copysign(x, y), mask=mask)


@triton.jit
def bits_kernel(a_ptr, b_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask)
    b = tl.load(b_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, (a & b) | (a ^ ~b), mask=mask)


@triton.jit
def shift_kernel(a_ptr, s_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask)
    s = tl.load(s_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, (a << s) + (a >> 1), mask=mask)


@triton.jit
def mask_flags_kernel(x_ptr, keep_ptr, drop_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # bool tensors combined with | and with a comparison by &, as FlagGems' repetition penalty does
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    keep = tl.load(keep_ptr + offs, mask=mask, other=False)
    drop = tl.load(drop_ptr + offs, mask=mask, other=False)
    hit = keep | drop
    tl.store(out_ptr + offs, tl.where(hit & (x > 0), x * 2.0, x), mask=mask)


@triton.jit
def interleave_index_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # index arithmetic with shifts and a low-bit mask: out[i] = x[i // 2] + x[i % 4]
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    half = tl.load(x_ptr + (offs >> 1), mask=mask)
    low = tl.load(x_ptr + (offs & 3), mask=mask)
    tl.store(out_ptr + offs, half + low, mask=mask)


@triton.jit
def dtype_accumulate_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # FlagGems' compute-dtype choice: the same values for every element type (casts are exact over reals)
    if tl.constexpr(x_ptr.dtype.element_ty == tl.float16) or tl.constexpr(
        x_ptr.dtype.element_ty == tl.bfloat16
    ):
        cdtype = tl.float32
    else:
        cdtype = x_ptr.dtype.element_ty
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask).to(cdtype)
    y = x * 3.0 if x_ptr.dtype.element_ty.is_fp64() else x.to(tl.float32) * 3.0
    tl.store(out_ptr + offs, y, mask=mask)


@triton.jit
def dtype_divergent_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # a kernel that computes another value for bfloat16: the result covers the other element types only
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    if x.dtype.is_bf16():
        y = x * 2.0
    else:
        y = x + 1.0
    tl.store(out_ptr + offs, y, mask=mask)


@triton.jit
def dtype_width_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    width: tl.constexpr = x_ptr.dtype.element_ty.primitive_bitwidth
    tl.store(out_ptr + offs, x * width, mask=mask)


@triton.jit
def cast_param_kernel(x_ptr, out_ptr, n, OUT_DTYPE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, (x * 0.5).to(OUT_DTYPE), mask=mask)


@triton.jit
def scaled_index_kernel(x_ptr, out_ptr, n, stride: tl.int64, scale: tl.float32, BLOCK: tl.constexpr):
    # annotated scalars: `stride: tl.int64` is an integer though it only meets `%`, `scale` a float
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.where(offs % stride == 0, x * scale, x), mask=mask)


@triton.jit
def signbit_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # FlagGems' signbit: the float's bits as a signed integer of its width, negative iff the sign bit is set
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x.to(tl.int32, bitcast=True) < 0, mask=mask)


@triton.jit
def bits_beyond_sign_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x.to(tl.int32, bitcast=True) & 0xFF, mask=mask)
