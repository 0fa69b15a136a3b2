"""The declared dim order of input views, chosen so that a contraction reads as a matmul.

The derivation declares an input view's dims in the order the kernel's reads met its strides: a matmul kernel
that loads `a` by `offs_k[:, None] * stride_ak + offs_m[None, :] * stride_am` gets `a = as_strided(a_ptr,
(K, M), (stride_ak, stride_am))`, and its formula `c[i, j] = sum(a[l, i] * b[l, j] for l)` prints `a.T @ b`;
with a batch dim (`o[i, j, k] = sum(a[l, i, j] * b[l, i, k] for l)`) it has no matmul form at all.

`order_contraction_views` permutes the dims of such views so that every contraction `sum(X[..] * Y[..] for l)`
reads X as (batch.., row, l) and Y as (batch.., l, col): `c = a @ b` with `a` declared (M, K). Permuting a
view's shape and strides together with the index of every read of it is an identity: each read names the
same element, at the same address, as before (TensorDecl.address sums index * stride over the dims, in any
order). It is applied to the derived formula before verification, so the formula verified is the one shown.

Only views whose every read is a factor of such a contraction, and whose reads all want one order, move;
every other view keeps its dims exactly as derived.
"""

from __future__ import annotations

from dataclasses import replace

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.ir.formula import Formula, TensorDecl


def order_contraction_views(formula: Formula) -> Formula:
    """The formula with the dims of its contraction operands' views ordered for a matmul (module docstring)."""
    written = {a.target for a in formula.assigns}
    written_bases = {t.base for t in formula.tensors if t.name in written}
    decls = {t.name: t for t in formula.tensors}
    movable = {
        n for n, t in decls.items() if n not in written and t.base not in written_bases and t.ndim >= 2
    }
    wants: dict[str, set[tuple[int, ...]]] = {}
    other: set[str] = set()  # views read somewhere else than as a contraction's factor
    for a in formula.assigns:
        _visit(a.body, a.index, movable, decls, wants, other)
    perms = {
        n: next(iter(w))
        for n, w in wants.items()
        if n not in other and len(w) == 1 and next(iter(w)) != tuple(range(decls[n].ndim))
    }
    if not perms:
        return formula

    def permute_read(node: Expr) -> Expr | None:
        if node.op is not Op.READ or node.attr not in perms:
            return None
        args = tuple(ir.transform(x, permute_read) for x in node.args)
        return ir.read(str(node.attr), *(args[d] for d in perms[str(node.attr)]))

    tensors = tuple(
        replace(
            t,
            shape=tuple(t.shape[d] for d in perms[t.name]),
            strides=tuple(t.strides[d] for d in perms[t.name]),
        )
        if t.name in perms
        else t
        for t in formula.tensors
    )
    assigns = tuple(replace(a, body=ir.transform(a.body, permute_read)) for a in formula.assigns)
    return replace(formula, tensors=tensors, assigns=assigns)


def _visit(
    e: Expr,
    out_index: tuple[str, ...],
    movable: set[str],
    decls: dict[str, TensorDecl],
    wants: dict[str, set[tuple[int, ...]]],
    other: set[str],
) -> None:
    if e.op is Op.SUM and len(e.args) == 3 and e.args[2].op is Op.MUL and len(e.args[2].args) == 2:
        got = _contraction(e, out_index, decls)
        if got is not None:
            (lr, lp), (rr, rp) = got
            if lr.attr == rr.attr and lp != rp and len(lp) == 2:
                got = got[
                    :1
                ]  # one 2-d view on both sides (`a @ a.T`): ordered for the left, the right reads .T
            for read, perm in got:
                if str(read.attr) in movable:
                    wants.setdefault(str(read.attr), set()).add(perm)
            for x in (e.args[0], e.args[1], *(a for r, _ in got for a in r.args)):
                _visit(x, out_index, movable, decls, wants, other)
            return
    if e.op is Op.READ and str(e.attr) in movable:
        other.add(str(e.attr))
    for x in e.args:
        _visit(x, out_index, movable, decls, wants, other)


def _contraction(
    e: Expr, out_index: tuple[str, ...], decls: dict[str, TensorDecl]
) -> list[tuple[Expr, tuple[int, ...]]] | None:
    """For `sum(X[..] * Y[..] for l)` over reads indexed by distinct output indices and l: each read with the
    order of its dims a matmul wants (X as (batch.., row, l), Y as (batch.., l, col), X the left operand when
    the output's order allows, else Y); None when the sum is not such a contraction."""
    red = str(e.attr)
    reads = e.args[2].args
    names: list[tuple[str, ...]] = []
    for r in reads:
        if r.op is not Op.READ or str(r.attr) not in decls or decls[str(r.attr)].ndim != len(r.args):
            return None
        ns = tuple(str(a.attr) for a in r.args if a.op is Op.VAR)
        if len(ns) != len(r.args) or len(set(ns)) != len(ns) or red not in ns:
            return None
        if any(n != red and n not in out_index for n in ns):
            return None
        names.append(ns)
    x, y = names
    batch = [n for n in out_index if n in x and n in y]
    if len(x) > len(batch) + 2 or len(y) > len(batch) + 2:
        return None
    for (ln, left), (rn, right) in (((0, x), (1, y)), ((1, y), (0, x))):
        lf = [n for n in left if n != red and n not in batch]
        rf = [n for n in right if n != red and n not in batch]
        if batch and (len(lf) != 1 or len(rf) != 1):
            return None  # a batched contraction: one row and one column index
        axes = [*batch, *lf, *rf]
        if [n for n in out_index if n in axes] != axes:
            continue  # the output's order does not put this operand on the left
        want = {ln: (*batch, *lf, red), rn: (*batch, red, *rf)}
        return [(reads[k], tuple(names[k].index(n) for n in want[k])) for k in (ln, rn)]  # left first
    return None
