"""PyTorch printer: a Formula as the source of one self-contained, runnable function (torch and math only).

Each assignment is evaluated over its whole index domain at once: one broadcast dimension per index of the
target, plus one per nesting level of reductions (reduced with keepdim, so dimensions stay aligned). Reads
clamp their indices, so a read under a false `where` guard never raises; int-only sub-terms without index
variables (sizes, strides, scalar arguments) stay plain Python numbers with Python's exact semantics.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tritonlift.ir.expr import (
    ONE,
    ROW_OPS,
    ZERO,
    Expr,
    Kind,
    Op,
    contains,
    free_vars,
    mul,
    transform,
    var,
    walk,
)
from tritonlift.ir.formula import Alloc, Assign, Formula, TensorDecl
from tritonlift.ir.named import expand, expand_all
from tritonlift.ir.poly import norm
from tritonlift.ir.printer import (
    P_ADD,
    P_AND,
    P_ATOM,
    P_BITAND,
    P_BITOR,
    P_IFEXP,
    P_MUL,
    P_NOT,
    P_OR,
    P_UNARY,
    TEXT_OPS,
    Handler,
    Src,
    call,
    const_text,
    contiguous_strides,
    infix,
    join_compare,
    join_infix,
    join_prefix,
    paren,
    render,
    tuple_text,
)
from tritonlift.ir.tensor_form import Map, Ref, Scalar, forms, placeholders, same_shape_classes, tensor_form
from tritonlift.ir.tensor_form import render as render_tensor

UNSUPPORTED_WHY: dict[Op, str] = {
    Op.MEM: "a pointer-level read has no tensor meaning (express it as a read of a TensorDecl)",
    Op.UNDEF: "an undefined value (a masked load without other=) cannot be computed",
}
UNSUPPORTED: frozenset[Op] = frozenset(UNSUPPORTED_WHY)

# local helpers of the generated function, emitted only when used
HELPERS: dict[str, str] = {
    "_ten": """
def _ten(v):  # a Python number as a 0-d tensor (floats as float64: 0-d tensors do not promote)
    if isinstance(v, torch.Tensor):
        return v
    return torch.as_tensor(v, dtype=torch.float64 if isinstance(v, float) else None)""",
    "_rd": """
def _rd(t, *idx):  # t[idx] with broadcast index tensors, clamped into range: guarded reads never raise
    if t.numel() == 0:
        shape = torch.broadcast_shapes(*(torch.as_tensor(v).shape for v in idx))
        return torch.zeros(shape, dtype=t.dtype, device=t.device)
    idx = tuple(torch.clamp(torch.as_tensor(v, device=t.device), 0, s - 1) for v, s in zip(idx, t.shape))
    return t[idx]""",
    "_view": """
def _view(t, shape, strides, offset):  # an input's view; past the end of its storage (reads there are
    # masked in the formula, so their values never matter) it reads zeros instead of raising
    have = t.untyped_storage().nbytes() // t.element_size()
    need = offset + 1  # no builtin sum/max/abs in helpers: the lifted function may itself be called sum
    for n, s in zip(shape, strides):
        need += (n - 1) * s
    if 0 in shape or need <= have:
        return torch.as_strided(t, shape, strides, offset)
    flat = torch.as_strided(t, (have,), (1,), 0)
    flat = torch.cat([flat, torch.zeros(need - have, dtype=t.dtype, device=t.device)])
    return torch.as_strided(flat, shape, strides, offset)""",
    "_amax": """
def _amax(t, dim):  # torch.amax, but -inf over an empty dim (the max of nothing) where torch.amax raises
    if t.shape[dim] == 0:
        return torch.full(t.shape[:dim] + t.shape[dim + 1 :], -math.inf, dtype=t.dtype, device=t.device)
    return torch.amax(t, dim=dim)""",
    "_amin": """
def _amin(t, dim):  # torch.amin, but inf over an empty dim (the min of nothing) where torch.amin raises
    if t.shape[dim] == 0:
        return torch.full(t.shape[:dim] + t.shape[dim + 1 :], math.inf, dtype=t.dtype, device=t.device)
    return torch.amin(t, dim=dim)""",
    "_nz": """
def _nz(b):  # an int divisor, 1 where it is 0: the formula has no value there, and torch would raise
    if isinstance(b, torch.Tensor):
        return torch.where(b == 0, 1, b)
    return 1 if b == 0 else b""",
    "_width": """
def _width(lo, hi):  # the widest range(lo, hi) over all lanes, at least 1 (empty lanes are masked)
    w = hi - lo
    w = int(w.max()) if isinstance(w, torch.Tensor) else int(w)
    return w if w > 1 else 1""",
    "_tdiv": """
def _tdiv(a, b):  # C division of Python ints: rounds toward zero
    q = (a if a >= 0 else -a) // (b if b >= 0 else -b)
    return q if (a >= 0) == (b >= 0) else -q""",
    "_tmod": """
