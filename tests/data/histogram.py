"""Histogram with tl.atomic_add: an unsupported construct."""

import torch
import triton
import triton.language as tl


@triton.jit
def histogram_kernel(x_ptr, hist_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    bins = tl.load(x_ptr + offsets, mask=mask, other=0)
    tl.atomic_add(hist_ptr + bins, 1, mask=mask)  # UNSUPPORTED


def histogram(x, num_bins):
    hist = torch.zeros(num_bins, dtype=torch.int32, device=x.device)
    n_elements = x.numel()
    grid = (triton.cdiv(n_elements, 1024),)
    histogram_kernel[grid](x, hist, n_elements, BLOCK_SIZE=1024)
    return hist
