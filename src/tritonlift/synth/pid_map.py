"""Program ids remapped onto tiles: a grid whose program ids compute tile coordinates (pid_m, pid_n) = P(pid)
(row-major, column-major, grouped as in Triton's matmul tutorial or FlagGems' mm/bmm, over a 1-D grid or a
2-D one linearised by the kernel) becomes a 2-D grid of tiles, once P is proved a bijection onto them.

Every store of the spec writes at `P_0 * E_0 + lane(0)` and `P_1 * E_1 + lane(1)` (E_d the block extent), and
its mask bounds those by X_d, so the tiles that hold an element are the box B = [0, cdiv(X_0, E_0)) x
[0, cdiv(X_1, E_1)). Over the mapped program ids' grid G (its other axes, a batch say, stay as they are),
three facts are proved with z3, for all sizes:

- into:        p in G                          =>  P(p) lies in the box B;
- one-to-one:  p, q in G and P(p) = P(q)       =>  p = q;
- size:        |G| = |B|  (the product of the mapped grid extents equals B_0 * B_1).

A one-to-one map from a finite set into a set of the same size is onto (pigeonhole), so P is a bijection
G -> B. Each store's offset, value and mask depend on the mapped program ids only through P (checked: every
occurrence of them is rewritten as `c_0 * P_0 + c_1 * P_1 + r` with c_d and r free of them, an identity of
integer polynomials), so with (u, v) in place of P the writes of the programs p in G are exactly the writes
of the tiles (u, v) in B: the spec over the 2-D grid B performs the same writes as the kernel.

The one-to-one proof is found generically: z3 on the map as is; else per case of the map's program-id-free
`where` conditions (a constexpr branch such as `GROUP_M == 1`); a 2-D grid the map reads only through
l = p_0 + p_1 * G_0 becomes a 1-D grid over l (that linearisation is itself one-to-one on G); and a 1-D map
that divides its program id x by a divisor D free of it is split as x = Q * D + R (0 <= R < D): first Q is
shown to be fixed by P, then R (the division identity makes (Q, R) one-to-one with x). Nothing here is keyed
to a kernel; a map that is not one-to-one (or not onto) keeps the spec as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Formula
from tritonlift.ir.poly import Poly, _key, divide_mono, norm, poly, unpoly
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import GRID_PREFIX, LANE_PREFIX, PID_PREFIX, lane, pid
from tritonlift.synth.guards import prove as _prove_int
from tritonlift.synth.guards import simplify_divmod
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

REDUCE_OPS = (Op.SUM, Op.PROD, Op.RMAX, Op.RMIN)
_MATH = (Op.SQRT, Op.FLOOR, Op.CEIL)


_PROVED: dict[tuple, bool] = {}  # (hyps, goal, limits) -> answer: host paths that share the facts ask again


def prove(hyps: list[Expr], goal: Expr, timeout_ms: int, rlimit: int = 5_000_000) -> bool:
    """guards.prove, with the facts of the real functions in a program-id map (a row found through a
    square root, say: sqrt(x) >= 0 and sqrt(x)^2 = x for x >= 0; floor(x) is the integer below x)."""
    key = (tuple(hyps), goal, timeout_ms, rlimit)
    if key in _PROVED:
        return _PROVED[key]
    if len(_PROVED) > 20000:
        _PROVED.clear()
    if not any(n.op in _MATH for e in (*hyps, goal) for n in ir.walk(e)):
        out = _prove_int(hyps, goal, timeout_ms, rlimit)
    else:
        out = _check(hyps, goal, timeout_ms, rlimit) == "proved"
    _PROVED[key] = out
    return out


def _check(hyps: list[Expr], goal: Expr, timeout_ms: int, rlimit: int = 5_000_000) -> str:
    """proved | refuted (z3 found a model of hyps and not goal) | unknown."""
    # an integer cast of floor(y) (exact: floor(y) is an integer) becomes an integer symbol r with
    # r <= y < r + 1, and sqrt(x) a real symbol s >= 0 with s * s = x for x >= 0: the same claim, stated
    # through the definitions z3's nonlinear arithmetic reasons with best
    named: dict[Expr, Expr] = {}
    defs: list[Expr] = []

    def name(n: Expr) -> Expr | None:
        if n.op is Op.CAST and n.kind is Kind.INT and n.args[0].op is Op.FLOOR:
            if n not in named:
                r, y = ir.var(f"_floor{len(named)}"), n.args[0].args[0]
                named[n] = r
                defs.extend([ir.le(ir.to_real(r), y), ir.lt(y, ir.add(ir.to_real(r), ir.const(1.0)))])
            return named[n]
        if n.op is Op.SQRT:
            if n not in named:
                v, x = ir.var(f"_sqrt{len(named)}", Kind.REAL), n.args[0]
                named[n] = v
                defs.extend(
                    [ir.le(ir.const(0.0), v), ir.or_(ir.lt(x, ir.const(0.0)), ir.eq(ir.mul(v, v), x))]
                )
            return named[n]
        return None

    hyps = [ir.transform(h, name) for h in hyps]
    goal = ir.transform(goal, name)
    hyps = [*hyps, *(ir.transform(d, name) for d in defs)]
    cx = Z3Ctx({})
    s = z3.Solver()
    s.set(timeout=max(timeout_ms, 10_000))
    s.set("rlimit", rlimit)
    for h in hyps:
        s.add(cx(h))
    s.add(z3.Not(cx(goal)))
    s.add(*math_axioms(cx))
    for op, args, term in cx.math_terms:
        if op is Op.FLOOR:
            s.add(term == z3.ToReal(z3.ToInt(args[0])))
        elif op is Op.CEIL:
            s.add(term == -z3.ToReal(z3.ToInt(-args[0])))
    r = s.check()
    return "proved" if r == z3.unsat else "refuted" if r == z3.sat else "unknown"


_TILE = "_u"  # tile coordinates while the real program ids are still around
_RLIMIT = 30_000_000  # per one-to-one query: the maps seen need well under this
_RLIMIT_QUICK = 2_000_000  # the first, direct attempt: a plain map is proved well under this
_MAX_CASES = 2  # program-id-free `where` conditions split on (2**n cases)


@dataclass(frozen=True)
class Regrid:
    """The spec over a grid of tiles, and what the caller must state about the real launch."""

    spec: KernelSpec
    launch_grid: tuple[Expr, ...]  # the real grid (chosen at kernel level: the number of tiles)
    facts: list[Expr]  # hypotheses the proofs used that the spec did not already state
    assumptions: list[str]


def deep_norm(e: Expr) -> Expr:
    """Every integer sum and product in e in polynomial normal form, inside atoms too."""
    ops = (Op.ADD, Op.SUB, Op.MUL, Op.NEG)
    return ir.transform(e, lambda n: norm(n) if n.kind is Kind.INT and n.op in ops else None)


def _pid_axes(e: Expr) -> set[int]:
    return {
        int(str(n.attr)[len(PID_PREFIX) :])
        for n in ir.walk(e)
        if n.op is Op.VAR and str(n.attr).startswith(PID_PREFIX)
    }


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
            d = int(str(ln.attr)[len(LANE_PREFIX) :])
            for p, e in (other.args, other.args[::-1]):
                if d < len(st.shape) and norm(e) == norm(st.shape[d]) and _is_pid_only(p):
                    out[d] = (deep_norm(p), norm(e))
    return out


def _box_extent(st: Store, p: Expr, e: Expr, d: int) -> Expr | None:
    """B with the mask saying P * E + lane(d) < X: the tiles that hold a stored element, B = cdiv(X, E)."""
    want = norm(ir.add(ir.mul(p, e), lane(d)))
    for c in _mask_terms(st.mask):
        if c.op is Op.LT and norm(deep_norm(c.args[0])) == want and c.args[1].kind is Kind.INT:
            return norm(ir.arith(Op.TRUNCDIV, ir.sub(ir.add(c.args[1], e), ir.ONE), e))
    return None


def _mask_terms(mask: Expr) -> list[Expr]:
    """The conjuncts of a mask, and of each case of a mask chosen by a condition (`where(DIVISIBLE_M, True,
    offs_m < M)`, a constexpr a launch binds to a host value): each states a bound on the tiles."""
    out: list[Expr] = []
    for c in ir.conjuncts(mask):
        if c.op is Op.WHERE and c.kind is Kind.BOOL:
            out += _mask_terms(c.args[1]) + _mask_terms(c.args[2])
        else:
            out.append(c)
    return out


def _terms_and_boxes(spec: KernelSpec) -> tuple[dict[int, tuple[Expr, Expr]], dict[int, Expr]] | None:
    """The tile coordinates (P_0, P_1) of the first store that has both, and the box its masks bound. Another
    store may write the tile of (P_1, P_0) (a mirrored store): its coordinates must be P's, in some order."""
    terms: dict[int, tuple[Expr, Expr]] = {}
    boxes: dict[int, Expr] = {}
    for st in spec.stores:
        own = _tile_terms(st)
        if not terms and sorted(own) == [0, 1]:
            terms = dict(own)
        elif terms and any(p not in (terms[0][0], terms[1][0]) for p, _e in own.values()):
            return None
        for d, (p, e) in own.items():
            b = _box_extent(st, p, e, d)
            if b is not None and terms and p == terms[d][0]:
                boxes.setdefault(d, b)
    return terms, boxes


