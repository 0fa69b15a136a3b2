"""Scalar bodies in the style of FlagGems' @pointwise_dynamic operators (tests only: parsed, never run)."""

import math

import triton
import triton.language as tl

from .utils import pointwise_dynamic, tl_extra_shim

erf = tl_extra_shim.erf
pow = tl_extra_shim.pow


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT")])
@triton.jit
def gelu_erf(x):
    inv_sqrt2: tl.constexpr = 0.7071067811865476
    return 0.5 * x * (1 + erf(x.to(tl.float32) * inv_sqrt2))


@pointwise_dynamic(is_tensor=[True, True, False], promotion_methods=[(0, 1, "DEFAULT")])
@triton.jit
def axpy(x, y, alpha):
    return x + y * alpha


@pointwise_dynamic(is_tensor=[True, False], promotion_methods=[(0, 1, "DEFAULT")])
@triton.jit
def pow_scalar(x, exponent):
    return pow(x.to(tl.float32), exponent)


@pointwise_dynamic(promotion_methods=[(1, 2, "NO_OPMATH")])
@triton.jit
def select(cond, a, b):
    return tl.where(cond, a, b)


@pointwise_dynamic(promotion_methods=[(0, 1, "ALWAYS_BOOL")])
@triton.jit
def greater(x, y):
    return x.to(tl.float32) > y


@triton.jit
def _sigmoid(v):
    return 1.0 / (1.0 + tl.exp(-v))


@pointwise_dynamic(num_outputs=2, promotion_methods=[(0, 1, "DEFAULT"), (0, 1, "DEFAULT")])
@triton.jit
def swish_and_mul_grad(x, g):
    s = _sigmoid(x.to(tl.float32))
    return g * s * (1 + x * (1 - s)), g * x * s


@pointwise_dynamic(is_tensor=[True], promotion_methods=[(0, "INT_TO_FLOAT")])
@triton.jit
def half_turn(x):
    return tl.where(x >= 0, 0.0, math.pi)


@pointwise_dynamic(promotion_methods=[(0, 1, "ALWAYS_BOOL")])
@triton.jit
def either_not_both(x, y):
    return x.to(tl.int1) ^ y.to(tl.int1)


@pointwise_dynamic(promotion_methods=[(0, "ALWAYS_BOOL")])
@triton.jit
def is_zero(x):
    return not x.to(tl.int1)


@pointwise_dynamic(promotion_methods=[(0, 1, "ALWAYS_BOOL")])
@triton.jit
def both(x, y):
    return x.to(tl.int1).logical_and(y.to(tl.int1))


@pointwise_dynamic(promotion_methods=[(0, 1, "DEFAULT")])
@triton.jit
def int_div(x, y):
    return x // y


@pointwise_dynamic(promotion_methods=[(0, 1, "DEFAULT")])
@triton.jit
def bit_and(x, y):
    return x & y


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT")])
@triton.jit
def early_return(x):
    if x > 0:
        return x
    return -x


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT")])
@triton.jit
def dtype_branch(x):
    if x.type.scalar.is_int():
        return x * 2
    else:
        return x.to(tl.float32) * 3


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT"), (0, "DEFAULT")])
@triton.jit
def wrong_count(x):
    return x


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT")])
@triton.jit
def bit_pattern(x):
    return x.to(tl.int32, bitcast=True)
