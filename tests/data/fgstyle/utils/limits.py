"""Dtype limits as plain jit functions of a dtype, in the style of flag_gems/utils/limits.py."""

import triton
import triton.language as tl


@triton.jit
def lowest(dtype):
    dt = dtype.value
    if dt.is_floating():
        res: tl.constexpr = float("-inf")
        return res
    if dt.is_int_signed():
        bits: tl.constexpr = dt.int_bitwidth
        res: tl.constexpr = -(2 ** (bits - 1))
        return res
    return 0


@triton.jit
def highest(dtype: tl.constexpr):
    dt = dtype.value
    if dt.is_floating():
        res: tl.constexpr = float("inf")
        return res
    return 1
