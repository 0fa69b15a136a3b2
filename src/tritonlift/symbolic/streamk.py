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

from tritonlift.errors import Unknown
from tritonlift.frontend.source import qualname
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import INT_DIV_OPS, Expr, Kind, Op
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.tl_table import tl_function
from tritonlift.symbolic.values import Block, PtrBlock, pid, scalar

if TYPE_CHECKING:
    from tritonlift.symbolic.kernel_eval import KernelEvaluator

# what spin waits rest on, in the assumptions of every stream-K result
CORESIDENT = (
    "stream-K: every program of the launch runs at once (a spin wait's releasing program makes "
    "progress; stream-K launches one program per SM)"
)
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
class Gather:
    """`while END < STOP: wait(lock + I(q)); acc += load(P + O(q, lanes)); END += STEP; q += 1` met at a general
    segment, evaluated at one iteration with q a fresh symbol and END = S(q) (the invariant, checked)."""

    q: Expr  # the iteration's program index symbol
    q0: Expr  # q's value on entry
    end0: Expr  # END on entry
    stop: Expr
    lock_base: str
    lock_index: Expr  # I(q)
    base: str  # P
    offset: Expr  # O(q, lanes)
    placeholder: Expr  # what the sum of the loads is in the accumulator after the loop
    guard: Expr
    line: int
    end_var: Expr  # the cursor at iteration q (a symbol; the invariant says it is S(q))
    end_after: Expr  # END after one iteration


@dataclass
class Mode:
    """What the evaluator does differently inside a segment loop's body."""

    facts: list[Expr]
    events: list[LockEvent] | None = None  # None: the whole-tile run (a lock operation there is unsupported)
    ranges: list[Expr] = field(default_factory=list)  # 0 <= t < trips of the symbolic loops open now
    program: Expr = ir.ZERO  # what tl.program_id(0) is inside the body (the whole-tile run: a dead symbol)
    bounds: list[Expr] = field(default_factory=list)  # the segment's simple bounds (for `//` and `%` by U)
    gathers: list[Gather] = field(default_factory=list)  # gather loops met at a general segment


def _fn(node: ast.AST, ev: KernelEvaluator) -> str | None:
    if isinstance(node, ast.Call):
        return tl_function(qualname(node.func, ev.module.aliases) or "")
    return None


def match_segment_loop(st: ast.While) -> SegmentLoop | None:
    """`while start < last: ...; start = end` with `end = ...(start % U)...` assigned at the body's top level."""
    t = st.test
    if (
        not (
            isinstance(t, ast.Compare)
            and len(t.ops) == 1
            and isinstance(t.ops[0], ast.Lt)
            and isinstance(t.left, ast.Name)
            and isinstance(t.comparators[0], ast.Name)
        )
        or st.orelse
    ):
        return None
    start, last = t.left.id, t.comparators[0].id
    if not st.body:
        return None
    tail = st.body[-1]
    if not (
        isinstance(tail, ast.Assign)
        and len(tail.targets) == 1
        and isinstance(tail.targets[0], ast.Name)
        and tail.targets[0].id == start
        and isinstance(tail.value, ast.Name)
    ):
        return None
    end = tail.value.id
    if not any(
        isinstance(s, ast.Assign) and any(isinstance(x, ast.Name) and x.id == end for x in s.targets)
        for s in st.body[:-1]
    ):
        return None
    for n in ast.walk(st):
        if (
            isinstance(n, ast.BinOp)
            and isinstance(n.op, ast.Mod)
            and isinstance(n.left, ast.Name)
            and n.left.id == start
        ):
            return SegmentLoop(start, last, end, n.right)
    return None


