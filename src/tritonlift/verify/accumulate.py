"""Prove the formula of an accumulated output (atomic updates, symbolic/atomics.py) for every size.

The kernel's semantics at element i of an output T updated atomically (with `combine` R):

    T_after[i] = T_before[i]  R  R_{(p, l) in grid x lanes : mask(p, l) and offset(p, l) == addr_T(i)} value(p, l)

The hints (synth/accumulate.py) are, per update, its index map I(p, l) (the element of T it updates, one
expression per dim, which may read memory) and sigma: the program ids and lanes that the element fixes, as
functions of it (the others are free). Obligations, each for every size, program id and lane:

 (A1) every update lands where the hint says, inside T, and the element determines the solved ids:
      mask(p, l)  ->  0 <= I(p, l) < shape_T  and  offset(p, l) == addr_T(I(p, l))  and  sigma(I(p, l)) == (p, l)|solved
      (a dim indexed by loaded values whose range the kernel does not check is assumed in range, and said);
 (A2) the solved dims really are inverted by sigma: for an element i in T and free ids r with the solved ids
      sigma(i) in range and mask(sigma(i), r):  I_d(sigma(i), r) == i_d  for each solved dim d;
 (B)  the formula's body equals T_before[i] R  R_{r free} where(sigma(i) in range & mask & I_d == i_d for the
      other dims, value, identity)  with the solved ids at sigma(i) (symbolic/atomics.accumulated).
 (C)  the output's view holds each element at an address of its own: proved by z3 where the strides allow
      (contiguous allocations, `out_ptr.view(N)`), else listed as an assumption naming the view (free stride
      parameters).
Given (A1) and (C), the updates landing on addr_T(i) are exactly those with I(p, l) == i, hence with their solved
ids equal to sigma(i): (p, l) = (sigma(i), r) for one free r each. So the filtered reduction over grid x lanes is the reduction over the free ids in (B),
where (A2) lets the solved dims' filters go. Every reduction is then compared as the verifier compares sums.

A failed obligation is a counterexample only after a concrete replay: the launch simulated at those sizes
(every program id and lane, the updates applied to memory), compared with the formula at every element.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace
from typing import Any

from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import evaluate
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import TensorDecl
from tritonlift.ir.printer import to_text
from tritonlift.ir.reductions import canon
from tritonlift.result import Counterexample
from tritonlift.symbolic.atomics import accumulated, combine, solved_dims
from tritonlift.symbolic.values import GRID_PREFIX, lane, pid
from tritonlift.synth.guards import simplify_guards

MAX_UPDATES = 40_000  # program ids x lanes a replay simulates at most
MAX_ELEMENTS = 4_096  # elements of an output a replay compares at most
SEARCH_SIZE = 12  # the random search draws sizes in 1..SEARCH_SIZE


def has_atomics(p: Any) -> bool:
    return any(p.spec.stores[sm.store].atomic for sm in p.store_maps)


def verify_with_atomics(p: Any, timeout_ms: int, seed: int, plain: Any) -> Any:
    """`plain(problem)` (verify/check._verify) proves the plain stores' outputs and the spec's side conditions;
    then the accumulated outputs' obligations (module docstring)."""
    from tritonlift.verify.check import Outcome, _block_facts, _check, _domain, kinds_of

    atomic_maps = [sm for sm in p.store_maps if p.spec.stores[sm.store].atomic]
    targets = list(dict.fromkeys(sm.target for sm in atomic_maps))
    atomic_stores = {sm.store for sm in atomic_maps}
    rest = replace(
        p,
        store_maps=[sm for sm in p.store_maps if sm.store not in atomic_stores],
        witnesses=[w for w in p.witnesses if w.store not in atomic_stores],
        formula=replace(p.formula, assigns=tuple(a for a in p.formula.assigns if a.target not in targets)),
    )
    first = plain(rest)
    if first.status != "verified":
        return first
    n = first.obligations
    assumptions = list(first.assumptions)
    kinds = kinds_of(p)
    tensors = {t.name: t for t in p.formula.tensors}
    assigns = {a.target: a for a in p.formula.assigns}
    facts = _block_facts(p)
    sigmas = {w.store: w.values for w in p.witnesses if w.store in atomic_stores}

    def refute_or(why: str, values: dict[str, Any] | None, model: Any = None, cx: Any = None) -> Any:
        found = replay(p, targets, values, model, cx, tensors, seed) if values is not None else None
        found = found or search(p, targets, tensors, seed)
        if found is not None:
            return Outcome("refuted", n, found)
        return Outcome("unknown", n, message=why)

    for sm in atomic_maps:
        s = p.spec.stores[sm.store]
        decl = tensors[sm.target]
        a = assigns[sm.target]
        sigma = sigmas.get(sm.store, {})
        sub = {ir.var(x): i for x, i in zip(a.index, sm.index, strict=True)}
        hyps = [*facts, *_ranges(p, s), s.mask]
        data = [d for d, e in enumerate(sm.index) if _reads_memory(e)]
        dom = [_domain_of(decl, sm.index, d) for d in range(decl.ndim)]
        inverse = [ir.eq(ir.substitute(e, sub), v) for v, e in sigma.items()]
        where_ = [ir.eq(s.offset, decl.address(sm.index)), *inverse]
        n += 1
        res = _check(hyps, ir.and_(*dom, *where_), kinds, tensors, timeout_ms)
        if (
            res != "proved" and data
        ):  # loaded indices the kernel does not bound: their range is a precondition
            inside = [dom[d] for d in data]
            again = _check(
                [*hyps, *inside],
                ir.and_(*(dom[d] for d in range(decl.ndim) if d not in data), *where_),
                kinds,
                tensors,
                timeout_ms,
            )
            if again == "proved":
                shown = ", ".join(f"0 <= {_shown(sm.index[d])} < {to_text(decl.shape[d])}" for d in data)
                assumptions.append(
                    f"the atomic update at line {s.line} lands inside {sm.target}: {shown} "
                    "wherever it updates (the kernel does not check these indices read from memory)"
                )
                res = again
        if res != "proved":
            if res == "unknown":
                return refute_or(f"solver gave up on where the atomic update at line {s.line} lands", None)
            model, cx = res
            return refute_or(
                f"the atomic update at line {s.line}: solver counterexample did not replay",
                _values(p, model, cx),
                model,
                cx,
            )
        # (A2): the solved dims' filters hold wherever the solved ids are in range
        solved = solved_dims(sm.index, sigma)
        if solved:
            n += 1
            idx = tuple(ir.var(x) for x in a.index)
            at = {**sigma}
            hyps2 = [
                *facts,
                *_domain(decl, idx),
                *_ranges(p, s, skip=set(sigma)),
                *(c for v in sigma for c in _range_of(p, s, v, at[v])),
                ir.substitute(s.mask, at),
            ]
            goal = ir.and_(*(ir.eq(ir.substitute(sm.index[d], at), idx[d]) for d in solved))
            res = _check(hyps2, goal, kinds, tensors, timeout_ms)
            if res != "proved":
                if res == "unknown":
                    return refute_or(
                        f"solver gave up on which element the update at line {s.line} writes", None
                    )
                model, cx = res
                return refute_or(
                    f"the update at line {s.line}: the element's inverse did not replay",
                    _values(p, model, cx),
                    model,
                    cx,
                )
    for target in targets:
        a = assigns[target]
        decl = tensors[target]
        idx = tuple(ir.var(x) for x in a.index)
        n += 1
        if not _injective(decl, facts, kinds, tensors, timeout_ms):  # said, naming the view, where not proved
            assumptions.append(
                f"the view {target} = as_strided({decl.base}, ({', '.join(to_text(x) for x in decl.shape)}), "
                f"({', '.join(to_text(x) for x in decl.strides)})) holds each element at an address of its own "
                "(not proved from the kernel's facts; elements sharing an address would receive each other's updates)"
            )
        expected: Expr = p.initial.get(target, ir.mem(decl.base, decl.address(idx)))
        for j, sm in enumerate(m for m in atomic_maps if m.target == target):
            s = p.spec.stores[sm.store]
            expected = combine(
                s.combine,
                expected,
                accumulated(
                    s, s.value, s.mask, sm.index, sigmas.get(sm.store, {}), idx, tuple(p.grid), f"v{j}"
                ),
            )
        hyps = [*facts, *_domain(decl, idx)]
        lhs, rhs = _settle(a.body, hyps), _settle(expected, hyps)
        n += 1
        goal = ir.eq(lhs, rhs)
        if lhs == rhs or _proved(hyps, goal, kinds, tensors, timeout_ms):
            continue
        res = _check(hyps, goal, kinds, tensors, timeout_ms)
        if res == "proved":
            continue
        if res == "unknown":
            return refute_or(f"solver gave up on the value of {target}", None)
        model, cx = res
        return refute_or(f"{target}: solver counterexample did not replay", _values(p, model, cx), model, cx)
    return Outcome("verified", n, assumptions=assumptions)


