"""Benchmark reports: the JSON report (grouped by operator) and a Markdown table derived from it."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tritonlift
from tritonlift.bench.runner import ModeRun
from tritonlift.result import STAGES, LiftResult

STATUSES = ("verified", "refuted", "unknown", "unsupported", "error")
# An operator's status is its worst result's: a definite failure outranks a missing answer.
WORST_FIRST = ("error", "refuted", "unsupported", "unknown", "verified")


def group_status(statuses: Sequence[str]) -> str:
    """The worst of some statuses (an operator is verified only when all its results are)."""
    return min(statuses, key=WORST_FIRST.index)


def group_operators(results: Sequence[LiftResult]) -> list[dict[str, Any]]:
    """Results grouped by (name, file), in first-seen order."""
    groups: dict[tuple[str, str], list[LiftResult]] = {}
    for r in results:
        groups.setdefault((r.name, r.file), []).append(r)
    return [
        {
            "name": name,
            "file": file,
            "status": group_status([r.status for r in rs]),
            "results": [r.to_json() for r in rs],
        }
        for (name, file), rs in groups.items()
    ]


def summarize(run: ModeRun) -> dict[str, Any]:
    """Counts of operators by status, wall time, and the median time of one lifted thing."""
    counts = {s: 0 for s in STATUSES}
    operators = group_operators(run.results)
    for op in operators:
        counts[op["status"]] += 1
    totals = [r.seconds.get("total", 0.0) for r in run.results]
    from tritonlift.ir.tensor_form import is_textbook_text

    verified = [r for r in run.results if r.status == "verified"]
    simp = sorted(r.seconds.get("simplification", 0.0) for r in verified)
    return {
        "operators": len(operators),
        **counts,
        "textbook": sum(1 for r in verified if is_textbook_text(r.formula)),  # of the verified results
        "simplification_median_seconds": round(statistics.median(simp), 4) if simp else 0.0,
        "simplification_max_seconds": round(simp[-1], 4) if simp else 0.0,
        "results": len(run.results),
        "seconds": round(run.seconds, 3),
        "median_seconds": round(statistics.median(totals), 4) if totals else 0.0,
    }


def build_report(suite: str, runs: Sequence[ModeRun]) -> dict[str, Any]:
    """The report.json object; the first run is the main one, the others (if any) are ablation columns."""
    main = runs[0]
    report: dict[str, Any] = {
        "suite": suite,
        "tool_version": tritonlift.__version__,
        "mode": main.mode,
        "options": main.options.to_json(),
        "summary": summarize(main),
        "operators": group_operators(main.results),
    }
    if len(runs) > 1:
        report["ablations"] = {run.mode: summarize(run) for run in runs}
        report["ablation_options"] = {run.mode: run.options.to_json() for run in runs}
        by_mode = {
            run.mode: {(g["name"], g["file"]): g for g in group_operators(run.results)} for run in runs
        }
        for op in report["operators"]:
            key = (op["name"], op["file"])
            op["ablations"] = {
                mode: _mode_cell(groups[key]) if key in groups else None for mode, groups in by_mode.items()
            }
    return report


def ablation_totals(report: dict[str, Any]) -> dict[str, tuple[int, int, float]]:
    """Per mode: (operators verified, operators, summed seconds of its lifted things)."""
    out: dict[str, tuple[int, int, float]] = {}
    for mode in report.get("ablations", {}):
        cells = [op["ablations"].get(mode) for op in report["operators"]]
        cells = [c for c in cells if c is not None]
        out[mode] = (sum(c["status"] == "verified" for c in cells), len(cells), sum(c["seconds"] for c in cells))
    return out


def _mode_cell(group: dict[str, Any]) -> dict[str, Any]:
    seconds = sum(r["seconds"].get("total", 0.0) for r in group["results"])
    return {"status": group["status"], "seconds": round(seconds, 4)}


def write_reports(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write report.json, report.md and report.html under out_dir (created if needed); returns their paths."""
    from tritonlift.bench.html import render_html

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path, html_path = out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return [json_path, md_path, html_path]


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: a summary, one row per lifted thing, and the ablation columns when there are some."""
    from tritonlift.ir.tensor_form import is_textbook_text

    if report.get("layout") in ("flaggems", "flaggems-33"):
        from tritonlift.bench.fgsuite import render_markdown as render_flaggems

        return render_flaggems(report)
    lines = [f"# tritonlift bench: {report['suite']}", ""]
    lines += [
        f"tritonlift {report['tool_version']}, mode `{report['mode']}`, options: `{_options_line(report)}`",
        "",
    ]
    summaries = report.get("ablations") or {report["mode"]: report["summary"]}
    lines += [*_summary_table(summaries), ""]
    stages = [s for s in STAGES if s != "total"]
    lines += ["## Results", ""]
    lines += _row(
        ["name", "kind", "file:line", "status", "formula", "total s", *[f"{s} s" for s in stages], "textbook"]
    )
    lines += _row(["---"] * (7 + len(stages)))
    for op in report["operators"]:
        for r in op["results"]:
            formula = f"`{r['formula']}`" if r["formula"] else r["message"]
            secs = r["seconds"]
            lines += _row(
                [
                    r["name"],
                    r["kind"],
                    f"{r['file']}:{r['line']}",
                    r["status"],
                    formula,
                    _secs(secs.get("total", 0.0)),
                    *[_secs(secs.get(s, 0.0)) for s in stages],
                    "yes" if is_textbook_text(r["formula"] or "") else "no",
                ]
            )
    if "ablations" in report:
        modes = list(report["ablations"])
        lines += ["", "## Ablations", "", "Status and seconds of each operator in each mode.", ""]
        lines += _row(["name", "file", *modes])
        lines += _row(["---"] * (2 + len(modes)))
        for op in report["operators"]:
            cells = [op["ablations"].get(mode) for mode in modes]
            shown = ["—" if c is None else f"{c['status']} ({_secs(c['seconds'])} s)" for c in cells]
            lines += _row([op["name"], op["file"], *shown])
        totals = ablation_totals(report)
        lines += _row(["**verified / total s**", "",
                       *(f"{totals[m][0]}/{totals[m][1]} ({totals[m][2]:.1f} s)" for m in modes)])
    return "\n".join(lines) + "\n"


def _summary_table(summaries: dict[str, dict[str, Any]]) -> list[str]:
    head = ["mode", "operators", *STATUSES, "wall s", "median s", "textbook"]
    rows = _row(head) + _row(["---"] * len(head))
    for mode, s in summaries.items():
        counts = [str(s[k]) for k in ("operators", *STATUSES)]
        rows += _row(
            [mode, *counts, _secs(s["seconds"]), _secs(s["median_seconds"]), str(s.get("textbook", "—"))]
        )
    return rows


def _options_line(report: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in report["options"].items())


def _secs(value: float) -> str:
    return f"{value:.3f}"


def _row(cells: Sequence[str]) -> list[str]:
    escaped = [str(c).replace("\n", " ").replace("|", "\\|") for c in cells]
    return ["| " + " | ".join(escaped) + " |"]
