# rewrite-of: examples/cumsum.py
# target: cumsum
# rewrite: the row as a [1, BLOCK_N] tile scanned along axis 1
"""Prefix sums along the last dimension, out[i, j] = sum_{k <= j} x[i, k] (torch.cumsum(x, dim=1)), one
program per row with the whole row in one block (`BLOCK_N = next_power_of_2(N)`): the row is loaded with
`other=0`, scanned with `tl.cumsum`, and stored under the same mask. Any strided 2-D view works: both
strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def cumsum_kernel(x_ptr, out_ptr, N, stride_xm, stride_xn, stride_om, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)[None, :]
    mask = cols < N
    x = tl.load(x_ptr + row * stride_xm + cols * stride_xn, mask=mask, other=0.0)
    y = tl.cumsum(x, axis=1)
    tl.store(out_ptr + row * stride_om + cols, y, mask=mask)


def cumsum(x):
    M, N = x.shape
    out = torch.empty((M, N), device=x.device, dtype=x.dtype)
    BLOCK_N = triton.next_power_of_2(N)
    cumsum_kernel[(M,)](x, out, N, x.stride(0), x.stride(1), out.stride(0), BLOCK_N=BLOCK_N)
    return out
