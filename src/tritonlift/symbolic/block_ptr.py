"""Block pointers: `tl.make_block_ptr`, `tl.advance`, and loads/stores through them with `boundary_check`.

A block pointer describes a `block_shape` window of a strided parent tensor: its lane (l0, l1, ...)
addresses `base + Σ_d (offsets[d] + l_d) * strides[d]`, and is in bounds when
`0 <= offsets[d] + l_d < shape[d]` for every dimension d listed in `boundary_check`. Triton (3.x) lowers
a block-pointer load or store to exactly that pointer block and mask (`_block_ptr._materialize` in
`triton/language/core.py`):

- `tl.load(p, boundary_check=dims, padding_option="zero")` = `tl.load(ptrs, mask, other=0)`;
  `padding_option="nan"` pads with NaN; the default `""` leaves masked-off lanes undefined (`other=None`);
- `tl.store(p, v, boundary_check=dims)` = `tl.store(ptrs, v, mask)`;
- dimensions not in `boundary_check` are not checked: such an access is as unmasked as a plain one;
- `tl.advance(p, deltas)` adds `deltas` to the offsets; `order` is a layout hint with no meaning here.

Here a block pointer is a plain value (`BlockPtr`) of the evaluator; `materialize` gives the pointer block
and mask that the ordinary load/store then use, so every later stage sees what a hand-written kernel would
give. Inside a loop with a symbolic trip count, a carried block pointer is its offsets: each offset is a
scalar carried value (`components`), summarized by the loop patterns like any other (an offset advanced by
a constant per iteration is the pointer-advance pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import BINDER_OPS, Expr, Kind, Op
from tritonlift.symbolic.values import Block, PtrBlock, lane

PADDINGS = ("", "zero", "nan")


@dataclass(frozen=True)
class BlockPtr:
    """A block pointer into the memory of pointer parameter `base`, at element offset `origin`."""

    base: str
    origin: Expr  # element offset of the parent tensor's first element (INT)
    shape: tuple[Expr, ...]  # the parent tensor's sizes (INT)
    strides: tuple[Expr, ...]  # its strides, in elements (INT)
    offsets: tuple[Expr, ...]  # where the block starts, per dimension (INT)
    block_shape: tuple[Expr, ...]  # the block's extents
    order: tuple[int, ...]  # layout hint (ignored)

    @property
    def rank(self) -> int:
        return len(self.block_shape)

    def with_offsets(self, offsets: tuple[Expr, ...]) -> BlockPtr:
        return replace(self, offsets=offsets)


def _ints(v: object, what: str, fail: Callable[[str], Unsupported]) -> tuple[Expr, ...]:
    items = v if isinstance(v, (tuple, list)) else (v,)
    out: list[Expr] = []
    for s in items:
        if isinstance(s, bool):
            raise fail(f"tl.make_block_ptr: {what} must be integers")
        if isinstance(s, int):
            out.append(ir.const(s))
        elif isinstance(s, Block) and s.rank == 0 and s.elem.kind is Kind.INT:
            out.append(s.elem)
        elif isinstance(s, Expr) and s.kind is Kind.INT:
            out.append(s)
        else:
            raise fail(f"tl.make_block_ptr: {what} must be integer scalars")
    return tuple(out)


def make_block_ptr(
    base: object,
    shape: object,
    strides: object,
    offsets: object,
    block_shape: object,
    order: object,
    fail: Callable[[str], Unsupported],
) -> BlockPtr:
    if not isinstance(base, PtrBlock) or base.rank != 0:
        raise fail("tl.make_block_ptr: base must be a scalar pointer")
    sh = _ints(shape, "shape", fail)
    st = _ints(strides, "strides", fail)
    off = _ints(offsets, "offsets", fail)
    bs = _ints(block_shape, "block_shape", fail)
    od = order if isinstance(order, (tuple, list)) else (order,)
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in od):
        raise fail("tl.make_block_ptr: order must be constant integers")
    if not bs or not len(sh) == len(st) == len(off) == len(bs) == len(od):
        raise fail("tl.make_block_ptr: shape, strides, offsets, block_shape and order differ in length")
    if sorted(od) != list(range(len(bs))):  # type: ignore[type-var]
        raise fail("tl.make_block_ptr: order is not a permutation of the dimensions")
    return BlockPtr(base.base, base.offset, sh, st, off, bs, tuple(int(o) for o in od))  # type: ignore[arg-type]


def advance(bp: object, deltas: object, fail: Callable[[str], Unsupported]) -> BlockPtr:
    if not isinstance(bp, BlockPtr):
        raise fail("tl.advance of something that is not a block pointer")
    d = _ints(deltas, "advance offsets", fail)
    if len(d) != bp.rank:
        raise fail(f"tl.advance: {len(d)} offsets for a block pointer of rank {bp.rank}")
    return bp.with_offsets(tuple(ir.add(o, x) for o, x in zip(bp.offsets, d, strict=True)))


def checked_dims(boundary_check: object, rank: int, fail: Callable[[str], Unsupported]) -> tuple[int, ...]:
    if boundary_check is None:
        return ()
    items = boundary_check if isinstance(boundary_check, (tuple, list)) else (boundary_check,)
    out: list[int] = []
    for d in items:
        if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d < rank:
            raise fail(f"boundary_check must hold constant dimensions in [0, {rank})")
        if d in out:
            raise fail("boundary_check names a dimension twice")
        out.append(d)
    return tuple(out)


def materialize(bp: BlockPtr, dims: tuple[int, ...]) -> tuple[PtrBlock, Expr]:
    """The pointer block and the mask (TRUE when nothing is checked) a block-pointer access lowers to."""
    offset = bp.origin
    mask = ir.TRUE
    for d in range(bp.rank):
        coord = ir.add(bp.offsets[d], lane(d))
        offset = ir.add(offset, ir.mul(coord, bp.strides[d]))
        if d in dims:
            mask = ir.and_(mask, ir.le(ir.ZERO, coord), ir.lt(coord, bp.shape[d]))
    return PtrBlock(bp.block_shape, bp.base, offset), mask


def select(cond: Expr, a: BlockPtr, b: BlockPtr, fail: Callable[[str], Unsupported]) -> BlockPtr:
    """where(cond, a, b) of two block pointers into the same parameter with the same block shape."""
    if a.base != b.base or a.block_shape != b.block_shape:
        raise fail("selecting between block pointers into different tensors or of different block shapes")

    def pick(x: tuple[Expr, ...], y: tuple[Expr, ...]) -> tuple[Expr, ...]:
        return tuple(ir.where(cond, p, q) for p, q in zip(x, y, strict=True))

    return BlockPtr(
        a.base,
        ir.where(cond, a.origin, b.origin),
        pick(a.shape, b.shape),
        pick(a.strides, b.strides),
        pick(a.offsets, b.offsets),
        a.block_shape,
        a.order,
    )


def component_name(name: str, d: int) -> str:
    """The name of offset d of the carried block pointer `name` (a scalar carried value of its own)."""
    return f"{name}.offsets[{d}]"


# ---------------------------------------------------------------------------------------------------------
# The lower bound of a boundary check, `0 <= offsets[d] + l_d`, holds in almost every kernel (offsets are
# program ids times block sizes, advanced forward); left in place, it would turn into a lower bound
# `max(0, -t*B)` of every reduction over a tile and hide the reduction's shape. `drop_implied_lower_bounds`
# removes such a conjunct where z3 proves it from what always holds at that point: program ids and lanes
# are >= 0, lanes below their block extents (>= 1), bound indices inside their reduction's range, and the
# store's own mask. Removing a conjunct implied by its context changes no value: the rewrite is exact.


def _lower_bound(c: Expr) -> bool:
    return c.op is Op.LE and c.args[0] == ir.ZERO and c.args[1].kind is Kind.INT


def _implied(hyps: list[Expr], goal: Expr, cache: dict[tuple[Expr, ...], bool]) -> bool:
    key = (goal, *hyps)
    if key not in cache:
        from tritonlift.verify.z3_backend import Z3Ctx

        cx = Z3Ctx({})
        s = z3.Solver()
        s.set("rlimit", 2_000_000)  # bounded by work, not by the clock: the answer does not depend on load
        for h in hyps:
            s.add(cx(h))
        s.add(z3.Not(cx(goal)))
        cache[key] = s.check() == z3.unsat
    return cache[key]


def drop_implied_lower_bounds(value: Expr, mask: Expr, context: list[Expr]) -> tuple[Expr, Expr]:
    """(value, mask) of a store without the `0 <= e` conjuncts its context implies (see above)."""
    if not any(_lower_bound(n) for e in (value, mask) for n in ir.walk(e)):
        return value, mask
    cache: dict[tuple[Expr, ...], bool] = {}
    parts = ir.conjuncts(mask)
    kept = [
        c
        for i, c in enumerate(parts)
        if not (_lower_bound(c) and _implied([*context, *parts[:i], *parts[i + 1 :]], c, cache))
    ]
    new_mask = ir.and_(*kept)

    def go(e: Expr, hyps: list[Expr]) -> Expr:
        if not e.args:
            return e
        if e.op in BINDER_OPS:
            lo, hi, body, *extra = e.args
            k = str(e.attr)
            lo, hi = go(lo, hyps), go(hi, hyps)
            outer = [
                h for h in hyps if k not in ir.free_vars(h)
            ]  # facts about a shadowed name do not hold inside
            body = go(body, [*outer, ir.le(lo, ir.var(k)), ir.lt(ir.var(k), hi)])
            return Expr(e.op, (lo, hi, body, *(go(a, hyps) for a in extra)), e.attr, e.kind)
        if e.op is Op.WHERE:
            c, a, b = e.args
            cs = [x for x in ir.conjuncts(go(c, hyps)) if not (_lower_bound(x) and _implied(hyps, x, cache))]
            return ir.where(ir.and_(*cs), go(a, hyps), go(b, hyps))
        return ir.rebuild(e, tuple(go(a, hyps) for a in e.args))

    return go(value, [*context, new_mask]), new_mask
