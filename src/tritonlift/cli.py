"""The command line: `tritonlift lift` (formulas for kernels) and `tritonlift bench` (suites and reports)."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

import tritonlift
from tritonlift.bench import fgsuite, flaggems, runner, suites
from tritonlift.bench import report as bench_report
from tritonlift.errors import LiftError
from tritonlift.options import Options
from tritonlift.result import LiftResult
from tritonlift.symbolic.undefined import MODES

STATUS_STYLE = {
    "verified": "green",
    "refuted": "red",
    "unknown": "yellow",
    "unsupported": "magenta",
    "error": "bold red",
}

app = typer.Typer(
    name="tritonlift",
    help="Lift Triton kernels to short formulas, proved equal to the kernel with z3 for every size.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts show formulas such as x[i]: no markup
)

# Options shared by `lift` and `bench` (typer reads them from the annotations).
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout", metavar="SECONDS", help="Time limit for one lifted operator or kernel, all stages."
    ),
]
JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", min=1, metavar="N", help="Lift files in N parallel processes (a crash stays local)."
    ),
]
NoSimplifyOpt = Annotated[
    bool, typer.Option("--no-simplify", help="Report the formula as synthesized, without e-graph rewriting.")
]
MaskedLoadsOpt = Annotated[
    str,
    typer.Option(
        "--masked-loads",
        metavar="zero|undefined",
        help="Masked-off lanes of loads without other=: 'undefined' (the Triton language's rule) or 'zero' "
        "(the default: what NVIDIA, AMD and Intel backends do; used only when the language's rule gives no "
        "proof, and then listed as an assumption).",
    ),
]
NoTopdownOpt = Annotated[
    bool, typer.Option("--no-topdown", help="Ablation: no operator-shaped sketches in synthesis.")
]
NoPruneOpt = Annotated[
    bool, typer.Option("--no-prune", help="Ablation: no pruning of candidates on random inputs.")
]
NoInvariantsOpt = Annotated[
    bool, typer.Option("--no-invariant-patterns", help="Ablation: no library of loop invariant patterns.")
]
BaselineOpt = Annotated[
    bool,
    typer.Option(
        "--baseline", help="Ablation: plain bottom-up enumeration (no sketches, pruning or patterns)."
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tritonlift {tritonlift.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Lift Triton kernels to short formulas, proved equal to the kernel with z3 for every size.

    Nothing is imported or run: kernels are read from source. Statuses: verified, refuted (with a
    counterexample), unknown, unsupported (names the construct and its file:line), error (unreadable input).
    """


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """Turn any exception into a one-line message on stderr and exit status 2: never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):  # usage errors: typer reports them
            raise
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except LiftError as exc:
            _fail(exc.located(), 2)
        except Exception as exc:
            _fail(f"internal error: {type(exc).__name__}: {exc}", 2)

    return wrapper


def _fail(message: str, code: int) -> None:
    typer.echo(f"tritonlift: error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def build_options(
    timeout: float,
    expect: str | None = None,
    no_simplify: bool = False,
    no_topdown: bool = False,
    no_prune: bool = False,
    no_invariant_patterns: bool = False,
    baseline: bool = False,
    masked_loads: str = "zero",
) -> Options:
    """Options from command-line flags (the flags say what to switch off)."""
    if not timeout > 0:
        raise typer.BadParameter("must be a positive number of seconds", param_hint="--timeout")
    if masked_loads not in MODES:
        raise typer.BadParameter(f"must be one of {', '.join(MODES)}", param_hint="--masked-loads")
    return Options(
        masked_loads=masked_loads,
        timeout=timeout,
        topdown=not no_topdown,
        prune=not no_prune,
        invariant_patterns=not no_invariant_patterns,
        baseline=baseline,
        simplify=not no_simplify,
        expect=expect,
    )


def exit_code(results: list[LiftResult]) -> int:
    """2 if any result is an error, else 1 if any is not verified (or there are none), else 0."""
    if any(r.status == "error" for r in results):
        return 2
    if not results or any(r.status != "verified" for r in results):
        return 1
    return 0


@app.command()
@_guarded
def lift(
    targets: Annotated[
        list[str],
        typer.Argument(
            metavar="TARGET",
            help="Python files, directories (every *.py, recursively) or dotted module names such as "
            "flag_gems.ops.softmax (found on disk, never imported).",
            show_default=False,
        ),
    ],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON on stdout (and nothing else).")
    ] = False,
    op: Annotated[
        str | None, typer.Option("--op", metavar="NAME", help="Only the operator, kernel or function NAME.")
    ] = None,
    timeout: TimeoutOpt = Options.timeout,
    jobs: JobsOpt = 1,
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            metavar="TEXT",
            help="Check against this reference formula (text syntax) instead of synthesizing one, "
            "e.g. 'out[i] = x[i] + y[i]'.",
        ),
    ] = None,
    no_simplify: NoSimplifyOpt = False,
    no_topdown: NoTopdownOpt = False,
    no_prune: NoPruneOpt = False,
    no_invariant_patterns: NoInvariantsOpt = False,
    baseline: BaselineOpt = False,
    masked_loads: MaskedLoadsOpt = Options.masked_loads,
) -> None:
    """Lift every operator and kernel in TARGET... to a formula and prove it (or refute it).

    Exit status: 0 when every result is verified, 1 when any is not (or none was found), 2 when an input
    could not be read or the command line is wrong.
    """
    options = build_options(
        timeout, expect, no_simplify, no_topdown, no_prune, no_invariant_patterns, baseline, masked_loads
    )
    # One task per file, so that a crash in one file is an `error` result and the other files are still lifted.
    tasks = runner.expand_targets(targets)
    if jobs > 1:
        with _progress("lifting", total=len(tasks)) as tick:
            results = runner.lift_tasks(tasks, options, op, jobs, on_done=tick)
    else:
        with _progress("lifting", total=None) as tick:
            results = runner.lift_tasks(tasks, options, op, progress=tick)

    if json_out:
        payload = {
            "tool": "tritonlift",
            "version": tritonlift.__version__,
            "options": options.to_json(),
            "results": [r.to_json() for r in results],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        print_results(_stdout(), results)
    if not results:
        wanted = f" named {op!r}" if op else ""
        typer.echo(f"tritonlift: no kernels found{wanted} in {' '.join(targets)}", err=True)
    raise typer.Exit(exit_code(results))


@app.command()
@_guarded
def bench(
    suite: Annotated[
        str,
        typer.Argument(
            metavar="SUITE",
            help="A suite name (examples: the bundled examples/ directory; flaggems; flaggems-33) or a "
            "directory of kernels.",
        ),
    ] = "examples",
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR", help="Where report.json, report.md and report.html are written."
        ),
    ] = Path("bench-out"),
    jobs: JobsOpt = 1,
    timeout: TimeoutOpt = Options.timeout,
    ablations: Annotated[
        bool,
        typer.Option(
            "--ablations",
            help="Run the suite once per mode (default, --no-topdown, --no-prune, --no-invariant-patterns, "
            "--baseline) and report them side by side.",
        ),
    ] = False,
    no_simplify: NoSimplifyOpt = False,
    no_topdown: NoTopdownOpt = False,
    no_prune: NoPruneOpt = False,
    no_invariant_patterns: NoInvariantsOpt = False,
    baseline: BaselineOpt = False,
    masked_loads: MaskedLoadsOpt = Options.masked_loads,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="NAMES",
            help="flaggems suites only: keep these files (flaggems: paths relative to the package such as "
            "ops/relu.py, globs, or file stems) or operators (flaggems-33); comma-separated or repeated.",
        ),
    ] = None,
) -> None:
    """Lift every file of a suite and write report.json, report.md and report.html.

    Suites: examples (the bundled examples/), flaggems (every @triton.jit function of the installed
    FlagGems, with a time limit per kernel), flaggems-33 (the 33 reference operators), or a directory.
    Exit status: 0 when the run completed, whatever the statuses; 2 for an unknown suite or bad flags.
    """
    options = build_options(
        timeout, None, no_simplify, no_topdown, no_prune, no_invariant_patterns, baseline, masked_loads
    )
    modes = runner.ablation_modes(options) if ablations else [(runner.mode_name(options), options)]
    if suite in fgsuite.SUITES:
        names = [n.strip() for item in only or [] for n in item.split(",") if n.strip()]
        _bench_flaggems(suite, names, modes, jobs, out)
        return
    if only:
        raise typer.BadParameter("only for the flaggems suites", param_hint="--only")
    resolved = suites.resolve_suite(suite)
    tasks = runner.expand_targets(resolved.targets)
    with _progress("bench", total=len(tasks) * len(modes)) as tick:
        runs = runner.run_modes(tasks, modes, jobs, on_done=tick)
    report = bench_report.build_report(resolved.name, runs)
    paths = bench_report.write_reports(report, out)

    console = _stdout()
    summaries = report.get("ablations") or {report["mode"]: report["summary"]}
    if "ablations" in report:
        console.print(ablation_table(f"tritonlift bench {resolved.name} --ablations", report))
    console.print(summary_table(f"tritonlift bench {resolved.name}: {len(tasks)} files", summaries))
    console.print(Text("wrote " + ", ".join(str(p) for p in paths), style="dim"))


def _bench_flaggems(
    suite: str, only: list[str], modes: list[tuple[str, Options]], jobs: int, out: Path
) -> None:
    """`bench flaggems` and `bench flaggems-33`: one time-limited job per kernel, then the three reports."""
    root = flaggems.require_package()
    if suite == "flaggems":
        files = fgsuite.select_files(root, only)
        if not files:
            raise LiftError(f"--only {','.join(only)}: no FlagGems source file matches")
        entries, unreadable = flaggems.package_entries(root, files)
        jobs_list = fgsuite.all_jobs(entries)
        what = f"{len(entries)} jit functions in {len(files)} files ({len(jobs_list)} lifted)"
    else:
        plans = fgsuite.plan_operators(root, fgsuite.select_operators(only))
        jobs_list = fgsuite.operator_jobs(root, plans)
        what = f"{len(plans)} operators ({len(jobs_list)} kernels and host functions)"
    with _job_progress(f"bench {suite}", len(jobs_list) * len(modes)) as (on_start, on_done):
        runs = fgsuite.run_suite_modes(jobs_list, modes, jobs, on_start, on_done)
    if suite == "flaggems":
        report = fgsuite.build_all_report(root, entries, runs, unreadable, len(files))
    else:
        report = fgsuite.build_33_report(root, plans, runs)
    paths = bench_report.write_reports(report, out)
    console = _stdout()
    summaries = report.get("ablations") or {report["mode"]: report["summary"]}
    console.print(summary_table(f"tritonlift bench {suite}: {what}", summaries))
    s = report["summary"]
    if suite == "flaggems-33":
        console.print(
            f"lifted {s['lifted']}/{s['operators']} operators (textbook form: {s['textbook']}); "
            f"kernels verified {s['kernels_verified']}/{s['kernels']}; operator level (host code included): "
            f"{s['operator_level_verified']} with every host verified, {s['operator_level_partial']} with one"
        )
    else:
        families = ", ".join(f"{k} {v}" for k, v in s["out_of_scope_by_family"].items())
        console.print(f"out of scope: {s['out_of_scope']} ({families}); roles: {s['roles']}")
    for row in report.get("failure_reasons", [])[:5]:
        console.print(Text(f"{row['count']:>4} {row['status']}: {row['reason']}", style="dim"))
    console.print(Text("wrote " + ", ".join(str(p) for p in paths), style="dim"))


@contextmanager
def _job_progress(verb: str, total: int) -> Iterator[tuple[Callable[[Any], None], Callable[[Any], None]]]:
    """Callbacks for the job runner: a bar with counts, elapsed time and the jobs running now."""
    if not sys.stderr.isatty():
        yield (lambda _job: None), (lambda _job: None)
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[running]}", style="dim"),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(verb, total=total, running="")
        running: dict[str, float] = {}

        def show() -> None:
            labels = [label.rsplit("::", 1)[-1] for label in running]
            text = "running: " + ", ".join(labels) if labels else ""
            progress.update(task, running=text if len(text) <= 70 else text[:67] + "...")

        def on_start(job: Any) -> None:
            running[job.label or job.key] = time.monotonic()
            show()

        def on_done(job: Any) -> None:
            running.pop(job.label or job.key, None)
            progress.update(task, advance=1)
            show()

        yield on_start, on_done


def print_results(console: Console, results: list[LiftResult]) -> None:
    """The results table, then a counterexample or message for each result that is not verified."""
    table = Table(header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("kind")
    table.add_column("status", no_wrap=True)
    table.add_column("formula", overflow="fold")
    table.add_column("seconds", justify="right")
    for r in results:
        formula = Text(r.formula or "—")
        if r.status == "verified" and r.assumptions:
            formula.append("\nassuming " + "; ".join(r.assumptions), style="dim")
        total = r.seconds.get("total", 0.0)
        table.add_row(
            Text(r.name),
            r.kind,
            Text(r.status, style=STATUS_STYLE.get(r.status, "")),
            formula,
            f"{total:.2f}",
        )
    console.print(table)
    for r in results:
        if r.status == "refuted" and r.counterexample is not None:
            console.print(_counterexample_text(r))
        elif r.status != "verified" and r.message:
            console.print(
                Text(f"{r.status}: ", style=STATUS_STYLE.get(r.status, "")) + Text(located_message(r))
            )
    counts = {s: sum(r.status == s for r in results) for s in STATUS_STYLE}
    line = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    total = sum(r.seconds.get("total", 0.0) for r in results)
    console.print(Text(f"{len(results)} results: {line or 'none'} ({total:.2f} s)", style="bold"))


def located_message(r: LiftResult) -> str:
    """The result's one-line message, prefixed with `file:line:` unless it already starts with the file."""
    message = " ".join(r.message.split())
    if not r.file or message.startswith(r.file):
        return message
    return f"{r.file}:{r.line}: {message}" if r.line else f"{r.file}: {message}"


