"""The FlagGems suites: `flaggems` (every jit function of the package, by file) and `flaggems-33` (the 33
operators). Both run one job per lifted thing through the runner's time-limited processes and produce the
report object that `report.write_reports` writes (report.json, report.md, report.html)."""

from __future__ import annotations

import fnmatch
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tritonlift
from tritonlift.bench import flaggems as fg
from tritonlift.bench.report import STATUSES, group_status
from tritonlift.bench.runner import Job, JobEvent, run_jobs
from tritonlift.options import Options
from tritonlift.result import STAGES, LiftResult

SUITES = ("flaggems", "flaggems-33")
OUT_OF_SCOPE = {
    "random": "random numbers (tl.rand*/philox): no deterministic formula",
    "atomics": ("order-dependent atomics (tl.atomic_xchg/cas spin locks, bitwise atomics, the old value an atomic "
                "returns): the result depends on the order of concurrent updates; tl.atomic_add/max/min are in scope"),
    "sort": "sort/top-k/unique family: data-dependent permutations",
}
POINTWISE_TODO = "@pointwise_dynamic scalar body: the pipeline returned no result for it"
NESTED_TODO = (
    "jit function defined inside `{where}`: the front end reads module-level functions (and those under a "
    "module-level if/try) only"
)


@dataclass
class ModeResults:
    """One pass of a suite in one mode: results by job key, and the wall time."""

    mode: str
    options: Options
    results: dict[str, list[LiftResult]]
    seconds: float


# ---------------------------------------------------------------------------------------------------------
# Jobs


def select_files(root: Path, only: Sequence[str] = ()) -> list[Path]:
    """The package's source files, or those matching one of `only` (relative paths, globs or file stems)."""
    files = fg.source_files(root)
    if not only:
        return files

    def wanted(p: Path) -> bool:
        rel = p.relative_to(root).as_posix()
        return any(fnmatch.fnmatch(rel, pat) or rel == pat or p.stem == pat for pat in only)

    return [p for p in files if wanted(p)]


def all_jobs(entries: Sequence[fg.JitEntry]) -> list[Job]:
    """One job per kernel and pointwise function; helpers and nested functions get their status without one."""
    return [Job(e.key, e.path, e.name, e.key) for e in entries if e.role in ("kernel", "pointwise")]


def select_operators(only: Sequence[str] = ()) -> list[fg.OperatorSpec]:
    if not only:
        return list(fg.FLAGGEMS_33)
    specs = [s for s in fg.FLAGGEMS_33 if s.name in only]
    unknown = set(only) - {s.name for s in specs}
    if unknown:
        from tritonlift.errors import InputError

        raise InputError(f"not flaggems-33 operators: {', '.join(sorted(unknown))}")
    return specs


@dataclass
class OperatorPlan:
    spec: fg.OperatorSpec
    kernels: list[fg.KernelRef]
    hosts: list[tuple[str, str]]  # (file, host function): the functions that launch, lifted operator-level
    missing: list[str]


def plan_operators(root: Path, specs: Sequence[fg.OperatorSpec]) -> list[OperatorPlan]:
    plans = []
    for spec in specs:
        kernels, missing = fg.operator_kernels(root, spec)
        hosts: list[tuple[str, str]] = []
        for k in kernels:
            # a kernel's launching function is lifted operator-level (the host evaluator reads one function);
            # a pointwise function's caller is lifted from the operator's own host function, whose same-file
            # calls the pointwise host lifter evaluates inline (symbolic/host_pointwise.py)
            if k.kind == "kernel" and k.via and "." not in k.via[-1]:
                host = (k.host_file, k.via[-1])
            elif k.kind == "pointwise" and k.via:
                host = (spec.file, k.via[0])
            else:
                continue
            if host not in hosts:
                hosts.append(host)
        plans.append(OperatorPlan(spec, kernels, hosts, missing))
    return plans


