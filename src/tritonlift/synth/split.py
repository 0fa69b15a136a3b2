"""Several launches writing one output (split launches): one spec whose writes are theirs, in order.

A host may launch kernels L1, ..., Ln that each write a part of the returned output (stream-K matmul: a first
wave over some tiles, then a classic kernel over the rest through a shifted program id). Their union is one
spec over a 1-D virtual grid of program ids v (the launches' axis 0 laid end to end; their other axes must
have equal extents), built launch by launch:

- *shift-merge*: when a launch runs the same stores as the spec so far, only with its program id shifted by
  some d (`tile_id = pid + T0`): the store `s'` with pid := v - d is `s` itself (offset, value and mask equal as
  expressions after integer normalisation), and 0 <= d <= G (G: the virtual grid so far) is proved from the
  facts, then the launch's writes are those of `s` at the program ids v in [d, d + G'), and the union of
  [0, G) and [d, d + G') is the interval [0, max(G, d + G')). Where the two ranges overlap, both launches
  write the same address with the same value (the same expression of v, lanes and memory the launches do not
  write), so the order does not matter there: one store over the union is exact.
- *either-merge*: when a launch laid exactly end to end (d = G) writes the same elements as the stores so far
  (offset and mask equal after the shift) with other values (FlagGems' stream-K first wave over tiles [0, T0),
  then `classic_mm` over the rest): one store over [0, G + G') whose value is `where(EITHER, later, earlier)`,
  EITHER an opaque boolean symbol standing for "the later launch runs at v" (d <= v). The spec then reads v
  only through the element it writes (synth/pid_map.py can regrid it), and a proof holds for every value of
  EITHER, so for both launches' values at every element, which implies it for the launch that writes there.
  A disagreement may lie at an element the launch does not write: verify/check.py never reports it as a
  counterexample (`unknown`). The candidate formula is derived from the later launch's value
  (synth/operator.py, `_later_launch`).
- *concatenation* otherwise: the launch's stores take pid := v - G and the mask G <= v < G + G', the earlier
  stores v < G; the grid becomes G + G'. Each store keeps its launch's number (`Store.launch`, from 1).

Every store's value is checked against the formula at the element it writes (verify/check.py), so a verified
result holds whatever the order of overlapping writes. A refutation at a write that a later launch may
overwrite is not reported (check._overwritten): on the GPU the later write wins.
"""

from __future__ import annotations

from dataclasses import replace

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import LANE_PREFIX, PID_PREFIX, pid
from tritonlift.synth.guards import prove

_TIMEOUT_MS = 3000
EITHER = "_either_launch"  # the opaque test "a later launch writes here" of merged launches (see _shift_merge)


def merge_writers(launches: list[KernelSpec], stores: list[list[Store]], facts: list[Expr]) -> KernelSpec:
    """One spec performing the writes of `launches` (each with its stores `stores`, reads already composed),
    in order. `facts`: what the host knows (sizes >= 0, ...)."""
    from tritonlift.synth.pid_map import deep_norm

    first = launches[0]
    for sp, ss in zip(launches, stores, strict=True):
        if sp.loops:
            raise Unsupported(
                f"{sp.name}: a launch whose loops store, among several launches writing one output, "
                "is not modelled",
                sp.file,
                sp.line,
            )
        if any(s.atomic for s in ss):
            raise Unsupported(
                f"{sp.name}: atomic updates among several launches writing one output are not modelled",
                sp.file,
                sp.line,
            )
        if len(sp.grid) != len(first.grid) or any(
            norm(a) != norm(b) for a, b in zip(sp.grid[1:], first.grid[1:], strict=True)
        ):
            raise Unsupported(
                f"launches of {first.name} and {sp.name} writing one output have grids of other "
                "shapes (only axis 0 may differ)",
                sp.file,
                sp.line,
            )
    hyps = [*facts, *(f for sp in launches for f in sp.facts)]
    grid = first.grid[0]
    cur = [replace(s, launch=1) for s in stores[0]]
    clean = True  # the stores so far have no launch-range conjunct: one virtual launch over [0, grid)
    notes: list[str] = []
    for k, (sp, ss) in enumerate(zip(launches[1:], stores[1:], strict=True), start=2):
        g = sp.grid[0]
        merged = _shift_merge(cur, ss, grid, g, hyps, deep_norm) if clean else None
        if merged is not None:
            cur, grid, how = merged
            notes.append(
                f"launch {k} ({sp.name}) runs the stores of the launches before it with its program id "
                f"shifted by {how}: one store over the union of their program ids"
            )
            cur = [replace(s, launch=k) for s in cur]
            continue
        v = pid(0)
        cur = [replace(s, mask=ir.and_(s.mask, ir.lt(v, grid), *_not_overwritten(s, ss, sp, k))) for s in cur]
        shift = {v: ir.sub(v, grid)}
        cur += [
            replace(
                s,
                offset=ir.substitute(s.offset, shift),
                value=ir.substitute(s.value, shift),
                mask=ir.and_(ir.le(grid, v), ir.substitute(s.mask, shift)),
                launch=k,
            )
            for s in ss
        ]
        grid = norm(ir.add(grid, g))
        clean = False
    symbols = {n: t for sp in launches for n, t in sp.symbols.items()}
    return replace(
        launches[-1],
        grid=(grid, *first.grid[1:]),
        stores=cur,
        facts=[f for sp in launches for f in sp.facts],
        symbols=symbols,
        notes=list(dict.fromkeys([n for sp in launches for n in sp.notes] + notes)),
        invariants=list(dict.fromkeys(i for sp in launches for i in sp.invariants)),
        side=[x for sp in launches for x in sp.side],
        assumptions=list(dict.fromkeys(a for sp in launches for a in sp.assumptions)),
    )


