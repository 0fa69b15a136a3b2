"""The one formula IR: immutable, structurally-equal expression nodes shared by every stage."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any


class Kind(Enum):
    """Value kind of a node: integers (indices, sizes), reals (tensor values) or booleans."""

    INT = "int"
    REAL = "real"
    BOOL = "bool"


class Op(Enum):
    """Every operation of the IR, grouped by family. Back ends key their tables on these."""

    # leaves
    CONST = "const"  # attr: the value (int, float, bool)
    VAR = "var"  # attr: the name (sizes, strides, index variables, scalar arguments)
    # memory and tensors
    READ = "read"  # attr: tensor name; args: one index per dimension (a formula-level element read)
    MEM = "mem"  # attr: pointer parameter; args: (flat element offset,) (a pointer-level read)
    UNDEF = "undef"  # attr: a tag; args: what it depends on (a masked-off load without `other=`)
    # arithmetic (int or real, by kind)
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"  # true division: the result is real
    NEG = "neg"
    FLOORDIV = "floordiv"  # Python's // (rounds toward -inf): host code
    MOD = "mod"  # Python's % (sign of the divisor): host code
    TRUNCDIV = "truncdiv"  # C/Triton // on integers (rounds toward zero): kernel code
    TRUNCMOD = "truncmod"  # C/Triton % on integers (sign of the dividend): kernel code
    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    # comparisons (result BOOL)
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    EQ = "eq"
    NE = "ne"
    # logic
    AND = "and"
    OR = "or"
    NOT = "not"
    WHERE = "where"  # args: (cond, then, else)
    # conversions
    CAST = "cast"  # attr: target dtype name; real->int truncates, int->real exact, real->real identity
    # math functions (real -> real)
    EXP = "exp"
    EXP2 = "exp2"
    LOG = "log"
    LOG2 = "log2"
    SQRT = "sqrt"
    RSQRT = "rsqrt"
    SIGMOID = "sigmoid"
    ABS = "abs"
    ERF = "erf"
    TANH = "tanh"
    SIN = "sin"
    COS = "cos"
    FLOOR = "floor"
    CEIL = "ceil"
    TRUNC = "trunc"  # rounds toward zero
    TAN = "tan"
    ASIN = "asin"
    ACOS = "acos"
    ATAN = "atan"
    POW = "pow"  # binary
    ATAN2 = "atan2"  # binary: atan2(y, x), the angle of the point (x, y)
    FMOD = "fmod"  # binary: C fmod, a - b * trunc(a / b) (the sign of the dividend): Triton's % on floats
    COPYSIGN = "copysign"  # binary: |a| with the sign of b
    # floating-point predicates (real -> bool). Values are reals: see `PREDICATE_OPS` for what that means
    ISNAN = "isnan"
    ISINF = "isinf"
    ISFINITE = "isfinite"
    SIGNBIT = "signbit"
    # integer bit operations (two's complement). args keep their kinds: an INT arg is index arithmetic, a REAL
    # arg is a loaded element of an integer (or bool) tensor; the result is REAL when any arg is
    BITAND = "bitwise_and"
    BITOR = "bitwise_or"
    BITXOR = "bitwise_xor"
    BITNOT = "bitwise_not"  # unary
    SHL = "bitwise_left_shift"
    SHR = "bitwise_right_shift"  # arithmetic shift of signed values (floor(a / 2**b))
    # reductions: attr = bound index variable name; args = (lo, hi, body) meaning op over lo <= k < hi
    SUM = "sum"
    PROD = "prod"
    RMAX = "rmax"
    RMIN = "rmin"
    # index-valued reductions, args = (lo, hi, body): the first k in [lo, hi) where body is largest
    # (smallest); lo for an empty range. `-inf` (`+inf`) lies below (above) every real value.
    ARGMAX = "argmax"
    ARGMIN = "argmin"
    # named elementwise operators: each is defined in terms of the ops above by `ir.named.expand`
    SILU = "silu"  # x * sigmoid(x)
    GELU = "gelu"  # 0.5 * x * (1 + erf(x / sqrt(2)))
    GELU_TANH = "gelu_tanh"  # 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))
    RELU = "relu"  # where(x > 0, x, 0)
    LEAKY_RELU = "leaky_relu"  # args (x, slope): where(x > 0, x, slope * x)
    CLAMP = "clamp"  # args (x, lo, hi): minimum(maximum(x, lo), hi)
    SOFTPLUS = "softplus"  # log(1 + exp(x))
    # named row operators over a bound index (attr, as reductions): args = (lo, hi, body, *extra), the row
    # being body for attr in range(lo, hi); `at` picks the output element of a row-valued operator
    MEAN = "mean"  # (lo, hi, body): sum / (hi - lo)
    VARIANCE = "variance"  # (lo, hi, body): population variance, mean((body - mean)**2)
    LOGSUMEXP = "logsumexp"  # (lo, hi, body): log(sum(exp(body)))
    SOFTMAX = "softmax"  # (lo, hi, body, at): exp(body[attr := at]) / sum(exp(body))
    LOG_SOFTMAX = "log_softmax"  # (lo, hi, body, at): body[attr := at] - logsumexp(body)
    LAYER_NORM = "layer_norm"  # (lo, hi, body, at, eps): (body[attr := at] - mean) / sqrt(var + eps)
    RMS_NORM = "rms_norm"  # (lo, hi, body, at, eps): body[attr := at] / sqrt(mean(body**2) + eps)
    STD = "std"  # (lo, hi, body): population standard deviation, sqrt(variance)
    NORMALIZE = "normalize"  # (lo, hi, body, at, eps): body[attr := at] / maximum(sqrt(sum(body**2)), eps)


ARITH_OPS = frozenset({Op.ADD, Op.SUB, Op.MUL, Op.NEG, Op.MINIMUM, Op.MAXIMUM})
INT_DIV_OPS = frozenset({Op.FLOORDIV, Op.MOD, Op.TRUNCDIV, Op.TRUNCMOD})
COMPARE_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE})
LOGIC_OPS = frozenset({Op.AND, Op.OR, Op.NOT})
UNARY_MATH_OPS = frozenset(
    {
        Op.EXP,
        Op.EXP2,
        Op.LOG,
        Op.LOG2,
        Op.SQRT,
        Op.RSQRT,
        Op.SIGMOID,
        Op.ABS,
        Op.ERF,
        Op.TANH,
        Op.SIN,
        Op.COS,
        Op.FLOOR,
        Op.CEIL,
        Op.TRUNC,
        Op.TAN,
        Op.ASIN,
        Op.ACOS,
        Op.ATAN,
    }
)
BINARY_MATH_OPS = frozenset({Op.POW, Op.ATAN2, Op.FMOD, Op.COPYSIGN})
MATH_OPS = UNARY_MATH_OPS | BINARY_MATH_OPS
# isnan, isinf, isfinite, signbit of a value. Values are reals: no variable is ever nan or infinite, but the
# constants inf, -inf and nan (masked lanes of a max, other=float("nan")) are, so the verifier knows these
# predicates on constants exactly and nothing on other terms (uninterpreted: a proof cannot use a fact about
# them that IEEE would contradict); signbit(x) is x < 0 away from zero (signed zeros are outside the model)
PREDICATE_OPS = frozenset({Op.ISNAN, Op.ISINF, Op.ISFINITE, Op.SIGNBIT})
BIT_OPS = frozenset({Op.BITAND, Op.BITOR, Op.BITXOR, Op.BITNOT, Op.SHL, Op.SHR})
REDUCE_OPS = frozenset({Op.SUM, Op.PROD, Op.RMAX, Op.RMIN})
NAMED_ELEMENTWISE_OPS = frozenset(
    {Op.SILU, Op.GELU, Op.GELU_TANH, Op.RELU, Op.LEAKY_RELU, Op.CLAMP, Op.SOFTPLUS}
)
ROW_REDUCE_OPS = frozenset({Op.MEAN, Op.VARIANCE, Op.STD, Op.LOGSUMEXP})  # a row to one value: (lo, hi, body)
ROW_MAP_OPS = frozenset({Op.SOFTMAX, Op.LOG_SOFTMAX, Op.LAYER_NORM, Op.RMS_NORM, Op.NORMALIZE})  # (lo, hi, body, at, ..)
ROW_EPS_OPS = frozenset({Op.LAYER_NORM, Op.RMS_NORM, Op.NORMALIZE})  # row maps with an eps: (lo, hi, body, at, eps)
ROW_OPS = ROW_REDUCE_OPS | ROW_MAP_OPS
NAMED_OPS = NAMED_ELEMENTWISE_OPS | ROW_OPS
ARG_OPS = frozenset({Op.ARGMAX, Op.ARGMIN})
# ops binding their attr as an index variable in args[2] (the body) only
BINDER_OPS = REDUCE_OPS | ROW_OPS | ARG_OPS
# identities of the reductions, as Python values (the empty reduction)
REDUCE_IDENTITY: dict[Op, float] = {Op.SUM: 0.0, Op.PROD: 1.0, Op.RMAX: -math.inf, Op.RMIN: math.inf}


_INTERNED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Expr:
    """An immutable IR node. Equality is structural; constants compare by kind and value (1 != 1.0)."""

    __slots__ = ("op", "args", "attr", "kind", "_hash", "_akey", "__weakref__")
    op: Op
    args: tuple[Expr, ...]
    attr: Any
    kind: Kind

    def __new__(cls, op: Op, args: tuple[Expr, ...] = (), attr: Any = None, kind: Kind = Kind.REAL) -> Expr:
        # hash-consed: equal nodes are one object (their children already are), so equality of large equal
        # trees, a dictionary hit on an expression, is an identity test, not a walk of both trees
        akey = _attr_key(attr)
        key = (op, args, akey, kind)
        try:
            hit = _INTERNED.get(key)
        except TypeError:  # an attribute that does not hash: not shared
            hit, key = None, None
        if hit is not None:
            return hit
        self = object.__new__(cls)
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "attr", attr)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "_akey", akey)
        object.__setattr__(self, "_hash", hash((op, args, akey, kind)))
        if key is not None:
            _INTERNED[key] = self
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Expr is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Expr) or self._hash != other._hash:
            return False
        return (
            self.op is other.op
            and self.kind is other.kind
            and self._akey == other._akey
            and self.args == other.args
        )

    def __repr__(self) -> str:
        from tritonlift.ir.printer import to_text

        return f"Expr({to_text(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Expr, (self.op, self.args, self.attr, self.kind))

    # -- convenience -------------------------------------------------------------------------
    @property
    def is_const(self) -> bool:
        return self.op is Op.CONST

    @property
    def value(self) -> Any:
        assert self.op is Op.CONST
        return self.attr

    @property
    def name(self) -> str:
        assert self.op in (Op.VAR, Op.READ, Op.MEM)
        return str(self.attr)


def _attr_key(attr: Any) -> Any:
    # constants compare by type and value: 1, 1.0 and True are different constants
    if isinstance(attr, (bool, int, float)):
        if isinstance(attr, float) and math.isnan(attr):
            return ("nan",)
        if isinstance(attr, float) and attr == 0.0 and math.copysign(1.0, attr) < 0:
            return ("float", "-0.0")  # -0.0 == 0.0 in Python, but signbit tells them apart (and nodes are shared)
        return (type(attr).__name__, attr)
    return attr


# ---------------------------------------------------------------------------------------------
# leaves


def const(value: bool | int | float) -> Expr:
    if isinstance(value, bool):
        return Expr(Op.CONST, (), value, Kind.BOOL)
    if isinstance(value, int):
        return Expr(Op.CONST, (), value, Kind.INT)
    return Expr(Op.CONST, (), float(value), Kind.REAL)


def var(name: str, kind: Kind = Kind.INT) -> Expr:
    return Expr(Op.VAR, (), name, kind)


def read(tensor: str, *index: Expr) -> Expr:
    return Expr(Op.READ, tuple(index), tensor, Kind.REAL)


def mem(ptr: str, offset: Expr) -> Expr:
    return Expr(Op.MEM, (offset,), ptr, Kind.REAL)


def undef(tag: str, *deps: Expr, kind: Kind = Kind.REAL) -> Expr:
    return Expr(Op.UNDEF, tuple(deps), tag, kind)


TRUE = const(True)
FALSE = const(False)
ZERO = const(0)
ONE = const(1)


# ---------------------------------------------------------------------------------------------
# kinds


def join_kind(a: Kind, b: Kind) -> Kind:
    """Arithmetic promotion: anything with a real is real; bool behaves as int."""
    if Kind.REAL in (a, b):
        return Kind.REAL
    return Kind.INT


def to_real(e: Expr) -> Expr:
    if e.kind is Kind.REAL:
        return e
    if e.op is Op.CONST:
        return const(float(e.value))
    return Expr(Op.CAST, (e,), "fp32", Kind.REAL)


# ---------------------------------------------------------------------------------------------
# smart constructors: exact folding only (every fold is an identity over ints/reals)


def _fold(op: Op, vals: list[Any]) -> Any:
    a = vals[0]
    b = vals[1] if len(vals) > 1 else None
    match op:
        case Op.ADD:
            return a + b
        case Op.SUB:
            return a - b
        case Op.MUL:
            return a * b
        case Op.NEG:
            return -a
        case Op.MINIMUM:
            return min(a, b)
        case Op.MAXIMUM:
            return max(a, b)
        case Op.FLOORDIV:
            return a // b
        case Op.MOD:
            return a % b
        case Op.TRUNCDIV:
            return trunc_div(a, b)
        case Op.TRUNCMOD:
            return a - b * trunc_div(a, b)
    raise KeyError(op)


def trunc_div(a: int, b: int) -> int:
    """C/Triton integer division: rounds toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def arith(op: Op, a: Expr, b: Expr | None = None) -> Expr:
    if op is Op.NEG:
        assert b is None
        if a.is_const and a.kind is not Kind.BOOL:
            return const(-a.value)
        if a.op is Op.NEG:
            return a.args[0]
        return Expr(Op.NEG, (a,), None, Kind.INT if a.kind is Kind.BOOL else a.kind)
    assert b is not None
    kind = join_kind(a.kind, b.kind)
    if kind is Kind.REAL:
        a, b = to_real(a), to_real(b)
    if a.is_const and b.is_const and kind is Kind.INT:
        if op in INT_DIV_OPS and b.value == 0:
            return Expr(op, (a, b), None, kind)
        return const(int(_fold(op, [int(a.value), int(b.value)])))
    if a.is_const and b.is_const and kind is Kind.REAL and op in ARITH_OPS:
        return const(float(_fold(op, [a.value, b.value])))
    if op is Op.ADD:
        if _is_zero(a):
            return b
        if _is_zero(b):
            return a
    elif op is Op.SUB:
        if _is_zero(b):
            return a
        if a == b:
            return const(0) if kind is Kind.INT else const(0.0)
    elif op is Op.MUL:
        if _is_one(a):
            return b
        if _is_one(b):
            return a
        if kind is Kind.INT and (_is_zero(a) or _is_zero(b)):
            return ZERO
    elif op in (Op.FLOORDIV, Op.TRUNCDIV, Op.MOD, Op.TRUNCMOD) and _is_one(b):
        return a if op in (Op.FLOORDIV, Op.TRUNCDIV) else ZERO
    return Expr(op, (a, b), None, kind)