SHOWN_INPUTS = 12  # counterexample values printed per line in the table view


def _counterexample_text(r: LiftResult) -> Text:
    cx = r.counterexample
    assert cx is not None
    text = Text()
    text.append(f"refuted: {r.name}", style="red bold")
    text.append(f" ({r.file}:{r.line}): {cx.reason}\n")
    for label, values in (("sizes", cx.sizes), ("index", cx.index), ("inputs", cx.inputs)):
        items = [f"{k}={v}" for k, v in values.items()]
        if len(items) > SHOWN_INPUTS:  # a long row: the first few (--json has them all)
            items = [*items[:SHOWN_INPUTS], f"... ({len(items) - SHOWN_INPUTS} more; --json lists them all)"]
        shown = ", ".join(items) or "—"
        text.append(f"  {label:<7}", style="dim")
        text.append(f"{shown}\n")
    text.append("  kernel ", style="dim")
    text.append(f"{cx.kernel_value}   ")
    text.append("formula ", style="dim")
    text.append(f"{cx.formula_value}")
    return text


def summary_table(title: str, summaries: dict[str, dict[str, Any]]) -> Table:
    """One row per mode: operators by status, wall time, median time per lifted thing."""
    table = Table(title=title, header_style="bold")
    table.add_column("mode", no_wrap=True)
    table.add_column("operators", justify="right")
    for status in bench_report.STATUSES:
        table.add_column(Text(status, style=STATUS_STYLE[status]), justify="right")
    table.add_column("textbook", justify="right")  # verified results shown in whole-tensor form
    table.add_column("wall s", justify="right")
    table.add_column("median s", justify="right")
    for mode, s in summaries.items():
        counts = [str(s[k]) for k in ("operators", *bench_report.STATUSES)]
        textbook = str(s.get("textbook", "—"))
        table.add_row(mode, *counts, textbook, f"{s['seconds']:.2f}", f"{s['median_seconds']:.3f}")
    return table


