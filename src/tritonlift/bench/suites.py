"""Benchmark suites: a name (or a directory) resolved to the files to lift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tritonlift
from tritonlift.errors import InputError


@dataclass(frozen=True)
class Suite:
    """A named set of targets for `tritonlift bench`."""

    name: str
    targets: tuple[str, ...]


def examples_dir() -> Path:
    """The repository's `examples/` (editable install or source checkout), else `./examples`."""
    bundled = Path(tritonlift.__file__).resolve().parents[2] / "examples"
    return bundled if bundled.is_dir() else Path("examples")


# Named suites; each maps to a function giving its directory. FlagGems suites come with issue 5.
NAMED_SUITES = {"examples": examples_dir}


def resolve_suite(name: str) -> Suite:
    """A named suite, or any directory of kernels; raises InputError for anything else."""
    if name in NAMED_SUITES:
        directory = NAMED_SUITES[name]()
        if not directory.is_dir():
            raise InputError(f"suite {name!r}: directory {directory} not found")
        return Suite(name, (str(directory),))
    path = Path(name)
    if path.is_dir():
        return Suite(name, (str(path),))
    known = ", ".join(sorted(NAMED_SUITES))
    raise InputError(f"unknown suite {name!r}: give one of {known}, or a directory of kernels")