def _injective(
    decl: TensorDecl,
    facts: list[Expr],
    kinds: dict[str, Kind],
    tensors: dict[str, TensorDecl],
    timeout_ms: int,
) -> bool:
    """Two elements of the view at one address are the same element (z3, for every size)."""
    from tritonlift.verify.check import _check

    if decl.ndim == 0:
        return True
    a = tuple(ir.var(f"_inj_a{d}") for d in range(decl.ndim))
    b = tuple(ir.var(f"_inj_b{d}") for d in range(decl.ndim))
    hyps = list(facts)
    for x, y, e in zip(a, b, decl.shape, strict=True):
        hyps += [ir.le(ir.ZERO, x), ir.lt(x, e), ir.le(ir.ZERO, y), ir.lt(y, e)]
    hyps.append(ir.eq(decl.address(a), decl.address(b)))
    goal = ir.and_(*(ir.eq(x, y) for x, y in zip(a, b, strict=True)))
    return _check(hyps, goal, kinds, tensors, min(timeout_ms, 5000)) == "proved"


def _shown(e: Expr) -> str:
    """An index over program ids and lanes as text: `x_ptr[pid0 * BLOCK + lane0]` for a pointer-level read."""
    from tritonlift.symbolic.values import LANE_PREFIX, PID_PREFIX

    def step(n: Expr) -> Expr | None:
        if n.op is Op.MEM:
            return ir.read(str(n.attr), n.args[0])
        if n.op is Op.VAR and str(n.attr).startswith(PID_PREFIX):
            return ir.var("pid" + str(n.attr)[len(PID_PREFIX) :])
        if n.op is Op.VAR and str(n.attr).startswith(LANE_PREFIX):
            return ir.var("lane" + str(n.attr)[len(LANE_PREFIX) :])
        return None

    return to_text(ir.transform(e, step))