def _tmod(a, b):  # C remainder of Python ints: the sign of the dividend
    return a - b * _tdiv(a, b)""",
}
HELPER_DEPS: dict[str, tuple[str, ...]] = {"_tmod": ("_tdiv",)}

# ---------------------------------------------------------------------------------------------
# host expressions: Python ints and bools with Python's (exact) semantics, e.g. sizes and strides

HOST_OPS: dict[Op, Handler] = {
    **{op: TEXT_OPS[op] for op in (Op.CONST, Op.VAR, Op.ADD, Op.SUB, Op.MUL, Op.NEG, Op.FLOORDIV, Op.MOD)},
    **{op: TEXT_OPS[op] for op in (Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE)},
    Op.TRUNCDIV: call("_tdiv"),
    Op.TRUNCMOD: call("_tmod"),
    Op.MINIMUM: call("min"),
    Op.MAXIMUM: call("max"),
    Op.AND: infix("and", P_AND),
    Op.OR: infix("or", P_OR),
    Op.NOT: lambda e, r: join_prefix(r(e.args[0]), "not ", P_NOT),
    Op.WHERE: lambda e, r: _ifexp(*(r(a) for a in e.args)),
    Op.CAST: call("int"),
    **{op: (lambda e, r, tok=tok: _host_bits(tok, [r(a) for a in e.args])) for op, tok in (
        (Op.BITAND, "&"), (Op.BITOR, "|"), (Op.BITXOR, "^"), (Op.BITNOT, "~"), (Op.SHL, "<<"), (Op.SHR, ">>"))},
}


def _host_bits(tok: str, args: list[Src]) -> Src:
    """Python's bit operators on ints (two's complement, unbounded: the IR's meaning), fully parenthesized."""
    parts = [a[0] if a[1] == P_ATOM else f"({a[0]})" for a in args]
    return (f"({tok}{parts[0]})" if len(parts) == 1 else f"({parts[0]} {tok} {parts[1]})"), P_ATOM


def _ifexp(c: Src, a: Src, b: Src) -> Src:
    return f"{paren(a, P_IFEXP, True)} if {paren(c, P_IFEXP, True)} else {paren(b, P_IFEXP)}", P_IFEXP


def _host_node(e: Expr) -> bool:
    """This node alone can be a Python int/bool expression (its children are checked separately)."""
    if e.op not in HOST_OPS or e.kind is Kind.REAL:
        return False
    if e.op in (Op.AND, Op.OR, Op.NOT):  # Python's `and` on ints is not logical
        return all(a.kind is Kind.BOOL for a in e.args)
    return True


def host_src(e: Expr, helpers: set[str]) -> Src:
    """`e` (int or bool, no index variables) as a Python expression of the function's parameters."""
    if not all(_host_node(n) for n in walk(e)):
        raise ValueError(f"not a host-level int expression: {e}")
    helpers |= {_HOST_HELPER[n.op] for n in walk(e) if n.op in _HOST_HELPER}
    return render(e, HOST_OPS)


_HOST_HELPER = {Op.TRUNCDIV: "_tdiv", Op.TRUNCMOD: "_tmod"}


# ---------------------------------------------------------------------------------------------
# tensor expressions: one handler per op, producing code whose value is a tensor or a Python number


@dataclass(frozen=True)
class Code:
    text: str
    prec: int
    tensor: bool  # a torch.Tensor at run time (else a Python number)

    @property
    def src(self) -> Src:
        return self.text, self.prec


TorchHandler = Callable[[Expr, "_AssignCtx"], Code]


def _atom(text: str) -> Code:
    return Code(text, P_ATOM, True)


def _arith(tok: str, prec: int) -> TorchHandler:
    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        a, b = ctx.num(e.args[0]), ctx.num(e.args[1])
        if tok == "/" and not (a.tensor or b.tensor):  # IEEE division, never ZeroDivisionError
            a = ctx.ten(a)
        text, p = join_infix(a.src, b.src, tok, prec)
        return Code(text, p, a.tensor or b.tensor)

    return handler


def _torch_fn(fn: str, extra: str = "") -> TorchHandler:
    """torch.fn(a, ...): the first argument as a tensor (which torch requires), the others as they are."""

    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        args = [ctx.num(a) for a in e.args]
        texts = [ctx.ten(args[0]).text] + [a.text for a in args[1:]]
        return _atom(f"{fn}({', '.join(texts)}{extra})")

    return handler


def _int_division(fn: str, extra: str = "") -> TorchHandler:
    """An integer division or remainder: lanes dividing by 0 (guarded off, or undefined) must not raise."""
    plain = _torch_fn(fn, extra)

    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        divisor = e.args[1]
        if e.kind is not Kind.INT or (divisor.is_const and divisor.value != 0):
            return plain(e, ctx)
        ctx.helpers.add("_nz")
        return _atom(f"{fn}({ctx.ten(ctx.num(e.args[0])).text}, _nz({ctx.num(divisor).text}){extra})")

    return handler


def _neg(e: Expr, ctx: _AssignCtx) -> Code:
    a = ctx.num(e.args[0])
    return Code(*join_prefix(a.src, "-"), a.tensor)


def _binary_tensors(fn: str) -> TorchHandler:
    return lambda e, ctx: _atom(
        f"{fn}({ctx.ten(ctx.num(e.args[0])).text}, {ctx.ten(ctx.num(e.args[1])).text})"
    )


