# rewrite-of: examples/bmm.py
# target: bmm_kernel
# rewrite: acc += tl.dot(a, b) instead of passing acc to tl.dot
"""Batched matrix multiplication out[b] = a[b] @ b[b] with a batched (3-D) tl.dot: each program computes a
BLOCK_B x BLOCK_M x BLOCK_N block of outputs, several batches at once, from [BLOCK_B, BLOCK_M, BLOCK_K] and
[BLOCK_B, BLOCK_K, BLOCK_N] tiles, over a loop on K whose last tile is masked (other=0). A 3-D grid: tiles
of rows, tiles of columns, groups of batches. Every stride is passed, so any strided 3-D views work.
"""

import torch
import triton
import triton.language as tl


@triton.autotune(
    configs=[triton.Config({"BLOCK_B": 4, "BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 16}, num_warps=4)],
    key=["B", "M", "N", "K"],
)
@triton.jit
def bmm_kernel(
    a_ptr,
    b_ptr,
    out_ptr,
    B,
    M,
    N,
    K,
    stride_ab,
    stride_am,
    stride_ak,
    stride_bb,
    stride_bk,
    stride_bn,
    stride_ob,
    stride_om,
    stride_on,
    BLOCK_B: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_b = tl.program_id(2)
    offs_b = pid_b * BLOCK_B + tl.arange(0, BLOCK_B)
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    mask_b = offs_b < B
    acc = tl.zeros((BLOCK_B, BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        kk = k * BLOCK_K + offs_k
        a_ptrs = (
            a_ptr
            + offs_b[:, None, None] * stride_ab
            + offs_m[None, :, None] * stride_am
            + kk[None, None, :] * stride_ak
        )
        b_ptrs = (
            b_ptr
            + offs_b[:, None, None] * stride_bb
            + kk[None, :, None] * stride_bk
            + offs_n[None, None, :] * stride_bn
        )
        a_mask = mask_b[:, None, None] & (offs_m[None, :, None] < M) & (kk[None, None, :] < K)
        b_mask = mask_b[:, None, None] & (kk[None, :, None] < K) & (offs_n[None, None, :] < N)
        a = tl.load(a_ptrs, mask=a_mask, other=0.0)
        b = tl.load(b_ptrs, mask=b_mask, other=0.0)
        acc += tl.dot(a, b, allow_tf32=False)
    out_ptrs = (
        out_ptr
        + offs_b[:, None, None] * stride_ob
        + offs_m[None, :, None] * stride_om
        + offs_n[None, None, :] * stride_on
    )
    out_mask = mask_b[:, None, None] & (offs_m[None, :, None] < M) & (offs_n[None, None, :] < N)
    tl.store(out_ptrs, acc.to(out_ptr.dtype.element_ty), mask=out_mask)


def bmm(a, b):
    assert a.shape[0] == b.shape[0], "batch sizes differ"
    assert a.shape[2] == b.shape[1], "inner sizes differ"
    B, M, K = a.shape
    N = b.shape[2]
    out = torch.empty((B, M, N), device=a.device, dtype=a.dtype)
    grid = lambda META: (  # noqa: E731
        triton.cdiv(M, META["BLOCK_M"]),
        triton.cdiv(N, META["BLOCK_N"]),
        triton.cdiv(B, META["BLOCK_B"]),
    )
    bmm_kernel[grid](
        a,
        b,
        out,
        B,
        M,
        N,
        K,
        a.stride(0),
        a.stride(1),
        a.stride(2),
        b.stride(0),
        b.stride(1),
        b.stride(2),
        out.stride(0),
        out.stride(1),
        out.stride(2),
    )
    return out
