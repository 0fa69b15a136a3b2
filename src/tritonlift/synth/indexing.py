"""Recover logical tensor indices from pointer offsets: offset = sum_d index_d * stride_d."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tritonlift.errors import Unknown
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import Mono, divide_mono, mono_expr, norm, poly
from tritonlift.symbolic.values import BOUND_PREFIXES, LANE_PREFIX, PID_PREFIX


def is_index_var(e: Expr) -> bool:
    return e.op is Op.VAR and isinstance(e.attr, str) and e.attr.startswith((LANE_PREFIX, PID_PREFIX))


def has_index_var(e: Expr) -> bool:
    return any(is_index_var(n) for n in ir.walk(e))


def _is_access_var(e: Expr) -> bool:
    """Lanes, program ids, and the bound variables of reductions and loops (`_k3`, `_t2`): any of them
    moves an address along a dimension."""
    return e.op is Op.VAR and isinstance(e.attr, str) and e.attr.startswith((LANE_PREFIX, PID_PREFIX, *BOUND_PREFIXES))


def _has_access_var(e: Expr) -> bool:
    return any(_is_access_var(n) for n in ir.walk(e))


def lane_no(e: Expr) -> int | None:
    if e.op is Op.VAR and isinstance(e.attr, str) and e.attr.startswith(LANE_PREFIX):
        return int(e.attr[len(LANE_PREFIX):])
    return None


def pid_no(e: Expr) -> int | None:
    if e.op is Op.VAR and isinstance(e.attr, str) and e.attr.startswith(PID_PREFIX):
        return int(e.attr[len(PID_PREFIX):])
    return None


@dataclass(frozen=True)
class Dim:
    """One logical dimension of an access: its stride and its index (over program ids and lanes)."""

    stride: Expr
    index: Expr

    @property
    def lanes(self) -> list[int]:
        return sorted({n for a in ir.walk(self.index) if (n := lane_no(a)) is not None})

    @property
    def pids(self) -> list[int]:
        return sorted({n for a in ir.walk(self.index) if (n := pid_no(a)) is not None})


@dataclass(frozen=True)
class Access:
    dims: tuple[Dim, ...]  # in view order (outermost first)
    offset: Expr  # the part without program ids or lanes


def decompose(offset: Expr, lane_extents: tuple[Expr, ...]) -> Access:
    """Split an element offset into (stride, index) dimensions.

    Each monomial is `coef * atom * symbols` with at most one atom holding program ids or lanes.
    Lane monomials open a dimension whose stride is their symbolic factor; a program-id monomial
    joins the dimension of lane l when its factor equals that stride times l's extent (the
    `pid * BLOCK + arange(0, BLOCK)` idiom), else it opens its own dimension.
    """
    p = poly(offset)
    base: dict[Mono, int] = {}
    terms: list[tuple[Expr, Expr]] = []  # (atom with index vars, stride factor)
    for m, c in p.items():
        idx_atoms = [a for a in m if _has_access_var(a)]
        if not idx_atoms:
            base[m] = c
            continue
        if len(idx_atoms) > 1:
            raise Unknown("offset is not linear in program ids and lanes")
        rest = divide_mono(m, (idx_atoms[0],))
        assert rest is not None
        terms.append((idx_atoms[0], norm(ir.mul(ir.const(c), mono_expr(rest)))))
    dims: list[list[Expr]] = []  # [stride, index]
    lane_dim: dict[int, int] = {}
    for atom, stride in terms:
        ln = lane_no(atom)
        if ln is None:
            continue
        for k, (s, _) in enumerate(dims):
            if s == stride:
                dims[k][1] = ir.add(dims[k][1], atom)
                lane_dim[ln] = k
                break
        else:
            lane_dim[ln] = len(dims)
            dims.append([stride, atom])
    for atom, stride in terms:
        if lane_no(atom) is not None:
            continue
        for ln, k in lane_dim.items():
            ext = lane_extents[ln] if ln < len(lane_extents) else None
            if ext is None:
                continue
            if norm(ir.mul(dims[k][0], ext)) == stride:
                dims[k][1] = ir.add(dims[k][1], ir.mul(atom, ext))
                break
            if norm(ir.mul(ir.neg(dims[k][0]), ext)) == stride:  # a sweep from the end: lane - pid * ext
                dims[k][1] = ir.sub(dims[k][1], ir.mul(atom, ext))
                break
        else:
            for k, (s, _) in enumerate(dims):
                if s == stride:
                    dims[k][1] = ir.add(dims[k][1], atom)
                    break
            else:
                dims.append([stride, atom])
    out = [Dim(s, norm(i)) for s, i in dims]
    out.sort(key=_dim_order)
    return Access(tuple(out), norm(_from_base(base)))


def divide_exact(e: Expr, by: Expr) -> Expr | None:
    """e / by when `by` is one monomial dividing every monomial of e exactly, else None."""
    pb = poly(by)
    if len(pb) != 1:
        return None
    ((mb, cb),) = pb.items()
    out: Expr = ir.ZERO
    for m, c in poly(e).items():
        rest = divide_mono(m, mb)
        if rest is None or c % cb:
            return None
        out = ir.add(out, ir.mul(ir.const(c // cb), mono_expr(rest)))
    return norm(out)


def fold_offset(acc: Access, strides: tuple[Expr, ...] | None = None) -> Access:
    """Absorb the constant part of an access into one dimension's index (`x_ptr + offs + 1` reads
    element offs + 1 of a unit-stride dim). `strides`, when given, are the candidate dims' strides
    (for a view the access does not open itself); else the access's own dims are tried, innermost first."""
    if norm(acc.offset) == ir.ZERO:
        return acc
    dims = list(acc.dims)
    # a whole number of some dim's strides first (`(cols + 1) * M` moves the index by 1), innermost last
    quotients = [(k, divide_exact(acc.offset, d.stride)) for k, d in enumerate(dims)]
    ranked = sorted((q is None or not q.is_const, -k, k, q) for k, q in quotients)
    for _, _, k, q in ranked:
        if q is not None:
            dims[k] = Dim(dims[k].stride, norm(ir.add(dims[k].index, q)))
            return Access(tuple(dims), ir.ZERO)
    for s in strides or ():
        q = divide_exact(acc.offset, s)
        if q is not None:
            return Access((*dims, Dim(s, q)), ir.ZERO)
    return acc