def _bitwise(fn: str) -> TorchHandler:
    """torch.bitwise_*(a, b) on the operands' own dtypes (int or bool tensors: bool ~ is logical not, as in
    Triton); Python ints become int64 tensors."""

    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        args = [ctx.sub(a) for a in e.args]
        texts = [ctx.ten(args[0]).text] + [a.text for a in args[1:]]
        return _atom(f"{fn}({', '.join(texts)})")

    return handler


def _compare(tok: str) -> TorchHandler:
    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        a, b = ctx.num(e.args[0]), ctx.num(e.args[1])
        text, p = join_compare(a.src, b.src, tok)
        return Code(text, p, a.tensor or b.tensor)

    return handler


def _logic(tok: str, prec: int, fn: str) -> TorchHandler:
    def handler(e: Expr, ctx: _AssignCtx) -> Code:
        a, b = ctx.sub(e.args[0]), ctx.sub(e.args[1])
        if all(x.kind is Kind.BOOL for x in e.args):
            text, p = join_infix(a.src, b.src, tok, prec)
            return Code(text, p, a.tensor or b.tensor)
        return _atom(f"{fn}({ctx.ten(a).text}, {ctx.ten(b).text})")

    return handler


def _not(e: Expr, ctx: _AssignCtx) -> Code:
    a = ctx.sub(e.args[0])
    if e.args[0].kind is not Kind.BOOL:
        return _atom(f"torch.logical_not({ctx.ten(a).text})")
    if a.tensor:
        return Code(*join_prefix(a.src, "~"), True)
    return Code(*join_prefix(a.src, "not ", P_NOT), False)


def _where(e: Expr, ctx: _AssignCtx) -> Code:
    c, a, b = (ctx.sub(x) for x in e.args)
    cond = ctx.ten(c).text if e.args[0].kind is Kind.BOOL else f"{paren(ctx.ten(c).src, P_ATOM)} != 0"
    return _atom(f"torch.where({cond}, {ctx.ten(a).text}, {ctx.ten(b).text})")


def _cast(e: Expr, ctx: _AssignCtx) -> Code:
    (child,) = e.args
    a = ctx.sub(child)
    if e.kind is Kind.REAL:
        if not a.tensor and child.kind is not Kind.REAL:
            return Code(f"float({a.text})", P_ATOM, False)
        return _atom(f"{paren(ctx.ten(a).src, P_ATOM)}.to(torch.{ctx.real_dtype})")
    if child.kind is Kind.REAL:
        return _atom(f"torch.trunc({ctx.ten(a).text}).to(torch.int64)")
    if not a.tensor:
        return Code(f"int({a.text})", P_ATOM, False)
    return _atom(f"{paren(a.src, P_ATOM)}.to(torch.int64)")


def _const(e: Expr, ctx: _AssignCtx) -> Code:
    text = const_text(e.value)
    text = {"inf": "math.inf", "-inf": "-math.inf", "nan": "math.nan"}.get(text, text)
    return Code(text, P_UNARY if text.startswith("-") else P_ATOM, False)


def _var(e: Expr, ctx: _AssignCtx) -> Code:
    local = ctx.lookup(e.attr)
    if local is None:
        return Code(str(e.attr), P_ATOM, False)
    return Code(local, ctx.precedence.get(local, P_ATOM), True)


def _read(e: Expr, ctx: _AssignCtx) -> Code:
    ctx.helpers.add("_rd")
    idx = [ctx.sub(a).text for a in e.args]
    return _atom(f"_rd({', '.join([ctx.tensor_local(e.attr), *idx])})")


def _unsupported(e: Expr, ctx: _AssignCtx) -> Code:
    raise ValueError(f"cannot print {e.op.name} as PyTorch: {UNSUPPORTED_WHY[e.op]}")


REDUCE_CALL = {Op.SUM: "torch.sum", Op.PROD: "torch.prod", Op.RMAX: "torch.amax", Op.RMIN: "torch.amin"}
REDUCE_IDENTITY_TEXT = {Op.SUM: "0", Op.PROD: "1", Op.RMAX: "-math.inf", Op.RMIN: "math.inf"}


def _reduce(e: Expr, ctx: _AssignCtx) -> Code:
    """k on a fresh trailing dimension, lanes outside [lo, hi) masked with the identity, then reduced."""
    lo, hi, body = e.args
    n = ctx.counter()
    dim = ctx.dim_of_next_reduction()
    lo_c, hi_c = ctx.sub(lo), ctx.sub(hi)
    view = f".view({ctx.view_shape(dim)})"
    if lo == ZERO and not hi_c.tensor:
        k = ctx.enter(str(e.attr))
        hi_t = hi_c.text
        ctx.emit(f"{k} = torch.arange(({hi_t}) if ({hi_t}) > 1 else 1, device=_dev){view}")
        bound = hi_c
    else:
        ctx.helpers.add("_width")
        ctx.emit(f"_lo{n}, _hi{n} = {lo_c.text}, {hi_c.text}")
        k = ctx.enter(str(e.attr))
        ctx.emit(f"{k} = _lo{n} + torch.arange(_width(_lo{n}, _hi{n}), device=_dev){view}")
        bound = _atom(f"_hi{n}")
    value = ctx.ten(ctx.num(body))
    ctx.leave()
    identity = REDUCE_IDENTITY_TEXT[e.op]
    if e.kind is Kind.REAL and e.op in (Op.SUM, Op.PROD):
        identity += ".0"
    if e.kind is not Kind.REAL and e.op in (Op.RMAX, Op.RMIN):
        identity = ctx.ten(Code(identity, P_UNARY, False)).text  # float64: exact for int values
    mask = join_compare((k, P_ATOM), bound.src, "<")[0]
    ctx.emit(
        f"_r{n} = {REDUCE_CALL[e.op]}(torch.where({mask}, {value.text}, {identity}), dim={dim}, keepdim=True)"
    )
    return _atom(f"_r{n}")


