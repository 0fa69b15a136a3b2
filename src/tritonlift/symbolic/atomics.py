"""Atomic updates whose final result does not depend on the order of the updates: `tl.atomic_add`,
`tl.atomic_max`, `tl.atomic_min`.

Semantics (over the reals). A launch performs, for every program id p in the grid and lane l of the block
with the mask true, `mem[base][offset(p, l)] := mem[base][offset(p, l)] (+ | max | min) value(p, l)`, all of
them in some order the hardware picks. Addition, maximum and minimum are associative and commutative over the
reals, so after the launch, for every address a,

    mem_after[base][a] = mem_before[base][a]  (+ | max | min)  R_{(p, l): mask(p, l) and offset(p, l) == a} value(p, l)

where R is the sum (max, min) over every update at that address: a reduction over the launch grid and the
lanes, filtered by address equality. Float rounding makes the order matter in floating point; rounding is
outside every proof (README, "What `verified` promises"), and the result says so in its assumptions.

Order-dependent uses are `unsupported`, with the reason: `tl.atomic_xchg` and `tl.atomic_cas` (their final
value is whichever update came last: spin locks), any use of the value an atomic returns (the old value
depends on which updates came before), reading a tensor the kernel updates atomically (the value read depends
on how many updates came before), plain stores to such a tensor, and two different combine operations on one
tensor (max after add differs from add after max).

The evaluator (symbolic/kernel_eval.py) records an atomic update as a `Store` with `combine` set; the
derivation (synth/accumulate.py) turns the filtered reduction into a formula over the output's index, and the
verifier (verify/accumulate.py) proves it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.symbolic.spec import Store

# Triton name -> the reduction its updates make
COMBINE: dict[str, Op] = {"atomic_add": Op.SUM, "atomic_max": Op.RMAX, "atomic_min": Op.RMIN}
# deliberately not modelled, with the reason (symbolic/tl_table.py merges these into NOT_MODELLED)
ORDER_DEPENDENT: dict[str, str] = {
    "atomic_xchg": "the final value is whichever exchange comes last (order-dependent: spin locks)",
    "atomic_cas": "compare-and-swap succeeds or fails depending on the order of the updates (spin locks)",
    "atomic_and": "bitwise atomics on integers are not modelled (bitwise operations on integers are not)",
    "atomic_or": "bitwise atomics on integers are not modelled (bitwise operations on integers are not)",
    "atomic_xor": "bitwise atomics on integers are not modelled (bitwise operations on integers are not)",
}
NAMES = frozenset(COMBINE) | frozenset(ORDER_DEPENDENT)
# what the combine op is called where the formula combines the initial value with the reduction
COMBINE_TEXT = {Op.SUM: "tl.atomic_add", Op.RMAX: "tl.atomic_max", Op.RMIN: "tl.atomic_min"}
ASSUMPTION = (
    "atomic updates: their result is the same in every order over the reals (float rounding depends "
    "on the order of the updates and is outside the proof)"
)


@dataclass(frozen=True)
class AtomicOld:
    """The value a `tl.atomic_*` call returns: the memory before this update, which depends on which
    updates came first. Any use of it is unsupported; leaving it unused is fine."""

    name: str
    file: str
    line: int

    def error(self) -> Unsupported:
        return Unsupported(
            f"tl.{self.name}: the value it returns (the memory before the update) depends on the "
            "order of the concurrent updates",
            self.file,
            self.line,
        )


def combine(op: Op, a: Expr, b: Expr) -> Expr:
    """a (+ | max | min) b."""
    if op is Op.SUM:
        return ir.add(a, b)
    return ir.maximum(a, b) if op is Op.RMAX else ir.minimum(a, b)


def atomic_update(ev: Any, name: str, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> AtomicOld:
    """`tl.atomic_add(pointer, val, mask=None, sem=None, scope=None)` (and max, min): record the update as a
    Store with `combine`; `sem`/`scope` order memory accesses, which the final value of these updates does
    not depend on."""
    from tritonlift.symbolic.values import Block, PtrBlock, broadcast_shapes, broadcast_to

    names = ("pointer", "val", "mask", "sem", "scope")
    given = dict(zip(names, args, strict=False)) | kwargs
    unknown = set(given) - set(names)
    if unknown:
        raise ev.unsupported(f"tl.{name}: argument {sorted(unknown)[0]} is not modelled", node)
    ptr, val, mask = given.get("pointer"), given.get("val"), given.get("mask")
    if not isinstance(ptr, PtrBlock):
        raise ev.unsupported(f"tl.{name} of a non-pointer (block pointers take no atomics)", node)
    if val is None:
        raise ev.unsupported(f"tl.{name} needs a value", node)
    from tritonlift.symbolic.kernel_eval import to_tile

    v = to_tile(val, ev.line)
    if isinstance(v, PtrBlock):
        raise ev.unsupported(f"tl.{name} of pointers", node)
    shape = broadcast_shapes(ptr.shape, v.shape, ev.line)
    m: Expr = ir.TRUE
    if mask is not None:
        mb = ev.bool_tile(mask, node)
        shape = broadcast_shapes(shape, mb.shape, ev.line)
        m = broadcast_to(mb, shape, ev.line).elem
    p = broadcast_to(ptr, shape, ev.line)
    vb = broadcast_to(v, shape, ev.line)
    assert isinstance(p, PtrBlock) and isinstance(vb, Block)
    line = getattr(node, "lineno", 0)
    ev.stores.append(
        Store(p.base, p.offset, ir.to_real(vb.elem), ir.and_(ev.path, m), shape, line, COMBINE[name])
    )
    return AtomicOld(name, ev.file, line)


def check_order(stores: list[Store], file: str) -> None:
    """Raise Unsupported where the kernel's result would depend on the order of its atomic updates."""
    atomic: dict[str, Store] = {}
    for s in stores:
        if s.atomic:
            first = atomic.setdefault(s.base, s)
            if first.combine is not s.combine:
                raise Unsupported(
                    f"{COMBINE_TEXT[s.combine]} to {s.base}, which {COMBINE_TEXT[first.combine]} at "
                    f"line {first.line} also updates: the result depends on the order of the two "
                    "kinds of update",
                    file,
                    s.line,
                )
    if not atomic:
        return
    for s in stores:
        if not s.atomic and s.base in atomic:
            raise Unsupported(
                f"tl.store to {s.base}, which {COMBINE_TEXT[atomic[s.base].combine]} at line "
                f"{atomic[s.base].line} updates: the final value depends on the order of the "
                "store and the updates",
                file,
                s.line,
            )
        for e in (s.offset, s.value, s.mask):
            for n in ir.walk(e):
                if n.op is Op.MEM and n.attr in atomic:
                    a = atomic[str(n.attr)]
                    raise Unsupported(
                        f"reads {n.attr}, which {COMBINE_TEXT[a.combine]} at line {a.line} updates: "
                        "the value read depends on the order of the updates",
                        file,
                        s.line,
                    )


