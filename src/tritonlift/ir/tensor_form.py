"""Whole-tensor form of an assignment: `out[i, j] = f(x[i, j], b[j])` read as `out = f(x, b)`.

`tensor_form(assign, formula)` recognises an index formula that is a whole-tensor expression and returns it
as a small tree (TForm); each printer (text, LaTeX, PyTorch) renders that tree in its own notation through
`render`. The recognition is exact or nothing: every read must index a whole tensor by distinct index
variables whose extents are the tensor's own shape (same bounds = the full axis), every reduction must run
over a full axis from 0, and the result must have the target's index in order; anything else returns None
and the printers keep the indexed form.

What it recognises (axes are index variables in the order: target index, then bound indices by nesting):
- reads `x[i, j]` -> `x`; a 2-d read with its indices swapped `x[j, i]` -> `x.T`; a lower-rank operand is
  broadcast (`b[j]` -> `b`, `s[i]` in an (i, j) context -> `s[:, None]`);
- index-free sub-terms (scalar arguments, sizes, constants) stay as they are;
- elementwise ops and named elementwise operators over those;
- sum / prod / max / min over a full axis -> `.sum(dim=d)`, `.prod`, `.amax`, `.amin`;
- sum / prod over a prefix `k in range(i + 1)` of an axis indexed by i -> `.cumsum(dim=d)`, `.cumprod(dim=d)`;
- row operators over a full axis: mean, variance, logsumexp, softmax, log_softmax (any dim), layer_norm and
  rms_norm (the last dim, as PyTorch's normalized_shape);
- `sum(A[i, k] * B[k, j] for k)` -> `A @ B` (and `A @ x`, `x @ A`, `x @ y`) for 1-d and 2-d operands;
  batched, `sum(A[b, i, k] * B[b, k, j] for k)` -> `A @ B` for 3-d operands (torch.matmul's batch axis).

`is_textbook(formula)` is true when every assignment has a whole-tensor form: no explicit index binder is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from tritonlift.ir.expr import (
    ARG_OPS,
    BIT_OPS,
    COMPARE_OPS,
    LOGIC_OPS,
    MATH_OPS,
    NAMED_ELEMENTWISE_OPS,
    ONE,
    PREDICATE_OPS,
    REDUCE_OPS,
    ROW_MAP_OPS,
    ROW_REDUCE_OPS,
    ZERO,
    Expr,
    Kind,
    Op,
    add,
    conjuncts,
    free_vars,
    var,
    walk,
)
from tritonlift.ir.formula import Assign, Formula

ELEMENTWISE_OPS = (
    frozenset({Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.NEG, Op.MINIMUM, Op.MAXIMUM, Op.WHERE})
    | COMPARE_OPS
    | LOGIC_OPS
    | MATH_OPS
    | PREDICATE_OPS
    | BIT_OPS
    | NAMED_ELEMENTWISE_OPS
)
NOT_SCALAR = frozenset({Op.READ, Op.MEM, Op.UNDEF})


# ---------------------------------------------------------------------------------------------
# the tree


@dataclass(frozen=True)
class Ref:
    """A whole tensor, or its transpose (2-d)."""

    name: str
    axes: tuple[str, ...]
    transposed: bool = False


@dataclass(frozen=True)
class Scalar:
    """An index-free sub-term (a scalar argument, a size, a constant)."""

    expr: Expr
    axes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Align:
    """`child[:, None]`: new unit dimensions where `pad` is True, so that broadcasting lines axes up."""

    child: TForm
    pad: tuple[bool, ...]
    axes: tuple[str, ...]


@dataclass(frozen=True)
class Map:
    """An elementwise op: `node` is the IR node, its operands replaced by `args` (same order)."""

    node: Expr
    args: tuple[TForm, ...]
    axes: tuple[str, ...]


@dataclass(frozen=True)
class Reduce:
    """A reduction (SUM, PROD, RMAX, RMIN) or a row operator (MEAN, SOFTMAX, ...) along dimension `dim`.

    `size` is the length of that dimension and `extra` the row operator's scalar arguments (eps). A
    layer_norm or rms_norm over the last dimension may carry PyTorch's elementwise affine: `weight` (a
    vector along that dimension, multiplying) and, for layer_norm, `bias` (added after). With
    `scan` (SUM, PROD only), the prefix sums (products) along `dim` (`x.cumsum(dim=d)`): the dimension stays."""

    op: Op
    child: TForm
    dim: int
    size: Expr
    axes: tuple[str, ...]
    extra: tuple[Expr, ...] = ()
    weight: TForm | None = None
    bias: TForm | None = None
    scan: bool = False


@dataclass(frozen=True)
class MatMul:
    a: TForm
    b: TForm
    axes: tuple[str, ...]


TForm = Ref | Scalar | Align | Map | Reduce | MatMul


# ---------------------------------------------------------------------------------------------
# recognition


def canonical_extent(e: Expr) -> Expr:
    """Extents compared up to the order of minimum/maximum operands: minimum(a, b) == minimum(b, a)."""
    if e.op in (Op.MINIMUM, Op.MAXIMUM):
        items: list[Expr] = []

        def flat(n: Expr) -> None:
            if n.op is e.op:
                flat(n.args[0])
                flat(n.args[1])
            else:
                items.append(canonical_extent(n))

        flat(e)
        items = sorted(set(items), key=_key)
        out = items[0]
        for it in items[1:]:
            out = Expr(e.op, (out, it), None, e.kind)
        return out
    return e


def _key(e: Expr) -> str:
    """A deterministic sort key of a term (its structure as text)."""
    return f"{e.op.value}:{e.attr!r}({','.join(_key(a) for a in e.args)})"


def assumed_equal(f: Formula) -> dict[Expr, Expr]:
    """Sizes the formula's assumptions equate (`x.shape[0] == A.shape[1]`): each size -> a representative."""
    from tritonlift.ir.parse import parse_expr

    rep: dict[Expr, Expr] = {}

    def find(e: Expr) -> Expr:
        while e in rep and rep[e] != e:
            e = rep[e]
        return e

    def union(x: Expr, y: Expr) -> None:
        a, b = find(canonical_extent(x)), find(canonical_extent(y))
        if a != b:
            rep[a] = b

    for text in f.assumptions:
        try:
            e = parse_expr(text)
        except ValueError:
            continue
        for c in conjuncts(e):
            if c.op is not Op.EQ or c.kind is not Kind.BOOL:
                continue
            shapes = [_shape_owner(x) for x in c.args]
            if shapes[0] is not None and shapes[1] is not None:  # x.shape == y.shape: every size agrees
                x, y = shapes
                union(var(f"{x}.numel()"), var(f"{y}.numel()"))
                for k in range(MAX_RANK):
                    union(var(f"{x}.shape[{k}]"), var(f"{y}.shape[{k}]"))
            else:
                union(*c.args)
    return {e: find(e) for e in rep}