def tile_box(spec: KernelSpec) -> tuple[Expr, Expr] | None:
    """The box of tiles that the store masks bound, when they bound both tile axes."""
    found = _terms_and_boxes(spec)
    if found is None or sorted(found[1]) != [0, 1]:
        return None
    return found[1][0], found[1][1]


def regrid(
    spec: KernelSpec,
    constexprs: set[str],
    facts: list[Expr] | None = None,
    timeout_ms: int = 5000,
    box: tuple[Expr, Expr] | None = None,
    why: list[str] | None = None,
) -> Regrid | None:
    """The spec over tiles when its program ids are a proved bijection onto them, else None.
    `facts`: what the caller knows besides the spec's own facts (the host's shapes, say); `box`: the tile
    box when the caller knows it and the masks do not state it (a path whose stores are unmasked); `why`
    receives, when the stores do write tiles P * BLOCK + lane but no bijection was proved, the reason."""
    found = _terms_and_boxes(spec)
    if found is None:
        return None
    terms, boxes = found
    if box is not None:
        boxes = {0: box[0], 1: box[1]}
    if sorted(terms) != [0, 1] or sorted(boxes) != [0, 1]:
        return None
    parts = (terms[0][0], terms[1][0])
    axes = sorted(_pid_axes(parts[0]) | _pid_axes(parts[1]))
    m = len(axes)
    if axes != list(range(m)) or m not in (1, 2) or m > len(spec.grid):
        return None
    if m == 2 and parts == (pid(0), pid(1)):
        return None  # already a grid of tiles
    b0, b1 = boxes[0], boxes[1]
    reasons: list[str] = []
    for image in _images(b0, b1, m):
        out = _regrid_onto(spec, constexprs, facts, timeout_ms, parts, m, b0, b1, image, reasons)
        if out is not None:
            return out
    if why is not None and reasons:
        why.append(f"the tile coordinates the stores write {reasons[0]}")
    return None


