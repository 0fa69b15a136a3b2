"""Text printer: Exprs as Python-syntax source (read back by `ir.parse`), Formulas as assignment lines."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from tritonlift.ir.expr import NAMED_ELEMENTWISE_OPS, ROW_OPS, ZERO, Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, TensorDecl

# Python's operator precedences, loosest first (docs.python.org/3/reference/expressions.html#operator-precedence)
P_IFEXP, P_OR, P_AND, P_NOT, P_CMP, P_BITOR, P_BITAND, P_ADD, P_MUL, P_UNARY, P_POW, P_ATOM = (
    1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 16,
)  # fmt: skip

Src = tuple[str, int]  # source text and its precedence
Render = Callable[[Expr], Src]
Handler = Callable[[Expr, Render], Src]


def paren(src: Src, prec: int, strict: bool = False) -> str:
    """The text, parenthesised when it binds looser than `prec` (or as loose, when `strict`)."""
    text, p = src
    return f"({text})" if p < prec or (strict and p == prec) else text


def join_infix(a: Src, b: Src, tok: str, prec: int) -> Src:
    """A left-associative binary operator; a negated right operand keeps parentheses: `a - (-b)`."""
    right = paren(b, prec, strict=True)
    if prec >= P_ADD and b[1] == P_UNARY and b[0].startswith("-"):
        right = f"({b[0]})"
    return f"{paren(a, prec)} {tok} {right}", prec


def join_compare(a: Src, b: Src, tok: str) -> Src:
    """A comparison; comparison operands are parenthesised, so Python never reads a chain."""
    return f"{paren(a, P_CMP, strict=True)} {tok} {paren(b, P_CMP, strict=True)}", P_CMP


def join_prefix(a: Src, tok: str, prec: int = P_UNARY) -> Src:
    inner = paren(a, prec)
    if tok.strip() and inner.startswith(tok.strip()):  # never `--x`
        inner = f"({inner})"
    return f"{tok}{inner}", prec


def infix(tok: str, prec: int) -> Handler:
    return lambda e, r: join_infix(r(e.args[0]), r(e.args[1]), tok, prec)


def compare(tok: str) -> Handler:
    return lambda e, r: join_compare(r(e.args[0]), r(e.args[1]), tok)


def prefix(tok: str, prec: int = P_UNARY) -> Handler:
    return lambda e, r: join_prefix(r(e.args[0]), tok, prec)


def call(name: str) -> Handler:
    return lambda e, r: (f"{name}({', '.join(r(a)[0] for a in e.args)})", P_ATOM)


def const_text(value: bool | int | float) -> str:
    """Python literal of a constant: `3`, `0.5`, `1e-05`, `inf`, `-inf`, `nan`, `True`."""
    if isinstance(value, (bool, int)):
        return repr(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _const(e: Expr, r: Render) -> Src:
    text = const_text(e.value)
    return text, P_UNARY if text.startswith("-") else P_ATOM


def index_text(items: list[str]) -> str:
    """Subscript text for an index: `i, j`, `i`, or `()` for a 0-d tensor."""
    return ", ".join(items) if items else "()"


def _read(e: Expr, r: Render) -> Src:
    return f"{e.attr}[{index_text([r(a)[0] for a in e.args])}]", P_ATOM


def _undef(e: Expr, r: Render) -> Src:
    args = [json.dumps(str(e.attr))] + [r(a)[0] for a in e.args]
    if e.kind is not Kind.REAL:
        args.append(f"kind={json.dumps(e.kind.value)}")
    return f"undef({', '.join(args)})", P_ATOM


def _cast(e: Expr, r: Render) -> Src:
    name = "float" if e.kind is Kind.REAL else str(e.attr)
    return f"{name}({r(e.args[0])[0]})", P_ATOM


REDUCE_NAMES = {Op.SUM: "sum", Op.PROD: "prod", Op.RMAX: "max", Op.RMIN: "min", Op.ARGMAX: "argmax"}
REDUCE_NAMES[Op.ARGMIN] = "argmin"


def _reduce(e: Expr, r: Render) -> Src:
    lo, hi, body = e.args
    bounds = r(hi)[0] if lo == ZERO else f"{r(lo)[0]}, {r(hi)[0]}"
    return f"{REDUCE_NAMES[e.op]}({r(body)[0]} for {e.attr} in range({bounds}))", P_ATOM


def _row(e: Expr, r: Render) -> Src:
    """`mean(body for k in range(n))`, `softmax(body for k in range(n))[at]`, `layer_norm((..), eps)[at]`."""
    lo, hi, body, *extra = e.args
    bounds = r(hi)[0] if lo == ZERO else f"{r(lo)[0]}, {r(hi)[0]}"
    gen = f"{r(body)[0]} for {e.attr} in range({bounds})"
    text = f"{e.op.value}({gen})" if len(extra) < 2 else f"{e.op.value}(({gen}), {r(extra[1])[0]})"
    return (f"{text}[{r(extra[0])[0]}]" if extra else text), P_ATOM


TEXT_OPS: dict[Op, Handler] = {
    Op.CONST: _const,
    Op.VAR: lambda e, r: (str(e.attr), P_ATOM),
    Op.READ: _read,
    Op.MEM: lambda e, r: (f"mem({e.attr}, {r(e.args[0])[0]})", P_ATOM),
    Op.UNDEF: _undef,
    Op.ADD: infix("+", P_ADD),
    Op.SUB: infix("-", P_ADD),
    Op.MUL: infix("*", P_MUL),
    Op.DIV: infix("/", P_MUL),
    Op.NEG: prefix("-"),
    Op.FLOORDIV: infix("//", P_MUL),
    Op.MOD: infix("%", P_MUL),
    Op.TRUNCDIV: call("tdiv"),
    Op.TRUNCMOD: call("tmod"),
    Op.MINIMUM: call("minimum"),
    Op.MAXIMUM: call("maximum"),
    Op.LT: compare("<"),
    Op.LE: compare("<="),
    Op.GT: compare(">"),
    Op.GE: compare(">="),
    Op.EQ: compare("=="),
    Op.NE: compare("!="),
    Op.AND: infix("&", P_BITAND),
    Op.OR: infix("|", P_BITOR),
    Op.NOT: prefix("~"),
    Op.WHERE: call("where"),
    Op.CAST: _cast,
    **{op: call(op.value) for op in (Op.EXP, Op.EXP2, Op.LOG, Op.LOG2, Op.SQRT, Op.RSQRT, Op.SIGMOID)},
    **{op: call(op.value) for op in (Op.ABS, Op.ERF, Op.TANH, Op.SIN, Op.COS, Op.FLOOR, Op.CEIL, Op.POW)},
    **{op: call(op.value) for op in (Op.TRUNC, Op.TAN, Op.ASIN, Op.ACOS, Op.ATAN, Op.ATAN2, Op.FMOD, Op.COPYSIGN)},
    **{op: call(op.value) for op in (Op.ISNAN, Op.ISINF, Op.ISFINITE, Op.SIGNBIT)},
    **{op: call(op.value) for op in (Op.BITAND, Op.BITOR, Op.BITXOR, Op.BITNOT, Op.SHL, Op.SHR)},
    Op.SUM: _reduce,
    Op.PROD: _reduce,
    Op.RMAX: _reduce,
    Op.RMIN: _reduce,
    Op.ARGMAX: _reduce,
    Op.ARGMIN: _reduce,
    **{op: call(op.value) for op in sorted(NAMED_ELEMENTWISE_OPS, key=lambda o: o.value)},
    **{op: _row for op in sorted(ROW_OPS, key=lambda o: o.value)},
}
UNSUPPORTED: frozenset[Op] = frozenset()  # the text printer prints every op


def render(e: Expr, table: Mapping[Op, Handler]) -> Src:
    """Render `e` bottom-up with one handler per op (shared sub-terms are rendered once)."""
    memo: dict[Expr, Src] = {}

    def r(node: Expr) -> Src:
        out = memo.get(node)
        if out is None:
            handler = table.get(node.op)
            if handler is None:
                raise ValueError(f"cannot print {node.op.name}")
            out = memo[node] = handler(node, r)
        return out

    return r(e)


def to_text(e: Expr) -> str:
    """`e` as one line of Python-syntax source."""
    return render(e, TEXT_OPS)[0]


def tuple_text(items: list[str]) -> str:
    """A Python tuple display: `()`, `(a,)`, `(a, b)`."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def decl_line(t: TensorDecl) -> str:
    args = [t.base, tuple_text([to_text(s) for s in t.shape]), tuple_text([to_text(s) for s in t.strides])]
    if t.offset != ZERO:
        args.append(to_text(t.offset))
    return f"{t.name} = as_strided({', '.join(args)})"


