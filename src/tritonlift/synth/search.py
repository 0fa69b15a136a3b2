"""The synthesis search: which body each output gets, in the mode the options select (the ablations).

- default (`topdown`, `prune`): the body read off the spec (the operator-shaped sketch, synth/sketches.py) is
  cheap-tested (synth/cheap_test.py); where it is large, its holes (the combination around its reads and
  reductions) are filled bottom-up (synth/enumerate.py) looking for a smaller candidate that agrees with the
  kernel on every sample; those go to the solver first, smallest first, and the derived body is the fallback.
- `--no-prune`: the same, with no cheap test and no observational equivalence: every hole candidate goes to
  the solver, in size order, within the search budget.
- `--no-topdown`: no sketch: bottom-up enumeration over the generic grammar, observational equivalence on the
  samples, and only candidates that agree with the kernel's values go to the solver.
- `--baseline`: the generic enumeration with no pruning: every candidate, in size order, goes to the solver
  until one is proved or the budget runs out (with no invariant patterns either: pipeline).

In every mode the output views, index maps and witnesses come from the address analysis of synth/derive.py
(they are hints the verifier checks); the modes differ in how the body is found. The proof decides: a
candidate is only ever chosen when `verify` proved it, or it is the derived body (verified, or refuted with a
replayed counterexample, by the pipeline as before).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from tritonlift.errors import Unknown
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign
from tritonlift.ir.reductions import canon, rename_bound
from tritonlift.options import Options
from tritonlift.synth.cheap_test import Samples, draw_samples, signature
from tritonlift.synth.enumerate import (
    Grammar,
    generic_grammar,
    grow,
    kernel_leaves,
    reductions_in,
    size,
    sketch_grammar,
)
from tritonlift.synth.sketches import sketch_of
from tritonlift.verify.check import Problem, verify

LARGE = 8  # a derived body of this many nodes (reductions counted as one) gets its holes searched
HOLE_MAX_SIZE = 4  # hole candidates up to this size
HOLE_SECONDS = 0.3  # budget of the hole search per output
MAX_SIZE = 12  # the plain enumeration stops here if the budget has not run out before
RESAMPLES = 2  # searches again with more samples when a candidate agreeing with all of them is not proved
REJECTED = ir.const(False)  # _search's answer when it stops at such a candidate
SOLVER_MS = 3000  # one candidate's proof during the search (the pipeline's final proof has the full limit)


@dataclass
class SearchStats:
    """What the search did, per lifted thing (reported as `proof.synthesis`)."""

    mode: str
    strategy: str = ""  # sketch | sketch+holes | enumeration
    sketch: str = ""  # the derived body's shape (synth/sketches.py), per output, comma-separated
    enumerated: int = 0  # candidates built
    pruned: int = 0  # discarded without the solver: duplicate signature, or disagreeing with the kernel
    cheap_tested: int = 0  # candidates (derived bodies included) evaluated on the samples
    cheap_failed: int = 0  # of those, the ones that disagreed with the kernel
    solver_calls: int = 0  # candidates sent to the solver by the search
    samples: int = 0  # concrete points per output (sum over outputs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def unknown_note(synthesis: dict[str, Any]) -> str:
    """For an `unknown` result: what the cheap tests saw (DESIGN: say how many random tests passed)."""
    n = synthesis.get("samples", 0)
    if not n:
        return ""
    verdict = "disagreed with the kernel on" if synthesis.get("cheap_failed") else "agreed with the kernel on all"
    return f"the formula {verdict} {n} concrete samples (cheap tests)"


def mode_of(options: Options) -> str:
    if options.baseline:
        return "baseline"
    parts = [name for name, on in (("no-topdown", options.topdown), ("no-prune", options.prune),
                                   ("no-invariant-patterns", options.invariant_patterns)) if not on]
    return "+".join(parts) or "default"


def synthesize(p: Problem, options: Options) -> tuple[Problem, SearchStats]:
    """The problem with each output's body chosen by the search; Unknown when the enumeration finds nothing."""
    topdown = options.topdown and not options.baseline
    prune = options.prune and not options.baseline
    stats = SearchStats(mode_of(options), "sketch" if topdown else "enumeration")
    deadline = time.perf_counter() + max(0.1, min(options.search_seconds, options.timeout))
    sketches: list[str] = []
    assigns = list(p.formula.assigns)
    for n, a in enumerate(assigns):
        sketches.append(sketch_of(a.body))
        samples = draw_samples(p, a, seed=options.seed) if prune else None
        if samples is not None:
            stats.samples += len(samples.points)
            if not samples.points:  # z3 found no concrete write: nothing to prune with
                samples = None
        if topdown:
            body = _topdown(p, a, samples, stats, deadline, options)
        else:
            body = _bottom_up(p, a, samples, stats, deadline, options)
        assigns[n] = replace(a, body=body)
    stats.sketch = ", ".join(sketches) if topdown else ""
    return _with_assigns(p, assigns), stats