MAX_RANK = 8  # `x.shape == y.shape` equates x.shape[k] and y.shape[k] for k below this


def same_shape_classes(f: Formula) -> dict[str, str]:
    """Tensors of one shape, each name -> a representative: the assumptions' `x.shape == y.shape`, and an
    allocation `torch.empty_like(x)` has x's shape."""
    from tritonlift.ir.parse import parse_expr

    rep: dict[str, str] = {}

    def find(n: str) -> str:
        while rep.get(n, n) != n:
            n = rep[n]
        return n

    def union(a: str, b: str) -> None:
        a, b = find(a), find(b)
        if a != b:
            rep[a] = b

    for text in f.assumptions:
        try:
            e = parse_expr(text)
        except ValueError:
            continue
        for c in conjuncts(e):
            owners = [_shape_owner(x) for x in c.args] if c.op is Op.EQ else []
            if len(owners) == 2 and owners[0] is not None and owners[1] is not None:
                union(owners[0], owners[1])
    for a in f.allocs:
        if a.like is not None:
            union(a.name, a.like)
    return {n: find(n) for n in {*rep, *rep.values()}}


def forms(t: TForm) -> list[TForm]:
    """Every node of a whole-tensor form."""
    match t:
        case Align():
            return [t, *forms(t.child)]
        case Map():
            return [t, *(x for a in t.args for x in forms(a))]
        case Reduce():
            return [t, *(x for c in (t.child, t.weight, t.bias) if c is not None for x in forms(c))]
        case MatMul():
            return [t, *forms(t.a), *forms(t.b)]
    return [t]


def _shape_owner(e: Expr) -> str | None:
    """The `x` of the text `x.shape` (a variable of that name, as parse_expr reads it)."""
    if e.op is Op.VAR and isinstance(e.attr, str) and e.attr.endswith(".shape") and e.attr[:-6].isidentifier():
        return e.attr[:-6]
    return None


def same_extent(a: Expr, b: Expr, equal: dict[Expr, Expr] | None = None) -> bool:
    if a == b:
        return True
    a, b = canonical_extent(a), canonical_extent(b)
    equal = equal or {}
    return equal.get(a, a) == equal.get(b, b)


