# mutant-of: examples/col_sum_atomic.py
# target: col_sum_atomic
# mutation: the update's mask drops the last column (cols < N - 1): it stays 0
# witness: any
"""Column sums with tl.atomic_add (split over rows): a 2-D grid of 16x16 tiles; each program sums its tile
over the rows and adds the 16 partial column sums into a zero-initialised output, whatever order the
programs of one column run in."""

import torch
import triton
import triton.language as tl


@triton.jit
def col_sum_atomic_kernel(
    x_ptr, out_ptr, M, N, stride_m, stride_n, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr
):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    x = tl.load(x_ptr + rows[:, None] * stride_m + cols[None, :] * stride_n, mask=mask, other=0.0)
    partial = tl.sum(x, axis=0)
    tl.atomic_add(out_ptr + cols, partial, mask=cols < N - 1)


def col_sum_atomic(x):
    M, N = x.shape
    out = torch.zeros(N, dtype=torch.float32, device=x.device)
    grid = (triton.cdiv(M, 16), triton.cdiv(N, 16))
    col_sum_atomic_kernel[grid](x, out, M, N, x.stride(0), x.stride(1), BLOCK_M=16, BLOCK_N=16)
    return out
