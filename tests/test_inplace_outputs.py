"""Outputs the host allocates and outputs the caller passes in, when the kernel leaves elements unwritten.

An element of a host-allocated output (torch.empty) that no launch writes is garbage the operator returns:
`refuted`, with the element. An element of a tensor the caller passed in keeps the caller's value, so a
formula claiming every element of it claims too much: our candidate is wrong, not the kernel, and the result
is `unknown`, never `refuted`, unless the formula names the corner written (FlagGems' syrk_mm writes the
M x M corner of whatever `c` it is given: `c_v = a_v @ a_v.T` over that corner).
"""

from __future__ import annotations

from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.bench import flaggems
from tritonlift.ir.tensor_form import is_textbook_text

DATA = Path(__file__).parent / "data"


def test_unwritten_allocation_is_refuted_and_a_passed_in_tensor_is_not() -> None:
    res = {r.name: r for r in lift_file(DATA / "copy_into.py")}
    assert res["copy_kernel"].status == "verified"
    assert res["copy_new"].status == "refuted"
    cex = res["copy_new"].counterexample
    assert cex is not None and cex.kernel_value == "not written" and cex.reason.startswith("out[")
    assert res["copy_into"].status == "unknown", res["copy_into"].message


def test_flaggems_syrk_host_is_not_refuted_for_a_larger_c() -> None:
    root = flaggems.locate_package()
    if root is None:
        import pytest

        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    (r,) = lift_file(root / "ops/mm.py", op="syrk_mm")
    # the written M x M corner of c is the output (a view); the rest of c keeps the caller's values
    assert r.status == "verified", (r.status, r.message)
    assert r.formula.endswith("c_v = a_v @ a_v.T"), r.formula


def test_textbook_judged_per_host_path() -> None:
    assert is_textbook_text("[keepdim] out = x.amax(dim=1, keepdim=True); [not keepdim] out = x.amax(dim=1)")
    assert not is_textbook_text("[a] out = x; [b] out[i] = x[i]")
    assert not is_textbook_text("[a] out[i] = x[i]")
    assert is_textbook_text("out = x[:, None] + y")  # brackets inside a formula are not path conditions


def test_unbound_names_of_lifted_code() -> None:
    from tritonlift.ir.torch_names import unbound_names

    code = "def f(x):\n    import torch\n    def g(i):\n        return torch.arange(i)\n    return g(TILE_K) + len(x)\n"
    assert unbound_names(code) == ["TILE_K"]
    assert unbound_names("def f(x):\n    import math\n    return math.prod(x.shape)\n") == []
