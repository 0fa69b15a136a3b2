# mutant-of: examples/variance.py
# target: variance_kernel
# mutation: the variance divides by the block size BLOCK_N instead of N
# witness: N=33
"""Population variance of each row, two passes over one block in registers:
mean_i = sum_j x[i, j] / N, var_i = sum_j (x[i, j] - mean_i)^2 / N. The centred tail is masked back to 0.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def variance_kernel(x_ptr, out_ptr, x_row_stride, N, BLOCK_N: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=0) / N
    diff = tl.where(mask, x - mean, 0.0)
    var = tl.sum(diff * diff, axis=0) / BLOCK_N
    tl.store(out_ptr + row, var)


def variance(x):
    x = x.contiguous()
    M, N = x.shape
    out = torch.empty((M,), dtype=torch.float32, device=x.device)
    BLOCK_N = triton.next_power_of_2(N)
    variance_kernel[(M,)](x, out, x.stride(0), N, BLOCK_N=BLOCK_N)
    return out
