"""Operator-level lifting of hosts that call @pointwise_dynamic functions (symbolic/host_pointwise.py), on
tests/data/fgstyle/pointwise_hosts.py: the formula, the status, the path conditions, and the torch code run
against the host's meaning written out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tritonlift.frontend.source import load_module
from tritonlift.options import Options
from tritonlift.pipeline import lift_module_file
from tritonlift.symbolic.host_pointwise import pointwise_hosts

DATA = Path(__file__).parent / "data" / "fgstyle" / "pointwise_hosts.py"


@pytest.fixture(scope="module")
def results() -> dict:
    return {r.name: r for r in lift_module_file(DATA, Options(timeout=60)) if r.kind == "operator"}


def run(result: Any, *args: Any, **kwargs: Any) -> Any:
    scope: dict = {}
    exec(compile(result.torch, f"<{result.name}>", "exec"), scope)
    return scope[result.name](*args, **kwargs)


def close(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got.to(want.dtype), want, rtol=1e-5, atol=1e-6)


def x(*shape: int) -> torch.Tensor:
    return torch.linspace(-2.0, 3.0, int(torch.tensor(shape).prod())).reshape(shape)


def test_hosts_that_call_pointwise_functions_are_found():
    names = [h.name for h in pointwise_hosts(load_module(DATA))]
    assert names[:3] == ["plain", "scaled", "composed"]
    assert "through_helper" in names and "through_autograd" in names
    assert "_helper" not in names  # private helpers are evaluated inline, not lifted on their own
    assert "square" not in names  # the pointwise bodies are not hosts


def test_a_plain_call_lifts_to_the_body_over_the_hosts_tensor(results):
    r = results["plain"]
    assert r.status == "verified", r.message
    assert r.formula == "out = A * A" or r.formula == "out = A ** 2", r.formula
    assert r.kernels == ["square"]
    assert any("real dtype" in a for a in r.assumptions)
    close(run(r, x(3, 4)), x(3, 4) ** 2)


def test_scalars_the_host_passes_are_the_hosts_parameters(results):
    r = results["scaled"]
    assert r.status == "verified", r.message
    assert "a" in r.formula and "b" in r.formula
    close(run(r, x(5), a=3.0, b=-1.0), x(5) * 3.0 - 1.0)
    close(run(r, x(5)), x(5) * 2.0 + 0.5)  # the host's defaults


def test_nested_calls_compose_and_broadcast(results):
    r = results["composed"]
    assert r.status == "verified", r.message
    assert set(r.kernels) == {"square", "axpy"}
    a, b = x(4, 6), x(6)
    close(run(r, a, b), a * a + b * 3.0)


def test_none_defaults_split_paths_and_a_raising_path_is_reported(results):
    r = results["dispatch_on_none"]
    assert r.status == "verified", r.message
    conds = {frozenset(part.split("] ")[0].lstrip("[").split(" and ")) for part in r.formula.split("; ")}
    assert conds == {frozenset({"hi is None", "lo is not None"}), frozenset({"hi is not None"})}, r.formula
    assert "raises" in r.message and "need a bound" in r.message
    a = x(2, 5)
    close(run(r, a, lo=0.25), torch.clamp(a, min=0.25))
    close(run(r, a, hi=3.0), a * 3.0)
    close(run(r, a, 0.5, 3.0), a * 3.0)  # both given: the else branch
    with pytest.raises(ValueError):
        run(r, a)


def test_string_tests_split_paths(results):
    r = results["dispatch_on_string"]
    assert r.status == "verified", r.message
    assert "mode == 'affine'" in r.formula and "mode != 'affine'" in r.formula
    a = x(7)
    close(run(r, a), a * a)
    close(run(r, a, mode="affine"), a * 2.0 + 1.0)


def test_isinstance_dispatch_takes_the_float_tensor_overload(results):
    r = results["dispatch_on_type"]
    assert r.status == "verified", r.message
    assert r.formula == "out = A + B * 1.0" or r.formula.startswith("out = A + B"), r.formula
    assert any("torch.Tensor with a real dtype" in a for a in r.assumptions)
    assert any(".to(" in a for a in r.assumptions)  # B.to(A.device) keeps the values
    a, b = x(3, 2), x(2)
    close(run(r, a, b), a + b)


def test_same_file_helpers_and_autograd_apply_are_evaluated_inline(results):
    close(run(results["through_helper"], x(4), x(4) * 2), x(4) - x(4) * 2)
    r = results["through_autograd"]
    assert r.status == "verified", r.message
    close(run(r, x(3)), x(3) ** 2)


def test_out0_and_several_outputs(results):
    r = results["into_out"]
    assert r.status == "verified", r.message
    close(run(r, x(4), torch.empty(4)), x(4) ** 2)
    r = results["in_place"]  # A's new values from its old ones: a new version of A, not a cycle
    assert r.status == "verified" and r.formula == "out = A * A", (r.status, r.message, r.formula)
    close(run(r, x(4)), x(4) ** 2)
    r = results["two_outputs"]
    assert r.status == "verified", r.message
    sq, cube = run(r, x(5))
    close(sq, x(5) ** 2)
    close(cube, x(5) ** 3)


def test_what_is_not_modelled_says_so(results):
    r = results["tensor_into_scalar_slot"]
    assert (
        r.status == "unsupported" and "scalar parameter a" in r.message and "pointwise_hosts.py:" in r.message
    )
    r = results["data_dependent"]
    assert r.status == "unsupported" and "pointwise_hosts.py:" in r.message, r.message
