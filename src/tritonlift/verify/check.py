"""Prove spec == formula for every size, program id and lane; replay any counterexample concretely.

Obligations (DESIGN.md): *soundness* — every write the kernel performs lands inside an output's
domain, at the view's address for the hinted index, with the formula's value there; *coverage* —
every element of every output domain is written by some program id and lane. Hints (index maps,
witnesses) come from synthesis and are checked, never trusted: a failed check is only reported as
`refuted` after the counterexample has been replayed on the concrete semantics.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Formula, TensorDecl
from tritonlift.ir.named import expand_all
from tritonlift.ir.reductions import canon
from tritonlift.result import Counterexample
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import GRID_PREFIX, lane, pid
from tritonlift.synth.derive import StoreMap, Witness
from tritonlift.verify.exp_algebra import has_exp, split_exp
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

SOLVER = f"z3 {z3.get_version_string()}"
SMALL_SIZE = 64  # the first re-asked models keep every size at most this
MAX_REPLAY_SIZE = 1 << 17  # sizes in a model beyond this are not replayed (a row of 10^6 reductions each)


@dataclass
class Outcome:
    status: str  # verified | refuted | unknown
    obligations: int = 0
    counterexample: Counterexample | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)  # preconditions the checker added (free grid sizes)


@dataclass
class Problem:
    spec: KernelSpec
    formula: Formula
    grid: tuple[Expr, ...]
    store_maps: list[StoreMap]
    witnesses: list[Witness]
    facts: list[Expr]
    views: dict[str, TensorDecl] = field(default_factory=dict)  # every tensor a formula may name
    refine: list[Expr] = field(default_factory=list)  # exact, costly facts for a second counterexample search
    # host values defined by a function z3 sees only through facts: name -> (function, argument); the
    # concrete search computes them exactly (`next_power_of_2(n)` from n)
    derived: dict[str, tuple[str, Expr]] = field(default_factory=dict)
    # accumulated outputs (atomic updates): their value before the launch where the host sets it (torch.zeros:
    # 0.0), over the assignment's index names; otherwise it is their memory (verify/accumulate.py)
    initial: dict[str, Expr] = field(default_factory=dict)


def kinds_of(p: Problem) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for name, k in p.spec.scalars.items():
        kinds[name] = k
    for a in p.formula.assigns:
        for n in a.index:
            kinds[n] = Kind.INT
    return kinds


def _ranges(p: Problem, s: Store) -> list[Expr]:
    out = []
    for k, g in enumerate(p.grid[: len(p.spec.grid)]):  # a storing loop's range is in its stores' masks
        out += [ir.le(ir.ZERO, pid(k)), ir.lt(pid(k), g)]
    for k, ext in enumerate(s.shape):
        out += [ir.le(ir.ZERO, lane(k)), ir.lt(lane(k), ext)]
        if not ext.is_const:
            out.append(ir.le(ir.ONE, ext))
    return out


def _domain(decl: TensorDecl, index: tuple[Expr, ...]) -> list[Expr]:
    out = []
    for i, e in zip(index, decl.shape, strict=True):
        out += [ir.le(ir.ZERO, i), ir.lt(i, e)]
    return out


def free_grid_sizes(p: Problem) -> list[Expr]:
    """The launch-grid sizes that no host fixes (kernel-level lifting): `grid[k]` symbols, in axis order."""
    seen: dict[Expr, None] = {}
    for g in p.grid:
        for n in ir.walk(g):
            if n.op is ir.Op.VAR and str(n.attr).startswith(GRID_PREFIX):
                seen.setdefault(n, None)
    return list(seen)


def grid_assumptions(p: Problem) -> tuple[list[Expr], list[str]]:
    """A launch has at least one program on each axis: Triton skips a launch with an empty grid (CUDA rejects
    it), so a kernel launched with `grid[k] == 0` writes nothing and is not a use of the kernel. The
    precondition is stated in the result's assumptions, never used silently."""
    free = free_grid_sizes(p)
    return [ir.le(ir.ONE, g) for g in free], [f"{g.attr} >= 1" for g in free]