def ablation_table(title: str, report: dict[str, Any]) -> Table:
    """One row per operator, one column per mode (status and seconds), and a summary row."""
    modes = list(report["ablations"])
    table = Table(title=title, header_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("file", no_wrap=True)
    for mode in modes:
        table.add_column(mode, no_wrap=True)
    for op in report["operators"]:
        cells: list[Text | str] = []
        for mode in modes:
            c = op["ablations"].get(mode)
            cells.append("—" if c is None else Text(f"{c['status']} {c['seconds']:.2f}s",
                                                     style=STATUS_STYLE.get(c["status"], "")))
        table.add_row(op["name"], Path(op["file"]).name, *cells)
    table.add_section()
    row = bench_report.ablation_totals(report)
    table.add_row("verified / total s", "", *(f"{v}/{n} {t:.1f}s" for v, n, t in (row[m] for m in modes)))
    return table


def _stdout() -> Console:
    # Off a terminal (CI logs, pipes) rich would wrap at 80 columns; formulas read better wider.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 140)


@contextmanager
def _progress(verb: str, total: int | None) -> Iterator[Callable[[str], None]]:
    """A progress callback: a spinner (or a bar, when the total is known) on stderr if it is a terminal."""
    if not sys.stderr.isatty():
        yield lambda _label: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(verb, total=total)
        started = 0

        def tick(label: str) -> None:
            nonlocal started
            started += 1
            # The pipeline calls back as a thing starts (unknown total); the runner as a file finishes.
            description = f"{verb} {label}" if total is not None else f"{verb} #{started}: {label}"
            progress.update(task, description=description, advance=1)

        yield tick


@app.command()
@_guarded
def patterns(
    json_out: Annotated[bool, typer.Option("--json", help="Print the proofs as JSON, and nothing else.")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Time limit for one pattern's proof.")
    ] = 60.0,
) -> None:
    """Prove the library of loop-invariant patterns (verify/patterns.py) by induction in z3 and list each
    with its statement, obligations and time. Lifting instantiates these patterns; the test suite proves them
    on every CI run, and this command does it on demand. Exit status 1 if any proof does not go through."""
    from tritonlift.verify.patterns import PATTERNS

    proofs = [pattern.prove(timeout_ms=int(timeout * 1000)) for pattern in PATTERNS.values()]
    if json_out:
        typer.echo(json.dumps({"tool": "tritonlift", "version": tritonlift.__version__, "patterns": [
            {"name": p.name, "statement": p.statement, "proved": p.proved, "obligations": p.obligations,
             "seconds": round(p.seconds, 3), "detail": p.detail} for p in proofs]}, indent=2))
    else:
        table = Table(title=f"tritonlift patterns: {len(proofs)} loop-invariant patterns")
        for col in ("pattern", "proved", "obligations", "seconds", "statement"):
            table.add_column(col, overflow="fold")
        for p in proofs:
            table.add_row(p.name, "yes" if p.proved else f"NO: {p.detail}", str(p.obligations),
                          f"{p.seconds:.2f}", p.statement)
        console = _stdout()
        console.print(table)
        console.print(Text(f"{sum(p.proved for p in proofs)}/{len(proofs)} proved in "
                           f"{sum(p.seconds for p in proofs):.1f} s", style="dim"))
    if not all(p.proved for p in proofs):
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="tritonlift")
    except SystemExit:
        raise
    except BaseException as exc:  # anything outside a command: still one line, never a traceback
        print(f"tritonlift: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
