# mutant-of: examples/row_prod.py
# target: row_prod_kernel
# mutation: masked lanes load 0.0 instead of 1.0, the identity of *
# witness: N=33
"""Row products, FlagGems' prod_dim style: each program owns BLOCK_M rows and walks the columns in
BLOCK_M x BLOCK_N tiles, multiplying them into a 2-D float32 accumulator that starts at 1 (masked lanes
load 1.0, the identity of *); the rows of the accumulator are combined at the end with `tl.reduce` and a
`@triton.jit` combine function. out[i] = prod_j x[i, j].
"""

import torch
import triton
import triton.language as tl


@triton.jit
def _mul_combine(a, b):
    return a * b


@triton.autotune(configs=[triton.Config({"BLOCK_M": 4, "BLOCK_N": 16}, num_warps=4)], key=["M", "N"])
@triton.jit
def row_prod_kernel(X, Out, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    acc = tl.full((BLOCK_M, BLOCK_N), value=1.0, dtype=tl.float32)
    for start_n in range(0, N, BLOCK_N):
        cols = start_n + tl.arange(0, BLOCK_N)
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        x = tl.load(X + rows[:, None] * N + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        acc *= x
    out = tl.reduce(acc, axis=1, combine_fn=_mul_combine)
    tl.store(Out + rows, out.to(Out.dtype.element_ty), mask=rows < M)


def row_prod(x):
    assert x.ndim == 2
    x = x.contiguous()
    M, N = x.shape
    out = torch.empty((M,), dtype=x.dtype, device=x.device)
    grid = lambda meta: (triton.cdiv(M, meta["BLOCK_M"]),)  # noqa: E731
    row_prod_kernel[grid](x, out, M, N)
    return out