def _block_facts(p: Problem) -> list[Expr]:
    facts = list(p.facts) + grid_assumptions(p)[0]
    for s in p.spec.stores:
        for ext in s.shape:
            if not ext.is_const:
                facts.append(ir.le(ir.ONE, ext))
    return facts


def verify(p: Problem, timeout_ms: int, seed: int = 0) -> Outcome:
    first = out = _verify(p, timeout_ms, seed)
    # a kernel that is wrong only for an empty or negative extent (a reversed tile loop writes below the row
    # when N <= 0): prove it again for extents >= 0, then >= 1, and say so in the assumptions; if that does
    # not verify, the first refutation stands (it is a true counterexample of the unrestricted claim)
    lower: dict[str, int] = {}
    divisors = _extent_divisors(p) if out.status == "unknown" else {}
    if divisors:
        # the kernel divides by an extent: at 0 both sides are 0/0, which z3's division cannot equate; the claim
        # is made for extents >= 1 (and said)
        again = _verify(replace(p, facts=[*p.facts, *(ir.le(ir.ONE, ir.var(n)) for n in divisors)]), timeout_ms, seed)
        if again.status == "verified":
            again.assumptions = [*again.assumptions, *(f"{n} >= 1 (an extent; the kernel divides by it)"
                                                       for n in sorted(divisors))]
            return again
    for _ in range(2):
        found = _nonpositive_sizes(p, out)
        if not found:
            break
        for n, v in found.items():
            lower[n] = max(lower.get(n, 0), 0 if v < 0 else 1)
        facts = [ir.le(ir.const(b), ir.var(n)) for n, b in lower.items()]
        out = _verify(replace(p, facts=[*p.facts, *facts]), timeout_ms, seed)
        if out.status == "verified":
            out.assumptions = [*out.assumptions, *(f"{n} >= {b} (an extent)" for n, b in sorted(lower.items()))]
            return out
    return first


def _extent_divisors(p: Problem) -> dict[str, int]:
    """Integer scalars bounding masks or loops (extents) that some stored value divides by."""
    bounding = _bounding(p)
    out: dict[str, int] = {}
    for s in p.spec.stores:
        for n in ir.walk(s.value):
            d = n.args[1] if n.op is ir.Op.DIV else None
            if d is not None and d.op is ir.Op.CAST and d.args[0].op is ir.Op.VAR:  # x / float(N)
                v = str(d.args[0].attr)
                if v in bounding and p.spec.scalars.get(v) is Kind.INT:
                    out[v] = 1
    return out


def _bounding(p: Problem) -> set[str]:
    bounding: set[str] = set()
    for e in [*p.spec.loops, *(s.mask for s in p.spec.stores),
              *(n.args[0] for s in p.spec.stores for n in ir.walk(s.value) if n.op is ir.Op.WHERE)]:
        bounding |= ir.free_vars(e)
    return bounding


def _nonpositive_sizes(p: Problem, out: Outcome) -> dict[str, int]:
    """The integer scalars of a counterexample that are <= 0 and bound masks or loops (extents)."""
    if out.status != "refuted" or out.counterexample is None:
        return {}
    bounding = _bounding(p)
    return {n: v for n, v in out.counterexample.sizes.items()
            if isinstance(v, int) and not isinstance(v, bool) and v <= 0 and n in bounding
            and p.spec.scalars.get(n) is Kind.INT}