def assign_line(a: Assign) -> str:
    return f"{a.target}[{index_text(list(a.index))}] = {to_text(a.body)}"


def with_holes(table: Mapping[Op, Handler]) -> Callable[[Any, list[Src]], Src]:
    """Render a tensor_form.Map (an IR node whose operands were already rendered) with `table`."""
    from tritonlift.ir.tensor_form import placeholders

    def node(m: Any, args: list[Src]) -> Src:
        holed, pos = placeholders(m.node)
        own_var = table[Op.VAR]
        local = {**table, Op.VAR: lambda n, r: args[pos[n]] if n in pos else own_var(n, r)}
        return render(holed, local)

    return node


TENSOR_METHODS = {Op.SUM: "sum", Op.PROD: "prod", Op.RMAX: "amax", Op.RMIN: "amin", Op.MEAN: "mean"}
TENSOR_METHODS |= {Op.LOGSUMEXP: "logsumexp", Op.ARGMAX: "argmax", Op.ARGMIN: "argmin"}
POPULATION_METHODS = {Op.VARIANCE: "var", Op.STD: "std"}  # correction=0: PyTorch's default is 1


def _tensor_reduce(t: Any, child: Src, weight: Src | None = None, bias: Src | None = None) -> Src:
    """`x.sum(dim=1)`, `x.var(dim=1, correction=0)`, `softmax(x, dim=1)`, `normalize(x, dim=1, eps=e)`,
    `layer_norm(x, (n,), weight=w, bias=b, eps=e)`, `x.cumsum(dim=1)`."""
    if t.scan:
        return f"{paren(child, P_ATOM)}.cum{TENSOR_METHODS[t.op]}(dim={t.dim})", P_ATOM
    if t.op in TENSOR_METHODS and not t.axes and len(t.child.axes) == 1:
        # a whole 1-d view to one value: `x.sum()` (for a parameter read flat, its x.numel() elements)
        return f"{paren(child, P_ATOM)}.{TENSOR_METHODS[t.op]}()", P_ATOM
    if t.op in TENSOR_METHODS:
        return f"{paren(child, P_ATOM)}.{TENSOR_METHODS[t.op]}(dim={t.dim})", P_ATOM
    if t.op in POPULATION_METHODS:
        return f"{paren(child, P_ATOM)}.{POPULATION_METHODS[t.op]}(dim={t.dim}, correction=0)", P_ATOM
    if t.op in (Op.LAYER_NORM, Op.RMS_NORM):
        affine = "".join(f", {k}={v[0]}" for k, v in (("weight", weight), ("bias", bias)) if v is not None)
        return f"{t.op.value}({child[0]}, ({to_text(t.size)},){affine}, eps={to_text(t.extra[0])})", P_ATOM
    if t.op is Op.NORMALIZE:
        return f"normalize({child[0]}, dim={t.dim}, eps={to_text(t.extra[0])})", P_ATOM
    return f"{t.op.value}({child[0]}, dim={t.dim})", P_ATOM