def _from_base(base: dict[Mono, int]) -> Expr:
    out: Expr = ir.ZERO
    for m, c in base.items():
        out = ir.add(out, ir.mul(ir.const(c), mono_expr(m)))
    return out


def _dim_order(d: Dim) -> tuple[int, int, int]:
    # unit stride innermost; program-id-only dimensions outermost; else by lane axis
    unit = 1 if d.stride == ir.ONE else 0
    lanes = d.lanes
    return (unit, 0 if not lanes else 1, lanes[0] if lanes else (d.pids[0] if d.pids else 0))


def extent_from_mask(index: Expr, mask: Expr) -> Expr | None:
    """E when some conjunct of mask says index < E (or index <= E - 1, E > index)."""
    target = norm(index)
    for c in ir.conjuncts(mask):
        if c.op not in (Op.LT, Op.LE, Op.GT, Op.GE):
            continue
        a, b = c.args
        if c.op in (Op.GT, Op.GE):
            a, b = b, a
        if a.kind is not Kind.INT or b.kind is not Kind.INT or has_index_var(b):
            continue
        if norm(a) == target:
            return norm(b) if c.op in (Op.LT, Op.GT) else norm(ir.add(b, ir.ONE))
    return None


def merge_lane_dims(
    acc: Access, lane_extents: tuple[Expr, ...], fits: Callable[[Expr, int], bool]
) -> Access:
    """Fuse a dimension indexed by one lane alone into the dimension just outside it in memory.

    A tile `base + (pid * B + arange(B))[:, None] * V + arange(V)[None, :]` decomposes into two dimensions,
    (stride V: pid * B + l0) and (stride 1: l1) with l1's extent V: together they walk one contiguous
    dimension, index (pid * B + l0) * V + l1, of stride 1. The two are fused when `fits(index, l)` accepts
    the fused index of lane l (the caller's reason: a mask bounds the fused index, say); the memory addresses are
    the same either way, so the choice only shapes the proposed view, which the verifier checks."""
    dims = list(acc.dims)
    changed = True
    while changed:
        changed = False
        for k, inner in enumerate(dims):
            ln = lane_no(norm(inner.index))
            if ln is None or ln >= len(lane_extents):
                continue
            outer_stride = norm(ir.mul(inner.stride, lane_extents[ln]))
            for m, outer in enumerate(dims):
                if m == k or norm(outer.stride) != outer_stride:
                    continue
                fused = norm(ir.add(ir.mul(outer.index, lane_extents[ln]), inner.index))
                if not fits(fused, ln):
                    continue
                dims[m] = Dim(inner.stride, fused)
                del dims[k]
                changed = True
                break
            if changed:
                break
    if len(dims) == len(acc.dims):
        return acc
    dims.sort(key=_dim_order)
    return Access(tuple(dims), acc.offset)
