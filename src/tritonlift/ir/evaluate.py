"""Exact scalar semantics of the IR: the value of an Expr at one point (e.g. to replay a counterexample).

INT values are unbounded Python ints, REAL values Python floats with IEEE results where Python would raise
(overflow gives inf, log(0) gives -inf, sqrt(-1) gives nan), BOOL values Python bools. `//` and `%` follow
Python (floor); `tdiv`/`tmod` follow C and Triton (toward zero). `where`, `&` and `|` evaluate lazily, so a
guarded read is never performed.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tritonlift.ir.expr import BINDER_OPS, NAMED_OPS, Expr, Kind, Op, trunc_div
from tritonlift.ir.named import expand

Value = int | float | bool


def _no_read(name: str, index: tuple[int, ...]) -> float:
    raise ValueError(f"no tensor values given: cannot read {name}{list(index)}")


def _no_mem(ptr: str, offset: int) -> float:
    raise ValueError(f"no memory given: cannot read {ptr}[{offset}]")


def _no_undef(tag: str) -> float:
    raise ValueError(f"undefined value {tag!r} evaluated")


@dataclass(frozen=True)
class Env:
    """Where the leaves get their values: variables, tensor elements, pointer-level memory, undefined values."""

    vars: Mapping[str, Value] = field(default_factory=dict)
    read: Callable[[str, tuple[int, ...]], float] = _no_read
    mem: Callable[[str, int], float] = _no_mem
    undef: Callable[[str], float] = _no_undef


@functools.lru_cache(maxsize=1 << 16)
def _free(e: Expr) -> frozenset[str]:
    """The free variables of e (cached per term: reductions ask it of every sub-term of their body)."""
    if e.op is Op.VAR:
        return frozenset((str(e.attr),))
    if e.op in BINDER_OPS:
        lo, hi, body, *extra = e.args
        out = _free(lo) | _free(hi) | (_free(body) - {str(e.attr)})
        for a in extra:
            out |= _free(a)
        return out
    out = frozenset()
    for a in e.args:
        out |= _free(a)
    return out


class Evaluator:
    """Evaluates the nodes of one Expr under one binding of the variables (shared sub-terms once). Inside a
    reduction, a sub-term free of the bound index is evaluated once, by the enclosing evaluator."""

    def __init__(self, env: Env, parent: Evaluator | None = None, bound: str | None = None):
        self.env = env
        self.memo: dict[Expr, Value] = {}
        self.parent, self.bound = parent, bound

    def __call__(self, e: Expr) -> Value:
        if e in self.memo:
            return self.memo[e]
        if self.parent is not None and e.args and self.bound not in _free(e):
            out = self.memo[e] = self.parent(e)
            return out
        fn = EVAL_OPS.get(e.op)
        if fn is None:
            raise ValueError(f"cannot evaluate {e.op.name}")
        out = self.memo[e] = _coerce(e.kind, fn(e, self))
        return out

    def bind(self, name: str, value: int) -> Evaluator:
        env = Env({**self.env.vars, name: value}, self.env.read, self.env.mem, self.env.undef)
        return Evaluator(env, self, name)


def evaluate(e: Expr, env: Env) -> Value:
    """The value of `e` in `env`: int for INT, float for REAL, bool for BOOL."""
    return Evaluator(env)(e)


def to_float(v: Value) -> float:
    try:
        return float(v)
    except OverflowError:  # an int beyond the float range
        return math.inf if v > 0 else -math.inf


def _coerce(kind: Kind, v: Value) -> Value:
    if kind is Kind.REAL:
        return v if isinstance(v, float) else to_float(v)
    if kind is Kind.INT:
        return int(v) if isinstance(v, bool) else v
    return bool(v)


# ---------------------------------------------------------------------------------------------
# real-valued helpers: IEEE results where Python raises


def fdiv(a: float, b: float) -> float:
    """IEEE division: x/0 is a signed infinity, 0/0 and nan/0 are nan."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _is_nan(v: Value) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _nan_min(a: Value, b: Value) -> Value:
    return math.nan if _is_nan(a) or _is_nan(b) else min(a, b)


def _nan_max(a: Value, b: Value) -> Value:
    return math.nan if _is_nan(a) or _is_nan(b) else max(a, b)


def _int_zero(b: Value, what: str) -> None:
    if not isinstance(b, float) and b == 0:
        raise ZeroDivisionError(f"integer {what} by zero")


def _floordiv(a: Value, b: Value) -> Value:
    _int_zero(b, "division")
    return fdiv(a, b) if b == 0 else a // b  # float // 0.0: floor(±inf) = ±inf, as torch


def _mod(a: Value, b: Value) -> Value:
    _int_zero(b, "modulo")
    return math.nan if b == 0 else a % b


def _truncdiv(a: Value, b: Value) -> Value:
    _int_zero(b, "division")
    if isinstance(a, float) or isinstance(b, float):
        if b == 0:
            return fdiv(a, b)
        if math.isinf(a) or math.isnan(a) or math.isnan(b):
            return math.nan
    return trunc_div(a, b)


