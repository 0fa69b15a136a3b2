# mutant-of: examples/row_sum.py
# target: row_sum
# mutation: wrong stride: columns read at unit stride (x_col_stride ignored); only non-contiguous views show it
# witness: any
"""Row sums with one block per row (Liger-style row kernel): out[i] = sum_j x[i, j].

BLOCK_SIZE = next_power_of_2(n_cols) covers the whole row; the masked tail loads 0, which adds nothing.
x may be any strided 2-D view: both strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def row_sum_kernel(x_ptr, out_ptr, x_row_stride, x_col_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    x_ptr += row * x_row_stride
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    x = tl.load(x_ptr + cols, mask=mask, other=0.0)
    total = tl.sum(x, axis=0)
    tl.store(out_ptr + row, total)


def row_sum(x):
    assert x.ndim == 2
    n_rows, n_cols = x.shape
    out = torch.empty((n_rows,), dtype=x.dtype, device=x.device)
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    row_sum_kernel[(n_rows,)](x, out, x.stride(0), x.stride(1), n_cols, BLOCK_SIZE=BLOCK_SIZE)
    return out
