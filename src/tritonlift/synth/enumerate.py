"""Bottom-up enumeration of formula bodies by size, over a grammar read off the kernel (no per-kernel templates).

The grammar's leaves are the kernel's inputs read at the output index (every injective placement of the output
index variables), its scalar arguments and real constants; reductions (sum / max / min over one axis of an input
one rank above the output) are leaves of their own size. Inner nodes: unary math, binary arithmetic,
maximum/minimum and `where(a > b, c, d)` / `where(a != 0, c, d)` over leaf comparisons. Every node is a real
value (type pruning); shapes are fixed by construction (reads index inputs at the output index).

`grow` yields candidates in size order; an `admit` callback decides which ones enter the bank the next sizes
are built from: observational equivalence (one representative per signature on the cheap-test samples) when
pruning, everything otherwise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import REDUCE_OPS, Expr, Kind, Op
from tritonlift.ir.formula import Assign, TensorDecl

UNARY: tuple[Op, ...] = (Op.NEG, Op.EXP, Op.LOG, Op.SQRT, Op.RSQRT, Op.SIGMOID, Op.ABS, Op.ERF, Op.TANH)
BINARY: tuple[Op, ...] = (Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MAXIMUM, Op.MINIMUM)
COMMUTATIVE = frozenset({Op.ADD, Op.MUL, Op.MAXIMUM, Op.MINIMUM})
REDUCTIONS: tuple[Op, ...] = (Op.SUM, Op.RMAX, Op.RMIN)
BOUND = "_k"  # the bound index of enumerated reductions (renamed k, l, .. for printing by the caller)


@dataclass
class Grammar:
    """Leaves (size 1), bigger leaves with their own size (reductions), and the conditions `where` may test."""

    leaves: list[Expr]
    atoms: list[tuple[Expr, int]] = field(default_factory=list)
    conditions: list[Expr] = field(default_factory=list)
    unary: tuple[Op, ...] = UNARY
    binary: tuple[Op, ...] = BINARY


def size(e: Expr, atoms: frozenset[Expr] = frozenset()) -> int:
    """Number of nodes; a read (whatever its index), and a sub-term in `atoms`, counts as one."""
    if e in atoms or e.op is Op.READ:
        return 1
    return 1 + sum(size(a, atoms) for a in e.args)


def grow(g: Grammar, max_size: int, admit: Callable[[Expr], bool]) -> Iterator[tuple[Expr, int]]:
    """(candidate, size) in size order; only admitted candidates are combined further."""
    bank: dict[int, list[Expr]] = {}
    seen: set[Expr] = set()
    for n in range(1, max_size + 1):
        bank[n] = []
        for e in _level(g, bank, n):
            if e.kind is not Kind.REAL or e in seen:  # the smart constructors fold: skip structural repeats
                continue
            seen.add(e)
            if admit(e):
                bank[n].append(e)
                yield e, n


def _level(g: Grammar, bank: dict[int, list[Expr]], n: int) -> Iterable[Expr]:
    if n == 1:
        yield from g.leaves
    yield from (a for a, s in g.atoms if s == n)
    for a in bank.get(n - 1, []):
        for op in g.unary:
            yield ir.neg(a) if op is Op.NEG else ir.math_fn(op, a)
    for sa in range(1, n - 1):
        sb = n - 1 - sa
        for op in g.binary:
            if op in COMMUTATIVE and sa > sb:
                continue
            for ia, a in enumerate(bank.get(sa, [])):
                for ib, b in enumerate(bank.get(sb, [])):
                    if op in COMMUTATIVE and sa == sb and ib < ia:
                        continue
                    yield _binary(op, a, b)
    # where(cond, a, b): a condition over two leaves costs 3
    for sa in range(1, n - 4):
        sb = n - 4 - sa
        for c in g.conditions:
            for a in bank.get(sa, []):
                for b in bank.get(sb, []):
                    yield ir.where(c, a, b)


def _binary(op: Op, a: Expr, b: Expr) -> Expr:
    if op is Op.DIV:
        return ir.div(a, b)
    if op is Op.MAXIMUM:
        return ir.maximum(a, b)
    if op is Op.MINIMUM:
        return ir.minimum(a, b)
    return ir.arith(op, a, b)


# ---------------------------------------------------------------------------------------------------------
# grammars


def generic_grammar(assign: Assign, tensors: dict[str, TensorDecl], outputs: set[str], scalars: list[Expr],
                    constants: list[Expr], body_size: int = 3) -> Grammar:
    """The grammar of the plain bottom-up search: inputs at the output index, reductions over one axis."""
    index = [ir.var(n) for n in assign.index]
    rank = len(index)
    inputs = [t for name, t in tensors.items() if name not in outputs and t.ndim >= 1]
    leaves: list[Expr] = []
    for t in inputs:
        if t.ndim <= rank:
            leaves += [ir.read(t.name, *p) for p in itertools.permutations(index, t.ndim)]
    leaves += scalars + constants
    atoms = reduction_atoms(index, inputs, body_size)
    conditions = condition_leaves(leaves)
    return Grammar(_unique(leaves), atoms, conditions)


def reduction_atoms(index: list[Expr], inputs: list[TensorDecl], body_size: int) -> list[tuple[Expr, int]]:
    """sum / max / min over one axis of every input one rank above the output, bodies of up to body_size."""
    k = ir.var(BOUND)
    rank = len(index)
    out: list[tuple[Expr, int]] = []
    for t in inputs:
        if t.ndim != rank + 1:
            continue
        for axis in range(t.ndim):
            for rest in itertools.permutations(index, rank):
                pos = list(rest)
                pos.insert(axis, k)
                row = [ir.read(t.name, *pos)]
                # other inputs along the same axis: x[k] beside A[i, k] (matrix-vector)
                row += [ir.read(u.name, k) for u in inputs if u.ndim == 1]
                for body, s in _small_bodies(_unique(row), body_size):
                    if not any(n == row[0] for n in ir.walk(body)):
                        continue  # the reduced input must be read
                    for op in REDUCTIONS:
                        out.append((ir.reduce(op, BOUND, ir.ZERO, t.shape[axis], body), 1 + s))
    return out


def _small_bodies(row: list[Expr], max_size: int) -> Iterator[tuple[Expr, int]]:
    g = Grammar(row, unary=(Op.EXP, Op.ABS), binary=(Op.MUL, Op.SUB))
    yield from grow(g, max_size, lambda e: True)


def condition_leaves(leaves: list[Expr]) -> list[Expr]:
    """`a > b` over pairs of leaves and `a != 0` over reads (a mask loaded as numbers)."""
    zero = ir.const(0.0)
    out = [ir.compare(Op.GT, a, b) for a, b in itertools.permutations(leaves, 2)
           if not (a.is_const and b.is_const)]
    out += [ir.compare(Op.NE, a, zero) for a in leaves if a.op is Op.READ]
    return _unique(out)


def sketch_grammar(body: Expr, scalars: list[Expr], constants: list[Expr]) -> Grammar:
    """Holes of a derived body filled bottom-up: its reads at the output index and its reductions are leaves."""
    atoms = reductions_in(body)
    leaves = [n for n in ir.walk(body) if n.op is Op.READ and not (ir.free_vars(n) & _bound_names(body))]
    leaves += [n for n in ir.walk(body) if n.op is Op.CAST and n.kind is Kind.REAL and not _inside_reduction(n, body)]
    leaves += [*atoms, *scalars, *constants]
    leaves = _unique(leaves)
    return Grammar(leaves, [], condition_leaves([x for x in leaves if x not in atoms]))


def reductions_in(body: Expr) -> list[Expr]:
    """The outermost reductions of body."""
    out: list[Expr] = []

    def go(e: Expr) -> None:
        if e.op in REDUCE_OPS or e.op in ir.ARG_OPS:  # an index reduction is an atom too
            out.append(e)
            return
        for a in e.args:
            go(a)

    go(body)
    return _unique(out)


def _bound_names(body: Expr) -> set[str]:
    return {str(n.attr) for n in ir.walk(body) if n.op in ir.BINDER_OPS}


def _inside_reduction(node: Expr, body: Expr) -> bool:
    return any(node in set(ir.walk(r)) for r in reductions_in(body))


def kernel_leaves(values: Iterable[Expr], params: Iterable[Expr] = ()) -> tuple[list[Expr], list[Expr]]:
    """(real scalar arguments, real constants) appearing in the kernel's stored values; 0.0 and 1.0 always."""
    scalars: list[Expr] = list(params)
    constants: list[Expr] = [ir.const(0.0), ir.const(1.0)]
    for v in values:
        for n in ir.walk(v):
            if n.op is Op.VAR and n.kind is Kind.REAL:
                scalars.append(n)
            elif n.op is Op.CONST and n.kind is Kind.REAL and n.value == n.value and abs(n.value) != float("inf"):
                constants.append(n)
    return _unique(scalars), _unique(constants)


def _unique(xs: Iterable[Expr]) -> list[Expr]:
    return list(dict.fromkeys(xs))