def _argreduce(e: Expr, ctx: _AssignCtx) -> Code:
    """k on a fresh trailing dimension, lanes outside [lo, hi) padded with -inf (+inf for argmin), then
    torch.argmax (argmin), which returns the first index among equal extrema, shifted by lo."""
    lo, hi, body = e.args
    n = ctx.counter()
    dim = ctx.dim_of_next_reduction()
    lo_c, hi_c = ctx.sub(lo), ctx.sub(hi)
    ctx.helpers.add("_width")
    ctx.emit(f"_lo{n}, _hi{n} = {lo_c.text}, {hi_c.text}")
    k = ctx.enter(str(e.attr))
    ctx.emit(f"{k} = _lo{n} + torch.arange(_width(_lo{n}, _hi{n}), device=_dev).view({ctx.view_shape(dim)})")
    value = ctx.ten(ctx.num(body))
    ctx.leave()
    pad = "-math.inf" if e.op is Op.ARGMAX else "math.inf"
    mask = join_compare((k, P_ATOM), (f"_hi{n}", P_ATOM), "<")[0]
    ctx.emit(f"_r{n} = _lo{n} + torch.{e.op.value}(torch.where({mask}, {value.text}, {pad}), dim={dim}, keepdim=True)")
    return _atom(f"_r{n}")


def _leaky_relu(e: Expr, ctx: _AssignCtx) -> Code:
    slope = ctx.num(e.args[1])
    if slope.tensor:  # torch takes the slope as a number only: print the definition
        return ctx.sub(expand(e))
    return _atom(f"torch.nn.functional.leaky_relu({ctx.ten(ctx.num(e.args[0])).text}, {slope.text})")


def _expanded(e: Expr, ctx: _AssignCtx) -> Code:
    """A row operator inside an element formula: its definition (whole-tensor calls need tensor forms)."""
    return ctx.sub(expand_all(e))


TORCH_OPS: dict[Op, TorchHandler] = {
    Op.CONST: _const,
    Op.VAR: _var,
    Op.READ: _read,
    Op.ADD: _arith("+", P_ADD),
    Op.SUB: _arith("-", P_ADD),
    Op.MUL: _arith("*", P_MUL),
    Op.DIV: _arith("/", P_MUL),
    Op.NEG: _neg,
    Op.FLOORDIV: _int_division("torch.div", ', rounding_mode="floor"'),
    Op.MOD: _int_division("torch.remainder"),
    Op.TRUNCDIV: _int_division("torch.div", ', rounding_mode="trunc"'),
    Op.TRUNCMOD: _int_division("torch.fmod"),
    Op.MINIMUM: _binary_tensors("torch.minimum"),
    Op.MAXIMUM: _binary_tensors("torch.maximum"),
    Op.LT: _compare("<"),
    Op.LE: _compare("<="),
    Op.GT: _compare(">"),
    Op.GE: _compare(">="),
    Op.EQ: _compare("=="),
    Op.NE: _compare("!="),
    Op.AND: _logic("&", P_BITAND, "torch.logical_and"),
    Op.OR: _logic("|", P_BITOR, "torch.logical_or"),
    Op.NOT: _not,
    Op.WHERE: _where,
    Op.CAST: _cast,
    Op.EXP: _torch_fn("torch.exp"),
    Op.EXP2: _torch_fn("torch.exp2"),
    Op.LOG: _torch_fn("torch.log"),
    Op.LOG2: _torch_fn("torch.log2"),
    Op.SQRT: _torch_fn("torch.sqrt"),
    Op.RSQRT: _torch_fn("torch.rsqrt"),
    Op.SIGMOID: _torch_fn("torch.sigmoid"),
    Op.ABS: _torch_fn("torch.abs"),
    Op.ERF: _torch_fn("torch.special.erf"),
    Op.TANH: _torch_fn("torch.tanh"),
    Op.SIN: _torch_fn("torch.sin"),
    Op.COS: _torch_fn("torch.cos"),
    Op.FLOOR: _torch_fn("torch.floor"),
    Op.CEIL: _torch_fn("torch.ceil"),
    Op.POW: _torch_fn("torch.pow"),
    Op.TRUNC: _torch_fn("torch.trunc"),
    Op.TAN: _torch_fn("torch.tan"),
    Op.ASIN: _torch_fn("torch.asin"),
    Op.ACOS: _torch_fn("torch.acos"),
    Op.ATAN: _torch_fn("torch.atan"),
    Op.ATAN2: _binary_tensors("torch.atan2"),
    Op.FMOD: _torch_fn("torch.fmod"),
    Op.COPYSIGN: _torch_fn("torch.copysign"),
    Op.ISNAN: _torch_fn("torch.isnan"),
    Op.ISINF: _torch_fn("torch.isinf"),
    Op.ISFINITE: _torch_fn("torch.isfinite"),
    Op.SIGNBIT: _torch_fn("torch.signbit"),
    Op.BITAND: _bitwise("torch.bitwise_and"),
    Op.BITOR: _bitwise("torch.bitwise_or"),
    Op.BITXOR: _bitwise("torch.bitwise_xor"),
    Op.BITNOT: _bitwise("torch.bitwise_not"),
    Op.SHL: _bitwise("torch.bitwise_left_shift"),
    Op.SHR: _bitwise("torch.bitwise_right_shift"),
    Op.SUM: _reduce,
    Op.PROD: _reduce,
    Op.RMAX: _reduce,
    Op.RMIN: _reduce,
    Op.ARGMAX: _argreduce,
    Op.ARGMIN: _argreduce,
    Op.SILU: _torch_fn("torch.nn.functional.silu"),
    Op.GELU: _torch_fn("torch.nn.functional.gelu"),
    Op.GELU_TANH: _torch_fn("torch.nn.functional.gelu", ', approximate="tanh"'),
    Op.RELU: _torch_fn("torch.relu"),
    Op.LEAKY_RELU: _leaky_relu,
    Op.CLAMP: _torch_fn("torch.clamp"),
    Op.SOFTPLUS: _torch_fn("torch.nn.functional.softplus"),
    **{op: _expanded for op in sorted(ROW_OPS, key=lambda o: o.value)},
}


