"""Host code pieces for FlagGems-style operators: heuristics in decorator order with constexprs a heuristic
cannot be evaluated for left free, host calls of other modules of the package evaluated inline, list-fill
loops over a shape of symbolic rank, and per-path textbook credit in the bench."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.bench.fgsuite import textbook_status
from tritonlift.result import LiftResult

HEUR = """
import torch
import triton
import triton.language as tl


@triton.heuristics({"TILE_N": lambda args: triton.cdiv(64, args["TILE_K"]), "ONE": lambda args: args["TILE_N"] >= 1})
@triton.jit
def copy_kernel(X, Y, n, TILE_N: tl.constexpr, TILE_K: tl.constexpr, ONE: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * TILE_K + tl.arange(0, TILE_K)
    mask = offs < n
    tl.store(Y + offs, tl.load(X + offs, mask=mask) * 2.0, mask=mask)


def double(x):
    y = torch.empty_like(x)
    n = x.numel()
    grid = lambda meta: (triton.cdiv(n, meta["TILE_K"]){wrong},)
    copy_kernel[grid](x, y, n)
    return y
"""


def _op(tmp_path: Path, src: str, name: str, file: str = "m.py") -> LiftResult:
    p = tmp_path / file
    p.write_text(textwrap.dedent(src))
    return next(r for r in lift_file(p) if r.name == name and r.kind == "operator")


def test_heuristic_reading_a_free_constexpr_is_evaluated_in_decorator_order(tmp_path: Path) -> None:
    # TILE_N's heuristic reads TILE_K (autotuned: free), which comes after it among the parameters
    r = _op(tmp_path, HEUR.replace("{wrong}", ""), "double")
    assert r.status == "verified", r.message
    assert "2.0" in r.formula


def test_wrong_grid_over_a_free_constexpr_is_not_verified(tmp_path: Path) -> None:
    r = _op(tmp_path, HEUR.replace("{wrong}", " - 1"), "double")
    assert r.status != "verified"


PKG_ZEROS = """
import torch
import triton
import triton.language as tl


@triton.jit
def zeros_kernel(output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    tl.store(output_ptr + offsets, 0.0, mask=offsets < n_elements)


def zero_(x):
    N = x.numel()
    grid_fn = lambda meta: (triton.cdiv(N, meta["BLOCK_SIZE"]){wrong},)
    zeros_kernel[grid_fn](x, N, BLOCK_SIZE=1024)
    return x
"""

PKG_MAIN = """
import torch
import triton
import triton.language as tl

from pkg.ops.zeros import zero_


@triton.jit
def scale_kernel(X, Y, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(Y + offs, tl.load(X + offs, mask=mask) * 3.0, mask=mask)


def cleared(x, clear=False):
    out = torch.empty_like(x)
    n = x.numel()
    if clear:
        zero_(out)
    else:
        scale_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
    return out


def scaled(x):
    y = torch.empty_like(x)
    n = x.numel()
    scale_kernel[(triton.cdiv(n, 128),)](x, y, n, BLOCK=128)
    return y
"""


def _package(tmp_path: Path, wrong: str = "") -> Path:
    ops = tmp_path / "pkg" / "ops"
    ops.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (ops / "__init__.py").write_text("")
    (ops / "zeros.py").write_text(PKG_ZEROS.replace("{wrong}", wrong))
    (ops / "main.py").write_text(PKG_MAIN)
    return ops / "main.py"


def _named(results: list[LiftResult], name: str) -> LiftResult:
    return next(r for r in results if r.name == name and r.kind == "operator")


def test_host_call_of_another_modules_function_is_evaluated_inline(tmp_path: Path) -> None:
    main = _package(tmp_path)
    r = _named(lift_file(main), "cleared")
    assert r.status == "verified", r.message
    assert "0" in r.formula


def test_host_call_of_another_module_with_a_wrong_grid_is_not_verified(tmp_path: Path) -> None:
    main = _package(tmp_path, " - 1")
    r = _named(lift_file(main), "cleared")
    assert r.status != "verified"


FILL = """
import torch
import triton
import triton.language as tl


@triton.jit
def max_kernel(X, Y, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(X + offs, mask=offs < n, other=-float("inf"))
    tl.store(Y, tl.max(x, 0))


def amax_all(inp, keepdim=False):
    n = inp.numel()
    if keepdim:
        shape = list(inp.shape)
        for i in range({lo}inp.dim()):
            shape[i] = {value}
        out = torch.empty(shape, dtype=inp.dtype, device=inp.device)
    else:
        out = torch.empty([], dtype=inp.dtype, device=inp.device)
    max_kernel[(1,)](inp, out, n, triton.next_power_of_2(n))
    return out
"""


def test_fill_loop_over_a_shape_of_symbolic_rank(tmp_path: Path) -> None:
    r = _op(tmp_path, FILL.replace("{lo}", "0, ").replace("{value}", "1"), "amax_all")
    assert r.status == "verified", r.message


def test_fill_loop_with_a_value_whose_product_is_not_modelled_stays_unsupported(tmp_path: Path) -> None:
    r = _op(tmp_path, FILL.replace("{lo}", "").replace("{value}", "2"), "amax_all")
    assert r.status != "verified"
    assert "m.py:" in r.message


def _res(name: str, kind: str, status: str, formula: str, kernels: list[str]) -> LiftResult:
    return LiftResult(
        name=name,
        kind=kind,
        file="f.py",
        line=1,
        kernels=kernels,
        status=status,  # type: ignore[arg-type]
        formula=formula,
    )


def test_textbook_credit_per_verified_path_only() -> None:
    k1 = _res("k1", "kernel", "verified", "mid[i] = max(inp[k] for k in range(n))", [])
    k2 = _res("k2", "kernel", "verified", "out[0] = max(mid[k] for k in range(m))", [])
    op = _res("op", "operator", "unsupported", "", ["k1", "k2", "k3"])
    assert textbook_status([k1, k2], [op]) is False
    op.proof.paths = [
        {"when": "dim is None", "status": "verified", "formula": "out = inp.amax()", "kernels": ["k1", "k2"]},
        {"when": "dim is not None", "status": "unsupported", "formula": "", "kernels": ["k3"]},
    ]
    assert textbook_status([k1, k2], [op]) is True
    k3 = _res("k3", "kernel", "verified", "out[i] = max(inp[i, k] for k in range(n))", [])
    assert textbook_status([k1, k2, k3], [op]) is False  # k3 only on a path that is not verified
    op.proof.paths[0]["status"] = "unknown"
    assert textbook_status([k1, k2], [op]) is False


@pytest.fixture(scope="module")
def flaggems_root() -> Path:
    from tritonlift.bench import flaggems

    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


def test_flaggems_amax_records_verified_and_unsupported_paths(flaggems_root: Path) -> None:
    r = _named(lift_file(flaggems_root / "ops" / "amax.py", op="amax"), "amax")
    verified = [p for p in r.proof.paths if p["status"] == "verified"]
    assert any(p["formula"] == "out = inp.amax()" and "amax_kernel_1" in p["kernels"] for p in verified)
    assert all(
        "dim is None" in p["when"] or "len(dim)" in p["when"] or "dim is not None" in p["when"]
        for p in r.proof.paths
    )
    assert any(p["status"] != "verified" and not p["kernels"] for p in r.proof.paths)
