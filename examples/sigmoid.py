"""Sigmoid in FlagGems' style: @libentry() over @triton.autotune, an int64 program id, fp32 compute.

out = sigmoid(x), computed in float32 and stored in the output's dtype.
"""

import torch
import triton
import triton.language as tl


def libentry():
    """Stand-in for flag_gems.utils.libentry: a launch cache with no effect on what the kernel computes."""

    def decorator(fn):
        return fn

    return decorator


@libentry()
@triton.autotune(
    configs=[triton.Config({"BLOCK_SIZE": 1024}, num_warps=4)],
    key=["n_elements"],
)
@triton.jit
def sigmoid_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)  # FlagGems: tle.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    out = tl.sigmoid(x)
    tl.store(out_ptr + offsets, out.to(out_ptr.dtype.element_ty), mask=mask)


def sigmoid(A):
    A = A.contiguous()
    out = torch.empty_like(A)
    n_elements = A.numel()
    grid = lambda META: (triton.cdiv(n_elements, META["BLOCK_SIZE"]),)  # noqa: E731
    sigmoid_kernel[grid](A, out, n_elements)
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"sigmoid": {"A": "f32[*s] strided"}}


def reference_sigmoid(A):
    return torch.sigmoid(A)
