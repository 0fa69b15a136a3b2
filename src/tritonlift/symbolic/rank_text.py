"""The shown formula of an operator over tensors of symbolic rank, read back at the tensors' own rank.

A verified operator-level formula over a tensor of symbolic rank reads it through a view of its memory,
`y.view(M, N) = layer_norm(x.view(M, N), (N,), ...)`, each extent a product of consecutive dims of the
tensor (symbolic/host_rank.py: M = math.prod(x.shape[:x.ndim - len(L)]), N = math.prod(L)). Where every
tensor of an assignment is such a view covering all of its tensor's dims, and every operator acts along a
group of dims PyTorch can name on the tensor itself (one dim `d`, or the trailing dims of a normalized
shape), the assignment is shown as PyTorch writes it: `y = layer_norm(x, normalized_shape, weight=weight,
bias=bias, eps=eps)`, `out = x.mean(dim=-1)`, `out = softmax(x, dim=dim)`. Each reading is an identity:

- an elementwise operation of views with the same grouping is that operation of the tensors (a reshape
  moves no element);
- a reduction (or a row operator) along a view dim that is exactly dim d of the tensor is the reduction
  along d (the other groups keep their order); a reduction's result then has the tensor's shape without d,
  which the target's own grouping must be;
- layer_norm / rms_norm along the group of a normalized shape L bound to the tensor's trailing dims is
  PyTorch's layer_norm / rms_norm with normalized_shape L, whose weight and bias have shape L: read as
  `weight` only under that contract, which is added to the assumptions (the kernel reads the first
  math.prod(L) elements of weight's memory).

Anything else keeps the verified view form. Only the text (`formula`) is re-read; `formula_raw`, `latex`
and `torch` keep the views (the torch code runs on tensors of any rank through them).
"""

from __future__ import annotations

from typing import Any

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.ir.formula import Formula, TensorDecl
from tritonlift.ir.poly import norm
from tritonlift.symbolic.host_rank import RankChain, RankState, SymSizes, list_len

Group = tuple[RankChain, Expr, Expr]  # dims [lo, hi) of a chain


def _sizes(base: str, f: Formula, ranks: RankState) -> SymSizes | None:
    """The shape of tensor `base` as a sequence of symbolic length, when it has one."""
    if base in ranks.sizes:
        return ranks.sizes[base]
    alloc = next((a for a in f.allocs if a.name == base), None)
    if alloc is not None:
        if alloc.like is not None and alloc.like in ranks.chains and alloc.shape_text is None:
            return ranks.shape(alloc.like)
        return None
    if base in ranks.chains:
        return ranks.shape(base)
    return None


def _atoms(seq: SymSizes) -> list[Group] | None:
    out: list[Group] = []
    for p in seq.parts:
        if p.chain is None:
            return None  # an explicit size (a kept dim of size 1): not read back
        cuts = [norm(c) for c in p.chain.cuts]
        lo, hi = norm(p.lo), norm(p.hi)
        if lo not in cuts or hi not in cuts:
            return None
        a, b = cuts.index(lo), cuts.index(hi)
        out += [(p.chain, p.chain.cuts[k], p.chain.cuts[k + 1]) for k in range(a, b)]
    return out


def view_groups(view: TensorDecl, seq: SymSizes) -> tuple[Group, ...] | None:
    """Each dim of a C-order view as the group of the tensor's dims it is, covering all of them in order."""
    from tritonlift.ir.printer import contiguous_strides

    if view.offset != ir.ZERO or tuple(norm(s) for s in view.strides) != contiguous_strides(view.shape):
        return None
    atoms = _atoms(seq)
    if atoms is None:
        return None
    out: list[Group] = []
    pos = 0
    for extent in view.shape:
        start, prod = pos, ir.ONE
        while pos < len(atoms) and norm(prod) != norm(extent):
            c, lo, _hi = atoms[pos]
            prod = norm(ir.mul(prod, c.segs[[norm(x) for x in c.cuts].index(norm(lo))]))
            pos += 1
        chains = {id(a[0]) for a in atoms[start:pos]}
        if norm(prod) != norm(extent) or pos == start or len(chains) != 1:
            return None
        out.append((atoms[start][0], atoms[start][1], atoms[pos - 1][2]))
    return tuple(out) if pos == len(atoms) else None