@dataclass
class _Scope:
    formula: Formula
    order: tuple[str, ...]  # index variables in scope, outermost first
    extents: dict[str, Expr]
    equal: dict[Expr, Expr]  # sizes equal under the formula's assumptions

    def same(self, a: Expr, b: Expr) -> bool:
        return same_extent(a, b, self.equal)

    def inner(self, k: str, extent: Expr) -> _Scope | None:
        if k in self.extents:
            return None  # shadowing: keep it indexed
        return _Scope(self.formula, (*self.order, k), {**self.extents, k: extent}, self.equal)

    def inner_at(self, k: str, extent: Expr, at: str) -> _Scope | None:
        """The scope of a row operator's body: its axis k takes the place of the element index `at` in the
        order (`softmax(x[i, l, k] for l)[j]` is x's dim 1 when j is the target's dim 1); `at` itself stays
        out of the order, so a body that reads it has no whole-tensor form."""
        if k in self.extents:
            return None
        order = tuple(k if a == at else a for a in self.order)
        return _Scope(self.formula, order, {**self.extents, k: extent}, self.equal)

    def ordered(self, axes: tuple[str, ...]) -> bool:
        if any(a not in self.order for a in axes):
            return False
        pos = [self.order.index(a) for a in axes]
        return pos == sorted(pos)


def tensor_form(a: Assign, f: Formula) -> TForm | None:
    """The whole-tensor form of `a`, or None when the indexed form must stay."""
    try:
        target = f.tensor(a.target)
    except KeyError:
        return None
    if len(a.index) != target.ndim or len(set(a.index)) != len(a.index) or a.body.kind is not Kind.REAL:
        return None
    scope = _Scope(f, tuple(a.index), dict(zip(a.index, target.shape, strict=True)), assumed_equal(f))
    out = _form(a.body, scope)
    if out is None or (out.axes != tuple(a.index) and not isinstance(out, Scalar)):
        return None  # (an index-free value fills the whole target: `out = 0.0`, broadcast)
    return out


def is_textbook(formula: Formula) -> bool:
    """True when the formula reads as whole-tensor expressions of named operators and elementwise math:
    every assignment has a whole-tensor form (`tensor_form`), so no explicit index binder is shown. Tensor
    views (`as_strided` declarations of a kernel's pointer arguments) are declarations, not binders."""
    return bool(formula.assigns) and all(tensor_form(a, formula) is not None for a in formula.assigns)


def is_textbook_text(formula: str) -> bool:
    """`is_textbook` on a shown formula's text (`LiftResult.formula`, one line): every statement that is not
    a view declaration (`v = as_strided(...)`, `v = base.view(...)`) assigns a whole tensor (`out = ...`,
    or a view of a kernel's output shown inline, `out.view(M) = ...`), none an element."""
    import ast
    import re

    from tritonlift.ir.parse import view_targets

    # an operator's formula over host paths, `[keepdim] out = ...; [not keepdim] out = ...`: each path's
    # statements must be textbook
    parts = [p for p in re.split(r"(?:^|;\s*)\[[^\[\]]*\]\s+", formula.strip()) if p.strip()]
    if len(parts) > 1 or formula.strip().startswith("["):
        return bool(parts) and all(is_textbook_text(p.strip().rstrip(";")) for p in parts)
    try:
        tree = ast.parse(view_targets(formula.strip()))
    except SyntaxError:
        return False
    assigns = 0
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return False
        target = stmt.targets[0]
        if isinstance(target, ast.Subscript):
            whole_view = (
                isinstance(target.value, ast.Call)
                and isinstance(target.slice, ast.Constant)
                and target.slice.value is Ellipsis
            )
            if not whole_view:
                return False  # an indexed assignment: an explicit binder is shown
            assigns += 1
            continue
        value = stmt.value
        view = isinstance(value, ast.Call) and (
            (isinstance(value.func, ast.Name) and value.func.id == "as_strided")
            or (isinstance(value.func, ast.Attribute) and value.func.attr == "view")
        )
        assigns += not view
    return assigns > 0


def _form(e: Expr, s: _Scope) -> TForm | None:
    if not (free_vars(e) & s.extents.keys()) and not any(n.op in NOT_SCALAR for n in walk(e)):
        return Scalar(e)
    if e.op is Op.READ:
        return _read(e, s)
    if e.op in ELEMENTWISE_OPS or (e.op is Op.CAST and e.kind is Kind.REAL):
        return _map(e, s)
    if e.op in REDUCE_OPS and e.kind is Kind.REAL:
        return _matmul(e, s) or _reduce(e, s) or _scan(e, s)
    if e.op in ROW_REDUCE_OPS or e.op in ROW_MAP_OPS or e.op in ARG_OPS:
        return _reduce(e, s)
    return None


