"""Constexpr paths of a kernel: `if DIVISIBLE_M:` / `if EVEN_K:` branches on constexprs left symbolic.

The evaluator turns an `if` on a symbolic constexpr into `where(c, then, else)` inside the stored values and
masks. A FlagGems kernel whose heuristics choose such flags (bmm's DIVISIBLE_M/N/K) computes one formula on
every path they can select, but the paths differ in their masks, so one derivation does not fit them all.
Here the conditions built from constexprs only are split into atoms (`DIVISIBLE_M != 0`, `GROUP_M == 1`),
and the spec is specialised per combination of truth values that the facts allow (the heuristics' facts
`DIVISIBLE_M <=> M % TILE_M == 0` among them; z3 drops the infeasible combinations). Each path is then
verified against one formula: the one derived from the most masked path (its masks name the sizes; an
unmasked path gets its bounds from the heuristics' facts). A kernel is verified only if every path is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.synth.guards import prove

MAX_ATOMS = 4  # 16 paths at most
_COMPARES = (Op.LT, Op.LE, Op.GT, Op.GE)


@dataclass(frozen=True)
class Path:
    literals: tuple[Expr, ...]  # each atom or its negation
    spec: KernelSpec

    @property
    def text(self) -> str:
        return " and ".join(literal_text(x) for x in self.literals) or "true"


_NEGATED = {Op.EQ: Op.NE, Op.NE: Op.EQ, Op.LT: Op.GE, Op.GE: Op.LT, Op.LE: Op.GT, Op.GT: Op.LE}


def literal_text(lit: Expr) -> str:
    """One literal (an atom or its negation) as Python: a flag `USE_TANH != 0` as `USE_TANH`, its negation as
    `not USE_TANH`, a negated comparison as the opposite comparison."""
    positive = lit.op is not Op.NOT
    atom = lit if positive else lit.args[0]
    if atom.op is Op.NE and atom.args[0].op is Op.VAR and atom.args[1] == ir.ZERO:
        return str(atom.args[0].attr) if positive else f"not {atom.args[0].attr}"
    if positive:
        return to_text(atom)
    if atom.op in _NEGATED:
        return to_text(ir.compare(_NEGATED[atom.op], atom.args[0], atom.args[1]))
    return f"not ({to_text(atom)})"


def _atoms(c: Expr, out: list[Expr]) -> None:
    if c.op in (Op.AND, Op.OR):
        _atoms(c.args[0], out)
        _atoms(c.args[1], out)
    elif c.op is Op.NOT:
        _atoms(c.args[0], out)
    elif c.op is Op.CONST:
        return
    elif c not in out:
        out.append(c)


def constexpr_atoms(spec: KernelSpec, constexprs: set[str]) -> list[Expr]:
    """The atoms of the `where` conditions and store masks that mention constexprs only."""
    conds: list[Expr] = []
    for st in spec.stores:
        for x in (st.offset, st.value, st.mask):
            for n in ir.walk(x):
                if n.op is Op.WHERE:
                    _atoms(n.args[0], conds)
        _atoms(st.mask, conds)  # a store under `if FLAG:` carries the branch in its mask
    out = []
    for a in conds:
        names = {str(n.attr) for n in ir.walk(a) if n.op is Op.VAR}
        if names and names <= constexprs and a.kind is Kind.BOOL:
            out.append(a)
    return out


def specialise(spec: KernelSpec, pick: dict[Expr, bool], settle: bool = True) -> KernelSpec:
    """The spec with each atom replaced by its truth value (folded) and the literals added to its facts, less the
    stores the path never makes (their mask folded to false); reduction bounds that the path's facts make equal to a size are that size."""
    sub = {a: ir.TRUE if v else ir.FALSE for a, v in pick.items()}
    lits = [a if v else ir.not_(a) for a, v in pick.items()]
    facts = [*spec.facts, *lits]
    stores = []
    for st in spec.stores:
        value = ir.substitute(st.value, sub)
        stores.append(
            replace(
                st,
                offset=ir.substitute(st.offset, sub),
                value=settle_bounds(value, facts) if settle else value,
                mask=ir.substitute(st.mask, sub),
            )
        )
    live = [st for st in stores if st.mask != ir.FALSE]  # a store under the other branch of `if FLAG:`
    return replace(spec, stores=live or stores, facts=facts)


