"""Turn CLI targets (files, directories, dotted module names) into Python files, without importing."""

from __future__ import annotations

import sys
from pathlib import Path

from tritonlift.errors import InputError


def resolve_target(target: str) -> list[Path]:
    """A file, every *.py below a directory (sorted), or a dotted module name found on sys.path."""
    p = Path(target)
    if p.is_file():
        return [p]
    if p.is_dir():
        return sorted(f for f in p.rglob("*.py") if "__pycache__" not in f.parts)
    if p.suffix == ".py" or "/" in target or not all(part.isidentifier() for part in target.split(".")):
        raise InputError("no such file or directory", target, 0)
    parts = target.split(".")
    for root in [Path.cwd(), *(Path(s) for s in sys.path if s)]:
        base = root.joinpath(*parts)
        if base.with_suffix(".py").is_file():
            return [base.with_suffix(".py")]
        if (base / "__init__.py").is_file():
            return sorted(f for f in base.rglob("*.py") if "__pycache__" not in f.parts)
    raise InputError(f"module {target!r} not found on the search path", target, 0)