def spin_lock(st: ast.While, ev: KernelEvaluator) -> ast.expr | None:
    """`while tl.atomic_cas(ptr, 1, 1) != 1: pass` -> ptr (a wait until the lock at ptr is set)."""
    t = st.test
    if not (
        isinstance(t, ast.Compare)
        and len(t.ops) == 1
        and isinstance(t.ops[0], ast.NotEq)
        and _fn(t.left, ev) == "atomic_cas"
        and isinstance(t.comparators[0], ast.Constant)
        and t.comparators[0].value == 1
        and all(isinstance(s, ast.Pass) for s in st.body)
        and not st.orelse
    ):
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
            if (
                isinstance(n, ast.Expr)
                and _fn(n.value, ev) == "atomic_xchg"
                and len(n.value.args) == 2
                and isinstance(n.value.args[1], ast.Constant)  # type: ignore[attr-defined]
                and n.value.args[1].value == 1
            ):  # type: ignore[attr-defined]
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
    if len(args) < 2 or not (args[1] == 1 and not isinstance(args[1], bool)):
        raise ev.unsupported("tl.atomic_xchg: only setting a lock to 1 is modelled", node)
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
        if mode.events is not None:
            gather(ev, st)
            return
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

    hyps = [*mode.facts, *mode.ranges, ev.path]
    e = simplify_divmod(c.elem, [*mode.bounds, *mode.ranges])
    if e.is_const:
        return bool(e.value)
    # at a general segment most tests are open (they split the body): a small resource budget each
    rlimit = 500_000 if mode.events is not None else 5_000_000
    if prove(hyps, e, TIMEOUT_MS, rlimit):
        return True
    if prove(hyps, ir.not_(e), TIMEOUT_MS, rlimit):
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


def gather(ev: KernelEvaluator, st: ast.While) -> None:
    """A loop summing other programs' partial results of this tile (their scratch slots), at a general
    segment: its shape is checked and one iteration evaluated; the protocol check (SegmentRun.protocol)
    decides whether it gathers exactly the tile's other pieces."""
    mode = ev.streamk
    assert mode is not None
    t = st.test
    body = st.body
    if not (
        isinstance(t, ast.Compare)
        and len(t.ops) == 1
        and isinstance(t.ops[0], ast.Lt)
        and isinstance(t.left, ast.Name)
        and len(body) >= 4
        and not st.orelse
    ):
        raise ev.unsupported(
            "while loops are not modelled yet (inside a work-partitioned loop, only a loop "
            "gathering other programs' partial results)",
            st,
        )
    end_name = t.left.id
    wait, tail = body[0], body[-3:]
    ok = (
        isinstance(wait, ast.While)
        and spin_lock(wait, ev) is not None
        and all(
            isinstance(x, ast.AugAssign) and isinstance(x.op, ast.Add) and isinstance(x.target, ast.Name)
            for x in tail
        )
    )
    if not ok:
        raise ev.unsupported(
            "while loop inside a work-partitioned loop: not a gather of partial results "
            "(wait on a lock; acc += tl.load(...); end += ...; q += 1)",
            st,
        )
    acc_name, end2, q_name = (x.target.id for x in tail)  # type: ignore[attr-defined]
    if end2 != end_name or not (isinstance(tail[2].value, ast.Constant) and tail[2].value.value == 1):
        raise ev.unsupported(
            "gather loop: its cursor and program index do not advance as `end += ...; q += 1`", st
        )
    scope = ev.scopes[-1]
    q0 = scope.get(q_name)
    end0 = scope.get(end_name)
    acc0 = scope.get(acc_name)
    if not (isinstance(q0, Block) and isinstance(end0, Block) and isinstance(acc0, Block)):
        raise ev.unsupported("gather loop: its program index, cursor or accumulator is not a value", st)
    stop = ev.eval(t.comparators[0])
    if not isinstance(stop, Block) or stop.shape != ():
        raise ev.unsupported("gather loop: its bound is not a scalar", st)
    q = ir.var(f"_sk_q{len(mode.gathers)}")
    saved = dict(scope)
    n_events, n_stores = len(mode.events or []), len(ev.stores)
    scope[q_name] = scalar(q)
    end_var = ir.var(f"_sk_end{len(mode.gathers)}")
    scope[end_name] = scalar(end_var)
    scope[acc_name] = Block(acc0.shape, ir.const(0.0))
    for x in body[:-2]:
        ev.exec_stmt(x)
    loaded = scope[acc_name]
    after_end = ev.eval(tail[1].value)
    events = (mode.events or [])[n_events:]
    ev.scopes[-1] = scope = saved
    if len(ev.stores) != n_stores or len(events) != 1 or events[0].kind != "acquire":
        raise ev.unsupported("gather loop: its body must wait on one lock and store nothing", st)
    del mode.events[n_events:]  # type: ignore[index]
    v = loaded.elem if isinstance(loaded, Block) else None
    if v is not None and v.op is Op.ADD and any(a == ir.const(0.0) for a in v.args):
        v = next(a for a in v.args if a != ir.const(0.0))
    if v is None or v.op is not Op.MEM:
        raise ev.unsupported("gather loop: the accumulator does not add one tl.load of a partial result", st)
    from tritonlift.symbolic.values import lane

    ph = ir.read(f"@gathered{len(mode.gathers)}", *(lane(k) for k in range(len(acc0.shape))))
    if ph.kind is not Kind.REAL:
        ph = ir.Expr(Op.READ, ph.args, ph.attr, Kind.REAL)
    mode.gathers.append(
        Gather(
            q,
            q0.elem,
            end0.elem,
            stop.elem,
            events[0].base,
            events[0].index,
            str(v.attr),
            v.args[0],
            ph,
            ev.path,
            st.lineno,
            end_var,
            ir.add(end_var, to_expr(after_end, ev, st)),
        )
    )
    scope[acc_name] = Block(acc0.shape, ir.add(acc0.elem, ph))
    scope.pop(q_name, None)
    scope.pop(end_name, None)


