"""Python API: lift files, directories or dotted module names to LiftResults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tritonlift.options import Options
from tritonlift.result import LiftResult


def lift_file(path: str | Path, options: Options | None = None, op: str | None = None) -> list[LiftResult]:
    """Lift every operator, kernel and pointwise function of one Python file (never raises on bad input)."""
    return lift_paths([str(path)], options, op)


def lift_paths(
    targets: list[str],
    options: Options | None = None,
    op: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[LiftResult]:
    """Lift every target (file, directory or dotted module name located on disk without importing it).

    `op` keeps only results with that name. `progress` is called with each result's name as it starts.
    Unreadable input yields results with status "error"; this function does not raise for bad input.
    """
    from tritonlift.pipeline import lift_targets

    return lift_targets(targets, options or Options(), op, progress)