def _topdown(p: Problem, a: Assign, samples: Samples | None, stats: SearchStats, deadline: float,
             options: Options) -> Expr:
    derived = a.body
    if samples is not None:
        stats.cheap_tested += 1
        if not samples.passes(derived):
            stats.cheap_failed += 1  # no other candidate: the proof decides (a refutation is replayed)
            return derived
    atoms = frozenset(reductions_in(derived))
    own = size(derived, atoms)
    if own < LARGE:
        return derived
    stats.strategy = "sketch+holes"
    scalars, constants = _kernel_leaves(p, a)
    g = sketch_grammar(derived, scalars, constants)
    hole_deadline = min(deadline, time.perf_counter() + HOLE_SECONDS)
    if samples is None:  # no signatures to match holes with: every candidate body goes to the solver
        found = _search(p, a, g, min(own - 1, HOLE_MAX_SIZE), None, stats, hole_deadline, options)
        return found if found is not None else derived
    smaller = _fill_holes(derived, g, samples, stats, hole_deadline)
    if smaller == derived or not samples.passes(smaller):
        return derived
    stats.cheap_tested += 1
    stats.solver_calls += 1
    outcome = verify(_only(p, a, smaller), min(SOLVER_MS, options.solver_timeout_ms), options.seed)
    return smaller if outcome.status == "verified" else derived


def _fill_holes(derived: Expr, g: Grammar, samples: Samples, stats: SearchStats, deadline: float) -> Expr:
    """Each sub-term of the derived body replaced by the smallest enumerated term with its signature.

    The bank is built bottom-up over the body's own leaves (reads at the output index, reductions, scalars,
    constants), one representative per signature; a sub-term whose signature the bank holds at a smaller
    size is a hole that term fills. Sub-terms under a reduction (over its bound index) are left alone.
    """
    table: dict[tuple, Expr] = {}

    def admit(e: Expr) -> bool:
        stats.enumerated += 1
        sig = signature(samples.values_of(e))
        if sig in table:
            stats.pruned += 1
            return False
        table[sig] = e
        return True

    for _e, _n in grow(g, HOLE_MAX_SIZE, admit):
        if time.perf_counter() >= deadline:
            break
    atoms = frozenset(reductions_in(derived))
    bound = {str(n.attr) for n in ir.walk(derived) if n.op in ir.BINDER_OPS}

    def step(node: Expr) -> Expr | None:
        if node.kind is not Kind.REAL or node.op in (Op.READ, Op.VAR, Op.CONST) or node in atoms:
            return None
        if ir.free_vars(node) & bound:
            return None
        sig = signature(samples.values_of(node))
        if any(isinstance(v, str) for v in sig):  # FAIL, nan or inf somewhere: no evidence of equality
            return None
        e = table.get(sig)
        return e if e is not None and size(e, atoms) < size(node, atoms) else None

    return ir.transform(derived, step)


