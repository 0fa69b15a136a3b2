"""Program ids remapped onto tiles: a 1-D grid whose program id `pid` computes tile coordinates
(pid_m, pid_n) = P(pid) (row-major, column-major, or grouped as in Triton's matmul tutorial) becomes a
2-D grid of tiles, once that remapping is proved to be a bijection.

The kernel's writes are W(pid) for pid in [0, g). For a candidate inverse Inv (tile -> pid), three
facts are proved with z3, for all sizes:

- into:     0 <= pid < g                      =>  P(pid) lies in the tile box [0, B0) x [0, B1);
- left:     0 <= pid < g                      =>  Inv(P(pid)) = pid;
- range:    (u, v) in the box                 =>  0 <= Inv(u, v) < g.

Then Inv maps the box onto [0, g) (every pid is Inv of its own tile), so the writes of the programs
{Inv(u, v) : (u, v) in the box} are exactly the kernel's: the spec with `pid := Inv(u, v)` over the 2-D
grid (B0, B1) performs the same writes. Integer division and remainder in `W(Inv(u, v))` are then
simplified by `simplify_divmod`, each step justified by z3 from the box facts. Nothing here is keyed to
a kernel: the candidates are tried on every 1-D grid whose store addresses hold `P * BLOCK + arange`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Formula
from tritonlift.ir.poly import norm
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import GRID_PREFIX, LANE_PREFIX, PID_PREFIX, lane, pid
from tritonlift.synth.guards import prove, simplify_divmod

_TILE = "_u"  # tile coordinates while the real program id is still around


@dataclass(frozen=True)
class Regrid:
    """The spec over a grid of tiles, and what the caller must state about the real launch."""

    spec: KernelSpec
    launch_grid: Expr  # the real 1-D grid (chosen at kernel level: the number of tiles)
    facts: list[Expr]  # hypotheses the proofs used that the spec did not already state
    assumptions: list[str]


def _is_pid_only(e: Expr) -> bool:
    names = {str(n.attr) for n in ir.walk(e) if n.op is Op.VAR}
    return any(n.startswith(PID_PREFIX) for n in names) and not any(n.startswith(LANE_PREFIX) for n in names)


def _tile_terms(st: Store) -> dict[int, tuple[Expr, Expr]]:
    """Lane axis d -> (P, E) for each `P * E + lane(d)` in the store's address, E the lane's extent."""
    out: dict[int, tuple[Expr, Expr]] = {}
    for n in ir.walk(st.offset):
        if n.op is not Op.ADD:
            continue
        for ln, other in (n.args, n.args[::-1]):
            if ln.op is not Op.VAR or not str(ln.attr).startswith(LANE_PREFIX) or other.op is not Op.MUL:
                continue
            d = int(str(ln.attr)[len(LANE_PREFIX):])
            for p, e in (other.args, other.args[::-1]):
                if d < len(st.shape) and norm(e) == norm(st.shape[d]) and _is_pid_only(p):
                    out[d] = (norm(p), norm(e))
    return out


def _box_extent(st: Store, p: Expr, e: Expr, d: int) -> Expr | None:
    """B with the mask saying P * E + lane(d) < X: the tiles that hold a stored element, B = cdiv(X, E)."""
    want = norm(ir.add(ir.mul(p, e), lane(d)))
    for c in ir.conjuncts(st.mask):
        if c.op is Op.LT and norm(c.args[0]) == want and c.args[1].kind is Kind.INT:
            return norm(ir.arith(Op.TRUNCDIV, ir.sub(ir.add(c.args[1], e), ir.ONE), e))
    return None


def _candidates(u: Expr, v: Expr, b0: Expr, b1: Expr, groups: list[Expr]) -> list[tuple[str, Expr]]:
    """Inverses tile -> pid: row-major, column-major, and grouped (GROUP tiles of one axis at a time)."""
    out = [("row-major", ir.add(ir.mul(u, b1), v)), ("column-major", ir.add(ir.mul(v, b0), u))]
    for g in groups:
        for name, (x, y, bx, by) in (("grouped rows", (u, v, b0, b1)), ("grouped columns", (v, u, b1, b0))):
            first = ir.mul(ir.arith(Op.TRUNCDIV, x, g), g)
            size = ir.minimum(ir.sub(bx, first), g)
            inv = ir.add(ir.add(ir.mul(first, by), ir.mul(y, size)), ir.sub(x, first))
            out.append((f"{name} of {to_text(g)}", inv))
    return out


def _sample_ok(p: tuple[Expr, Expr], inv: Expr, grid: Expr, u: Expr, v: Expr, syms: list[str], rng: random.Random) -> bool:
    """Concrete filter before any proof: Inv(P(pid)) = pid on a few random launches."""
    for _ in range(6):
        vals = {s: rng.randint(1, 40) for s in syms}
        try:
            g = int(evaluate(grid, Env(vals)))
            for q in range(min(g, 64)):
                env = Env({**vals, str(pid(0).attr): q})
                uu, vv = int(evaluate(p[0], env)), int(evaluate(p[1], env))
                if int(evaluate(inv, Env({**vals, str(u.attr): uu, str(v.attr): vv}))) != q:
                    return False
        except (ZeroDivisionError, ValueError, OverflowError, TypeError, KeyError):
            return False
    return True


def regrid(
    spec: KernelSpec, constexprs: set[str], facts: list[Expr] | None = None, timeout_ms: int = 5000
) -> Regrid | None:
    """The spec over tiles when its 1-D program id is a proved bijection onto them, else None.
    `facts`: what the caller knows besides the spec's own facts (the host's shapes, say)."""
    if len(spec.grid) != 1 or not spec.stores:
        return None
    terms: dict[int, tuple[Expr, Expr]] = {}
    boxes: dict[int, Expr] = {}
    for st in spec.stores:
        for d, (p, e) in _tile_terms(st).items():
            if terms.setdefault(d, (p, e)) != (p, e):
                return None
            b = _box_extent(st, p, e, d)
            if b is not None:
                boxes.setdefault(d, b)
    if sorted(terms) != [0, 1] or sorted(boxes) != [0, 1]:
        return None
    p0, p1 = terms[0][0], terms[1][0]
    if p0 == pid(0) or p1 == pid(0):
        return None
    b0, b1 = boxes[0], boxes[1]
    free = spec.grid[0].op is Op.VAR and str(spec.grid[0].attr).startswith(GRID_PREFIX)
    grid = norm(ir.mul(b0, b1)) if free else spec.grid[0]
    syms = sorted({str(n.attr) for x in (p0, p1, b0, b1, grid) for n in ir.walk(x)
                   if n.op is Op.VAR and not str(n.attr).startswith((PID_PREFIX, LANE_PREFIX))})
    # hypotheses: what the spec states, block extents >= 1, constexprs in the map >= 1, box sizes >= 0
    base = list(spec.facts) + list(facts or []) + [ir.le(ir.ONE, x) for st in spec.stores for x in st.shape if not x.is_const]
    extra = [ir.le(ir.ONE, ir.var(s)) for s in syms if s in constexprs]
    extra += [ir.le(ir.ZERO, b0), ir.le(ir.ZERO, b1)]
    needed = [f for f in extra if not prove(base, f, timeout_ms)]
    hyps = base + needed
    u, v = ir.var(_TILE + "0"), ir.var(_TILE + "1")
    groups = [ir.var(s) for s in syms if s in constexprs] + [ir.const(c) for c in (2, 4, 8)]
    rng = random.Random(0)
    step_ms = min(timeout_ms, 1000)  # one simplification step: a side condition that holds is quick
    q = pid(0)
    in_grid = [ir.le(ir.ZERO, q), ir.lt(q, grid)]
    in_box = [ir.le(ir.ZERO, u), ir.lt(u, b0), ir.le(ir.ZERO, v), ir.lt(v, b1)]
    for name, inv in _candidates(u, v, b0, b1, groups):
        if not _sample_ok((p0, p1), inv, grid, u, v, syms, rng):
            continue
        into = ir.and_(ir.le(ir.ZERO, p0), ir.lt(p0, b0), ir.le(ir.ZERO, p1), ir.lt(p1, b1))
        if not prove([*hyps, *in_grid], into, timeout_ms, 20_000_000):
            continue
        old = frozenset(ir.walk(p0)) | frozenset(ir.walk(p1))
        back = simplify_divmod(ir.substitute(inv, {u: p0, v: p1}), [*hyps, *in_grid, into], step_ms, old)
        if norm(back) != q and not prove([*hyps, *in_grid, into], ir.eq(back, q), timeout_ms):
            continue
        if not prove([*hyps, *in_box], ir.and_(ir.le(ir.ZERO, inv), ir.lt(inv, grid)), timeout_ms, 20_000_000):
            continue
        stores = _over_tiles(spec.stores, inv, [*hyps, *in_box], step_ms)
        if stores is None:
            continue
        new = replace(spec, grid=(b0, b1), stores=stores, facts=[*spec.facts, *needed])
        said = [f"program ids: a proved bijection of [0, {to_text(grid)}) onto the {to_text(b0)} x {to_text(b1)} "
                f"tiles ({name})"]
        said += [f"assumed {to_text(f)}" for f in needed]
        return Regrid(new, grid, needed, said)
    return None


def _over_tiles(stores: list[Store], inv: Expr, facts: list[Expr], timeout_ms: int) -> list[Store] | None:
    """Each store with pid := Inv(u, v), simplified, and the tile coordinates renamed to program ids."""
    out = []
    rename = {ir.var(_TILE + "0"): pid(0), ir.var(_TILE + "1"): pid(1)}
    for st in stores:
        parts = []
        for x in (st.offset, st.value, st.mask):
            orig = frozenset(n for n in ir.walk(x) if n.kind is Kind.INT)  # nothing new to simplify there
            y = simplify_divmod(ir.substitute(x, {pid(0): inv}), facts, timeout_ms, orig)
            if any(n == pid(0) for n in ir.walk(y)):
                return None
            parts.append(ir.substitute(y, rename))
        out.append(replace(st, offset=parts[0], value=parts[1], mask=parts[2]))
    return out


def restate(formula: Formula, rg: Regrid) -> Formula:
    """The formula's assumptions about the launch, for the real 1-D grid rather than the grid of tiles."""
    kept = [a for a in formula.assumptions if not a.startswith("launched with grid")]
    said = [f"launched with grid ({to_text(rg.launch_grid)},)", *rg.assumptions]
    return replace(formula, assumptions=tuple(said + kept))


__all__ = ["Regrid", "regrid", "restate", "simplify_divmod"]