def _verify(p: Problem, timeout_ms: int, seed: int = 0) -> Outcome:
    from tritonlift.verify.accumulate import has_atomics, verify_with_atomics

    if has_atomics(p):  # outputs updated with tl.atomic_add/max/min: their own obligations (verify/accumulate.py)
        return verify_with_atomics(p, timeout_ms, seed, lambda q: _verify(q, timeout_ms, seed))
    kinds = kinds_of(p)
    tensors = {t.name: t for t in p.formula.tensors}
    assigns = {a.target: a for a in p.formula.assigns}
    facts = _block_facts(p)
    n = 0
    # side conditions of the loop patterns the spec instantiated (verify.patterns proves the patterns)
    for hyp, goal, what in p.spec.side:
        n += 1
        if _check([*facts, hyp], goal, kinds, tensors, timeout_ms) != "proved":
            return Outcome("unknown", n, message=f"side condition not proved: {what}")
    # soundness: each store lane writes the formula's value at the hinted element
    for sm in p.store_maps:
        s = p.spec.stores[sm.store]
        decl = tensors[sm.target]
        a = assigns[sm.target]
        sub = {ir.var(name): i for name, i in zip(a.index, sm.index, strict=True)}
        body = canon(ir.substitute(a.body, sub))
        hyps = [*facts, *_ranges(p, s), s.mask]
        goals = [
            *_domain(decl, sm.index),
            ir.eq(s.offset, decl.address(sm.index)),
            ir.eq(canon(s.value), body),
        ]
        n += 1
        # where it writes first (integers only, cheap): a store outside the output is a counterexample that
        # needs no reasoning about the (large) value
        where_ = _check(hyps, ir.and_(*goals[:-1]), kinds, tensors, timeout_ms) if _has_reduction(goals[-1]) else "proved"
        if where_ not in ("proved", "unknown"):
            goals = goals[:-1]
        # sums: the algebraic normal form first (verify/sum_algebra.py), a proof in seconds where it applies
        elif _has_reduction(goals[-1]) and _sum_algebra(hyps, ir.and_(*goals), kinds, tensors, timeout_ms):
            continue
        res = where_ if where_ not in ("proved", "unknown") else _check(hyps, ir.and_(*goals), kinds, tensors, timeout_ms)
        if res == "proved":
            continue
        cx = None if res == "unknown" else _replay_write(p, sm, res, kinds, tensors, seed)
        # exp/log algebra (softmax shift invariance, ...): a second attempt, to prove only
        expanded = canon(expand_all(ir.and_(*goals)))
        if cx is None and has_exp(expanded) and _check(hyps, split_exp(expanded), kinds, tensors, timeout_ms) == "proved":
            continue
        if cx is None and res != "unknown":
            cx = _search_again(p, sm, res, hyps, ir.and_(*goals), kinds, tensors, timeout_ms, seed)
        if cx is None:  # reductions are uninterpreted in z3: look for a concrete point (verify/search.py)
            from tritonlift.verify.search import search_write

            cx = search_write(p, sm, kinds, tensors, seed)
        if cx is not None:
            return Outcome("refuted", n, cx)
        if res == "unknown":
            return Outcome("unknown", n, message=f"solver gave up on the write at line {s.line}")
        return Outcome("unknown", n, message=f"write at line {s.line}: solver counterexample did not replay")
    failed = _coverage(p, facts, kinds, tensors, timeout_ms)
    if failed is not None:
        return replace(failed, obligations=n + failed.obligations)
    n += len(p.formula.assigns)
    return Outcome("verified", n, assumptions=grid_assumptions(p)[1])


def coverage(p: Problem, timeout_ms: int) -> Outcome | None:
    """The coverage obligations alone: None when every element of every output is written, else the
    failing Outcome (refuted with an unwritten element, or unknown)."""
    return _coverage(p, _block_facts(p), kinds_of(p), {t.name: t for t in p.formula.tensors}, timeout_ms)