def operator_jobs(root: Path, plans: Sequence[OperatorPlan]) -> list[Job]:
    jobs: dict[str, Job] = {}
    for plan in plans:
        for k in plan.kernels:
            jobs.setdefault(k.key, Job(k.key, str(root / k.file), k.name, k.key))
        for file, host in plan.hosts:
            key = f"{file}::{host}"
            jobs.setdefault(key, Job(key, str(root / file), host, f"{key} (operator)"))
    return list(jobs.values())


def run_suite_modes(
    jobs: Sequence[Job],
    modes: Sequence[tuple[str, Options]],
    workers: int,
    on_start: JobEvent | None = None,
    on_done: JobEvent | None = None,
) -> list[ModeResults]:
    runs = []
    for mode, options in modes:
        start = time.perf_counter()
        results = run_jobs(jobs, options, workers, options.timeout, on_start, on_done)
        runs.append(ModeResults(mode, options, results, time.perf_counter() - start))
    return runs


# ---------------------------------------------------------------------------------------------------------
# Results of one entry


_LOCATION = re.compile(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+):\s*")


def split_location(message: str) -> tuple[str, str]:
    """`/x/ops/a.py:12: tl.foo is not modelled` -> ("/x/ops/a.py:12", "tl.foo is not modelled")."""
    one = " ".join(message.split())
    m = _LOCATION.match(one)
    if m:
        return f"{m['file']}:{m['line']}", one[m.end() :]
    return "", one


def short_location(location: str, root: Path | None) -> str:
    if root is not None and location.startswith(str(root) + "/"):
        return location[len(str(root)) + 1 :]
    return location


def reason_of(results: Sequence[LiftResult], root: Path | None = None) -> str:
    """The one-line reason of the first result that is not verified (empty when all are), with paths shown
    relative to the package root."""
    for r in results:
        if r.status != "verified":
            text = " ".join(r.message.split()) or r.status
            return text.replace(f"{root}/", "") if root is not None else text
    return ""


def _synthetic(entry: fg.JitEntry, status: str, message: str, kind: str = "kernel") -> LiftResult:
    return LiftResult(
        name=entry.name,
        kind=kind,  # type: ignore[arg-type]
        file=entry.path,
        line=entry.line,
        kernels=[entry.name],
        status=status,  # type: ignore[arg-type]
        message=message,
    )


def entry_results(entry: fg.JitEntry, got: dict[str, list[LiftResult]]) -> list[LiftResult]:
    """The pipeline's results for a kernel or pointwise function, or a stand-in saying why there is none."""
    results = [r for r in got.get(entry.key, []) if r.name == entry.name or r.status == "error"]
    if results:
        return results
    if entry.role == "pointwise":
        return [_synthetic(entry, "unsupported", f"{entry.path}:{entry.line}: {POINTWISE_TODO}", "pointwise")]
    if entry.role == "nested":
        if entry.nested_in.startswith("shadowed:"):
            return [_synthetic(entry, "unsupported", f"{entry.path}:{entry.line}: {entry.nested_in}")]
        where = entry.nested_in.split(" (line")[0]
        return [
            _synthetic(entry, "unsupported", f"{entry.path}:{entry.line}: {NESTED_TODO.format(where=where)}")
        ]
    return [
        _synthetic(
            entry, "error", f"{entry.path}:{entry.line}: the pipeline returned no result for {entry.name}"
        )
    ]


def helper_statuses(entries: Sequence[fg.JitEntry], status: dict[str, str]) -> dict[str, tuple[str, str]]:
    """A helper's status is the worst status of the jit functions it is inlined into (transitively)."""
    by_key = {e.key: e for e in entries}
    out: dict[str, tuple[str, str]] = {}

    def resolve(e: fg.JitEntry, stack: tuple[str, ...]) -> str:
        if e.key in status:
            return status[e.key]
        if e.key in out:
            return out[e.key][0]
        if e.key in stack:
            return "unknown"
        users = [by_key.get(f"{e.file}::{u}") for u in e.used_by]
        parts = [(u.name, resolve(u, (*stack, e.key))) for u in users if u is not None]
        if not parts:
            out[e.key] = ("unknown", "helper, not used by any jit function of its file")
            return "unknown"
        s = group_status([p[1] for p in parts])
        out[e.key] = (s, "helper, inlined into " + ", ".join(f"{n} ({st})" for n, st in parts))
        return s

    for e in entries:
        if e.role == "helper":
            resolve(e, ())
    return out


