# mutant-of: examples/l2_normalize.py
# target: l2_normalize_kernel
# mutation: divides by the sum of squares instead of its square root
# witness: any
"""Row L2 normalization, like torch.nn.functional.normalize(x, p=2, dim=-1):
y[i, j] = x[i, j] / max(sqrt(sum_k x[i, k]^2), eps). One block per row; x's strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def l2_normalize_kernel(X, Y, N, stride_xm, stride_xn, stride_ym, eps, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    x = tl.load(X + pid * stride_xm + cols * stride_xn, mask=mask, other=0.0).to(tl.float32)
    norm = tl.sum(x * x, axis=0)
    y = x / tl.maximum(norm, eps)
    tl.store(Y + pid * stride_ym + cols, y.to(Y.dtype.element_ty), mask=mask)


def l2_normalize(x):
    eps = 1e-12
    assert x.ndim == 2
    M, N = x.shape
    y = torch.empty((M, N), dtype=x.dtype, device=x.device)
    BLOCK_N = triton.next_power_of_2(N)
    l2_normalize_kernel[(M,)](x, y, N, x.stride(0), x.stride(1), y.stride(0), eps, BLOCK_N=BLOCK_N)
    return y