def _truncmod(a: Value, b: Value) -> Value:
    _int_zero(b, "modulo")
    if isinstance(a, float) or isinstance(b, float):
        return math.nan if b == 0 or math.isinf(a) or math.isnan(a) else math.fmod(a, b)
    return a - b * trunc_div(a, b)


def _guarded(
    fn: Callable[[float], float], domain_error: Callable[[float], float]
) -> Callable[[float], float]:
    """fn with Python's exceptions turned into IEEE values: overflow is inf, a domain error as given."""

    def run(x: float) -> float:
        if math.isnan(x):
            return math.nan
        try:
            return fn(x)
        except OverflowError:
            return math.inf
        except ValueError:
            return domain_error(x)

    return run


def _nan(x: float) -> float:
    return math.nan


def _log_domain(x: float) -> float:
    return -math.inf if x == 0 else math.nan


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _rsqrt(x: float) -> float:
    if x == 0:
        return math.copysign(math.inf, x)
    return 1.0 / math.sqrt(x)


def _rounding(fn: Callable[[float], int]) -> Callable[[float], float]:
    return lambda x: x if math.isinf(x) or math.isnan(x) else float(fn(x))


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        odd = float(b).is_integer() and int(b) % 2 == 1
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:
        if a == 0:  # 0 ** negative
            odd = float(b).is_integer() and int(b) % 2 == 1
            return math.copysign(math.inf, a) if odd else math.inf
        return math.nan  # negative ** fraction


def _trunc(x: float) -> float:
    return x if math.isinf(x) or math.isnan(x) else float(math.trunc(x))


def _fmod(a: float, b: float) -> float:
    """C fmod (Triton's % on floats, torch.fmod): nan for b == 0 or infinite a."""
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def _int_of(v: Value) -> int:
    """An integer value for a bit operation: ints and bools as they are, integral floats (a loaded element
    of an integer tensor, as the model holds it) converted; anything else has no bits."""
    if isinstance(v, (bool, int)):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ValueError(f"bit operation on the non-integer {v!r}")


def _shift_count(b: Value) -> int:
    n = _int_of(b)
    if not 0 <= n <= 64:
        raise ValueError(f"shift by {n} is undefined")
    return n


BIT_FNS: dict[Op, Callable[..., int]] = {
    Op.BITAND: lambda a, b: _int_of(a) & _int_of(b),
    Op.BITOR: lambda a, b: _int_of(a) | _int_of(b),
    Op.BITXOR: lambda a, b: _int_of(a) ^ _int_of(b),
    Op.BITNOT: lambda a: ~_int_of(a),
    Op.SHL: lambda a, b: _int_of(a) << _shift_count(b),
    Op.SHR: lambda a, b: _int_of(a) >> _shift_count(b),
}
PREDICATE_FNS: dict[Op, Callable[[float], bool]] = {
    Op.ISNAN: math.isnan,
    Op.ISINF: math.isinf,
    Op.ISFINITE: math.isfinite,
    Op.SIGNBIT: lambda x: math.copysign(1.0, x) < 0,
}


UNARY_FNS: dict[Op, Callable[[float], float]] = {
    Op.EXP: _guarded(math.exp, _nan),
    Op.EXP2: _guarded(lambda x: 2.0**x, _nan),
    Op.LOG: _guarded(math.log, _log_domain),
    Op.LOG2: _guarded(math.log2, _log_domain),
    Op.SQRT: _guarded(math.sqrt, _nan),
    Op.RSQRT: _guarded(_rsqrt, _nan),
    Op.SIGMOID: _guarded(_sigmoid, _nan),
    Op.ABS: abs,
    Op.ERF: _guarded(math.erf, _nan),
    Op.TANH: _guarded(math.tanh, _nan),
    Op.SIN: _guarded(math.sin, _nan),
    Op.COS: _guarded(math.cos, _nan),
    Op.FLOOR: _rounding(math.floor),
    Op.CEIL: _rounding(math.ceil),
    Op.TRUNC: _trunc,
    Op.TAN: _guarded(math.tan, _nan),
    Op.ASIN: _guarded(math.asin, _nan),
    Op.ACOS: _guarded(math.acos, _nan),
    Op.ATAN: _guarded(math.atan, _nan),
}


# ---------------------------------------------------------------------------------------------
# the table: one entry per op

EvalFn = Callable[[Expr, Evaluator], Value]


def _binary(fn: Callable[[Value, Value], Value]) -> EvalFn:
    return lambda e, ev: fn(ev(e.args[0]), ev(e.args[1]))


def _var(e: Expr, ev: Evaluator) -> Value:
    try:
        return ev.env.vars[e.attr]
    except KeyError:
        raise ValueError(f"unbound variable {e.attr!r}") from None