def _read(e: Expr, s: _Scope, any_order: bool = False) -> TForm | None:
    """A whole tensor read at its own indices; with `any_order`, in whatever order they come (the
    caller checks the order of what is left after a reduction over one of them)."""
    try:
        decl = s.formula.tensor(str(e.attr))
    except KeyError:
        return None
    names = tuple(str(a.attr) for a in e.args if a.op is Op.VAR and a.attr in s.extents)
    if len(names) != len(e.args) or len(set(names)) != len(names) or len(names) != decl.ndim:
        return None
    if not all(s.same(d, s.extents[n]) for d, n in zip(decl.shape, names, strict=True)):
        return None
    if s.ordered(names) or any_order:
        return Ref(decl.name, names)
    if len(names) == 2 and s.ordered(names[::-1]):
        return Ref(decl.name, names[::-1], transposed=True)
    return None


def _align(child: TForm, union: tuple[str, ...]) -> TForm:
    """`child` padded with unit dimensions so that it broadcasts against a tensor with axes `union`."""
    axes = child.axes
    if not axes or union[len(union) - len(axes) :] == axes:
        return child  # right-aligned already (or a scalar)
    first = union.index(axes[0])
    pad = tuple(u not in axes for u in union[first:])
    return Align(child, pad, union[first:])


def _union(s: _Scope, forms: list[TForm]) -> tuple[str, ...]:
    names = {a for t in forms for a in t.axes}
    return tuple(a for a in s.order if a in names)


def _map(e: Expr, s: _Scope) -> TForm | None:
    args = [_form(a, s) for a in e.args]
    if any(a is None for a in args):
        return None
    forms = [a for a in args if a is not None]
    affine = _affine_norm(e.op, forms)
    if affine is not None:
        return affine
    union = _union(s, forms)
    return Map(e, tuple(_align(a, union) for a in forms), union)


def _affine_norm(op: Op, forms: list[TForm]) -> Reduce | None:
    """`layer_norm(x) * w + b` as one layer_norm with weight and bias (PyTorch's elementwise affine): w and
    b are whole vectors along the normalised (last) dimension. rms_norm takes a weight only."""
    if op not in (Op.MUL, Op.ADD) or len(forms) != 2:
        return None
    for r, v in (forms, forms[::-1]):
        if not isinstance(r, Reduce) or r.op not in (Op.LAYER_NORM, Op.RMS_NORM) or r.bias is not None:
            continue
        if not (isinstance(v, Ref) and not v.transposed and v.axes == r.axes[-1:]):
            continue
        if op is Op.MUL and r.weight is None:
            return replace(r, weight=v)
        if op is Op.ADD and r.op is Op.LAYER_NORM:
            return replace(r, bias=v)
    return None


def _full_axis(e: Expr, s: _Scope) -> _Scope | None:
    lo, hi = e.args[0], e.args[1]
    if lo != ZERO:
        return None
    at = e.args[3] if e.op in ROW_MAP_OPS and len(e.args) > 3 else None
    if at is not None and at.op is Op.VAR and at.attr in s.order:
        return s.inner_at(str(e.attr), hi, str(at.attr))
    return s.inner(str(e.attr), hi)


def _reduce(e: Expr, s: _Scope) -> TForm | None:
    inner = _full_axis(e, s)
    if inner is None:
        return None
    k, hi = str(e.attr), e.args[1]
    if e.args[2].op is Op.READ:  # x[i, k, j] over k: dim 1 of x itself, whatever the order of its indices
        body = _read(e.args[2], inner, any_order=True)
    else:
        body = _form(e.args[2], inner)
    if body is None or k not in body.axes:
        return None
    extra = e.args[3:]
    if e.op not in ROW_MAP_OPS:
        rest = tuple(a for a in body.axes if a != k)
        return Reduce(e.op, body, body.axes.index(k), hi, rest) if s.ordered(rest) else None
    at, rest = extra[0], extra[1:]
    if at.op is not Op.VAR or at.attr not in s.extents or at.attr in body.axes:
        return None
    if not s.same(s.extents[str(at.attr)], hi) or any(free_vars(x) & inner.extents.keys() for x in rest):
        return None
    # x[k, j] over k at i: the row runs along dim 0 of x itself; x[k, i] over k at j: along dim 1 of x.T
    candidates = [body]
    if isinstance(body, Ref) and len(body.axes) == 2:
        candidates.append(Ref(body.name, body.axes[::-1], not body.transposed))
    for b in candidates:
        axes = tuple(str(at.attr) if a == k else a for a in b.axes)
        dim = b.axes.index(k)
        if not s.ordered(axes):
            continue
        if e.op in (Op.LAYER_NORM, Op.RMS_NORM) and dim != len(axes) - 1:
            return None  # PyTorch normalises the trailing dimensions only
        return Reduce(e.op, b, dim, hi, axes, tuple(rest))
    return None