def _proved(
    hyps: list[Expr], goal: Expr, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], timeout_ms: int
) -> bool:
    from tritonlift.verify.check import _has_reduction, _sum_algebra

    return _has_reduction(goal) and _sum_algebra(hyps, goal, kinds, tensors, timeout_ms)


def _settle(e: Expr, hyps: list[Expr]) -> Expr:
    """Canonical reductions and the guards the hypotheses decide dropped: an identity under them."""
    for _ in range(3):
        new = canon(simplify_guards(canon(e), hyps))
        if new == e:
            break
        e = new
    return e


def _reads_memory(e: Expr) -> bool:
    return any(n.op in (Op.MEM, Op.READ, Op.UNDEF) for n in ir.walk(e))


def _domain_of(decl: TensorDecl, index: tuple[Expr, ...], d: int) -> Expr:
    return ir.and_(ir.le(ir.ZERO, index[d]), ir.lt(index[d], decl.shape[d]))


def _extent(p: Any, s: Any, v: Expr) -> Expr:
    from tritonlift.symbolic.values import LANE_PREFIX, PID_PREFIX

    name = str(v.attr)
    if name.startswith(PID_PREFIX):
        return p.grid[int(name[len(PID_PREFIX) :])]
    return s.shape[int(name[len(LANE_PREFIX) :])]


def _range_of(p: Any, s: Any, v: Expr, at: Expr) -> list[Expr]:
    return [ir.le(ir.ZERO, at), ir.lt(at, _extent(p, s, v))]


