# mutant-of: examples/split_add.py
# target: split_add
# mutation: the second launch starts one block late (half + 1): block half is never written
# plain: refuted
# witness: s=1000
"""Elementwise addition split into two launches of one kernel: the first adds the blocks [0, half), the
second the blocks [half, total), passed as a block offset (as a host does to overlap two streams, or to
give a tail its own launch). Together they write every element of `out` once: out = x + y.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def add_blocks_kernel(x_ptr, y_ptr, out_ptr, n_elements, block_offset, BLOCK_SIZE: tl.constexpr):
    block = tl.program_id(axis=0) + block_offset
    offsets = block * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, x + y, mask=mask)


def split_add(x: torch.Tensor, y: torch.Tensor):
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n = out.numel()
    BLOCK = 256
    total = triton.cdiv(n, BLOCK)
    half = total // 2
    add_blocks_kernel[(half,)](x, y, out, n, 0, BLOCK_SIZE=BLOCK)
    add_blocks_kernel[(total - half,)](x, y, out, n, half + 1, BLOCK_SIZE=BLOCK)
    return out
