"""End to end: every example lifts to verified formulas whose `torch` code does what the kernels do.

The lifted `torch` field is compared against Triton's interpreter running the example itself:
- an operator's function is called with the host's arguments and must return what the host returns;
- a kernel's function is called with the very arguments the host passed at launch (tensors for pointers,
  numbers for the rest, constexprs included, as autotune/heuristics chose them; grid = the host's grid) and
  must leave every tensor argument's storage as the kernel left it. A kernel whose domain only the grid
  fixes (one program per row) may take the grid as a trailing `grid` parameter (a 3-tuple).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import interp
from tritonlift.bench.fgsuite import operator_credit

EXAMPLES = interp.example_paths()
HOSTS = interp.host_cases()
KERNELS = interp.kernel_cases()
LIFT_RTOL = 1e-4  # the lifted formula may be simplified (x * sigmoid(x) for x / (1 + exp(-x)))
LIFT_ATOL = 1e-5


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_lifts_verified(path: Path):
    results = interp.lift_cached(path)
    assert results, f"{path.name}: no results"
    credited = operator_credit([r for r in results if r.kind == "operator"])
    for r in results:
        if r.kind == "kernel" and r.status != "verified" and r.name in credited:
            continue  # one of several launches writing an output: no whole-output formula of its own (below)
        if r.kind in ("operator", "kernel"):
            assert r.status == "verified", f"{r.kind} {r.name}: {r.status}: {r.message}"
            assert r.formula.strip(), f"{r.name}: empty formula"
            assert "\n" not in r.formula, f"{r.name}: the formula is one line"
            assert r.counterexample is None
    hosts = interp.launches_by_host(path)
    for host, kernels in hosts.items():
        r = interp.result_named(results, host)
        assert r.kind == "operator"
        assert set(r.kernels) == set(kernels), f"{host}: kernels {r.kernels} != launched {kernels}"
        assert interp.torch_signature(r) == (
            interp.function_params(path, host),
            interp.function_defaults(path, host),
        ), f"{host}: the torch function must take the host's parameters, same order and defaults:\n{r.torch}"
    for kernel in {k for ks in hosts.values() for k in ks}:
        r = interp.result_named(results, kernel)
        assert r.kind == "kernel"
        if r.status != "verified":
            continue  # credited through its operator (above): no torch code of its own
        params, _ = interp.torch_signature(r)
        kernel_params = interp.function_params(path, kernel)
        assert params in (kernel_params, [*kernel_params, "grid"]), f"{kernel}: parameters differ:\n{r.torch}"


def _verified(path: Path, name: str):
    r = interp.result_named(interp.lift_cached(path), name)
    if r.status != "verified":
        pytest.fail(f"{r.kind} {name} is {r.status}: {r.message}")
    return r


@pytest.mark.parametrize(("path", "host"), HOSTS, ids=[interp.case_id(p, h) for p, h in HOSTS])
@settings(max_examples=8, deadline=None, phases=interp.PHASES)
@given(data=st.data())
def test_operator_torch_matches_interpreter(path: Path, host: str, data: st.DataObject):
    lifted = interp.exec_torch(_verified(path, host))
    module = interp.load_module(path)
    args = interp.make_inputs(interp.input_specs(module, host), interp.HypothesisChooser(data))
    expected, _ = interp.run_host(module, host, args)
    with interp.nan_uninitialized():
        actual = lifted(*interp.clone_args(args).values())
    interp.assert_same(actual, expected, f"lifted {host}({interp.describe(args)})", LIFT_RTOL, LIFT_ATOL)


@pytest.mark.parametrize(
    ("path", "kernel", "host"), KERNELS, ids=[interp.case_id(p, k) for p, k, _ in KERNELS]
)
@settings(max_examples=8, deadline=None, phases=interp.PHASES)
@given(data=st.data())
def test_kernel_torch_matches_interpreter(path: Path, kernel: str, host: str, data: st.DataObject):
    results = interp.lift_cached(path)
    r = interp.result_named(results, kernel)
    if r.status != "verified" and kernel in operator_credit([x for x in results if x.kind == "operator"]):
        pytest.skip(f"{kernel} writes part of its output by design; every host path launching it is verified")
    result = _verified(path, kernel)
    lifted = interp.exec_torch(result)
    module = interp.load_module(path)
    args = interp.make_inputs(interp.input_specs(module, host), interp.HypothesisChooser(data))
    _, launches = interp.run_host(module, host, args)
    mine = [launch for launch in launches if launch.kernel == kernel]
    assert mine, f"{host} did not launch {kernel}"
    for launch in mine:
        given_args = interp.clone_args(launch.before)
        # a kernel whose domain is set by the grid alone (one program per row) may take it as `grid=`
        extra = {"grid": launch.grid} if "grid" in inspect.signature(lifted).parameters else {}
        with interp.nan_uninitialized():
            lifted(*(given_args[name] for name in launch.arg_names), **extra)
        scalars = {k: v for k, v in launch.before.items() if not isinstance(v, torch.Tensor)}
        for name, after in launch.after.items():
            if isinstance(after, torch.Tensor):
                interp.assert_same(
                    interp.storage_view(given_args[name]),
                    interp.storage_view(after),
                    f"lifted {kernel}: memory of {name} (grid {launch.grid}, {scalars}, "
                    f"assumptions {result.assumptions})",
                    LIFT_RTOL,
                    LIFT_ATOL,
                )


def test_cli_prints_verified_for_an_example():
    path = interp.EXAMPLES / "vector_add.py"
    proc = subprocess.run(
        [sys.executable, "-m", "tritonlift", "lift", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=interp.cli_env(),
        cwd=interp.ROOT,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verified" in proc.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_shown_formula_reads_back_and_verifies(path: Path):
    """The simplified, whole-tensor formula as shown (views inline, named operators) is itself a formula
    `--expect` accepts, and the kernel is proved equal to it: the shown text says what was proved."""
    for r in interp.lift_cached(path):
        if r.kind not in ("operator", "kernel") or r.status != "verified":
            continue
        again = interp.result_named(interp.lift_cached(path, r.name, r.formula), r.name)
        assert again.status == "verified", f"{r.name}: --expect {r.formula!r}: {again.status}: {again.message}"
