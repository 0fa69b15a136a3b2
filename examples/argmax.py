"""Row-wise argmax and argmin, out[i] = the first j where x[i, j] is largest (smallest), as torch.argmax(x,
dim=1) returns it: one program per row with the whole row in one block (`BLOCK_N = next_power_of_2(N)`),
the padding lanes loaded as -inf (+inf) so they never win, and `tl.max(x, axis=0, return_indices=True)`
(`tl.argmin`) picking the first index among equal values (`tie_break_left`, Triton's default). The
indices are written as int64, the maxima beside them. Any strided 2-D view works: both strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def argmax_kernel(x_ptr, index_ptr, value_ptr, N, stride_xm, stride_xn, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    x = tl.load(x_ptr + row * stride_xm + cols * stride_xn, mask=cols < N, other=-float("inf"))
    value, index = tl.max(x, axis=0, return_indices=True)
    tl.store(index_ptr + row, index)
    tl.store(value_ptr + row, value)


@triton.jit
def argmin_kernel(x_ptr, index_ptr, N, stride_xm, stride_xn, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    x = tl.load(x_ptr + row * stride_xm + cols * stride_xn, mask=cols < N, other=float("inf"))
    tl.store(index_ptr + row, tl.argmin(x, axis=0))


def argmax(x):
    M, N = x.shape
    index = torch.empty((M,), device=x.device, dtype=torch.int64)
    value = torch.empty((M,), device=x.device, dtype=x.dtype)
    argmax_kernel[(M,)](x, index, value, N, x.stride(0), x.stride(1), BLOCK_N=triton.next_power_of_2(N))
    return index, value


def argmin(x):
    M, N = x.shape
    index = torch.empty((M,), device=x.device, dtype=torch.int64)
    argmin_kernel[(M,)](x, index, N, x.stride(0), x.stride(1), BLOCK_N=triton.next_power_of_2(N))
    return index


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"argmax": {"x": "f32[M, N] strided"}, "argmin": {"x": "f32[M, N] strided"}}


def reference_argmax(x):
    return torch.argmax(x, dim=1), torch.amax(x, dim=1)


def reference_argmin(x):
    return torch.argmin(x, dim=1)
