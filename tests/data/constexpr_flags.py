import triton
import triton.language as tl


@triton.jit
def act_kernel(x_ptr, out_ptr, n, USE_EXP: tl.constexpr, BLOCK: tl.constexpr):
    """A caller-set flag selects the function: exp(x) or x * 2 (two functions, neither is a fault)."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    if USE_EXP:
        y = tl.exp(x)
    else:
        y = x * 2.0
    tl.store(out_ptr + offs, y, mask=m)


@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def even_kernel(x_ptr, out_ptr, n, EVEN: tl.constexpr, BLOCK: tl.constexpr):
    """A heuristic chooses the flag from the sizes: every choice must compute the same function, and the
    unmasked path here computes x + 1 where the masked one computes x * 2: a fault."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if EVEN:
        x = tl.load(x_ptr + offs)
        tl.store(out_ptr + offs, x + 1.0)
    else:
        m = offs < n
        x = tl.load(x_ptr + offs, mask=m)
        tl.store(out_ptr + offs, x * 2.0, mask=m)