@dataclass(frozen=True)
class _Image:
    """The tiles a map may be onto: the box, or one triangle of a square box (a symmetric product written
    once per pair of tiles, then mirrored); `within(u, v)` says which tiles, `size` how many there are."""

    name: str
    within: Callable[[Expr, Expr], Expr]
    size: Expr


def _images(b0: Expr, b1: Expr, m: int) -> list[_Image]:
    out = [_Image("", lambda u, v: ir.TRUE, norm(ir.mul(b0, b1)))]
    if m == 1 and norm(b0) == norm(b1):
        tri = ir.arith(Op.TRUNCDIV, ir.mul(b0, ir.add(b0, ir.ONE)), ir.const(2))
        out.append(_Image("the lower triangle pid_n <= pid_m of ", lambda u, v: ir.le(v, u), tri))
        out.append(_Image("the upper triangle pid_m <= pid_n of ", lambda u, v: ir.le(u, v), tri))
    return out


def _regrid_onto(
    spec: KernelSpec,
    constexprs: set[str],
    facts: list[Expr] | None,
    timeout_ms: int,
    parts: tuple[Expr, Expr],
    m: int,
    b0: Expr,
    b1: Expr,
    image: _Image,
    reasons: list[str],
) -> Regrid | None:
    free = [spec.grid[k].op is Op.VAR and str(spec.grid[k].attr).startswith(GRID_PREFIX) for k in range(m)]
    if m == 1:
        launch = [image.size if free[0] else spec.grid[0]]
    else:
        launch = [b0 if free[0] else spec.grid[0], b1 if free[1] else spec.grid[1]]
    fixed = {spec.grid[k]: launch[k] for k in range(m) if free[k]}  # the launch chosen for a free grid
    parts = (deep_norm(ir.substitute(parts[0], fixed)), deep_norm(ir.substitute(parts[1], fixed)))
    syms = sorted(
        {
            str(n.attr)
            for x in (*parts, b0, b1, *launch)
            for n in ir.walk(x)
            if n.op is Op.VAR and not str(n.attr).startswith((PID_PREFIX, LANE_PREFIX))
        }
    )
    # hypotheses: what the spec states, block extents >= 1, constexprs in the map >= 1, box sizes >= 0
    base = (
        list(spec.facts)
        + list(facts or [])
        + [ir.le(ir.ONE, x) for st in spec.stores for x in st.shape if not x.is_const]
    )
    extra = [ir.le(ir.ONE, ir.var(s)) for s in syms if s in constexprs]
    extra += [ir.le(ir.ZERO, b0), ir.le(ir.ZERO, b1)]
    # a host's floor division in the launch (cdiv(M, BLOCK_M) of a size M passed as a plain int): equal to the
    # kernel's truncating one where it is >= 0, which is assumed where the facts do not give it (a launch
    # extent below 0 launches no program)
    extra += [ir.le(ir.ZERO, n) for x in launch for n in ir.walk(x) if n.op is Op.FLOORDIV]
    needed = [f for f in dict.fromkeys(extra) if not prove(base, f, timeout_ms)]
    hyps = base + needed
    size = launch[0] if m == 1 else ir.mul(launch[0], launch[1])
    if not prove(hyps, ir.eq(size, image.size), timeout_ms):
        reasons.append(
            f"come from a grid of {to_text(size)} programs, not one per tile ({to_text(image.size)})"
        )
        return None
    # the proofs below run over the grid as the box extents state it (proved equal to the launch)
    same_grid = [image.size] if m == 1 else [b0, b1]
    if m == 2 and not prove(hyps, ir.and_(ir.eq(launch[0], b0), ir.eq(launch[1], b1)), timeout_ms):
        return None
    # the box extents as plain symbols from here on (cdiv(M, BLOCK_M) -> _s0): a claim proved for every
    # value of the symbol under the facts kept about it holds for the extent itself, and z3 is far better
    # at it without the divisions inside
    ext = {b0: ir.var("_s0"), b1: ir.var("_s1")} if b0 != b1 else {b0: ir.var("_s0")}
    if m == 2:  # the launch's own spelling of the extents (a host's floor division), proved equal just above
        for k, sym in enumerate((ir.var("_s0"), ir.var("_s1") if b0 != b1 else ir.var("_s0"))):
            for form in (launch[k], deep_norm(launch[k])):
                ext.setdefault(form, sym)
    gen = lambda e: deep_norm(ir.substitute(e, ext))  # noqa: E731
    g_parts = (gen(parts[0]), gen(parts[1]))
    g_launch = [gen(x) for x in same_grid]
    g_box = (gen(b0), gen(b1))
    g_hyps = [gen(h) for h in hyps] + [ir.le(ir.ZERO, x) for x in g_box]  # proved or assumed above
    if not _into(g_parts, g_box, image.within, m, g_launch, g_hyps, timeout_ms):
        reasons.append(
            f"are not proved to lie in the {to_text(b0)} x {to_text(b1)} tiles for every program id"
        )
        return None
    how = one_to_one(g_parts, m, g_launch, g_hyps, timeout_ms)
    if how is None:
        reasons.append("are not proved one-to-one: two programs may write one tile, and another tile none")
        return None
    for extent, sym in ext.items():
        how = how.replace(to_text(sym), to_text(extent))
    stores = _over_tiles(spec.stores, parts, m, fixed)
    if stores is None:
        reasons.append("are a bijection, but the stores read the program ids otherwise too")
        return None
    u, v = ir.var(_TILE + "0"), ir.var(_TILE + "1")
    shift = {pid(k): pid(k - m + 2) for k in range(m, len(spec.axes))}  # other axes after the two tile axes
    rename = {u: pid(0), v: pid(1)}
    within = image.within(u, v)  # the tiles no program writes are masked off
    stores = [
        replace(
            st,
            offset=ir.substitute(ir.substitute(st.offset, shift), rename),
            value=ir.substitute(ir.substitute(st.value, shift), rename),
            mask=ir.substitute(ir.substitute(ir.and_(within, st.mask), shift), rename),
        )
        for st in stores
    ]
    new = replace(spec, grid=(b0, b1, *spec.grid[m:]), stores=stores, facts=[*spec.facts, *needed])
    grid_text = " x ".join(f"[0, {to_text(g)})" for g in launch)
    said = [
        f"program ids: a proved bijection of {grid_text} onto {image.name}the {to_text(b0)} x {to_text(b1)} tiles"
        f" ({how})"
    ]
    said += [f"assumed {to_text(f)}" for f in needed]
    if any(n.op in _MATH for x in parts for n in ir.walk(x)):
        said.append(
            "the tile coordinates' real arithmetic (sqrt, floor) taken as exact: float32 rounding of the "
            "program id's arithmetic is outside the proof"
        )
    return Regrid(new, (*launch, *spec.grid[m:]), needed, said)