def _coverage(
    p: Problem, facts: list[Expr], kinds: dict[str, Kind], tensors: dict[str, TensorDecl], timeout_ms: int
) -> Outcome | None:
    """Every element of every output is written by some store (the witnesses say which)."""
    n = 0
    accumulated = {w.target for w in p.witnesses if p.spec.stores[w.store].atomic}  # covered by their initial value
    for a in p.formula.assigns:
        if a.target in accumulated:
            continue
        decl = tensors[a.target]
        idx = tuple(ir.var(x) for x in a.index)
        options = []
        for w in p.witnesses:
            if w.target != a.target:
                continue
            s = p.spec.stores[w.store]
            conds = [*_ranges(p, s), s.mask, ir.eq(s.offset, decl.address(idx))]
            options.append(ir.substitute(ir.and_(*conds), w.values))
        goal = options[0] if options else ir.FALSE
        for o in options[1:]:
            goal = ir.or_(goal, o)
        n += 1
        res = _check([*facts, *_domain(decl, idx)], goal, kinds, tensors, timeout_ms)
        if res == "proved":
            continue
        if res == "unknown":
            return Outcome("unknown", n, message=f"solver gave up on covering {a.target}")
        cx = _replay_coverage(p, a.target, res, kinds, tensors, timeout_ms)
        if cx is None and p.refine:  # again with the host's exact facts (next_power_of_2, ...)
            again = _check([*facts, *_domain(decl, idx), *p.refine], goal, kinds, tensors, min(timeout_ms, 5000))
            if again not in ("proved", "unknown"):
                cx = _replay_coverage(p, a.target, again, kinds, tensors, timeout_ms)
        if cx is not None:
            return Outcome("refuted", n, cx)
        return Outcome("unknown", n, message=f"could not show every element of {a.target} is written")
    return None


def _has_reduction(e: Expr) -> bool:
    return any(x.op in ir.REDUCE_OPS or x.op in ir.ROW_OPS for x in ir.walk(e))


def _sum_algebra(
    hyps: list[Expr], goal: Expr, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], timeout_ms: int
) -> bool:
    from tritonlift.verify.sum_algebra import prove

    return prove(hyps, goal, tensors, lambda h, g: _check(h, g, kinds, tensors, min(timeout_ms, 5000))) is not None


def _search_again(
    p: Problem, sm: StoreMap, res: Any, hyps: list[Expr], goal: Expr, kinds: dict[str, Kind],
    tensors: dict[str, TensorDecl], timeout_ms: int, seed: int, tries: int = 3,
) -> Counterexample | None:
    """z3's model of a failed write did not replay (degenerate zero strides; opaque reductions whose values
    z3 chose freely; host bounds looser than the host's real choice): ask again with sizes >= 1, the
    problem's exact refinement facts, and each earlier size assignment excluded, a few times."""
    sizes = [v for v, k in p.spec.scalars.items() if k is Kind.INT]
    extra = [ir.le(ir.ONE, ir.var(v)) for v in sizes] + list(p.refine)
    # small sizes first (a counterexample that replays quickly and reads well), then any
    small = [ir.le(ir.var(v), ir.const(SMALL_SIZE)) for v, k in kinds.items()
             if k is Kind.INT and not v.startswith(("_pid", "_l", "_k", "_t", "_r"))]
    for attempt in range(tries + 1):  # one attempt among small sizes, then `tries` among any
        if res not in ("proved", "unknown"):
            model, cxz = res
            seen = _symbol_values(model, cxz)
            shown = [n for n in cxz.vars if n in seen and isinstance(seen[n], int) and not isinstance(seen[n], bool)
                     and not n.startswith(("_pid", "_l", "_k", "_t", "_r"))]
            if shown:
                extra.append(ir.not_(ir.and_(*(ir.eq(ir.var(n), ir.const(seen[n])) for n in shown))))
        bounded = small if attempt == 0 else []
        res = _check([*hyps, *extra, *bounded], goal, kinds, tensors, min(timeout_ms, 5000))
        if res == "proved" and bounded:
            continue  # no small counterexample: look among all sizes
        if res in ("proved", "unknown"):
            return None
        cx = _replay_write(p, sm, res, kinds, tensors, seed)
        if cx is not None:
            return cx
    return None