_INTEGRAL_OPS = frozenset(
    {
        Op.MEM,
        Op.CONST,
        Op.VAR,
        Op.CAST,
        Op.ADD,
        Op.SUB,
        Op.MUL,
        Op.NEG,
        Op.WHERE,
        Op.MINIMUM,
        Op.MAXIMUM,
        Op.UNDEF,
        Op.TRUNCDIV,
        Op.TRUNCMOD,
        Op.LT,
        Op.LE,
        Op.GT,
        Op.GE,
        Op.EQ,
        Op.NE,
        Op.AND,
        Op.OR,
        Op.NOT,
    }
)


def integer_offset(e: Expr) -> Expr | None:
    """A pointer offset computed from loaded values (`out_ptr + tl.load(idx_ptr + i)`): Triton compiles
    pointer arithmetic with integer offsets only, so the loaded tensor holds integers, and memory read as
    reals holds those integers exactly; sums, differences and products of them are exact too. The offset is
    then int64(e), which is e itself. None when e could hold a non-integer (a division, a math function, a
    fractional constant): such a kernel does not compile."""
    if e.kind is not Kind.REAL:
        return e
    for n in ir.walk(e):
        if n.kind is Kind.REAL and n.op not in _INTEGRAL_OPS:  # integer and boolean parts are exact as they are
            return None
        if n.op is Op.CONST and n.kind is Kind.REAL and not float(n.value).is_integer():
            return None
    return _as_int(e)