def _is_zero(e: Expr) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and e.value == 0


def _is_one(e: Expr) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and e.value == 1


def add(a: Expr, b: Expr) -> Expr:
    return arith(Op.ADD, a, b)


def sub(a: Expr, b: Expr) -> Expr:
    return arith(Op.SUB, a, b)


def mul(a: Expr, b: Expr) -> Expr:
    return arith(Op.MUL, a, b)


def neg(a: Expr) -> Expr:
    return arith(Op.NEG, a)


def div(a: Expr, b: Expr) -> Expr:
    """True division (real result)."""
    a, b = to_real(a), to_real(b)
    if b.is_const and b.value == 1.0:
        return a
    return Expr(Op.DIV, (a, b), None, Kind.REAL)


def minimum(a: Expr, b: Expr) -> Expr:
    if a == b:
        return a
    return arith(Op.MINIMUM, a, b)


def maximum(a: Expr, b: Expr) -> Expr:
    if a == b:
        return a
    return arith(Op.MAXIMUM, a, b)


def compare(op: Op, a: Expr, b: Expr) -> Expr:
    assert op in COMPARE_OPS
    if join_kind(a.kind, b.kind) is Kind.REAL:
        a, b = to_real(a), to_real(b)
    if a.is_const and b.is_const:
        x, y = a.value, b.value
        res = {
            Op.LT: x < y,
            Op.LE: x <= y,
            Op.GT: x > y,
            Op.GE: x >= y,
            Op.EQ: x == y,
            Op.NE: x != y,
        }[op]
        return const(bool(res))
    return Expr(op, (a, b), None, Kind.BOOL)


