"""Cheap tests: candidate bodies evaluated on a few concrete points and compared with the kernel's value there.

A sample is one concrete write of the kernel: sizes, program id and lane chosen by z3 under the spec's facts,
ranges and mask (random sizes first, so that the points differ), input memory filled with seeded random values.
The kernel's stored value is evaluated from the spec and the formula's value at the element it lands on, both
with the IR evaluator (ir/evaluate.py) and the replay helpers of verify/check.py (the same memory model the
counterexample replay uses). A candidate that disagrees on any sample is wrong; one that agrees on all of them
is only *plausible*: the proof decides.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Evaluator, Value
from tritonlift.ir.expr import Expr, Kind
from tritonlift.ir.formula import Assign
from tritonlift.verify.check import (
    Problem,
    _block_facts,
    _differs,
    _env,
    _Memory,
    _model_value,
    _ranges,
    kinds_of,
)
from tritonlift.verify.z3_backend import Z3Ctx

SIZE_HI = 9  # sampled sizes, strides and block sizes stay small: reductions are evaluated element by element
FAIL = "fail"  # the value of a candidate that cannot be evaluated at a sample (unbound name, domain error)


@dataclass
class Sample:
    """One concrete write: the symbols (output index included), the memory behind it, the kernel's value."""

    values: dict[str, Any]
    memory: _Memory
    kernel_value: float
    evaluator: Evaluator = field(repr=False)


@dataclass
class Samples:
    """The samples of one output, and how many concrete evaluations were made with them."""

    target: str
    points: list[Sample]
    evaluations: int = 0

    def values_of(self, e: Expr) -> tuple[Value | str, ...]:
        """e's value at every sample (FAIL where it cannot be evaluated); shared sub-terms are memoized."""
        self.evaluations += 1
        out: list[Value | str] = []
        for s in self.points:
            try:
                out.append(s.evaluator(e))
            except (ArithmeticError, ValueError, KeyError, RecursionError):
                out.append(FAIL)
        return tuple(out)

    def agrees(self, values: Sequence[Value | str]) -> bool:
        """True when the values match the kernel's at every sample (floats up to rounding)."""
        for v, s in zip(values, self.points, strict=True):
            if isinstance(v, (str, bool)):
                return False
            if _differs(float(s.kernel_value), float(v)):
                return False
        return True

    def passes(self, body: Expr) -> bool:
        return bool(self.points) and self.agrees(self.values_of(body))


def signature(values: Sequence[Value | str]) -> tuple:
    """Values rounded so that candidates equal up to float rounding share a signature."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, (str, bool)):
            out.append(v)
        elif isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            out.append(repr(v))
        else:
            f = float(v)
            out.append(0.0 if f == 0 else float(f"{f:.9g}"))
    return tuple(out)


def draw_samples(p: Problem, assign: Assign, count: int = 5, seed: int = 0, timeout_ms: int = 2000) -> Samples:
    """Up to `count` concrete writes of `assign`'s output (fewer when z3 finds fewer points)."""
    rng = random.Random(f"{seed}:{assign.target}")
    tensors = {**p.views, **{t.name: t for t in p.formula.tensors}}
    kinds = kinds_of(p)
    facts = _block_facts(p)
    points: list[Sample] = []
    maps = [sm for sm in p.store_maps if sm.target == assign.target]
    solvers: dict[int, _Points] = {}
    for n in range(count * 2):
        if len(points) >= count or not maps:
            break
        sm = maps[n % len(maps)]
        s = p.spec.stores[sm.store]
        decl = tensors[sm.target]
        if sm.store not in solvers:
            touched = [s.value, assign.body, *decl.shape, *decl.strides, decl.offset]
            hyps = [*facts, *_ranges(p, s), s.mask, *_mentions(touched)]
            solvers[sm.store] = _Points(hyps, kinds, tensors, timeout_ms)
        values = solvers[sm.store].next(rng)
        if values is None:
            continue
        memory = _Memory(None, None, random.Random(rng.random()))
        env = _env(values, memory, tensors)
        try:
            if not ir_eval(s.mask, env):
                continue
            addr = int(ir_eval(s.offset, env))
            kv = float(ir_eval(s.value, env))
            target = tuple(int(ir_eval(i, env)) for i in sm.index)  # the element the store map hints
            inside = all(0 <= t < int(ir_eval(n, env)) for t, n in zip(target, decl.shape, strict=True))
            there = int(ir_eval(decl.address(tuple(ir.const(t) for t in target)), env)) == addr
        except (ArithmeticError, ValueError, KeyError):
            continue
        if not (inside and there) or math.isnan(kv) or math.isinf(kv):
            continue  # a write outside the output, or an undefined value: the verifier's business
        here = {**values, **dict(zip(assign.index, target, strict=True))}
        fenv = _env(here, memory, tensors)
        points.append(Sample(here, memory, kv, Evaluator(fenv)))
    return Samples(assign.target, points)