def _check(
    hyps: list[Expr], goal: Expr, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], timeout_ms: int
) -> Any:
    """'proved', 'unknown', or (z3 model, ctx) of hyps & not goal."""
    cx = Z3Ctx(kinds, tensors)
    terms = [cx(h) for h in hyps] + [z3.Not(cx(goal))]
    terms += math_axioms(cx)
    # each query in a context of its own: z3's search (and its run time, which is heavy-tailed) then
    # depends on this query alone, not on the terms every earlier query left in the global context
    ctx = z3.Context()
    s = z3.Solver(ctx=ctx)
    s.set(timeout=timeout_ms)
    for t in terms:
        s.add(t.translate(ctx))
    r = s.check()
    if r == z3.unsat:
        return "proved"
    if r == z3.unknown:
        return "unknown"
    return (_Translated(s.model(), ctx), cx)


class _Translated:
    """A model found in a query's own context, read with terms of the global one."""

    def __init__(self, model: z3.ModelRef, ctx: z3.Context):
        self.model, self.ctx = model, ctx

    def eval(self, e: z3.ExprRef, model_completion: bool = False) -> z3.ExprRef:
        return self.model.eval(e.translate(self.ctx), model_completion=model_completion)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


# -- concrete replay ---------------------------------------------------------------------------


def _model_value(model: z3.ModelRef, v: z3.ExprRef) -> Any:
    x = model.eval(v, model_completion=True)
    if z3.is_int_value(x):
        return x.as_long()
    if z3.is_rational_value(x):
        return float(x.numerator_as_long()) / float(x.denominator_as_long())
    if z3.is_true(x):
        return True
    if z3.is_false(x):
        return False
    if z3.is_algebraic_value(x):
        return float(x.approx(20).as_decimal(20).rstrip("?"))
    return 0.0


class _Memory:
    """Input memory for a replay: the solver's values where it chose them, seeded random elsewhere."""

    def __init__(self, model: z3.ModelRef | None, cx: Z3Ctx | None, rng: random.Random | None):
        self.model, self.cx, self.rng = model, cx, rng
        self.cells: dict[tuple[str, int], float] = {}

    def __call__(self, base: str, addr: int) -> float:
        key = (base, addr)
        if key not in self.cells:
            if self.rng is not None:
                self.cells[key] = round(self.rng.uniform(-3, 3), 3)
            elif self.model is not None and self.cx is not None and f"mem:{base}" in self.cx.funcs:
                f = self.cx.funcs[f"mem:{base}"]
                self.cells[key] = float(_model_value(self.model, f(z3.IntVal(addr))))
            else:
                self.cells[key] = 0.0
        return self.cells[key]


def _env(values: dict[str, Any], memory: _Memory, tensors: dict[str, TensorDecl]) -> Env:
    def read(name: str, index: tuple[int, ...]) -> float:
        t = tensors[name]
        addr = evaluate(t.address(tuple(ir.const(i) for i in index)), Env(values, read, memory, _undef))
        return memory(t.base, int(addr))

    return Env(values, read, memory, _undef)


def _undef(tag: str) -> float:
    return math.nan  # a masked-off load's value: never equal to anything


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return True
        if math.isinf(a) or math.isinf(b):
            return a != b
        return abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b))
    return a != b


def _symbol_values(model: z3.ModelRef, cx: Z3Ctx) -> dict[str, Any]:
    return {name: _model_value(model, v) for name, v in cx.vars.items() if not name.startswith(("const:", "undef:", "bound:"))}


def _replay_write(
    p: Problem, sm: StoreMap, res: Any, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], seed: int
) -> Counterexample | None:
    model, cx = res
    values = _symbol_values(model, cx)
    for name, kind in p.spec.scalars.items():  # scalars the query did not mention (its integer part only)
        if name not in values:
            values[name] = 1.0 if kind is Kind.REAL else 1
    return replay_values(p, sm, values, model, cx, tensors, seed)


