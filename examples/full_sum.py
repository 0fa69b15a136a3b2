"""Sum of all elements with two kernels, as FlagGems' sum does: the first writes one partial sum per
block of block_size = next_power_of_2(ceil(sqrt(n))) elements into a float32 scratch buffer `mid`, the
second sums the mid_size partials in one block. The result is a 0-d tensor.
"""

import math

import torch
import triton
import triton.language as tl


@triton.jit
def sum_kernel_1(inp, mid, M, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    offset = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offset < M
    inp_val = tl.load(inp + offset, mask=mask, other=0.0).to(tl.float32)
    sum_val = tl.sum(inp_val)
    tl.store(mid + pid, sum_val)


@triton.jit
def sum_kernel_2(mid, out, mid_size, BLOCK_MID: tl.constexpr):
    offset = tl.arange(0, BLOCK_MID)
    mask = offset < mid_size
    mid_val = tl.load(mid + offset, mask=mask, other=0.0)
    sum_val = tl.sum(mid_val)
    tl.store(out, sum_val.to(out.dtype.element_ty))


def full_sum(inp):
    inp = inp.contiguous()
    M = inp.numel()
    block_size = triton.next_power_of_2(math.ceil(math.sqrt(M)))
    mid_size = triton.cdiv(M, block_size)
    block_mid = triton.next_power_of_2(mid_size)
    mid = torch.empty((mid_size,), dtype=torch.float32, device=inp.device)
    out = torch.empty([], dtype=inp.dtype, device=inp.device)
    sum_kernel_1[(mid_size, 1, 1)](inp, mid, M, block_size)
    sum_kernel_2[(1, 1, 1)](mid, out, mid_size, block_mid)
    return out


# ---- test contract (read by tests/, see examples/README.md) ----
INPUTS = {"full_sum": {"inp": "f32[*s] strided"}}
# Up to 4096 terms summed in another order than torch's: the float32 error bound is ~1e-3 absolute (300
# random draws stayed under 0.4 of the default 1e-5 tolerance, so this only guards the tail).
TOLERANCE = {"rtol": 1e-5, "atol": 1e-4}


def reference_full_sum(inp):
    return inp.sum()