def _tensor_notation(names: Mapping[str, str] | None = None) -> Any:
    """The text notation of whole-tensor forms; `names` shows some tensors as other text (a view inline)."""
    from tritonlift.ir.tensor_form import Notation

    shown = names or {}

    def ref(r: Any) -> Src:
        text = shown.get(r.name, r.name)
        return (f"{text}.T" if r.transposed else text), P_ATOM

    return Notation(
        ref=ref,
        scalar=lambda e: render(e, TEXT_OPS),
        align=lambda src, pad: (f"{paren(src, P_ATOM)}[{', '.join('None' if p else ':' for p in pad)}]", P_ATOM),
        node=with_holes(TEXT_OPS),
        reduce=_tensor_reduce,
        matmul=lambda a, b: join_infix(a, b, "@", P_MUL),
    )


def tensor_line(a: Assign, f: Formula, names: Mapping[str, str] | None = None) -> str | None:
    """`out = softmax(x, dim=1)`: the assignment in whole-tensor form (ir.tensor_form), or None. `names`
    shows views inline: `out.view(M) = inp.view(M, N).sum(dim=1)`."""
    from tritonlift.ir.tensor_form import render as render_tensor
    from tritonlift.ir.tensor_form import tensor_form

    t = tensor_form(a, f)
    if t is None:
        return None
    target = (names or {}).get(a.target, a.target)
    return f"{target} = {render_tensor(t, _tensor_notation(names))[0]}"