# ---- the proofs: into and one-to-one, per case and per form of the map -----------------------------------


@dataclass(frozen=True)
class _Form:
    """The map over other variables: `facts` bound them; with q, r: x = q * d + r (0 <= r < d) was put for the
    program id x, and (q, r) is one-to-one with x; otherwise `xs` are variables one-to-one with the grid."""

    parts: tuple[Expr, ...]
    facts: list[Expr]
    xs: list[str]
    q: Expr | None = None
    r: Expr | None = None
    how: str = ""


def _conditions(parts: tuple[Expr, ...]) -> list[Expr]:
    conds: list[Expr] = []
    for p in parts:
        for n in ir.walk(p):
            if n.op is Op.WHERE and not _pid_axes(n.args[0]) and n.args[0] not in conds:
                conds.append(n.args[0])
    return conds


def _fold_where(n: Expr) -> Expr | None:
    if n.op is Op.WHERE and n.args[0] in (ir.TRUE, ir.FALSE):
        return n.args[1] if n.args[0] == ir.TRUE else n.args[2]
    if n.op is Op.NOT and n.args[0] in (ir.TRUE, ir.FALSE):
        return ir.FALSE if n.args[0] == ir.TRUE else ir.TRUE
    return None


def _cases(
    parts: tuple[Expr, ...], hyps: list[Expr], timeout_ms: int
) -> list[tuple[list[Expr], dict[Expr, Expr]]] | None:
    """The feasible truth values of the map's program-id-free `where` conditions (a constexpr branch such as
    `GROUP_M == 1`), as literals and a substitution; None when there are too many."""
    conds = _conditions(parts)
    if len(conds) > _MAX_CASES:
        return None
    out = []
    for signs in itertools.product((True, False), repeat=len(conds)):
        lits = [c if s else ir.not_(c) for c, s in zip(conds, signs, strict=True)]
        if lits and prove([*hyps, *lits], ir.FALSE, timeout_ms):
            continue  # no launch takes this case
        out.append((lits, {c: ir.TRUE if s else ir.FALSE for c, s in zip(conds, signs, strict=True)}))
    return out


