"""Tile values of the symbolic evaluator: a block is one IR expression over positional lane variables."""

from __future__ import annotations

from dataclasses import dataclass

from tritonlift.errors import Unsupported
from tritonlift.ir.expr import ONE, Expr, Kind, const, substitute, var

LANE_PREFIX = "_l"
PID_PREFIX = "_pid"
BOUND_PREFIXES = ("_k", "_t", "_r")  # reduction indices and loop iteration counters the evaluator makes up
GRID_PREFIX = "grid["  # a free launch-grid size reads as the kernel function's `grid` argument


def lane(axis: int) -> Expr:
    return var(f"{LANE_PREFIX}{axis}")


def pid(axis: int) -> Expr:
    return var(f"{PID_PREFIX}{axis}")


def grid_var(axis: int) -> Expr:
    return var(f"{GRID_PREFIX}{axis}]")


@dataclass(frozen=True)
class DType:
    """A Triton dtype as a compile-time value (tl.float32, x.dtype, ...)."""

    name: str  # fp32, int32, int1, ptr, "elem:<param>" for a pointer's unknown element type

    @property
    def is_float(self) -> bool:
        return self.name.startswith(("fp", "bf")) or self.name.startswith("elem:")


@dataclass(frozen=True)
class Block:
    """A tile value: `shape` sizes (IR exprs) and the element at lanes _l0.._l{r-1}."""

    shape: tuple[Expr, ...]
    elem: Expr

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass(frozen=True)
class PtrBlock:
    """A tile of pointers: memory of parameter `base` at element offset `offset` (an INT expr over lanes)."""

    shape: tuple[Expr, ...]
    base: str
    offset: Expr

    @property
    def rank(self) -> int:
        return len(self.shape)


Tile = Block | PtrBlock


def scalar(e: Expr) -> Block:
    return Block((), e)


def shift_lanes(e: Expr, mapping: dict[int, int]) -> Expr:
    """Rename lane variables: _l{old} -> _l{new}."""
    sub = {lane(o): lane(n) for o, n in mapping.items() if o != n}
    return substitute(e, sub) if sub else e


def with_elem(t: Tile, e: Expr) -> Tile:
    if isinstance(t, PtrBlock):
        return PtrBlock(t.shape, t.base, e)
    return Block(t.shape, e)


def tile_expr(t: Tile) -> Expr:
    return t.offset if isinstance(t, PtrBlock) else t.elem


def broadcast_shapes(a: tuple[Expr, ...], b: tuple[Expr, ...], line: int = 0) -> tuple[Expr, ...]:
    out: list[Expr] = []
    n = max(len(a), len(b))
    pa = (ONE,) * (n - len(a)) + a
    pb = (ONE,) * (n - len(b)) + b
    for x, y in zip(pa, pb, strict=True):
        if x == y or y == ONE:
            out.append(x)
        elif x == ONE:
            out.append(y)
        else:
            raise Unsupported(f"cannot broadcast block shapes {a} and {b}", "", line)
    return tuple(out)


def broadcast_to(t: Tile, shape: tuple[Expr, ...], line: int = 0) -> Tile:
    """Right-align t's dimensions inside `shape`, renaming its lanes to their new positions."""
    if t.shape == shape:
        return t
    broadcast_shapes(t.shape, shape, line)
    off = len(shape) - t.rank
    if off < 0:
        raise Unsupported(f"cannot broadcast a block of rank {t.rank} to rank {len(shape)}", "", line)
    e = shift_lanes(tile_expr(t), {k: k + off for k in range(t.rank)}) if off else tile_expr(t)
    # a size-1 dimension broadcast to a larger one: its lane index is 0
    sub = {lane(k + off): const(0) for k in range(t.rank) if t.shape[k] == ONE and shape[k + off] != ONE}
    if sub:
        e = substitute(e, sub)
    if isinstance(t, PtrBlock):
        return PtrBlock(shape, t.base, e)
    return Block(shape, e)


def kind_of(t: Tile) -> Kind:
    return Kind.INT if isinstance(t, PtrBlock) else t.elem.kind
