"""Stream-K matmul written for the tests (FlagGems' first-wave kernels, ops/mm_streamk.py, in miniature): G
programs split the flat (tile, k-step) iteration space, and the pieces of a tile are combined through memory
under spin locks. `streamk_mm` uses the atomic fix-up ("store, then add under a lock"), `streamk_mm_gather`
the scratch-slot fix-up (the tile's first piece gathers the others). Both cover every tile, so the operator
is `a @ b`. The Triton interpreter runs programs one after another, so these kernels can hang there: they are
lifted, not run, in the tests."""

import torch
import triton
import triton.language as tl


@triton.jit
def streamk_kernel(
    A,
    B,
    C,
    M,
    N,
    K,
    locks,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    stride_cm,
    stride_cn,
    iters_per_pid,
    iters_remaining,
    iters_per_tile,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid = tl.program_id(0)
    start_iter = pid * iters_per_pid + tl.minimum(pid, iters_remaining)
    last_iter = (pid + 1) * iters_per_pid + tl.minimum(pid + 1, iters_remaining)
    grid_n = tl.cdiv(N, BLOCK_N)
    while start_iter < last_iter:
        iter_offset_in_tile = start_iter % iters_per_tile
        end_iter = tl.minimum(start_iter + (iters_per_tile - iter_offset_in_tile), last_iter)
        tile_id = start_iter // iters_per_tile
        pid_m = tile_id // grid_n
        pid_n = tile_id % grid_n
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        A_base = (
            A + rm[:, None] * stride_am + rk[None, :] * stride_ak + BLOCK_K * stride_ak * iter_offset_in_tile
        )
        B_base = (
            B + rk[:, None] * stride_bk + rn[None, :] * stride_bn + BLOCK_K * stride_bk * iter_offset_in_tile
        )
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for current_iter in range(start_iter, end_iter):
            k_offset = (current_iter % iters_per_tile) * BLOCK_K
            k_mask = (k_offset + rk) < K
            a = tl.load(A_base, mask=(rm[:, None] < M) & k_mask[None, :], other=0.0)
            b = tl.load(B_base, mask=k_mask[:, None] & (rn[None, :] < N), other=0.0)
            acc += tl.dot(a, b)
            A_base += BLOCK_K * stride_ak
            B_base += BLOCK_K * stride_bk
        C_ptr = C + rm[:, None] * stride_cm + rn[None, :] * stride_cn
        mask = (rm < M)[:, None] & (rn < N)[None, :]
        if end_iter % iters_per_tile == 0:
            tl.store(C_ptr, acc, mask=mask)
            if iter_offset_in_tile != 0:
                tl.atomic_xchg(locks + tile_id, 1)
        else:
            while tl.atomic_cas(locks + tile_id, 1, 1) != 1:
                pass
            tl.atomic_add(C_ptr, acc, mask=mask)
        start_iter = end_iter


@triton.jit
def streamk_gather_kernel(
    A,
    B,
    C,
    P,
    M,
    N,
    K,
    locks,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    stride_cm,
    stride_cn,
    iters_per_pid,
    iters_remaining,
    iters_per_tile,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid = tl.program_id(0)
    start_iter = pid * iters_per_pid + tl.minimum(pid, iters_remaining)
    last_iter = (pid + 1) * iters_per_pid + tl.minimum(pid + 1, iters_remaining)
    grid_n = tl.cdiv(N, BLOCK_N)
    while start_iter < last_iter:
        iter_offset_in_tile = start_iter % iters_per_tile
        end_iter = tl.minimum(start_iter + (iters_per_tile - iter_offset_in_tile), last_iter)
        tile_id = start_iter // iters_per_tile
        pid_m = tile_id // grid_n
        pid_n = tile_id % grid_n
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        A_base = (
            A + rm[:, None] * stride_am + rk[None, :] * stride_ak + BLOCK_K * stride_ak * iter_offset_in_tile
        )
        B_base = (
            B + rk[:, None] * stride_bk + rn[None, :] * stride_bn + BLOCK_K * stride_bk * iter_offset_in_tile
        )
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for current_iter in range(start_iter, end_iter):
            k_offset = (current_iter % iters_per_tile) * BLOCK_K
            k_mask = (k_offset + rk) < K
            a = tl.load(A_base, mask=(rm[:, None] < M) & k_mask[None, :], other=0.0)
            b = tl.load(B_base, mask=k_mask[:, None] & (rn[None, :] < N), other=0.0)
            acc += tl.dot(a, b)
            A_base += BLOCK_K * stride_ak
            B_base += BLOCK_K * stride_bk
        rm1 = tl.arange(0, BLOCK_M)
        rn1 = tl.arange(0, BLOCK_N)
        if start_iter % iters_per_tile != 0:
            P_ptr = P + pid * BLOCK_M * BLOCK_N + (rm1[:, None] * BLOCK_N + rn1[None, :])
            tl.store(P_ptr, acc)
            tl.atomic_xchg(locks + pid, 1)
        else:
            next_pid = pid + 1
            stop_loading_iter = start_iter + iters_per_tile
            end = end_iter
            while end < stop_loading_iter:
                while tl.atomic_cas(locks + next_pid, 1, 1) != 1:
                    pass
                P_ptr = P + next_pid * BLOCK_M * BLOCK_N + (rm1[:, None] * BLOCK_N + rn1[None, :])
                acc += tl.load(P_ptr)
                end += iters_per_pid + (next_pid < iters_remaining)
                next_pid += 1
            C_ = C + (rm[:, None] * stride_cm + rn[None, :] * stride_cn)
            mask = (rm < M)[:, None] & (rn < N)[None, :]
            tl.store(C_, acc, mask=mask)
        start_iter = end_iter


def streamk_mm(a, b, programs=4):
    M, K = a.shape
    _, N = b.shape
    c = torch.empty((M, N), device=a.device, dtype=a.dtype)
    BLOCK_M, BLOCK_N, BLOCK_K = 16, 16, 16
    tiles = triton.cdiv(M, BLOCK_M) * triton.cdiv(N, BLOCK_N)
    iters_per_tile = triton.cdiv(K, BLOCK_K)
    total_iters = tiles * iters_per_tile
    locks = torch.zeros((tiles,), device=a.device, dtype=torch.int32)
    streamk_kernel[(programs,)](
        a,
        b,
        c,
        M,
        N,
        K,
        locks,
        a.stride(0),
        a.stride(1),
        b.stride(0),
        b.stride(1),
        c.stride(0),
        c.stride(1),
        total_iters // programs,
        total_iters % programs,
        iters_per_tile,
        BLOCK_M=BLOCK_M,
        BLOCK_N=BLOCK_N,
        BLOCK_K=BLOCK_K,
    )
    return c


def streamk_mm_gather(a, b, programs=4):
    M, K = a.shape
    _, N = b.shape
    c = torch.empty((M, N), device=a.device, dtype=a.dtype)
    BLOCK_M, BLOCK_N, BLOCK_K = 16, 16, 16
    tiles = triton.cdiv(M, BLOCK_M) * triton.cdiv(N, BLOCK_N)
    iters_per_tile = triton.cdiv(K, BLOCK_K)
    total_iters = tiles * iters_per_tile
    locks = torch.zeros((programs,), device=a.device, dtype=torch.int32)
    P = torch.empty((programs, BLOCK_M, BLOCK_N), device=a.device, dtype=torch.float32)
    streamk_gather_kernel[(programs,)](
        a,
        b,
        c,
        P,
        M,
        N,
        K,
        locks,
        a.stride(0),
        a.stride(1),
        b.stride(0),
        b.stride(1),
        c.stride(0),
        c.stride(1),
        total_iters // programs,
        total_iters % programs,
        iters_per_tile,
        BLOCK_M=BLOCK_M,
        BLOCK_N=BLOCK_N,
        BLOCK_K=BLOCK_K,
    )
    return c