# ---------------------------------------------------------------------------------------------------------
# The `flaggems` report


def _total(results: Sequence[LiftResult]) -> float:
    return sum(r.seconds.get("total", 0.0) for r in results)


def all_entries_for_mode(
    entries: Sequence[fg.JitEntry], run: ModeResults, root: Path | None = None
) -> list[dict[str, Any]]:
    per: dict[str, list[LiftResult]] = {}
    status: dict[str, str] = {}
    for e in entries:
        if e.role != "helper":
            per[e.key] = entry_results(e, run.results)
            status[e.key] = group_status([r.status for r in per[e.key]])
    helpers = helper_statuses(entries, status)
    out = []
    for e in entries:
        if e.role == "helper":
            s, why = helpers[e.key]
            results = [_synthetic(e, s, why)]
            reason = why
        else:
            results = per[e.key]
            s = status[e.key]
            reason = reason_of(results, root)
        out.append(
            {
                "name": e.name,
                "file": e.file,
                "line": e.line,
                "role": e.role,
                "status": s,
                "reason": reason,
                "scope": e.scope,
                "scope_reason": e.scope_reason,
                "launched_by": e.launched_by,
                "used_by": e.used_by,
                "results": [r.to_json() for r in results],
            }
        )
    return out


def _counts(items: Sequence[dict[str, Any]]) -> dict[str, int]:
    c = Counter(i["status"] for i in items)
    return {s: c.get(s, 0) for s in STATUSES}


def _summary(items: Sequence[dict[str, Any]], seconds: float, extra: dict[str, Any]) -> dict[str, Any]:
    totals = [
        r["seconds"].get("total", 0.0) for i in items for r in i["results"] if r["seconds"].get("total")
    ]
    return {
        "operators": len(items),
        **_counts(items),
        "results": sum(len(i["results"]) for i in items),
        "seconds": round(seconds, 3),
        "median_seconds": round(statistics.median(totals), 4) if totals else 0.0,
        **extra,
    }


