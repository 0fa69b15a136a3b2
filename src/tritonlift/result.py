"""The output contract: one LiftResult per lifted operator, kernel or pointwise function (DESIGN.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["verified", "refuted", "unknown", "unsupported", "error"]
ResultKind = Literal["operator", "kernel", "pointwise"]
STAGES = ("frontend", "symbolic", "synthesis", "verification", "simplification", "total")


@dataclass
class Counterexample:
    """A concrete witness that the kernel and the formula differ, replayed before it is reported."""

    sizes: dict[str, Any]  # symbolic scalars: sizes, strides, block sizes, scalar arguments
    index: dict[str, int]  # where: output index, program ids, lanes
    inputs: dict[str, float]  # the input elements that matter, e.g. {"x[3]": 0.5}
    kernel_value: Any  # float, or a string such as "not written"
    formula_value: Any
    reason: str  # one line: what goes wrong

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Proof:
    solver: str = ""
    obligations: int = 0
    invariants: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    # how the formula was found: mode, strategy, sketch, candidates enumerated / pruned / sent to the solver
    # (synth/search.py SearchStats); empty when no search ran (--expect, pointwise bodies)
    synthesis: dict[str, Any] = field(default_factory=dict)
    # an operator result whose host paths (groups split on Python values: `dim is None`, `keepdim`) got
    # separate results: one entry per group, {"when": its condition, "status", "formula": the group's own
    # formula ("" unless verified), "kernels": the kernels its paths launch}; empty otherwise
    paths: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LiftResult:
    name: str
    kind: ResultKind
    file: str
    line: int
    kernels: list[str]
    status: Status
    formula: str = ""
    formula_raw: str = ""
    latex: str = ""
    torch: str = ""
    assumptions: list[str] = field(default_factory=list)
    counterexample: Counterexample | None = None
    message: str = ""
    seconds: dict[str, float] = field(default_factory=lambda: {s: 0.0 for s in STAGES})
    proof: Proof = field(default_factory=Proof)

    def add_message(self, *parts: str) -> None:
        """Append to `message`, `; `-separated, skipping empty parts."""
        self.message = "; ".join(m for m in (self.message, *parts) if m)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["counterexample"] = None if self.counterexample is None else self.counterexample.to_json()
        d["seconds"] = {k: round(v, 4) for k, v in self.seconds.items()}
        return d