def _ranges(p: Any, s: Any, skip: set[Expr] | None = None) -> list[Expr]:
    """Program ids (the launch grid and storing loops) and lanes in range; block sizes at least 1."""
    skip = skip or set()
    out: list[Expr] = []
    for k, g in enumerate(p.grid):
        if pid(k) not in skip:
            out += [ir.le(ir.ZERO, pid(k)), ir.lt(pid(k), g)]
    for k, ext in enumerate(s.shape):
        if lane(k) not in skip:
            out += [ir.le(ir.ZERO, lane(k)), ir.lt(lane(k), ext)]
        if not ext.is_const:
            out.append(ir.le(ir.ONE, ext))
    return out


# -- concrete replay: the launch simulated ------------------------------------------------------------------


def _values(p: Any, model: Any, cx: Any) -> dict[str, Any]:
    from tritonlift.verify.check import _symbol_values

    values = _symbol_values(model, cx)
    for name, kind in p.spec.scalars.items():
        values.setdefault(name, 1.0 if kind is Kind.REAL else 1)
    return values


def replay(
    p: Any,
    targets: list[str],
    values: dict[str, Any],
    model: Any,
    cx: Any,
    tensors: dict[str, TensorDecl],
    seed: int,
) -> Counterexample | None:
    """The launch at the sizes of `values`, every update applied, against the formula at every element."""
    from tritonlift.verify.check import _Memory

    for attempt in range(4):
        memory = _Memory(model, cx, None if attempt == 0 else random.Random(seed * 7919 + attempt))
        found = simulate(p, targets, values, memory, tensors)
        if found is not None:
            return found
    return None


def search(
    p: Any,
    targets: list[str],
    tensors: dict[str, TensorDecl],
    seed: int,
    tries: int = 60,
) -> Counterexample | None:
    """Random small sizes (the facts holding), simulated with random memory: a counterexample or None."""
    from tritonlift.verify.check import _block_facts, _Memory
    from tritonlift.verify.search import _holds, _symbols

    facts = _block_facts(p)
    syms: dict[str, Kind] = {}
    for sm in p.store_maps:
        syms.update(_symbols(p, p.spec.stores[sm.store]))
    rng = random.Random(seed * 15485863 + 7)
    for _ in range(tries * 20):
        values: dict[str, Any] = {}
        for name, kind in sorted(syms.items()):
            if kind is Kind.INT:
                values[name] = rng.randint(1, SEARCH_SIZE)
            elif kind is Kind.BOOL:
                values[name] = rng.random() < 0.5
            else:
                values[name] = round(rng.uniform(-2, 2), 3)
        if not all(_holds(f, values) for f in facts):
            continue
        tries -= 1
        found = simulate(p, targets, values, _Memory(None, None, random.Random(rng.random())), tensors)
        if found is not None:
            return found
        if tries <= 0:
            break
    return None


