"""Path splitting of host code: size-dependent branches, each side evaluated under its own condition.

A host function such as `if x.stride(-1) != 1: x = x.contiguous()` or `if N <= 1024: BLOCK = ... else: ...`
is evaluated once per feasible combination of its symbolic branch decisions. Each run adds the branch
condition (or its negation) to the state's facts, so the proof of that path may use it. Branches whose other
side is infeasible under the facts gathered so far are taken without splitting (z3 decides; when it cannot,
both sides are kept). Exploration is depth-first by re-evaluation with a decision prefix; more than
MAX_PATHS paths is `unsupported`.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op

MAX_PATHS = 16
FEASIBILITY_TIMEOUT_MS = 2000


@dataclass(frozen=True)
class Decision:
    """One symbolic host branch met on a path: its condition, the side taken, and whether both were open."""

    cond: Expr
    taken: bool
    line: int
    free: bool  # False: the other side was infeasible under the facts, so no split happened

    @property
    def fact(self) -> Expr:
        return self.cond if self.taken else negate(self.cond)


_COMPLEMENT = {Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT, Op.EQ: Op.NE, Op.NE: Op.EQ}


def negate(c: Expr) -> Expr:
    """not c, as the complementary comparison where there is one (integers: exact; reals: no NaN here)."""
    if c.op in _COMPLEMENT:
        return ir.compare(_COMPLEMENT[c.op], *c.args)
    return ir.not_(c)


class Decider:
    """Chooses a side for each symbolic branch: from a prefix of free decisions, then the `then` side."""

    def __init__(self, prefix: tuple[bool, ...] = ()):
        self.prefix = prefix
        self.decisions: list[Decision] = []

    def choose(self, cond: Expr, facts: list[Expr], line: int) -> bool:
        can_then = satisfiable([*facts, cond])
        can_else = satisfiable([*facts, negate(cond)])
        if can_then != can_else:
            self.decisions.append(Decision(cond, can_then, line, False))
            return can_then
        k = sum(1 for d in self.decisions if d.free)
        taken = self.prefix[k] if k < len(self.prefix) else True
        self.decisions.append(Decision(cond, taken, line, True))
        return taken

    def free_choices(self) -> tuple[bool, ...]:
        return tuple(d.taken for d in self.decisions if d.free)


def satisfiable(facts: list[Expr]) -> bool:
    """False only when z3 shows the facts contradict each other (unknown counts as satisfiable)."""
    from tritonlift.verify.z3_backend import Z3Ctx

    cx = Z3Ctx({})
    s = z3.Solver()
    s.set(timeout=FEASIBILITY_TIMEOUT_MS)
    try:
        for f in facts:
            s.add(cx(f))
    except Exception:  # a fact z3 cannot take: keep the path (no pruning is always sound)
        return True
    return s.check() != z3.unsat


def explore(run_path, file: str, line: int) -> list:
    """All paths: `run_path(prefix)` evaluates the host with that decision prefix and returns
    (result, Decider). Depth-first; raises Unsupported past MAX_PATHS."""
    out = []
    stack: list[tuple[bool, ...]] = [()]
    while stack:
        prefix = stack.pop()
        result, decider = run_path(prefix)
        out.append((result, decider.decisions))
        choices = decider.free_choices()
        for j in reversed(range(len(prefix), len(choices))):
            stack.append((*choices[:j], not choices[j]))
        if len(out) + len(stack) > MAX_PATHS:
            raise Unsupported(
                f"the host has more than {MAX_PATHS} size-dependent paths (path splitting is bounded)", file, line
            )
    return out


def describe(decisions: list[Decision]) -> str:
    from tritonlift.ir.printer import to_text

    def literal(e: Expr, positive: bool) -> str | None:
        # an opaque test on host values (`dtype is None`, `mode == 'x'`): its source text, or its negation
        if e.op is Op.NOT:
            return literal(e.args[0], not positive)
        if e.op is Op.VAR and e.kind is ir.Kind.BOOL:
            text = str(e.attr)
            if positive:
                return text
            if text.endswith(" is None"):
                return text[: -len(" is None")] + " is not None"
            return text.replace(" == ", " != ", 1) if text.count(" == ") == 1 else f"not ({text})"
        return None

    def shown(d: Decision) -> str:
        return literal(d.cond, d.taken) or to_text(d.fact)

    return " and ".join(shown(d) for d in decisions if d.free) or "the only path"
