"""Parser for the text syntax of `ir.printer`: Python source read with `ast`, rebuilt with smart constructors."""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable, Mapping

from tritonlift.ir.expr import (
    ARG_OPS,
    BINARY_MATH_OPS,
    BIT_OPS,
    INT_DTYPES,
    NAMED_ELEMENTWISE_OPS,
    PREDICATE_OPS,
    ROW_EPS_OPS,
    ROW_OPS,
    ROW_REDUCE_OPS,
    UNARY_MATH_OPS,
    ZERO,
    Expr,
    Kind,
    Op,
    and_,
    argreduce,
    arith,
    bitwise,
    cast,
    compare,
    const,
    div,
    math_fn,
    mem,
    named,
    neg,
    not_,
    or_,
    predicate,
    read,
    reduce,
    row,
    to_real,
    undef,
    var,
    where,
)
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl

Kinds = Mapping[str, Kind]
NAMED_ARITY = {Op.LEAKY_RELU: 2, Op.CLAMP: 3} | {
    op: 1 for op in (Op.SILU, Op.GELU, Op.GELU_TANH, Op.RELU, Op.SOFTPLUS)
}

_BINOPS: dict[type[ast.operator], Callable[[Expr, Expr], Expr]] = {
    ast.Add: lambda a, b: arith(Op.ADD, a, b),
    ast.Sub: lambda a, b: arith(Op.SUB, a, b),
    ast.Mult: lambda a, b: arith(Op.MUL, a, b),
    ast.Div: div,
    ast.FloorDiv: lambda a, b: arith(Op.FLOORDIV, a, b),
    ast.Mod: lambda a, b: arith(Op.MOD, a, b),
    ast.BitAnd: and_,
    ast.BitOr: or_,
    ast.Pow: lambda a, b: math_fn(Op.POW, a, b),
}
_CMPOPS: dict[type[ast.cmpop], Op] = {
    ast.Lt: Op.LT, ast.LtE: Op.LE, ast.Gt: Op.GT, ast.GtE: Op.GE, ast.Eq: Op.EQ, ast.NotEq: Op.NE,
}  # fmt: skip
# functions of the text syntax, by name: (arity, constructor)
_CALLS: dict[str, tuple[int, Callable[..., Expr]]] = {
    "tdiv": (2, lambda a, b: arith(Op.TRUNCDIV, a, b)),
    "tmod": (2, lambda a, b: arith(Op.TRUNCMOD, a, b)),
    "minimum": (2, lambda a, b: arith(Op.MINIMUM, a, b)),
    "maximum": (2, lambda a, b: arith(Op.MAXIMUM, a, b)),
    "where": (3, where),
    "float": (1, to_real),
    **{op.value: (2, lambda a, b, op=op: math_fn(op, a, b)) for op in BINARY_MATH_OPS},
    **{op.value: (1, lambda a, op=op: math_fn(op, a)) for op in UNARY_MATH_OPS},
    **{op.value: (1, lambda a, op=op: predicate(op, a)) for op in PREDICATE_OPS},
    **{op.value: (1 if op is Op.BITNOT else 2, lambda *a, op=op: bitwise(op, *a)) for op in BIT_OPS},
    **{name: (1, lambda a, name=name: cast(a, name)) for name in INT_DTYPES},
    **{op.value: (NAMED_ARITY[op], lambda *a, op=op: named(op, *a)) for op in NAMED_ELEMENTWISE_OPS},
}
# row operators: `mean(body for k in range(n))`, `softmax(...)[at]`, `layer_norm((...), eps)[at]`
_ROWS: dict[str, Op] = {op.value: op for op in ROW_OPS}
_REDUCTIONS = {"sum": Op.SUM, "prod": Op.PROD, "max": Op.RMAX, "min": Op.RMIN, "argmax": Op.ARGMAX, "argmin": Op.ARGMIN}
_NAMED_CONSTS = {"inf": math.inf, "nan": math.nan}


def _fail(node: ast.AST, why: str) -> ValueError:
    text = ast.unparse(node)
    text = text if len(text) <= 60 else text[:57] + "..."
    return ValueError(f"line {getattr(node, 'lineno', '?')}: {why}: {text}")


