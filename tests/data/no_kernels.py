"""Host-side helpers only: no @triton.jit function, so nothing to lift."""

import torch


def scale_kernel(x, factor):
    # named like a kernel, but plain torch
    return x * factor


def add(x, y):
    out = torch.empty_like(x)
    torch.add(x, y, out=out)
    return out
