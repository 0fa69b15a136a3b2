"""A kernel file with a syntax error (a missing comma in the parameter list)."""

import triton
import triton.language as tl


@triton.jit
def fill_kernel(out_ptr n_elements, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    tl.store(out_ptr + offsets, 0.0, mask=offsets < n_elements)