def settle_bounds(e: Expr, facts: list[Expr], timeout_ms: int = 2000) -> Expr:
    """Each reduction's upper bound that is not a plain symbol replaced by a size symbol it contains, where the
    facts prove them equal or both at most the lower bound (the same empty range):
    `maximum(cdiv(K, TILE_K), 0) * TILE_K` is K on a path where K % TILE_K == 0."""
    cache: dict[tuple[Expr, Expr], Expr] = {}

    def bound(b: Expr, lo: Expr) -> Expr:
        """b, or a size v with b == v or both <= lo (the range empty either way)."""
        if b.op in (Op.VAR, Op.CONST) or b.kind is not Kind.INT:
            return b
        if (b, lo) not in cache:
            cache[(b, lo)] = b
            names = sorted(
                {str(n.attr) for n in ir.walk(b) if n.op is Op.VAR and not str(n.attr).startswith("_")}
            )
            for v in names:
                same = ir.or_(ir.eq(b, ir.var(v)), ir.and_(ir.le(b, lo), ir.le(ir.var(v), lo)))
                if prove(facts, same, timeout_ms):
                    cache[(b, lo)] = ir.var(v)
                    break
        return cache[(b, lo)]

    def step(n: Expr) -> Expr | None:
        if n.op in (Op.SUM, Op.PROD, Op.RMAX, Op.RMIN):
            lo, hi, body = n.args
            new = (lo, bound(hi, lo), body)
            return None if new == n.args else Expr(n.op, new, n.attr, n.kind)
        return None

    return ir.transform(e, step)


def paths(spec: KernelSpec, constexprs: set[str], timeout_ms: int = 2000, settle: bool = True) -> list[Path]:
    """Every feasible constexpr path, the most masked first; [] when the stores branch on no constexpr
    (or on more than MAX_ATOMS atoms: then the spec is lifted as it is)."""
    atoms = constexpr_atoms(spec, constexprs)
    if not atoms or len(atoms) > MAX_ATOMS:
        return []
    out: list[Path] = []
    for values in itertools.product((False, True), repeat=len(atoms)):
        pick = dict(zip(atoms, values, strict=True))
        lits = tuple(a if v else ir.not_(a) for a, v in pick.items())
        if prove([*spec.facts, *lits], ir.FALSE, timeout_ms):
            continue  # the heuristics never choose this combination
        out.append(Path(lits, specialise(spec, pick, settle)))
    out.sort(key=lambda p: -_masked(p.spec))
    return out


def _masked(spec: KernelSpec) -> int:
    """How many comparisons guard the stores and their loads (the most masked path names every bound)."""
    return sum(1 for st in spec.stores for x in (st.mask, st.value) for n in ir.walk(x) if n.op in _COMPARES)


def most_masked(spec: KernelSpec, constexprs: set[str]) -> KernelSpec:
    """The specialisation with the most comparisons, feasible or not: only its masks are read (for the box
    of tiles a program-id map must be onto, which synth/pid_map then proves for every path at once)."""
    atoms = constexpr_atoms(spec, constexprs)
    if not atoms or len(atoms) > MAX_ATOMS:
        return spec
    options = [
        specialise(spec, dict(zip(atoms, values, strict=True)), settle=False)
        for values in itertools.product((False, True), repeat=len(atoms))
    ]
    return max(options, key=_masked)


__all__ = ["Path", "constexpr_atoms", "literal_text", "most_masked", "paths", "settle_bounds", "specialise"]
