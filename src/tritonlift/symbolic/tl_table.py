"""Which `triton.language` names are modelled, which are deliberately not, and how names are resolved."""

from __future__ import annotations

from tritonlift.ir.expr import Op
from tritonlift.symbolic.atomics import ORDER_DEPENDENT

# modules whose functions are Triton language functions (after alias resolution)
TL_MODULES = (
    "triton.language.math",
    "triton.language.standard",
    "triton.language.extra.cuda.libdevice",
    "triton.language.extra.libdevice",
    "triton.language.extra.cuda",
    "triton.language",
)
# FlagGems-style shims: tl_extra_shim resolves to libdevice on NVIDIA; tle.program_id is int64 program_id
SHIM_SUFFIXES = ("tl_extra_shim", "triton_lang_extension", "tle", "ext", "libdevice")

# unary math: Triton name -> IR op (tl.*, tl.math.*, libdevice.* share one table)
UNARY_MATH: dict[str, Op] = {
    "exp": Op.EXP, "exp2": Op.EXP2, "log": Op.LOG, "log2": Op.LOG2, "sqrt": Op.SQRT, "sqrt_rn": Op.SQRT,
    "rsqrt": Op.RSQRT, "sigmoid": Op.SIGMOID, "abs": Op.ABS, "fabs": Op.ABS, "erf": Op.ERF,
    "tanh": Op.TANH, "sin": Op.SIN, "cos": Op.COS, "floor": Op.FLOOR, "ceil": Op.CEIL,
    "expf": Op.EXP, "logf": Op.LOG, "fast_expf": Op.EXP, "fast_logf": Op.LOG,
    "trunc": Op.TRUNC, "tan": Op.TAN, "asin": Op.ASIN, "acos": Op.ACOS, "atan": Op.ATAN,
}
BINARY_MATH: dict[str, Op] = {"pow": Op.POW, "powf": Op.POW, "atan2": Op.ATAN2, "fmod": Op.FMOD,
                              "copysign": Op.COPYSIGN}
# libdevice predicates that return a bool (they end in `.to(tl.int1)`); libdevice's `signbit` returns an
# int32 of unspecified nonzero value, so it is not among them
PREDICATES: dict[str, Op] = {"isnan": Op.ISNAN, "isinf": Op.ISINF, "finitef": Op.ISFINITE,
                             "isfinited": Op.ISFINITE}

# names handled by the evaluator itself (tile construction, memory, reductions, casts, hints)
SPECIAL = frozenset(
    {
        "program_id", "num_programs", "arange", "load", "store", "where", "zeros", "full", "zeros_like",
        "full_like", "maximum", "minimum", "fmax", "fmin", "cdiv", "sum", "max", "min", "reduce",
        "static_assert", "device_assert", "static_print", "device_print", "multiple_of",
        "max_contiguous", "max_constancy", "debug_barrier", "broadcast_to", "expand_dims", "cast",
        "fdiv", "div_rn", "div_rz", "clamp", "constexpr", "static_range", "range", "trans", "view",
        "reshape", "umulhi", "xor_sum", "dot", "argmax", "argmin", "cumsum", "cumprod", "permute",
        "make_block_ptr", "advance", "associative_scan", "atomic_add", "atomic_max", "atomic_min",
    }
)

# deliberately not modelled (STYLE.md habit 3): a kernel using one is reported `unsupported`
NOT_MODELLED: dict[str, str] = {
    **ORDER_DEPENDENT,  # tl.atomic_xchg, tl.atomic_cas, bitwise atomics (symbolic/atomics.py)
    **{
        n: "random numbers are out of scope"
        for n in ("rand", "randn", "randint", "randint4x", "rand4x", "philox", "philox_impl",
                  "pair_uniform_to_normal", "uint_to_uniform_float")
    },
    "make_tensor_descriptor": "tensor descriptors are not modelled",
    "sort": "sorting is out of scope",
    "histogram": "histograms are out of scope",
    "inline_asm_elementwise": "inline assembly is out of scope",
    "join": "tl.join is not modelled yet",
    "split": "tl.split is not modelled yet",
    "interleave": "tl.interleave is not modelled yet",
    "gather": "tl.gather is not modelled yet",
    "flip": "tl.flip is not modelled yet",
}
# modelled in the table but not in this milestone's evaluator
PLANNED = {"argmax": "tl.argmax", "argmin": "tl.argmin", "cumsum": "tl.cumsum",
           "cumprod": "tl.cumprod", "xor_sum": "tl.xor_sum", "umulhi": "tl.umulhi",
           "view": "tl.view", "reshape": "tl.reshape"}

DTYPES: dict[str, str] = {
    "float16": "fp16", "bfloat16": "bf16", "float32": "fp32", "float64": "fp64", "int1": "int1",
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64", "uint8": "uint8",
    "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "float8e4nv": "fp8e4nv",
    "float8e5": "fp8e5",
}


def tl_function(qual: str) -> str | None:
    """The Triton function name behind a qualified name, or None when it is not Triton's."""
    for mod in TL_MODULES:
        if qual.startswith(mod + ".") and "." not in qual[len(mod) + 1 :]:
            return qual[len(mod) + 1 :]
    head, _, fn = qual.rpartition(".")
    if head and head.rsplit(".", 1)[-1] in SHIM_SUFFIXES:
        return fn
    return None
