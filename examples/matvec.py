"""Matrix-vector product y = A @ x, FlagGems-style: each program owns BLOCK_M rows and loops over K in
tiles of BLOCK_K, accumulating row sums of a * x in float32. A's and x's strides are passed.
"""

import torch
import triton
import triton.language as tl


@triton.autotune(configs=[triton.Config({"BLOCK_M": 16, "BLOCK_K": 32}, num_warps=4)], key=["M", "K"])
@triton.jit
def matvec_kernel(
    A, X, Y, M, K, stride_am, stride_ak, stride_x, BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr
):
    pid = tl.program_id(0).to(tl.int64)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_mask = rows < M
    acc = tl.zeros([BLOCK_M], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        k_mask = ks < K
        a = tl.load(
            A + rows[:, None] * stride_am + ks[None, :] * stride_ak,
            mask=row_mask[:, None] & k_mask[None, :],
            other=0.0,
        ).to(tl.float32)
        x = tl.load(X + ks * stride_x, mask=k_mask, other=0.0).to(tl.float32)
        acc += tl.sum(a * x[None, :], axis=1)
    tl.store(Y + rows, acc.to(Y.dtype.element_ty), mask=row_mask)


def matvec(A, x):
    assert A.ndim == 2 and x.ndim == 1
    M, K = A.shape
    assert x.shape[0] == K
    y = torch.empty((M,), dtype=A.dtype, device=A.device)
    grid = lambda META: (triton.cdiv(M, META["BLOCK_M"]),)  # noqa: E731
    matvec_kernel[grid](A, x, y, M, K, A.stride(0), A.stride(1), x.stride(0))
    return y


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"matvec": {"A": "f32[M, K] strided", "x": "f32[K] strided"}}


def reference_matvec(A, x):
    return A @ x
