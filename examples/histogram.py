"""A histogram with tl.atomic_add: 16 bins of width 0.5 over [-4, 4). Each program bins a block of values
and adds 1.0 to each value's bin; values whose bin falls outside [0, 16) are masked off. The bin is the
value's offset truncated toward zero, as `.to(tl.int32)` does (so values just below -4 land in bin 0)."""

import torch
import triton
import triton.language as tl


@triton.jit
def histogram_kernel(x_ptr, hist_ptr, n_elements, NUM_BINS: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    bins = ((x + 4.0) * 2.0).to(tl.int32)
    in_range = mask & (bins >= 0) & (bins < NUM_BINS)
    tl.atomic_add(hist_ptr + bins, 1.0, mask=in_range)


def histogram(x):
    x = x.contiguous()
    n_elements = x.numel()
    hist = torch.zeros(16, dtype=torch.float32, device=x.device)
    grid = (triton.cdiv(n_elements, 256),)
    histogram_kernel[grid](x, hist, n_elements, NUM_BINS=16, BLOCK_SIZE=256)
    return hist


# ---- test contract (tests only; tritonlift ignores it)
INPUTS = {"histogram": {"x": "f32[*s] strided"}}


def reference_histogram(x):
    bins = ((x.float() + 4.0) * 2.0).to(torch.int32).flatten()
    bins = bins[(bins >= 0) & (bins < 16)]
    return torch.bincount(bins, minlength=16).to(torch.float32)