def build_all_report(
    root: Path,
    entries: Sequence[fg.JitEntry],
    runs: Sequence[ModeResults],
    unreadable: Sequence[str] = (),
    files_scanned: int | None = None,
) -> dict[str, Any]:
    per_mode = {run.mode: all_entries_for_mode(entries, run, root) for run in runs}
    main = runs[0]
    items = per_mode[main.mode]
    files = sorted({e.file for e in entries})
    if files_scanned is None:
        files_scanned = len(files)

    def summary_of(its: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
        return _summary(
            its,
            seconds,
            {
                "jit_functions": len(its),
                "files": len(files),  # files with at least one jit function
                "files_scanned": files_scanned,
                "roles": dict(Counter(i["role"] for i in its)),
                "out_of_scope": sum(1 for i in its if i["scope"]),
                "out_of_scope_by_family": dict(Counter(i["scope"] for i in its if i["scope"])),
                "in_scope_verified": sum(1 for i in its if not i["scope"] and i["status"] == "verified"),
            },
        )

    report: dict[str, Any] = {
        "suite": "flaggems",
        "layout": "flaggems",
        "tool_version": tritonlift.__version__,
        "mode": main.mode,
        "options": main.options.to_json(),
        "package": {
            "name": fg.DISTRIBUTION,
            "version": fg.installed_version(),
            "root": str(root),
            "subpackages": list(fg.SUBPACKAGES),
            "left_out": fg.LEFT_OUT,
        },
        "summary": summary_of(items, main.seconds),
        "files": [
            {"file": f, "jit_functions": len(fi), **_counts(fi)}
            for f in files
            for fi in [[i for i in items if i["file"] == f]]
        ],
        "unreadable": list(unreadable),
        "out_of_scope_families": OUT_OF_SCOPE,
        "operators": items,
    }
    report["failure_reasons"] = failure_histogram(items, root)
    if len(runs) > 1:
        _add_ablations(report, runs, per_mode, lambda its, s: summary_of(its, s))
    return report


def _add_ablations(
    report: dict[str, Any],
    runs: Sequence[ModeResults],
    per_mode: dict[str, list[dict[str, Any]]],
    summary_of: Callable[[list[dict[str, Any]], float], dict[str, Any]],
) -> None:
    report["ablations"] = {run.mode: summary_of(per_mode[run.mode], run.seconds) for run in runs}
    report["ablation_options"] = {run.mode: run.options.to_json() for run in runs}
    for i, op in enumerate(report["operators"]):
        op["ablations"] = {
            mode: {
                "status": items[i]["status"],
                "seconds": round(sum(r["seconds"].get("total", 0.0) for r in items[i]["results"]), 4),
            }
            for mode, items in per_mode.items()
        }


# Parts of a message that vary from kernel to kernel without changing what blocks it: replaced in the key.
_KEY_RULES = (
    (
        re.compile(r"^read of \S+ at a constant offset outside its view"),
        "read of <tensor> at a constant offset outside its view",
    ),
    (re.compile(r"^cannot invert the index map .*"), "cannot invert the index map <expr>"),
    (
        re.compile(r"^\S+: reductions are verified by invariant patterns"),
        "<value>: reductions are verified by invariant patterns",
    ),
    (re.compile(r"^no answer within the time limit of .*"), "no answer within the time limit"),
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")


def reason_key(result: dict[str, Any]) -> str:
    """The histogram key of a failed result: its message without the location and without the names and
    numbers that vary between kernels (refuted: the counterexample's reason, generalised the same way)."""
    cx = result.get("counterexample")
    if result["status"] == "refuted" and cx:
        text = re.sub(r"^\w+\[[^\]]*\]", "<out>[...]", " ".join(str(cx.get("reason", "")).split()))
        return "counterexample: " + _NUMBER.sub("#", text)
    _loc, text = split_location(result.get("message", ""))
    # timeouts: "[<file>: ]<name>: no answer within ..."
    text = re.sub(r"^(\S+\.py: )?\S+: (?=no answer within)", "", text)
    for pattern, replacement in _KEY_RULES:
        if pattern.match(text):
            return pattern.sub(replacement, text) if "<" not in replacement else replacement
    return text or result["status"]


def failure_histogram(items: Sequence[dict[str, Any]], root: Path | None) -> list[dict[str, Any]]:
    """Failure reasons sorted by how many jit functions each blocks, with example locations and the distinct
    messages grouped under each reason."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    out_of_scope: Counter[tuple[str, str]] = Counter()
    for i in items:
        if i["status"] == "verified" or i["role"] == "helper":
            continue
        r = next((r for r in i["results"] if r["status"] != "verified"), None)
        if r is None:
            continue
        loc, text = split_location(r["message"])
        where = short_location(loc, root) or f"{i['file']}:{i['line']}"
        key = (r["status"], reason_key(r))
        groups.setdefault(key, []).append((f"{where} ({i['name']})", text))
        if i.get("scope"):
            out_of_scope[key] += 1
    rows = []
    for (status, key), hits in groups.items():
        shown = [t.replace(f"{root}/", "") if root is not None else t for _w, t in hits]
        variants = list(dict.fromkeys(t for t in shown if t and t != key))
        rows.append(
            {
                "status": status,
                "reason": key,
                "count": len(hits),
                "out_of_scope": out_of_scope[(status, key)],  # of them, in an out-of-scope family
                "examples": [w for w, _t in hits[:3]],
                "variants": variants[:5],
            }
        )
    rows.sort(key=lambda row: (-row["count"], row["reason"]))
    return rows


# ---------------------------------------------------------------------------------------------------------
# The `flaggems-33` report


def operator_item(plan: OperatorPlan, got: dict[str, list[LiftResult]], root: Path) -> dict[str, Any]:
    spec = plan.spec
    results: list[LiftResult] = []
    kernels = []
    op_results = [r for f, h in plan.hosts for r in got.get(f"{f}::{h}", []) if r.kind == "operator"]
    credit = operator_credit(op_results)
    statuses: list[str] = []
    uncredited: list[LiftResult] = []
    for k in plan.kernels:
        info = _entry_info(root, k.file, k.name)
        entry = fg.JitEntry(k.file, str(root / k.file), k.name, info.line if info else 0, k.kind)
        rs = entry_results(entry, got)
        results += rs
        own = group_status([r.status for r in rs])
        item = {
            "name": k.name,
            "file": k.file,
            "line": entry.line,
            "kind": k.kind,
            "via": k.via,
            "status": own,
            "scope": info.scope if info else None,
            "scope_reason": info.scope_reason if info else "",
        }
        if own != "verified" and k.name in credit:  # every host path launching it is verified (operator_credit)
            item.update(status="verified", kernel_status=own, via_operator=credit[k.name])
            statuses.append("verified")
        else:
            statuses += [r.status for r in rs]
            uncredited += rs
        kernels.append(item)
    if plan.missing:
        statuses.append("error")
    status = group_status(statuses) if statuses else "error"
    formulas = [r.formula for r in results if r.formula]
    reason = reason_of(uncredited, root)
    if plan.missing:
        reason = f"host function(s) not found in {spec.file}: {', '.join(plan.missing)}" + (
            f"; {reason}" if reason else ""
        )
    if not plan.kernels and not plan.missing:
        reason = f"no kernel launch or pointwise call found from {', '.join(spec.hosts)}"
    return {
        "name": spec.name,
        "file": spec.file,
        "hosts": list(spec.hosts),
        "torch_ref": spec.torch_ref,
        "status": status,
        "reason": reason,
        "kernels": kernels,
        "excluded": [{"kernel": k, "reason": why} for k, why in spec.exclude],
        "formula": "; ".join(formulas),
        "textbook": textbook_status(results, op_results) if status == "verified" else None,
        "results": [r.to_json() for r in results],
        "operator_status": group_status([r.status for r in op_results]) if op_results else None,
        "operator_results": [r.to_json() for r in op_results],
    }


def operator_credit(op_results: Sequence[LiftResult]) -> dict[str, str]:
    """The kernels that count as verified for the operator though their own result is not: a kernel that by
    design writes only part of its output (a shifted range of tiles, one of several launches) has no
    whole-output formula of its own, and is credited when EVERY operator-level host path that launches it is
    verified, and at least one does. A result's paths are result.Proof.paths (each with its status and
    kernels); a result with no paths is one path, with its own status and `kernels`. Kernel name -> the host
    function(s) whose verified paths launch it, for the report's `via_operator` note."""
    seen: dict[str, list[tuple[str, str]]] = {}
    for r in op_results:
        paths = getattr(r.proof, "paths", None) or [{"status": r.status, "kernels": list(r.kernels)}]
        for p in paths:
            # a path not verified whose kernels are not recorded (the evaluator stopped) may launch any of them
            launched = p.get("kernels") or ([] if p.get("status") == "verified" else list(r.kernels))
            for k in launched:
                seen.setdefault(k, []).append((p.get("status", "unknown"), r.name))
    return {k: ", ".join(dict.fromkeys(h for _s, h in on)) for k, on in seen.items()
            if on and all(s == "verified" for s, _h in on)}


def textbook_status(results: Sequence[LiftResult], op_results: Sequence[LiftResult] = ()) -> bool | None:
    """True when every kernel result's shown formula is in textbook form (`ir.tensor_form.is_textbook_text`: a
    whole-tensor expression with no explicit index binder), or the kernel is launched by a host whose
    operator-level result is verified with a textbook formula (or one of its host paths is, for the kernels that
    path launches: result.Proof.paths): a stage of a multi-kernel operator (partial
    sums into a scratch buffer) has no textbook form of its own, the operator it is part of does
    (`out = inp.sum()`). None when there is nothing to judge."""
    from tritonlift.ir.tensor_form import is_textbook_text

    if not results:
        return None
    covered = {
        k
        for r in op_results
        if r.status == "verified" and r.formula and is_textbook_text(r.formula)
        for k in r.kernels
    }
    # an operator verified on some host paths only: the kernels its verified, textbook paths launch (each
    # path's status and kernels as the result records them; a kernel of a path not verified is not credited)
    covered |= {
        k
        for r in op_results
        for p in getattr(r.proof, "paths", None) or []
        if p.get("status") == "verified" and p.get("formula") and is_textbook_text(p["formula"])
        for k in p.get("kernels", [])
    }
    return all((bool(r.formula) and is_textbook_text(r.formula)) or r.name in covered for r in results)


@cache
def _file_entries(root: Path, file: str) -> dict[str, fg.JitEntry]:
    try:
        return {e.name: e for e in fg.file_entries(root / file, root)}
    except Exception:
        return {}


def _entry_info(root: Path, file: str, name: str) -> fg.JitEntry | None:
    return _file_entries(root, file).get(name)


def build_33_report(root: Path, plans: Sequence[OperatorPlan], runs: Sequence[ModeResults]) -> dict[str, Any]:
    per_mode = {run.mode: [operator_item(p, run.results, root) for p in plans] for run in runs}
    main = runs[0]
    items = per_mode[main.mode]

    def summary_of(its: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
        # kernel-level statuses (a kernel credited through its operator counts there, not here)
        kernel_statuses = Counter(k.get("kernel_status", k["status"]) for i in its for k in i["kernels"])
        return _summary(
            its,
            seconds,
            {
                "lifted": sum(1 for i in its if i["status"] == "verified"),
                "textbook": sum(1 for i in its if i["textbook"]),
                "kernels": sum(len(i["kernels"]) for i in its),
                "kernels_verified": kernel_statuses.get("verified", 0),
                "kernels_via_operator": sum(1 for i in its for k in i["kernels"] if k.get("via_operator")),
                # every host function of the operator verified at operator level (host code included)
                "operator_level_verified": sum(1 for i in its if i["operator_status"] == "verified"),
                # at least one of the operator's own host functions (e.g. sum's full reduction, not sum_dim)
                "operator_level_partial": sum(
                    1
                    for i in its
                    if any(
                        r["status"] == "verified" and r["name"] in i["hosts"] for r in i["operator_results"]
                    )
                ),
            },
        )

    report: dict[str, Any] = {
        "suite": "flaggems-33",
        "layout": "flaggems-33",
        "tool_version": tritonlift.__version__,
        "mode": main.mode,
        "options": main.options.to_json(),
        "package": {"name": fg.DISTRIBUTION, "version": fg.installed_version(), "root": str(root)},
        "summary": summary_of(items, main.seconds),
        "operators": items,
    }
    report["failure_reasons"] = failure_histogram(
        [
            {
                "name": k["name"],
                "file": k["file"],
                "line": 0,
                "role": k["kind"],
                "status": k["status"],
                "results": rs,
            }
            for i in items
            for k in i["kernels"]
            for rs in [[r for r in i["results"] if r["name"] == k["name"]]]
        ],
        root,
    )
    if len(runs) > 1:
        _add_ablations(report, runs, per_mode, summary_of)
    return report


# ---------------------------------------------------------------------------------------------------------
# Markdown


def render_markdown(report: dict[str, Any]) -> str:
    from tritonlift.bench.report import _options_line, _row, _secs, _summary_table

    s = report["summary"]
    pkg = report.get("package", {})
    lines = [f"# tritonlift bench: {report['suite']}", ""]
    lines += [
        f"tritonlift {report['tool_version']}, {pkg.get('name')} {pkg.get('version')}, mode `{report['mode']}`, "
        f"options: `{_options_line(report)}`",
        "",
    ]
    summaries = report.get("ablations") or {report["mode"]: s}
    lines += [*_summary_table(summaries), ""]
    stages = [st for st in STAGES if st != "total"]
    if report["layout"] == "flaggems-33":
        lines += [
            f"Lifted (every forward kernel verified): {s['lifted']}/{s['operators']}; in textbook form: "
            f"{s['textbook']}; kernels verified {s['kernels_verified']}/{s['kernels']}; operator level (host code "
            f"included) verified for every host function: {s['operator_level_verified']}, for at least one: "
            f"{s.get('operator_level_partial', 0)}.",
            "",
            "## Operators",
            "",
        ]
        lines += _row(
            ["operator", "file", "status", "kernels", "formula / reason", "operator-level", "total s"]
        )
        lines += _row(["---"] * 7)
        for op in report["operators"]:
            ks = ", ".join(f"{k['name']} ({_kernel_status_text(k)})" for k in op["kernels"])
            lines += _row(
                [
                    op["name"],
                    op["file"],
                    op["status"],
                    ks,
                    f"`{op['formula']}`" if op["status"] == "verified" else op["reason"],
                    _operator_cell(op),
                    _secs(sum(r["seconds"].get("total", 0.0) for r in op["results"])),
                ]
            )
        lines += [""]
    else:
        lines += [
            f"Sources: {', '.join(f'{p}/' for p in pkg.get('subpackages', []))} of the package"
            + (f" ({pkg['left_out']})" if pkg.get("left_out") else "")
            + ".",
            "",
            f"{s['jit_functions']} jit functions in {s['files']} files; roles: "
            + ", ".join(f"{k} {v}" for k, v in s["roles"].items())
            + f"; out of scope: {s['out_of_scope']} ("
            + ", ".join(f"{k} {v}" for k, v in s["out_of_scope_by_family"].items())
            + ").",
            "",
        ]
    if report.get("failure_reasons"):
        lines += ["## Failure reasons", "", "Sorted by how many jit functions each blocks.", ""]
        lines += _row(["count", "status", "reason", "examples", "messages (variants)"])
        lines += _row(["---"] * 5)
        for row in report["failure_reasons"]:
            variants = "; ".join(row.get("variants", []))
            lines += _row(
                [str(row["count"]), row["status"], f"`{row['reason']}`", "; ".join(row["examples"]), variants]
            )
        lines += [""]
    if report["layout"] == "flaggems":
        lines += ["## Jit functions by file", ""]
        lines += _row(
            ["file", "name", "line", "role", "status", "scope", "formula / reason", "total s", *stages]
        )
        lines += _row(["---"] * (8 + len(stages)))
        for op in report["operators"]:
            secs: dict[str, float] = {}
            for r in op["results"]:
                for k, v in r["seconds"].items():
                    secs[k] = secs.get(k, 0.0) + v
            text = (
                " ".join(r["formula"] for r in op["results"] if r["formula"])
                if op["status"] == "verified"
                else ""
            )
            lines += _row(
                [
                    op["file"],
                    op["name"],
                    str(op["line"]),
                    op["role"],
                    op["status"],
                    op["scope"] or "",
                    f"`{text}`" if text else op["reason"],
                    _secs(secs.get("total", 0.0)),
                    *[_secs(secs.get(st, 0.0)) for st in stages],
                ]
            )
    if "ablations" in report:
        modes = list(report["ablations"])
        lines += ["", "## Ablations", ""]
        lines += _row(["name", "file", *modes])
        lines += _row(["---"] * (2 + len(modes)))
        for op in report["operators"]:
            cells = [op["ablations"].get(m) for m in modes]
            shown = ["—" if c is None else f"{c['status']} ({_secs(c['seconds'])} s)" for c in cells]
            lines += _row([op["name"], op["file"], *shown])
    return "\n".join(lines) + "\n"


def _kernel_status_text(k: dict[str, Any]) -> str:
    """A kernel's status in report.md; credited through its operator: both statuses and the host function."""
    if k.get("via_operator"):
        return f"{k['status']} via operator {k['via_operator']}; kernel level {k['kernel_status']}"
    return str(k["status"])


def _operator_cell(op: dict[str, Any]) -> str:
    """The operator-level column of report.md: each host function's status, with its formula when verified."""
    parts = []
    for r in op.get("operator_results", []):
        if r["status"] == "verified" and r.get("formula"):
            parts.append(f"{r['name']}: `{r['formula']}`")
        else:
            parts.append(f"{r['name']}: {r['status']}")
    return "; ".join(parts) or "—"
