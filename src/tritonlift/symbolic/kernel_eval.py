"""Evaluate a @triton.jit kernel as a tile program, for all program ids and lanes at once -> KernelSpec."""

from __future__ import annotations

import ast
import contextlib
import math
import operator
from dataclasses import dataclass, replace
from typing import Any

from tritonlift.errors import Unsupported
from tritonlift.frontend.source import JitFunction, SourceModule, load_module_cached, qualname
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm
from tritonlift.ir.reductions import canon
from tritonlift.symbolic import block_ptr as bptr
from tritonlift.symbolic import streamk
from tritonlift.symbolic.atomics import COMBINE, AtomicOld, atomic_update, check_order, integer_offset
from tritonlift.symbolic.block_ptr import BlockPtr
from tritonlift.symbolic.dot import PRECISION_ARGS
from tritonlift.symbolic.dot import dot as dot_block
from tritonlift.symbolic.dtypes import BITWIDTH, FLOAT_ELEMENT_TYPES, ElementTypeNeeded
from tritonlift.symbolic.liveness import live_at_entry
from tritonlift.symbolic.loops import (
    mentions_placeholder,
    online_softmax,
    placeholder,
    replace_placeholder,
    summarize,
    tile_elem,
)
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.store_mask import under_mask
from tritonlift.symbolic.tl_table import (
    BINARY_MATH,
    DTYPES,
    NOT_MODELLED,
    PLANNED,
    PREDICATES,
    SPECIAL,
    UNARY_MATH,
    tl_function,
)
from tritonlift.symbolic.values import (
    Block,
    DType,
    PtrBlock,
    Tile,
    broadcast_shapes,
    broadcast_to,
    grid_var,
    lane,
    pid,
    scalar,
    shift_lanes,
    tile_expr,
)
from tritonlift.symbolic.welford import welford_m2, welford_mean

MAX_UNROLL = 64


@dataclass(frozen=True)
class ModuleRef:
    qual: str


@dataclass(frozen=True)
class FnRef:
    qual: str


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


@dataclass(frozen=True)
class SignedBits:
    """The bits of a float block as a signed integer of the same width (`x.to(tl.int32, bitcast=True)`): only
    its sign is known (the float's sign bit), so comparing it with 0 is its only use."""

    shape: tuple[Expr, ...]
    elem: Expr  # the float


def to_tile(v: Any, line: int = 0) -> Tile:
    if isinstance(v, (Block, PtrBlock)):
        return v
    if isinstance(v, SignedBits):
        raise Unsupported(".to(..., bitcast=True): bit casts are not modelled beyond their sign (`bits < 0`)", "",
                          line)
    if isinstance(v, AtomicOld):  # the value a tl.atomic_* returns: order-dependent (symbolic/atomics.py)
        raise v.error()
    if isinstance(v, bool):
        return scalar(ir.const(v))
    if isinstance(v, int):
        return scalar(ir.const(v))
    if isinstance(v, float):
        return scalar(ir.const(v))
    if isinstance(v, Expr):
        return scalar(v)
    raise Unsupported(f"expected a tensor value, got {type(v).__name__}", "", line)


def is_static(v: Any) -> bool:
    return isinstance(v, (bool, int, float, str, type(None), DType, tuple))


_PY_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}
_PY_CMPS = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_IR_CMPS = {ast.Lt: Op.LT, ast.LtE: Op.LE, ast.Gt: Op.GT, ast.GtE: Op.GE, ast.Eq: Op.EQ, ast.NotEq: Op.NE}


def _built_from(e: Expr, constexprs: set[str], fixed: set[Expr]) -> bool:
    """e is made of constants, constexpr names and the values bound to constexprs (`fixed`) alone."""
    if e in fixed or e.op is Op.CONST or (e.op is Op.VAR and str(e.attr) in constexprs):
        return True
    return bool(e.args) and all(_built_from(a, constexprs, fixed) for a in e.args)