def _same(a: tuple[Group, ...], b: tuple[Group, ...]) -> bool:
    return len(a) == len(b) and all(
        x[0] is y[0] and norm(x[1]) == norm(y[1]) and norm(x[2]) == norm(y[2]) for x, y in zip(a, b, strict=True)
    )


def _dim_text(g: Group, params: set[str]) -> str | None:
    """PyTorch's name of the one dim a group is: the host's own `dim` where it is `dim % x.ndim`, -c from the
    end, or the index's text."""
    from tritonlift.ir.printer import to_text

    chain, lo, hi = g
    if norm(ir.sub(hi, lo)) != ir.ONE:
        return None
    for p in params:
        if norm(lo) == norm(ir.arith(Op.MOD, ir.var(p), chain.ndim)):
            return p
    rest = norm(ir.sub(lo, chain.ndim))
    if rest.op is Op.CONST and rest.value < 0:
        return str(rest.value)
    return to_text(lo)


def _normalized(g: Group, ranks: RankState) -> str | None:
    """The list parameter whose trailing dims the group is (bound under PyTorch's contract), if any."""
    chain, lo, hi = g
    for lst, owner in ranks.bound.items():
        if owner == chain.owner and norm(hi) == norm(chain.ndim) and norm(lo) == norm(ir.sub(chain.ndim, list_len(lst))):
            return lst
    return None


class _Reader:
    def __init__(self, f: Formula, ranks: RankState):
        self.f, self.ranks = f, ranks
        self.params = {p.name for p in f.params if p.kind != "tensor"}
        self.tensors = {t.name: t for t in f.tensors}
        self.assumptions: list[str] = []

    def groups(self, name: str) -> tuple[str, tuple[Group, ...]] | None:
        t = self.tensors.get(name)
        if t is None:
            return None
        seq = _sizes(t.base, self.f, self.ranks)
        g = view_groups(t, seq) if seq is not None else None
        return (t.base, g) if g is not None else None

    def read(self, t: Any) -> tuple[str, int, tuple[Group, ...] | None] | None:
        """(text, precedence, groups) of a whole-tensor form at the tensors' own rank (groups None: a scalar)."""
        from tritonlift.ir.printer import P_ATOM, TEXT_OPS, render, with_holes
        from tritonlift.ir.tensor_form import Map, Reduce, Ref, Scalar

        match t:
            case Ref(transposed=False):
                got = self.groups(t.name)
                return None if got is None else (got[0], P_ATOM, got[1])
            case Scalar():
                text, prec = render(t.expr, TEXT_OPS)
                return text, prec, None
            case Map():
                args = [self.read(a) for a in t.args]
                if any(a is None for a in args):
                    return None
                shaped = [a[2] for a in args if a is not None and a[2] is not None]
                if any(not _same(shaped[0], s) for s in shaped[1:]):
                    return None
                text, prec = with_holes(TEXT_OPS)(t, [(a[0], a[1]) for a in args if a is not None])
                return text, prec, shaped[0] if shaped else None
            case Reduce(scan=False):
                return self.reduce(t)
        return None

    def reduce(self, t: Any) -> tuple[str, int, tuple[Group, ...] | None] | None:
        from tritonlift.ir.printer import P_ATOM, TENSOR_METHODS, to_text

        child = self.read(t.child)
        if child is None or child[2] is None:
            return None
        text, _prec, groups = child
        g = groups[t.dim]
        if text and not text.isidentifier():
            text = f"({text})"
        if t.op in (Op.LAYER_NORM, Op.RMS_NORM):
            lst = _normalized(g, self.ranks)
            if lst is None or t.dim != len(groups) - 1:
                return None
            args = [text, lst]
            for key, v in (("weight", t.weight), ("bias", t.bias)):
                if v is None:
                    continue
                w = self.affine(v, g, lst)
                if w is None:
                    return None
                args.append(f"{key}={w}")
            args.append(f"eps={to_text(t.extra[0])}")
            return f"{t.op.value}({', '.join(args)})", P_ATOM, groups
        d = _dim_text(g, self.params)
        if d is None:
            return None
        if t.op in (Op.SOFTMAX, Op.LOG_SOFTMAX):
            return f"{t.op.value}({text}, dim={d})", P_ATOM, groups
        rest = groups[: t.dim] + groups[t.dim + 1:]
        if t.op in TENSOR_METHODS and t.op not in (Op.ARGMAX, Op.ARGMIN):
            return f"{text}.{TENSOR_METHODS[t.op]}(dim={d})", P_ATOM, rest
        if t.op in (Op.VARIANCE, Op.STD):
            return f"{text}.{'var' if t.op is Op.VARIANCE else 'std'}(dim={d}, correction=0)", P_ATOM, rest
        return None

    def affine(self, v: Any, g: Group, lst: str) -> str | None:
        """A norm's weight (bias): a 1-D view along the normalized group, read as the tensor of shape L."""
        from tritonlift.ir.tensor_form import Ref

        if not isinstance(v, Ref) or v.transposed:
            return None
        t = self.tensors.get(v.name)
        if t is None or t.ndim != 1 or t.strides != (ir.ONE,) or t.offset != ir.ZERO:
            return None
        if norm(t.shape[0]) != _product(g):
            return None
        text = (f"{t.base}.shape == tuple({lst}) (PyTorch's contract, read into the shown formula; the kernel reads "
                f"the first math.prod({lst}) elements of {t.base})")
        if text not in self.assumptions:
            self.assumptions.append(text)
        return t.base