def _specialise(e: Expr, pick: dict[Expr, Expr]) -> Expr:
    return deep_norm(ir.transform(ir.substitute(e, pick), _fold_where)) if pick else e


_FORMS: dict[tuple, list[_Form]] = {}


def _forms(
    parts: tuple[Expr, ...], m: int, launch: list[Expr], hyps: list[Expr], timeout_ms: int
) -> list[_Form]:
    """The map as it is; over l = p0 + p1 * G0 when it reads a 2-D grid only through l; then split at each
    divisor D free of the program id: x = q * D + r. (Computed once per map: into and one-to-one share it.)"""
    key = (parts, m, tuple(launch), tuple(hyps))
    if key not in _FORMS:
        if len(_FORMS) > 64:
            _FORMS.clear()
        _FORMS[key] = list(_make_forms(parts, m, launch, hyps, timeout_ms))
    return _FORMS[key]


def _make_forms(parts: tuple[Expr, ...], m: int, launch: list[Expr], hyps: list[Expr], timeout_ms: int):
    names = [str(pid(k).attr) for k in range(m)]
    ranges = [f for k in range(m) for f in (ir.le(ir.ZERO, pid(k)), ir.lt(pid(k), launch[k]))]
    yield _Form(parts, ranges, names)
    x, size = pid(0), launch[0]
    if m == 2:
        x, size = ir.var("_lin"), ir.mul(launch[0], launch[1])
        flat = tuple(
            deep_norm(ir.substitute(p, {pid(0): ir.sub(x, ir.mul(pid(1), launch[0]))})) for p in parts
        )
        if any(1 in _pid_axes(p) for p in flat):
            return
        parts = flat
        yield _Form(
            parts,
            [ir.le(ir.ZERO, x), ir.lt(x, size)],
            [str(x.attr)],
            how="over the row-major index of the grid",
        )
    ranges = [ir.le(ir.ZERO, x), ir.lt(x, size)]
    for d in _divisors(parts, x)[:3]:
        if not prove([*hyps, *ranges], ir.le(ir.ONE, d), timeout_ms):
            continue
        q, r = ir.var("_q"), ir.var("_r")
        split = [
            ir.le(ir.ZERO, q),
            ir.le(ir.ZERO, r),
            ir.lt(r, d),
            ir.lt(ir.add(ir.mul(q, d), r), size),
            ir.le(ir.ONE, d),
        ]
        at = ir.add(ir.mul(q, d), r)
        moved = tuple(deep_norm(ir.substitute(p, {x: at})) for p in parts)
        skip = frozenset(
            n for p in moved for n in ir.walk(p) if n.op in ir.INT_DIV_OPS and q not in ir.walk(n.args[0])
        )
        qr = tuple(
            _by_branch(
                simplify_divmod(p, [*hyps, *split], min(timeout_ms, 1000), skip),
                [*hyps, *split],
                q,
                min(timeout_ms, 1000),
            )
            for p in moved
        )
        if any(n == x for p in qr for n in ir.walk(p)):
            continue
        how = "over the row-major index of the grid, " if m == 2 else ""
        yield _Form(qr, split, ["_q", "_r"], q, r, f"{how}split at {to_text(d)}")


