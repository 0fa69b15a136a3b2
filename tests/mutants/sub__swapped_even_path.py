# mutant-of: examples/sub.py
# target: sub
# mutation: swapped operands (y - x) in the EVEN_N (unmasked) path only
# witness: s=2048
"""Subtraction with block sizes chosen by @triton.heuristics, FlagGems-style: out = x - y.

EVEN_N selects an unmasked fast path when the block size divides the element count.
"""

import torch
import triton
import triton.language as tl


@triton.heuristics(
    {
        "BLOCK_SIZE": lambda args: min(triton.next_power_of_2(args["n_elements"]), 1024),
        "EVEN_N": lambda args: args["n_elements"] % args["BLOCK_SIZE"] == 0,
    }
)
@triton.jit
def sub_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr, EVEN_N: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    if EVEN_N:
        x = tl.load(x_ptr + offsets)
        y = tl.load(y_ptr + offsets)
        tl.store(out_ptr + offsets, y - x)
    else:
        mask = offsets < n_elements
        x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
        y = tl.load(y_ptr + offsets, mask=mask, other=0.0)
        tl.store(out_ptr + offsets, x - y, mask=mask)


def sub(x, y):
    assert x.shape == y.shape
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n_elements = out.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    sub_kernel[grid](x, y, out, n_elements)
    return out