def _product(g: Group) -> Expr:
    """The product of the dims of a group (the segments between its cuts)."""
    chain, lo, hi = g
    cuts = [norm(c) for c in chain.cuts]
    out: Expr = ir.ONE
    for s in chain.segs[cuts.index(norm(lo)):cuts.index(norm(hi))]:
        out = ir.mul(out, s)
    return norm(out)


def rank_lines(f: Formula, ranks: RankState) -> tuple[list[str], list[str]] | None:
    """The formula's lines with each assignment that reads back at its tensors' own rank so read, and the
    assumptions that reading adds; None when no assignment does."""
    from tritonlift.ir.printer import tensor_line, view_text
    from tritonlift.ir.tensor_form import tensor_form

    if not ranks.chains or not f.returns:
        return None
    reader = _Reader(f, ranks)
    inline = {t.name: text for t in f.tensors if t.base != t.name and (text := view_text(t)) is not None}
    lines: list[str] = []
    lifted = False
    for a in f.assigns:
        form = tensor_form(a, f)
        if form is None:
            return None
        target = reader.groups(a.target)
        got = reader.read(form) if target is not None else None
        if target is not None and got is not None and got[2] is not None and _same(got[2], target[1]):
            lines.append(f"{target[0]} = {got[0]}")
            lifted = True
            continue
        line = tensor_line(a, f, inline)
        if line is None:
            return None
        lines.append(line)
    declared = [t for t in f.tensors if t.base != t.name and t.name not in inline]
    if not lifted or declared:
        return None
    return lines, reader.assumptions


# ---------------------------------------------------------------------------------------------------------
# --expect: a formula written at the tensors' own rank, read back through the problem's views


