"""One supported kernel (double) and one unsupported kernel (accumulate_, which reads the tensor it updates with\ntl.atomic_add: the value read depends on the order of the updates) in one file."""

import torch
import triton
import triton.language as tl


@triton.jit
def double_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, 2.0 * x, mask=mask)


@triton.jit
def accumulate_kernel(acc_ptr, x_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    old = tl.atomic_add(acc_ptr + offsets, x, mask=mask)  # UNSUPPORTED
    tl.store(x_ptr + offsets, old, mask=mask)


def double(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = (triton.cdiv(n_elements, 1024),)
    double_kernel[grid](x, out, n_elements, BLOCK_SIZE=1024)
    return out


def accumulate_(acc, x):
    assert acc.shape == x.shape and acc.is_contiguous()
    x = x.contiguous()
    n_elements = x.numel()
    grid = (triton.cdiv(n_elements, 1024),)
    accumulate_kernel[grid](acc, x, n_elements, BLOCK_SIZE=1024)
    return acc
