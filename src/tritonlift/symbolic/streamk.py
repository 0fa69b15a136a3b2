"""Work-partitioned ("stream-K") loops: programs that split a flat iteration space over tiles and combine the
partial results of a tile through memory, synchronised by spin locks.

Shape recognised (FlagGems' `first_wave`, the Stream-K paper's first wave):

    start = S(pid); last = L(pid)
    while start < last:                       # the segment loop
        ...  end = min(start + (U - start % U), last)  ...   # cut at the next multiple of U
        body(start, end)                      # accumulate iterations [start, end) of tile start // U
        start = end

The iterations [S(p), L(p)) of program p are the flat indices it * U + k of (tile it, step k). The argument
that the launch computes, for every tile t, what the body computes for the whole segment [tU, tU + U):

1. partition: L(p) = S(p + 1) (proved), S(0) = 0, S(p) <= S(p + 1) and S(G) a multiple of U (proved where
   the launch's arguments are known, assumed and listed otherwise), so the programs' segments cut
   [tU, tU + U) of every tile t < S(G) / U into consecutive pieces, each processed by exactly one program;
2. additivity: the body's contribution over a segment [s, e) is a sum over its iterations whose terms do not
   depend on where the segment starts (checked on the body evaluated at a general segment: the contribution
   is `Σ_{x ∈ [F(s), F(e))} h(x)` with h free of s and e, F increasing), so the pieces sum to the
   whole-segment value;
3. combination: the pieces of a tile reach the output exactly once each. Protocol "store, then add under a
   lock": the piece ending the tile stores its value and then releases lock X(t); every other piece acquires
   lock X(t) (spins until it is set) and then atomically adds the same value at the same addresses, so each
   add lands after the store; X is one lock per tile, the lock array starts at zero, and the piece that
   stores releases whenever other pieces exist (so no add waits forever). Checked with z3 on the body
   evaluated at a general segment (program p, tile t, start offset o, end e).

Then the launch's final writes are those of a kernel over the grid (S(G) / U,) whose program t runs the body
once for the whole segment [tU, tU + U) (no lock is touched there: the body's tests fold), which is what the
evaluator produces. Spin waits assume every program of the launch runs at once (one program per SM, as
stream-K launches are sized); that is listed as an assumption.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tritonlift.errors import Unknown, Unsupported
from tritonlift.frontend.source import qualname
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import INT_DIV_OPS, Expr, Kind, Op
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.tl_table import tl_function
from tritonlift.symbolic.values import Block, PtrBlock, pid, scalar

if TYPE_CHECKING:
    from tritonlift.symbolic.kernel_eval import KernelEvaluator

LOCK_OPS = ("atomic_xchg", "atomic_cas")
TIMEOUT_MS = 5000


@dataclass(frozen=True)
class SegmentLoop:
    start: str  # the loop's cursor (`start_iter`)
    last: str  # its bound (`last_iter`)
    end: str  # the name the body assigns the segment's end to (`end_iter`)
    unit: ast.expr  # U: the tile's iteration count (`iters_per_tile`)


@dataclass
class LockEvent:
    kind: str  # release | acquire
    base: str
    index: Expr
    guard: Expr
    order: int  # number of stores recorded before it (program order against the stores)
    line: int


@dataclass
class Mode:
    """What the evaluator does differently inside a segment loop's body."""

    facts: list[Expr]
    events: list[LockEvent] | None = None  # None: the whole-tile run (a lock operation there is unsupported)
    ranges: list[Expr] = field(default_factory=list)  # 0 <= t < trips of the symbolic loops open now
    program: Expr = ir.ZERO  # what tl.program_id(0) is inside the body (the whole-tile run: a dead symbol)
    bounds: list[Expr] = field(default_factory=list)  # the segment's simple bounds (for `//` and `%` by U)


def _fn(node: ast.AST, ev: KernelEvaluator) -> str | None:
    if isinstance(node, ast.Call):
        return tl_function(qualname(node.func, ev.module.aliases) or "")
    return None