class _Reader:
    """Turns `ast` expressions into Exprs; `bound` are index variables in scope (always INT)."""

    def __init__(self, kinds: Kinds, bound: frozenset[str] = frozenset()):
        self.kinds = kinds
        self.bound = bound

    def with_bound(self, names: tuple[str, ...]) -> _Reader:
        return _Reader(self.kinds, self.bound | set(names))

    def name_var(self, text: str) -> Expr:
        if text in self.bound:
            return var(text, Kind.INT)
        return var(text, self.kinds.get(text, Kind.INT))

    def expr(self, node: ast.expr) -> Expr:
        match node:
            case ast.Constant(value=bool() | int() | float() as value):
                return const(value)
            case ast.Name(id=name):
                if name not in self.bound and name not in self.kinds and name in _NAMED_CONSTS:
                    return const(_NAMED_CONSTS[name])
                return self.name_var(name)
            case ast.UnaryOp(op=ast.USub(), operand=a):
                return neg(self.expr(a))
            case ast.UnaryOp(op=ast.UAdd(), operand=a):
                return self.expr(a)
            case ast.UnaryOp(op=ast.Invert() | ast.Not(), operand=a):
                return not_(self.expr(a))
            case ast.BinOp(left=a, op=op, right=b) if type(op) in _BINOPS:
                return _BINOPS[type(op)](self.expr(a), self.expr(b))
            case ast.BoolOp(op=ast.And(), values=values):
                return and_(*(self.expr(v) for v in values))
            case ast.BoolOp(op=ast.Or(), values=values):
                out = self.expr(values[0])
                for v in values[1:]:
                    out = or_(out, self.expr(v))
                return out
            case ast.Compare():
                return self.comparison(node)
            case ast.IfExp(test=c, body=a, orelse=b):
                return where(self.expr(c), self.expr(a), self.expr(b))
            case ast.Call():
                return self.call(node)
            case ast.Subscript(value=ast.Call(func=ast.Name(id=fn)) as inner, slice=at) if fn in _ROWS:
                return self.row(_ROWS[fn], inner, at)
            case ast.Subscript(value=ast.Name(id=tensor), slice=index) if ast.unparse(node) not in self.kinds:
                items = index.elts if isinstance(index, ast.Tuple) else [index]
                return read(tensor, *(self.expr(i) for i in items))
            case ast.Attribute() | ast.Subscript():  # host-level symbols: x.shape[0], x.stride(1)
                return self.name_var(ast.unparse(node))
        raise _fail(node, "unsupported syntax")

    def comparison(self, node: ast.Compare) -> Expr:
        operands = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
        parts = []
        for op, a, b in zip(node.ops, operands, operands[1:], strict=False):
            if type(op) not in _CMPOPS:
                raise _fail(node, "unsupported comparison")
            parts.append(compare(_CMPOPS[type(op)], a, b))
        return and_(*parts)

    def call(self, node: ast.Call) -> Expr:
        text = ast.unparse(node)
        if text in self.kinds or not isinstance(node.func, ast.Name):
            return self.name_var(text)  # x.numel(), x.stride(0)
        name = node.func.id
        if name == "undef":
            return self.undef(node)
        if node.keywords:
            raise _fail(node, f"{name}() takes no keyword arguments")
        if name in _REDUCTIONS and len(node.args) == 1 and isinstance(node.args[0], ast.GeneratorExp):
            return self.reduction(_REDUCTIONS[name], node.args[0])
        if name in _ROWS and _ROWS[name] in ROW_REDUCE_OPS:
            return self.row(_ROWS[name], node, None)
        if name in ("max", "min") and len(node.args) == 2:
            name = "maximum" if name == "max" else "minimum"
        if name == "mem":
            if len(node.args) != 2 or not isinstance(node.args[0], ast.Name):
                raise _fail(node, "mem() takes a pointer name and an offset")
            return mem(node.args[0].id, self.expr(node.args[1]))
        if name not in _CALLS:
            return self.name_var(text)  # an unknown call is a host-level symbol, e.g. len(x)
        arity, build = _CALLS[name]
        if len(node.args) != arity:
            raise _fail(node, f"{name}() takes {arity} argument(s)")
        return build(*(self.expr(a) for a in node.args))

    def row(self, op: Op, node: ast.Call, at: ast.expr | None) -> Expr:
        want = 2 if op in ROW_EPS_OPS else 1
        if node.keywords or len(node.args) != want or not isinstance(node.args[0], ast.GeneratorExp):
            raise _fail(
                node, f"{op.value}() takes a generator `body for k in range(lo, hi)`" + ", eps" * (want - 1)
            )
        if (at is None) != (op in ROW_REDUCE_OPS):
            raise _fail(node, f"{op.value}(...)" + ("" if at is None else "[at]") + " is not an expression")
        k, lo, hi, body = self.generator(node.args[0])
        extra = [] if at is None else [self.expr(at)]
        if want == 2:
            extra.append(self.expr(node.args[1]))
        return row(op, k, lo, hi, body, *extra)

    def generator(self, gen: ast.GeneratorExp) -> tuple[str, Expr, Expr, Expr]:
        match gen.generators:
            case [ast.comprehension(target=ast.Name(id=k), iter=ast.Call(func=ast.Name(id="range")) as rng)]:
                pass
            case _:
                raise _fail(gen, "a reduction is `op(body for k in range(lo, hi))`")
        comp = gen.generators[0]
        if comp.ifs or comp.is_async or rng.keywords or not 1 <= len(rng.args) <= 2:
            raise _fail(gen, "a reduction is `op(body for k in range(lo, hi))`")
        bounds = [self.expr(a) for a in rng.args]
        lo, hi = (ZERO, bounds[0]) if len(bounds) == 1 else bounds
        return k, lo, hi, self.with_bound((k,)).expr(gen.elt)

    def undef(self, node: ast.Call) -> Expr:
        if (
            not node.args
            or not isinstance(node.args[0], ast.Constant)
            or not isinstance(node.args[0].value, str)
        ):
            raise _fail(node, "undef() needs a string tag")
        kind = Kind.REAL
        for kw in node.keywords:
            if kw.arg != "kind" or not isinstance(kw.value, ast.Constant):
                raise _fail(node, "undef() takes only kind=...")
            try:
                kind = Kind(kw.value.value)
            except ValueError:
                raise _fail(node, "unknown kind") from None
        return undef(node.args[0].value, *(self.expr(a) for a in node.args[1:]), kind=kind)

    def reduction(self, op: Op, gen: ast.GeneratorExp) -> Expr:
        k, lo, hi, body = self.generator(gen)
        if op in ARG_OPS:
            return argreduce(op, k, lo, hi, body)
        return reduce(op, k, lo, hi, body)


