"""Elementwise constructs (tests/data/elementwise/kernels.py): libdevice math (tan, asin, acos, atan, atan2, trunc,
div_rz, fmod, copysign, isnan, isinf, finitef), float `%`, integer bit operations and shifts, element-type
dispatch (`.is_bf16()`, `element_ty == tl.float16`, `.primitive_bitwidth`) and casts to a dtype parameter.

Each kernel is lifted, then its lifted `torch` code is run beside the kernel itself in Triton's CPU interpreter
(libdevice through the numpy stand-in tests/data/elementwise/libdevice.py) on the same inputs."""

from __future__ import annotations

import importlib
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Kind, Op
from tritonlift.options import Options
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

DATA = Path(__file__).parent / "data" / "elementwise"
KERNELS = DATA / "kernels.py"
N = 37
BLOCK = 16
VIEWS = "out = as_strided(out_ptr, (n,), (1,)); x = as_strided(x_ptr, (n,), (1,)); "
VIEWS2 = VIEWS + "y = as_strided(y_ptr, (n,), (1,)); "


@pytest.fixture(scope="module")
def results() -> dict:
    return {r.name: r for r in lift_file(KERNELS)}


@pytest.fixture(scope="module")
def module() -> Any:
    sys.path.insert(0, str(DATA.parent))
    try:
        return importlib.import_module("elementwise.kernels")
    finally:
        sys.path.remove(str(DATA.parent))


def lifted_fn(result: Any) -> Callable[..., Any]:
    assert result.status == "verified", (result.name, result.message)
    assert result.torch, result.message
    ns: dict[str, Any] = {}
    exec(compile(result.torch, f"<lifted {result.name}>", "exec"), ns)
    return ns[result.name]


def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    params = inspect.signature(fn).parameters
    return fn(**{p: kwargs[p] for p in params})


def run_both(results: dict, module: Any, name: str, outputs: list[str], **args: Any) -> None:
    """The kernel in the interpreter and its lifted torch code, each on its own copy of the outputs."""
    theirs = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in args.items()}
    ours = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in args.items()}
    grid = (math.ceil(args["n"] / args.get("BLOCK", BLOCK)),)
    getattr(module, name)[grid](**{"BLOCK": BLOCK, **theirs})
    call(lifted_fn(results[name]), **{"BLOCK": BLOCK, **ours})
    for o in outputs:
        torch.testing.assert_close(ours[o], theirs[o], rtol=1e-5, atol=1e-5, equal_nan=True)


