"""Translate IR to z3: integers exact, values real, math functions uninterpreted with ground axioms."""

from __future__ import annotations

from collections.abc import Callable

import z3

from tritonlift.errors import Unknown
from tritonlift.ir.expr import BIT_OPS, NAMED_OPS, PREDICATE_OPS, Expr, Kind, Op, substitute, var
from tritonlift.ir.formula import TensorDecl
from tritonlift.ir.named import expand


def _tdiv(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    # C division rounds toward zero; z3's div is Euclidean
    q = z3.If(a >= 0, z3.If(b > 0, a / b, -(a / -b)), z3.If(b > 0, -((-a) / b), (-a) / (-b)))
    return q


MATH_UF = {
    Op.EXP: "exp",
    Op.EXP2: "exp2",
    Op.LOG: "log",
    Op.LOG2: "log2",
    Op.SQRT: "sqrt",
    Op.RSQRT: "rsqrt",
    Op.SIGMOID: "sigmoid",
    Op.ERF: "erf",
    Op.TANH: "tanh",
    Op.SIN: "sin",
    Op.COS: "cos",
    Op.FLOOR: "floor",
    Op.CEIL: "ceil",
    Op.TRUNC: "trunc",
    Op.TAN: "tan",
    Op.ASIN: "asin",
    Op.ACOS: "acos",
    Op.ATAN: "atan",
}
BINARY_UF = {Op.ATAN2: "atan2", Op.FMOD: "fmod", Op.COPYSIGN: "copysign"}
# ops with no z3 meaning here, with the reason (the table test checks the union covers every Op)
UNSUPPORTED: dict[Op, str] = {}
# a reduction is an uninterpreted function of (lo, hi, the body as an array over the bound index, zero
# outside [lo, hi)): equal bounds and pointwise-equal bodies give equal results (congruence +
# extensionality); the rewrites that make bounds and bodies meet are ir.reductions'.
REDUCE_UF = {Op.SUM: "sum", Op.PROD: "prod", Op.RMAX: "max", Op.RMIN: "min"}


class Z3Ctx:
    """Symbols, memories and uninterpreted functions of one verification query."""

    def __init__(self, kinds: dict[str, Kind], tensors: dict[str, TensorDecl] | None = None):
        self.kinds = kinds
        self.tensors = tensors or {}
        self.vars: dict[str, z3.ExprRef] = {}
        self.funcs: dict[str, z3.FuncDeclRef] = {}
        self.math_terms: list[tuple[Op, tuple[z3.ExprRef, ...], z3.ExprRef]] = []
        self.mem_terms: list[tuple[str, z3.ExprRef]] = []
        self.reduce_terms: list[tuple[Op, z3.ExprRef, z3.ExprRef, z3.ExprRef, z3.ExprRef, z3.ExprRef]] = []
        # argmax/argmin terms: (index term, lo, hi, body array, the max/min term over the same array)
        self.arg_terms: list[tuple[z3.ExprRef, z3.ExprRef, z3.ExprRef, z3.ExprRef, z3.ExprRef]] = []
        self.bound_count = 0

    def var(self, name: str, kind: Kind) -> z3.ExprRef:
        v = self.vars.get(name)
        if v is None:
            kind = self.kinds.get(name, kind)
            v = z3.Real(name) if kind is Kind.REAL else z3.Bool(name) if kind is Kind.BOOL else z3.Int(name)
            self.vars[name] = v
        return v

    def func(self, name: str, *sorts: z3.SortRef) -> z3.FuncDeclRef:
        f = self.funcs.get(name)
        if f is None:
            f = z3.Function(name, *sorts)
            self.funcs[name] = f
        return f

    def mem(self, base: str, addr: z3.ExprRef) -> z3.ExprRef:
        self.mem_terms.append((base, addr))
        return self.func(f"mem:{base}", z3.IntSort(), z3.RealSort())(addr)

    def __call__(self, e: Expr) -> z3.ExprRef:
        return translate(e, self)


def translate(e: Expr, cx: Z3Ctx, memo: dict[Expr, z3.ExprRef] | None = None) -> z3.ExprRef:
    memo = {} if memo is None else memo
    if e in memo:
        return memo[e]
    op = e.op

    def t(x: Expr) -> z3.ExprRef:
        return translate(x, cx, memo)

    if op is Op.CONST:
        v = e.value
        if e.kind is Kind.BOOL:
            r = z3.BoolVal(bool(v))
        elif e.kind is Kind.INT:
            r = z3.IntVal(int(v))
        elif v != v or v in (float("inf"), float("-inf")):
            r = cx.var(f"const:{v}", Kind.REAL)  # inf/nan: opaque reals (IEEE specials are outside the model)
        else:
            r = z3.RealVal(v)
    elif op is Op.VAR:
        r = cx.var(e.attr, e.kind)
    elif op is Op.MEM:
        r = cx.mem(e.attr, t(e.args[0]))
    elif op is Op.READ:
        decl = cx.tensors.get(e.attr)
        if decl is None:
            raise Unknown(f"tensor {e.attr} has no declaration")
        r = cx.mem(decl.base, t(decl.address(e.args)))
    elif op is Op.UNDEF:
        args = [t(a) for a in e.args]
        f = cx.func(f"undef:{e.attr}", *[a.sort() for a in args], z3.RealSort())
        r = f(*args) if args else cx.var(f"undef:{e.attr}", Kind.REAL)
    elif op in (Op.ADD, Op.SUB, Op.MUL):
        a, b = t(e.args[0]), t(e.args[1])
        r = a + b if op is Op.ADD else a - b if op is Op.SUB else a * b
    elif op is Op.DIV:
        # a / b as a * (1 / b): the same real where b != 0; where b == 0 (which z3 leaves unspecified) it
        # follows IEEE, where a / 0 and a * (1 / 0) are the same infinity (or nan), so a kernel's `x * (1 / s)`
        # and a formula's `x / s` agree for every s, as they do on a GPU
        a, b = t(e.args[0]), t(e.args[1])
        r = 1 / b if e.args[0].is_const and float(e.args[0].value) == 1.0 else a * (1 / b)
    elif op is Op.NEG:
        r = -t(e.args[0])
    elif op is Op.TRUNCDIV:
        r = _tdiv(t(e.args[0]), t(e.args[1]))
    elif op is Op.TRUNCMOD:
        a, b = t(e.args[0]), t(e.args[1])
        r = a - b * _tdiv(a, b)
    elif op is Op.FLOORDIV:
        a, b = t(e.args[0]), t(e.args[1])
        r = _py_floordiv(a, b)
    elif op is Op.MOD:
        a, b = t(e.args[0]), t(e.args[1])
        r = a - b * _py_floordiv(a, b)
    elif op is Op.MINIMUM:
        a, b = t(e.args[0]), t(e.args[1])
        r = z3.If(a <= b, a, b)
    elif op is Op.MAXIMUM:
        a, b = t(e.args[0]), t(e.args[1])
        r = z3.If(a >= b, a, b)
    elif op in _CMP:
        r = _CMP[op](t(e.args[0]), t(e.args[1]))
    elif op is Op.AND:
        r = z3.And(t(e.args[0]), t(e.args[1]))
    elif op is Op.OR:
        r = z3.Or(t(e.args[0]), t(e.args[1]))
    elif op is Op.NOT:
        r = z3.Not(t(e.args[0]))
    elif op is Op.WHERE:
        r = z3.If(t(e.args[0]), t(e.args[1]), t(e.args[2]))
    elif op is Op.CAST:
        a = t(e.args[0])
        if e.kind is Kind.REAL:
            if a.sort() == z3.IntSort():
                r = z3.ToReal(a)
            elif a.sort() == z3.BoolSort():
                r = z3.If(a, z3.RealVal(1), z3.RealVal(0))
            else:
                r = a
        elif e.kind is Kind.INT:
            if a.sort() == z3.RealSort():
                r = z3.If(a >= 0, z3.ToInt(a), -z3.ToInt(-a))  # truncation toward zero
            elif a.sort() == z3.BoolSort():
                r = z3.If(a, z3.IntVal(1), z3.IntVal(0))
            else:
                r = a
        else:
            r = a
    elif op is Op.ABS:
        a = t(e.args[0])
        r = z3.If(a >= 0, a, -a)
    elif op is Op.POW:
        a, b = t(e.args[0]), t(e.args[1])
        if e.args[1].is_const and float(e.args[1].value).is_integer() and 0 <= e.args[1].value <= 4:
            r = z3.RealVal(1)
            for _ in range(int(e.args[1].value)):
                r = r * a
        else:
            r = cx.func("pow", z3.RealSort(), z3.RealSort(), z3.RealSort())(a, b)
            cx.math_terms.append((op, (a, b), r))
    elif op in BINARY_UF:
        a, b = t(e.args[0]), t(e.args[1])
        r = cx.func(BINARY_UF[op], z3.RealSort(), z3.RealSort(), z3.RealSort())(a, b)
        cx.math_terms.append((op, (a, b), r))
    elif op in PREDICATE_OPS:
        a = t(e.args[0])
        r = cx.func(op.value, z3.RealSort(), z3.BoolSort())(a)
        cx.math_terms.append((op, (a,), r))
    elif op in BIT_OPS:
        r = _bitwise(e, cx, t)
    elif op in NAMED_OPS:  # a named operator means its definition (ir.named)
        r = t(expand(e))
    elif op in MATH_UF:
        a = t(e.args[0])
        r = cx.func(MATH_UF[op], z3.RealSort(), z3.RealSort())(a)
        cx.math_terms.append((op, (a,), r))
    elif op in REDUCE_UF:
        r = _reduction(e, cx, t)
    elif op in (Op.ARGMAX, Op.ARGMIN):
        r = _argreduction(e, cx, t)
    elif op in UNSUPPORTED:
        raise Unknown(f"{op.value}: {UNSUPPORTED[op]}")
    else:  # pragma: no cover - the table test keeps this unreachable
        raise Unknown(f"no z3 translation for {op}")
    memo[e] = r
    return r


def _reduction(e: Expr, cx: Z3Ctx, t: Callable[[Expr], z3.ExprRef]) -> z3.ExprRef:
    lo, hi, body = e.args
    cx.bound_count += 1
    name = f"bound:{e.attr}:{cx.bound_count}"  # a fresh constant per binder: nested and repeated binders stay apart
    body = substitute(body, {var(str(e.attr)): var(name)})
    zlo, zhi, zbody = t(lo), t(hi), t(body)
    k = cx.vars[name]
    sort = zbody.sort()
    ident = _identity(e.op, sort, cx)
    arr = z3.Lambda([k], zbody)  # the range is in the arguments: equal bodies give one array
    f = cx.func(f"{REDUCE_UF[e.op]}:{sort}", z3.IntSort(), z3.IntSort(), z3.ArraySort(z3.IntSort(), sort), sort)
    r = f(zlo, zhi, arr)
    cx.reduce_terms.append((e.op, zlo, zhi, arr, r, ident))
    return r


def _argreduction(e: Expr, cx: Z3Ctx, t: Callable[[Expr], z3.ExprRef]) -> z3.ExprRef:
    """argmax/argmin: an uninterpreted function of (lo, hi, body array) like the reductions, tied by ground
    axioms (`reduction_axioms`) to the max/min term over the same array: lo for an empty range, else an
    index in [lo, hi) where the body attains that max (min). The first-index rule among ties is not stated:
    fewer facts, so nothing false is proved; equal bounds and equal bodies still give equal indices."""
    lo, hi, body = e.args
    cx.bound_count += 1
    name = f"bound:{e.attr}:{cx.bound_count}"
    body = substitute(body, {var(str(e.attr)): var(name)})
    zlo, zhi, zbody = t(lo), t(hi), t(body)
    arr = z3.Lambda([cx.vars[name]], zbody)
    sort = zbody.sort()
    f = cx.func(f"{e.op.value}:{sort}", z3.IntSort(), z3.IntSort(), z3.ArraySort(z3.IntSort(), sort), z3.IntSort())
    r = f(zlo, zhi, arr)
    ext = Op.RMAX if e.op is Op.ARGMAX else Op.RMIN
    g = cx.func(f"{REDUCE_UF[ext]}:{sort}", z3.IntSort(), z3.IntSort(), z3.ArraySort(z3.IntSort(), sort), sort)
    m = g(zlo, zhi, arr)
    cx.reduce_terms.append((ext, zlo, zhi, arr, m, _identity(ext, sort, cx)))
    cx.arg_terms.append((r, zlo, zhi, arr, m))
    return r


def _identity(op: Op, sort: z3.SortRef, cx: Z3Ctx) -> z3.ExprRef:
    if op is Op.SUM:
        return z3.IntVal(0) if sort == z3.IntSort() else z3.RealVal(0)
    if op is Op.PROD:
        return z3.IntVal(1) if sort == z3.IntSort() else z3.RealVal(1)
    return cx.var("const:-inf" if op is Op.RMAX else "const:inf", Kind.REAL)


def reduction_axioms(cx: Z3Ctx) -> list[z3.BoolRef]:
    """Ground facts of each reduction term: an empty range gives the identity, one element gives it."""
    out: list[z3.BoolRef] = []
    for op, lo, hi, arr, r, ident in cx.reduce_terms:
        out += [z3.Implies(hi <= lo, r == ident), z3.Implies(hi == lo + 1, r == arr[lo])]
        if op in (Op.RMAX, Op.RMIN) and r.sort() == z3.RealSort():
            k = z3.FreshInt("w")  # max/min is attained: some element in range equals it
            out.append(z3.Implies(lo < hi, z3.Exists([k], z3.And(lo <= k, k < hi, arr[k] == r))))
    for r, lo, hi, arr, m in cx.arg_terms:
        out += [z3.Implies(hi <= lo, r == lo), z3.Implies(lo < hi, z3.And(lo <= r, r < hi, arr[r] == m))]
    return out


def _low_bits(e: Expr) -> int | None:
    """k when e is the integer constant 2**k - 1 (a mask of the k low bits)."""
    if e.is_const and e.kind is Kind.INT and int(e.value) >= 0 and (int(e.value) + 1) & int(e.value) == 0:
        return int(e.value).bit_length()
    return None


def _bitwise(e: Expr, cx: Z3Ctx, t: Callable[[Expr], z3.ExprRef]) -> z3.ExprRef:
    """Two's complement bit operations. On integers (index arithmetic), exact where it is arithmetic:
    `~a = -1 - a`, `a & (2**k - 1) = a mod 2**k` (floor modulo: also for negative a), `a << c = a * 2**c` and
    `a >> c = floor(a / 2**c)` for constant c in [0, 64] (no overflow: integers are unbounded, as all index
    arithmetic here). Otherwise, and on loaded elements (reals, which may hold bools), an uninterpreted
    function: equal arguments give equal results, nothing more is claimed."""
    op, args = e.op, e.args
    if e.kind is Kind.INT:
        a = t(args[0])
        if op is Op.BITNOT:
            return -1 - a
        b_e = args[1]
        for x, y in ((args[0], b_e), (b_e, args[0])) if op is Op.BITAND else ():
            k = _low_bits(y)
            if k is not None:
                return _py_floormod(t(x), z3.IntVal(2**k))
        if op in (Op.SHL, Op.SHR) and b_e.is_const and 0 <= int(b_e.value) <= 64:
            p = z3.IntVal(2 ** int(b_e.value))
            return a * p if op is Op.SHL else _py_floordiv(a, p)
        b = t(b_e)
        return cx.func(f"{op.value}:int", z3.IntSort(), z3.IntSort(), z3.IntSort())(a, b)
    zs = [t(x) for x in args]
    zs = [z3.ToReal(z) if z.sort() == z3.IntSort() else z for z in zs]
    return cx.func(f"{op.value}:real", *[z3.RealSort()] * len(zs), z3.RealSort())(*zs)


def _py_floormod(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    return a - b * _py_floordiv(a, b)


def _py_floordiv(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    # floor(a / b): z3's div is Euclidean, which is floor division for b > 0; for b < 0 use -a / -b
    return z3.If(b > 0, a / b, (-a) / (-b))


_CMP: dict[Op, Callable[[z3.ExprRef, z3.ExprRef], z3.BoolRef]] = {
    Op.LT: lambda a, b: a < b,
    Op.LE: lambda a, b: a <= b,
    Op.GT: lambda a, b: a > b,
    Op.GE: lambda a, b: a >= b,
    Op.EQ: lambda a, b: a == b,
    Op.NE: lambda a, b: a != b,
}


def _special_value_axioms(op: Op, a: z3.ExprRef, term: z3.ExprRef, cx: Z3Ctx) -> list[z3.BoolRef]:
    """isnan/isinf/isfinite where the argument is one of the special constants (the opaque reals `const:inf`,
    `const:-inf`, `const:nan` that masked max lanes and `other=float("nan")` bring in) or a numeral; of any other
    value, nothing (see ir.expr.PREDICATE_OPS)."""
    specials = {"inf": (False, True), "-inf": (False, True), "nan": (True, False)}  # (isnan, isinf)

    def value(nan: bool, inf: bool) -> z3.BoolRef:
        return z3.BoolVal({Op.ISNAN: nan, Op.ISINF: inf, Op.ISFINITE: not (nan or inf)}[op])

    if z3.is_rational_value(a) or z3.is_int_value(a):
        return [term == value(False, False)]
    out: list[z3.BoolRef] = []
    for name, (nan, inf) in specials.items():
        c = cx.vars.get(f"const:{name}")
        if c is not None:
            out.append(z3.Implies(a == c, term == value(nan, inf)))
    return out


def _predicate_links(cx: Z3Ctx) -> list[z3.BoolRef]:
    """isfinite(x) == not (isnan(x) or isinf(x)) where isfinite(x) occurs (true of every IEEE value)."""
    out: list[z3.BoolRef] = []
    for op, args, term in cx.math_terms:
        if op is Op.ISFINITE:
            nan = cx.func("isnan", z3.RealSort(), z3.BoolSort())(args[0])
            inf = cx.func("isinf", z3.RealSort(), z3.BoolSort())(args[0])
            out.append(term == z3.Not(z3.Or(nan, inf)))
    return out


def math_axioms(cx: Z3Ctx) -> list[z3.BoolRef]:
    """Ground instances of the facts the proofs need, on the terms that occur (no quantifiers)."""
    out: list[z3.BoolRef] = []
    seen: set[int] = set()
    pending = list(cx.math_terms)
    while pending:
        op, args, term = pending.pop()
        if term.get_id() in seen:
            continue
        seen.add(term.get_id())
        a = args[0]
        if op in (Op.EXP, Op.EXP2):
            out.append(term > 0)
        elif op is Op.SIGMOID:
            e = cx.func("exp", z3.RealSort(), z3.RealSort())(-a)
            out += [e > 0, term * (1 + e) == 1]
        elif op is Op.SQRT:
            out += [term >= 0, z3.Implies(a >= 0, term * term == a)]
        elif op is Op.RSQRT:  # rsqrt(a) is 1 / sqrt(a) by definition, for every a (as `evaluate` computes it)
            s = cx.func("sqrt", z3.RealSort(), z3.RealSort())(a)
            pending.append((Op.SQRT, (a,), s))
            out += [term == 1 / s, z3.Implies(a > 0, z3.And(term * s == 1, s > 0, s * s == a))]
        elif op is Op.TANH:
            sg = cx.func("sigmoid", z3.RealSort(), z3.RealSort())(2 * a)
            e = cx.func("exp", z3.RealSort(), z3.RealSort())(-2 * a)
            out += [term == 2 * sg - 1, e > 0, sg * (1 + e) == 1]
        elif op is Op.LOG:
            ex = cx.func("exp", z3.RealSort(), z3.RealSort())
            out.append(z3.Implies(a > 0, ex(term) == a))
        elif op is Op.TRUNC:  # rounds toward zero: floor above zero, ceil below
            fl = cx.func("floor", z3.RealSort(), z3.RealSort())(a)
            ce = cx.func("ceil", z3.RealSort(), z3.RealSort())(a)
            out.append(term == z3.If(a >= 0, fl, ce))
        elif op is Op.SIGNBIT:  # away from zero (signed zeros are outside the real model)
            out += [z3.Implies(a < 0, term), z3.Implies(a > 0, z3.Not(term))]
        elif op is Op.COPYSIGN:
            b = args[1]
            mag = z3.If(a >= 0, a, -a)
            out += [z3.Implies(b > 0, term == mag), z3.Implies(b < 0, term == -mag)]
        elif op in (Op.ISNAN, Op.ISINF, Op.ISFINITE):
            out += _special_value_axioms(op, a, term, cx)
    out += reduction_axioms(cx)
    out += _predicate_links(cx)
    # exp of a sum: instantiate exp(a + b) = exp(a) * exp(b) for pairs of exp terms that occur
    return out
