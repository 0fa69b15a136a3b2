"""Stream compaction with tl.atomic_add's return value (a slot counter): unsupported, the old value depends on
the order of the concurrent updates."""

import torch
import triton
import triton.language as tl


@triton.jit
def compact_kernel(x_ptr, out_ptr, count_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    slot = tl.atomic_add(count_ptr, 1)  # UNSUPPORTED
    tl.store(out_ptr + slot * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE), x, mask=mask)


def compact(x):
    out = torch.empty_like(x)
    count = torch.zeros(1, dtype=torch.int32, device=x.device)
    n_elements = x.numel()
    grid = (triton.cdiv(n_elements, 1024),)
    compact_kernel[grid](x, out, count, n_elements, BLOCK_SIZE=1024)
    return out