def to_expr(v: Any, ev: KernelEvaluator, node: ast.AST) -> Expr:
    if isinstance(v, Block) and v.shape == ():
        return v.elem
    if isinstance(v, int):
        return ir.const(v)
    raise ev.unsupported("gather loop: its cursor's step is not a scalar", node)


# ---------------------------------------------------------------------------------------------------------
# The checks at a general segment (additivity, lock protocol) hold for every value of the kernel's scalars
# when they hold with the scalars symbolic: a host's launch binds them to some values, an instance. So a
# launched kernel is checked once per (kernel, constexpr values) with its scalars left symbolic, and the
# verdict (its notes, or the failure) reused by every launch and host path that binds the same constexprs.


class _Probed(Exception):
    def __init__(self, notes: list[str]):
        self.notes = notes


_GENERIC: dict[tuple, Any] = {}


def generic_probe(ev: KernelEvaluator) -> list[str]:
    from tritonlift.errors import LiftError
    from tritonlift.symbolic.kernel_eval import KernelEvaluator

    constexprs = {p.name for p in ev.fn.params if p.constexpr}
    fixed = {k: v for k, v in ev.bindings.items() if k in constexprs and isinstance(v, (bool, int))}
    key = (
        ev.module.path,
        hash(ev.module.source),
        ev.fn.name,
        ev.fn.line,
        tuple(sorted(fixed.items())),
        tuple(sorted(ev.pointers)),
        ev.zeroed,
        ev.invariant_patterns,
    )
    if key not in _GENERIC:
        gen = KernelEvaluator(
            ev.module,
            ev.fn,
            fixed,
            list(ev.pointers),
            dict(ev.scalars),
            (ir.var("grid[0]"),),
            ev.invariant_patterns,
            elem_dtypes=ev.elem_dtypes,
        )
        gen.zeroed = ev.zeroed
        gen.probe_only = True
        try:
            gen.run()
            _GENERIC[key] = Unknown(
                "work-partitioned loop: the general segment was not reached", ev.file, ev.line
            )
        except _Probed as done:
            _GENERIC[key] = done.notes
        except LiftError as e:
            _GENERIC[key] = e
    got = _GENERIC[key]
    if isinstance(got, Exception):
        raise got
    return list(got)


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
        if len(ev.grid) != 1 or ev.loops or ev.stores or ev.depth or ev.fn.node.body[-1] is not self.st:
            raise ev.unsupported(
                "a work-partitioned while loop is modelled only as the whole work of a kernel on a "
                "1-D grid (its last statement, no store before it)",
                self.st,
            )
        s0, l0 = self.int_of(m.start), self.int_of(m.last)
        u_val = ev.eval(m.unit)
        u = u_val.elem if isinstance(u_val, Block) else ir.const(u_val) if isinstance(u_val, int) else None
        if u is None or u.kind is not Kind.INT:
            raise ev.unsupported("work-partitioned loop: its tile size is not an integer", self.st)
        self.s0, self.l0, self.u = s0, l0, u
        self.partition()
        if ev.probe_only:
            n0 = len(ev.notes)
            self.probe()
            raise _Probed(ev.notes[n0:])
        if self.launched():  # by a host: the checks of the body at a general segment, made once per kernel
            ev.notes.extend(generic_probe(ev))
        else:
            self.probe()
        self.whole_tiles()

    def launched(self) -> bool:
        """A host binds some of the kernel's non-constexpr scalars (an operator-level evaluation)."""
        constexprs = {p.name for p in self.ev.fn.params if p.constexpr}
        return any(k not in constexprs and k not in self.ev.pointers for k in self.ev.bindings)

    # 1. the programs' ranges ------------------------------------------------------------------------
    def partition(self) -> None:
        from tritonlift.synth.guards import prove

        ev, p, g = self.ev, pid(0), self.ev.grid[0]
        s_next = ir.substitute(self.s0, {p: ir.add(p, ir.ONE)})
        base = [*ev.facts, ir.le(ir.ONE, self.u), ir.le(ir.ZERO, p), ir.lt(p, g)]
        if not prove(base, ir.eq(self.l0, s_next), TIMEOUT_MS):
            raise self.fail(
                f"a program's range ends at {to_text(self.l0)}, not where the next one starts "
                f"({to_text(s_next)})"
            )
        total = ir.substitute(self.s0, {p: g})
        # the division identity G * (X // G) + X % G = X (a host's split of X iterations over G programs): the
        # tile count in the host's own terms, proved by the verifier with the host's facts
        split = {
            kind: {n.args[0] for n in ir.walk(total) if n.op in ops and n.args[1] == g}
            for kind, ops in (("div", (Op.FLOORDIV, Op.TRUNCDIV)), ("mod", (Op.MOD, Op.TRUNCMOD)))
        }
        xs = sorted(split["div"] & split["mod"], key=lambda x: -len(to_text(x)))
        if xs:  # X // G and X % G both in S(G): the outermost such X
            x = xs[0]
            ev.side.append(
                (
                    ir.le(ir.ONE, g),
                    ir.eq(total, x),
                    f"stream-K partition: the programs' ranges cover {to_text(x)} iterations",
                )
            )
            total = x
        q = ir.var("_sk_q")
        conds = [
            (
                [],
                ir.eq(ir.substitute(self.s0, {p: ir.ZERO}), ir.ZERO),
                "the first program's range starts at 0",
            ),
            (
                [ir.le(ir.ZERO, q), ir.lt(q, g)],
                ir.le(ir.substitute(self.s0, {p: q}), ir.substitute(self.s0, {p: ir.add(q, ir.ONE)})),
                "the programs' ranges are in order (each starts where the one before ends, none reversed)",
            ),
        ]
        if _exact_div(total, self.u) is None:  # else total is U times a polynomial: whole tiles
            conds.append(
                (
                    [],
                    ir.eq(ir.arith(Op.MOD, total, self.u), ir.ZERO),
                    "the last program's range ends on a whole tile",
                )
            )
        params = {p_.name for p_ in ev.fn.params}
        ev.notes.append(f"stream-K: the launch has at least one program ({to_text(g)} >= 1)")
        for hyps, goal, what in conds:
            if prove([*ev.facts, ir.le(ir.ONE, self.u), *hyps], goal, TIMEOUT_MS):
                continue
            free = {str(n.attr) for n in ir.walk(goal) if n.op is Op.VAR} & params
            if free and not any(
                f in ev.bindings for f in free
            ):  # the kernel alone: a precondition of its launch
                ev.notes.append(
                    f"stream-K launch precondition (assumed): {what}: {to_text(goal)}"
                    + (f" for 0 <= q < {to_text(g)}" if hyps else "")
                )
            else:  # launched by a host: proved by the verifier with the host's facts
                ev.side.append((ir.and_(ir.le(ir.ONE, g), *hyps), goal, f"stream-K partition: {what}"))
        self.tiles = _exact_div(total, self.u) or ir.arith(Op.TRUNCDIV, total, self.u)

    # 2-3. the body at a general segment ------------------------------------------------------------
    def probe(self) -> None:
        ev, m = self.ev, self.m
        p, g, u = pid(0), ev.grid[0], self.u
        t, o, e = ir.var("_sk_t"), ir.var("_sk_o"), ir.var("_sk_e")
        start = ir.add(ir.mul(t, u), o)
        tile_end = ir.add(ir.mul(t, u), u)
        facts = [
            *ev.facts,
            ir.le(ir.ONE, u),
            ir.le(ir.ZERO, o),
            ir.lt(o, u),
            ir.le(ir.ZERO, t),
            ir.le(ir.ZERO, p),
            ir.lt(p, g),
            ir.le(self.s0, start),
            ir.lt(start, self.l0),
            ir.or_(ir.eq(o, ir.ZERO), ir.eq(start, self.s0)),
        ]
        saved = (
            dict(ev.scopes[-1]),
            list(ev.stores),
            ev.path,
            list(ev.notes),
            list(ev.side),
            list(ev.facts),
            list(ev.invariants),
            list(ev.loops),
        )
        events: list[LockEvent] = []
        bounds = [ir.le(ir.ONE, u), ir.le(ir.ZERO, o), ir.lt(o, u), ir.le(ir.ZERO, t)]
        ev.streamk = Mode(facts=facts, events=events, program=p, bounds=bounds)
        try:
            ev.scopes[-1][m.start] = scalar(start)
            for st in self.st.body[:-1]:
                ev.exec_stmt(st)
                if isinstance(st, ast.Assign) and any(
                    isinstance(x, ast.Name) and x.id == m.end for x in st.targets
                ):
                    self.check_end(self.int_of(m.end), ir.minimum(tile_end, self.l0), facts, bounds)
                    ev.scopes[-1][m.end] = scalar(e)
                    ev.streamk.facts = facts = [
                        *facts,
                        ir.eq(e, ir.minimum(tile_end, self.l0)),
                        ir.lt(start, e),
                        ir.le(e, tile_end),
                    ]
                    ev.streamk.bounds = bounds = [*bounds, ir.lt(start, e), ir.le(e, tile_end)]
            stores = ev.stores[len(saved[1]) :]
            gathers = list(ev.streamk.gathers)
        finally:
            ev.streamk = None
            (scope, ev.stores, ev.path, ev.notes, ev.side, ev.facts, ev.invariants, ev.loops) = saved
            ev.scopes[-1] = scope
        if gathers:
            self.gather_protocol(stores, events, gathers, facts, t, o, e, start, tile_end)
        else:
            self.protocol(stores, events, facts, t, o, e, start, tile_end)

    def protocol(
        self,
        stores: list[Any],
        events: list[LockEvent],
        facts: list[Expr],
        t: Expr,
        o: Expr,
        e: Expr,
        start: Expr,
        tile_end: Expr,
    ) -> None:
        """The pieces of a tile reach the output once each: "store, then add under a lock" (see the module
        docstring); anything else is not recognised (unknown, with what differs)."""
        from tritonlift.synth.guards import prove, simplify_divmod

        ev, p = self.ev, pid(0)
        segment = {o, e, p}

        def free_of_segment(x: Expr) -> bool:
            return not any(n in segment for n in ir.walk(x))

        w = ir.var("_sk_w")
        bounds = [ir.le(ir.ONE, self.u), ir.le(ir.ZERO, o), ir.lt(o, self.u), ir.le(ir.ZERO, t)]

        def holds(goal: Expr) -> bool:
            """goal for a piece that ends its tile (e = tU + U) and for one that does not (e = tU + w, o < w < U):
            `e % U` is decided in each case."""
            for at, extra in (
                (tile_end, []),
                (ir.add(ir.mul(t, self.u), w), [ir.lt(o, w), ir.lt(w, self.u)]),
            ):
                hyps = [ir.substitute(f, {e: at}) for f in facts] + extra
                g = simplify_divmod(ir.substitute(goal, {e: at}), [*bounds, *extra])
                if not prove(hyps, g, TIMEOUT_MS):
                    return False
            return True

        def split(st: Any) -> tuple[Expr, Expr]:  # (guard: conjuncts naming the segment, element mask)
            parts = ir.conjuncts(st.mask)
            g = [c for c in parts if not free_of_segment(c)]
            m_ = [c for c in parts if free_of_segment(c)]
            return ir.and_(*g) if g else ir.TRUE, ir.and_(*m_) if m_ else ir.TRUE

        plain = [k for k, st in enumerate(stores) if st.combine is None]
        adds = [k for k, st in enumerate(stores) if st.combine is Op.SUM]
        if len(plain) != 1 or len(adds) != 1 or len(stores) != 2:
            raise self.fail(
                "the body's writes are not one store and one tl.atomic_add of a tile's piece (the "
                "'store, then add under a lock' protocol)"
            )
        ks, ka = plain[0], adds[0]
        s1, s2 = stores[ks], stores[ka]
        g1, m1 = split(s1)
        g2, m2 = split(s2)
        if s1.base != s2.base or s1.offset != s2.offset or m1 != m2 or s1.value != s2.value:
            raise self.fail(
                "the piece that stores and the pieces that add do not write the same value at the same "
                "elements"
            )
        if not (free_of_segment(s1.offset) and free_of_segment(m1)):
            raise self.fail("the elements a piece writes depend on the segment, not only on its tile")
        ends_tile = ir.eq(e, tile_end)
        if not holds(ir.and_(ir.eq(g1, ends_tile), ir.eq(g2, ir.not_(ends_tile)))):
            raise self.fail(
                f"the piece that stores ({to_text(g1)}) is not exactly the one ending its tile, or the "
                f"others do not add ({to_text(g2)})"
            )
        self.additive(s1.value, facts, t, o, e, start)
        acq = [x for x in events if x.kind == "acquire"]
        rel = [x for x in events if x.kind == "release"]
        if len(acq) != 1 or len(rel) != 1:
            raise self.fail(
                "the lock protocol is not one release by the storing piece and one wait by the adding pieces"
            )
        a, r = acq[0], rel[0]
        if a.base != r.base or a.index != r.index or not free_of_segment(a.index):
            raise self.fail("the adding pieces wait on another lock than the one the storing piece releases")
        t2 = ir.var("_sk_t2")
        if not prove(
            [ir.le(ir.ZERO, t), ir.le(ir.ZERO, t2), ir.eq(a.index, ir.substitute(a.index, {t: t2}))],
            ir.eq(t, t2),
            TIMEOUT_MS,
        ):
            raise self.fail(f"the lock {to_text(a.index)} is shared by several tiles")
        if a.order > ka or not holds(_implies(g2, a.guard)):
            raise self.fail("a piece adds without first waiting for its tile's lock")
        if r.order <= ks or not holds(_implies(r.guard, g1)):
            raise self.fail(
                "the lock is released before the tile's store (or by a piece that does not store)"
            )
        if not holds(_implies(ir.and_(g1, ir.not_(ir.eq(o, ir.ZERO))), r.guard)):
            raise self.fail(
                "the storing piece does not release the lock when other pieces wait on it (a hang)"
            )
        if a.base == s1.base:
            raise self.fail("the lock array is also the output")
        if a.base not in ev.zeroed:
            ev.notes.append(f"stream-K locks: `{a.base}` holds zeros at launch (assumed)")
        ev.notes.append(CORESIDENT)

    def gather_protocol(
        self,
        stores: list[Any],
        events: list[LockEvent],
        gathers: list[Gather],
        facts: list[Expr],
        t: Expr,
        o: Expr,
        e: Expr,
        start: Expr,
        tile_end: Expr,
    ) -> None:
        """Protocol "partials in scratch slots, gathered by the tile's first piece": a piece that does not start
        its tile stores its value in its program's slot of a scratch array and releases its program's lock;
        the piece that starts the tile (o = 0) waits for and adds the slots of programs p + 1, p + 2, ...
        while their ranges start inside the tile (its cursor walks S(q): checked), then stores into the
        output. A program's only piece that can start inside a tile is its first one, so the slots gathered
        are exactly the tile's other pieces, each once."""
        from tritonlift.synth.guards import prove

        ev, p = self.ev, pid(0)
        segment = {o, e, p}
        ok = lambda x: not any(n in segment or n == t for n in ir.walk(x))  # noqa: E731
        if len(gathers) != 1 or len(stores) != 2 or any(st.combine is not None for st in stores):
            raise self.fail(
                "the body's writes are not one partial result and one tile store around one gather loop"
            )
        g = gathers[0]
        out = [st for st in stores if st.base != g.base]
        scratch = [st for st in stores if st.base == g.base]
        if len(out) != 1 or len(scratch) != 1:
            raise self.fail(
                "the gather loop reads another array than the one the pieces store their partial results in"
            )
        sc, so = scratch[0], out[0]
        starts, inside = ir.eq(o, ir.ZERO), ir.not_(ir.eq(o, ir.ZERO))
        value = sc.value
        if so.value != ir.add(value, g.placeholder) and so.value != ir.add(g.placeholder, value):
            raise self.fail("the tile's store is not its first piece plus the gathered partial results")
        if not (
            prove(facts, ir.eq(_conj_with(so.mask, segment, keep=True), starts), TIMEOUT_MS)
            and prove(facts, ir.eq(_conj_with(sc.mask, segment, keep=True), inside), TIMEOUT_MS)
        ):
            raise self.fail(
                "the tile's store is not made by exactly the piece starting the tile, or the partial "
                "results by exactly the others"
            )
        if not prove([*facts, starts], g.guard, TIMEOUT_MS):
            raise self.fail("the gather loop runs on another piece than the one starting the tile")
        slot = sc.offset
        if any(n in (o, e, t) for n in ir.walk(slot)) or not ok(
            _conj_with(sc.mask, segment | {t}, keep=False)
        ):
            raise self.fail("a partial result's slot depends on more than its program")
        rel = [x for x in events if x.kind == "release"]
        if len(rel) != 1 or [x for x in events if x.kind == "acquire"]:
            raise self.fail(
                "the lock protocol is not one release per partial result and one wait per gathered slot"
            )
        r = rel[0]
        if stores.index(sc) >= r.order:
            raise self.fail("the lock is released before the partial result is stored")
        if not (
            prove([*facts, inside], r.guard, TIMEOUT_MS) and prove([*facts, r.guard], inside, TIMEOUT_MS)
        ):
            raise self.fail("the lock is not released exactly by the pieces that store a partial result")
        q = g.q
        if not (
            g.lock_base == r.base
            and g.lock_index == ir.substitute(r.index, {p: q})
            and norm_eq(g.offset, ir.substitute(slot, {p: q}))
        ):
            raise self.fail(
                "the gather loop waits on or reads another program's lock or slot than the one it adds"
            )
        if r.base in (so.base, sc.base) or sc.base == so.base:
            raise self.fail("the locks, the partial results and the output share an array")
        if not norm_eq(g.q0, ir.add(p, ir.ONE)) or g.end0 != e:
            raise self.fail("the gather loop does not start at the next program, with the piece's end")
        if not prove([*facts, starts], ir.eq(g.stop, tile_end), TIMEOUT_MS):
            raise self.fail("the gather loop does not stop at the tile's end")
        s_of = lambda x: ir.substitute(self.s0, {p: x})  # noqa: E731
        if not prove(
            [*facts, ir.le(ir.ONE, q)],
            ir.eq(ir.substitute(g.end_after, {g.end_var: s_of(q)}), s_of(ir.add(q, ir.ONE))),
            TIMEOUT_MS,
        ):
            raise self.fail("the gather loop's cursor does not follow the programs' range starts")
        p2 = ir.var("_sk_p2")
        lanes = [ir.var(f"_sk_l{d}") for d in range(len(sc.shape))]
        from tritonlift.symbolic.values import lane

        a1 = slot
        a2 = ir.substitute(slot, {p: p2, **{lane(d): lanes[d] for d in range(len(sc.shape))}})
        rng = [
            f
            for d, n in enumerate(sc.shape)
            for f in (
                ir.le(ir.ZERO, lane(d)),
                ir.lt(lane(d), n),
                ir.le(ir.ZERO, lanes[d]),
                ir.lt(lanes[d], n),
            )
        ]
        if not prove(
            [*ev.facts, *rng, ir.le(ir.ZERO, p), ir.le(ir.ZERO, p2), ir.eq(a1, a2)], ir.eq(p, p2), TIMEOUT_MS
        ):
            raise self.fail(f"two programs' partial results may share a slot ({to_text(slot)})")
        self.additive(value, facts, t, o, e, start)
        if r.base not in ev.zeroed:
            ev.notes.append(f"stream-K locks: `{r.base}` holds zeros at launch (assumed)")
        ev.notes.append(
            f"stream-K: `{sc.base}` is scratch (partial results); its contents after the launch are "
            "not described"
        )
        ev.notes.append(CORESIDENT)

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
            raise self.fail(
                "a piece's terms depend on where the piece starts (not additive over the tile's iterations)"
            )

    # the launch's writes: the body over whole tiles ---------------------------------------------------
    def whole_tiles(self) -> None:
        ev, m = self.ev, self.m
        t = pid(0)
        dead = ir.var("_sk_program")
        scope = ev.scopes[-1]
        for k, v in list(scope.items()):
            scope[k] = _subst(v, {t: dead})
        ev.grid = (self.tiles,)
        ev.notes.append(
            f"stream-K: the launch writes what a grid of {to_text(self.tiles)} programs, one per "
            "tile, computes with the loop body over the whole tile (partition, additivity and lock "
            "protocol checked)"
        )
        start, tile_end = ir.mul(t, self.u), ir.add(ir.mul(t, self.u), self.u)
        facts = [*ev.facts, ir.le(ir.ONE, self.u), ir.le(ir.ZERO, t), ir.lt(t, self.tiles)]
        ev.streamk = Mode(facts=facts, program=dead, bounds=facts[-3:])
        n0 = len(ev.stores)
        try:
            scope[m.start] = scalar(start)
            scope[m.last] = scalar(tile_end)  # as if a program's range were this one tile
            for st in self.st.body[:-1]:
                ev.exec_stmt(st)
                if isinstance(st, ast.Assign) and any(
                    isinstance(x, ast.Name) and x.id == m.end for x in st.targets
                ):
                    self.check_end(self.int_of(m.end), tile_end, facts, facts[-3:])
                    ev.scopes[-1][m.end] = scalar(tile_end)
        finally:
            ev.streamk = None
        bounds = facts[-3:]
        for k in range(n0, len(ev.stores)):
            s = ev.stores[k]
            ev.stores[k] = replace(
                s,
                offset=_divmods(s.offset, bounds),
                value=_divmods(s.value, bounds),
                mask=_divmods(s.mask, bounds),
            )
        for s in ev.stores:
            if any(n == dead for e in (s.offset, s.value, s.mask) for n in ir.walk(e)):
                raise self.fail("the body's writes depend on the program beyond the tile it works on")

    def check_end(self, got: Expr, want: Expr, facts: list[Expr], bounds: list[Expr]) -> None:
        """The body's segment end is the next multiple of U after the start, capped by the program's range."""
        from tritonlift.synth.guards import prove, simplify_divmod

        if not prove(facts, ir.eq(simplify_divmod(got, bounds), want), TIMEOUT_MS):
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


