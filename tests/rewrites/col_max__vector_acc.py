# rewrite-of: examples/col_max.py
# target: col_max_kernel
# rewrite: each tile reduced over axis 0 with tl.max into a 1-D running max, instead of a 2-D running max combined at the end
"""Column max and min (reductions over dim 0): each program owns BLOCK_N columns and walks down the rows in
BLOCK_M x BLOCK_N tiles, keeping a running 2-D extremum (masked lanes load -inf for the max, +inf for the
min); the tile is combined over axis 0 at the end with `tl.reduce` and a `@triton.jit` combine function,
the max one spelled with `tl.maximum`, the min one with `tl.where`. x's strides are passed.
out[j] = max_i x[i, j] (amax(dim=0)), out[j] = min_i x[i, j] (amin(dim=0)).
"""

import torch
import triton
import triton.language as tl


@triton.jit
def _max_combine(a, b):
    return tl.maximum(a, b)


@triton.jit
def _min_combine(a, b):
    return tl.where(a < b, a, b)


@triton.jit
def col_max_kernel(X, Out, M, N, stride_xm, stride_xn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = cols < N
    acc = tl.full([BLOCK_N], value=-float("inf"), dtype=tl.float32)
    for start_m in tl.range(0, M, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        mask = (rows[:, None] < M) & col_mask[None, :]
        x = tl.load(X + rows[:, None] * stride_xm + cols[None, :] * stride_xn, mask=mask, other=-float("inf"))
        acc = tl.maximum(acc, tl.max(x.to(tl.float32), axis=0))
    out = acc
    tl.store(Out + cols, out, mask=col_mask)


@triton.jit
def col_min_kernel(X, Out, M, N, stride_xm, stride_xn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = cols < N
    acc = tl.full([BLOCK_M, BLOCK_N], value=float("inf"), dtype=tl.float32)
    for start_m in tl.range(0, M, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        mask = (rows[:, None] < M) & col_mask[None, :]
        x = tl.load(X + rows[:, None] * stride_xm + cols[None, :] * stride_xn, mask=mask, other=float("inf"))
        acc = tl.minimum(acc, x.to(tl.float32))
    out = tl.reduce(acc, 0, _min_combine, keep_dims=True)
    tl.store(Out + cols[None, :], out, mask=col_mask[None, :])


def col_max(x):
    assert x.ndim == 2
    M, N = x.shape
    out = torch.empty((N,), dtype=torch.float32, device=x.device)
    BLOCK_N = 16
    col_max_kernel[(triton.cdiv(N, BLOCK_N),)](
        x, out, M, N, x.stride(0), x.stride(1), BLOCK_M=8, BLOCK_N=BLOCK_N
    )
    return out


def col_min(x):
    assert x.ndim == 2
    M, N = x.shape
    out = torch.empty((N,), dtype=torch.float32, device=x.device)
    BLOCK_N = 16
    col_min_kernel[(triton.cdiv(N, BLOCK_N),)](
        x, out, M, N, x.stride(0), x.stride(1), BLOCK_M=8, BLOCK_N=BLOCK_N
    )
    return out
