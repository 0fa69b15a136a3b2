# mutant-of: examples/transpose.py
# target: transpose
# mutation: host bug: the grid's second axis counts M instead of N
# plain: refuted
# witness: M=3, N=70
"""Tiled transpose into a fresh tensor, both tensors addressed by their strides: y[j, i] = x[i, j]."""

import torch
import triton
import triton.language as tl


@triton.jit
def transpose_kernel(
    x_ptr,
    y_ptr,
    M,
    N,
    stride_xm,
    stride_xn,
    stride_ym,
    stride_yn,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    tile = tl.load(x_ptr + rows[:, None] * stride_xm + cols[None, :] * stride_xn, mask=mask, other=0.0)
    # y has shape (N, M): element (j, i) sits at j * stride_ym + i * stride_yn
    tl.store(y_ptr + cols[None, :] * stride_ym + rows[:, None] * stride_yn, tile, mask=mask)


def transpose(x):
    assert x.dim() == 2
    M, N = x.shape
    y = torch.empty((N, M), dtype=x.dtype, device=x.device)
    BLOCK_M = 32
    BLOCK_N = 32
    grid = (triton.cdiv(M, BLOCK_M), triton.cdiv(M, BLOCK_N))
    transpose_kernel[grid](x, y, M, N, x.stride(0), x.stride(1), y.stride(0), y.stride(1), BLOCK_M, BLOCK_N)
    return y
