"""@pointwise_dynamic scalar bodies lift to results of kind "pointwise" (tests/data/fgstyle/pointwise_ops.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.options import Options
from tritonlift.symbolic.pointwise import read_schema

DATA = Path(__file__).parent / "data" / "fgstyle" / "pointwise_ops.py"


@pytest.fixture(scope="module")
def results() -> dict:
    return {r.name: r for r in lift_file(DATA)}


def run(result, *args):
    scope: dict = {}
    exec(result.torch, scope)
    return scope[result.name](*args)


def test_frontend_lists_pointwise_bodies_apart_from_kernels():
    m = load_module(DATA)
    names = {f.name for f in m.pointwise()}
    assert {"gelu_erf", "axpy", "swish_and_mul_grad"} <= names
    assert not names & {f.name for f in m.kernels()}
    assert "_sigmoid" not in names and "_sigmoid" not in {f.name for f in m.kernels()}  # a helper of a body


def test_schema_follows_flaggems_rules():
    m = load_module(DATA)
    s = read_schema(m.jit["axpy"])
    assert s.inputs == ("x", "y", "alpha") and s.is_tensor == (True, True, False) and s.tensors == ["x", "y"]
    assert [(p.args, p.method) for p in s.promotions] == [((0, 1), "DEFAULT")]
    s = read_schema(m.jit["swish_and_mul_grad"])
    assert s.is_tensor == (True, True) and s.num_outputs == 2


def test_statuses_and_formulas(results):
    assert all(r.kind == "pointwise" for r in results.values())
    verified = {n for n, r in results.items() if r.status == "verified"}
    assert verified == {
        "gelu_erf",
        "axpy",
        "pow_scalar",
        "select",
        "greater",
        "swish_and_mul_grad",
        "half_turn",
        "either_not_both",
        "is_zero",
        "both",
        "int_div",
        "dtype_branch",
        "bit_and",
    }
    assert results["gelu_erf"].formula_raw == "out[i] = 0.5 * x[i] * (1.0 + erf(x[i] * 0.7071067811865476))"
    assert results["axpy"].formula_raw == "out[i] = x[i] + y[i] * alpha"
    assert results["swish_and_mul_grad"].formula_raw.startswith("out0[i] = ")
    assert "; out1[i] = g[i] * x[i] * (1.0 / (1.0 + exp(-x[i])))" in results["swish_and_mul_grad"].formula_raw
    assert results["int_div"].formula_raw == "out[i] = int64(x[i] / y[i])"  # Triton's // on ints: toward zero
    assert results["select"].formula_raw == "out[i] = where(cond[i] != 0.0, a[i], b[i])"
    assert results["bit_and"].formula_raw == "out[i] = bitwise_and(x[i], y[i])"  # integer tensors' bits


def test_unsupported_names_construct_and_line(results):
    assert results["bit_pattern"].status == "unsupported"
    assert "pointwise_ops.py:119: .to(..., bitcast=True): bit casts are not modelled" in results["bit_pattern"].message
    assert "`return` inside a branch on a runtime value" in results["early_return"].message
    assert "returns 1 value(s), the decorator declares 2 output(s)" in results["wrong_count"].message


def test_assumptions_state_broadcast_promotion_and_scalars(results):
    a = results["axpy"].assumptions
    assert any("broadcast to a common shape" in s and "x[i] is element i" in s for s in a)
    assert "alpha: Python numbers (is_tensor=False)" in a
    assert any("promotion_methods=(x, y; DEFAULT)" in s for s in a)
    assert any("values are reals" in s for s in a)
    assert any(
        "taken as floating point (is_int() is False)" in s for s in results["dtype_branch"].assumptions
    )


def test_torch_code_gelu_matches_torch(results):
    x = torch.randn(4, 5)
    out = run(results["gelu_erf"], x)
    torch.testing.assert_close(out, torch.nn.functional.gelu(x))


def test_torch_code_broadcasts_and_promotes(results):
    x, y = torch.randn(3, 1, 4), torch.randn(5, 4)
    out = run(results["axpy"], x, y, 0.5)
    torch.testing.assert_close(out, torch.add(x, y, alpha=0.5))
    xi = torch.arange(4, dtype=torch.int32)
    out = run(results["axpy"], xi, y, 2)
    assert out.dtype == torch.float32 and out.shape == (5, 4)
    torch.testing.assert_close(out, xi + y * 2)


def test_torch_code_bool_tuple_and_int_results(results):
    x, y = torch.randn(6), torch.randn(6)
    out = run(results["greater"], x, y)
    assert out.dtype == torch.bool and torch.equal(out, x > y)
    g = torch.randn(6)
    d0, d1 = run(results["swish_and_mul_grad"], x, g)
    s = torch.sigmoid(x)
    torch.testing.assert_close(d0, g * s * (1 + x * (1 - s)))
    torch.testing.assert_close(d1, g * x * s)
    a, b = torch.tensor([-7, 7, -8, 9]), torch.tensor([2, -2, 3, 4])
    out = run(results["int_div"], a, b)
    assert out.dtype == torch.int64 and torch.equal(out, torch.div(a, b, rounding_mode="trunc"))
    cond = torch.tensor([True, False, True])
    out = run(results["select"], cond, torch.ones(3), torch.zeros(3))
    assert torch.equal(out, torch.tensor([1.0, 0.0, 1.0]))
    assert torch.equal(run(results["is_zero"], torch.tensor([0.0, 2.0])), torch.tensor([True, False]))


def test_verify_checks_the_formula_against_the_body():
    wrong = lift_file(DATA, Options(expect="out[i] = x[i] + y[i]"), op="axpy")
    assert len(wrong) == 1 and wrong[0].kind == "pointwise" and wrong[0].status == "refuted"
    assert wrong[0].counterexample is not None
    right = lift_file(DATA, Options(expect="out[i] = alpha * y[i] + x[i]"), op="axpy")
    assert right[0].status == "verified"


def test_expect_reads_the_shown_whole_tensor_form():
    """What `formula` shows for a pointwise body (`out = x + alpha * y`) is accepted back by --expect."""
    shown = next(r for r in lift_file(DATA, op="axpy") if r.name == "axpy").formula
    assert shown.startswith("out = ") and "[" not in shown
    assert lift_file(DATA, Options(expect=shown), op="axpy")[0].status == "verified"
    assert lift_file(DATA, Options(expect="out = x + y"), op="axpy")[0].status == "refuted"
