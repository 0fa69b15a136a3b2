"""Run the lift over many files, in this process or in parallel processes; one crash never stops the run."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tritonlift.errors import InputError
from tritonlift.frontend.targets import resolve_target
from tritonlift.options import Options
from tritonlift.result import LiftResult

OnDone = Callable[[str], None]

# One run per mode: the flag that switches each part of the search off, as on the command line.
ABLATIONS: dict[str, dict[str, bool]] = {
    "default": {},
    "no-topdown": {"topdown": False},
    "no-prune": {"prune": False},
    "no-invariant-patterns": {"invariant_patterns": False},
    "baseline": {"baseline": True},
}


@dataclass
class ModeRun:
    """The results of one pass over a suite in one mode, with its wall time."""

    mode: str
    options: Options
    results: list[LiftResult]
    seconds: float


def expand_targets(targets: Sequence[str]) -> list[str]:
    """The files the pipeline would read for these targets (directories and packages expanded, sorted).

    A target that does not resolve is kept as it is: lifting it yields the pipeline's own `error` result.
    """
    tasks: list[str] = []
    for target in targets:
        try:
            tasks.extend(str(f) for f in resolve_target(target))
        except InputError:
            tasks.append(target)
    return tasks


def mode_name(options: Options) -> str:
    """The name of the ablation mode an Options object is in, e.g. `no-prune`, `default`."""
    switched = [
        mode
        for mode, changes in ABLATIONS.items()
        if changes and all(getattr(options, k) == v for k, v in changes.items())
    ]
    return "+".join(switched) or "default"


def ablation_modes(base: Options) -> list[tuple[str, Options]]:
    """Every ablation mode, applied on top of `base`: default first."""
    return [(mode, replace(base, **changes)) for mode, changes in ABLATIONS.items()]


def crash_result(target: str, message: str) -> LiftResult:
    """The `error` result standing for a file whose lift crashed instead of returning results."""
    one_line = " ".join(message.split())
    return LiftResult(
        name=Path(target).stem or target,
        kind="kernel",
        file=target,
        line=0,
        kernels=[],
        status="error",
        message=f"{target}: {one_line}",
    )


def lift_guarded(
    target: str, options: Options, op: str | None, progress: Callable[[str], None] | None = None
) -> list[LiftResult]:
    """Lift one file; an exception becomes an `error` result instead of ending the run."""
    from tritonlift import api  # looked up at call time, so a test's fake pipeline is the one used

    try:
        return api.lift_paths([target], options, op, progress)
    except Exception as exc:
        return [crash_result(target, f"internal error: {type(exc).__name__}: {exc}")]


def lift_tasks(
    tasks: Sequence[str],
    options: Options,
    op: str | None = None,
    jobs: int = 1,
    on_done: OnDone | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[LiftResult]:
    """Lift each task (one file) and return all results in task order, whatever order they finish in.

    `on_done` hears of each finished task; `progress` of each lifted thing as it starts, in this process
    only (parallel workers cannot call back).
    """
    done = on_done or (lambda _task: None)
    if jobs <= 1 or len(tasks) <= 1:
        per_task = []
        for task in tasks:
            per_task.append(lift_guarded(task, options, op, progress))
            done(task)
    else:
        per_task = _lift_parallel(list(tasks), options, op, jobs, done)
    return [r for results in per_task for r in results]


def run_modes(
    tasks: Sequence[str],
    modes: Sequence[tuple[str, Options]],
    jobs: int = 1,
    on_done: OnDone | None = None,
) -> list[ModeRun]:
    """One pass over all tasks per mode, timed."""
    runs = []
    for mode, options in modes:
        start = time.perf_counter()
        results = lift_tasks(tasks, options, None, jobs, on_done)
        runs.append(ModeRun(mode, options, results, time.perf_counter() - start))
    return runs


def _context() -> multiprocessing.context.BaseContext:
    # fork: workers start in milliseconds with the modules already imported (z3, the pipeline), and inherit
    # the parent's state, which keeps a test's monkeypatched pipeline in effect in the workers.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _lift_parallel(
    tasks: list[str], options: Options, op: str | None, jobs: int, done: OnDone
) -> list[list[LiftResult]]:
    out: dict[int, list[LiftResult]] = {}
    broken: list[int] = []
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=_context()) as pool:
        futures = {pool.submit(lift_guarded, task, options, op): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            outcome = _outcome(tasks[i], future)
            if outcome is None:
                broken.append(i)
            else:
                out[i] = outcome
                done(tasks[i])
    # A worker that died (segfault, os._exit, out of memory) breaks the whole pool and fails every task still
    # in it: run those again, each in a process of its own, to tell the one that crashed from its neighbours.
    if broken:
        with ThreadPoolExecutor(max_workers=jobs) as threads:
            retried = {threads.submit(_lift_isolated, tasks[i], options, op): i for i in broken}
            for future in as_completed(retried):
                i = retried[future]
                out[i] = future.result()
                done(tasks[i])
    return [out[i] for i in range(len(tasks))]


def _lift_isolated(task: str, options: Options, op: str | None) -> list[LiftResult]:
    with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        outcome = _outcome(task, pool.submit(lift_guarded, task, options, op))
    return outcome if outcome is not None else [crash_result(task, "the worker process crashed")]


def _outcome(task: str, future: Future[list[LiftResult]]) -> list[LiftResult] | None:
    """A finished task's results; None when its worker process died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return None
    except Exception as exc:  # e.g. results that could not be sent back from the worker
        return [crash_result(task, f"internal error: {type(exc).__name__}: {exc}")]