def contiguous_strides(shape: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """C-order strides of `shape`, in the polynomial normal form (ir.poly.norm)."""
    from tritonlift.ir.expr import ONE, mul
    from tritonlift.ir.poly import norm

    out: list[Expr] = []
    acc: Expr = ONE
    for s in reversed(shape):
        out.append(acc)
        acc = norm(mul(acc, s))
    return tuple(reversed(out))


def view_text(t: TensorDecl) -> str | None:
    """`base.view(d0, d1)` when the view is its base's memory from the start in C order (contiguous), else
    None (a general window: `as_strided(base, shape, strides[, offset])`)."""
    from tritonlift.ir.poly import norm

    if t.offset != ZERO or t.base == t.name:
        return None
    if tuple(norm(s) for s in t.strides) != contiguous_strides(t.shape):
        return None
    dims = ", ".join(to_text(s) for s in t.shape) if t.shape else "()"
    return f"{t.base}.view({dims})"


def _view_decl_line(t: TensorDecl) -> str:
    view = view_text(t)
    return decl_line(t) if view is None else f"{t.name} = {view}"


def formula_lines(f: Formula, whole: bool = False) -> list[str]:
    """One line per view of another tensor's memory, then one per assignment (allocs print nothing).

    With `whole`, an assignment that is a whole-tensor expression prints as one (`out = x + y`); when every
    assignment does, a view that is its base's memory in C order is shown inline where it is used
    (`out.view(M) = inp.view(M, N).sum(dim=1)`) instead of declared, and other views are declared."""
    views = [t for t in f.tensors if t.base != t.name]
    if not whole:
        return [decl_line(t) for t in views] + [assign_line(a) for a in f.assigns]
    inline = {t.name: text for t in views if (text := view_text(t)) is not None}
    lines = [tensor_line(a, f, inline) for a in f.assigns]
    if all(line is not None for line in lines):
        return [decl_line(t) for t in views if t.name not in inline] + [str(line) for line in lines]
    assigns = [tensor_line(a, f) or assign_line(a) for a in f.assigns]
    return [_view_decl_line(t) for t in views] + assigns


def formula_text(f: Formula, whole: bool = False) -> str:
    return "\n".join(formula_lines(f, whole))


def formula_line(f: Formula, whole: bool = False) -> str:
    return "; ".join(formula_lines(f, whole))