def replay_values(
    p: Problem, sm: StoreMap, values: dict[str, Any], model: Any, cx: Any, tensors: dict[str, TensorDecl], seed: int
) -> Counterexample | None:
    """The store of `sm` and the formula at one concrete point (sizes, program id, lanes: `values`)."""
    s = p.spec.stores[sm.store]
    a = next(x for x in p.formula.assigns if x.target == sm.target)
    decl = tensors[sm.target]
    if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_REPLAY_SIZE for v in values.values()):
        return None  # a model with huge sizes: replaying its reductions would take too long (no evidence)
    for attempt in range(6):
        memory = _Memory(model, cx, None if attempt == 0 else random.Random(seed * 7919 + attempt))
        env = _env(values, memory, tensors)
        try:
            # sizes the host cannot produce (next_power_of_2 is loose in the first query): no counterexample
            if not all(evaluate(f, env) for f in p.refine) or not evaluate(s.mask, env):
                return None
            addr = evaluate(s.offset, env)
            kv = float(evaluate(s.value, env))
            # the element the synthesis says this lane writes, when it is at that address; else any element
            # there (outputs are assumed not to overlap themselves: with zero strides, e.g., many are)
            target = _hinted_element(decl, sm, env, addr) or _element_at(decl, addr, values)
            if target is None:
                return _cx(p, values, s, "writes outside the formula's output "
                           f"{decl.name} (element offset {addr} of {decl.base})", kv, "not in the output", memory)
            fenv = _env({**values, **dict(zip(a.index, target, strict=True))}, memory, tensors)
            fv = float(evaluate(a.body, fenv))
        except (ZeroDivisionError, OverflowError, ValueError):
            continue
        if math.isnan(kv) and math.isnan(fv):
            continue  # both undefined there (e.g. sqrt of a negative): no evidence that they differ
        if _differs(kv, fv):
            from tritonlift.synth.split import EITHER

            if any(n.op is Op.VAR and str(n.attr).startswith(EITHER) for n in ir.walk(s.value)):
                return None  # merged launches' values checked on every tile (synth/split.py): maybe not one it runs
            if s.launch and _overwritten(p, s, values, int(addr), tensors):
                return None  # a later launch writes there too: the GPU keeps its value, not this one
            idx = ", ".join(str(i) for i in target)
            return _cx(p, {**values, **dict(zip(a.index, target, strict=True))}, s,
                       f"{decl.name}[{idx}]: the kernel stores {kv!r}, the formula gives {fv!r}", kv, fv, memory)
    return None


def _overwritten(p: Problem, s: Store, values: dict[str, Any], addr: int, tensors: dict[str, TensorDecl]) -> bool:
    """Whether, at these concrete sizes, a store of the same or a later launch (synth/split.py) may write the
    element at `addr` of s's tensor from another program id or lane than the one in `values` (a finite search,
    asked to z3 with every size fixed): then the value there after the launches need not be s's. Stores of one
    launch merged from several (a program-id range run twice) count as the same launch."""
    fixed = {ir.var(k): ir.const(v) for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)
             and not k.startswith(("_pid", "_l"))}
    point = [ir.eq(ir.var(k), ir.const(v)) for k, v in values.items()
             if k.startswith(("_pid", "_l")) and isinstance(v, int) and not isinstance(v, bool)]
    kinds = kinds_of(p)
    for t in p.spec.stores:
        if t.base != s.base or t.launch < s.launch:
            continue
        conds = [ir.substitute(c, fixed) for c in [*_ranges(p, t), t.mask, ir.eq(t.offset, ir.const(addr))]]
        if t is s and point:
            conds.append(ir.not_(ir.and_(*point)))
        if _check(conds, ir.FALSE, kinds, tensors, 5000) != "proved":
            return True
    return False


def _hinted_element(decl: TensorDecl, sm: StoreMap, env: Env, addr: int) -> tuple[int, ...] | None:
    try:
        idx = tuple(int(evaluate(i, env)) for i in sm.index)
        shape = [int(evaluate(x, env)) for x in decl.shape]
        at = int(evaluate(decl.address(tuple(ir.const(i) for i in idx)), env))
    except (ZeroDivisionError, OverflowError, ValueError, KeyError):
        return None
    inside = all(0 <= i < n for i, n in zip(idx, shape, strict=True))
    return idx if inside and at == int(addr) else None


