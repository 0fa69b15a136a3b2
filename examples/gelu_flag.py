"""GELU with the flavour chosen by a constexpr flag its callers set (FlagGems' `USE_TANH` style): one kernel,
two functions.

gelu_flag_kernel computes gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2))) when USE_TANH is false and
0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) when it is true, with tanh(z) = 2 * sigmoid(2z) - 1
(Triton's interpreter runs no libdevice math, so tanh is spelled out). The flag is set by each host, not by
heuristics: the kernel lifts to one formula per value of the flag.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def gelu_flag_kernel(x_ptr, out_ptr, n_elements, USE_TANH: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0).to(tl.float32)
    if USE_TANH:
        inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
        y = 0.5 * x * (1 + (2 * tl.sigmoid(2 * inner) - 1))
    else:
        y = 0.5 * x * (1 + tl.math.erf(x * 0.7071067811865476))
    tl.store(out_ptr + offsets, y, mask=mask)


def gelu_none(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    gelu_flag_kernel[grid](x, out, n_elements, USE_TANH=False, BLOCK_SIZE=1024)
    return out


def gelu_tanh(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    gelu_flag_kernel[grid](x, out, n_elements, USE_TANH=True, BLOCK_SIZE=1024)
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"gelu_none": {"x": "f32[*s] strided"}, "gelu_tanh": {"x": "f32[*s] strided"}}


def reference_gelu_none(x):
    return torch.nn.functional.gelu(x)


def reference_gelu_tanh(x):
    return torch.nn.functional.gelu(x, approximate="tanh")
