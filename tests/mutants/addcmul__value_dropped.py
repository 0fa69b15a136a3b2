# mutant-of: examples/addcmul.py
# target: addcmul
# mutation: scalar dropped: x + t1 * t2
# witness: any
"""addcmul with a scalar, as torch.addcmul: out = x + value * t1 * t2."""

import torch
import triton
import triton.language as tl


@triton.jit
def addcmul_kernel(x_ptr, t1_ptr, t2_ptr, out_ptr, value, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
    t1 = tl.load(t1_ptr + offsets, mask=mask, other=0.0)
    t2 = tl.load(t2_ptr + offsets, mask=mask, other=0.0)
    out = x + t1 * t2
    tl.store(out_ptr + offsets, out, mask=mask)


def addcmul(x, t1, t2, value=1.0):
    assert x.shape == t1.shape == t2.shape
    x, t1, t2 = x.contiguous(), t1.contiguous(), t2.contiguous()
    out = torch.empty_like(x)
    n_elements = x.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    addcmul_kernel[grid](x, t1, t2, out, value, n_elements, BLOCK_SIZE=1024)
    return out