def _element_at(decl: TensorDecl, addr: int, values: dict[str, Any]) -> tuple[int, ...] | None:
    """The in-domain index of the view whose address is addr (concrete sizes), if any."""
    idx = [z3.Int(f"_e{d}") for d in range(decl.ndim)]
    s = z3.Solver()
    s.set(timeout=5000)
    env = Env(values, lambda *_: 0.0, lambda *_: 0.0, _undef)
    strides = [int(evaluate(x, env)) for x in decl.strides]
    shape = [int(evaluate(x, env)) for x in decl.shape]
    off = int(evaluate(decl.offset, env))
    for i, n in zip(idx, shape, strict=True):
        s.add(i >= 0, i < n)
    s.add(z3.Sum([i * st for i, st in zip(idx, strides, strict=True)] or [z3.IntVal(0)]) + off == addr)
    if s.check() != z3.sat:
        return None
    m = s.model()
    return tuple(m.eval(i, model_completion=True).as_long() for i in idx)


def _replay_coverage(
    p: Problem, target: str, res: Any, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], timeout_ms: int
) -> Counterexample | None:
    model, cx = res
    values = _symbol_values(model, cx)
    a = next(x for x in p.formula.assigns if x.target == target)
    decl = tensors[target]
    env = _env(values, _Memory(model, cx, None), tensors)
    index = tuple(int(values.get(n, 0)) for n in a.index)
    addr = evaluate(decl.address(tuple(ir.const(i) for i in index)), env)
    fixed_all = {ir.var(k): ir.const(v) for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}
    # sizes the host cannot produce (next_power_of_2 is loose in the first query): not a counterexample
    if any(_check([], ir.substitute(f, fixed_all), kinds, tensors, timeout_ms) != "proved" for f in p.refine):
        return None
    # is this element written by any program id and lane? (concrete sizes: a finite search)
    for s in p.spec.stores:
        if s.base != decl.base:
            continue
        fixed = {ir.var(k): ir.const(v) for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)
                 and not k.startswith(("_pid", "_l")) and k not in a.index}
        conds = [ir.substitute(c, fixed) for c in [*_ranges(p, s), s.mask, ir.eq(s.offset, ir.const(int(addr)))]]
        if _check(conds, ir.FALSE, kinds, tensors, timeout_ms) != "proved":
            return None
    sizes = {k: v for k, v in values.items() if not k.startswith(("_pid", "_l")) and k not in a.index}
    return Counterexample(
        sizes=sizes,
        index=dict(zip(a.index, index, strict=True)),
        inputs={},
        kernel_value="not written",
        formula_value="defined",
        reason=f"{target}[{', '.join(map(str, index))}] is never written by the kernel",
    )


def _cx(p: Problem, values: dict[str, Any], s: Store, reason: str, kv: Any, fv: Any, memory: _Memory) -> Counterexample:
    sizes = {k: v for k, v in values.items() if not k.startswith(("_pid", "_l")) and k in p.spec.scalars}
    sizes.update({k: v for k, v in values.items() if k.startswith(GRID_PREFIX)})
    index = {k.replace("_pid", "pid").replace("_l", "lane"): v for k, v in values.items()
             if k.startswith(("_pid", "_l"))}
    for k, v in values.items():
        if k not in p.spec.scalars and not k.startswith(("_pid", "_l", GRID_PREFIX)) and isinstance(v, int):
            index.setdefault(k, v)
    inputs = {f"{b}[{a}]": v for (b, a), v in sorted(memory.cells.items())}
    return Counterexample(sizes=sizes, index=index, inputs=inputs, kernel_value=kv, formula_value=fv,
                          reason=reason + f" (store at line {s.line})")