def _by_branch(e: Expr, facts: list[Expr], q: Expr, timeout_ms: int) -> Expr:
    """e with `X div D` -> q and `X mod D` -> X - q * D wherever the facts (and the conditions of the `where`
    branches around it) give q * D <= X < q * D + D, D >= 1 (and X >= 0: C-style division); each step is
    proved by z3. In a partial last group, `grid_m % GROUP_M` is grid_m - q * GROUP_M, say."""
    if e.op is Op.WHERE:
        c, a, b = e.args
        return ir.where(
            c, _by_branch(a, [*facts, c], q, timeout_ms), _by_branch(b, [*facts, ir.not_(c)], q, timeout_ms)
        )
    if e.op in (Op.TRUNCDIV, Op.TRUNCMOD, Op.FLOORDIV, Op.MOD) and q not in ir.walk(e) and not _pid_axes(e):
        x, d = e.args
        conds = [ir.le(ir.ONE, d), ir.le(ir.mul(q, d), x), ir.lt(x, ir.add(ir.mul(q, d), d))]
        if e.op in (Op.TRUNCDIV, Op.TRUNCMOD):
            conds.append(ir.le(ir.ZERO, x))
        if any(n.op in (Op.WHERE,) for n in ir.walk(e)) or not prove(facts, ir.and_(*conds), timeout_ms):
            return e
        return q if e.op in (Op.TRUNCDIV, Op.FLOORDIV) else deep_norm(ir.sub(x, ir.mul(q, d)))
    if not e.args or (e.kind is not Kind.INT and e.op is not Op.WHERE):
        return e
    return ir.rebuild(e, tuple(_by_branch(a, facts, q, timeout_ms) for a in e.args))


def _into(
    parts: tuple[Expr, Expr],
    box: tuple[Expr, Expr],
    within: Callable[[Expr, Expr], Expr],
    m: int,
    launch: list[Expr],
    hyps: list[Expr],
    timeout_ms: int,
) -> bool:
    """p in the grid => P(p) in the box, per case; the first form of the map that z3 proves it on."""
    cases = _cases(parts, hyps, timeout_ms)
    if cases is None:
        return False

    def into_of(form: _Form) -> Expr:
        bounds = [f for p, b in zip(form.parts, box, strict=True) for f in (ir.le(ir.ZERO, p), ir.lt(p, b))]
        return ir.and_(*bounds, within(form.parts[0], form.parts[1]))

    for lits, pick in cases:
        case = tuple(_specialise(p, pick) for p in parts)
        forms = _forms(case, m, launch, [*hyps, *lits], timeout_ms)
        first = into_of(forms[0])
        verdict = _check([*hyps, *lits, *forms[0].facts], first, timeout_ms, _RLIMIT_QUICK)
        if verdict == "refuted":
            return False  # a program id outside the tiles: no other form of the map changes that
        if verdict == "proved":
            continue
        if any(
            n.op in ir.INT_DIV_OPS for p in case for n in ir.walk(p)
        ):  # the split forms first: z3 likes them
            forms = [f for f in forms if f.q is not None] + [f for f in forms[1:] if f.q is None]
        else:
            forms = forms[1:]
        for form in forms:
            if prove(
                [*hyps, *lits, *form.facts],
                into_of(form),
                timeout_ms,
                _RLIMIT if form.q is not None else _RLIMIT_QUICK,
            ):
                break
        else:
            return False
    return True


def _copy(e: Expr, names: dict[str, str]) -> Expr:
    return ir.substitute(e, {ir.var(a): ir.var(b) for a, b in names.items()})


def _same(parts: tuple[Expr, ...], left: dict[str, str], right: dict[str, str]) -> list[Expr]:
    return [ir.eq(_copy(p, left), _copy(p, right)) for p in parts]


def one_to_one(
    parts: tuple[Expr, ...], m: int, launch: list[Expr], hyps: list[Expr], timeout_ms: int
) -> str | None:
    """How P is proved one-to-one on the grid [0, launch_0) (x [0, launch_1)), or None."""
    cases = _cases(parts, hyps, timeout_ms)
    if cases is None:
        return None
    hows: list[str] = []
    for lits, pick in cases:
        case = tuple(_specialise(p, pick) for p in parts)
        how = _one_to_one_case(case, m, launch, [*hyps, *lits], timeout_ms)
        if how is None:
            return None
        hows.append(how if not lits else f"{how} when {' and '.join(to_text(x) for x in lits)}")
    return "; ".join(dict.fromkeys(hows)) if hows else None