def _as_int(e: Expr) -> Expr:
    """An integer-valued real expression as integer arithmetic: sums and products of integers stay exact, so
    `idx * float(N) + c` is `int64(idx) * N + c` (the loaded value alone inside the cast: an index along a
    stride the address analysis can see)."""
    if e.kind is not Kind.REAL:
        return e
    if e.op is Op.CONST:
        return ir.const(int(e.value))
    if e.op is Op.CAST and e.args[0].kind is not Kind.REAL:
        return ir.cast(e.args[0], "int64") if e.args[0].kind is Kind.BOOL else e.args[0]
    if e.op in (Op.ADD, Op.SUB, Op.MUL):
        return ir.arith(e.op, _as_int(e.args[0]), _as_int(e.args[1]))
    if e.op is Op.NEG:
        return ir.neg(_as_int(e.args[0]))
    return ir.cast(e, "int64")


def free_axes(n_axes: int, n_lanes: int, sigma: dict[Expr, Expr]) -> list[Expr]:
    """The program ids (and storing loops' iterations) and lanes an update's address does not fix: every value
    of them adds (maxes, mins) into the same element, so the formula reduces over them. Program ids first,
    lanes last: a tile `pid * B + lane` then reads as one index (ir.reductions' tiled reindex)."""
    from tritonlift.symbolic.values import lane, pid

    return [
        v for v in [*(pid(k) for k in range(n_axes)), *(lane(k) for k in range(n_lanes))] if v not in sigma
    ]


def solved_dims(index: tuple[Expr, ...], sigma: dict[Expr, Expr]) -> list[int]:
    """The output dims whose index the solved program ids and lanes alone fix (no memory, no free index)."""
    from tritonlift.synth.indexing import is_index_var

    out = []
    for d, e in enumerate(index):
        vars_ = [n for n in ir.walk(e) if is_index_var(n)]
        if (
            vars_
            and all(v in sigma for v in vars_)
            and not any(n.op in (Op.MEM, Op.READ, Op.UNDEF) for n in ir.walk(e))
        ):
            out.append(d)
    return out


def accumulated(
    store: Store,
    value: Expr,
    mask: Expr,
    index: tuple[Expr, ...],
    sigma: dict[Expr, Expr],
    idx_vars: tuple[Expr, ...],
    axes: tuple[Expr, ...],
    tag: str,
    apply_sigma: bool = True,
) -> Expr:
    """What the updates of one atomic store contribute to element `idx_vars` of its output: the reduction
    (the store's combine op) over the free program ids and lanes of

        where(solved ones in range & mask & filters, value, identity)

    where `sigma` gives the solved program ids and lanes as functions of the element (the address analysis'
    inverse: checked by the verifier, verify/accumulate.py) and the filters say that the other dims of the
    update's index `index` (over program ids and lanes: data-dependent indices, dims no inverse was found for)
    equal the element's. `value`, `mask` and `index` are the store's, with reads in whichever form the caller
    wants (pointer-level or views). `axes` are the extents of program ids then storing loops; `tag` keeps the
    bound names of two stores apart. With `apply_sigma` False the solved program ids and lanes stay as they
    are (the caller substitutes sigma after turning pointer-level reads into reads of views)."""
    from tritonlift.ir.reductions import identity
    from tritonlift.symbolic.values import LANE_PREFIX, PID_PREFIX

    op = store.combine
    assert op is not None
    ranges: list[Expr] = []
    for v in sigma:
        name = str(v.attr)
        ext = (
            axes[int(name[len(PID_PREFIX) :])]
            if name.startswith(PID_PREFIX)
            else store.shape[int(name[len(LANE_PREFIX) :])]
        )
        ranges += [ir.le(ir.ZERO, v), ir.lt(v, ext)]
    solved = set(solved_dims(index, sigma))
    filters = [ir.eq(e, x) for d, (e, x) in enumerate(zip(index, idx_vars, strict=True)) if d not in solved]
    body = ir.where(ir.and_(*ranges, mask, *filters), value, identity(op, Kind.REAL))
    if apply_sigma:
        body = ir.substitute(body, sigma)
    free = free_axes(len(axes), len(store.shape), sigma)
    for v in reversed(free):
        name = str(v.attr)
        ext = (
            axes[int(name[len(PID_PREFIX) :])]
            if name.startswith(PID_PREFIX)
            else store.shape[int(name[len(LANE_PREFIX) :])]
        )
        bound = f"_r{tag}{name.lstrip('_')}"
        body = ir.reduce(op, bound, ir.ZERO, ext, ir.substitute(body, {v: ir.var(bound)}))
    return body
