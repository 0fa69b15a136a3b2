# mutant-of: examples/strided_copy.py
# target: strided_copy
# mutation: wrong stride: the row stride of x replaced by the column count N (shows on non-contiguous x only)
# witness: any
"""Copy of a strided 2-D view into a fresh contiguous tensor: y[i, j] = x[i, j]."""

import torch
import triton
import triton.language as tl


@triton.jit
def copy_2d_kernel(
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
    x = tl.load(x_ptr + rows[:, None] * N + cols[None, :] * stride_xn, mask=mask)
    tl.store(y_ptr + rows[:, None] * stride_ym + cols[None, :] * stride_yn, x, mask=mask)


def strided_copy(x):
    M, N = x.shape
    y = torch.empty((M, N), dtype=x.dtype, device=x.device)
    grid = lambda meta: (triton.cdiv(M, meta["BLOCK_M"]), triton.cdiv(N, meta["BLOCK_N"]))  # noqa: E731
    copy_2d_kernel[grid](
        x, y, M, N, x.stride(0), x.stride(1), y.stride(0), y.stride(1), BLOCK_M=32, BLOCK_N=32
    )
    return y