def match_segment_loop(st: ast.While) -> SegmentLoop | None:
    """`while start < last: ...; start = end` with `end = ...(start % U)...` assigned at the body's top level."""
    t = st.test
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Lt)
            and isinstance(t.left, ast.Name) and isinstance(t.comparators[0], ast.Name)) or st.orelse:
        return None
    start, last = t.left.id, t.comparators[0].id
    if not st.body:
        return None
    tail = st.body[-1]
    if not (isinstance(tail, ast.Assign) and len(tail.targets) == 1 and isinstance(tail.targets[0], ast.Name)
            and tail.targets[0].id == start and isinstance(tail.value, ast.Name)):
        return None
    end = tail.value.id
    if not any(isinstance(s, ast.Assign) and any(isinstance(x, ast.Name) and x.id == end for x in s.targets)
               for s in st.body[:-1]):
        return None
    for n in ast.walk(st):
        if (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) and isinstance(n.left, ast.Name)
                and n.left.id == start):
            return SegmentLoop(start, last, end, n.right)
    return None


def spin_lock(st: ast.While, ev: KernelEvaluator) -> ast.expr | None:
    """`while tl.atomic_cas(ptr, 1, 1) != 1: pass` -> ptr (a wait until the lock at ptr is set)."""
    t = st.test
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.NotEq)
            and _fn(t.left, ev) == "atomic_cas" and isinstance(t.comparators[0], ast.Constant)
            and t.comparators[0].value == 1 and all(isinstance(s, ast.Pass) for s in st.body) and not st.orelse):
        return None
    call = t.left
    assert isinstance(call, ast.Call)
    if len(call.args) != 3 or not all(isinstance(a, ast.Constant) and a.value == 1 for a in call.args[1:]):
        return None
    return call.args[0]


def allowed_lock_calls(fn_node: ast.AST, ev: KernelEvaluator) -> set[int]:
    """ids of the lock calls (atomic_xchg(ptr, 1) statements, spin waits) inside segment loops: the prescan
    lets these through; the segment loop's evaluation checks how they are used."""
    out: set[int] = set()
    for loop in ast.walk(fn_node):
        if not (isinstance(loop, ast.While) and match_segment_loop(loop)):
            continue
        for n in ast.walk(loop):
            if isinstance(n, ast.While) and spin_lock(n, ev) is not None:
                out.add(id(n.test.left))  # type: ignore[attr-defined]
            if (isinstance(n, ast.Expr) and _fn(n.value, ev) == "atomic_xchg"
                    and len(n.value.args) == 2 and isinstance(n.value.args[1], ast.Constant)  # type: ignore[attr-defined]
                    and n.value.args[1].value == 1):  # type: ignore[attr-defined]
                out.add(id(n.value))
    return out


# ---------------------------------------------------------------------------------------------------------
# hooks called by the evaluator


def release(ev: KernelEvaluator, args: list[Any], node: ast.Call) -> None:
    """`tl.atomic_xchg(lock_ptr, 1)` inside a segment loop's body, evaluated at a general segment."""
    mode = ev.streamk
    if mode is None or mode.events is None:
        raise ev.unsupported("tl.atomic_xchg: a lock released outside the tests the tool folds", node)
    ptr = args[0]
    if not isinstance(ptr, PtrBlock) or ptr.shape != ():
        raise ev.unsupported("tl.atomic_xchg on a block of locks", node)
    mode.events.append(LockEvent("release", ptr.base, ptr.offset, ev.path, len(ev.stores), node.lineno))


def exec_while(ev: KernelEvaluator, st: ast.While) -> None:
    mode = ev.streamk
    if mode is not None:
        ptr_node = spin_lock(st, ev)
        if ptr_node is not None:
            if mode.events is None:
                raise ev.unsupported("a spin wait on a path the tool could not decide", st)
            ptr = ev.eval(ptr_node)
            if not isinstance(ptr, PtrBlock) or ptr.shape != ():
                raise ev.unsupported("a spin wait on a block of locks", st)
            mode.events.append(LockEvent("acquire", ptr.base, ptr.offset, ev.path, len(ev.stores), st.lineno))
            return
        c = ev.eval(st.test)
        decided = decide(ev, c)
        if decided is False:
            return  # a loop whose test is false on entry runs no iteration
    m = match_segment_loop(st)
    if m is None or mode is not None:
        raise ev.unsupported("while loops are not modelled yet", st)
    SegmentRun(ev, st, m).run()


