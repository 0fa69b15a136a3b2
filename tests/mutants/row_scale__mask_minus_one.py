# mutant-of: examples/row_scale.py
# target: row_scale
# mutation: wrong mask `cols < n_cols - 1`: the last column is never written
# plain: refuted
# witness: any
"""Liger-style row kernel: one program per row, pointers advanced by the row stride.

out[i, j] = x[i, j] * scale[i]
"""

import torch
import triton
import triton.language as tl


@triton.jit
def row_scale_kernel(
    x_ptr, scale_ptr, out_ptr, x_row_stride, out_row_stride, n_cols, BLOCK_SIZE: tl.constexpr
):
    row = tl.program_id(0)
    x_ptr += row * x_row_stride
    out_ptr += row * out_row_stride
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols - 1
    s = tl.load(scale_ptr + row)
    x = tl.load(x_ptr + cols, mask=mask, other=0.0)
    tl.store(out_ptr + cols, x * s, mask=mask)


def row_scale(x, scale):
    x = x.contiguous()
    scale = scale.contiguous()
    n_rows, n_cols = x.shape
    assert scale.shape == (n_rows,)
    out = torch.empty_like(x)
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    row_scale_kernel[(n_rows,)](x, scale, out, x.stride(0), out.stride(0), n_cols, BLOCK_SIZE=BLOCK_SIZE)
    return out