def _conj_with(mask: Expr, names: set[Expr], keep: bool) -> Expr:
    """The conjuncts of mask that mention (keep=True) or do not mention (keep=False) any of `names`."""
    parts = [c for c in ir.conjuncts(mask) if any(n in names for n in ir.walk(c)) == keep]
    return ir.and_(*parts) if parts else ir.TRUE


def norm_eq(a: Expr, b: Expr) -> bool:
    from tritonlift.ir.poly import norm

    return norm(a) == norm(b)


def _exact_div(x: Expr, d: Expr) -> Expr | None:
    """x / d when x is d times a polynomial (then C division by d != 0 is exact), else None."""
    from tritonlift.ir.poly import divide_poly, poly

    return divide_poly(poly(x), poly(d))


def _divmods(e: Expr, facts: list[Expr]) -> Expr:
    """Every integer `//` and `%` that the facts resolve (guards' division identity), the rest of e as it is
    (its `P * E + lane` address shapes kept for synth/pid_map.py)."""
    from tritonlift.synth.guards import _divmod

    def step(n: Expr) -> Expr | None:
        if n.op in INT_DIV_OPS and n.kind is Kind.INT:
            inner = ir.transform(n.args[0], step)
            m = n if inner == n.args[0] else Expr(n.op, (inner, n.args[1]), n.attr, n.kind)
            return _divmod(m, facts, TIMEOUT_MS) or m
        return None

    return ir.transform(e, step)
