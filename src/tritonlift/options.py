"""Modelling choices and switches of one lifting run, printed in every report (no globals)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Options:
    timeout: float = 60.0  # seconds for one lifted thing, all stages
    solver_timeout_ms: int = 20_000  # one solver query
    float_model: str = "real"  # values are reals; rounding and overflow are outside the proof
    topdown: bool = True  # ablation: operator-shaped sketches
    prune: bool = True  # ablation: observational-equivalence pruning
    invariant_patterns: bool = True  # ablation: loop invariant library
    baseline: bool = False  # plain bottom-up enumeration: no sketches, no pruning, no patterns
    search_seconds: float = 5.0  # budget of the bottom-up search of one lifted thing (capped by timeout)
    simplify: bool = True
    expect: str | None = None  # a reference formula to check against instead of the lifted one
    seed: int = 0
    # masked-off lanes of loads without other=: "zero" (what NVIDIA/AMD/Intel backends do; tried only when the
    # language's rule gives no proof, and then listed as an assumption) or "undefined" (the language's rule)
    masked_loads: str = "zero"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
