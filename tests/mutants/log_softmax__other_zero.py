# mutant-of: examples/log_softmax.py
# target: log_softmax_kernel
# mutation: wrong other=: the masked tail loads 0.0 instead of -inf, inflating the log-sum-exp
# witness: N=33
"""Row log-softmax with one block per row: y[i, j] = x[i, j] - m_i - log(sum_k exp(x[i, k] - m_i)),
m_i = max_k x[i, k] (the log-sum-exp computed stably). The masked tail loads -inf.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def log_softmax_kernel(
    output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, BLOCK_SIZE: tl.constexpr
):
    row_idx = tl.program_id(0)
    col_offsets = tl.arange(0, BLOCK_SIZE)
    mask = col_offsets < n_cols
    row = tl.load(input_ptr + row_idx * input_row_stride + col_offsets, mask=mask, other=0.0)
    row_max = tl.max(row, axis=0)
    shifted = row - row_max
    log_denominator = tl.log(tl.sum(tl.exp(shifted), axis=0))
    output = shifted - log_denominator
    tl.store(output_ptr + row_idx * output_row_stride + col_offsets, output, mask=mask)


def log_softmax(x):
    x = x.contiguous()
    n_rows, n_cols = x.shape
    BLOCK_SIZE = triton.next_power_of_2(n_cols)
    y = torch.empty_like(x)
    log_softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=BLOCK_SIZE)
    return y