def decide(ev: KernelEvaluator, c: Any) -> bool | None:
    """A scalar test decided under the segment's facts (True / False), or None."""
    mode = ev.streamk
    if mode is None or isinstance(c, bool):
        return c if isinstance(c, bool) else None
    if not isinstance(c, Block) or isinstance(c, PtrBlock) or c.shape != () or c.elem.kind is not Kind.BOOL:
        return None
    from tritonlift.synth.guards import prove, simplify_divmod

    hyps = [*mode.facts, *mode.ranges]
    e = simplify_divmod(c.elem, [*mode.bounds, *mode.ranges])
    if e.is_const:
        return bool(e.value)
    if prove(hyps, e, TIMEOUT_MS):
        return True
    if prove(hyps, ir.not_(e), TIMEOUT_MS):
        return False
    return None


def simplify(ev: KernelEvaluator, v: Any) -> Any:
    """Integer `//` and `%` of the segment's iteration indices by U, resolved (tU + o) % U = o."""
    mode = ev.streamk
    if mode is None or not isinstance(v, Block) or isinstance(v, PtrBlock) or v.elem.kind is not Kind.INT:
        return v
    if not any(n.op in INT_DIV_OPS for n in ir.walk(v.elem)):
        return v
    from tritonlift.synth.guards import simplify_divmod

    return Block(v.shape, simplify_divmod(v.elem, [*mode.bounds, *mode.ranges]))


# ---------------------------------------------------------------------------------------------------------


