"""SiLU (swish) written the long way: out = x / (1 + exp(-x))."""

import torch
import triton
import triton.language as tl


@triton.jit
def silu_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    out = x / (1 + tl.exp(-x))
    tl.store(out_ptr + offsets, out, mask=mask)


def silu(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    silu_kernel[grid](x, out, n_elements, BLOCK_SIZE=1024)
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"silu": {"x": "f32[*s] strided"}}


def reference_silu(x):
    return torch.nn.functional.silu(x)
