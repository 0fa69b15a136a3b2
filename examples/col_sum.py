"""Column sums (a reduction over dim 0), FlagGems' non-inner style: each program owns BLOCK_N columns and
loops down the rows in BLOCK_M x BLOCK_N tiles, accumulating a 2-D float32 tile that is reduced over
axis 0 at the end. out[j] = sum_i x[i, j]; x's strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({"BLOCK_M": 16, "BLOCK_N": 16}, num_warps=4)], key=["M", "N"])
@triton.jit
def col_sum_kernel(X, Out, M, N, stride_xm, stride_xn, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_n = tl.program_id(0).to(tl.int64)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = cols < N
    acc = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32)
    for start_m in range(0, M, BLOCK_M):
        rows = start_m + tl.arange(0, BLOCK_M)
        mask = (rows[:, None] < M) & col_mask[None, :]
        x = tl.load(X + rows[:, None] * stride_xm + cols[None, :] * stride_xn, mask=mask, other=0.0)
        acc += x.to(tl.float32)
    out = tl.sum(acc, axis=0)
    tl.store(Out + cols, out.to(Out.dtype.element_ty), mask=col_mask)


def col_sum(x):
    assert x.ndim == 2
    M, N = x.shape
    out = torch.empty((N,), dtype=x.dtype, device=x.device)
    grid = lambda meta: (triton.cdiv(N, meta["BLOCK_N"]),)  # noqa: E731
    col_sum_kernel[grid](x, out, M, N, x.stride(0), x.stride(1))
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"col_sum": {"x": "f32[M, N] strided"}}


def reference_col_sum(x):
    return x.sum(dim=0)
