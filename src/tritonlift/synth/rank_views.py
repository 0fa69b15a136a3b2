"""Views of tensors of symbolic rank at operator level: their flat memory seen as (M, N) or (M, N, K).

The host evaluator sees a tensor whose rank it does not fix as its contiguous memory, `x.numel()` elements
whose count is a product of size symbols (symbolic/host_rank.py). A kernel walks that memory with strides
such as `N` and `1` (row `pid`, column `j`): the operator's formula then reads and writes the tensor
through the C-order view those strides open, `x.view(M, N)`, each extent an exact quotient of the element
count by the strides (`M = x.numel() / N` as polynomials over the size symbols). Only a view that is
exactly the tensor's memory (offset 0, C order, extents multiplying to its element count) is proposed, so
that writing every element of the view writes every element of the tensor; anything else keeps the flat
reading. The verifier checks every address, as for any view.
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr
from tritonlift.ir.formula import TensorDecl
from tritonlift.ir.poly import norm
from tritonlift.synth.indexing import Access, Dim, divide_exact, fold_offset


def stride_chain(strides: list[Expr]) -> list[Expr] | None:
    """The strides ordered outermost first, each a multiple of the next and the last 1; None when they do
    not form such a chain (1 is added when missing)."""
    rest = {norm(s) for s in strides} | {ir.ONE}
    chain = [ir.ONE]
    rest.discard(ir.ONE)
    while rest:
        cur = chain[-1]
        above = [s for s in rest if divide_exact(s, cur) is not None]
        nxt = [s for s in above if all(divide_exact(t, s) is not None for t in above)]
        if len(nxt) != 1 or len(above) != len(rest):
            return None
        chain.append(nxt[0])
        rest.discard(nxt[0])
    return list(reversed(chain))


def exact_view(name: str, base: str, numel: Expr, strides: list[Expr]) -> TensorDecl | None:
    """The C-order view of `base`'s `numel` elements with these strides (a chain), or None when an extent
    is not an exact quotient."""
    chain = stride_chain(strides)
    if chain is None:
        return None
    shape: list[Expr] = []
    outer = norm(numel)
    for s in chain:
        e = divide_exact(outer, s)
        if e is None:
            return None
        shape.append(e)
        outer = s
    return TensorDecl(name, tuple(shape), tuple(chain), base)


def merge_multiples(acc: Access) -> Access:
    """Dims whose stride is a constant multiple of another dim's joined into that one: a tile loop
    `(BLOCK * t + l) * K` walks one dim of stride K (index BLOCK * t + l), not two. The address is unchanged."""
    dims = list(acc.dims)
    changed = True
    while changed:
        changed = False
        for a in range(len(dims)):
            for b in range(len(dims)):
                if a == b:
                    continue
                q = divide_exact(dims[a].stride, dims[b].stride)
                if q is not None and q.op is ir.Op.CONST and q.value not in (0, 1):
                    merged = Dim(dims[b].stride, norm(ir.add(dims[b].index, ir.mul(q, dims[a].index))))
                    dims = [d for k, d in enumerate(dims) if k not in (a, b)] + [merged]
                    changed = True
                    break
            if changed:
                break
    return Access(tuple(dims), acc.offset)


def access_strides(acc: Access) -> list[Expr] | None:
    """The strides of an access with no constant part (after folding it into a dim), or None."""
    acc = fold_offset(merge_multiples(acc))
    if norm(acc.offset) != ir.ZERO:
        return None
    return [norm(d.stride) for d in acc.dims]


def view_name(base: str, taken: set[str]) -> str:
    name = f"{base}_v"
    while name in taken:
        name += "_"
    taken.add(name)
    return name