def uniform(lo: float, hi: float, g: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return (torch.rand(N, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def away_from_zero(g: torch.Generator) -> torch.Tensor:
    x = uniform(0.5, 4.0, g)
    return torch.where(torch.rand(N, generator=g) < 0.5, -x, x)


@pytest.fixture
def g() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


# -- what each kernel lifts to ------------------------------------------------------------------------------


def test_math_functions_lift_to_their_names(results):
    want = {
        "tan_kernel": "out[i] = tan(x[i])",
        "inverse_trig_kernel": "out[i] = asin(x[i]) * acos(x[i]) + atan(x[i])",
        "atan2_kernel": "out[i] = atan2(y[i], x[i])",
        "trunc_div_kernel": "out[i] = trunc(x[i] / y[i]) + fmod(x[i], y[i])",
        "copysign_kernel": "out[i] = copysign(x[i], y[i])",
        "nan_to_zero_kernel": "out[i] = where(isnan(x[i]) | isinf(x[i]), 0.0, x[i])",
        "finite_kernel": "out[i] = float(isfinite(x[i]))",
    }
    for name, formula in want.items():
        r = results[name]
        assert r.status == "verified" and r.formula_raw.endswith(formula), (name, r.formula_raw, r.message)


def test_float_remainder_is_c_fmod(results):
    r = results["remainder_kernel"]
    assert r.status == "verified"
    assert r.formula_raw.endswith(
        "out[i] = where((fmod(x[i], y[i]) != 0.0) & ((x[i] < 0.0) != (y[i] < 0.0)), fmod(x[i], y[i]) + y[i], "
        "fmod(x[i], y[i]))"
    )
    assert "torch.fmod(" in r.torch


def test_bit_operations_on_loaded_integers(results):
    r = results["bits_kernel"]
    assert r.formula_raw.endswith(
        "out[i] = bitwise_or(bitwise_and(a[i], b[i]), bitwise_xor(a[i], bitwise_not(b[i])))"
    )
    r = results["shift_kernel"]
    assert r.formula_raw.endswith("out[i] = bitwise_left_shift(a[i], s[i]) + bitwise_right_shift(a[i], 1)")
    # bool tensors under `|`, and a comparison under `&`: bit operations on 0/1, tested != 0 by tl.where
    r = results["mask_flags_kernel"]
    assert r.status == "verified"
    assert "where(bitwise_and(bitwise_or(keep[i], drop[i]), int32(x[i] > 0.0)) != 0.0" in r.formula_raw


def test_shifts_and_low_bit_masks_in_index_arithmetic_are_exact():
    # proved against the plain integer formula: `i >> 1` is i // 2 and `i & 3` is i % 4 (exact in z3)
    r = lift_file(
        KERNELS, Options(expect=VIEWS + "out[i] = x[i // 2] + x[i % 4]"), op="interleave_index_kernel"
    )[0]
    assert r.status == "verified", r.message
    wrong = lift_file(
        KERNELS, Options(expect=VIEWS + "out[i] = x[i // 2] + x[i % 8]"), op="interleave_index_kernel"
    )[0]
    assert wrong.status == "refuted" and wrong.counterexample is not None


def test_element_type_dispatch(results):
    r = results["dtype_accumulate_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out[i] = x[i] * 3.0")
    assert any(
        "evaluated for each floating element type" in a and "the same values for every one" in a
        for a in r.assumptions
    )
    # another value for bfloat16: the result is restricted to the element types it holds for, and says so
    r = results["dtype_divergent_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out[i] = x[i] + 1.0")
    (a,) = [a for a in r.assumptions if "element type" in a]
    assert (
        "holds for x_ptr of fp16, x_ptr of fp32, x_ptr of fp64 only" in a
        and "x_ptr of bf16 (not covered)" in a
    )
    r = results["dtype_width_kernel"]
    assert r.formula_raw.endswith("out[i] = x[i] * 32.0")
    assert any("holds for x_ptr of fp32 only" in a for a in r.assumptions)


def test_cast_to_a_dtype_parameter_and_annotated_scalars(results):
    r = results["cast_param_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out[i] = x[i] * 0.5")
    assert any(
        a.startswith("OUT_DTYPE (a dtype set by the caller) taken as a floating type") for a in r.assumptions
    )
    r = results["scaled_index_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith(
        "out[i] = where(tmod(i, stride) == 0, x[i] * scale, x[i])"
    )
    assert "def scaled_index_kernel(x_ptr, out_ptr, n, stride, scale, BLOCK)" in r.torch


def test_bit_casts_only_by_their_sign(results):
    r = results["signbit_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out[i] = float(signbit(x[i]))")
    assert any(a.startswith("bit casts (line ") for a in r.assumptions)
    r = results["bits_beyond_sign_kernel"]
    assert r.status == "unsupported" and "kernels.py:191: .to(..., bitcast=True)" in r.message


# -- the lifted torch code against the kernel in the interpreter ----------------------------------------------


def test_interpreter_math(results, module, g):
    out = torch.empty(N)
    run_both(results, module, "tan_kernel", ["out_ptr"], x_ptr=uniform(-1.2, 1.2, g), out_ptr=out, n=N)
    run_both(
        results, module, "inverse_trig_kernel", ["out_ptr"], x_ptr=uniform(-0.99, 0.99, g), out_ptr=out, n=N
    )
    run_both(
        results,
        module,
        "atan2_kernel",
        ["out_ptr"],
        y_ptr=uniform(-3, 3, g),
        x_ptr=uniform(-3, 3, g),
        out_ptr=out,
        n=N,
    )
    x, y = uniform(-9, 9, g), away_from_zero(g)
    run_both(results, module, "remainder_kernel", ["out_ptr"], x_ptr=x, y_ptr=y, out_ptr=out, n=N)
    run_both(results, module, "trunc_div_kernel", ["out_ptr"], x_ptr=x, y_ptr=y, out_ptr=out, n=N)
    run_both(results, module, "copysign_kernel", ["out_ptr"], x_ptr=x, y_ptr=y, out_ptr=out, n=N)


def test_interpreter_special_values(results, module, g):
    x = uniform(-3, 3, g)
    x[[1, 5, 30]] = torch.tensor([math.nan, math.inf, -math.inf])
    run_both(results, module, "nan_to_zero_kernel", ["out_ptr"], x_ptr=x, out_ptr=torch.empty(N), n=N)
    run_both(results, module, "finite_kernel", ["out_ptr"], x_ptr=x, out_ptr=torch.empty(N), n=N)


def test_interpreter_signbit_of_signed_zeros(results, module, g):
    x = uniform(-3, 3, g)
    x[[0, 3, 4]] = torch.tensor([-0.0, 0.0, -math.inf])
    run_both(results, module, "signbit_kernel", ["out_ptr"], x_ptr=x, out_ptr=torch.empty(N), n=N)


def test_interpreter_bits(results, module, g):
    a = torch.randint(-100, 100, (N,), generator=g, dtype=torch.int32)
    b = torch.randint(-100, 100, (N,), generator=g, dtype=torch.int32)
    s = torch.randint(0, 8, (N,), generator=g, dtype=torch.int32)
    out = torch.empty(N, dtype=torch.int32)
    run_both(results, module, "bits_kernel", ["out_ptr"], a_ptr=a, b_ptr=b, out_ptr=out, n=N)
    run_both(results, module, "shift_kernel", ["out_ptr"], a_ptr=a, s_ptr=s, out_ptr=out, n=N)
    keep, drop = torch.rand(N, generator=g) < 0.3, torch.rand(N, generator=g) < 0.3
    run_both(
        results,
        module,
        "mask_flags_kernel",
        ["out_ptr"],
        x_ptr=uniform(-2, 2, g),
        keep_ptr=keep,
        drop_ptr=drop,
        out_ptr=torch.empty(N),
        n=N,
    )
    run_both(
        results,
        module,
        "interleave_index_kernel",
        ["out_ptr"],
        x_ptr=uniform(-2, 2, g),
        out_ptr=torch.empty(N),
        n=N,
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_interpreter_element_types(results, module, g, dtype):
    x = uniform(-2, 2, g, dtype)
    run_both(
        results,
        module,
        "dtype_accumulate_kernel",
        ["out_ptr"],
        x_ptr=x,
        out_ptr=torch.empty(N, dtype=dtype),
        n=N,
    )
    # fp16, fp32 and fp64 are the element types its result covers
    run_both(
        results,
        module,
        "dtype_divergent_kernel",
        ["out_ptr"],
        x_ptr=x,
        out_ptr=torch.empty(N, dtype=dtype),
        n=N,
    )


def test_interpreter_element_type_outside_the_result_differs(results, module, g):
    # the width the kernel reads is that of its element type: fp32 is covered, fp64 is not (and differs)
    x = uniform(-2, 2, g, torch.float32)
    run_both(results, module, "dtype_width_kernel", ["out_ptr"], x_ptr=x, out_ptr=torch.empty(N), n=N)
    x64 = x.to(torch.float64)
    theirs = torch.empty(N, dtype=torch.float64)
    module.dtype_width_kernel[(math.ceil(N / BLOCK),)](x64, theirs, N, BLOCK=BLOCK)
    ours = torch.empty(N, dtype=torch.float64)
    call(lifted_fn(results["dtype_width_kernel"]), x_ptr=x64, out_ptr=ours, n=N, BLOCK=BLOCK)
    assert torch.equal(theirs, x64 * 64) and not torch.equal(ours, theirs)


def test_interpreter_casts_and_annotations(results, module, g):
    import triton.language as tl

    x = uniform(-2, 2, g)
    for out_dtype, tdtype in ((tl.float32, torch.float32), (tl.float16, torch.float16)):
        run_both(
            results,
            module,
            "cast_param_kernel",
            ["out_ptr"],
            x_ptr=x,
            out_ptr=torch.empty(N, dtype=tdtype),
            n=N,
            OUT_DTYPE=out_dtype,
        )
    run_both(
        results,
        module,
        "scaled_index_kernel",
        ["out_ptr"],
        x_ptr=x,
        out_ptr=torch.empty(N),
        n=N,
        stride=3,
        scale=2.5,
    )


# -- the IR and the solver ------------------------------------------------------------------------------------


def test_bitwise_constructor_folds_and_keeps_kinds():
    i = ir.var("i")
    assert ir.bitwise(Op.BITAND, ir.const(12), ir.const(10)) == ir.const(8)
    assert ir.bitwise(Op.SHR, ir.const(-7), ir.const(1)) == ir.const(-4)  # arithmetic shift: floor
    assert ir.bitwise(Op.BITNOT, ir.const(5)) == ir.const(-6)
    assert ir.bitwise(Op.SHL, ir.const(1), ir.const(-1)).op is Op.SHL  # undefined: kept, never folded
    assert ir.bitwise(Op.BITAND, i, ir.const(3)).kind is Kind.INT
    x = ir.read("x", i)
    assert ir.bitwise(Op.BITOR, x, i).kind is Kind.REAL  # a loaded element: a real holding an integer
    mixed = ir.bitwise(Op.BITAND, x, ir.lt(i, ir.const(4)))
    assert mixed.args[1] == ir.cast(ir.lt(i, ir.const(4)), "int32")  # a mask counts as 0/1


def test_predicates_fold_on_constants_and_evaluate_ieee():
    assert ir.predicate(Op.ISINF, ir.const(-math.inf)) == ir.TRUE
    assert ir.predicate(Op.ISNAN, ir.const(math.nan)) == ir.TRUE
    assert ir.predicate(Op.ISFINITE, ir.const(2.0)) == ir.TRUE
    assert ir.predicate(Op.SIGNBIT, ir.const(-0.0)) == ir.TRUE
    x = ir.var("x", Kind.REAL)
    env = Env(vars={"x": math.nan})
    assert evaluate(ir.predicate(Op.ISNAN, x), env) is True
    assert evaluate(ir.predicate(Op.ISFINITE, x), env) is False
    assert evaluate(ir.math_fn(Op.FMOD, ir.const(-7.0), x), Env(vars={"x": 3.0})) == -1.0
    with pytest.raises(ValueError, match="non-integer"):
        evaluate(ir.bitwise(Op.BITAND, x, ir.const(1)), Env(vars={"x": 0.5}))


def _prove(claim: ir.Expr, kinds: dict[str, Kind]) -> bool:
    import z3

    cx = Z3Ctx(kinds)
    goal = cx(claim)
    s = z3.Solver()
    s.add(*math_axioms(cx), z3.Not(goal))
    return s.check() == z3.unsat


def test_z3_bit_arithmetic_is_exact_on_integers_only_where_it_is_arithmetic():
    i, k = ir.var("i"), ir.var("k")
    kinds = {"i": Kind.INT, "k": Kind.INT}
    assert _prove(ir.eq(ir.bitwise(Op.BITAND, i, ir.const(7)), ir.arith(Op.MOD, i, ir.const(8))), kinds)
    assert _prove(ir.eq(ir.bitwise(Op.SHR, i, ir.const(3)), ir.arith(Op.FLOORDIV, i, ir.const(8))), kinds)
    assert _prove(ir.eq(ir.bitwise(Op.SHL, i, ir.const(2)), ir.mul(i, ir.const(4))), kinds)
    assert _prove(ir.eq(ir.bitwise(Op.BITNOT, i), ir.sub(ir.neg(i), ir.ONE)), kinds)
    # not claimed: a mask that is not 2**k - 1, a shift by a variable
    assert not _prove(ir.eq(ir.bitwise(Op.BITAND, i, ir.const(6)), ir.arith(Op.MOD, i, ir.const(6))), kinds)
    assert not _prove(ir.eq(ir.bitwise(Op.SHL, i, k), ir.mul(i, ir.const(2))), kinds)


def test_z3_knows_predicates_of_special_constants_only():
    x = ir.var("x", Kind.REAL)
    c = ir.var("c")
    kinds = {"x": Kind.REAL, "c": Kind.INT}
    masked = ir.where(ir.lt(c, ir.ZERO), ir.const(-math.inf), x)  # a masked max lane
    # isinf of the masked lane is known; of a real variable it is not (and never claimed false)
    assert _prove(ir.or_(ir.not_(ir.lt(c, ir.ZERO)), ir.predicate(Op.ISINF, masked)), kinds)
    assert not _prove(ir.not_(ir.predicate(Op.ISINF, x)), kinds)
    assert not _prove(ir.predicate(Op.ISINF, x), kinds)
    # isfinite is not (isnan or isinf); signbit is the sign away from zero
    fin = ir.predicate(Op.ISFINITE, x)
    assert _prove(
        ir.eq(
            ir.cast(fin, "int32"),
            ir.cast(ir.not_(ir.or_(ir.predicate(Op.ISNAN, x), ir.predicate(Op.ISINF, x))), "int32"),
        ),
        kinds,
    )
    assert _prove(ir.or_(ir.not_(ir.lt(x, ir.const(0.0))), ir.predicate(Op.SIGNBIT, x)), kinds)


def test_wrong_formula_for_a_math_kernel_is_refuted():
    r = lift_file(KERNELS, Options(expect=VIEWS2 + "out[i] = atan2(x[i], y[i])"), op="atan2_kernel")[0]
    assert r.status == "refuted" and r.counterexample is not None
    r = lift_file(
        KERNELS,
        Options(expect=VIEWS2 + "out[i] = fmod(x[i], y[i]) + trunc(x[i] / y[i])"),
        op="trunc_div_kernel",
    )[0]
    assert r.status == "verified", r.message
