# mutant-of: examples/layer_norm.py
# target: layer_norm
# mutation: the mean divides by the block size BLOCK_SIZE instead of N
# witness: N=33
"""LayerNorm forward in the style of Triton's layer-norm tutorial (05-layer-norm.py): one program per row,
three loops over column tiles (mean, variance, normalize and write). Also writes each row's mean and
1 / sqrt(var + eps) to Mean and Rstd (kept for the backward pass).

y[i, j] = (x[i, j] - mean_i) * rstd_i * w[j] + b[j], var_i = sum_j (x[i, j] - mean_i)^2 / N (biased).
"""

import torch
import triton
import triton.language as tl


@triton.jit
def layer_norm_fwd_kernel(X, Y, W, B, Mean, Rstd, stride, N, eps, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    X += row * stride
    Y += row * stride
    # mean: accumulate tile by tile in a vector, reduce once
    acc = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.0).to(tl.float32)
        acc += a
    mean = tl.sum(acc, axis=0) / BLOCK_SIZE
    # variance: the centred tail is masked back to 0 (x - mean would be -mean there)
    acc_var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.0).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.0)
        acc_var += x * x
    var = tl.sum(acc_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.0).to(tl.float32)
        y = (x - mean) * rstd * w + b
        tl.store(Y + cols, y, mask=mask)


def layer_norm(x, weight, bias):
    eps = 1e-5
    x = x.contiguous()
    weight = weight.contiguous()
    bias = bias.contiguous()
    M, N = x.shape
    y = torch.empty_like(x)
    mean = torch.empty((M,), dtype=torch.float32, device=x.device)
    rstd = torch.empty((M,), dtype=torch.float32, device=x.device)
    # The tutorial caps a tile at 64 KB; a 16-column cap keeps several loop trips at the suite's sizes.
    MAX_FUSED_SIZE = 64 // x.element_size()
    BLOCK_SIZE = min(MAX_FUSED_SIZE, triton.next_power_of_2(N))
    layer_norm_fwd_kernel[(M,)](x, y, weight, bias, mean, rstd, x.stride(0), N, eps, BLOCK_SIZE=BLOCK_SIZE)
    return y, mean, rstd