def lt(a: Expr, b: Expr) -> Expr:
    return compare(Op.LT, a, b)


def le(a: Expr, b: Expr) -> Expr:
    return compare(Op.LE, a, b)


def eq(a: Expr, b: Expr) -> Expr:
    return compare(Op.EQ, a, b)


def and_(*items: Expr) -> Expr:
    flat: list[Expr] = []
    for it in items:
        for c in conjuncts(it):
            if c == FALSE:
                return FALSE
            if c != TRUE and c not in flat:
                flat.append(c)
    if not flat:
        return TRUE
    out = flat[0]
    for c in flat[1:]:
        out = Expr(Op.AND, (out, c), None, Kind.BOOL)
    return out


def or_(a: Expr, b: Expr) -> Expr:
    if a == TRUE or b == TRUE:
        return TRUE
    if a == FALSE:
        return b
    if b == FALSE:
        return a
    if a == b:
        return a
    return Expr(Op.OR, (a, b), None, Kind.BOOL)


def not_(a: Expr) -> Expr:
    if a.is_const:
        return const(not a.value)
    if a.op is Op.NOT:
        return a.args[0]
    return Expr(Op.NOT, (a,), None, Kind.BOOL)


def conjuncts(e: Expr) -> list[Expr]:
    if e.op is Op.AND:
        return conjuncts(e.args[0]) + conjuncts(e.args[1])
    return [e]