class SegmentRun:
    def __init__(self, ev: KernelEvaluator, st: ast.While, m: SegmentLoop):
        self.ev, self.st, self.m = ev, st, m

    def fail(self, why: str) -> Unknown:
        return Unknown(f"work-partitioned loop: {why}", self.ev.file, self.st.lineno)

    def int_of(self, name: str) -> Expr:
        v = self.ev.scopes[-1].get(name)
        if isinstance(v, int) and not isinstance(v, bool):
            return ir.const(v)
        if isinstance(v, Block) and not isinstance(v, PtrBlock) and v.shape == () and v.elem.kind is Kind.INT:
            return v.elem
        raise self.ev.unsupported(f"work-partitioned loop: `{name}` is not an integer scalar", self.st)

    def run(self) -> None:
        ev, m = self.ev, self.m
        if len(ev.grid) != 1 or ev.loops or ev.stores or ev.depth:
            raise ev.unsupported("a work-partitioned while loop is modelled only as the whole work of a kernel on a "
                                 "1-D grid (no store before it)", self.st)
        s0, l0 = self.int_of(m.start), self.int_of(m.last)
        u_val = ev.eval(m.unit)
        u = u_val.elem if isinstance(u_val, Block) else ir.const(u_val) if isinstance(u_val, int) else None
        if u is None or u.kind is not Kind.INT:
            raise ev.unsupported("work-partitioned loop: its tile size is not an integer", self.st)
        self.s0, self.l0, self.u = s0, l0, u
        self.partition()
        self.probe()
        self.whole_tiles()

    # 1. the programs' ranges ------------------------------------------------------------------------
    def partition(self) -> None:
        from tritonlift.synth.guards import prove

        ev, p, g = self.ev, pid(0), self.ev.grid[0]
        s_next = ir.substitute(self.s0, {p: ir.add(p, ir.ONE)})
        base = [*ev.facts, ir.le(ir.ONE, self.u), ir.le(ir.ZERO, p), ir.lt(p, g)]
        if not prove(base, ir.eq(self.l0, s_next), TIMEOUT_MS):
            raise self.fail(f"a program's range ends at {to_text(self.l0)}, not where the next one starts "
                            f"({to_text(s_next)})")
        q = ir.var("_sk_q")
        conds = [
            ([], ir.eq(ir.substitute(self.s0, {p: ir.ZERO}), ir.ZERO), "the first program's range starts at 0"),
            ([ir.le(ir.ZERO, q), ir.lt(q, g)],
             ir.le(ir.substitute(self.s0, {p: q}), ir.substitute(self.s0, {p: ir.add(q, ir.ONE)})),
             "the programs' ranges are in order (each starts where the one before ends, none reversed)"),
            ([], ir.eq(ir.arith(Op.MOD, ir.substitute(self.s0, {p: g}), self.u), ir.ZERO),
             "the last program's range ends on a whole tile"),
        ]
        params = {p_.name for p_ in ev.fn.params}
        for hyps, goal, what in conds:
            if prove([*ev.facts, ir.le(ir.ONE, self.u), *hyps], goal, TIMEOUT_MS):
                continue
            free = {str(n.attr) for n in ir.walk(goal) if n.op is Op.VAR} & params
            if free and not any(f in ev.bindings for f in free):  # the kernel alone: a precondition of its launch
                ev.notes.append(f"stream-K launch precondition (assumed): {what}: {to_text(goal)}"
                                + (f" for 0 <= q < {to_text(g)}" if hyps else ""))
            else:  # launched by a host: proved by the verifier with the host's facts
                ev.side.append((ir.and_(*hyps) if hyps else ir.TRUE, goal, f"stream-K partition: {what}"))
        self.tiles = ir.arith(Op.TRUNCDIV, ir.substitute(self.s0, {p: g}), self.u)

    # 2-3. the body at a general segment ------------------------------------------------------------
    def probe(self) -> None:
        ev, m = self.ev, self.m
        p, g, u = pid(0), ev.grid[0], self.u
        t, o, e = ir.var("_sk_t"), ir.var("_sk_o"), ir.var("_sk_e")
        start = ir.add(ir.mul(t, u), o)
        tile_end = ir.add(ir.mul(t, u), u)
        facts = [*ev.facts, ir.le(ir.ONE, u), ir.le(ir.ZERO, o), ir.lt(o, u), ir.le(ir.ZERO, t),
                 ir.le(ir.ZERO, p), ir.lt(p, g), ir.le(self.s0, start), ir.lt(start, self.l0),
                 ir.or_(ir.eq(o, ir.ZERO), ir.eq(start, self.s0))]
        saved = (dict(ev.scopes[-1]), list(ev.stores), ev.path, list(ev.notes), list(ev.side), list(ev.facts),
                 list(ev.invariants), list(ev.loops))
        events: list[LockEvent] = []
        bounds = [ir.le(ir.ONE, u), ir.le(ir.ZERO, o), ir.lt(o, u), ir.le(ir.ZERO, t)]
        ev.streamk = Mode(facts=facts, events=events, program=p, bounds=bounds)
        try:
            ev.scopes[-1][m.start] = scalar(start)
            for st in self.st.body[:-1]:
                ev.exec_stmt(st)
                if isinstance(st, ast.Assign) and any(isinstance(x, ast.Name) and x.id == m.end for x in st.targets):
                    self.check_end(self.int_of(m.end), ir.minimum(tile_end, self.l0), facts)
                    ev.scopes[-1][m.end] = scalar(e)
                    ev.streamk.facts = facts = [*facts, ir.eq(e, ir.minimum(tile_end, self.l0)), ir.lt(start, e),
                                                ir.le(e, tile_end)]
                    ev.streamk.bounds = bounds = [*bounds, ir.lt(start, e), ir.le(e, tile_end)]
            stores = ev.stores[len(saved[1]):]
        finally:
            ev.streamk = None
            (scope, ev.stores, ev.path, ev.notes, ev.side, ev.facts, ev.invariants, ev.loops) = saved
            ev.scopes[-1] = scope
        self.protocol(stores, events, facts, t, o, e, start, tile_end)

    def protocol(self, stores: list[Any], events: list[LockEvent], facts: list[Expr], t: Expr, o: Expr, e: Expr,
                 start: Expr, tile_end: Expr) -> None:
        """The pieces of a tile reach the output once each: "store, then add under a lock" (see the module
        docstring); anything else is not recognised (unknown, with what differs)."""
        from tritonlift.synth.guards import prove, simplify_divmod

        ev, p = self.ev, pid(0)
        segment = {o, e, p}

        def free_of_segment(x: Expr) -> bool:
            return not any(n in segment for n in ir.walk(x))

        def conjuncts(x: Expr) -> list[Expr]:
            return [c for a in x.args for c in conjuncts(a)] if x.op is Op.AND else [x]

        w = ir.var("_sk_w")
        bounds = [ir.le(ir.ONE, self.u), ir.le(ir.ZERO, o), ir.lt(o, self.u), ir.le(ir.ZERO, t)]

        def holds(goal: Expr) -> bool:
            """goal for a piece that ends its tile (e = tU + U) and for one that does not (e = tU + w, o < w < U):
            `e % U` is decided in each case."""
            for at, extra in ((tile_end, []), (ir.add(ir.mul(t, self.u), w), [ir.lt(o, w), ir.lt(w, self.u)])):
                hyps = [ir.substitute(f, {e: at}) for f in facts] + extra
                g = simplify_divmod(ir.substitute(goal, {e: at}), [*bounds, *extra])
                if not prove(hyps, g, TIMEOUT_MS):
                    return False
            return True

        def split(st: Any) -> tuple[Expr, Expr]:  # (guard: conjuncts naming the segment, element mask)
            parts = conjuncts(st.mask)
            g = [c for c in parts if not free_of_segment(c)]
            m_ = [c for c in parts if free_of_segment(c)]
            return ir.and_(*g) if g else ir.TRUE, ir.and_(*m_) if m_ else ir.TRUE

        plain = [k for k, st in enumerate(stores) if st.combine is None]
        adds = [k for k, st in enumerate(stores) if st.combine is Op.SUM]
        if len(plain) != 1 or len(adds) != 1 or len(stores) != 2:
            raise self.fail("the body's writes are not one store and one tl.atomic_add of a tile's piece (the "
                            "'store, then add under a lock' protocol)")
        ks, ka = plain[0], adds[0]
        s1, s2 = stores[ks], stores[ka]
        g1, m1 = split(s1)
        g2, m2 = split(s2)
        if s1.base != s2.base or s1.offset != s2.offset or m1 != m2 or s1.value != s2.value:
            raise self.fail("the piece that stores and the pieces that add do not write the same value at the same "
                            "elements")
        if not (free_of_segment(s1.offset) and free_of_segment(m1)):
            raise self.fail("the elements a piece writes depend on the segment, not only on its tile")
        ends_tile = ir.eq(e, tile_end)
        if not holds(ir.and_(ir.eq(g1, ends_tile), ir.eq(g2, ir.not_(ends_tile)))):
            raise self.fail(f"the piece that stores ({to_text(g1)}) is not exactly the one ending its tile, or the "
                            f"others do not add ({to_text(g2)})")
        self.additive(s1.value, facts, t, o, e, start)
        acq = [x for x in events if x.kind == "acquire"]
        rel = [x for x in events if x.kind == "release"]
        if len(acq) != 1 or len(rel) != 1:
            raise self.fail("the lock protocol is not one release by the storing piece and one wait by the adding "
                            "pieces")
        a, r = acq[0], rel[0]
        if a.base != r.base or a.index != r.index or not free_of_segment(a.index):
            raise self.fail("the adding pieces wait on another lock than the one the storing piece releases")
        t2 = ir.var("_sk_t2")
        if not prove([ir.le(ir.ZERO, t), ir.le(ir.ZERO, t2), ir.eq(a.index, ir.substitute(a.index, {t: t2}))],
                     ir.eq(t, t2), TIMEOUT_MS):
            raise self.fail(f"the lock {to_text(a.index)} is shared by several tiles")
        if a.order > ka or not holds(_implies(g2, a.guard)):
            raise self.fail("a piece adds without first waiting for its tile's lock")
        if r.order <= ks or not holds(_implies(r.guard, g1)):
            raise self.fail("the lock is released before the tile's store (or by a piece that does not store)")
        if not holds(_implies(ir.and_(g1, ir.not_(ir.eq(o, ir.ZERO))), r.guard)):
            raise self.fail("the storing piece does not release the lock when other pieces wait on it (a hang)")
        if any(b in (a.base,) for b in (s1.base,)):
            raise self.fail("the lock array is also the output")
        zeroed = getattr(ev, "zeroed", frozenset())
        if a.base not in zeroed:
            ev.notes.append(f"stream-K locks: `{a.base}` holds zeros at launch (assumed)")
        ev.notes.append("stream-K: every program of the launch runs at once (a spin wait's releasing program "
                        "makes progress; stream-K launches one program per SM)")

    def additive(self, v: Expr, facts: list[Expr], t: Expr, o: Expr, e: Expr, start: Expr) -> None:
        """v = Σ_{r in [lo, hi)} body(r) with hi - lo = e - start and body(r) at r = c - o + lo free of the
        segment: a sum over the segment's iterations c in [o, e - tU) of terms that do not depend on where the
        segment starts, so the pieces of a partition sum to the whole tile's value."""
        from tritonlift.synth.guards import prove, simplify_divmod

        if v.op is not Op.SUM:
            raise self.fail(f"a piece's value is not a sum over its iterations: {to_text(v)[:120]}")
        lo, hi, body = v.args
        if not prove(facts, ir.eq(ir.sub(hi, lo), ir.sub(e, start)), TIMEOUT_MS):
            raise self.fail("a piece's sum does not run over its iterations")
        c = ir.var("_sk_c")
        moved = simplify_divmod(ir.substitute(body, {ir.var(str(v.attr)): ir.add(ir.sub(c, o), lo)}), [])
        if any(n in (o, e, pid(0)) for n in ir.walk(moved)):
            raise self.fail("a piece's terms depend on where the piece starts (not additive over the tile's "
                            "iterations)")

    # the launch's writes: the body over whole tiles ---------------------------------------------------
    def whole_tiles(self) -> None:
        ev, m = self.ev, self.m
        t = pid(0)
        dead = ir.var("_sk_program")
        scope = ev.scopes[-1]
        for k, v in list(scope.items()):
            scope[k] = _subst(v, {t: dead})
        ev.grid = (self.tiles,)
        ev.notes.append(f"stream-K: the launch writes what a grid of {to_text(self.tiles)} programs, one per "
                        "tile, computes with the loop body over the whole tile (partition, additivity and lock "
                        "protocol checked)")
        start, tile_end = ir.mul(t, self.u), ir.add(ir.mul(t, self.u), self.u)
        facts = [*ev.facts, ir.le(ir.ONE, self.u), ir.le(ir.ZERO, t), ir.lt(t, self.tiles)]
        ev.streamk = Mode(facts=facts, program=dead, bounds=facts[-3:])
        n0 = len(ev.stores)
        try:
            scope[m.start] = scalar(start)
            scope[m.last] = scalar(tile_end)  # as if a program's range were this one tile
            for st in self.st.body[:-1]:
                ev.exec_stmt(st)
                if isinstance(st, ast.Assign) and any(isinstance(x, ast.Name) and x.id == m.end for x in st.targets):
                    self.check_end(self.int_of(m.end), tile_end, facts)
                    ev.scopes[-1][m.end] = scalar(tile_end)
        finally:
            ev.streamk = None
        from tritonlift.synth.guards import simplify_divmod

        bounds = facts[-3:]
        for k in range(n0, len(ev.stores)):
            s = ev.stores[k]
            ev.stores[k] = replace(s, offset=simplify_divmod(s.offset, bounds),
                                   value=simplify_divmod(s.value, bounds), mask=simplify_divmod(s.mask, bounds))
        for s in ev.stores:
            if any(n == dead for e in (s.offset, s.value, s.mask) for n in ir.walk(e)):
                raise self.fail("the body's writes depend on the program beyond the tile it works on")

    def check_end(self, got: Expr, want: Expr, facts: list[Expr]) -> None:
        """The body's segment end is the next multiple of U after the start, capped by the program's range."""
        from tritonlift.synth.guards import prove, simplify_divmod

        if not prove(facts, ir.eq(simplify_divmod(got, facts), want), TIMEOUT_MS):
            raise self.fail(f"the segment's end {to_text(got)} is not the next tile boundary {to_text(want)}")


def _subst(v: Any, mapping: dict[Expr, Expr]) -> Any:
    if isinstance(v, PtrBlock):
        return PtrBlock(v.shape, v.base, ir.substitute(v.offset, mapping))
    if isinstance(v, Block):
        return Block(v.shape, ir.substitute(v.elem, mapping))
    if isinstance(v, tuple):
        return tuple(_subst(x, mapping) for x in v)
    return v


def _implies(a: Expr, b: Expr) -> Expr:
    return ir.or_(ir.not_(a), b)
