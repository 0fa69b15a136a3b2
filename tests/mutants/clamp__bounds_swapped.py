# mutant-of: examples/clamp.py
# target: clamp
# mutation: bounds swapped: minimum(maximum(x, hi), lo)
# witness: any
"""Clamp between two scalars: out = minimum(maximum(x, lo), hi)."""

import torch
import triton
import triton.language as tl


@triton.jit
def clamp_kernel(x_ptr, out_ptr, lo, hi, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    out = tl.minimum(tl.maximum(x, hi), lo)
    tl.store(out_ptr + offsets, out, mask=mask)


def clamp(x, min_value, max_value):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    clamp_kernel[grid](x, out, min_value, max_value, n_elements, BLOCK_SIZE=1024)
    return out
