"""FlagGems idioms in kernels (tests/data/fgstyle/idioms.py): pointer element types, dtype helpers imported from
another file, `tle.program_id` under several import paths, int64 program ids, `not FLAG` on heuristics booleans,
dtype predicates, bit casts; and, where FlagGems is installed, the operators' pointwise bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.bench import flaggems
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.pipeline import kernel_spec
from tritonlift.symbolic.kernel_eval import dtype_test
from tritonlift.symbolic.values import DType

DATA = Path(__file__).parent / "data" / "fgstyle" / "idioms.py"


@pytest.fixture(scope="module")
def results() -> dict:
    return {r.name: r for r in lift_file(DATA)}


def test_dtype_helper_imported_from_another_file_is_found_on_disk():
    m = load_module(DATA)
    low = m.imported_jit("lowest")  # from .utils.limits import lowest
    assert low is not None and low.file.endswith("fgstyle/utils/limits.py")
    assert m.imported_jit("tle") is None  # a module, not a jit function
    assert m.imported_jit("triton") is None


def test_element_type_and_dtype_min_helper(results):
    # `lowest(inp.type.element_ty)` is -inf for a floating element type: the masked lanes' other=
    # (the store's own mask decides that guard, so the stored value is the maximum alone: no undefined lane)
    r = results["relu_lowest_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = maximum(inp_v[i], 0.0)")
    m = load_module(DATA)
    spec, _ = kernel_spec(m, m.jit["relu_lowest_kernel"])
    assert not any(n.op is ir.Op.UNDEF for n in ir.walk(spec.stores[0].value))


def test_scalar_type_and_tle_imported_as_module(results):
    r = results[
        "clamp_high_kernel"
    ]  # ext.program_id (import a.b.triton_lang_extension as ext); x.type.scalar
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = inp_v[i]")


def test_int64_program_ids(results):
    r = results["scale_int64_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = 3.0 * inp_v[i]")


def test_not_on_a_constexpr_flag(results):
    r = results["copy_even_kernel"]  # `if not EVEN:` with EVEN from @triton.heuristics
    assert r.status == "verified", r.message
    assert r.formula_raw.endswith("out_v[i] = inp_v[i]")


def test_is_int_on_an_element_type_takes_the_float_branch(results):
    r = results["acc_dtype_kernel"]
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = inp_v[i] * 2.0")


def test_width_predicates_evaluate_per_element_type_and_bitcasts_by_their_sign(results):
    r = results["width_test_kernel"]  # .is_fp64() on the element type: both branches are the identity
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = inp_v[i]")
    assert any(
        "element type of inp (.is_fp64() at line 77)" in a and "the same values for every one" in a
        for a in r.assumptions
    )
    r = results["bitcast_kernel"]  # `x.to(tl.int32, bitcast=True) < 0`: the sign bit
    assert r.status == "verified" and r.formula_raw.endswith("out_v[i] = float(signbit(inp_v[i]))")


def test_dtype_predicates():
    assert dtype_test(DType("int32"), "is_int") and dtype_test(DType("int32"), "is_int_signed")
    assert dtype_test(DType("int1"), "is_int_unsigned") and not dtype_test(DType("int1"), "is_int_signed")
    assert dtype_test(DType("fp16"), "is_fp16") and not dtype_test(DType("fp16"), "is_fp32")
    assert dtype_test(DType("elem:x"), "is_floating") and not dtype_test(DType("elem:x"), "is_int")
    assert dtype_test(DType("ptr:x"), "is_ptr")
    assert dtype_test(DType("fp32"), "is_something_else") is None


# -- the installed FlagGems package --------------------------------------------------------------------------

POINTWISE_33 = {
    "ops/abs.py": ["abs_func"],
    "ops/neg.py": ["neg_func"],
    "ops/exp.py": ["exp_func"],
    "ops/log.py": ["log_func"],
    "ops/sqrt.py": ["sqrt_func"],
    "ops/rsqrt.py": ["rsqrt_func"],
    "ops/sin.py": ["sin_func"],
    "ops/tanh.py": ["tanh_kernel"],
    "ops/sigmoid.py": ["sigmoid_forward"],
    "ops/silu.py": ["silu_forward"],
    "ops/gelu.py": ["gelu_none", "gelu_tanh"],
    "ops/relu.py": ["relu_forward"],
    "ops/clamp.py": ["clamp_func", "clamp_func_min", "clamp_func_max", "clamp_func_tensor"],
    "ops/add.py": ["add_func", "add_func_tensor_scalar", "add_func_scalar_tensor"],
    "ops/sub.py": ["sub_func"],
    "ops/mul.py": ["mul_func", "mul_func_scalar"],
    "ops/div.py": ["true_div_func", "true_div_func_tensor_scalar", "true_div_func_scalar_tensor"],
    "ops/pow.py": ["pow_func", "pow_func_tensor_scalar", "pow_func_scalar_tensor"],
    "ops/maximum.py": ["maximum_kernel"],
    "ops/where.py": ["where_inner"],
    "fused/silu_and_mul.py": ["silu_and_mul_kernel"],
}


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


@pytest.mark.parametrize("rel", sorted(POINTWISE_33))
def test_flaggems_operator_pointwise_bodies_verify(root: Path, rel: str):
    for name in POINTWISE_33[rel]:
        (r,) = [x for x in lift_file(root / rel, op=name) if x.kind == "pointwise"]
        assert r.status == "verified", (name, r.message)
        assert r.torch.startswith(f"def {name}(")


def test_flaggems_type_and_not_blockers_are_gone(root: Path):
    amax = {r.name: r for r in lift_file(root / "ops/amax.py")}
    assert amax["amax_kernel_1"].status == "verified"
    assert ".type" not in amax["amax_kernel"].message
    bmm = {r.name: r for r in lift_file(root / "ops/bmm.py", op="bmm_kernel")}
    assert "bitwise not" not in bmm["bmm_kernel"].message


# bodies that lift since the elementwise constructs (libdevice math, float %, predicates, bit operations,
# element-type dispatch, casts to a dtype parameter): each verified, with the formula it reads as
ELEMENTWISE = {
    ("ops/tan.py", "tan_func"): "out[i] = tan(x[i])",
    ("ops/atan.py", "atan_kernel"): "out[i] = atan(x[i])",
    ("ops/acos.py", "acos_kernel"): "out[i] = acos(x[i])",
    ("ops/atan2.py", "atan2_kernel"): "out[i] = atan2(x[i], y[i])",
    ("ops/angle.py", "angle_func"): "out[i] = atan2(imag[i], real[i])",
    ("ops/isnan.py", "isnan_func"): "out[i] = isnan(x[i])",
    ("ops/isinf.py", "isinf_func"): "out[i] = isinf(x[i])",
    ("ops/isfinite.py", "isfinite_func"): "out[i] = isfinite(x[i])",
    ("ops/signbit.py", "signbit_func"): "out[i] = signbit(x[i])",
    ("ops/bitwise_and.py", "bitwise_and_func"): "out[i] = bitwise_and(x[i], y[i])",
    ("ops/bitwise_or.py", "bitwise_or_func_scalar"): "out[i] = bitwise_or(x[i], y)",
    ("ops/bitwise_not.py", "bitwise_not_func"): "out[i] = bitwise_not(x[i])",
    ("ops/bitwise_left_shift.py", "bitwise_left_shift_kernel"): "out[i] = bitwise_left_shift(a[i], b[i])",
    ("ops/bitwise_right_shift.py", "bitwise_right_shift_kernel"): "out[i] = bitwise_right_shift(a[i], b[i])",
    ("ops/div.py", "trunc_div_func"): "out[i] = trunc(x[i] / y[i])",
    ("ops/div.py", "rem_tt"): (
        "out[i] = where((fmod(x[i], y[i]) != 0.0) & ((x[i] < 0.0) != (y[i] < 0.0)), fmod(x[i], y[i]) + y[i], "
        "fmod(x[i], y[i]))"
    ),
}


@pytest.mark.parametrize(("rel", "name"), sorted(ELEMENTWISE), ids=lambda v: v)
def test_flaggems_elementwise_bodies_verify(root: Path, rel: str, name: str):
    (r,) = [x for x in lift_file(root / rel, op=name) if x.name == name]
    assert r.status == "verified", r.message
    assert r.formula_raw == ELEMENTWISE[(rel, name)]


def _run(result, *args):
    ns: dict = {}
    exec(result.torch, ns)
    return ns[result.name](*args)


def test_flaggems_elementwise_torch_code_matches_torch(root: Path):
    import math

    import torch

    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(5, 6, generator=g), torch.randn(5, 6, generator=g) + 0.1
    x[0, 0], x[1, 1], x[2, 2] = math.nan, math.inf, -math.inf

    def body(rel: str, name: str):
        (r,) = [v for v in lift_file(root / rel, op=name) if v.name == name]
        assert r.status == "verified", r.message
        return r

    torch.testing.assert_close(_run(body("ops/tan.py", "tan_func"), y), torch.tan(y))
    torch.testing.assert_close(
        _run(body("ops/atan2.py", "atan2_kernel"), x, y), torch.atan2(x, y), equal_nan=True
    )
    assert torch.equal(_run(body("ops/isnan.py", "isnan_func"), x), torch.isnan(x))
    assert torch.equal(_run(body("ops/isinf.py", "isinf_func"), x), torch.isinf(x))
    assert torch.equal(_run(body("ops/isfinite.py", "isfinite_func"), x), torch.isfinite(x))
    z = torch.tensor([-0.0, 0.0, -1.0, 2.0])
    assert torch.equal(_run(body("ops/signbit.py", "signbit_func"), z), torch.signbit(z))
    torch.testing.assert_close(
        _run(body("ops/div.py", "rem_tt"), y * 7, y + 0.3), torch.remainder(y * 7, y + 0.3)
    )
    torch.testing.assert_close(
        _run(body("ops/div.py", "trunc_div_func"), x, y),
        torch.div(x, y, rounding_mode="trunc"),
        equal_nan=True,
    )
    a = torch.randint(-50, 50, (4, 5), generator=g, dtype=torch.int32)
    b = torch.randint(0, 5, (4, 5), generator=g, dtype=torch.int32)
    assert torch.equal(_run(body("ops/bitwise_and.py", "bitwise_and_func"), a, b), a & b)
    assert torch.equal(_run(body("ops/bitwise_not.py", "bitwise_not_func"), a), ~a)
    m = torch.rand(4, 5, generator=g) < 0.5
    assert torch.equal(_run(body("ops/bitwise_not.py", "bitwise_not_func"), m), ~m)  # bool: logical not
    assert torch.equal(_run(body("ops/bitwise_left_shift.py", "bitwise_left_shift_kernel"), a, b), a << b)
    assert torch.equal(_run(body("ops/bitwise_right_shift.py", "bitwise_right_shift_kernel"), a, b), a >> b)
