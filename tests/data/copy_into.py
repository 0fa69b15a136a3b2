import torch
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=m), mask=m)


def copy_into(x, out):
    n = x.numel()
    copy_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
    return out


def copy_new(x):
    out = torch.empty((x.numel() + 1,), device=x.device, dtype=x.dtype)
    n = x.numel()
    copy_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
    return out