class KernelEvaluator:
    """One evaluation of one kernel. All state is on the instance: two evaluations never share it."""

    def __init__(
        self,
        module: SourceModule,
        fn: JitFunction,
        bindings: dict[str, Any],
        pointers: list[str],
        scalars: dict[str, Kind],
        grid: tuple[Expr, ...],
        invariant_patterns: bool = True,  # off (ablation): loops with a symbolic trip count are not summarized
        elem_dtypes: dict[str, str] | None = None,  # pointer -> its element type, where one is chosen (dtypes.py)
    ):
        self.invariant_patterns = invariant_patterns
        self.elem_dtypes = dict(elem_dtypes or {})
        self.module = module
        self.fn = fn
        self.file = fn.file
        self.bindings = bindings
        self.pointers = pointers
        self.scalars = scalars
        self.grid = grid
        self.stores: list[Store] = []
        self.path: Expr = ir.TRUE
        self.scopes: list[dict[str, Any]] = []
        self.line = fn.line
        self.counter = 0
        self.notes: list[str] = []
        self.invariants: list[str] = []
        self.depth = 0
        self.loops: list[Expr] = []  # trip counts of the loops that store (see KernelSpec.loops)
        self.side: list[tuple[Expr, Expr, str]] = []  # side conditions of pattern instances (KernelSpec.side)
        self.facts: list[Expr] = []  # what the language guarantees (a tl.arange is never empty)
        self.streamk: streamk.Mode | None = None  # inside a work-partitioned loop's body (symbolic/streamk.py)
        self.zeroed: frozenset[str] = frozenset()  # pointer parameters a host launch passes zero-filled
        self.probe_only = False  # stop after a stream-K loop's general-segment checks (streamk.generic_probe)

    # -- errors ------------------------------------------------------------------------------------
    def unsupported(self, what: str, node: ast.AST | None = None) -> Unsupported:
        line = getattr(node, "lineno", self.line) if node is not None else self.line
        return Unsupported(what, self.file, line)

    # -- entry -------------------------------------------------------------------------------------
    def prescan(self) -> None:
        """Name the first deliberately unmodelled construct before evaluating anything."""
        locks = streamk.allowed_lock_calls(self.fn.node, self)  # a stream-K loop's locks: checked there
        for node in ast.walk(self.fn.node):
            if isinstance(node, ast.Call) and id(node) not in locks:
                name = tl_function(qualname(node.func, self.module.aliases) or "")
                if name in NOT_MODELLED:
                    raise Unsupported(f"tl.{name}: {NOT_MODELLED[name]}", self.file, node.lineno)

    def run(self) -> KernelSpec:
        self.prescan()
        scope: dict[str, Any] = {}
        for p in self.fn.params:
            if p.name in self.bindings:
                scope[p.name] = self.bindings[p.name]
            elif p.name in self.pointers:
                scope[p.name] = PtrBlock((), p.name, ir.ZERO)
            else:
                scope[p.name] = scalar(ir.var(p.name, self.scalars.get(p.name, Kind.INT)))
        self.scopes.append(scope)
        with contextlib.suppress(_Return):  # `return` ends the kernel (its path condition is recorded)
            self.exec_body(self.fn.node.body)
        check_order(self.stores, self.file)  # atomic updates whose result depends on their order: unsupported
        # reductions in canonical form (ir.reductions): a loop over tiles becomes one reduction over the
        # flattened index, masks become bounds
        self.stores = [self.drop_lower_bounds(s) for s in self.stores]
        # (guards the store's own mask decides dropped first: symbolic/store_mask.py)
        self.stores = [replace(s, value=canon(under_mask(s.value, s.mask))) for s in self.stores]
        return KernelSpec(
            name=self.fn.name, file=self.file, line=self.fn.line, pointers=list(self.pointers),
            scalars=dict(self.scalars), grid=self.grid, stores=self.stores, notes=self.notes,
            invariants=self.invariants, loops=self.loops, side=self.side, facts=list(dict.fromkeys(self.facts)),
        )

    def drop_lower_bounds(self, s: Store) -> Store:
        """The store without the `0 <= offset + lane` conjuncts of boundary checks that hold anyway
        (symbolic/block_ptr.py: exact, each one proved by z3 from program ids, lanes and bound indices)."""
        context = [ir.le(ir.ZERO, pid(k)) for k in range(len(self.grid))]
        for d, ext in enumerate(s.shape):
            context += [ir.le(ir.ZERO, lane(d)), ir.lt(lane(d), ext), ir.le(ir.ONE, ext)]
        value, mask = bptr.drop_implied_lower_bounds(s.value, s.mask, context)
        return replace(s, value=value, mask=mask)

    # -- statements --------------------------------------------------------------------------------
    def exec_body(self, body: list[ast.stmt]) -> None:
        for st in body:
            self.exec_stmt(st)

    def exec_stmt(self, st: ast.stmt) -> None:
        self.line = st.lineno
        match st:
            case ast.Assign(targets=targets, value=value):
                v = self.eval(value)
                for t in targets:
                    self.assign(t, v)
            case ast.AnnAssign(target=target, value=value) if value is not None:
                self.assign(target, self.eval(value))
            case ast.AugAssign(target=ast.Name(id=name), op=op, value=value):
                self.assign(st.target, self.binop(op, self.lookup(name, st), self.eval(value), st))
            case ast.Expr(value=value):
                if isinstance(value, ast.Constant):  # docstring
                    return
                self.eval(value)
            case ast.If(test=test, body=body, orelse=orelse):
                self.exec_if(test, body, orelse, st)
            case ast.Return(value=value):
                raise _Return(None if value is None else self.eval(value))
            case ast.Pass():
                return
            case ast.Assert():
                return  # host-language asserts in kernels are compile-time checks
            case ast.For():
                self.exec_for(st)
            case ast.While():
                streamk.exec_while(self, st)  # a work-partitioned (stream-K) loop; other while loops: unsupported
            case _:
                raise self.unsupported(f"statement {type(st).__name__} is not modelled", st)

    def exec_if(self, test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt], st: ast.stmt) -> None:
        c = self.eval(test)
        if self.streamk is not None and (d := streamk.decide(self, c)) is not None:
            c = d  # decided by the segment's facts (symbolic/streamk.py)
        if is_static(c) and not isinstance(c, tuple):
            self.exec_body(body if c else orelse)
            return
        cond = self.bool_scalar(c, st)
        if self.always_returns(body) and not orelse:  # `if pid >= n: return`
            self.path = ir.and_(self.path, ir.not_(cond))
            return
        outer = self.path
        before = dict(self.scopes[-1])
        self.path = ir.and_(outer, cond)
        self.exec_body(body)
        after_then = dict(self.scopes[-1])
        self.scopes[-1] = dict(before)
        self.path = ir.and_(outer, ir.not_(cond))
        self.exec_body(orelse)
        after_else = self.scopes[-1]
        self.path = outer
        self.scopes[-1] = self.merge(cond, after_then, after_else, st)

    def merge(self, cond: Expr, then: dict[str, Any], other: dict[str, Any], st: ast.stmt) -> dict[str, Any]:
        """The scope after `if cond:`. On a constexpr condition Triton compiles one branch only, so a name
        bound on one side keeps that side's value (a use where the compiled branch did not bind it does not
        compile), and `mask = None` (no mask) against a mask block becomes the all-true mask on that side.
        On a runtime condition such names are dropped, as Triton drops them."""
        compile_time = self.is_compile_time(cond)
        merged: dict[str, Any] = {}
        for name in set(then) | set(other):
            a, b = then.get(name, _MISSING), other.get(name, _MISSING)
            if a is b or (is_static(a) and a == b):
                merged[name] = a
            elif a is _MISSING or b is _MISSING:
                if compile_time:
                    merged[name] = b if a is _MISSING else a
            elif compile_time and (a is None) != (b is None) and _is_mask(b if a is None else a):
                merged[name] = self.select(cond, scalar(ir.TRUE) if a is None else a,
                                           scalar(ir.TRUE) if b is None else b, st)
            elif a is None or b is None:
                continue  # None on one side only: unusable afterwards
            else:
                merged[name] = self.select(cond, a, b, st)
        return merged

    def is_compile_time(self, cond: Expr) -> bool:
        """cond depends only on the kernel's constexpr parameters (not on program ids, lanes or memory): on
        their names, or on the values a launch binds them to (an operator's heuristics `DIVISIBLE_M = M %
        TILE_M == 0`: Triton specialises the kernel on that value, whatever it is made of)."""
        constexprs = {p.name for p in self.fn.params if p.constexpr}
        if not any(n.op in (Op.MEM, Op.UNDEF) for n in ir.walk(cond)):
            fixed = {b.elem for n, b in self.bindings.items()
                     if n in constexprs and isinstance(b, Block) and not isinstance(b, PtrBlock) and b.rank == 0}
            return _built_from(cond, constexprs, fixed)
        return False

    @staticmethod
    def always_returns(body: list[ast.stmt]) -> bool:
        return bool(body) and isinstance(body[-1], ast.Return) and body[-1].value is None

    def exec_for(self, st: ast.For) -> None:
        it = st.iter
        if not (isinstance(it, ast.Call) and st.orelse == []):
            raise self.unsupported("for loop over a non-range iterable", st)
        q = qualname(it.func, self.module.aliases) or ""
        if q not in ("range",) and tl_function(q) not in ("range", "static_range"):
            raise self.unsupported("for loop over a non-range iterable", st)
        bounds = [self.eval(a) for a in it.args]
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
            self.exec_symbolic_for(st, bounds)
            return
        rng = range(*bounds)
        if len(rng) > MAX_UNROLL:
            raise self.unsupported(f"loop of {len(rng)} iterations: only loops up to {MAX_UNROLL} unroll", st)
        if not isinstance(st.target, ast.Name):
            raise self.unsupported("loop target must be a name", st)
        for k in rng:
            self.scopes[-1][st.target.id] = k
            self.exec_body(st.body)

    def exec_symbolic_for(self, st: ast.For, bounds: list[Any]) -> None:
        """A loop of T = cdiv(stop - start, step) iterations, T symbolic: summarized by invariant patterns
        (symbolic/loops.py), never unrolled."""
        if not isinstance(st.target, ast.Name):
            raise self.unsupported("loop target must be a name", st)
        ints = [self.int_scalar(b, st) for b in bounds]
        start, stop, step = (ir.ZERO, ints[0], ir.ONE) if len(ints) == 1 else (*ints, ir.ONE)[:3]
        if step.is_const and int(step.value) < 1:
            raise self.unsupported("loop step must be positive", st)
        if not step.is_const:
            from tritonlift.ir.printer import to_text

            self.notes.append(f"loop at line {st.lineno}: its step {to_text(step)} is taken to be >= 1")
        trips = ir.maximum(ir.arith(Op.FLOORDIV, ir.sub(ir.add(ir.sub(stop, start), step), ir.ONE), step), ir.ZERO)
        if one_trip(trips, step):  # `range(n - 1, n)`, `range(0, B, B)`: the body runs once, at `start`
            self.scopes[-1][st.target.id] = scalar(start)
            self.exec_body(st.body)
            self.notes.append(f"loop at line {st.lineno}: exactly one iteration (step >= 1)")
            return
        # a loop that stores: its iteration is an index variable like a program id (one more axis), so
        # each write is matched to the element it writes exactly as a program's writes are
        writes = self.stores_in(st)
        if writes:
            tv = pid(len(self.grid) + len(self.loops))
            t = str(tv.attr)
            self.loops.append(trips)
        else:
            t = self.fresh("t")
            tv = ir.var(t)
        scope = self.scopes[-1]
        # every name the body binds, tuple targets included (`m, d = ...`): a carried value must be summarized
        assigned = {n.id for node in ast.walk(st)
                    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                    for target in ([*node.targets] if isinstance(node, ast.Assign) else [node.target])
                    for n in ast.walk(target) if isinstance(n, ast.Name)}
        # carried: read before written in the body (a name the body recomputes first is dead at entry)
        carried = sorted(n for n in assigned if n in scope and n != st.target.id and live_at_entry(st.body, n))
        if carried and not self.invariant_patterns:
            from tritonlift.errors import Unknown

            raise Unknown(f"loop-carried {', '.join(carried)} over a symbolic trip count: without invariant "
                          "patterns there is no proof for every trip count (--no-invariant-patterns)",
                          self.file, st.lineno)
        before = dict(scope)
        places: dict[str, tuple[str, Expr, tuple[Expr, ...]]] = {}
        # a carried block pointer is its offsets: one scalar carried value per dimension (symbolic/block_ptr.py)
        block_ptrs = {n: before[n] for n in carried if isinstance(before[n], BlockPtr)}
        slots = [s for n in carried
                 for s in ([bptr.component_name(n, d) for d in range(before[n].rank)] if n in block_ptrs else [n])]
        for name, bp in block_ptrs.items():
            phs = []
            for d, off in enumerate(bp.offsets):
                c = bptr.component_name(name, d)
                before[c] = scalar(off)
                places[c] = ("block", placeholder(c, (), off.kind), ())
                phs.append(places[c][1])
            scope[name] = bp.with_offsets(tuple(phs))
        for name in carried:
            if name in block_ptrs:
                continue
            v = before[name]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = scalar(ir.const(v))
                before[name] = v
            te = tile_elem(v)
            if te is None:
                raise self.unsupported(f"loop-carried `{name}` is not a tile or number", st)
            kind, elem, shape = te
            ph = placeholder(name, shape, elem.kind)
            places[name] = (kind, ph, shape)
            scope[name] = PtrBlock(shape, v.base, ph) if kind == "ptr" else Block(shape, ph)
        scope[st.target.id] = scalar(ir.add(start, ir.mul(tv, step)))
        n_stores = len(self.stores)
        saved_path = self.path
        in_loop = ir.and_(self.path, ir.le(ir.ZERO, tv), ir.lt(tv, trips))  # iteration t of this loop runs
        if writes:
            self.path = in_loop
        if self.streamk is not None:
            self.streamk.ranges += [ir.le(ir.ZERO, tv), ir.lt(tv, trips)]
        self.exec_body(st.body)
        if self.streamk is not None:
            del self.streamk.ranges[-2:]
        self.path = saved_path
        if len(self.stores) > n_stores and not writes:
            raise self.unsupported("stores inside a loop with a symbolic trip count through a helper function "
                                   "are not modelled yet", st)
        after = dict(self.scopes[-1])
        for name, bp in block_ptrs.items():
            new_bp = after.get(name)
            if not isinstance(new_bp, BlockPtr) or new_bp.with_offsets(bp.offsets) != bp:
                raise self.unsupported(f"loop-carried block pointer `{name}` changes other than by tl.advance", st)
            for d, off in enumerate(new_bp.offsets):
                after[bptr.component_name(name, d)] = scalar(off)
        # close the carried variables: those whose step reads no other carried value first
        done: dict[str, Any] = {}
        pending = list(slots)
        while pending:
            progress = False
            for name in list(pending):
                kind, ph, shape = places[name]
                new = after.get(name)
                te = tile_elem(new)
                if te is None:
                    raise self.unsupported(f"loop-carried `{name}` changes kind in the loop", st)
                _, elem, new_shape = te
                for other, summ in done.items():
                    elem = replace_placeholder(elem, other, summ.at, len(places[other][2]))
                if any(mentions_placeholder(elem, o) for o in pending if o != name):
                    continue
                init_t = tile_elem(before[name])
                assert init_t is not None
                if len(new_shape) != len(shape):
                    raise self.unsupported(f"loop-carried `{name}` changes shape in the loop", st)
                # Welford's M2 (symbolic/welford) before plain accumulation: its step reads the running mean,
                # and only the Welford closed form says what the sum of those steps is
                m2 = [x for o, summ in done.items() if (x := welford_m2(
                    o, summ, init_t[1], elem, ph, t, trips, self.fresh("r"), len(places[o][2])))]
                try:
                    if m2:
                        summ = m2[0]
                    else:
                        summ = summarize(name, init_t[1], elem, ph, t, trips, st.lineno, self.file, self.fresh("r"))
                except Unsupported:
                    # a pair of carried values: online softmax's denominator, rescaled by a running max
                    found = [x for o in done.values()
                             if (x := online_softmax(name, init_t[1], elem, ph, t, trips, o, self.fresh("r")))]
                    # Welford: a running mean over the iteration count, and the M2 it updates (symbolic/welford)
                    found = found or [x for x in [welford_mean(init_t[1], elem, ph, t, trips, self.fresh("r"))] if x]
                    if not found:
                        raise
                    summ = found[0]
                    self.side += [(in_loop, goal, what) for goal, what in summ.side or []]
                done[name] = summ
                pending.remove(name)
                progress = True
            if not progress:
                raise self.unsupported(f"loop-carried values {', '.join(pending)} depend on each other "
                                       "(only the online-softmax pair is planned)", st)
        # the loop's writes see each carried value as it is at the start of their iteration
        for k in range(n_stores, len(self.stores)):
            s = self.stores[k]
            fix = [s.offset, s.value, s.mask]
            for name, summ in done.items():
                fix = [replace_placeholder(e, name, summ.at, len(places[name][2])) for e in fix]
            if any(mentions_placeholder(e) for e in fix):
                raise self.unsupported("a store inside the loop reads a loop-carried value that is not summarized", st)
            self.stores[k] = replace(s, offset=fix[0], value=fix[1], mask=fix[2])
        for name in carried:
            if name in block_ptrs:
                closed_offs = tuple(done[bptr.component_name(name, d)].closed for d in range(block_ptrs[name].rank))
                self.scopes[-1][name] = block_ptrs[name].with_offsets(closed_offs)
                continue
            kind, _, shape = places[name]
            closed = done[name].closed
            old = before[name]
            self.scopes[-1][name] = PtrBlock(shape, old.base, closed) if kind == "ptr" else Block(shape, closed)
        self.invariants += [f"loop at line {st.lineno}: {n} by {done[n].pattern}" for n in slots]
        # the loop variable and the names assigned inside the loop but not carried are not usable after it
        # (their last value is symbolic in t, or the value from before the loop when it runs no iteration)
        self.scopes[-1].pop(st.target.id, None)
        for name in assigned - set(carried):
            self.scopes[-1].pop(name, None)

    def stores_in(self, st: ast.For) -> bool:
        """Whether the loop's own code calls tl.store or an atomic update (helpers it calls are checked when
        they run)."""
        return any(
            isinstance(n, ast.Call) and tl_function(qualname(n.func, self.module.aliases) or "") in ("store", *COMBINE)
            for n in ast.walk(st)
        )

    def int_scalar(self, v: Any, node: ast.AST) -> Expr:
        if isinstance(v, bool):
            raise self.unsupported("loop bound is a boolean", node)
        if isinstance(v, int):
            return ir.const(v)
        t = to_tile(v, self.line)
        if not isinstance(t, Block) or t.shape != () or t.elem.kind is not Kind.INT:
            raise self.unsupported("loop bound is not an integer scalar", node)
        return t.elem

    def assign(self, target: ast.expr, v: Any) -> None:
        if isinstance(target, ast.Name):
            self.scopes[-1][target.id] = v
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(v, (tuple, list)) or len(v) != len(target.elts):
                raise self.unsupported("tuple assignment of a non-tuple", target)
            for t, x in zip(target.elts, v, strict=True):
                self.assign(t, x)
        else:
            raise self.unsupported(f"assignment to {type(target).__name__}", target)

    # -- names -------------------------------------------------------------------------------------
    def lookup(self, name: str, node: ast.AST) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.module.jit:
            return self.module.jit[name]
        if name in self.module.aliases:
            imported = self.module.imported_jit(name) if tl_function(self.module.aliases[name]) is None else None
            return imported if imported is not None else self.ref(self.module.aliases[name])
        if name in self.module.constants:
            return self.eval_const(self.module.constants[name], node)
        if name in ("float", "int", "min", "max", "range", "len", "abs", "bool", "print", "isinstance"):
            return FnRef(name)
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        raise self.unsupported(f"unknown name {name!r}", node)

    def eval_const(self, node: ast.expr, at: ast.AST) -> Any:
        v = self.eval(node)
        if not is_static(v) and not isinstance(v, (ModuleRef, FnRef)):
            raise self.unsupported("module-level value is not a compile-time constant", at)
        return v

    def ref(self, qual: str) -> Any:
        fn = tl_function(qual)
        if fn is not None and fn in DTYPES:
            return DType(DTYPES[fn])
        if qual.startswith("math.") and qual[5:] in ("pi", "e", "tau", "inf", "nan"):
            return getattr(math, qual[5:])
        if qual in ("triton.language", "triton", "math") or fn is None:
            return ModuleRef(qual) if qual.count(".") < 5 else FnRef(qual)
        return FnRef(qual)

    # -- expressions -------------------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                return self.lookup(name, node)
            case ast.Attribute():
                return self.eval_attr(node)
            case ast.Call():
                return self.eval_call(node)
            case ast.BinOp(left=left, op=op, right=right):
                return self.binop(op, self.eval(left), self.eval(right), node)
            case ast.UnaryOp(op=op, operand=operand):
                return self.unop(op, self.eval(operand), node)
            case ast.Compare(left=left, ops=[op], comparators=[right]):
                return self.compare(op, self.eval(left), self.eval(right), node)
            case ast.BoolOp(op=op, values=values):
                return self.boolop(op, [self.eval(v) for v in values], node)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                c = self.eval(test)
                if is_static(c):
                    return self.eval(body if c else orelse)
                return self.select(self.bool_scalar(c, node), self.eval(body), self.eval(orelse), node)
            case ast.Subscript(value=value, slice=sl):
                return self.subscript(self.eval(value), sl, node)
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return tuple(self.eval(e) for e in elts)
            case _:
                raise self.unsupported(f"expression {type(node).__name__} is not modelled", node)

    def eval_attr(self, node: ast.Attribute) -> Any:
        base = self.eval(node.value)
        a = node.attr
        if isinstance(base, ModuleRef):
            return self.ref(f"{base.qual}.{a}")
        if isinstance(base, FnRef):
            return self.ref(f"{base.qual}.{a}")
        if isinstance(base, (PtrBlock, BlockPtr)) and a in ("dtype", "type"):
            return DType(f"ptr:{base.base}")
        if isinstance(base, BlockPtr) and a == "advance":
            return ("method", base, a)
        if isinstance(base, DType) and a in ("element_ty", "scalar"):  # ptr: its element type; else itself
            return self.known(DType(f"elem:{base.name[4:]}")) if a == "element_ty" and base.name.startswith("ptr:") else base
        if isinstance(base, Block) and a in ("dtype", "type"):
            return self.known(block_dtype(base))
        if isinstance(base, DType) and a == "primitive_bitwidth":
            if base.name.startswith("elem:"):
                raise ElementTypeNeeded(base.name[5:], ".primitive_bitwidth", self.file, node.lineno)
            if base.name in BITWIDTH:
                return BITWIDTH[base.name]
        if a == "value" and is_static(base):  # tl.constexpr(v).value
            return base
        if isinstance(base, (Block, PtrBlock)) and a == "shape":
            return tuple(int(s.value) if s.is_const else s for s in base.shape)
        if isinstance(base, (Block, PtrBlock)) and a in ("to", "T", "logical_and", "logical_or"):
            if a == "T":  # x.T: the reversed order of the dimensions
                return self.permute(base, (), node)
            return ("method", base, a)
        if isinstance(base, DType) and a.startswith("is_"):
            return ("method", base, a)
        raise self.unsupported(f"attribute .{a} is not modelled", node)

    def known(self, dt: DType) -> DType:
        """A pointer's element type as chosen for this evaluation (symbolic/dtypes.py), else left open."""
        if dt.name.startswith("elem:") and dt.name[5:] in self.elem_dtypes:
            return DType(self.elem_dtypes[dt.name[5:]])
        return dt

    def subscript(self, base: Any, sl: ast.expr, node: ast.AST) -> Any:
        if isinstance(base, (tuple, list)):
            idx = self.eval(sl)
            if isinstance(idx, int):
                return base[idx]
            raise self.unsupported("non-constant tuple index", node)
        if not isinstance(base, (Block, PtrBlock)):
            raise self.unsupported("subscript of a non-tensor", node)
        items = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        new_shape: list[Expr] = []
        mapping: dict[int, int] = {}
        old = 0
        for it in items:
            if isinstance(it, ast.Constant) and it.value is None:
                new_shape.append(ir.ONE)
            elif isinstance(it, ast.Slice) and it.lower is None and it.upper is None and it.step is None:
                if old >= base.rank:
                    raise self.unsupported("too many indices for block", node)
                mapping[old] = len(new_shape)
                new_shape.append(base.shape[old])
                old += 1
            elif isinstance(it, ast.Constant) and it.value is Ellipsis:
                raise self.unsupported("ellipsis indexing is not modelled", node)
            else:
                raise self.unsupported("block indexing other than [:, None] / [None, :]", node)
        while old < base.rank:
            mapping[old] = len(new_shape)
            new_shape.append(base.shape[old])
            old += 1
        e = shift_lanes(tile_expr(base), mapping)
        if isinstance(base, PtrBlock):
            return PtrBlock(tuple(new_shape), base.base, e)
        return Block(tuple(new_shape), e)

    # -- arithmetic --------------------------------------------------------------------------------
    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(a, SignedBits) or isinstance(b, SignedBits):
            raise self.unsupported(".to(..., bitcast=True): bit casts are not modelled beyond their sign "
                                   "(`bits < 0`)", node)
        if is_static(a) and is_static(b) and not isinstance(a, (DType, tuple)) and not isinstance(b, (DType, tuple)):
            if isinstance(op, ast.Div) and b == 0:
                raise self.unsupported("division by zero in a compile-time expression", node)
            return _PY_BINOPS[type(op)](a, b)
        ta, tb = to_tile(a, self.line), to_tile(b, self.line)
        shape = broadcast_shapes(ta.shape, tb.shape, self.line)
        ta, tb = broadcast_to(ta, shape, self.line), broadcast_to(tb, shape, self.line)
        if isinstance(ta, PtrBlock) or isinstance(tb, PtrBlock):
            return self.ptr_arith(op, ta, tb, node)
        x, y = ta.elem, tb.elem
        match op:
            case ast.Add():
                e = ir.add(x, y)
            case ast.Sub():
                e = ir.sub(x, y)
            case ast.Mult():
                e = ir.mul(x, y)
            case ast.Div():
                e = ir.div(x, y)
            case ast.FloorDiv():
                if Kind.REAL in (x.kind, y.kind):  # Triton's // takes integers only: C division, toward zero
                    e = ir.cast(ir.div(x, y), "int64")
                else:
                    e = ir.arith(Op.TRUNCDIV, x, y)
            case ast.Mod():
                if Kind.REAL in (x.kind, y.kind):  # Triton's % on floats is C fmod: the dividend's sign
                    e = ir.math_fn(Op.FMOD, x, y)
                else:
                    e = ir.arith(Op.TRUNCMOD, x, y)
            case ast.BitAnd():
                e = self.logic(Op.AND, x, y, node)
            case ast.BitOr():
                e = self.logic(Op.OR, x, y, node)
            case ast.BitXor() if x.kind is Kind.BOOL and y.kind is Kind.BOOL:
                e = ir.compare(Op.NE, x, y)
            case ast.BitXor():
                e = ir.bitwise(Op.BITXOR, x, y)
            case ast.LShift() | ast.RShift():
                if Kind.BOOL in (x.kind, y.kind):
                    raise self.unsupported("shift of a boolean", node)
                e = ir.bitwise(Op.SHL if isinstance(op, ast.LShift) else Op.SHR, x, y)
            case ast.Pow():
                e = ir.math_fn(Op.POW, x, y)
            case _:
                raise self.unsupported(f"operator {type(op).__name__} is not modelled", node)
        if self.streamk is not None and isinstance(op, (ast.FloorDiv, ast.Mod)):
            return streamk.simplify(self, Block(shape, e))
        return Block(shape, e)

    def logic(self, op: Op, x: Expr, y: Expr, node: ast.AST) -> Expr:
        """`&`, `|`: logical on two masks, else two's-complement bit operations (a mask counts as 0/1)."""
        if x.kind is not Kind.BOOL or y.kind is not Kind.BOOL:
            return ir.bitwise(Op.BITAND if op is Op.AND else Op.BITOR, x, y)
        return ir.and_(x, y) if op is Op.AND else ir.or_(x, y)

    def ptr_arith(self, op: ast.operator, ta: Tile, tb: Tile, node: ast.AST) -> PtrBlock:
        if isinstance(ta, PtrBlock) and isinstance(tb, Block) and isinstance(op, (ast.Add, ast.Sub)):
            off = tb.elem if isinstance(op, ast.Add) else ir.neg(tb.elem)
            return PtrBlock(ta.shape, ta.base, ir.add(ta.offset, self.int_elem(off, node)))
        if isinstance(tb, PtrBlock) and isinstance(ta, Block) and isinstance(op, ast.Add):
            return PtrBlock(tb.shape, tb.base, ir.add(tb.offset, self.int_elem(ta.elem, node)))
        raise self.unsupported("pointer arithmetic other than pointer +/- integer", node)

    def int_elem(self, e: Expr, node: ast.AST) -> Expr:
        if e.kind is Kind.REAL:  # loaded indices (`out_ptr + tl.load(idx_ptr + i)`): symbolic/atomics.py
            out = integer_offset(e)
            if out is None:
                raise self.unsupported("pointer offset is not an integer", node)
            return out
        return e

    def unop(self, op: ast.unaryop, a: Any, node: ast.AST) -> Any:
        if is_static(a) and not isinstance(a, (DType, tuple)):
            match op:
                case ast.USub():
                    return -a
                case ast.UAdd():
                    return +a
                case ast.Not():
                    return not a
                case ast.Invert():
                    return ~a
        t = to_tile(a, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("unary operator on pointers", node)
        match op:
            case ast.USub():
                return Block(t.shape, ir.neg(t.elem))
            case ast.UAdd():
                return t
            case ast.Not() if t.elem.kind is not Kind.BOOL and t.rank == 0:  # `if not FLAG:`: FLAG == 0
                return Block(t.shape, ir.not_(ir.cast(t.elem, "int1")))
            case ast.Invert() if t.elem.kind is not Kind.BOOL:
                return Block(t.shape, ir.bitwise(Op.BITNOT, t.elem))
            case ast.Not() | ast.Invert():
                if t.elem.kind is not Kind.BOOL:
                    raise self.unsupported("`not` on a block of numbers", node)
                return Block(t.shape, ir.not_(t.elem))
        raise self.unsupported("unary operator", node)

    def compare(self, op: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op, (ast.Is, ast.IsNot)):
            return _PY_CMPS[type(op)](a, b) if is_static(a) or a is None or b is None else False
        if isinstance(a, DType) and isinstance(b, DType):
            for x, y in ((a, b), (b, a)):  # `x.dtype.element_ty == tl.float16`: which floating type is it
                open_x = x.name.startswith("elem:") and x != y
                if open_x and (y.name in FLOAT_ELEMENT_TYPES or y.name.startswith("elem:")):
                    raise ElementTypeNeeded(x.name[5:], f"a comparison with {_dtype_text(y)}", self.file,
                                            getattr(node, "lineno", self.line))
        if isinstance(a, SignedBits) or isinstance(b, SignedBits):
            return self.sign_test(op, a, b, node)
        if is_static(a) and is_static(b):
            return _PY_CMPS[type(op)](a, b)
        ta, tb = to_tile(a, self.line), to_tile(b, self.line)
        if isinstance(ta, PtrBlock) or isinstance(tb, PtrBlock):
            raise self.unsupported("pointer comparison", node)
        shape = broadcast_shapes(ta.shape, tb.shape, self.line)
        ta, tb = broadcast_to(ta, shape), broadcast_to(tb, shape)
        return Block(shape, ir.compare(_IR_CMPS[type(op)], ta.elem, tb.elem))

    def sign_test(self, op: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Block:
        """`bits < 0` (or `bits >= 0`, `0 > bits`, `0 <= bits`) of SignedBits: signbit of the float."""
        if isinstance(b, SignedBits):
            flipped = {ast.Gt: ast.Lt, ast.LtE: ast.GtE}
            if type(op) not in flipped:
                raise self.unsupported("a bit cast compared other than by its sign", node)
            a, b, op = b, a, flipped[type(op)]()
        zero = isinstance(b, int) and not isinstance(b, bool) and b == 0
        if not zero or not isinstance(op, (ast.Lt, ast.GtE)):
            raise self.unsupported("a bit cast compared other than by its sign (`bits < 0`)", node)
        sign = ir.predicate(Op.SIGNBIT, a.elem)
        return Block(a.shape, sign if isinstance(op, ast.Lt) else ir.not_(sign))

    def boolop(self, op: ast.boolop, vals: list[Any], node: ast.AST) -> Any:
        if all(is_static(v) for v in vals):
            out = vals[0]
            for v in vals[1:]:
                out = (out and v) if isinstance(op, ast.And) else (out or v)
            return out
        tiles = [self.bool_tile(v, node) for v in vals]
        shape: tuple[Expr, ...] = ()
        for t in tiles:
            shape = broadcast_shapes(shape, t.shape, self.line)
        es = [broadcast_to(t, shape).elem for t in tiles]  # type: ignore[union-attr]
        out = es[0]
        for e in es[1:]:
            out = ir.and_(out, e) if isinstance(op, ast.And) else ir.or_(out, e)
        return Block(shape, out)

    def bool_tile(self, v: Any, node: ast.AST) -> Block:
        t = to_tile(v, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("pointer used as a condition", node)
        if t.elem.kind is Kind.BOOL:
            return t
        return Block(t.shape, ir.cast(t.elem, "int1"))

    def bool_scalar(self, v: Any, node: ast.AST) -> Expr:
        t = self.bool_tile(v, node)
        if t.rank != 0:
            raise self.unsupported("`if` on a block value (use tl.where)", node)
        return t.elem

    def select(self, cond: Expr | Block, a: Any, b: Any, node: ast.AST) -> Any:
        c = cond if isinstance(cond, Block) else scalar(cond)
        if isinstance(a, BlockPtr) and isinstance(b, BlockPtr) and c.rank == 0:
            return bptr.select(c.elem, a, b, lambda w: self.unsupported(w, node))
        ta, tb = to_tile(a, self.line), to_tile(b, self.line)
        shape = broadcast_shapes(broadcast_shapes(c.shape, ta.shape, self.line), tb.shape, self.line)
        c2, ta, tb = broadcast_to(c, shape), broadcast_to(ta, shape), broadcast_to(tb, shape)
        if isinstance(ta, PtrBlock) or isinstance(tb, PtrBlock):
            if isinstance(ta, PtrBlock) and isinstance(tb, PtrBlock) and ta.base == tb.base:
                return PtrBlock(shape, ta.base, ir.where(c2.elem, ta.offset, tb.offset))  # type: ignore[union-attr]
            raise self.unsupported("selecting between different pointers", node)
        return Block(shape, ir.where(c2.elem, ta.elem, tb.elem))  # type: ignore[union-attr]

    # -- calls -------------------------------------------------------------------------------------
    def eval_call(self, node: ast.Call) -> Any:
        f = self.eval(node.func)
        if isinstance(f, tuple) and len(f) == 3 and f[0] == "method":
            return self.method(f[1], f[2], node)
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        if isinstance(f, JitFunction):
            return self.inline(f, args, kwargs, node)
        if isinstance(f, FnRef):
            name = tl_function(f.qual)
            if name is None:
                return self.builtin(f.qual, args, kwargs, node)
            return self.tl_call(name, args, kwargs, node)
        if isinstance(f, DType):  # tl.float32(x) style is not valid Triton; treat as unsupported
            raise self.unsupported("calling a dtype", node)
        raise self.unsupported(f"call of {ast.unparse(node.func)} is not modelled", node)

    def builtin(self, qual: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        if qual == "float" and len(args) == 1:
            return float(args[0])
        if qual == "int" and len(args) == 1 and is_static(args[0]):
            return int(args[0])
        if qual in ("min", "max") and all(is_static(a) for a in args):
            return (min if qual == "min" else max)(*args)
        if qual in ("min", "max"):
            t = [to_tile(a, self.line) for a in args]
            out = t[0]
            for x in t[1:]:
                out = self.elementwise2(Op.MINIMUM if qual == "min" else Op.MAXIMUM, out, x, node)
            return out
        if qual == "abs" and len(args) == 1:
            return abs(args[0]) if is_static(args[0]) else self.math1(Op.ABS, args[0], node)
        if qual == "len" and isinstance(args[0], (tuple, list)):
            return len(args[0])
        if qual in ("math.log2", "math.sqrt", "math.exp", "math.log", "math.ceil", "math.floor") and all(
            is_static(a) for a in args
        ):
            return getattr(math, qual.split(".")[1])(*args)
        if qual == "isinstance":
            raise self.unsupported("isinstance in kernels", node)
        raise self.unsupported(f"call of {qual} is not modelled", node)

    def permute(self, v: Any, dims: tuple, node: ast.AST) -> Tile:
        """tl.trans / tl.permute / .T: dimension d of the result is dimension dims[d] of the input (no dims: a
        2-D transpose, as Triton's (1, 0) default); lane k of the input becomes lane dims.index(k)."""
        t = to_tile(v, self.line)
        if not dims and t.rank != 2:
            raise self.unsupported(f"tl.trans without an order of the dimensions needs a 2-D block, not {t.rank}-D", node)
        dims = dims or (1, 0)
        if not all(isinstance(d, int) for d in dims) or sorted(dims) != list(range(t.rank)):
            raise self.unsupported(f"tl.trans/permute order {dims} is not a permutation of {t.rank} dimensions", node)
        shape = tuple(t.shape[d] for d in dims)
        e = shift_lanes(tile_expr(t), {old: new for new, old in enumerate(dims)})
        return PtrBlock(shape, t.base, e) if isinstance(t, PtrBlock) else Block(shape, e)

    def method(self, base: Any, name: str, node: ast.Call) -> Any:
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        if isinstance(base, BlockPtr) and name == "advance":
            return bptr.advance(base, args[0] if args else kwargs.get("offsets"), lambda w: self.unsupported(w, node))
        if name == "to":
            if kwargs.get("bitcast"):
                return self.bitcast(base, args[0] if args else kwargs.get("dtype"), node)
            dt = args[0] if args else kwargs.get("dtype")
            return self.cast(base, dt, node)
        if name in ("logical_and", "logical_or") and len(args) == 1:  # both sides tested != 0, then and/or
            ta, tb = self.bool_tile(base, node), self.bool_tile(args[0], node)
            shape = broadcast_shapes(ta.shape, tb.shape, self.line)
            x, y = broadcast_to(ta, shape).elem, broadcast_to(tb, shape).elem  # type: ignore[union-attr]
            return Block(shape, ir.and_(x, y) if name == "logical_and" else ir.or_(x, y))
        if isinstance(base, DType):
            test = dtype_test(base, name)
            if test is None:
                raise self.unsupported(f"dtype method .{name}() is not modelled", node)
            if base.name.startswith("elem:"):  # under the real-number model: a floating type of unknown width
                if name.startswith(("is_fp", "is_bf")):
                    raise ElementTypeNeeded(base.name[5:], f".{name}()", self.file, getattr(node, "lineno", self.line))
                self.notes.append(f"elements of {base.name[5:]} taken as floating point ({name}() is {test})")
            return test
        raise self.unsupported(f"method .{name}() is not modelled", node)

    def cast(self, v: Any, dt: Any, node: ast.AST) -> Any:
        t = to_tile(v, self.line)
        param = self.dtype_param(dt)
        if param is not None:  # `x.to(OUT_DTYPE)`, OUT_DTYPE a constexpr the caller sets to a dtype
            note = (f"{param} (a dtype set by the caller) taken as a floating type: casts to it are the identity "
                    "over reals")
            if note not in self.notes:
                self.notes.append(note)
            dt = DType("fp32")
        if not isinstance(dt, DType):
            raise self.unsupported("cast to a non-dtype", node)
        if isinstance(t, PtrBlock):
            raise self.unsupported("pointer casts are not modelled", node)
        name = dt.name
        if name.startswith(("elem:", "ptr:")):
            name = "fp32"  # a pointer's element type: a float type under the real-number model
        return Block(t.shape, ir.cast(t.elem, name))

    def bitcast(self, v: Any, dt: Any, node: ast.AST) -> SignedBits:
        """`x.to(tl.int32, bitcast=True)` of a float block: its bits as a signed integer of the same width (a
        bit cast between widths does not compile). Only its sign is modelled: it is the float's sign bit."""
        t = to_tile(v, self.line)
        if (isinstance(t, Block) and t.elem.kind is Kind.REAL and isinstance(dt, DType)
                and dt.name in ("int8", "int16", "int32", "int64")):
            note = f"bit casts (line {getattr(node, 'lineno', self.line)}): of floating-point values, whose sign bit is signbit"
            if note not in self.notes:
                self.notes.append(note)
            return SignedBits(t.shape, t.elem)
        raise self.unsupported(".to(..., bitcast=True): bit casts are not modelled (only the sign of a float's "
                               "bits as a signed integer is)", node)

    def dtype_param(self, dt: Any) -> str | None:
        """The name of the kernel's constexpr parameter that `dt` is, when it is left symbolic (a dtype the
        launch passes: Triton compiles the kernel once per value)."""
        if isinstance(dt, Block) and dt.rank == 0 and dt.elem.op is Op.VAR:
            name = str(dt.elem.attr)
            if any(p.name == name and p.constexpr for p in self.fn.params):
                return name
        return None

    def inline(self, f: JitFunction, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        if self.depth > 16:
            raise self.unsupported("recursion in jit helpers", node)
        scope: dict[str, Any] = {}
        for p, a in zip(f.params, args, strict=False):
            scope[p.name] = a
        for p in f.params[len(args):]:
            if p.name in kwargs:
                scope[p.name] = kwargs[p.name]
            elif p.default is not None:
                scope[p.name] = self.eval(p.default)
            else:
                raise self.unsupported(f"missing argument {p.name} in call of {f.name}", node)
        saved_file, saved_line, saved_module = self.file, self.line, self.module
        if f.file != self.module.path:  # imported from another file: its own names and aliases
            self.module, self.file = load_module_cached(f.file), f.file
        self.scopes.append(scope)
        self.depth += 1
        try:
            self.exec_body(f.node.body)
            result = None
        except _Return as r:
            result = r.value
        finally:
            self.scopes.pop()
            self.depth -= 1
            self.file, self.line, self.module = saved_file, saved_line, saved_module
        return result

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def math1(self, op: Op, a: Any, node: ast.AST) -> Block:
        t = to_tile(a, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("math on pointers", node)
        if op is Op.ABS and t.elem.kind is Kind.INT:
            return Block(t.shape, ir.where(ir.compare(Op.LT, t.elem, ir.ZERO), ir.neg(t.elem), t.elem))
        return Block(t.shape, ir.math_fn(op, t.elem))

    def elementwise2(self, op: Op, a: Any, b: Any, node: ast.AST) -> Block:
        ta, tb = to_tile(a, self.line), to_tile(b, self.line)
        if isinstance(ta, PtrBlock) or isinstance(tb, PtrBlock):
            raise self.unsupported("math on pointers", node)
        shape = broadcast_shapes(ta.shape, tb.shape, self.line)
        x, y = broadcast_to(ta, shape).elem, broadcast_to(tb, shape).elem  # type: ignore[union-attr]
        if op in ir.MATH_OPS:
            return Block(shape, ir.math_fn(op, x, y))
        if op is Op.DIV:
            return Block(shape, ir.div(x, y))
        return Block(shape, ir.arith(op, x, y))

    def shape_arg(self, v: Any, node: ast.AST) -> tuple[Expr, ...]:
        items = v if isinstance(v, (tuple, list)) else (v,)
        out = []
        for s in items:
            if isinstance(s, int):
                out.append(ir.const(s))
            elif isinstance(s, Block) and s.rank == 0 and s.elem.kind is Kind.INT:
                out.append(s.elem)
            elif isinstance(s, Expr):
                out.append(s)
            else:
                raise self.unsupported("block shape must be integers", node)
        return tuple(out)

    def tl_call(self, name: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        def arg(i: int, key: str, default: Any = None) -> Any:
            if i < len(args):
                return args[i]
            return kwargs.get(key, default)

        if name == "atomic_xchg" and self.streamk is not None:
            streamk.release(self, args, node)  # a lock set inside a stream-K loop (symbolic/streamk.py)
            return None
        if name in NOT_MODELLED:
            raise self.unsupported(f"tl.{name}: {NOT_MODELLED[name]}", node)
        if name in UNARY_MATH:
            return self.math1(UNARY_MATH[name], arg(0, "x"), node)
        if name in BINARY_MATH:
            return self.elementwise2(BINARY_MATH[name], arg(0, "x"), arg(1, "y"), node)
        if name in PREDICATES:
            t = to_tile(arg(0, "x"), self.line)
            if isinstance(t, PtrBlock):
                raise self.unsupported("math on pointers", node)
            return Block(t.shape, ir.predicate(PREDICATES[name], t.elem))
        if name in PLANNED and name not in ("sum", "max", "min", "cumsum", "cumprod", "argmax", "argmin"):
            raise self.unsupported(f"{PLANNED[name]} is not modelled yet (planned)", node)
        match name:
            case "program_id" if self.streamk is not None:
                if arg(0, "axis") != 0:
                    raise self.unsupported("program_id of another axis inside a work-partitioned loop", node)
                return scalar(self.streamk.program)
            case "program_id":
                axis = arg(0, "axis")
                if not isinstance(axis, int) or not 0 <= axis < 3:
                    raise self.unsupported("program_id axis must be 0, 1 or 2", node)
                if axis >= len(self.grid):
                    raise self.unsupported(f"program_id({axis}) on a {len(self.grid)}-d grid", node)
                return scalar(pid(axis))
            case "num_programs":
                axis = arg(0, "axis")
                if not isinstance(axis, int) or axis >= len(self.grid):
                    raise self.unsupported("num_programs axis", node)
                return scalar(self.grid[axis])
            case "arange":
                lo, hi = arg(0, "start"), arg(1, "end")
                lo_e, hi_e = self.shape_arg(lo, node)[0], self.shape_arg(hi, node)[0]
                size = ir.sub(hi_e, lo_e)
                if not size.is_const:  # Triton compiles tl.arange(lo, hi) only for hi > lo (a power of two)
                    fact = ir.le(ir.ONE, norm(size))
                    if fact not in self.facts:
                        self.facts.append(fact)
                return Block((size,), ir.add(lo_e, lane(0)))
            case "load" if isinstance(arg(0, "pointer"), BlockPtr):
                return self.load_block_ptr(arg(0, "pointer"), arg(1, "mask"), arg(2, "other"),
                                           arg(3, "boundary_check"), arg(4, "padding_option"), node)
            case "store" if isinstance(arg(0, "pointer"), BlockPtr):
                self.store_block_ptr(arg(0, "pointer"), arg(1, "value"), arg(2, "mask"), arg(3, "boundary_check"),
                                     node)
                return None
            case "load":
                return self.load(arg(0, "pointer"), arg(1, "mask"), arg(2, "other"), node)
            case "store":
                self.store(arg(0, "pointer"), arg(1, "value"), arg(2, "mask"), node)
                return None
            case "atomic_add" | "atomic_max" | "atomic_min":
                return atomic_update(self, name, args, kwargs, node)
            case "make_block_ptr":
                return bptr.make_block_ptr(arg(0, "base"), arg(1, "shape"), arg(2, "strides"), arg(3, "offsets"),
                                           arg(4, "block_shape"), arg(5, "order"), lambda w: self.unsupported(w, node))
            case "advance":
                return bptr.advance(arg(0, "base"), arg(1, "offsets"), lambda w: self.unsupported(w, node))
            case "where":
                c = self.bool_tile(arg(0, "condition"), node)
                return self.select(c, arg(1, "x"), arg(2, "y"), node)
            case "zeros" | "full":
                shape = self.shape_arg(arg(0, "shape"), node)
                val = 0 if name == "zeros" else arg(1, "value")
                dt = arg(1 if name == "zeros" else 2, "dtype")
                v = to_tile(val, self.line)
                if isinstance(dt, DType) and not isinstance(v, PtrBlock):
                    v = Block((), ir.cast(v.elem, "fp32" if dt.is_float else dt.name))
                return broadcast_to(v, shape, self.line)
            case "zeros_like" | "full_like":
                t = to_tile(arg(0, "input"), self.line)
                val = 0.0 if name == "zeros_like" else arg(1, "value")
                return broadcast_to(to_tile(val, self.line), t.shape, self.line)
            case "maximum" | "fmax":
                return self.elementwise2(Op.MAXIMUM, arg(0, "x"), arg(1, "y"), node)
            case "minimum" | "fmin":
                return self.elementwise2(Op.MINIMUM, arg(0, "x"), arg(1, "y"), node)
            case "clamp":
                lo = self.elementwise2(Op.MAXIMUM, arg(0, "x"), arg(1, "min"), node)
                return self.elementwise2(Op.MINIMUM, lo, arg(2, "max"), node)
            case "fdiv" | "div_rn" | "div_rz":  # rounding modes of a float division: one real quotient
                return self.elementwise2(Op.DIV, arg(0, "x"), arg(1, "y"), node)
            case "cdiv":
                a, b = arg(0, "x"), arg(1, "div")
                if is_static(a) and is_static(b):
                    return -(-a // b)
                ta, tb = to_tile(a, self.line), to_tile(b, self.line)
                if isinstance(ta, PtrBlock) or isinstance(tb, PtrBlock):
                    raise self.unsupported("cdiv of pointers", node)
                return Block(ta.shape, ir.arith(Op.TRUNCDIV, ir.sub(ir.add(ta.elem, tb.elem), ir.ONE), tb.elem))
            case "sum" | "max" | "min":
                return self.reduce(name, arg(0, "input"), arg(1, "axis"), kwargs | (
                    {"return_indices": args[2]} if len(args) > 2 else {}), node)
            case "argmax" | "argmin":
                tie_left = arg(2, "tie_break_left", True)
                keep = arg(3, "keep_dims", False)
                return self.argreduce(Op.ARGMAX if name == "argmax" else Op.ARGMIN, arg(0, "input"),
                                      arg(1, "axis"), tie_left, keep, node)
            case "reduce":
                return self.reduce_combine(arg(0, "input"), arg(1, "axis"), arg(2, "combine_fn"), kwargs, node)
            case "cumsum" | "cumprod":
                return self.scan(Op.SUM if name == "cumsum" else Op.PROD, arg(0, "input"), arg(1, "axis", 0),
                                 arg(2, "reverse", False), node)
            case "associative_scan":
                return self.scan_combine(arg(0, "input"), arg(1, "axis"), arg(2, "combine_fn"),
                                         arg(3, "reverse", False), node)
            case "cast":
                return self.cast(arg(0, "input"), arg(1, "dtype"), node)
            case "multiple_of" | "max_contiguous" | "max_constancy":
                return arg(0, "input")
            case "static_assert" | "device_assert" | "static_print" | "device_print" | "debug_barrier":
                return None
            case "broadcast_to":
                return broadcast_to(to_tile(arg(0, "input"), self.line), self.shape_arg(arg(1, "shape"), node))
            case "expand_dims":
                t = to_tile(arg(0, "input"), self.line)
                ax = arg(1, "axis")
                if not isinstance(ax, int):
                    raise self.unsupported("expand_dims axis must be a constant", node)
                ax = ax if ax >= 0 else t.rank + 1 + ax
                mapping = {k: (k if k < ax else k + 1) for k in range(t.rank)}
                shape = (*t.shape[:ax], ir.ONE, *t.shape[ax:])
                e = shift_lanes(tile_expr(t), mapping)
                return PtrBlock(shape, t.base, e) if isinstance(t, PtrBlock) else Block(shape, e)
            case "constexpr":
                return arg(0, "value")
            case "trans" | "permute":
                dims = args[1:] if len(args) > 1 else kwargs.get("dims", ())
                if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                    dims = dims[0]
                if name == "permute" and not dims:
                    raise self.unsupported("tl.permute needs the order of the dimensions", node)
                return self.permute(arg(0, "input"), tuple(dims), node)
            case "dot":
                return self.dot(args, kwargs, node)
        if name in SPECIAL:
            raise self.unsupported(f"tl.{name} is not modelled in this form", node)
        raise self.unsupported(f"tl.{name} is not modelled", node)

    def dot(self, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Block:
        """tl.dot(a, b, acc=None, input_precision, allow_tf32, max_num_imprecise_acc, out_dtype): symbolic/dot.py."""
        names = ("input", "other", "acc", "input_precision", "allow_tf32", "max_num_imprecise_acc", "out_dtype")
        given = dict(zip(names, args, strict=False)) | kwargs
        a, b, acc = given.get("input"), given.get("other"), given.get("acc")
        if a is None or b is None:
            raise self.unsupported("tl.dot needs two blocks", node)
        ignored = sorted(k for k in PRECISION_ARGS if given.get(k) is not None)
        note = f"tl.dot {'/'.join(ignored) or 'precision'} ignored: reals"
        if note not in self.notes:
            self.notes.append(note)
        return dot_block(to_tile(a, self.line), to_tile(b, self.line),
                         None if acc is None else to_tile(acc, self.line), self.fresh, lambda w: self.unsupported(w, node))

    def reduce(self, name: str, x: Any, axis: Any, kwargs: dict[str, Any], node: ast.AST) -> Block:
        t = to_tile(x, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("reduction of pointers", node)
        keep = bool(kwargs.get("keep_dims", False))
        op = {"sum": Op.SUM, "max": Op.RMAX, "min": Op.RMIN}[name]
        if kwargs.get("return_indices") and name in ("max", "min"):
            tie_left = kwargs.get("return_indices_tie_break_left", True)
            index = self.argreduce(Op.ARGMAX if name == "max" else Op.ARGMIN, t, axis, tie_left, keep, node)
            return self.reduce_op(op, t, axis, keep, node), index
        return self.reduce_op(op, t, axis, keep, node)

    def argreduce(self, op: Op, x: Any, axis: Any, tie_left: Any, keep: Any, node: ast.AST) -> Block:
        """tl.argmax / tl.argmin (and the index of tl.max/min(return_indices=True)) along one axis: the first
        index among equal extrema, which is what Triton returns with tie_break_left=True (the default) and
        what torch.argmax documents. With tie_break_left=False the index among ties is left to the reduction
        tree: not modelled."""
        t = to_tile(x, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("reduction of pointers", node)
        if tie_left is not True:
            raise self.unsupported(f"tl.{op.value} with tie_break_left=False: the index among equal values is "
                                   "unspecified", node)
        if not isinstance(axis, int) or isinstance(axis, bool) or not -t.rank <= axis < t.rank:
            if axis is None and t.rank == 1:
                axis = 0
            else:
                raise self.unsupported(f"tl.{op.value}: the axis must be a constant dimension of the block", node)
        ax = axis % t.rank
        k = self.fresh("k")
        body = ir.substitute(t.elem, {lane(ax): ir.var(k)})
        if body.kind is Kind.BOOL:
            body = ir.cast(body, "int32")
        elem = ir.argreduce(op, k, ir.ZERO, t.shape[ax], body)
        shape = list(t.shape)
        if keep:
            shape[ax] = ir.ONE
        else:
            elem = shift_lanes(elem, {j: j - 1 for j in range(ax + 1, len(shape))})
            del shape[ax]
        return Block(tuple(shape), elem)

    def reduce_combine(self, x: Any, axis: Any, fn: Any, kwargs: dict[str, Any], node: ast.AST) -> Block:
        """tl.reduce(x, axis, combine_fn): the combine function is proved to be +, *, maximum or minimum
        (symbolic/combine.py), and the reduction is then that one."""
        from tritonlift.symbolic.combine import classify, operands

        if isinstance(x, (tuple, list)):
            raise self.unsupported("tl.reduce over a tuple of blocks (index-carrying reductions such as "
                                   "argmax with a tie-break combine function) is not modelled yet", node)
        t = to_tile(x, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("reduction of pointers", node)
        if not isinstance(fn, JitFunction):
            raise self.unsupported("tl.reduce: combine_fn must be a @triton.jit function", node)
        kind = Kind.INT if t.elem.kind is Kind.BOOL else t.elem.kind
        a, b = operands(kind)
        n_stores = len(self.stores)
        out = to_tile(self.inline(fn, [scalar(a), scalar(b)], {}, node), self.line)
        if len(self.stores) != n_stores or not isinstance(out, Block) or out.shape != ():
            raise self.unsupported(f"tl.reduce: combine function {fn.name} does not return one scalar", node)
        op = classify(out.elem, kind)
        if op is None:
            raise self.unsupported(f"tl.reduce: combine function {fn.name} is not +, *, maximum or minimum "
                                   "of its two arguments", node)
        self.notes.append(f"tl.reduce at line {getattr(node, 'lineno', 0)}: {fn.name} is {op.value}")
        return self.reduce_op(op, t, axis, bool(kwargs.get("keep_dims", False)), node)

    def scan(self, op: Op, x: Any, axis: Any, reverse: Any, node: ast.AST) -> Block:
        """tl.cumsum / tl.cumprod along `axis`: lane l holds the sum (product) over lanes 0..l of that axis
        (l..n-1 with reverse=True), a reduction whose bound depends on the lane."""
        t = to_tile(x, self.line)
        if isinstance(t, PtrBlock):
            raise self.unsupported("scan of pointers", node)
        if not isinstance(axis, int) or isinstance(axis, bool) or not -t.rank <= axis < t.rank:
            raise self.unsupported("scan axis must be a constant dimension of the block", node)
        if not isinstance(reverse, bool):
            raise self.unsupported("scan: reverse must be a constant", node)
        ax = axis % t.rank
        k = self.fresh("k")
        body = ir.substitute(t.elem, {lane(ax): ir.var(k)})
        if body.kind is Kind.BOOL:
            body = ir.cast(body, "int32")
        here = lane(ax)
        lo, hi = (here, t.shape[ax]) if reverse else (ir.ZERO, ir.add(here, ir.ONE))
        return Block(t.shape, ir.reduce(op, k, lo, hi, body))

    def scan_combine(self, x: Any, axis: Any, fn: Any, reverse: Any, node: ast.AST) -> Block:
        """tl.associative_scan(x, axis, combine_fn): the combine function is proved to be + or * (symbolic/
        combine.py), and the scan is then tl.cumsum or tl.cumprod."""
        from tritonlift.symbolic.combine import classify, operands

        if isinstance(x, (tuple, list)):
            raise self.unsupported("tl.associative_scan over a tuple of blocks (cummax with indices, ...) is not "
                                   "modelled", node)
        t = to_tile(x, self.line)
        if isinstance(t, PtrBlock) or not isinstance(fn, JitFunction):
            raise self.unsupported("tl.associative_scan: a block and a @triton.jit combine function expected", node)
        kind = Kind.INT if t.elem.kind is Kind.BOOL else t.elem.kind
        a, b = operands(kind)
        n_stores = len(self.stores)
        out = to_tile(self.inline(fn, [scalar(a), scalar(b)], {}, node), self.line)
        if len(self.stores) != n_stores or not isinstance(out, Block) or out.shape != ():
            raise self.unsupported(f"tl.associative_scan: combine function {fn.name} does not return one scalar", node)
        op = classify(out.elem, kind)
        if op not in (Op.SUM, Op.PROD):
            raise self.unsupported(f"tl.associative_scan: combine function {fn.name} is not + or * of its two "
                                   "arguments (only sum and product scans are modelled)", node)
        self.notes.append(f"tl.associative_scan at line {getattr(node, 'lineno', 0)}: {fn.name} is {op.value}")
        return self.scan(op, t, axis, reverse, node)

    def reduce_op(self, op: Op, t: Block, axis: Any, keep: bool, node: ast.AST) -> Block:
        if axis is None:
            axes = list(range(t.rank))
        elif isinstance(axis, int):
            axes = [axis if axis >= 0 else t.rank + axis]
        else:
            raise self.unsupported("reduction axis must be a constant", node)
        elem, shape = t.elem, list(t.shape)
        for ax in sorted(axes, reverse=True):
            k = self.fresh("k")
            body = ir.substitute(elem, {lane(ax): ir.var(k)})
            if body.kind is Kind.BOOL:
                body = ir.cast(body, "int32")
            elem = ir.reduce(op, k, ir.ZERO, shape[ax], body)
            if keep:
                shape[ax] = ir.ONE
            else:
                elem = shift_lanes(elem, {j: j - 1 for j in range(ax + 1, len(shape))})
                del shape[ax]
        return Block(tuple(shape), elem)

    def load(self, ptr: Any, mask: Any, other: Any, node: ast.AST) -> Block:
        if not isinstance(ptr, PtrBlock):
            raise self.unsupported("tl.load of a non-pointer", node)
        shape = ptr.shape
        m: Block | None = None
        if mask is not None:
            m = self.bool_tile(mask, node)
            shape = broadcast_shapes(shape, m.shape, self.line)
        p = broadcast_to(ptr, shape, self.line)
        assert isinstance(p, PtrBlock)
        value = ir.mem(p.base, p.offset)
        if m is None:
            return Block(shape, value)
        mb = broadcast_to(m, shape, self.line)
        assert isinstance(mb, Block)
        if other is None:
            alt = ir.undef(f"{p.base}@{getattr(node, 'lineno', 0)}", p.offset)
        else:
            ot = to_tile(other, self.line)
            if isinstance(ot, PtrBlock):
                raise self.unsupported("pointer as other=", node)
            ob = broadcast_to(ot, shape, self.line)
            assert isinstance(ob, Block)
            alt = ir.to_real(ob.elem)
        return Block(shape, ir.where(mb.elem, value, alt))

    def load_block_ptr(self, bp: BlockPtr, mask: Any, other: Any, check: Any, padding: Any, node: ast.AST) -> Block:
        """tl.load through a block pointer: the pointer block and mask it lowers to (symbolic/block_ptr.py),
        masked-off lanes padded with 0 (`padding_option="zero"`), NaN (`"nan"`) or left undefined (`""`)."""
        if mask is not None or other is not None:
            raise self.unsupported("tl.load of a block pointer takes no mask= or other=", node)
        padding = "" if padding is None else padding
        if padding not in bptr.PADDINGS:
            raise self.unsupported(f"padding_option {padding!r} is not one of {bptr.PADDINGS}", node)
        dims = bptr.checked_dims(check, bp.rank, lambda w: self.unsupported(w, node))
        ptrs, m = bptr.materialize(bp, dims)
        if m == ir.TRUE:
            return self.load(ptrs, None, None, node)
        alt = {"": None, "zero": 0.0, "nan": math.nan}[padding]
        return self.load(ptrs, Block(ptrs.shape, m), alt, node)

    def store_block_ptr(self, bp: BlockPtr, value: Any, mask: Any, check: Any, node: ast.AST) -> None:
        if mask is not None:
            raise self.unsupported("tl.store to a block pointer takes no mask=", node)
        dims = bptr.checked_dims(check, bp.rank, lambda w: self.unsupported(w, node))
        ptrs, m = bptr.materialize(bp, dims)
        self.store(ptrs, value, None if m == ir.TRUE else Block(ptrs.shape, m), node)

    def store(self, ptr: Any, value: Any, mask: Any, node: ast.AST) -> None:
        if not isinstance(ptr, PtrBlock):
            raise self.unsupported("tl.store to a non-pointer", node)
        v = to_tile(value, self.line)
        if isinstance(v, PtrBlock):
            raise self.unsupported("storing pointers", node)
        shape = broadcast_shapes(ptr.shape, v.shape, self.line)
        m: Expr = ir.TRUE
        if mask is not None:
            mb = self.bool_tile(mask, node)
            shape = broadcast_shapes(shape, mb.shape, self.line)
            m = broadcast_to(mb, shape, self.line).elem  # type: ignore[union-attr]
        p = broadcast_to(ptr, shape, self.line)
        vb = broadcast_to(v, shape, self.line)
        assert isinstance(p, PtrBlock) and isinstance(vb, Block)
        self.stores.append(
            Store(p.base, p.offset, ir.to_real(vb.elem), ir.and_(self.path, m), shape, getattr(node, "lineno", 0))
        )


def block_dtype(t: Block) -> DType:
    """`x.dtype` of a block: a load's is its pointer's element type; otherwise by the value's kind."""
    e = t.elem
    if e.op is Op.WHERE and e.args[1].op is Op.MEM:  # a masked load
        e = e.args[1]
    if e.op is Op.MEM:
        return DType(f"elem:{e.attr}")
    return DType("fp32" if e.kind is Kind.REAL else "int32" if e.kind is Kind.INT else "int1")


_DTYPE_IS = {f"is_{n}": n for n in ("fp16", "bf16", "fp32", "fp64", "int1", "int8", "int16", "int32", "int64",
                                    "uint8", "uint16", "uint32", "uint64")} | {"is_bool": "int1"}


def dtype_test(dt: DType, name: str) -> bool | None:
    """Triton's dtype predicates; an unknown element type (`elem:x`) is a floating type of unknown width."""
    n = dt.name
    if name == "is_ptr":
        return n == "ptr" or n.startswith("ptr:")
    if name in ("is_floating", "is_standard_floating"):
        return dt.is_float
    signed = n in ("int8", "int16", "int32", "int64")
    unsigned = n == "int1" or n.startswith("uint")
    tests = {"is_int": signed or unsigned, "is_int_signed": signed, "is_int_unsigned": unsigned}
    if name in tests:
        return tests[name]
    if name in _DTYPE_IS:
        return n == _DTYPE_IS[name]
    return None


def _dtype_text(dt: DType) -> str:
    if dt.name.startswith("elem:"):
        return f"the element type of {dt.name[5:]}"
    return "tl." + next((k for k, v in DTYPES.items() if v == dt.name), dt.name)


_MISSING = object()  # a name not bound on one side of an `if`


def _is_mask(v: Any) -> bool:
    return isinstance(v, Block) and v.elem.kind is Kind.BOOL


def one_trip(trips: Expr, step: Expr) -> bool:
    """Whether a loop's trip count is exactly 1 for every step >= 1 (z3 decides; integers exact)."""
    from tritonlift.ir.poly import norm
    from tritonlift.synth.guards import prove

    trips = ir.maximum(norm(trips.args[0]), trips.args[1]) if trips.op is Op.MAXIMUM else trips
    if trips.is_const:
        return trips.value == 1
    if any(n.kind is Kind.REAL for n in ir.walk(trips)):
        return False
    return prove([ir.le(ir.ONE, step)], ir.eq(trips, ir.ONE), 2000)


def grid_symbols(rank: int) -> tuple[Expr, ...]:
    return tuple(grid_var(k) for k in range(rank))
