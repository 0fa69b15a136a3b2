# rewrite-of: examples/row_sum_block_ptr.py
# target: row_sum
# rewrite: order=(0, 1) and boundary_check=(1, 0): the same accesses (order is a layout hint, the checked dimensions a set)
"""Row sums out[i] = sum_j x[i, j] written with block pointers, in the style of Triton's block-pointer
tutorials: each program owns BLOCK_M rows; a [BLOCK_M, BLOCK_N] block pointer walks along the row in
BLOCK_N steps (`tl.advance`), loads are bounds-checked in both dimensions and padded with zeros, and the
BLOCK_M sums are stored through a 1-D block pointer checked against M. Any strided 2-D view works: both
strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def row_sum_block_ptr_kernel(
    x_ptr,
    out_ptr,
    M,
    N,
    stride_xm,
    stride_xn,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    pid = tl.program_id(0)
    x_block_ptr = tl.make_block_ptr(
        base=x_ptr,
        shape=(M, N),
        strides=(stride_xm, stride_xn),
        offsets=(pid * BLOCK_M, 0),
        block_shape=(BLOCK_M, BLOCK_N),
        order=(0, 1),
    )
    acc = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for _ in range(0, tl.cdiv(N, BLOCK_N)):
        x = tl.load(x_block_ptr, boundary_check=(1, 0), padding_option="zero")
        acc += tl.sum(x, axis=1)
        x_block_ptr = tl.advance(x_block_ptr, (0, BLOCK_N))
    out_block_ptr = tl.make_block_ptr(
        base=out_ptr, shape=(M,), strides=(1,), offsets=(pid * BLOCK_M,), block_shape=(BLOCK_M,), order=(0,)
    )
    tl.store(out_block_ptr, acc.to(out_ptr.dtype.element_ty), boundary_check=(0,))


def row_sum(x):
    M, N = x.shape
    out = torch.empty((M,), device=x.device, dtype=x.dtype)
    BLOCK_M = 16
    BLOCK_N = 32
    grid = (triton.cdiv(M, BLOCK_M),)
    row_sum_block_ptr_kernel[grid](x, out, M, N, x.stride(0), x.stride(1), BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N)
    return out