def where(c: Expr, a: Expr, b: Expr) -> Expr:
    if c == TRUE:
        return a
    if c == FALSE:
        return b
    if a == b:
        return a
    if join_kind(a.kind, b.kind) is Kind.REAL or Kind.REAL in (a.kind, b.kind):
        a, b = to_real(a), to_real(b)
    kind = a.kind if a.kind == b.kind else join_kind(a.kind, b.kind)
    return Expr(Op.WHERE, (c, a, b), None, kind)


def cast(e: Expr, dtype: str) -> Expr:
    """Cast to a Triton dtype name: floats are reals (identity over reals), ints truncate, bool tests != 0."""
    if dtype in FLOAT_DTYPES:
        if e.kind is Kind.REAL:
            return e
        return to_real(e)
    if dtype in INT_DTYPES:
        if e.kind is Kind.INT:
            return e
        if e.is_const and math.isfinite(e.value):  # int(inf), int(nan) raise: keep those casts symbolic
            return const(int(e.value))
        return Expr(Op.CAST, (e,), dtype, Kind.INT)
    if dtype == "int1":
        if e.kind is Kind.BOOL:
            return e
        zero = const(0) if e.kind is Kind.INT else const(0.0)
        return compare(Op.NE, e, zero)
    raise ValueError(f"unknown dtype {dtype}")