def _bottom_up(p: Problem, a: Assign, samples: Samples | None, stats: SearchStats, deadline: float,
               options: Options) -> Expr:
    outputs = {x.target for x in p.formula.assigns}
    tensors = {**p.views, **{t.name: t for t in p.formula.tensors}}
    scalars, constants = _kernel_leaves(p, a)
    g = generic_grammar(a, tensors, outputs, scalars, constants)
    found = None
    for again in range(RESAMPLES + 1):
        found = _search(p, a, g, MAX_SIZE, samples, stats, deadline, options, stop_on_reject=again < RESAMPLES)
        if found is not REJECTED or samples is None:
            break
        # a candidate agreed with every sample and the solver refused it: its signature may hide the right
        # candidate (observational equivalence keeps one per signature), so search again with more samples
        samples = draw_samples(p, a, count=len(samples.points) + 4, seed=options.seed + 1 + again)
        stats.samples += len(samples.points)
    if found is None or found is REJECTED:
        why = "budget" if time.perf_counter() >= deadline else f"space up to size {MAX_SIZE}"
        raise Unknown(f"{a.target}: bottom-up search {why} exhausted after {stats.enumerated} candidates "
                      f"({stats.pruned} pruned, {stats.solver_calls} sent to the solver, none proved)")
    return found


def _search(p: Problem, a: Assign, g: Grammar, max_size: int, samples: Samples | None, stats: SearchStats,
            deadline: float, options: Options, stop_on_reject: bool = False) -> Expr | None:
    """The smallest candidate the solver proves for this output, in size order; None when none is found
    (REJECTED, with stop_on_reject, as soon as a candidate that agrees with every sample is not proved)."""
    seen: set[tuple] = set()

    def admit(e: Expr) -> bool:
        stats.enumerated += 1
        if samples is None:
            return True
        sig = signature(samples.values_of(e))
        if sig in seen:
            stats.pruned += 1
            return False
        seen.add(sig)
        return True

    for e, _n in grow(g, max_size, admit):
        if time.perf_counter() >= deadline:
            return None
        if samples is not None:
            stats.cheap_tested += 1
            if not samples.agrees(samples.values_of(e)):
                stats.pruned += 1
                continue
        body = _finish(e, p, a)
        stats.solver_calls += 1
        budget_ms = int(max(1.0, deadline - time.perf_counter()) * 1000)
        outcome = verify(_only(p, a, body), min(SOLVER_MS, options.solver_timeout_ms, budget_ms), options.seed)
        if outcome.status == "verified":
            return body
        if stop_on_reject and samples is not None:
            return REJECTED
    return None


def _finish(e: Expr, p: Problem, a: Assign) -> Expr:
    """Reductions canonical (as the verifier sees them), bound variables readable."""
    taken = set(a.index) | {t.name for t in p.formula.tensors} | set(p.spec.scalars)
    taken |= {str(n.attr) for n in ir.walk(e) if n.op is Op.VAR}
    return rename_bound(canon(e), taken)


def _only(p: Problem, a: Assign, body: Expr) -> Problem:
    """The verification problem of one output with this body."""
    f = _with_assigns(p, [replace(a, body=body)]).formula
    return replace(p, formula=f, store_maps=[m for m in p.store_maps if m.target == a.target],
                   witnesses=[w for w in p.witnesses if w.target == a.target])


def _with_assigns(p: Problem, assigns: list[Assign]) -> Problem:
    """The formula with these bodies; a view a new body reads (operator level: any host tensor) is declared."""
    tensors = {t.name: t for t in p.formula.tensors}
    for a in assigns:
        for n in ir.walk(a.body):
            if n.op is Op.READ and n.attr not in tensors and n.attr in p.views:
                tensors[n.attr] = p.views[n.attr]
    return replace(p, formula=replace(p.formula, assigns=tuple(assigns), tensors=tuple(tensors.values())))


def _kernel_leaves(p: Problem, a: Assign) -> tuple[list[Expr], list[Expr]]:
    """Scalar arguments and constants of the stores to this output (and float parameters of the formula)."""
    decl = {t.name: t for t in p.formula.tensors}.get(a.target)
    base = decl.base if decl is not None else None
    values = [s.value for s in p.spec.stores if base is None or s.base == base]
    params = [ir.var(q.name, ir.Kind.REAL) for q in p.formula.params if q.kind == "float"]
    return kernel_leaves(values, params)