def _not_overwritten(s: Store, later: list[Store], sp: KernelSpec, k: int) -> list[Expr]:
    """For each later store of `base`: "it does not write the element s writes" (compose._inverse: the program
    id and lane that would, solved from the address and checked in its grid, block, mask and address), so that
    s keeps only the writes the later launch leaves; [] for a later store whose writer cannot be solved (then
    both stay, and the verifier, which checks every write, cannot prove a formula the overwritten ones break)."""
    from tritonlift.synth.compose import _inverse

    out: list[Expr] = []
    for n, t in enumerate(later):
        if t.base != s.base:
            continue
        try:
            written, _value = _inverse(t, s.offset, sp, f"S{k}_{n}")
        except Unsupported:
            continue
        out.append(ir.not_(written))
    return out


def _shift_merge(
    cur: list[Store], new: list[Store], grid: Expr, g: Expr, hyps: list[Expr], dn
) -> tuple[list[Store], Expr, str] | None:
    """(the stores, the union's extent, the shift) when `new` is `cur` with its program id shifted (module doc)."""
    if len(cur) != len(new) or not cur:
        return None
    # other code only laid exactly end to end (d = G): every element then has one writer, so "either launch's
    # value" loses nothing but the order of overlapping writes, which there is none of (an overlap with other
    # values is concatenated instead: the later write wins there, as on the GPU)
    for values, d in [(True, d) for d in _shifts(cur, new, grid)] + [(False, norm(grid))]:
        sub = {pid(0): ir.sub(pid(0), d)}
        if not all(_same(a, b, sub, dn, values) for a, b in zip(cur, new, strict=True)):
            continue
        if not prove(hyps, ir.and_(ir.le(ir.ZERO, d), ir.le(d, grid)), _TIMEOUT_MS):
            continue
        end = norm(ir.add(d, g))
        if norm(end) == norm(grid) or prove(hyps, ir.le(grid, end), _TIMEOUT_MS):
            hi = end
        elif prove(hyps, ir.le(end, grid), _TIMEOUT_MS):
            hi = grid
        else:
            hi = ir.maximum(grid, end)
        from tritonlift.ir.printer import to_text

        if not values:
            # same writes, other values: at v the later launch's value where it runs (d <= v), else the earlier
            # one's. The test d <= v is kept opaque (EITHER: a boolean symbol the proof quantifies over), so
            # that the spec still reads v only through the tile it writes (synth/pid_map.py): a proof then
            # holds for both values at every tile, which implies it for the launch that runs there. A
            # disagreement may lie on a tile the launch does not run: never reported as a refutation
            # (verify/check.py)
            either = ir.var(f"{EITHER}{len(cur)}_{abs(hash(to_text(d))) % 10**6}", Kind.BOOL)
            cur = [replace(a, value=a.value if dn(a.value) == dn(ir.substitute(b.value, sub)) else
                           ir.where(either, ir.substitute(b.value, sub), a.value))
                   for a, b in zip(cur, new, strict=True)]
            return cur, hi, (f"{to_text(d)}, computing its values with other code: the values of both are "
                             "checked on every tile, so each is right where it runs")
        return cur, hi, to_text(d)
    return None


def _same(a: Store, b: Store, sub: dict[Expr, Expr], dn, values: bool = True) -> bool:
    """The stores write the same elements (offset and mask) and, with `values`, the same values."""
    if (a.base, a.combine) != (b.base, b.combine) or len(a.shape) != len(b.shape):
        return False
    if any(norm(x) != norm(y) for x, y in zip(a.shape, b.shape, strict=True)):
        return False
    return all(
        dn(x) == dn(ir.substitute(y, sub))
        for x, y in ((a.offset, b.offset), (a.mask, b.mask), *([(a.value, b.value)] if values else []))
    )


def _shifts(cur: list[Store], new: list[Store], grid: Expr) -> list[Expr]:
    """Candidate shifts d of the new launch's program id: the end of the grid so far (launches laid end to
    end), then c' - c for the terms `pid + c` of the new stores and `pid + c` of the earlier ones."""
    out = [norm(grid)]
    olds = {c for s in cur for c in _offsets_of_pid(s.offset)} | {ir.ZERO}  # a bare pid is pid + 0
    news = {c for s in new for c in _offsets_of_pid(s.offset)} | {ir.ZERO}
    for cn in sorted(news, key=str):
        for co in sorted(olds, key=str):
            d = norm(ir.sub(cn, co))
            if d not in out:
                out.append(d)
    return out[:8]


def _offsets_of_pid(e: Expr) -> set[Expr]:
    """c for each integer subterm `pid(0) + c` of e (c free of program ids and lanes)."""
    out: set[Expr] = set()
    p0 = pid(0)
    for n in ir.walk(e):
        if n.kind is not Kind.INT or n.op is not Op.ADD or p0 not in n.args:
            continue
        c = norm(ir.sub(n, p0))
        if not any(str(x).startswith((PID_PREFIX, LANE_PREFIX)) for x in ir.free_vars(c)):
            out.add(c)
    return out