def simulate(
    p: Any,
    targets: list[str],
    values: dict[str, Any],
    memory: Any,
    tensors: dict[str, TensorDecl],
) -> Counterexample | None:
    """Run every atomic update of the launch at concrete sizes; compare each target element with the formula.

    Inputs outside the formula's precondition are no evidence: an update whose address is computed from memory
    landing outside the output, or at the address its index hint gives with a loaded index out of its dim's
    range (it lands on another element: the precondition the proof assumes where the kernel does not check)."""
    hints = {sm.store: sm.index for sm in p.store_maps}
    from tritonlift.verify.check import _differs, _env

    env = _env(values, memory, tensors)
    try:
        grid = [int(evaluate(g, env)) for g in p.grid]
    except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
        return None
    if any(g < 0 for g in grid):
        return None
    assigns = {a.target: a for a in p.formula.assigns}
    for target in targets:
        decl = tensors[target]
        a = assigns[target]
        nums = [sm.store for sm in p.store_maps if sm.target == target]
        try:
            shape = [int(evaluate(x, env)) for x in decl.shape]
        except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
            return None
        if math.prod(shape) > MAX_ELEMENTS or min(shape, default=1) < 0:
            return None
        elements = list(itertools.product(*(range(x) for x in shape)))
        try:
            inside = {
                int(evaluate(decl.address(tuple(ir.const(i) for i in index)), env)) for index in elements
            }
        except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
            return None
        updates: dict[int, list[float]] = {}
        lines: dict[int, int] = {}
        op = p.spec.stores[nums[0]].combine
        for k in nums:
            s = p.spec.stores[k]
            try:
                exts = [int(evaluate(x, env)) for x in s.shape]
            except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
                return None
            if math.prod(grid) * math.prod(exts) > MAX_UPDATES:
                return None
            for ids in itertools.product(*(range(g) for g in grid), *(range(x) for x in exts)):
                point = dict(values)
                point.update({str(pid(j).attr): ids[j] for j in range(len(grid))})
                point.update({str(lane(j).attr): ids[len(grid) + j] for j in range(len(exts))})
                e = _env(point, memory, tensors)
                try:
                    if not evaluate(s.mask, e):
                        continue
                    addr = int(evaluate(s.offset, e))
                    v = float(evaluate(s.value, e))
                    # an address computed from memory outside the output: inputs the formula's precondition
                    # excludes (it is assumed where the kernel does not check it), so no evidence either way
                    if addr not in inside and _reads_memory(s.offset):
                        return None
                    if _reads_memory(s.offset) and not _in_range(hints[k], decl, addr, e, env):
                        return None
                except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                    return None
                updates.setdefault(addr, []).append(v)
                lines.setdefault(addr, s.line)
        for index in elements:
            point = {**values, **dict(zip(a.index, index, strict=True))}
            e = _env(point, memory, tensors)
            try:
                addr = int(evaluate(decl.address(tuple(ir.const(i) for i in index)), e))
                kernel = (
                    memory(decl.base, addr)
                    if target not in p.initial
                    else float(evaluate(p.initial[target], e))
                )
                for v in updates.get(addr, []):
                    kernel = _apply(op, kernel, v)
                formula = float(evaluate(a.body, e))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                continue
            if math.isnan(kernel) and math.isnan(formula):
                continue
            if _differs(kernel, formula):
                where_ = ", ".join(map(str, index))
                return _cx(
                    p,
                    point,
                    a.index,
                    memory,
                    kernel,
                    formula,
                    f"{target}[{where_}]: after the launch's atomic updates it holds {kernel!r}, the formula "
                    f"gives {formula!r}",
                )
        outside = sorted(addr for addr in updates if addr not in inside)
        if outside:
            addr = outside[0]
            return _cx(
                p,
                values,
                a.index,
                memory,
                "updated",
                "not in the output",
                f"the atomic update at line {lines[addr]} writes element offset {addr} of {decl.base}, "
                f"outside the formula's {target}",
            )
    return None


def _in_range(index: tuple[Expr, ...], decl: TensorDecl, addr: int, e: Any, env: Any) -> bool:
    """False when the hint's element is at `addr` and one of its loaded indices is outside its dim."""
    at = [int(evaluate(i, e)) for i in index]
    if int(evaluate(decl.address(tuple(ir.const(i) for i in at)), env)) != addr:
        return True  # the hint is wrong here (a fault the replay may show): only the address decides
    shape = [int(evaluate(x, env)) for x in decl.shape]
    return all(0 <= i < n for i, n, h in zip(at, shape, index, strict=True) if _reads_memory(h))


def _apply(op: Op, a: float, b: float) -> float:
    if op is Op.SUM:
        return a + b
    return max(a, b) if op is Op.RMAX else min(a, b)


def _cx(
    p: Any, values: dict[str, Any], index_names: tuple[str, ...], memory: Any, kv: Any, fv: Any, reason: str
) -> Counterexample:
    sizes = {
        k: v
        for k, v in values.items()
        if k in p.spec.scalars or k.startswith(GRID_PREFIX) or k.endswith(".numel()")
    }
    index = {k: v for k, v in values.items() if k in index_names}
    inputs = {f"{b}[{a}]": v for (b, a), v in sorted(memory.cells.items())}
    return Counterexample(
        sizes=sizes, index=index, inputs=inputs, kernel_value=kv, formula_value=fv, reason=reason
    )