# ---------------------------------------------------------------------------------------------------------
# Jobs with a time limit: one lifted thing (a file and a name in it) per forked process, killed at its limit.


@dataclass(frozen=True)
class Job:
    """One thing to lift: the file, the name in it (None: everything in the file) and a label to show."""

    key: str
    target: str
    op: str | None
    label: str = ""


JobEvent = Callable[[Job], None]


def timeout_result(job: Job, seconds: float) -> LiftResult:
    """The `unknown` result of a job killed at its time limit."""
    result = crash_result(job.target, "")
    result.name = job.op or result.name
    result.status = "unknown"
    result.message = f"{job.target}: {job.op or 'file'}: no answer within the time limit of {seconds:g} s"
    result.seconds = {s: 0.0 for s in result.seconds}
    result.seconds["total"] = seconds
    return result


def run_jobs(
    jobs: Sequence[Job],
    options: Options,
    workers: int = 1,
    time_limit: float | None = None,
    on_start: JobEvent | None = None,
    on_done: JobEvent | None = None,
) -> dict[str, list[LiftResult]]:
    """Lift every job in `workers` long-lived worker processes, each job killed (with its worker, which is
    then replaced) after `time_limit` seconds (default: the options' timeout); returns the results by job
    key. A crash, an exception or a timeout is that job's result only.

    Workers live across jobs so that each pays the simplifier's start (egglog's import and rule set, ~0.5 s)
    once, not once per job; a job still runs alone in its process while it runs.
    """
    limit = options.timeout if time_limit is None else time_limit
    _preload()
    started = on_start or (lambda _job: None)
    finished = on_done or (lambda _job: None)
    out: dict[str, list[LiftResult]] = {}
    pending = list(jobs)
    pending.reverse()  # pop() from the end keeps the given order
    ctx = _job_context()
    idle: list[_Worker] = []
    busy: dict[Any, tuple[_Worker, Job, float]] = {}  # connection -> (worker, job, deadline)
    try:
        while pending or busy:
            while pending and len(busy) < max(1, workers):
                job = pending.pop()
                worker = idle.pop() if idle else _Worker(ctx, options)
                try:
                    worker.conn.send(job)
                except (BrokenPipeError, OSError):  # an idle worker that died: start another
                    worker.stop()
                    worker = _Worker(ctx, options)
                    worker.conn.send(job)
                busy[worker.conn] = (worker, job, time.monotonic() + limit)
                started(job)
            soonest = min(deadline for _w, _j, deadline in busy.values())
            ready = multiprocessing.connection.wait(list(busy), timeout=max(0.0, soonest - time.monotonic()))
            for conn in ready:
                worker, job, _deadline = busy.pop(conn)
                results = _receive(job, worker)
                if results is None:  # the worker died with the job: its crash is the job's result
                    worker.stop()
                    results = [_crashed(job, worker.process.exitcode)]
                else:
                    idle.append(worker)
                out[job.key] = results
                finished(job)
            now = time.monotonic()
            for conn in [c for c, (_w, _j, deadline) in busy.items() if deadline <= now]:
                worker, job, _deadline = busy.pop(conn)
                worker.stop()
                out[job.key] = [timeout_result(job, limit)]
                finished(job)
    finally:
        for worker in [*idle, *(w for w, _j, _d in busy.values())]:
            worker.stop()
    return out


class _Worker:
    """A forked process that lifts the jobs sent to it, one at a time, until told to stop (None)."""

    def __init__(self, ctx: Any, options: Options):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, options), daemon=True)
        self.process.start()
        child.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.conn.close()
        self.process.join(0.2)
        _stop(self.process)


def _job_context() -> multiprocessing.context.BaseContext:
    """fork while this process has not loaded egglog: a process forked after egglog's import hangs (its
    runtime's threads do not survive the fork); otherwise a fresh interpreter per worker."""
    import sys

    if "egglog" in sys.modules:
        return multiprocessing.get_context("spawn")
    return _context()


def _preload() -> None:
    """Import the pipeline (z3, the IR, ...) once here, so that every forked worker starts with it. Not the
    simplifier: it imports egglog, after which a fork hangs; each worker imports it once."""
    with contextlib.suppress(Exception):  # a broken pipeline shows up as each job's own error result
        import tritonlift.pipeline  # noqa: F401


def _worker_main(conn: Any, options: Options) -> None:
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            results = lift_guarded(job.target, options, job.op)
        except BaseException as exc:  # anything at all becomes this job's error result
            results = [crash_result(job.target, f"internal error: {type(exc).__name__}: {exc}")]
        try:
            conn.send(results)
        except Exception as exc:  # results that cannot be pickled
            conn.send([crash_result(job.target, f"internal error: {type(exc).__name__}: {exc}")])


def _crashed(job: Job, code: int | None) -> LiftResult:
    result = crash_result(job.target, f"{job.op or 'file'}: the worker process crashed (exit code {code})")
    if job.op:
        result.name = job.op
    return result


def _receive(job: Job, worker: _Worker) -> list[LiftResult] | None:
    """The job's results, or None when its worker died before sending them."""
    try:
        return worker.conn.recv()
    except (EOFError, OSError):
        worker.process.join(5)
        return None


def _stop(process: Any) -> None:
    if process.is_alive():
        process.kill()
    process.join(5)