def _scan(e: Expr, s: _Scope) -> TForm | None:
    """sum(x[.., k, ..] for k in range(i + 1)) with i an index in scope over the same axis: x.cumsum(dim)."""
    from tritonlift.ir.poly import norm

    if e.op not in (Op.SUM, Op.PROD) or e.args[0] != ZERO:
        return None
    hi = norm(e.args[1])
    at = next((i for i in s.extents if norm(add(var(i), ONE)) == hi), None)
    if at is None:
        return None
    k = str(e.attr)
    inner = s.inner(k, s.extents[at])
    if inner is None:
        return None
    body = _read(e.args[2], inner, any_order=True) if e.args[2].op is Op.READ else _form(e.args[2], inner)
    if body is None or k not in body.axes or at in body.axes:
        return None
    axes = tuple(at if a == k else a for a in body.axes)
    if not s.ordered(axes):
        return None
    return Reduce(e.op, body, body.axes.index(k), s.extents[at], axes, scan=True)


def _matmul(e: Expr, s: _Scope) -> TForm | None:
    """sum(a * b for k) with a = A[.., k] and b = B[k, ..]: A @ B (1-d or 2-d operands)."""
    if e.op is not Op.SUM or e.args[2].op is not Op.MUL:
        return None
    inner = _full_axis(e, s)
    if inner is None:
        return None
    k = str(e.attr)
    batched = _batched(e.args[2].args, k, inner)
    if batched is not None:
        return batched
    a, b = (_form(x, inner) for x in e.args[2].args)
    if not isinstance(a, Ref) or not isinstance(b, Ref):
        return _batched_matmul(e, s, inner, k)

    def spellings(r: Ref) -> list[Ref]:  # x and x.T are both candidates for a 2-d operand
        return [r] + ([Ref(r.name, r.axes[::-1], not r.transposed)] if len(r.axes) == 2 else [])

    pairs = [(x, y) for p, q in ((a, b), (b, a)) for x in spellings(p) for y in spellings(q)]
    for left, right in pairs:
        if left.axes[-1:] == (k,) and right.axes[:1] == (k,) and len(left.axes) <= 2 and len(right.axes) <= 2:
            axes = left.axes[:-1] + right.axes[1:]
            if s.ordered(axes) and len(set(axes)) == len(axes):
                return MatMul(left, right, axes)
    return _batched_matmul(e, s, inner, k)


def _batched_matmul(e: Expr, s: _Scope, inner: _Scope, k: str) -> TForm | None:
    """sum(A[b, i, k] * B[b, k, j] for k): A @ B with one batch dimension (torch.bmm's layout)."""
    reads = e.args[2].args
    if not all(x.op is Op.READ and len(x.args) == 3 for x in reads):
        return None
    a, b = (_read(x, inner, any_order=True) for x in reads)
    if not isinstance(a, Ref) or not isinstance(b, Ref):
        return None
    for left, right in ((a, b), (b, a)):
        if left.axes[2] == k and right.axes[1] == k and left.axes[0] == right.axes[0]:
            axes = (left.axes[0], left.axes[1], right.axes[2])
            if s.ordered(axes) and len(set(axes)) == 3:
                return MatMul(left, right, axes)
    return None


def _batched(factors: tuple[Expr, ...], k: str, s: _Scope) -> TForm | None:
    """A[b, i, k] * B[b, k, j] summed over k: A @ B for 3-d operands (torch.matmul's shared batch axis)."""
    refs = []
    for x in factors:
        if x.op is not Op.READ or len(x.args) != 3:
            return None
        names = tuple(str(a.attr) for a in x.args if a.op is Op.VAR and a.attr in s.extents)
        try:
            decl = s.formula.tensor(str(x.attr))
        except KeyError:
            return None
        if len(names) != 3 or len(set(names)) != 3 or decl.ndim != 3:
            return None
        if not all(s.same(d, s.extents[n]) for d, n in zip(decl.shape, names, strict=True)):
            return None
        refs.append(Ref(decl.name, names))
    for left, right in ((refs[0], refs[1]), (refs[1], refs[0])):
        if left.axes[0] == right.axes[0] and left.axes[2] == k == right.axes[1]:
            axes = (left.axes[0], left.axes[1], right.axes[2])
            if s.ordered(axes) and len(set(axes)) == 3:
                return MatMul(left, right, axes)
    return None


