# mutant-of: examples/add_alpha.py
# target: add_alpha
# mutation: off-by-one offsets (+ 1): element 0 is never written
# plain: refuted
# witness: any
"""Addition with a scalar multiplier, as torch.add(x, y, alpha=alpha): out = x + alpha * y."""

import torch
import triton
import triton.language as tl


@triton.jit
def add_alpha_kernel(x_ptr, y_ptr, out_ptr, alpha, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE) + 1
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    y = tl.load(y_ptr + offsets, mask=mask, other=0.0)
    out = x + alpha * y
    tl.store(out_ptr + offsets, out, mask=mask)


def add_alpha(x, y, alpha=1.0):
    assert x.shape == y.shape, "add_alpha: shapes must match"
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    BLOCK_SIZE = 1024
    grid = (triton.cdiv(n_elements, BLOCK_SIZE),)
    add_alpha_kernel[grid](x, y, out, alpha, n_elements, BLOCK_SIZE=BLOCK_SIZE)
    return out