def _one_to_one_case(
    parts: tuple[Expr, ...], m: int, launch: list[Expr], hyps: list[Expr], timeout_ms: int
) -> str | None:
    divides = any(n.op in ir.INT_DIV_OPS for p in parts for n in ir.walk(p))
    last: _Form | None = None
    for form in _forms(parts, m, launch, hyps, timeout_ms):
        if form.q is None:
            last = form
            if not divides and _injective(form.parts, form.xs, form.facts, hyps, timeout_ms, _RLIMIT_QUICK):
                return "one-to-one" + (f" {form.how}" if form.how else "")
            continue
        a = {"_q": "_q_a", "_r": "_r_a"}
        b = {"_q": "_q_b", "_r": "_r_b"}
        both = [_copy(f, a) for f in form.facts] + [_copy(f, b) for f in form.facts]
        if not prove(
            [*hyps, *both, *_same(form.parts, a, b)],
            ir.eq(ir.var("_q_a"), ir.var("_q_b")),
            timeout_ms,
            _RLIMIT,
        ):
            continue
        b_same_q = {"_q": "_q_a", "_r": "_r_b"}
        both = [_copy(f, a) for f in form.facts] + [_copy(f, b_same_q) for f in form.facts]
        same = _same(form.parts, a, b_same_q)
        goal = ir.eq(ir.var("_r_a"), ir.var("_r_b"))
        if prove(
            [*hyps, *both, *_freeze(same, {"_r_a", "_r_b"}, [*hyps, *both], timeout_ms)],
            goal,
            timeout_ms,
            _RLIMIT,
        ) or prove([*hyps, *both, *same], goal, timeout_ms, _RLIMIT):
            return f"one-to-one {form.how}: the quotient and then the remainder are fixed by the tile"
    if (
        last is not None
        and divides
        and _injective(last.parts, last.xs, last.facts, hyps, timeout_ms, _RLIMIT)
    ):
        return "one-to-one" + (f" {last.how}" if last.how else "")
    return None


def _freeze(claims: list[Expr], moving: set[str], facts: list[Expr], timeout_ms: int) -> list[Expr]:
    """The claims with every maximal non-variable integer subterm free of the `moving` variables replaced by a
    fresh symbol, with what the facts prove of its sign (>= 1, else >= 0). A consequence proved from the
    result holds for the subterms themselves (they are values of those symbols that satisfy the facts kept),
    and z3 no longer has to see through their divisions and products."""
    fresh: dict[Expr, Expr] = {}
    kept: list[Expr] = []

    def go(e: Expr) -> Expr:
        if (
            e.kind is Kind.INT
            and e.op not in (Op.VAR, Op.CONST)
            and not any(n.op is Op.VAR and str(n.attr) in moving for n in ir.walk(e))
        ):
            if e not in fresh:
                v = ir.var(f"_f{len(fresh)}")
                fresh[e] = v
                if prove(facts, ir.le(ir.ONE, e), timeout_ms):
                    kept.append(ir.le(ir.ONE, v))
                elif prove(facts, ir.le(ir.ZERO, e), timeout_ms):
                    kept.append(ir.le(ir.ZERO, v))
            return fresh[e]
        if not e.args or e.op in REDUCE_OPS:
            return e
        return ir.rebuild(e, tuple(go(x) for x in e.args))

    out = [go(c) for c in claims]
    return [*out, *kept]


def _injective(
    parts: tuple[Expr, ...], xs: list[str], ranges: list[Expr], hyps: list[Expr], timeout_ms: int, rlimit: int
) -> bool:
    """z3: P(x) = P(y) for x, y in range => x = y (the variables xs renamed per copy)."""
    left = {x: f"{x}_a" for x in xs}
    right = {x: f"{x}_b" for x in xs}
    rng = [_copy(r, left) for r in ranges] + [_copy(r, right) for r in ranges]
    goal = ir.and_(*(ir.eq(ir.var(left[x]), ir.var(right[x])) for x in xs))
    return prove([*hyps, *rng, *_same(parts, left, right)], goal, timeout_ms, rlimit)


