# mutant-of: examples/softmax_online.py
# target: softmax_online_kernel
# mutation: online softmax without the rescale: d = d + sum(exp(x - m_new)) (wrong once a later tile raises the max)
# witness: N=64
"""Online softmax (Liger-style row kernel): one loop keeps the running maximum m and the running
denominator d, rescaling d whenever m grows; a second loop writes exp(x - m) / d.

    m_new = max(m, max(x_tile));  d = d * exp(m - m_new) + sum(exp(x_tile - m_new));  m = m_new
"""

import torch
import triton
import triton.language as tl


@triton.jit
def softmax_online_kernel(X_ptr, X_stride, Y_ptr, Y_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    program_id = tl.program_id(0).to(tl.int64)
    X_ptr += program_id * X_stride
    Y_ptr += program_id * Y_stride
    m = float("-inf")
    d = 0.0
    for i in range(0, n_cols, BLOCK_SIZE):
        X_offsets = i + tl.arange(0, BLOCK_SIZE)
        X_block = tl.load(X_ptr + X_offsets, mask=X_offsets < n_cols, other=float("-inf"))
        block_max = tl.max(X_block)
        m_new = tl.maximum(m, block_max)
        d = d + tl.sum(tl.exp(X_block - m_new))
        m = m_new
    for i in range(0, n_cols, BLOCK_SIZE):
        X_offsets = i + tl.arange(0, BLOCK_SIZE)
        mask = X_offsets < n_cols
        X_block = tl.load(X_ptr + X_offsets, mask=mask, other=float("-inf"))
        tl.store(Y_ptr + X_offsets, tl.exp(X_block - m) / d, mask=mask)


def softmax_online(x):
    x = x.contiguous()
    n_rows, n_cols = x.shape
    y = torch.empty_like(x)
    BLOCK_SIZE = min(triton.next_power_of_2(n_cols), 32)
    softmax_online_kernel[(n_rows,)](x, x.stride(0), y, y.stride(0), n_cols, BLOCK_SIZE=BLOCK_SIZE)
    return y
