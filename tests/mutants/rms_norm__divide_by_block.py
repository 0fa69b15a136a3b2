# mutant-of: examples/rms_norm.py
# target: rms_norm_fwd_kernel
# mutation: the mean square divides by BLOCK_SIZE instead of n_cols
# witness: N=33
"""RMSNorm forward as a Liger-style row kernel: one block per row, int64 row ids, also writes rstd.

y[i, j] = x[i, j] * rstd_i * w[j], rstd_i = 1 / sqrt(sum_j x[i, j]^2 / n_cols + eps).
Rows are read through their stride; a view whose last dimension is not contiguous is copied first.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def rms_norm_fwd_kernel(
    Y_ptr,
    Y_row_stride,
    X_ptr,
    X_row_stride,
    W_ptr,
    RSTD_ptr,
    n_cols,
    eps,
    BLOCK_SIZE: tl.constexpr,
):
    row_idx = tl.program_id(0).to(tl.int64)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    X_row = tl.load(X_ptr + row_idx * X_row_stride + col_offsets, mask=mask, other=0)
    W_row = tl.load(W_ptr + col_offsets, mask=mask, other=0)
    mean_square = tl.sum(X_row * X_row, axis=0) / BLOCK_SIZE
    rstd = tl.rsqrt(mean_square + eps)
    tl.store(RSTD_ptr + row_idx, rstd)
    Y_row = X_row * rstd * W_row
    tl.store(Y_ptr + row_idx * Y_row_stride + col_offsets, Y_row, mask=mask)


def rms_norm(x, weight):
    eps = 1e-6
    if x.stride(-1) != 1:
        x = x.contiguous()
    weight = weight.contiguous()
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    y = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    rstd = torch.empty((n_rows,), dtype=torch.float32, device=x.device)
    rms_norm_fwd_kernel[(n_rows,)](
        y, y.stride(0), x, x.stride(0), weight, rstd, n_cols, eps, BLOCK_SIZE=BLOCK_SIZE
    )
    return y
