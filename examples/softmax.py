"""Row softmax with one block per row, as in Triton's fused-softmax tutorial (02-fused-softmax.py).

y[i, j] = exp(x[i, j] - m_i) / sum_k exp(x[i, k] - m_i), m_i = max_k x[i, k]. The masked tail loads -inf,
so it adds exp(-inf) = 0 to the denominator. Rows are read through their stride; a view whose last
dimension is not contiguous is copied first.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(
    output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr
):
    row_idx = tl.program_id(0)
    row_start_ptr = input_ptr + row_idx * input_row_stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    input_ptrs = row_start_ptr + col_offsets
    mask = col_offsets < n_cols
    row = tl.load(input_ptrs, mask=mask, other=-float("inf"))
    row_minus_max = row - tl.max(row, axis=0)
    numerator = tl.exp(row_minus_max)
    denominator = tl.sum(numerator, axis=0)
    softmax_output = numerator / denominator
    output_row_start_ptr = output_ptr + row_idx * output_row_stride
    tl.store(output_row_start_ptr + col_offsets, softmax_output, mask=mask)


def softmax(x):
    if x.stride(-1) != 1:
        x = x.contiguous()
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    y = torch.empty_like(x)
    softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE=BLOCK_SIZE)
    return y


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"softmax": {"x": "f32[M, N] strided"}}


def reference_softmax(x):
    return torch.softmax(x, dim=1)