# ---------------------------------------------------------------------------------------------
# rendering: one notation per printer


@dataclass(frozen=True)
class Notation:
    """How one printer writes each kind of node; `node` renders a Map given its operands' text.

    Every function returns (text, precedence) in the printer's own precedence scale."""

    ref: Callable[[Ref], tuple[str, int]]
    scalar: Callable[[Expr], tuple[str, int]]
    align: Callable[[tuple[str, int], tuple[bool, ...]], tuple[str, int]]
    node: Callable[[Map, list[tuple[str, int]]], tuple[str, int]]
    # (the node, its operand's text, the text of its weight and bias or None)
    reduce: Callable[[Reduce, tuple[str, int], tuple[str, int] | None, tuple[str, int] | None], tuple[str, int]]
    matmul: Callable[[tuple[str, int], tuple[str, int]], tuple[str, int]]


def render(t: TForm, n: Notation) -> tuple[str, int]:
    match t:
        case Ref():
            return n.ref(t)
        case Scalar():
            return n.scalar(t.expr)
        case Align():
            return n.align(render(t.child, n), t.pad)
        case Map():
            return n.node(t, [render(a, n) for a in t.args])
        case Reduce():
            weight = None if t.weight is None else render(t.weight, n)
            bias = None if t.bias is None else render(t.bias, n)
            return n.reduce(t, render(t.child, n), weight, bias)
        case MatMul():
            return n.matmul(render(t.a, n), render(t.b, n))
    raise TypeError(t)


def placeholders(node: Expr) -> tuple[Expr, dict[Expr, int]]:
    """`node` with each operand replaced by a fresh variable (same kind); the variable -> operand position.

    A printer's own handler for the op then renders the node with the operands' text in their place."""
    holes = tuple(var(f"\0{n}", a.kind) for n, a in enumerate(node.args))
    return Expr(node.op, holes, node.attr, node.kind), {h: n for n, h in enumerate(holes)}


__all__ = ["TForm", "is_textbook", "is_textbook_text", "render", "tensor_form"]


# ---------------------------------------------------------------------------------------------
# reading the text form back: `out = x.sum(dim=1)` -> `out[i] = sum(x[i, k] for k in range(n))`

TEXT_REDUCE_METHODS = {"sum": "sum", "prod": "prod", "amax": "max", "amin": "min", "mean": "mean"}
TEXT_REDUCE_METHODS |= {"logsumexp": "logsumexp", "var": "variance", "std": "std", "argmax": "argmax", "argmin": "argmin"}
TEXT_ROW_CALLS = frozenset({"softmax", "log_softmax", "layer_norm", "rms_norm", "normalize"})
TEXT_DIM_ROW_CALLS = frozenset({"softmax", "log_softmax", "normalize"})  # along dim=; the norms: the last dim
TEXT_EPS_ROW_CALLS = frozenset({"layer_norm", "rms_norm", "normalize"})
TEXT_SCAN_METHODS = {"cumsum": "sum", "cumprod": "prod"}