FLOAT_DTYPES = frozenset(
    {"fp16", "bf16", "fp32", "fp64", "fp8e4nv", "fp8e5", "float16", "bfloat16", "float32", "float64"}
)
INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})


def math_fn(op: Op, *args: Expr) -> Expr:
    assert op in MATH_OPS
    rargs = tuple(to_real(a) for a in args)
    return Expr(op, rargs, None, Kind.REAL)


def predicate(op: Op, a: Expr) -> Expr:
    """isnan(a), isinf(a), isfinite(a), signbit(a): a bool."""
    assert op in PREDICATE_OPS
    a = to_real(a)
    if a.is_const:
        v = a.value
        folded = {
            Op.ISNAN: math.isnan(v),
            Op.ISINF: math.isinf(v),
            Op.ISFINITE: math.isfinite(v),
            Op.SIGNBIT: math.copysign(1.0, v) < 0,
        }[op]
        return const(folded)
    return Expr(op, (a,), None, Kind.BOOL)


def bitwise(op: Op, a: Expr, b: Expr | None = None) -> Expr:
    """A two's-complement bit operation on integer values (bools count as 0/1); exact folding of constants."""
    assert op in BIT_OPS and (b is None) == (op is Op.BITNOT)
    args = (a,) if b is None else (a, b)
    args = tuple(cast(x, "int32") if x.kind is Kind.BOOL else x for x in args)
    kind = Kind.REAL if any(x.kind is Kind.REAL for x in args) else Kind.INT
    if kind is Kind.INT and all(x.is_const for x in args):
        v = [int(x.value) for x in args]
        if op in (Op.SHL, Op.SHR) and not 0 <= v[1] <= 64:
            return Expr(op, args, None, kind)  # a negative or huge shift count: kept symbolic
        return const(int(_BIT_FOLD[op](*v)))
    return Expr(op, args, None, kind)


