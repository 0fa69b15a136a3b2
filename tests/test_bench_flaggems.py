"""`tritonlift bench flaggems` / `flaggems-33`: the installed FlagGems sources, read from disk (never imported).

Tests that need the package skip when it is not installed (`pip install --no-deps flag-gems==5.0.2`); they use
a few files only. The time-limited job runner is tested on a fake pipeline and runs everywhere.
"""

from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_pipeline import install, make_result
from tritonlift.bench import fgsuite, flaggems, runner
from tritonlift.cli import app
from tritonlift.options import Options

cli = CliRunner()
FILES = ("ops/relu.py", "ops/softmax.py", "ops/topk.py", "ops/rand.py")


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


def jit_names(path: Path) -> list[str]:
    """Every function decorated with *.jit / jit, at any depth: an independent count."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                if getattr(target, "attr", getattr(target, "id", "")) == "jit":
                    out.append(node.name)
    return out


def test_the_package_is_located_without_being_imported(root):
    import sys

    assert "flag_gems" not in sys.modules
    assert (root / "ops" / "softmax.py").is_file()
    files = flaggems.source_files(root)
    assert root / "fused" / "silu_and_mul.py" in files and all("__pycache__" not in f.parts for f in files)


def test_every_jit_function_of_a_file_is_listed_with_a_role(root):
    for rel in FILES:
        entries = flaggems.file_entries(root / rel, root)
        assert sorted(e.name for e in entries) == sorted(jit_names(root / rel)), rel
    roles = {e.name: e for e in flaggems.file_entries(root / "ops/softmax.py", root)}
    assert roles["softmax_kernel_inner"].role == "kernel"
    assert roles["softmax_kernel_inner"].launched_by == ["softmax"]
    assert roles["prev_multiple_of"].role == "helper"
    relu = {e.name: e for e in flaggems.file_entries(root / "ops/relu.py", root)}
    assert relu["relu_forward"].role == "pointwise"
    topk = {e.name: e for e in flaggems.file_entries(root / "ops/topk.py", root)}
    # defined under a module-level `if HAS_TLE:`: read like any module-level function (and out of scope)
    assert topk["topk_kernel_radix_tle"].role == "kernel" and topk["topk_kernel_radix_tle"].scope == "sort"
    assert topk["topk_stage1_kernel"].scope == "sort"
    rand = flaggems.file_entries(root / "ops/rand.py", root)
    assert any(e.scope == "random" for e in rand)


def test_the_33_operators_are_found_in_the_sources(root):
    names = [s.name for s in flaggems.FLAGGEMS_33]
    assert len(names) == len(set(names)) == 33
    for spec in flaggems.FLAGGEMS_33:
        kernels, missing = flaggems.operator_kernels(root, spec)
        assert missing == [], spec.name
        assert kernels, spec.name
    sum_kernels = {k.name for k in flaggems.operator_kernels(root, fgsuite.select_operators(["sum"])[0])[0]}
    assert {"sum_kernel_1", "sum_kernel_2", "sum_dim_kernel_inner"} <= sum_kernels
    mul = flaggems.operator_kernels(root, fgsuite.select_operators(["mul"])[0])[0]
    assert "mul_complex_kernel" not in {k.name for k in mul}  # complex-only: not counted
    rms = flaggems.operator_kernels(root, fgsuite.select_operators(["rms_norm"])[0])[0]
    assert {k.name for k in rms} == {"rms_norm_kernel", "rms_norm_loop_kernel"}  # through RmsNorm.apply


def test_bench_flaggems_reports_every_jit_function(root, tmp_path):
    out = tmp_path / "out"
    args = ["bench", "flaggems", "--only", "ops/relu.py,ops/softmax.py", "--only", "topk"]
    result = cli.invoke(app, [*args, "--jobs", "2", "--timeout", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text())
    assert data["suite"] == "flaggems" and data["package"]["version"] == flaggems.installed_version()
    listed = sorted((op["file"], op["name"]) for op in data["operators"])
    expected = sorted(
        (rel, n) for rel in ("ops/relu.py", "ops/softmax.py", "ops/topk.py") for n in jit_names(root / rel)
    )
    assert listed == expected
    assert data["summary"]["jit_functions"] == len(expected) and data["summary"]["files"] == 3
    for op in data["operators"]:
        assert op["status"] in fgsuite.STATUSES and op["results"]
        if op["status"] != "verified":
            assert op["reason"], op["name"]
    assert data["summary"]["out_of_scope_by_family"].get("sort", 0) >= 5
    assert (
        data["failure_reasons"]
        and data["failure_reasons"][0]["count"] >= data["failure_reasons"][-1]["count"]
    )
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert "softmax_kernel_inner" in text and "relu_forward" in text


def test_bench_flaggems_33_writes_the_operator_table(root, tmp_path):
    out = tmp_path / "out"
    result = cli.invoke(app, ["bench", "flaggems-33", "--only", "relu,sum", "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text())
    assert [op["name"] for op in data["operators"]] == ["relu", "sum"]
    assert set(data["summary"]) >= {"operators", "verified", "seconds", "lifted", "textbook", "kernels"}
    summ = data["operators"][1]
    assert {"sum_kernel_1", "sum_kernel_2"} <= {k["name"] for k in summ["kernels"]}
    assert all(r["name"] for r in summ["results"]) and "textbook" in summ
    assert summ["operator_results"] and summ["operator_results"][0]["kind"] == "operator"
    assert "| relu | ops/relu.py |" in (out / "report.md").read_text()
    assert (out / "report.html").read_text().count('<tbody class="op">') == 2


def test_unknown_flaggems_33_operator_is_a_usage_error(root, tmp_path):
    result = cli.invoke(app, ["bench", "flaggems-33", "--only", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "nope" in result.stderr


# --- the time-limited runner, on a fake pipeline (no FlagGems needed) ------------------------------------


def fake_lift(targets, options=None, op=None, progress=None):
    if op == "slow":
        time.sleep(60)
    if op == "dies":
        os._exit(3)
    if op == "raises":
        raise RuntimeError("boom")
    return [make_result(op or "file", "verified", targets[0])]


def test_run_jobs_survives_timeouts_crashes_and_exceptions(monkeypatch):
    install(monkeypatch)
    from tritonlift import api

    monkeypatch.setattr(api, "lift_paths", fake_lift)
    # forked workers, so that they see the fake (the runner would spawn fresh ones once egglog is imported)
    monkeypatch.setattr(runner, "_job_context", runner._context)
    jobs = [runner.Job(name, "a.py", name) for name in ("ok", "slow", "dies", "raises", "ok2", "ok3", "ok4")]
    started, done = [], []
    t0 = time.monotonic()
    got = runner.run_jobs(jobs, Options(timeout=1.0), workers=2, on_start=started.append, on_done=done.append)
    assert time.monotonic() - t0 < 20
    assert sorted(j.key for j in started) == sorted(j.key for j in done) == sorted(j.key for j in jobs)
    assert [r.status for r in got["ok"]] == ["verified"] and got["ok2"][0].name == "ok2"
    assert got["slow"][0].status == "unknown" and "time limit" in got["slow"][0].message
    assert got["dies"][0].status == "error" and "crashed" in got["dies"][0].message
    assert got["raises"][0].status == "error" and "boom" in got["raises"][0].message


def test_textbook_through_a_verified_operator_result():
    """A stage of a two-kernel operator (partial sums) has no textbook form of its own; the operator's
    verified textbook result covers the kernels it launches, and only those, and only when verified."""
    stage, final = make_result("stage_1", "verified"), make_result("stage_2", "verified")
    stage.formula = "mid[i] = sum(x[i, k] for k in range(minimum(B, M - B * i)))"
    final.formula = "out = mid.sum()"
    op = make_result("full", "verified")
    op.kind, op.kernels, op.formula = "operator", ["stage_1", "stage_2"], "out = x.sum()"
    assert fgsuite.textbook_status([stage, final]) is False
    assert fgsuite.textbook_status([stage, final], [op]) is True
    op.kernels = ["stage_2"]
    assert fgsuite.textbook_status([stage, final], [op]) is False
    op.kernels, op.status = ["stage_1", "stage_2"], "unknown"
    assert fgsuite.textbook_status([stage, final], [op]) is False
    op.status, op.formula = "verified", "out[()] = sum(x[k] for k in range(n))"
    assert fgsuite.textbook_status([stage, final], [op]) is False


def test_conditional_definitions_are_read_and_a_shadowed_one_says_so(tmp_path):
    src = tmp_path / "ops" / "cond.py"
    src.parent.mkdir()
    src.write_text(
        "import triton\nimport triton.language as tl\n\n"
        "if HAS_FAST:\n"
        "    @triton.jit\n"
        "    def k(x_ptr, n):\n"
        "        tl.store(x_ptr, n)\n"
        "else:\n"
        "    @triton.jit\n"
        "    def k(x_ptr, n):\n"
        "        tl.store(x_ptr, n + 1)\n\n"
        "try:\n"
        "    @triton.jit\n"
        "    def t(y_ptr):\n"
        "        tl.store(y_ptr, 1.0)\n"
        "except ImportError:\n"
        "    pass\n\n"
        "def f():\n"
        "    @triton.jit\n"
        "    def inner(z_ptr):\n"
        "        tl.store(z_ptr, 2.0)\n"
    )
    entries = flaggems.file_entries(src, tmp_path)
    roles = [(e.name, e.line, e.role) for e in entries]
    assert roles == [("k", 5, "nested"), ("k", 9, "kernel"), ("t", 14, "kernel"), ("inner", 21, "nested")]
    assert entries[0].nested_in == "shadowed: the definition at line 10 is the one lifted"
    msgs = [fgsuite.entry_results(e, {})[0].message for e in (entries[0], entries[3])]
    assert msgs[0].endswith("cond.py:5: shadowed: the definition at line 10 is the one lifted")
    assert "defined inside `def f:`" in msgs[1]


def test_a_timeout_is_located_at_the_function_it_lifts(tmp_path):
    src = tmp_path / "k.py"
    src.write_text(
        "import triton\n\n\n@triton.jit\ndef slow(x_ptr):\n    pass\n\n\ndef host(x):\n    slow[(1,)](x)\n"
    )
    r = runner.timeout_result(runner.Job("k", str(src), "slow"), 5.0)
    assert (r.status, r.line, r.kind) == ("unknown", 4, "kernel")
    assert r.message == f"{src}:4: slow: no answer within the time limit of 5 s"
    h = runner.timeout_result(runner.Job("h", str(src), "host"), 5.0)
    assert (h.line, h.kind) == (9, "operator")
    assert fgsuite.reason_key(r.to_json()) == "no answer within the time limit"


def test_operator_credit_needs_every_host_path_that_launches_the_kernel_verified():
    """A kernel with no whole-output formula of its own (one of several launches writing one output) counts
    as verified for the operator only when every operator-level host path that launches it is verified."""
    op = make_result("split_mm", "verified")
    op.kind, op.kernels = "operator", ["mm_tiles", "first_wave"]
    assert fgsuite.operator_credit([op]) == {"mm_tiles": "split_mm", "first_wave": "split_mm"}
    # paths recorded: one verified path launches mm_tiles only; another, unknown, launches both
    op.status = "unknown"
    op.proof.paths = [
        {"when": "cooperative == 0", "status": "verified", "formula": "c = a @ b", "kernels": ["mm_tiles"]},
        {"when": "cooperative != 0", "status": "unknown", "formula": "", "kernels": ["first_wave", "mm_tiles"]},
    ]
    assert fgsuite.operator_credit([op]) == {}
    op.proof.paths[1]["kernels"] = ["first_wave"]
    assert fgsuite.operator_credit([op]) == {"mm_tiles": "split_mm"}
    # a path the evaluator could not follow records no kernels: it may launch any of the result's kernels
    op.proof.paths[1]["kernels"] = []
    assert fgsuite.operator_credit([op]) == {}
    # a second host function launching the kernel on a path that is not verified: no credit
    other = make_result("split_mm_out", "refuted")
    other.kind, other.kernels = "operator", ["mm_tiles"]
    op.proof.paths = [op.proof.paths[0]]
    assert fgsuite.operator_credit([op]) == {"mm_tiles": "split_mm"}
    assert fgsuite.operator_credit([op, other]) == {}
    assert fgsuite.operator_credit([]) == {}


def test_operator_item_credits_a_kernel_through_its_operator_and_keeps_its_own_status(tmp_path):
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "split.py").write_text("")
    spec = flaggems.OperatorSpec("split", "ops/split.py", ("split_mm",))
    ks = [flaggems.KernelRef("ops/split.py", "mm_tiles", "kernel"), flaggems.KernelRef("ops/split.py", "wave", "kernel")]
    plan = fgsuite.OperatorPlan(spec, ks, [("ops/split.py", "split_mm")], [])
    tiles, wave = make_result("mm_tiles", "unknown"), make_result("wave", "unknown")
    op = make_result("split_mm", "verified")
    op.kind, op.kernels, op.formula = "operator", ["mm_tiles"], "c = a @ b"
    got = {ks[0].key: [tiles], ks[1].key: [wave], "ops/split.py::split_mm": [op]}
    item = fgsuite.operator_item(plan, got, tmp_path)
    by = {k["name"]: k for k in item["kernels"]}
    assert by["mm_tiles"]["status"] == "verified" and by["mm_tiles"]["kernel_status"] == "unknown"
    assert by["mm_tiles"]["via_operator"] == "split_mm"
    assert by["wave"]["status"] == "unknown" and "via_operator" not in by["wave"]
    assert item["status"] == "unknown"  # wave is launched by no verified path
    op.kernels = ["mm_tiles", "wave"]
    item = fgsuite.operator_item(plan, got, tmp_path)
    assert item["status"] == "verified"
    assert [r["status"] for r in item["results"]] == ["unknown", "unknown"]  # the kernel-level results as they are
