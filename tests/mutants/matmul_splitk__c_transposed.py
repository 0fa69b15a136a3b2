# mutant-of: examples/matmul_splitk.py
# target: matmul_splitk
# mutation: wrong address: C's strides swapped (writes c[j, i] for square tiles)
# witness: M=20, N=20
"""Split-K matrix product with tl.atomic_add: a 3-D grid of (row tile, column tile, K chunk); each program
multiplies one 16x16 tile of A by one of B over its 16-wide chunk of K with tl.dot and adds the partial
product into a zero-initialised C (the K chunks of one tile add up in any order)."""

import torch
import triton
import triton.language as tl


@triton.jit
def matmul_splitk_kernel(
    a_ptr,
    b_ptr,
    c_ptr,
    M,
    N,
    K,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    stride_cm,
    stride_cn,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_k = tl.program_id(2)
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = pid_k * BLOCK_K + tl.arange(0, BLOCK_K)
    a = tl.load(
        a_ptr + rm[:, None] * stride_am + rk[None, :] * stride_ak,
        mask=(rm[:, None] < M) & (rk[None, :] < K),
        other=0.0,
    )
    b = tl.load(
        b_ptr + rk[:, None] * stride_bk + rn[None, :] * stride_bn,
        mask=(rk[:, None] < K) & (rn[None, :] < N),
        other=0.0,
    )
    partial = tl.dot(a, b, allow_tf32=False)
    c_ptrs = c_ptr + rm[:, None] * stride_cn + rn[None, :] * stride_cm
    tl.atomic_add(c_ptrs, partial, mask=(rm[:, None] < M) & (rn[None, :] < N))


def matmul_splitk(a, b):
    M, K = a.shape
    K2, N = b.shape
    assert K == K2, "matmul_splitk: inner dimensions differ"
    c = torch.zeros((M, N), dtype=torch.float32, device=a.device)
    grid = (triton.cdiv(M, 16), triton.cdiv(N, 16), triton.cdiv(K, 16))
    matmul_splitk_kernel[grid](
        a,
        b,
        c,
        M,
        N,
        K,
        a.stride(0),
        a.stride(1),
        b.stride(0),
        b.stride(1),
        c.stride(0),
        c.stride(1),
        BLOCK_M=16,
        BLOCK_N=16,
        BLOCK_K=16,
    )
    return c