class Lowering:
    """The indexed AST of a whole-tensor text expression (the text printer's `tensor_line`), over the
    declared tensors `decls` (name -> TensorDecl); broadcasting aligns dimensions on the right."""

    def __init__(self, decls: dict, avoid: set[str]):
        import ast

        self.ast = ast
        self.decls = decls
        self.avoid = set(avoid)
        self.count = 0

    def fresh(self, base: str) -> str:
        while True:
            self.count += 1
            name = f"{base}{self.count}"
            if name not in self.avoid:
                self.avoid.add(name)
                return name

    def fail(self, node: object, why: str) -> ValueError:
        return ValueError(f"whole-tensor form: {why}: {self.ast.unparse(node)}")  # type: ignore[arg-type]

    def _dim_of(self, node: object) -> int | None:
        """`x.sum(dim=d)`'s d (also for softmax(x, dim=d))."""
        ast = self.ast
        for kw in getattr(node, "keywords", []):
            if kw.arg == "dim" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, int):
                return kw.value.value
        return None

    def _keyword_is(self, node: object, name: str, value: object) -> bool:
        ast = self.ast
        return any(
            kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value == value
            for kw in getattr(node, "keywords", [])
        )

    def ndim(self, node: object) -> int:
        ast = self.ast
        match node:
            case ast.Name(id=name):
                return self.decls[name].ndim if name in self.decls else 0
            case ast.Constant():
                return 0
            case ast.Attribute(value=inner, attr="T"):
                if self.ndim(inner) != 2:
                    raise self.fail(node, ".T needs a 2-d tensor")
                return 2
            case ast.Subscript(value=inner, slice=ast.Tuple(elts=items)) if self._is_align(items):
                return len(items)
            case ast.BinOp(left=a, op=ast.MatMult(), right=b):
                if self.ndim(a) == self.ndim(b) == 3:
                    return 3  # batched: (B, M, K) @ (B, K, N)
                return self.ndim(a) + self.ndim(b) - 2
            case ast.BinOp(left=a, right=b) | ast.Compare(left=a, comparators=[b]):
                return max(self.ndim(a), self.ndim(b))
            case ast.UnaryOp(operand=a):
                return self.ndim(a)
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_REDUCE_METHODS:
                return self.ndim(inner) - 1
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_SCAN_METHODS:
                return self.ndim(inner)
            case ast.Call(func=ast.Name(id=fn), args=[inner, *_]) if fn in TEXT_ROW_CALLS:
                return self.ndim(inner)  # layer_norm(x, (n,), eps=e): the shape tuple is no operand
            case ast.Call(args=args):
                return max((self.ndim(a) for a in args), default=0)
        raise self.fail(node, "not a whole-tensor expression")

    def _is_align(self, items: list) -> bool:
        ast = self.ast
        return all(
            (isinstance(it, ast.Slice) and it.lower is None and it.upper is None and it.step is None)
            or (isinstance(it, ast.Constant) and it.value is None)
            for it in items
        )

    def size(self, node: object, d: int) -> object:
        """The AST of the extent of dimension d of node."""
        ast = self.ast
        from tritonlift.ir.printer import to_text

        match node:
            case ast.Name(id=name) if name in self.decls:
                return ast.parse(to_text(self.decls[name].shape[d]), mode="eval").body
            case ast.Attribute(value=inner, attr="T"):
                return self.size(inner, 1 - d)
            case ast.Subscript(value=inner, slice=ast.Tuple(elts=items)):
                kept = [n for n, it in enumerate(items) if isinstance(it, ast.Slice)]
                if d in kept:
                    return self.size(inner, kept.index(d))
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_REDUCE_METHODS:
                r = self._dim_of(node)
                return self.size(inner, d if r is None or d < r else d + 1)
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_SCAN_METHODS:
                return self.size(inner, d)
            case ast.BinOp(left=a, op=ast.MatMult(), right=b):
                if self.ndim(a) == self.ndim(b) == 3:
                    return self.size(a, d) if d < 2 else self.size(b, 2)
                return self.size(a, 0) if d == 0 and self.ndim(a) == 2 else self.size(b, self.ndim(b) - 1)
            case ast.BinOp() | ast.Compare() | ast.UnaryOp() | ast.Call():
                n = self.ndim(node)
                for child in ast.iter_child_nodes(node):
                    if (isinstance(child, ast.expr) and not isinstance(child, ast.Name | ast.Constant)) or (
                        isinstance(child, ast.Name) and child.id in self.decls
                    ):
                        m = self.ndim(child)
                        if d - (n - m) >= 0 and m > 0:
                            try:
                                return self.size(child, d - (n - m))
                            except ValueError:
                                continue
        raise self.fail(node, f"no extent for dimension {d}")

    def _gen(self, elt: object, k: str, extent: object) -> object:
        ast = self.ast
        rng = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[extent], keywords=[])
        comp = ast.comprehension(target=ast.Name(id=k, ctx=ast.Store()), iter=rng, ifs=[], is_async=0)
        return ast.GeneratorExp(elt=elt, generators=[comp])

    def index(self, node: object, idx: list[str]) -> object:
        """The indexed AST of `node` whose dimensions are indexed by `idx` (right-aligned)."""
        ast = self.ast
        load = ast.Load()
        names = [ast.Name(id=i, ctx=load) for i in idx]

        def sub(inner: object, items: list) -> object:
            sl = ast.Tuple(elts=items, ctx=load) if len(items) != 1 else items[0]
            return ast.Subscript(value=inner, slice=sl, ctx=load)

        def aligned(child: object) -> object:
            m = self.ndim(child)
            return self.index(child, idx[len(idx) - m :] if m else [])

        match node:
            case ast.Name(id=name) if name in self.decls:
                return sub(node, names) if names else node
            case ast.Name() | ast.Constant():
                return node
            case ast.Attribute(value=inner, attr="T"):
                return sub(inner, names[::-1])
            case ast.Subscript(value=inner, slice=ast.Tuple(elts=items)) if self._is_align(items):
                return self.index(
                    inner, [i for i, it in zip(idx, items, strict=True) if isinstance(it, ast.Slice)]
                )
            case ast.BinOp(left=a, op=ast.MatMult(), right=b):
                k = self.fresh("k")
                if self.ndim(a) == self.ndim(b) == 3:
                    ai, bi = [idx[0], idx[1], k], [idx[0], k, idx[2]]
                elif self.ndim(a) > 2 or self.ndim(b) > 2:
                    raise self.fail(node, "@ takes 1-d and 2-d operands, or two 3-d ones (a batch)")
                else:
                    ai = ([idx[0]] if self.ndim(a) == 2 else []) + [k]
                    bi = [k] + ([idx[-1]] if self.ndim(b) == 2 else [])
                prod = ast.BinOp(left=self.index(a, ai), op=ast.Mult(), right=self.index(b, bi))
                gen = self._gen(prod, k, self.size(a, self.ndim(a) - 1))
                return ast.Call(func=ast.Name(id="sum", ctx=load), args=[gen], keywords=[])
            case ast.BinOp(left=a, op=op, right=b):
                return ast.BinOp(left=aligned(a), op=op, right=aligned(b))
            case ast.Compare(left=a, ops=ops, comparators=[b]):
                return ast.Compare(left=aligned(a), ops=ops, comparators=[aligned(b)])
            case ast.UnaryOp(op=op, operand=a):
                return ast.UnaryOp(op=op, operand=aligned(a))
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_REDUCE_METHODS:
                d = self._dim_of(node)
                if d is None and self.ndim(inner) == 1 and not idx:
                    d = 0  # `x.sum()` of a 1-d x: its one dimension
                if d is None:
                    raise self.fail(node, "a reduction needs dim=")
                if m in ("var", "std") and not self._keyword_is(node, "correction", 0):
                    raise self.fail(node, f"{m}() is the population {m} here: write correction=0")
                k = self.fresh("k")
                gen = self._gen(self.index(inner, [*idx[:d], k, *idx[d:]]), k, self.size(inner, d))
                return ast.Call(func=ast.Name(id=TEXT_REDUCE_METHODS[m], ctx=load), args=[gen], keywords=[])
            case ast.Call(func=ast.Attribute(value=inner, attr=m)) if m in TEXT_SCAN_METHODS:
                d = self._dim_of(node)
                if d is None or not 0 <= d < len(idx):
                    raise self.fail(node, "a scan needs dim=")
                k = self.fresh("k")
                upto = ast.BinOp(left=names[d], op=ast.Add(), right=ast.Constant(value=1))
                gen = self._gen(self.index(inner, [*idx[:d], k, *idx[d + 1 :]]), k, upto)
                return ast.Call(func=ast.Name(id=TEXT_SCAN_METHODS[m], ctx=load), args=[gen], keywords=[])
            case ast.Call(func=ast.Name(id=fn), args=[inner, *_]) if fn in TEXT_ROW_CALLS:
                d = self._dim_of(node) if fn in TEXT_DIM_ROW_CALLS else len(idx) - 1
                if d is None or not 0 <= d < len(idx):
                    raise self.fail(node, "a row operator needs dim=")
                k = self.fresh("k")
                gen = self._gen(self.index(inner, [*idx[:d], k, *idx[d + 1 :]]), k, self.size(inner, d))
                args: list = [gen]
                kw = {x.arg: x.value for x in node.keywords}
                if fn in TEXT_EPS_ROW_CALLS:
                    if "eps" not in kw:
                        raise self.fail(node, f"{fn} needs eps=")
                    args.append(kw["eps"])
                call = ast.Call(func=ast.Name(id=fn, ctx=load), args=args, keywords=[])
                out: object = ast.Subscript(value=call, slice=names[d], ctx=load)
                for key, op in (("weight", ast.Mult()), ("bias", ast.Add())):
                    if key not in kw or (isinstance(kw[key], ast.Constant) and kw[key].value is None):
                        continue
                    if fn == "normalize" or (fn == "rms_norm" and key == "bias"):
                        raise self.fail(node, f"{fn} takes no {key}")
                    if self.ndim(kw[key]) != 1:
                        raise self.fail(node, f"the {key} of {fn} is a vector along the last dimension")
                    out = ast.BinOp(left=out, op=op, right=self.index(kw[key], [idx[-1]]))
                return out
            case ast.Call(func=func, args=args, keywords=[]):
                return ast.Call(func=func, args=[aligned(a) for a in args], keywords=[])
        raise self.fail(node, "not a whole-tensor expression")
