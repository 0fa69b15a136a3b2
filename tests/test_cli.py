"""The `tritonlift lift` command line: exit statuses, table, JSON, flags, parallel runs (on a fake pipeline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tritonlift
from fake_pipeline import install, write_suite
from tritonlift.bench import runner
from tritonlift.cli import app

ROOT = Path(__file__).resolve().parents[1]
cli = CliRunner()


@pytest.fixture
def calls(monkeypatch):
    return install(monkeypatch)


def lift(*args: str):
    return cli.invoke(app, ["lift", *args])


def test_all_verified_exits_0_and_shows_a_table(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified\nmul verified", "sub/b.py": "neg verified"})
    result = lift(str(tmp_path))
    assert result.exit_code == 0, result.output
    for word in ("add", "mul", "neg", "verified", "out[i] = x[i] + y[i]", "x.ndim == 1"):
        assert word in result.stdout
    assert "3 results: 3 verified" in result.stdout


def test_one_refuted_exits_1_and_shows_the_counterexample(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified\ncut refuted"})
    result = lift(str(tmp_path))
    assert result.exit_code == 1
    out = result.stdout
    assert "refuted" in out and "the mask drops elements past 2^20" in out
    assert "n_elements=1048577" in out and "i=1048576" in out and "x[1048576]=0.5" in out
    assert "not written" in out and "1.5" in out


@pytest.mark.parametrize("status", ["unknown", "unsupported"])
def test_not_verified_exits_1_with_its_message(tmp_path, calls, status):
    write_suite(tmp_path, {"a.py": f"add verified\nodd {status}"})
    result = lift(str(tmp_path))
    assert result.exit_code == 1
    if status == "unsupported":
        assert f"{tmp_path / 'a.py'}:2: tl.atomic_add is not supported" in result.stdout
    else:
        assert "no proof within 60 s" in result.stdout


def test_an_error_result_exits_2_even_beside_refuted(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "cut refuted", "b.py": "bad error"})
    result = lift(str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'b.py'}:1: invalid syntax" in result.stdout


def test_missing_file_is_an_error_result(tmp_path, calls):
    result = lift(str(tmp_path / "nope.py"))
    assert result.exit_code == 2


def test_no_kernels_found_exits_1(tmp_path, calls):
    result = lift(str(tmp_path))
    assert result.exit_code == 1
    assert "no kernels found" in result.stderr


def test_op_filters_and_reports_when_nothing_matches(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified\ncut refuted"})
    assert lift(str(tmp_path), "--op", "add").exit_code == 0
    assert calls[-1][2] == "add"
    missing = lift(str(tmp_path), "--op", "nothing")
    assert missing.exit_code == 1
    assert "no kernels found named 'nothing'" in missing.stderr


def test_json_is_the_only_stdout_and_has_the_contract_fields(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified\ncut refuted\nodd unsupported"})
    result = lift(str(tmp_path), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["tool"] == "tritonlift"
    assert payload["version"] == tritonlift.__version__
    assert payload["options"]["timeout"] == 60.0
    assert [r["name"] for r in payload["results"]] == ["add", "cut", "odd"]
    assert [r["status"] for r in payload["results"]] == ["verified", "refuted", "unsupported"]
    first = payload["results"][0]
    for field in (
        "name",
        "kind",
        "file",
        "line",
        "kernels",
        "status",
        "formula",
        "formula_raw",
        "latex",
        "torch",
    ):
        assert field in first
    for field in ("assumptions", "counterexample", "message", "seconds", "proof"):
        assert field in first
    assert payload["results"][1]["counterexample"]["reason"] == "the mask drops elements past 2^20"


def test_json_with_no_results(tmp_path, calls):
    result = lift(str(tmp_path), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["results"] == []


def test_flags_become_options(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified"})
    args = ["--timeout", "5", "--expect", "out[i] = x[i]", "--no-simplify", "--no-topdown", "--no-prune"]
    assert lift(str(tmp_path / "a.py"), *args, "--no-invariant-patterns", "--baseline").exit_code == 0
    targets, options, op = calls[-1]
    assert targets == [str(tmp_path / "a.py")] and op is None
    assert options.timeout == 5.0 and options.expect == "out[i] = x[i]"
    assert (options.simplify, options.topdown, options.prune, options.invariant_patterns) == (False,) * 4
    assert options.baseline is True


def test_default_options(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add verified"})
    lift(str(tmp_path))
    assert calls[-1][1] == tritonlift.options.Options()


@pytest.mark.parametrize(
    "args",
    [[], ["x.py", "--timeout", "0"], ["x.py", "--jobs", "0"], ["x.py", "--no-such-flag"]],
)
def test_usage_errors_exit_2(calls, args):
    result = lift(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_an_internal_crash_is_an_error_result_and_the_other_files_are_lifted(tmp_path, calls):
    write_suite(tmp_path, {"a.py": "add crash", "b.py": "mul verified"})
    result = lift(str(tmp_path), "--json")
    assert result.exit_code == 2
    got = [(r["name"], r["status"], r["message"]) for r in json.loads(result.stdout)["results"]]
    assert got == [
        ("a", "error", f"{tmp_path / 'a.py'}: internal error: RuntimeError: boom in add"),
        ("mul", "verified", ""),
    ]
    assert "Traceback" not in result.output


def test_an_exception_outside_the_pipeline_is_one_line_and_exit_2(monkeypatch):
    def broken(*_args, **_kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(runner, "expand_targets", broken)
    result = lift("x.py")
    assert result.exit_code == 2
    assert result.stderr == "tritonlift: error: internal error: OSError: disk on fire\n"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [[], ["lift"], ["bench"]])
def test_help_on_every_command(command):
    result = cli.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_jobs_keeps_order_and_isolates_crashes(tmp_path, calls):
    files = {
        "a.py": "a1 verified\na2 verified",
        "b.py": "b1 crash",
        "c.py": "c1 die",
        "d/e.py": "e1 verified",
        "f.py": "f1 refuted",
    }
    write_suite(tmp_path, files)
    result = lift(str(tmp_path), "--jobs", "2", "--json")
    assert result.exit_code == 2
    got = [(r["name"], r["status"]) for r in json.loads(result.stdout)["results"]]
    assert got == [
        ("a1", "verified"),
        ("a2", "verified"),
        ("b", "error"),
        ("c", "error"),
        ("e1", "verified"),
        ("f1", "refuted"),
    ]
    messages = {r["name"]: r["message"] for r in json.loads(result.stdout)["results"]}
    assert messages["b"] == f"{tmp_path / 'b.py'}: internal error: RuntimeError: boom in b1"
    assert messages["c"] == f"{tmp_path / 'c.py'}: the worker process crashed"


def test_jobs_gives_the_same_results_as_one_process(tmp_path, calls):
    write_suite(tmp_path, {f"m{i}.py": f"k{i} verified\nr{i} refuted" for i in range(5)})
    serial = json.loads(lift(str(tmp_path), "--json").stdout)["results"]
    parallel = json.loads(lift(str(tmp_path), "--json", "-j", "3").stdout)["results"]
    assert parallel == serial


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "tritonlift", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"tritonlift {tritonlift.__version__}"


def test_ci_runs_exactly_the_two_quick_start_commands():
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--print-commands"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    commands = done.stdout.splitlines()
    assert commands == [
        'python -m pip install -e ".[test]" && python -m pip install --no-deps flag-gems==5.0.2 && tritonlift bench examples && tritonlift bench flaggems-33 --jobs 2 --out bench-out/flaggems-33',
        "python -m pytest -n 2",
    ]


def test_ci_refuses_a_quick_start_block_of_three_lines(tmp_path):
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text((ROOT / ".ci" / "run").read_text())
    readme = "# t\n\n## Quick start\n\n```\necho one\necho two\necho three\n```\n\n## Next\n\n```\nx\n```\n"
    (tmp_path / "README.md").write_text(readme)
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run"), "--print-commands"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "exactly two lines" in done.stderr