# ---------------------------------------------------------------------------------------------
# one assignment


def _identifier(name: str) -> str:
    text = re.sub(r"\W", "_", name)
    return "_" + text if not text or text[0].isdigit() or keyword.iskeyword(text) else text


class _AssignCtx:
    """Code generation state of one assignment: emitted lines, bound index variables, shared sub-terms."""

    def __init__(self, fn: _FunctionCtx, rank: int, depth: int, indent: str):
        self.fn = fn
        self.helpers = fn.helpers
        self.real_dtype = fn.real_dtype
        self.rank = rank
        self.ndim = rank + depth
        self.indent = indent
        self.lines: list[str] = []
        self.used: set[str] = set(fn.reserved)
        self.scopes: list[dict[str, str]] = [{}]  # var name -> local, innermost last
        self.memo: dict[tuple[Expr, tuple[str, ...]], Code] = {}
        self.shared: Counter[Expr] = Counter()
        self.precedence: dict[str, int] = {}  # the code of a whole-tensor operand bound to a variable
        self._count = 0

    # names and scopes
    def fresh(self, base: str) -> str:
        name, n = _identifier(base), 0
        while (name if n == 0 else f"{name}_{n}") in self.used:
            n += 1
        local = name if n == 0 else f"{name}_{n}"
        self.used.add(local)
        return local

    def counter(self) -> int:
        self._count += 1
        return self._count

    def enter(self, var_name: str) -> str:
        local = self.fresh(var_name)
        self.scopes.append({var_name: local})
        return local

    def leave(self) -> None:
        self.scopes.pop()

    def lookup(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def scope_key(self, e: Expr) -> tuple[str, ...]:
        """The bindings e depends on: the scopes up to the innermost one binding a free variable of e."""
        free, depth = self.fn.free(e), 0
        for s, scope in enumerate(self.scopes):
            if free & scope.keys():
                depth = s
        return tuple(local for scope in self.scopes[: depth + 1] for local in scope.values())

    def dim_of_next_reduction(self) -> int:
        return self.rank + len(self.scopes) - 1

    def view_shape(self, dim: int) -> str:
        return ", ".join("-1" if d == dim else "1" for d in range(self.ndim))

    def tensor_local(self, name: str) -> str:
        return self.fn.views.get(name, name)

    def emit(self, line: str) -> None:
        self.lines.append(self.indent + line)

    # expressions
    def is_host(self, e: Expr) -> bool:
        bound = {name for s in self.scopes for name in s}
        return self.fn.host_node(e) and not (self.fn.free(e) & bound)

    def sub(self, e: Expr) -> Code:
        if self.is_host(e):
            return Code(*self.fn.host(e), False)
        key = (e, self.scope_key(e))  # reused wherever the same bindings hold
        if key in self.memo:
            return self.memo[key]
        code = TORCH_OPS.get(e.op, _unsupported)(e, self)
        if self.shared[e] > 1 and code.tensor and not code.text.isidentifier():  # computed once
            local = f"_e{self.counter()}"
            self.emit(f"{local} = {code.text}")
            code = _atom(local)
        self.memo[key] = code
        return code

    def num(self, e: Expr) -> Code:
        """Code for e where arithmetic follows: bool tensors become int64 (torch adds bools as `or`)."""
        code = self.sub(e)
        if e.kind is Kind.BOOL and code.tensor:
            return _atom(f"{paren(code.src, P_ATOM)}.long()")
        return code

    def ten(self, code: Code) -> Code:
        if code.tensor:
            return code
        self.helpers.add("_ten")
        return _atom(f"_ten({code.text})")


def _depth(e: Expr) -> int:
    """The deepest nesting of reductions in e."""
    memo: dict[Expr, int] = {}
    for n in walk(e):
        inner = max((memo[a] for a in n.args), default=0)
        memo[n] = inner + (1 if n.op in REDUCE_CALL or n.op in (Op.ARGMAX, Op.ARGMIN) else 0)
    return memo[e]


# ---------------------------------------------------------------------------------------------
# the function


class _FunctionCtx:
    def __init__(self, f: Formula, real_dtype: str, whole: bool = False):
        self.f = f
        self.whole = whole
        self.real_dtype = real_dtype
        self.helpers: set[str] = set()
        self.views: dict[str, str] = {}
        self.reserved = {p.name for p in f.params} | {a.name for a in f.allocs} | set(HELPERS)
        self.reserved |= {"torch", "math", "_dev", "_v", "grid"}
        self._host: dict[Expr, bool] = {}
        self._free: dict[Expr, frozenset[str]] = {}

    def host_node(self, e: Expr) -> bool:
        """e and all its nodes are Python-int/bool computable (index variables are checked by the caller)."""
        if e not in self._host:
            ok = _host_node(e) and all(self.host_node(a) for a in e.args)
            self._host[e] = ok
        return self._host[e]

    def free(self, e: Expr) -> frozenset[str]:
        if e not in self._free:
            self._free[e] = frozenset(free_vars(e))
        return self._free[e]

    def host(self, e: Expr) -> Src:
        return host_src(e, self.helpers)

    def shape(self, items: tuple[Expr, ...]) -> str:
        return tuple_text([self.host(s)[0] for s in items])

    def view_local(self, t: TensorDecl) -> str:
        """A local for the view: the declared name where it is free (`x`), else `_t_x`."""
        local = _identifier(t.name)
        if local in self.reserved or local.startswith("_"):
            local = "_t_" + local.lstrip("_")
        while local in self.reserved:
            local += "_"
        self.reserved.add(local)
        self.views[t.name] = local
        return local


def _alloc_line(a: Alloc, fn: _FunctionCtx) -> str:
    make = "torch.zeros" if a.zeros else "torch.empty"
    if a.like is not None:
        return f"{a.name} = {make}_like({a.like})"
    if a.dtype is not None:
        where_ = f"dtype=torch.{a.dtype}, device=" + (f"{a.device_like}.device" if a.device_like else '"cpu"')
    elif a.dtype_like is not None:
        where_ = f"dtype={a.dtype_like}.dtype, device={a.dtype_like}.device"
    else:
        where_ = 'dtype=torch.float32, device="cpu"'
    shape = a.shape_text if a.shape_text is not None else fn.shape(a.shape)  # a shape of symbolic rank: its text
    return f"{a.name} = {make}({shape}, {where_})"


def _contiguous(shape: tuple[Expr, ...]) -> tuple[Expr, ...]:
    return contiguous_strides(shape)


def _own_shape(base: str, rank: int) -> tuple[Expr, ...]:
    return tuple(var(f"{base}.shape[{k}]") for k in range(rank))


def same_tensor(t: TensorDecl, f: Formula) -> str | None:
    """`x` when the view `t` is its base tensor itself (same shape, same strides, no offset), `x.view(-1)`
    when it is a contiguous base seen as a flat vector; None when it is some other view of the memory.

    Only an operator's tensors have a known layout: a parameter of known rank (its own `x.shape[k]` and
    `x.stride(k)`, or contiguous strides after `x = x.contiguous()`), a parameter of unknown rank made
    contiguous (read flat: `x.numel()` elements), and an allocation (contiguous; `empty_like` keeps the
    layout of a contiguous tensor, an assumption the result lists)."""
    if t.offset != ZERO or not f.returns:
        return None
    n = len(t.shape)
    flat = n == 1 and t.strides == (ONE,)
    params = {p.name for p in f.params if p.kind == "tensor"}
    allocs = {a.name: a for a in f.allocs}
    if t.base in params:
        if t.shape == _own_shape(t.base, n) and n > 0:
            if t.strides == tuple(var(f"{t.base}.stride({k})") for k in range(n)) and t.base not in f.contiguous:
                return t.base
            if t.base in f.contiguous and tuple(norm(x) for x in t.strides) == _contiguous(t.shape):
                return t.base
        if flat and t.base in f.contiguous and t.shape == (var(f"{t.base}.numel()"),):
            return f"{t.base}.view(-1)"
        return None
    a = allocs.get(t.base)
    if a is None or tuple(norm(x) for x in t.strides) != _contiguous(t.shape):
        return None
    if a.shape_text is not None:  # a shape of symbolic rank, read flat
        return f"{t.base}.view(-1)" if t.shape == a.shape else None
    if a.like is not None and a.shape == (var(f"{a.like}.numel()"),):  # like a tensor of unknown rank
        return f"{t.base}.view(-1)" if t.shape == a.shape else None
    if t.shape == a.shape:
        return t.base
    if flat and len(a.shape) > 1 and t.shape == (norm(_product(a.shape)),):
        return f"{t.base}.view(-1)"
    return None


def _product(items: tuple[Expr, ...]) -> Expr:
    out: Expr = ONE
    for s in items:
        out = mul(out, s)
    return out


def _decl_line(t: TensorDecl, fn: _FunctionCtx) -> str | None:
    itself = same_tensor(t, fn.f)
    if itself is not None:
        fn.views[t.name] = itself
        return None
    offset = f"{t.base}.storage_offset()"
    if t.offset != ZERO:
        offset += f" + {paren(fn.host(t.offset), P_ADD, strict=True)}"
    local = fn.view_local(t)
    if t.name not in {a.target for a in fn.f.assigns} and t.base not in {a.name for a in fn.f.allocs}:
        fn.helpers.add("_view")  # read only: a view may reach past the storage where every read is masked
        return f"{local} = _view({t.base}, {fn.shape(t.shape)}, {fn.shape(t.strides)}, {offset})"
    return f"{local} = torch.as_strided({t.base}, {fn.shape(t.shape)}, {fn.shape(t.strides)}, {offset})"


TENSOR_CALLS = {
    Op.SUM: "torch.sum", Op.PROD: "torch.prod", Op.RMAX: "_amax", Op.RMIN: "_amin",
    Op.MEAN: "torch.mean", Op.LOGSUMEXP: "torch.logsumexp", Op.SOFTMAX: "torch.softmax",
    Op.LOG_SOFTMAX: "torch.log_softmax", Op.ARGMAX: "torch.argmax", Op.ARGMIN: "torch.argmin",
}  # fmt: skip


class _TensorNotation:
    """PyTorch code for a whole-tensor form (ir.tensor_form): calls on the views, `a @ b`, `x.T`."""

    def __init__(self, ctx: _AssignCtx):
        self.ctx = ctx

    def ref(self, r: Any) -> Src:
        local = self.ctx.tensor_local(r.name)
        return (f"{local}.T" if r.transposed else local), P_ATOM

    def scalar(self, e: Expr) -> Src:
        return self.ctx.sub(e).src

    def align(self, src: Src, pad: tuple[bool, ...]) -> Src:
        return f"{paren(src, P_ATOM)}[{', '.join('None' if p else ':' for p in pad)}]", P_ATOM

    def node(self, m: Any, args: list[Src]) -> Src:
        holed, pos = placeholders(m.node)
        # scalar operands go back in as terms (Python numbers, not tensors); the others as their code
        scalars = {h: m.args[n].expr for h, n in pos.items() if isinstance(m.args[n], Scalar)}
        holed = Expr(holed.op, tuple(scalars.get(h, h) for h in holed.args), holed.attr, holed.kind)
        scope = {str(h.attr): args[n][0] for h, n in pos.items() if h not in scalars}
        self.ctx.precedence.update({args[n][0]: args[n][1] for h, n in pos.items() if h not in scalars})
        self.ctx.scopes.append(scope)
        try:
            code = self.ctx.sub(holed)
        finally:
            self.ctx.scopes.pop()
        return code.src

    def reduce(self, t: Any, child: Src, weight: Src | None = None, bias: Src | None = None) -> Src:
        x = child[0]
        if t.scan:
            return f"torch.cum{'sum' if t.op is Op.SUM else 'prod'}({x}, dim={t.dim})", P_ATOM
        if t.op in TENSOR_CALLS:
            if TENSOR_CALLS[t.op].startswith("_"):
                self.ctx.helpers.add(TENSOR_CALLS[t.op])
            return f"{TENSOR_CALLS[t.op]}({x}, dim={t.dim})", P_ATOM
        if t.op in (Op.VARIANCE, Op.STD):
            return f"torch.{'var' if t.op is Op.VARIANCE else 'std'}({x}, dim={t.dim}, correction=0)", P_ATOM
        eps = self.ctx.sub(t.extra[0]).text
        if t.op is Op.NORMALIZE:
            return f"torch.nn.functional.normalize({x}, p=2.0, dim={t.dim}, eps={eps})", P_ATOM
        size = self.ctx.fn.host(t.size)[0]
        affine = [v[0] for v in (weight, bias) if v is not None]
        if t.op is Op.LAYER_NORM and weight is None and bias is not None:
            affine = ["None", bias[0]]
        fn = "layer_norm" if t.op is Op.LAYER_NORM else "rms_norm"
        return f"torch.nn.functional.{fn}({', '.join([x, f'({size},)', *affine])}, eps={eps})", P_ATOM

    def matmul(self, a: Src, b: Src) -> Src:
        return join_infix(a, b, "@", P_MUL)


def _tensor_assign_lines(a: Assign, fn: _FunctionCtx, view: str) -> list[str] | None:
    """The assignment as one whole-tensor expression: `out.copy_(torch.softmax(x, dim=1))`, or None.

    copy_ casts to the output's dtype and broadcasts, as the elementwise store does."""
    t = tensor_form(a, fn.f)
    if t is None:
        return None
    ctx = _AssignCtx(fn, fn.f.tensor(a.target).ndim, 0, "    ")
    shaped = _unflattened(t, a.target, fn)
    saved = dict(fn.views)
    fn.views.update(shaped)
    try:
        value = render_tensor(t, _TensorNotation(ctx))  # type: ignore[arg-type]
    finally:
        fn.views.clear()
        fn.views.update(saved)
    view = shaped.get(a.target, view)
    if isinstance(t, Scalar) and not ctx.sub(t.expr).tensor:
        ctx.emit(f"{view}.fill_({value[0]})")
    else:
        ctx.emit(f"{view}.copy_({value[0]})")
    return ctx.lines


def _unflattened(t: Any, target: str, fn: _FunctionCtx) -> dict[str, str]:
    """Elementwise math over flat views `x.view(-1)` of contiguous tensors that have one shape (the
    assumptions say so, or an `empty_like`) is the same math over the tensors themselves: view name ->
    the tensor, or {} when that does not hold."""
    if not all(isinstance(n, (Ref, Scalar, Map)) for n in forms(t)):
        return {}
    names = {n.name for n in forms(t) if isinstance(n, Ref)} | {target}
    flat = ".view(-1)"
    shown = {n: fn.views.get(n, "") for n in names}
    if not all(v.endswith(flat) and v[: -len(flat)].isidentifier() for v in shown.values()):
        return {}
    bases = {n: v[: -len(flat)] for n, v in shown.items()}
    classes = same_shape_classes(fn.f)
    if len({classes.get(b, b) for b in bases.values()}) != 1:
        return {}
    return bases


def _assign_lines(a: Assign, fn: _FunctionCtx) -> list[str]:
    try:
        target = fn.f.tensor(a.target)
    except KeyError:
        raise ValueError(f"assignment to undeclared tensor {a.target}") from None
    if len(a.index) != target.ndim:
        raise ValueError(f"{a.target} has {target.ndim} dimensions, assigned with {len(a.index)} indices")
    view = fn.views[a.target]
    if fn.whole:
        lines = _tensor_assign_lines(a, fn, view)
        if lines is not None:
            return lines
    if contains(a.body, lambda n: n.op in ROW_OPS):  # printed as their definitions: count their reductions
        a = Assign(a.target, a.index, transform(a.body, lambda n: expand_all(n) if n.op in ROW_OPS else None))
    head: list[str] = []
    if not view.isidentifier():  # `out.view(-1)`: named once
        local = fn.view_local(target)
        head.append(f"    {local} = {view}")
        view = local
    depth = _depth(a.body)
    ctx = _AssignCtx(fn, target.ndim, depth, "        ")
    for n in walk(a.body):
        for child in n.args:
            ctx.shared[child] += 1
    ctx.emit(f"_dev = {view}.device")
    for d, (name, extent) in enumerate(zip(a.index, target.shape, strict=True)):
        local = ctx.fresh(name)
        ctx.scopes[0][name] = local
        ctx.emit(f"{local} = torch.arange({fn.host(extent)[0]}, device=_dev).view({ctx.view_shape(d)})")
    value = ctx.sub(a.body)
    ctx.emit(f"_v = {value.text}")
    squeeze = f"[..., {', '.join(['0'] * depth)}]" if depth else ""
    ctx.emit(
        f"{view}.copy_(torch.broadcast_to(torch.as_tensor(_v, dtype={view}.dtype){squeeze}, {view}.shape))"
    )
    return [*head, f"    if {view}.numel() > 0:", *ctx.lines]


def _helper_lines(used: set[str]) -> list[str]:
    names = sorted(used | {dep for name in used for dep in HELPER_DEPS.get(name, ())})
    lines: list[str] = []
    for name in names:
        lines += [line and "    " + line for line in HELPERS[name].strip("\n").split("\n")] + [""]
    return lines


def _uses_grid(f: Formula) -> bool:
    exprs = [*(e for t in f.tensors for e in (*t.shape, *t.strides, t.offset)), *(a.body for a in f.assigns)]
    return any(n.op is Op.VAR and str(n.attr).startswith("grid[") for e in exprs for n in walk(e))


def formula_torch(f: Formula, real_dtype: str = "float32", whole: bool = False) -> str:
    """The source of `def {f.name}({params}): ...`, performing the formula's writes with PyTorch.

    A kernel's function writes into its tensor arguments in place; an operator's allocates and returns.
    `real_dtype` is the dtype that int-to-real casts produce. MEM and UNDEF raise ValueError. With
    `whole`, an assignment that is a whole-tensor expression (ir.tensor_form) is computed as one.
    """
    fn = _FunctionCtx(f, real_dtype, whole)
    body = [f"    {name} = {name}.contiguous()" for name in f.contiguous]
    body += [f"    {_alloc_line(a, fn)}" for a in f.allocs]
    # the views first: a local where a view is some window of the memory (torch.as_strided), none where it
    # is the tensor itself
    for t in f.tensors:
        line = _decl_line(t, fn)
        if line is not None:
            body.append(f"    {line}")
    for a in f.assigns:
        body += _assign_lines(a, fn)
    if f.returns:
        body.append(f"    return {f.returns[0] if len(f.returns) == 1 else ', '.join(f.returns)}")
    items = []
    for p in f.params:
        if p.keyword_only and "*" not in items:
            items.append("*")
        items.append(p.name if p.default is None else f"{p.name}={p.default}")
    params = ", ".join(items)
    if _uses_grid(f) and "grid" not in {p.name for p in f.params}:
        # a kernel whose domain only its launch grid fixes; keyword-only after parameters with defaults
        grid = "*, grid" if any(p.default is not None for p in f.params) else "grid"
        params += f", {grid}" if params else grid
    head = [f"def {f.name}({params}):", "    import math", "    import torch", ""]
    helpers = _helper_lines(fn.helpers)
    return "\n".join(head + helpers + body) + "\n"