def _divisors(parts: tuple[Expr, ...], x: Expr) -> list[Expr]:
    """Divisors D free of x in `x' div D` / `x' mod D` with x' mentioning x, those of x itself first."""
    own: list[Expr] = []
    other: list[Expr] = []
    for p in parts:
        for n in ir.walk(p):
            if n.op in ir.INT_DIV_OPS and any(a == x for a in ir.walk(n.args[0])):
                d = n.args[1]
                if any((a.op is Op.VAR and str(a.attr).startswith(PID_PREFIX)) or a == x for a in ir.walk(d)):
                    continue
                (own if norm(n.args[0]) == x else other).append(norm(d))
    return list(dict.fromkeys(own + other))


# ---- the stores over tiles ---------------------------------------------------------------------------


def _pivot(p: Poly, axes: set[int]) -> tuple[tuple[Expr, ...], int] | None:
    for mono, c in sorted(p.items(), key=lambda mc: [_key(a) for a in mc[0]]):
        if any(_pid_axes(a) & axes for a in mono):
            return mono, c
    return None


def _split(e: Expr, parts: tuple[Expr, Expr], axes: set[int]) -> Expr | None:
    """e as c_0 * u + c_1 * v + r with c_d, r free of the mapped program ids, where
    e = c_0 * P_0 + c_1 * P_1 + r as integer polynomials; None when it is not of that form."""
    target = poly(deep_norm(e))
    polys = [poly(p) for p in parts]
    pivots = [_pivot(p, axes) for p in polys]

    def coefficients(rest: Poly, d: int) -> list[Poly]:
        if pivots[d] is None:
            return [{}]
        mono0, c0 = pivots[d]  # type: ignore[misc]
        out: list[Poly] = [{}]
        for mono, c in rest.items():
            r = divide_mono(mono, mono0)
            if r is not None and c % c0 == 0 and not any(_pid_axes(a) & axes for a in r):
                out.append({r: c // c0})
        return out

    def minus(a: Poly, coef: Poly, p: Poly) -> Poly:
        out = dict(a)
        for cm, cc in coef.items():
            for pm, pc in p.items():
                key = tuple(sorted((*cm, *pm), key=_key))
                out[key] = out.get(key, 0) - cc * pc
                if out[key] == 0:
                    del out[key]
        return poly(unpoly(out)) if out else {}

    for c0 in coefficients(target, 0):
        rest0 = minus(target, c0, polys[0])
        for c1 in coefficients(rest0, 1):
            if not c0 and not c1:
                continue
            rest = minus(rest0, c1, polys[1])
            if any(_pid_axes(a) & axes for mono in rest for a in mono):
                continue
            out = unpoly(rest)
            for coef, t in ((c0, ir.var(_TILE + "0")), (c1, ir.var(_TILE + "1"))):
                if coef:
                    out = ir.add(ir.mul(unpoly(coef), t), out)
            return norm(out)
    return None


def _abstract(
    e: Expr, parts: tuple[Expr, Expr], axes: set[int], memo: dict[Expr, Expr | None]
) -> Expr | None:
    """e with every mapped program id read through P_0 / P_1 as u / v; None if one is read otherwise."""
    if e in memo:
        return memo[e]
    out: Expr | None
    if not (_pid_axes(e) & axes):
        out = e
    else:
        out = _split(e, parts, axes) if e.kind is Kind.INT and e.op is not Op.VAR else None
        if out is None and e.args:
            args = [_abstract(a, parts, axes, memo) for a in e.args]
            out = None if any(a is None for a in args) else ir.rebuild(e, tuple(args))  # type: ignore[arg-type]
    memo[e] = out
    return out


def _over_tiles(
    stores: list[Store], parts: tuple[Expr, Expr], m: int, fixed: dict[Expr, Expr]
) -> list[Store] | None:
    """Each store with the tile coordinates (u, v) read where the program ids were read through P."""
    axes = set(range(m))
    memo: dict[Expr, Expr | None] = {}
    out = []
    for st in stores:
        new = []
        for x in (st.offset, st.value, st.mask):
            y = _abstract(deep_norm(ir.substitute(x, fixed)), parts, axes, memo)
            if y is None:
                return None
            new.append(y)
        out.append(replace(st, offset=new[0], value=new[1], mask=new[2]))
    return out


def restate(formula: Formula, rg: Regrid) -> Formula:
    """The formula's assumptions about the launch, for the real grid rather than the grid of tiles."""
    kept = [a for a in formula.assumptions if not a.startswith("launched with grid")]
    shown = ", ".join(to_text(g) for g in rg.launch_grid) + ("," if len(rg.launch_grid) == 1 else "")
    said = [f"launched with grid ({shown})", *rg.assumptions]
    return replace(formula, assumptions=tuple(said + kept))


__all__ = ["Regrid", "deep_norm", "one_to_one", "regrid", "restate", "simplify_divmod", "tile_box"]