def _cast(e: Expr, ev: Evaluator) -> Value:
    v = ev(e.args[0])
    if e.kind is Kind.REAL:
        return to_float(v)
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        raise ValueError(f"cannot cast {v} to {e.attr}")
    return math.trunc(v)


def _where(e: Expr, ev: Evaluator) -> Value:
    c, a, b = e.args
    return ev(a) if ev(c) else ev(b)


def _reduction(e: Expr, ev: Evaluator) -> Value:
    lo, hi, body = e.args
    acc: Value = REDUCE_START[e.op] if e.kind is Kind.REAL else int(REDUCE_START[e.op])
    if e.op in (Op.RMAX, Op.RMIN) and ev(lo) >= ev(hi):
        return REDUCE_START[e.op]  # the empty max is -inf, also over ints
    for k in range(ev(lo), ev(hi)):
        acc = REDUCE_STEP[e.op](acc, ev.bind(e.attr, k)(body))
    return acc


ARG_RANGE_LIMIT = 1 << 20


def _argreduction(e: Expr, ev: Evaluator) -> Value:
    """The first index of the largest (smallest) value; lo for an empty range (NaN is never chosen)."""
    lo, hi, body = e.args
    first, best = ev(lo), None
    if ev(hi) - first > ARG_RANGE_LIMIT:  # a solver model's huge size: not worth a concrete evaluation
        raise ValueError(f"{e.op.value} over {ev(hi) - first} elements is too long to evaluate")
    for k in range(ev(lo), ev(hi)):
        v = ev.bind(e.attr, k)(body)
        if best is None or (v > best if e.op is Op.ARGMAX else v < best):
            first, best = k, v
    return first


REDUCE_START: dict[Op, float] = {Op.SUM: 0.0, Op.PROD: 1.0, Op.RMAX: -math.inf, Op.RMIN: math.inf}
REDUCE_STEP: dict[Op, Callable[[Value, Value], Value]] = {
    Op.SUM: operator.add, Op.PROD: operator.mul, Op.RMAX: _nan_max, Op.RMIN: _nan_min,
}  # fmt: skip


def _named(e: Expr, ev: Evaluator) -> Value:
    """A named operator means its definition (ir.named): evaluate that."""
    return ev(expand(e))


EVAL_OPS: dict[Op, EvalFn] = {
    Op.CONST: lambda e, ev: e.value,
    Op.VAR: _var,
    Op.READ: lambda e, ev: ev.env.read(e.attr, tuple(ev(a) for a in e.args)),
    Op.MEM: lambda e, ev: ev.env.mem(e.attr, ev(e.args[0])),
    Op.UNDEF: lambda e, ev: ev.env.undef(e.attr),
    Op.ADD: _binary(operator.add),
    Op.SUB: _binary(operator.sub),
    Op.MUL: _binary(operator.mul),
    Op.DIV: _binary(fdiv),
    Op.NEG: lambda e, ev: -ev(e.args[0]),
    Op.FLOORDIV: _binary(_floordiv),
    Op.MOD: _binary(_mod),
    Op.TRUNCDIV: _binary(_truncdiv),
    Op.TRUNCMOD: _binary(_truncmod),
    Op.MINIMUM: _binary(_nan_min),
    Op.MAXIMUM: _binary(_nan_max),
    Op.LT: _binary(operator.lt),
    Op.LE: _binary(operator.le),
    Op.GT: _binary(operator.gt),
    Op.GE: _binary(operator.ge),
    Op.EQ: _binary(operator.eq),
    Op.NE: _binary(operator.ne),
    Op.AND: lambda e, ev: bool(ev(e.args[0])) and bool(ev(e.args[1])),
    Op.OR: lambda e, ev: bool(ev(e.args[0])) or bool(ev(e.args[1])),
    Op.NOT: lambda e, ev: not ev(e.args[0]),
    Op.WHERE: _where,
    Op.CAST: _cast,
    **{op: (lambda e, ev, fn=fn: fn(ev(e.args[0]))) for op, fn in UNARY_FNS.items()},
    Op.POW: _binary(_pow),
    Op.ATAN2: _binary(lambda y, x: math.atan2(y, x)),
    Op.FMOD: _binary(_fmod),
    Op.COPYSIGN: _binary(lambda a, b: math.copysign(a, b)),
    **{op: (lambda e, ev, fn=fn: fn(to_float(ev(e.args[0])))) for op, fn in PREDICATE_FNS.items()},
    **{op: (lambda e, ev, fn=fn: fn(*(ev(a) for a in e.args))) for op, fn in BIT_FNS.items()},
    Op.SUM: _reduction,
    Op.PROD: _reduction,
    Op.RMAX: _reduction,
    Op.RMIN: _reduction,
    Op.ARGMAX: _argreduction,
    Op.ARGMIN: _argreduction,
    **{op: _named for op in sorted(NAMED_OPS, key=lambda o: o.value)},
}
UNSUPPORTED: frozenset[Op] = frozenset()  # every op has a concrete meaning (MEM/UNDEF through Env)