_BIT_FOLD: dict[Op, Callable[..., int]] = {
    Op.BITAND: lambda a, b: a & b,
    Op.BITOR: lambda a, b: a | b,
    Op.BITXOR: lambda a, b: a ^ b,
    Op.BITNOT: lambda a: ~a,
    Op.SHL: lambda a, b: a << b,
    Op.SHR: lambda a, b: a >> b,
}


def reduce(op: Op, index: str, lo: Expr, hi: Expr, body: Expr) -> Expr:
    assert op in REDUCE_OPS
    return Expr(op, (lo, hi, body), index, body.kind if body.kind is not Kind.BOOL else Kind.INT)


def argreduce(op: Op, index: str, lo: Expr, hi: Expr, body: Expr) -> Expr:
    """The first index k in [lo, hi) where `body` is largest (ARGMAX) or smallest (ARGMIN); lo when empty."""
    assert op in ARG_OPS
    return Expr(op, (lo, hi, to_real(body)), index, Kind.INT)


def named(op: Op, *args: Expr) -> Expr:
    """A named elementwise operator applied to real arguments (see `ir.named`)."""
    assert op in NAMED_ELEMENTWISE_OPS
    return Expr(op, tuple(to_real(a) for a in args), None, Kind.REAL)


def row(op: Op, index: str, lo: Expr, hi: Expr, body: Expr, *extra: Expr) -> Expr:
    """A named row operator over `body for index in range(lo, hi)`: extra = (at,) or (at, eps) or ()."""
    assert op in ROW_OPS
    want = 0 if op in ROW_REDUCE_OPS else 2 if op in ROW_EPS_OPS else 1
    assert len(extra) == want, f"{op.name} takes {want} extra argument(s)"
    if op in ROW_EPS_OPS:
        extra = (extra[0], to_real(extra[1]))
    return Expr(op, (lo, hi, to_real(body), *extra), index, Kind.REAL)


