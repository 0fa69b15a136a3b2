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


@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def mixed_kernel(x_ptr, out_ptr, n, USE_EXP: tl.constexpr, EVEN: tl.constexpr, BLOCK: tl.constexpr):
    """A caller-set flag selects exp(x) or x * 2; under each, the heuristic EVEN must not change the function,
    but without USE_EXP its unmasked path computes x + 1: a fault on that path."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if EVEN:
        x = tl.load(x_ptr + offs)
        if USE_EXP:
            y = tl.exp(x)
        else:
            y = x + 1.0
        tl.store(out_ptr + offs, y)
    else:
        m = offs < n
        x = tl.load(x_ptr + offs, mask=m)
        if USE_EXP:
            y = tl.exp(x)
        else:
            y = x * 2.0
        tl.store(out_ptr + offs, y, mask=m)


@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def mixed_ok_kernel(x_ptr, out_ptr, n, USE_EXP: tl.constexpr, EVEN: tl.constexpr, BLOCK: tl.constexpr):
    """As mixed_kernel, without the fault: each value of USE_EXP one function on both EVEN paths."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if EVEN:
        x = tl.load(x_ptr + offs)
        if USE_EXP:
            y = tl.exp(x)
        else:
            y = x * 2.0
        tl.store(out_ptr + offs, y)
    else:
        m = offs < n
        x = tl.load(x_ptr + offs, mask=m)
        if USE_EXP:
            y = tl.exp(x)
        else:
            y = x * 2.0
        tl.store(out_ptr + offs, y, mask=m)


@triton.jit
def mode_kernel(x_ptr, out_ptr, n, MODE: tl.constexpr, BLOCK: tl.constexpr):
    """An integer flag with three modes, as FlagGems' `reduction`: x, x * 2 or x * x."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    if MODE == 0:
        y = x
    elif MODE == 1:
        y = x * 2.0
    else:
        y = x * x
    tl.store(out_ptr + offs, y, mask=m)


@triton.jit
def same_kernel(x_ptr, out_ptr, n, TWICE_AS_SUM: tl.constexpr, BLOCK: tl.constexpr):
    """A caller-set flag choosing between two spellings of one function: one formula, no cases."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    if TWICE_AS_SUM:
        y = x + x
    else:
        y = x * 2.0
    tl.store(out_ptr + offs, y, mask=m)
