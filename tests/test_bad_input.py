"""Bad input: one-line messages with file:line, the right statuses and exit codes, never a traceback.

Files in tests/data/: syntax_error.py, no_kernels.py, histogram.py (the value tl.atomic_add returns), dropout.py
(tl.rand), mixed.py (a supported kernel next to one using the value tl.atomic_add returns). Lines marked `# UNSUPPORTED` hold the
construct the message must point at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import interp

DATA = interp.ROOT / "tests" / "data"
UNSUPPORTED_FILES = {"histogram.py": "atomic_add", "dropout.py": "rand"}


def marked_line(path: Path) -> int:
    """The line number of the one `# UNSUPPORTED` line."""
    lines = [i for i, text in enumerate(path.read_text().splitlines(), 1) if "# UNSUPPORTED" in text]
    assert len(lines) == 1, f"{path.name}: mark exactly one line"
    return lines[0]


def syntax_error_line(path: Path) -> int:
    try:
        compile(path.read_text(), str(path), "exec")
    except SyntaxError as e:
        assert e.lineno is not None
        return e.lineno
    raise AssertionError(f"{path.name} has no syntax error")


def locates(message: str, path: Path, line: int) -> bool:
    return re.search(rf"{re.escape(path.name)}:{line}\b", message) is not None


def names_construct(message: str, path: Path, construct: str) -> bool:
    """The construct is named in the message itself, not merely in the file's name."""
    return re.search(rf"\b{construct}\b", message.replace(str(path), "").replace(path.name, "")) is not None


def lift(path: Path):
    return interp.lift_cached(path)


def test_syntax_error_is_one_error_result():
    path = DATA / "syntax_error.py"
    results = lift(path)
    assert len(results) == 1, interp.summary(results)
    r = results[0]
    assert r.status == "error"
    assert "\n" not in r.message.strip(), f"one line, got {r.message!r}"
    line = syntax_error_line(path)
    assert re.match(rf"^\S*{re.escape(path.name)}:{line}: \S", r.message), (
        f"expected 'FILE:{line}: ...', got {r.message!r}"
    )


def test_missing_file_is_an_error():
    path = DATA / "no_such_file.py"
    results = interp.lift_cached(path)
    assert [r.status for r in results] == ["error"], interp.summary(results)
    assert "no_such_file.py" in results[0].message and "\n" not in results[0].message.strip()


def test_no_kernels_gives_no_results():
    assert list(lift(DATA / "no_kernels.py")) == []


@pytest.mark.parametrize("name", sorted(UNSUPPORTED_FILES), ids=lambda n: n.removesuffix(".py"))
def test_unsupported_construct_is_located(name: str):
    path = DATA / name
    construct = UNSUPPORTED_FILES[name]
    results = lift(path)
    assert results, f"{name}: no results"
    line = marked_line(path)
    kernels = [r for r in results if r.kind == "kernel"]
    assert kernels, f"{name}: no kernel result: {interp.summary(results)}"
    for r in results:
        assert r.status == "unsupported", f"{r.kind} {r.name}: {r.status} {r.message}"
        assert "\n" not in r.message.strip()
        assert locates(r.message, path, line), f"{r.name}: the message must name {name}:{line}: {r.message!r}"
        assert names_construct(r.message, path, construct), f"{r.name}: name {construct}: {r.message!r}"


def test_mixed_file_lifts_the_good_kernel():
    path = DATA / "mixed.py"
    results = lift(path)
    line = marked_line(path)
    for name in ("double_kernel", "double"):
        r = interp.result_named(results, name)
        assert r.status == "verified", f"{name}: {r.status} {r.message}"
    for name in ("accumulate_kernel", "accumulate_"):
        r = interp.result_named(results, name)
        assert r.status == "unsupported", f"{name}: {r.status} {r.message}"
        assert locates(r.message, path, line), f"{name}: the message must name mixed.py:{line}: {r.message!r}"
        assert names_construct(r.message, path, "atomic_add"), f"{name}: name atomic_add: {r.message!r}"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tritonlift", "lift", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=interp.cli_env(),
        cwd=interp.ROOT,
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [("syntax_error.py", 2), ("no_such_file.py", 2), ("histogram.py", 1), ("dropout.py", 1), ("mixed.py", 1)],
    ids=["syntax_error", "missing", "atomic_add", "rand", "mixed"],
)
def test_cli_exit_status(name: str, code: int):
    proc = run_cli(str(DATA / name))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\n{proc.stdout}\n{proc.stderr}"


def test_cli_json_for_a_syntax_error():
    path = DATA / "syntax_error.py"
    proc = run_cli("--json", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["tool"] == "tritonlift"
    [entry] = report["results"]
    assert entry["status"] == "error"
    assert f"{path.name}:{syntax_error_line(path)}:" in entry["message"]