# ---------------------------------------------------------------------------------------------
# traversal


def walk(e: Expr) -> Iterator[Expr]:
    """Every node of e, each distinct node once, children before parents."""
    seen: set[Expr] = set()
    stack: list[tuple[Expr, bool]] = [(e, False)]
    while stack:
        node, done = stack.pop()
        if done:
            yield node
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for a in node.args:
            stack.append((a, False))


def rebuild(e: Expr, args: tuple[Expr, ...]) -> Expr:
    """The same node with new children, re-normalised through the smart constructors."""
    op = e.op
    if args == e.args:
        return e
    if op in ARITH_OPS or op in INT_DIV_OPS:
        return arith(op, *args)
    if op is Op.DIV:
        return div(*args)
    if op in COMPARE_OPS:
        return compare(op, *args)
    if op is Op.AND:
        return and_(*args)
    if op is Op.OR:
        return or_(*args)
    if op is Op.NOT:
        return not_(args[0])
    if op is Op.WHERE:
        return where(*args)
    if op is Op.CAST:
        return cast(args[0], e.attr)
    if op in MATH_OPS:
        return math_fn(op, *args)
    if op in PREDICATE_OPS:
        return predicate(op, *args)
    if op in BIT_OPS:
        return bitwise(op, *args)
    if op in NAMED_ELEMENTWISE_OPS:
        return named(op, *args)
    return Expr(op, args, e.attr, e.kind)


def transform(e: Expr, fn: Callable[[Expr], Expr | None], memo: dict[Expr, Expr] | None = None) -> Expr:
    """Bottom-up rewrite: fn(node) returns a replacement or None to keep the (rebuilt) node."""
    memo = {} if memo is None else memo
    for node in walk(e):
        new = rebuild(node, tuple(memo[a] for a in node.args))
        rep = fn(new)
        memo[node] = new if rep is None else rep
    return memo[e]


def substitute(e: Expr, mapping: dict[Expr, Expr]) -> Expr:
    """Replace sub-terms (typically variables) simultaneously, respecting bound reduction indices."""
    if not mapping:
        return e
    memo: dict[Expr, Expr] = {}

    def go(node: Expr) -> Expr:
        if node in memo:
            return memo[node]
        if node in mapping:
            out = mapping[node]
        elif node.op in BINDER_OPS:
            bound = var(node.attr)
            inner = {k: v for k, v in mapping.items() if k != bound}
            lo, hi, body, *extra = node.args
            new = (go(lo), go(hi), substitute(body, inner), *(go(a) for a in extra))
            out = Expr(node.op, new, node.attr, node.kind)
        else:
            out = rebuild(node, tuple(go(a) for a in node.args))
        memo[node] = out
        return out

    return go(e)


def free_vars(e: Expr) -> set[str]:
    out: set[str] = set()

    def go(node: Expr, bound: frozenset[str]) -> None:
        if node.op is Op.VAR:
            if node.attr not in bound:
                out.add(node.attr)
            return
        if node.op in BINDER_OPS:
            for i, a in enumerate(node.args):
                go(a, bound | {node.attr} if i == 2 else bound)
            return
        for a in node.args:
            go(a, bound)

    go(e, frozenset())
    return out


def contains(e: Expr, pred: Callable[[Expr], bool]) -> bool:
    return any(pred(n) for n in walk(e))
