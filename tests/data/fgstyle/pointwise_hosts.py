"""Host functions that call @pointwise_dynamic bodies, in the style of FlagGems' operators (tests only: parsed,
never run). Each host is lifted at operator level (symbolic/host_pointwise.py)."""

import logging

import torch
import triton
import triton.language as tl

from .pointwise_ops import axpy
from .utils import pointwise_dynamic

logger = logging.getLogger(__name__)


@pointwise_dynamic(promotion_methods=[(0, "DEFAULT")])
@triton.jit
def square(x):
    return x * x


@pointwise_dynamic(is_tensor=[True, False, False], promotion_methods=[(0, "DEFAULT")])
@triton.jit
def affine(x, a, b):
    return x * a + b


@pointwise_dynamic(is_tensor=[True, False], promotion_methods=[(0, "DEFAULT")])
@triton.jit
def lower_bound(x, lo):
    return tl.maximum(x, lo)


@pointwise_dynamic(num_outputs=2, promotion_methods=[(0, "DEFAULT"), (0, "DEFAULT")])
@triton.jit
def square_and_cube(x):
    return x * x, x * x * x


def plain(A):
    logger.debug("PLAIN")
    return square(A)


def scaled(A, *, a=2.0, b=0.5):
    return affine(A, a, b)


def composed(A, B):
    return axpy(square(A), B, 3.0)


def dispatch_on_none(A, lo=None, hi=None):
    if lo is None and hi is None:
        raise ValueError("need a bound")
    elif hi is None:
        return lower_bound(A, lo)
    else:
        return affine(A, hi, 0.0)


def dispatch_on_string(A, mode="square"):
    if mode == "affine":
        out = affine(A, 2.0, 1.0)
    else:
        out = square(A)
    return out


def dispatch_on_type(A, B):
    if isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor):
        if B.device != A.device:
            B = B.to(A.device)
        return axpy(A, B, 1.0)
    elif isinstance(A, torch.Tensor):
        return affine(A, 1.0, B)
    else:
        return torch.tensor(A + B)


def _helper(x, y):
    return axpy(x, y, -1.0)


def through_helper(A, B):
    return _helper(A, B)


class Squared(torch.autograd.Function):
    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        ctx.flag = True
        return square(A)


def through_autograd(A):
    return Squared.apply(A)


def into_out(A, out):
    square(A, out0=out)
    return out


def in_place(A):
    square(A, out0=A)
    return A


def two_outputs(A):
    return square_and_cube(A)


def tensor_into_scalar_slot(A, B):
    n = B.numel()  # B is a tensor
    return affine(A, B, n)


def data_dependent(A):
    if A.sum() > 0:
        return square(A)
    return A
