# mutant-of: examples/masked_fill.py
# target: masked_fill
# mutation: swapped where branches: where(mask, inp, value)
# witness: any
"""Masked fill with tl.where, FlagGems-style: out = where(mask, value, x)."""

import torch
import triton
import triton.language as tl


@triton.jit
def masked_fill_kernel(inp_ptr, mask_ptr, out_ptr, value, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    in_bounds = offsets < n_elements
    fill = tl.load(mask_ptr + offsets, mask=in_bounds, other=0).to(tl.int1)
    inp = tl.load(inp_ptr + offsets, mask=in_bounds, other=0.0)
    out = tl.where(fill, inp, value)
    tl.store(out_ptr + offsets, out, mask=in_bounds)


def masked_fill(inp, mask, value):
    assert inp.shape == mask.shape
    inp = inp.contiguous()
    mask = mask.contiguous()
    out = torch.empty_like(inp)
    n_elements = inp.numel()
    BLOCK_SIZE = 1024
    grid = (triton.cdiv(n_elements, BLOCK_SIZE),)
    masked_fill_kernel[grid](inp, mask, out, value, n_elements, BLOCK_SIZE=BLOCK_SIZE)
    return out
