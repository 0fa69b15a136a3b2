# mutant-of: examples/relu.py
# target: relu
# mutation: flipped comparison: where(x < 0, x, 0)
# witness: any
"""ReLU and leaky ReLU with tl.where: relu(x) = where(x > 0, x, 0), leaky = where(x > 0, x, slope * x)."""

import torch
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    out = tl.where(x < 0, x, 0)
    tl.store(out_ptr + offsets, out, mask=mask)


@triton.jit
def leaky_relu_kernel(x_ptr, out_ptr, negative_slope, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    out = tl.where(x > 0, x, x * negative_slope)
    tl.store(out_ptr + offsets, out, mask=mask)


def relu(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    relu_kernel[grid](x, out, n_elements, BLOCK_SIZE=1024)
    return out


def leaky_relu(x, negative_slope=0.01):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    leaky_relu_kernel[grid](x, out, negative_slope, n_elements, BLOCK_SIZE=1024)
    return out