def ir_eval(e: Expr, env: Any) -> Value:
    return Evaluator(env)(e)


def _mentions(exprs: list[Expr]) -> list[Expr]:
    """`v == v` for every free variable of exprs: z3 then gives each of them a value."""
    out = []
    for e in exprs:
        free = ir.free_vars(e)
        out += [ir.eq(n, n) for n in ir.walk(e) if n.op is ir.Op.VAR and n.attr in free]
    return out


def _symbols(hyps: list[Expr]) -> dict[str, Kind]:
    names: dict[str, Kind] = {}
    for h in hyps:
        names |= {str(n.attr): n.kind for n in ir.walk(h) if n.op is ir.Op.VAR and n.kind is not Kind.BOOL}
    return dict(sorted(names.items()))


class _Points:
    """Points satisfying hyps, each new: small random values where z3 accepts them, otherwise z3's own choice.

    Solved in a z3 context of its own: the proofs that follow run in the main context, and z3's heuristics
    there are sensitive to what else was asked before (a refutation went from 0.5 s to a 20 s timeout).
    """

    def __init__(self, hyps: list[Expr], kinds: dict[str, Kind], tensors: dict, timeout_ms: int):
        self.ctx = z3.Context()
        cx = Z3Ctx(kinds, tensors)
        main = [cx(h) for h in hyps]
        self.vars = {n: v.translate(self.ctx) for n, v in cx.vars.items()
                     if not n.startswith(("const:", "undef:", "bound:"))}
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set(timeout=timeout_ms)
        self.solver.add(*(h.translate(self.ctx) for h in main))
        self.free = {n: k for n, k in _symbols(hyps).items() if n in self.vars}
        self.ints = [n for n, k in self.free.items() if k is Kind.INT]
        self.solver.add(*(z3.And(self.vars[n] >= 0, self.vars[n] <= 4 * SIZE_HI) for n in self.ints))

    def next(self, rng: random.Random) -> dict[str, Any] | None:
        xs, s, ctx = self.vars, self.solver, self.ctx
        sizes = [n for n in self.ints if not n.startswith("_")]  # program ids and lanes (_pid0, _l0): z3's
        # distinct sizes and strides: equal strides alias x[i, j] with x[j, i] and hide a transposition
        picks = rng.sample(range(2, 2 + max(SIZE_HI, len(sizes) + 4)), len(sizes))
        wishes = [xs[n] == v for n, v in zip(sizes, picks, strict=True)]
        wishes += [xs[n] >= rng.randint(1, 3) for n in self.ints if n.startswith("_")]  # not element 0
        # scalar arguments (alpha, eps) get random values: z3 would pick 0 and hide them
        wishes += [xs[n] == z3.RealVal(round(rng.uniform(-2, 2), 3), ctx) for n, k in self.free.items()
                   if k is Kind.REAL]
        s.push()
        try:
            tags = [z3.Bool(f"wish{k}", ctx) for k in range(len(wishes))]
            for tag, w in zip(tags, wishes, strict=True):
                s.add(z3.Implies(tag, w))
            live = tags
            model = None
            for _ in range(8):  # keep as many wishes as z3 allows: drop the ones in each unsat core
                r = s.check(*live)
                if r == z3.sat:
                    model = s.model()
                    break
                core = {str(c) for c in s.unsat_core()} if r == z3.unsat else set()
                if not core:
                    break
                live = [t for t in live if str(t) not in core]
            values = {n: _model_value(model, v) for n, v in xs.items()} if model is not None else None
        finally:
            s.pop()
        if values is not None:  # the next point differs in some size, program id or lane
            same = [xs[n] == values[n] for n in self.ints if isinstance(values.get(n), int)]
            if same:
                s.add(z3.Not(z3.And(*same)))
        return values
