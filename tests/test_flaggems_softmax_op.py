"""FlagGems' `softmax` operator (flag-gems 5.0.2) at operator level, on every host path.

The host launches `softmax_kernel_non_inner` (K > 1) or `softmax_kernel_inner` (K <= 1, whose heuristic picks
the online path with TILE_N = 4096 past N = 32768: a reversed write sweep from the last tile), and returns an
empty tensor when `self.numel() == 0`. Every path is checked against one formula, `out = softmax(self,
dim=dim)`; the empty path vacuously (its emptiness proved). Mutants of the host in a copy of the package must
not verify. Skips when the package is not installed (`pip install --no-deps flag-gems==5.0.2`).
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch

from tritonlift.api import lift_file
from tritonlift.bench import flaggems
from tritonlift.result import LiftResult


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


@cache
def lifted(path: Path) -> LiftResult:
    (r,) = lift_file(path, op="softmax")
    return r


def test_softmax_operator_verified_on_every_path_in_textbook_form(root: Path) -> None:
    r = lifted(root / "ops/softmax.py")
    assert r.status == "verified", r.message
    assert r.formula.splitlines()[0] == "out = softmax(self, dim=dim)", r.formula
    assert "self.numel() == 0 every output is empty" in r.message, r.message
    assert "32768" in r.message  # the online path is among the paths checked


def test_softmax_lifted_code_agrees_with_torch(root: Path) -> None:
    r = lifted(root / "ops/softmax.py")
    assert r.status == "verified" and r.torch, r.message
    ns: dict[str, Any] = {}
    exec(compile(r.torch, "<lifted softmax>", "exec"), ns)
    fn = ns["softmax"]
    gen = torch.Generator().manual_seed(20240531)
    shapes = [(7,), (5, 9), (3, 4, 6), (2, 1, 5), (4, 3, 1)]
    for shape in shapes:
        x = torch.randn(shape, generator=gen, dtype=torch.float64) * 3
        for dim in range(-len(shape), len(shape)):
            got = fn(x, dim)
            assert got.shape == x.shape
            torch.testing.assert_close(got, torch.softmax(x, dim), msg=f"{shape} dim={dim}")
    empty = torch.randn((0, 3), dtype=torch.float64)
    assert fn(empty, 1).shape == empty.shape


@pytest.fixture(scope="module")
def package_copy(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fgop") / "flag_gems"
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.mark.parametrize(
    ("why", "was", "now"),
    [
        ("one row too few launched", "grid = (M, 1, 1)", "grid = (M - 1, 1, 1)"),
        ("rows one element short", "    N = self.shape[dim]\n", "    N = self.shape[dim] - 1\n"),
    ],
)
def test_softmax_host_mutant_is_not_verified(
    package_copy: Path, root: Path, why: str, was: str, now: str
) -> None:
    src = (root / "ops/softmax.py").read_text()
    assert src.count(was) == 1, why
    mutant = package_copy / "ops" / "softmax.py"
    mutant.write_text(src.replace(was, now))
    try:
        (r,) = lift_file(mutant, op="softmax")
    finally:
        mutant.write_text(src)
    assert r.status != "verified", why


def test_solve_inverts_a_sweep_back_by_a_constant_tile() -> None:
    from tritonlift.ir import expr as ir
    from tritonlift.symbolic.values import lane, pid
    from tritonlift.synth.derive import _solve

    e = ir.sub(lane(0), ir.mul(ir.const(4096), pid(3)))
    got = _solve(e, ir.var("j"), (ir.const(4096),))
    assert set(got) == {lane(0), pid(3)}
    for j in (-8192, -4097, -4096, -1, 0):  # the sweep's lanes: l - 4096 * t = j with 0 <= l < 4096
        env = {ir.var("j"): ir.const(j)}
        t = ir.substitute(got[pid(3)], env)
        ln = ir.substitute(got[lane(0)], env)
        from tritonlift.ir.poly import norm

        t, ln = norm(t), norm(ir.substitute(ln, {}))
        assert t.is_const and ln.is_const, (t, ln)
        assert 0 <= ln.value < 4096 and ln.value - 4096 * t.value == j
