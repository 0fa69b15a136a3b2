"""The small exception hierarchy: every message names the file, the line and the construct."""

from __future__ import annotations


class LiftError(Exception):
    """Base class: a lifting failure with a source location."""

    status = "error"

    def __init__(self, message: str, file: str = "", line: int = 0):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def located(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        return f"{where}{self.message}"


class InputError(LiftError):
    """The input could not be read: missing file, syntax error, unknown module."""

    status = "error"


class Unsupported(LiftError):
    """The kernel or host uses a construct the tool does not model."""

    status = "unsupported"


class Unknown(LiftError):
    """Neither a proof nor a counterexample: solver timeout, no candidate found."""

    status = "unknown"