def lower_expected(text: str, f: Formula, ranks: RankState) -> str:
    """`out = x.mean(dim=-1)` as the view form the problem's formula uses (`out.view(P) =
    x.view(P, N).mean(dim=1)`): each tensor of symbolic rank replaced by its view, each `dim=` by the view
    dim whose group is that dim, a normalized shape by its extent. Statements it cannot read this way, and
    texts without such tensors, are returned unchanged (the parser then says what it cannot read)."""
    import ast

    from tritonlift.ir.printer import to_text, view_text

    if not ranks.chains:
        return text
    try:
        tree = ast.parse(text.strip())
    except SyntaxError:
        return text
    reader = _Reader(f, ranks)
    views: dict[str, TensorDecl] = {}
    for t in f.tensors:
        if t.base != t.name and t.base not in views and view_text(t) is not None and reader.groups(t.name):
            views[t.base] = t
    for a in f.assigns:  # an output's own view first
        t = reader.tensors.get(a.target)
        if t is not None and t.base != t.name and view_text(t) is not None and reader.groups(t.name):
            views[t.base] = t

    def groups_of(name: str) -> tuple[Group, ...]:
        got = reader.groups(views[name].name)
        assert got is not None
        return got[1]

    class Lower(ast.NodeTransformer):
        def __init__(self) -> None:
            self.groups: dict[int, tuple[Group, ...] | None] = {}

        def g(self, node: ast.AST) -> tuple[Group, ...] | None:
            return self.groups.get(id(node))

        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in views:
                new = ast.parse(view_text(views[node.id]) or node.id, mode="eval").body
                self.groups[id(new)] = groups_of(node.id)
                return new
            return node

        def _dim(self, child: ast.AST, kw: ast.keyword) -> int | None:
            gs = self.g(child)
            if gs is None:
                return None
            want = ast.unparse(kw.value)
            hits = [k for k, grp in enumerate(gs) if _dim_text(grp, reader.params) == want]
            return hits[0] if len(hits) == 1 else None

        def visit_Call(self, node: ast.Call) -> ast.AST:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _METHODS:  # x.mean(dim=d)
                child = self.visit(func.value)
                kws = [k for k in node.keywords if k.arg == "dim"]
                k = self._dim(child, kws[0]) if kws else None
                func.value = child  # type: ignore[assignment]
                if k is not None:
                    kws[0].value = ast.Constant(k)
                    gs = self.g(child)
                    assert gs is not None
                    self.groups[id(node)] = gs[:k] + gs[k + 1:]
                return node
            name = func.id if isinstance(func, ast.Name) else None
            if name in ("softmax", "log_softmax") and node.args:
                node.args[0] = self.visit(node.args[0])
                kws = [k for k in node.keywords if k.arg == "dim"]
                k = self._dim(node.args[0], kws[0]) if kws else None
                if k is not None:
                    kws[0].value = ast.Constant(k)
                    self.groups[id(node)] = self.g(node.args[0])
                return node
            if name in ("layer_norm", "rms_norm") and len(node.args) == 2:
                node.args[0] = self.visit(node.args[0])
                gs = self.g(node.args[0])
                if gs is not None and isinstance(node.args[1], ast.Name) and _normalized(gs[-1], ranks) == node.args[1].id:
                    node.args[1] = ast.parse(f"({to_text(_product(gs[-1]))},)", mode="eval").body
                    for kw in node.keywords:
                        if kw.arg in ("weight", "bias") and isinstance(kw.value, ast.Name) and kw.value.id in views:
                            kw.value = ast.parse(view_text(views[kw.value.id]) or kw.value.id, mode="eval").body
                    self.groups[id(node)] = gs
                return node
            self.generic_visit(node)
            self._join(node, [*node.args, *(k.value for k in node.keywords)])
            return node

        def _join(self, node: ast.AST, parts: list[ast.AST]) -> None:
            gs = [self.g(p) for p in parts if self.g(p) is not None]
            if gs:
                self.groups[id(node)] = gs[0]

        def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
            self.generic_visit(node)
            self._join(node, [node.left, node.right])
            return node

        def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
            self.generic_visit(node)
            self._join(node, [node.operand])
            return node

    out: list[str] = []
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id in views):
            target = stmt.targets[0].id
            value = Lower().visit(stmt.value)
            out.append(f"{view_text(views[target])} = {ast.unparse(value)}")
        else:
            out.append(ast.unparse(Lower().visit(stmt)))
    return "; ".join(out)


_METHODS = frozenset({"sum", "prod", "amax", "amin", "mean", "var", "std", "logsumexp"})
