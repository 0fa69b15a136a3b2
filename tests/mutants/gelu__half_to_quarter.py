# mutant-of: examples/gelu.py
# target: gelu
# mutation: wrong constant in the helper: 0.5 -> 0.25
# witness: any
"""GELU through @triton.jit helpers: exact (erf) and tanh-approximated.

gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)));
gelu_tanh(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), with tanh(z) = 2 * sigmoid(2z) - 1
(Triton's interpreter runs no libdevice math, so tanh is spelled out).
"""

import torch
import triton
import triton.language as tl


@triton.jit
def _gelu_erf(x):
    return 0.25 * x * (1 + tl.math.erf(x * 0.7071067811865476))


@triton.jit
def _tanh(x):
    return 2 * tl.sigmoid(2 * x) - 1


@triton.jit
def _gelu_tanh(x):
    inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + _tanh(inner))


@triton.jit
def gelu_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    tl.store(out_ptr + offsets, _gelu_erf(x), mask=mask)


@triton.jit
def gelu_tanh_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    tl.store(out_ptr + offsets, _gelu_tanh(x), mask=mask)


def gelu(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    gelu_kernel[grid](x, out, n_elements, BLOCK_SIZE=1024)
    return out


def gelu_tanh(x):
    x = x.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    gelu_tanh_kernel[grid](x, out, n_elements, BLOCK_SIZE=1024)
    return out
