"""A stand-in for `tritonlift.api.lift_paths` in CLI and bench tests: results are read from the target files.

Each line of a target file is `NAME STATUS`; the fake returns one LiftResult per line. STATUS `crash` makes
the whole call raise, and `die` ends the process at once (as a segfault in a solver would).
"""

from __future__ import annotations

import os
from pathlib import Path

from tritonlift.options import Options
from tritonlift.result import STAGES, Counterexample, LiftResult

calls: list[tuple[list[str], Options | None, str | None]] = []


def make_result(name: str, status: str, file: str = "ops.py", line: int = 1) -> LiftResult:
    """A hand-made result of the given status, shaped as the pipeline fills it."""
    result = LiftResult(
        name=name,
        kind="kernel",
        file=file,
        line=line,
        kernels=[name],
        status=status,  # type: ignore[arg-type]
        seconds={s: 0.25 for s in STAGES},
    )
    result.seconds["total"] = 0.5
    if status in ("verified", "refuted"):
        result.formula = result.formula_raw = f"out[i] = x[i] + y[i]  # {name}"
        result.assumptions = ["x.ndim == 1"]
    if status == "refuted":
        result.counterexample = Counterexample(
            sizes={"n_elements": 1048577, "BLOCK_SIZE": 1024},
            index={"i": 1048576},
            inputs={"x[1048576]": 0.5, "y[1048576]": 1.0},
            kernel_value="not written",
            formula_value=1.5,
            reason="the mask drops elements past 2^20",
        )
    elif status == "unsupported":
        result.message = f"{file}:{line}: tl.atomic_add is not supported"
    elif status == "error":
        result.message = f"{file}:{line}: invalid syntax"
    elif status == "unknown":
        result.message = "no proof within 60 s (200 random tests passed)"
    return result


def lift_paths(targets, options=None, op=None, progress=None) -> list[LiftResult]:
    calls.append((list(targets), options, op))
    results = []
    for target in targets:
        path = Path(target)
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if not file.is_file():
                results.append(make_result(file.stem, "error", str(file), 0))
                continue
            for line_no, line in enumerate(file.read_text().splitlines(), 1):
                name, status = line.split()
                if status == "crash":
                    raise RuntimeError(f"boom in {name}")
                if status == "die":
                    os._exit(3)
                if progress is not None:
                    progress(name)
                results.append(make_result(name, status, str(file), line_no))
    return [r for r in results if op is None or r.name == op]


def install(monkeypatch) -> list[tuple[list[str], Options | None, str | None]]:
    """Replace the pipeline by this fake for one test; returns the list of calls it receives."""
    from tritonlift import api

    calls.clear()
    monkeypatch.setattr(api, "lift_paths", lift_paths)
    return calls


def write_suite(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: "NAME STATUS" lines}` under root; returns root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
