"""`tritonlift bench`: suites, report.json and report.md, ablations, parallel runs (on a fake pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tritonlift
from fake_pipeline import install, make_result, write_suite
from tritonlift.bench import report, runner, suites
from tritonlift.cli import app
from tritonlift.errors import InputError
from tritonlift.options import Options

cli = CliRunner()
SUITE = {
    "add.py": "add verified\nadd_kernel verified",
    "cut.py": "cut refuted",
    "odd.py": "odd unsupported\nslow unknown",
    "nested/bad.py": "bad error",
}


@pytest.fixture
def calls(monkeypatch):
    return install(monkeypatch)


def bench(*args: str):
    return cli.invoke(app, ["bench", *args])


def test_bench_writes_both_reports_with_the_right_counts(tmp_path, calls):
    suite = write_suite(tmp_path / "suite", SUITE)
    out = tmp_path / "out"
    result = bench(str(suite), "--out", str(out))
    assert result.exit_code == 0, result.output  # completed, whatever the statuses
    data = json.loads((out / "report.json").read_text())
    assert data["suite"] == str(suite)
    assert data["tool_version"] == tritonlift.__version__
    assert data["options"] == Options().to_json()
    summary = data["summary"]
    counts = {k: summary[k] for k in ("operators", "verified", "refuted", "unknown", "unsupported", "error")}
    assert counts == {"operators": 6, "verified": 2, "refuted": 1, "unknown": 1, "unsupported": 1, "error": 1}
    assert summary["median_seconds"] == 0.5 and summary["seconds"] >= 0
    assert [op["name"] for op in data["operators"]] == ["add", "add_kernel", "cut", "bad", "odd", "slow"]
    assert (
        data["operators"][2]["results"][0]["counterexample"]["reason"] == "the mask drops elements past 2^20"
    )
    assert "ablations" not in data

    md = (out / "report.md").read_text()
    assert "| mode | operators | verified | refuted | unknown | unsupported | error |" in md
    assert f"| cut | kernel | {suite / 'cut.py'}:1 | refuted | `out[i] = x[i] + y[i]  # cut` | 0.500 |" in md
    assert "tl.atomic_add is not supported" in md
    assert "verified" in result.stdout and "report.json" in result.stdout


def test_bench_on_a_suite_name_uses_the_repository_examples(tmp_path, calls):
    result = bench("examples", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert calls, "the pipeline was called"
    examples = Path(tritonlift.__file__).resolve().parents[2] / "examples"
    assert all(Path(t).is_relative_to(examples) for targets, _options, _op in calls for t in targets)


def test_resolve_suite(tmp_path):
    assert suites.resolve_suite("examples").targets == (str(suites.examples_dir()),)
    assert suites.resolve_suite(str(tmp_path)).targets == (str(tmp_path),)
    with pytest.raises(InputError, match="unknown suite"):
        suites.resolve_suite(str(tmp_path / "nope"))


def test_unknown_suite_exits_2(tmp_path, calls):
    result = bench(str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "unknown suite" in result.stderr
    assert not (tmp_path / "out").exists()


def test_ablations_give_one_summary_per_mode(tmp_path, calls):
    suite = write_suite(tmp_path / "suite", SUITE)
    out = tmp_path / "out"
    result = bench(str(suite), "--out", str(out), "--ablations")
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text())
    modes = ["default", "no-topdown", "no-prune", "no-invariant-patterns", "baseline"]
    assert list(data["ablations"]) == modes
    assert all(s["operators"] == 6 and s["verified"] == 2 for s in data["ablations"].values())
    assert data["operators"][0]["ablations"]["baseline"] == {"status": "verified", "seconds": 0.5}
    # every mode really ran with its own switch
    seen = {runner.mode_name(options) for _targets, options, _op in calls}
    assert seen == set(modes)
    md = (out / "report.md").read_text()
    assert "| name | file | default | no-topdown | no-prune | no-invariant-patterns | baseline |" in md
    for mode in modes:
        assert mode in result.stdout
    # the side-by-side table ends with verified operators / operators and summed seconds per mode
    totals = report.ablation_totals(data)
    assert set(totals) == set(modes) and all(v == 2 and n == 6 for v, n, _t in totals.values())
    assert md.count("2/6") == len(modes) and "verified / total s" in md and "verified / total s" in result.stdout


def test_a_single_ablation_flag_names_the_mode(tmp_path, calls):
    suite = write_suite(tmp_path / "suite", {"a.py": "add verified"})
    assert bench(str(suite), "--out", str(tmp_path / "out"), "--no-prune").exit_code == 0
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["mode"] == "no-prune" and data["options"]["prune"] is False


def test_bench_survives_crashes_with_jobs(tmp_path, calls):
    suite = write_suite(tmp_path / "suite", {**SUITE, "boom.py": "x crash", "dead.py": "y die"})
    out = tmp_path / "out"
    result = bench(str(suite), "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text())
    assert data["summary"]["error"] == 3 and data["summary"]["verified"] == 2
    statuses = {op["name"]: op["status"] for op in data["operators"]}
    assert statuses["boom"] == statuses["dead"] == "error"


def test_bench_in_one_process_survives_an_exception(tmp_path, calls):
    suite = write_suite(tmp_path / "suite", {"a.py": "add verified", "boom.py": "x crash"})
    assert bench(str(suite), "--out", str(tmp_path / "out")).exit_code == 0
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["summary"]["verified"] == 1 and data["summary"]["error"] == 1


def test_an_operator_is_as_good_as_its_worst_result():
    results = [
        make_result("softmax", "verified"),
        make_result("softmax", "unknown"),
        make_result("add", "verified"),
    ]
    groups = report.group_operators(results)
    assert [(g["name"], g["status"], len(g["results"])) for g in groups] == [
        ("softmax", "unknown", 2),
        ("add", "verified", 1),
    ]
    assert report.group_status(["verified", "refuted", "error"]) == "error"


def test_mode_names_and_ablation_modes():
    assert runner.mode_name(Options()) == "default"
    assert runner.mode_name(Options(baseline=True)) == "baseline"
    assert runner.mode_name(Options(topdown=False, prune=False)) == "no-topdown+no-prune"
    modes = dict(runner.ablation_modes(Options(timeout=3.0)))
    assert modes["no-invariant-patterns"] == Options(timeout=3.0, invariant_patterns=False)
    assert all(options.timeout == 3.0 for options in modes.values())


def test_markdown_escapes_pipes_and_newlines():
    ok = make_result("or", "verified")
    ok.formula = "out[i] = a[i] | b[i]"
    odd = make_result("odd", "unknown")
    odd.message = "two\nlines"
    run = runner.ModeRun("default", Options(), [ok, odd], 1.0)
    md = report.render_markdown(report.build_report("s", [run]))
    assert "`out[i] = a[i] \\| b[i]`" in md
    assert "| two lines |" in md