def _syntax(text: str, mode: str) -> ast.AST:
    try:
        return ast.parse(text.strip() if mode == "eval" else view_targets(text.strip()), mode=mode)
    except SyntaxError as err:
        raise ValueError(f"line {err.lineno}: syntax error: {err.msg}") from None


def view_targets(text: str) -> str:
    """`out.view(M) = value` (a statement assigning a whole view, as the text printer shows a kernel's
    output) is no Python; it reads as `out.view(M)[...] = value`, which is. Other text is unchanged."""
    import io
    import tokenize

    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text  # ast.parse reports the error
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    inserts: list[int] = []
    depth = 0
    for n, tok in enumerate(toks):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif depth == 0 and tok.type == tokenize.OP and tok.string == "=" and n > 0:
            prev = toks[n - 1]
            if prev.type == tokenize.OP and prev.string == ")":
                inserts.append(starts[prev.end[0] - 1] + prev.end[1])
    for pos in reversed(inserts):
        text = text[:pos] + "[...]" + text[pos:]
    return text


def _is_view_call(node: ast.AST) -> bool:
    """`base.view(d0, ..)`: a tensor's memory from the start, in C order."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "view"
        and isinstance(node.func.value, ast.Name)
        and not node.keywords
    )


class _InlineViews(ast.NodeTransformer):
    """Replaces each `base.view(dims)` by the name of a declaration of that view (made once per text)."""

    def __init__(self, reader: _Reader, decls: dict[str, TensorDecl], taken: set[str]):
        self.reader, self.decls, self.taken = reader, decls, taken
        self.names: dict[str, str] = {}

    def name_of(self, node: ast.Call) -> str:
        key = ast.unparse(node)
        if key not in self.names:
            assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
            base = node.func.value.id
            stem = base[: -len("_ptr")] if base.endswith("_ptr") and len(base) > 4 else f"{base}_v"
            if keyword.iskeyword(stem):
                stem = f"{stem}_v"
            made = _view_decl(self.reader, stem, node)
            same = [d.name for d in self.decls.values() if (d.base, d.shape, d.strides, d.offset) == (
                made.base, made.shape, made.strides, made.offset) and d.name != d.base]
            if same:  # the very view a declaration already names (an operator's output view): that name
                self.names[key] = same[0]
                return same[0]
            name, n = stem, 1
            while name in self.taken or name in self.decls:
                n += 1
                name = f"{stem}{n}"
            self.taken.add(name)
            self.decls[name] = _view_decl(self.reader, name, node)
            self.names[key] = name
        return self.names[key]

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _is_view_call(node):
            return ast.copy_location(ast.Name(id=self.name_of(node), ctx=ast.Load()), node)
        return self.generic_visit(node)


def _view_decl(reader: _Reader, name: str, node: ast.Call) -> TensorDecl:
    from tritonlift.ir.printer import contiguous_strides

    assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
    items = node.args
    if len(items) == 1 and isinstance(items[0], ast.Tuple):
        items = items[0].elts  # base.view((M, N)) and base.view(()) as well as base.view(M, N)
    shape = tuple(reader.expr(e) for e in items)
    return TensorDecl(name, shape, contiguous_strides(shape), node.func.value.id)


def parse_expr(text: str, kinds: Kinds | None = None) -> Expr:
    """The Expr that `to_text` printed as `text`; `kinds` gives each VAR name's kind (default INT)."""
    tree = _syntax(text, "eval")
    assert isinstance(tree, ast.Expression)
    return _Reader(kinds or {}).expr(tree.body)


