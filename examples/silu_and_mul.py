"""Fused SiLU-and-multiply (the gated MLP activation of vLLM / FlagGems): out = silu(x) * y."""

import torch
import triton
import triton.language as tl


@triton.jit
def silu_and_mul_kernel(x_ptr, y_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    y = tl.load(y_ptr + offsets, mask=mask, other=0.0)
    silu_x = x / (1.0 + tl.exp(-x))
    out = silu_x * y
    tl.store(out_ptr + offsets, out, mask=mask)


def silu_and_mul(x, y):
    assert x.shape == y.shape
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n_elements = out.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    silu_and_mul_kernel[grid](x, y, out, n_elements, BLOCK_SIZE=512)
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"silu_and_mul": {"x": "f32[*s] strided", "y": "f32[*s] strided"}}


def reference_silu_and_mul(x, y):
    return torch.nn.functional.silu(x) * y