def _shape(reader: _Reader, node: ast.expr, what: str) -> tuple[Expr, ...]:
    if not isinstance(node, ast.Tuple):
        raise _fail(node, f"the {what} of as_strided() must be a tuple")
    return tuple(reader.expr(e) for e in node.elts)


def _decl(reader: _Reader, name: str, value: ast.expr) -> TensorDecl:
    if _is_view_call(value):
        assert isinstance(value, ast.Call)
        return _view_decl(reader, name, value)
    match value:
        case ast.Call(
            func=ast.Name(id="as_strided"), args=[ast.Name(id=base), shape, strides, *rest], keywords=[]
        ):
            if len(rest) > 1:
                raise _fail(value, "as_strided() takes base, shape, strides and an optional offset")
            offset = reader.expr(rest[0]) if rest else ZERO
            return TensorDecl(
                name, _shape(reader, shape, "shape"), _shape(reader, strides, "strides"), base, offset
            )
    raise _fail(value, "a tensor view is `name = as_strided(base, shape, strides[, offset])`")


def _assign(reader: _Reader, target: ast.Subscript, value: ast.expr) -> Assign:
    items = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
    names = tuple(i.id for i in items if isinstance(i, ast.Name))
    if len(names) != len(items) or len(set(names)) != len(names):
        raise _fail(target, "the index of an assignment must be distinct names")
    assert isinstance(target.value, ast.Name)
    return Assign(target.value.id, names, reader.with_bound(names).expr(value))


def _tensor_assign(
    reader: _Reader, decls: dict[str, TensorDecl], view: str, value: ast.expr, params: tuple[Param, ...]
) -> Assign:
    """`out = x.sum(dim=1)` (the whole-tensor form of ir.tensor_form) as `out[i] = sum(...)`."""
    from tritonlift.ir.tensor_form import Lowering

    low = Lowering(decls, {p.name for p in params} | set(decls))
    index = [low.fresh("i") for _ in range(decls[view].ndim)]
    try:
        if low.ndim(value) > len(index):
            raise _fail(value, f"the value has more dimensions than {view}")
        indexed = low.index(value, index[len(index) - low.ndim(value) :])
    except (KeyError, IndexError) as e:
        raise _fail(value, f"not a whole-tensor expression ({e})") from None
    ast.fix_missing_locations(indexed)
    return Assign(view, tuple(index), reader.with_bound(tuple(index)).expr(indexed))


def parse_formula(
    text: str,
    *,
    name: str,
    params: tuple[Param, ...],
    tensors: Mapping[str, TensorDecl],
    kinds: Kinds | None = None,
) -> Formula:
    """The Formula that `formula_text` printed as `text` (or `formula_line`, statements joined by `;`).

    `tensors` are the declarations the text does not show (those whose base is their own name); the
    result lists them first, then the views declared in the text, in order.
    """
    tree = _syntax(text, "exec")
    assert isinstance(tree, ast.Module)
    reader = _Reader(kinds or {})
    decls: dict[str, TensorDecl] = dict(tensors)
    assigns: list[Assign] = []
    taken = {p.name for p in params} | set(decls) | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    inline = _InlineViews(reader, decls, taken)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if (
                isinstance(target, ast.Subscript)
                and _is_view_call(target.value)
                and isinstance(target.slice, ast.Constant)
                and target.slice.value is Ellipsis
            ):
                assert isinstance(target.value, ast.Call)
                view = inline.name_of(target.value)
                value = inline.visit(stmt.value)
                assigns.append(_tensor_assign(reader, decls, view, value, params))
                continue
            if not (isinstance(target, ast.Name) and _is_view_call(stmt.value) and target.id not in decls):
                stmt = ast.Assign(targets=stmt.targets, value=inline.visit(stmt.value), lineno=stmt.lineno)
        match stmt:
            case ast.Assign(targets=[ast.Name(id=view)], value=value) if view in decls and not (
                isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "as_strided"
            ):
                assigns.append(_tensor_assign(reader, decls, view, value, params))
            case ast.Assign(targets=[ast.Name(id=view)], value=value):
                if view in decls:
                    raise _fail(stmt, f"tensor {view} is declared twice")
                decls[view] = _decl(reader, view, value)
            case ast.Assign(targets=[ast.Subscript(value=ast.Name()) as target], value=value):
                assigns.append(_assign(reader, target, value))
            case _:
                raise _fail(
                    stmt, "expected `view = as_strided(...)`, `tensor[index] = body` or `tensor = whole-tensor body`"
                )
    return Formula(name=name, params=tuple(params), tensors=tuple(decls.values()), assigns=tuple(assigns))
