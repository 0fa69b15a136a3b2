"""IR <-> egglog terms: the egglog back end's op table, leaves for what the rules never look into.

Real- and bool-valued algebra becomes egglog constructors (EGG_OPS); everything else (integer index
arithmetic, tensor reads, casts, row operators, ...) becomes an opaque `Term.leaf`, mapped back to the very
same Expr. Reductions are translated with a canonical bound index per nesting depth (`_b0`, `_b1`, ...) so
that alpha-equivalent reductions are one e-class; `restore_indices` gives the original names back.
Constants within float32 precision of a named value (rules.APPROX_CONSTANTS) become `Term.approx(name, v)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from egglog import get_callable_args, get_callable_fn, get_literal_value

from tritonlift.ir.expr import (
    REDUCE_OPS,
    ROW_OPS,
    Expr,
    Kind,
    Op,
    and_,
    arith,
    compare,
    const,
    div,
    free_vars,
    math_fn,
    named,
    not_,
    or_,
    reduce,
    substitute,
    var,
    where,
)
from tritonlift.ir.printer import to_text
from tritonlift.simplify import terms as t
from tritonlift.simplify.rules import APPROX_CONSTANTS

Term = t.Term

# one constructor per op the rules rewrite; ops not here are leaves
EGG_OPS: dict[Op, Callable[..., Term]] = {
    Op.ADD: lambda a, b: a + b,
    Op.SUB: lambda a, b: a - b,
    Op.MUL: lambda a, b: a * b,
    Op.DIV: lambda a, b: a / b,
    Op.NEG: lambda a: -a,
    Op.MINIMUM: t.minimum,
    Op.MAXIMUM: t.maximum,
    Op.LT: t.lt,
    Op.LE: t.le,
    Op.GT: t.gt,
    Op.GE: t.ge,
    Op.EQ: t.eq_,
    Op.NE: t.ne,
    Op.AND: t.and_,
    Op.OR: t.or_,
    Op.NOT: t.not_,
    Op.WHERE: t.where,
    Op.EXP: t.exp,
    Op.EXP2: t.exp2,
    Op.LOG: t.log,
    Op.LOG2: t.log2,
    Op.SQRT: t.sqrt,
    Op.RSQRT: t.rsqrt,
    Op.SIGMOID: t.sigmoid,
    Op.ABS: t.abs_,
    Op.ERF: t.erf,
    Op.TANH: t.tanh,
    Op.SIN: t.sin,
    Op.COS: t.cos,
    Op.FLOOR: t.floor,
    Op.CEIL: t.ceil,
    Op.POW: t.pow_,
    Op.SILU: t.silu,
    Op.GELU: t.gelu,
    Op.GELU_TANH: t.gelu_tanh,
    Op.RELU: t.relu,
    Op.LEAKY_RELU: t.leaky_relu,
    Op.CLAMP: t.clamp,
    Op.SOFTPLUS: t.softplus,
}
EGG_REDUCE: dict[Op, Callable[..., Term]] = {
    Op.SUM: t.rsum,
    Op.PROD: t.rprod,
    Op.RMAX: t.rmax,
    Op.RMIN: t.rmin,
}
EGG_OPS |= {op: fn for op, fn in EGG_REDUCE.items()}
LEAF_WHY = {
    Op.CONST: "bool and int constants (real ones are Term.num / Term.approx)",
    Op.VAR: "a variable",
    Op.READ: "a tensor element",
    Op.MEM: "a pointer-level read",
    Op.UNDEF: "an undefined value",
    Op.FLOORDIV: "integer index arithmetic",
    Op.MOD: "integer index arithmetic",
    Op.TRUNCDIV: "integer index arithmetic",
    Op.TRUNCMOD: "integer index arithmetic",
    Op.CAST: "a conversion",
    **{
        op: "a math function no rule rewrites"
        for op in (Op.TRUNC, Op.TAN, Op.ASIN, Op.ACOS, Op.ATAN, Op.ATAN2, Op.FMOD, Op.COPYSIGN)
    },
    **{op: "a floating-point predicate" for op in (Op.ISNAN, Op.ISINF, Op.ISFINITE, Op.SIGNBIT)},
    **{op: "integer bit arithmetic" for op in (Op.BITAND, Op.BITOR, Op.BITXOR, Op.BITNOT, Op.SHL, Op.SHR)},
    **{
        op: "row operators are recognised by simplify.rows, after saturation"
        for op in sorted(ROW_OPS, key=lambda o: o.value)
    },
}
UNSUPPORTED: frozenset[Op] = frozenset(LEAF_WHY)  # translated to opaque leaves


def _canonical(depth: int) -> str:
    return f"_b{depth}"


@dataclass
class Translation:
    """The leaves and bound-index names of one translation, to map an extracted term back."""

    leaves: dict[str, Expr] = field(default_factory=dict)
    indices: dict[int, list[str]] = field(default_factory=dict)  # depth -> original names seen
    approx: dict[float, str] = field(default_factory=dict)  # constant value -> named constant
    nodes: dict[tuple[Expr, int], Term] = field(default_factory=dict)  # every distinct term built

    def to_term(self, e: Expr, depth: int = 0) -> Term:
        key = (e, depth)
        out = self.nodes.get(key)
        if out is None:
            out = self.nodes[key] = self._to_term(e, depth)
        return out

    def leaf(self, e: Expr) -> Term:
        key = f"{e.kind.value}:{to_text(e)}"
        self.leaves.setdefault(key, e)
        return Term.leaf(key)

    def _to_term(self, e: Expr, depth: int) -> Term:
        if e.op is Op.CONST and e.kind is Kind.REAL:
            for c in APPROX_CONSTANTS:
                if c.matches(e.value):
                    self.approx[e.value] = c.name
                    return Term.approx(c.name, e.value)
            return Term.num(e.value)
        if e.kind is Kind.INT or e.op not in EGG_OPS:
            return self.leaf(e)
        if e.op in REDUCE_OPS:
            lo, hi, body = e.args
            k = _canonical(depth)
            self.indices.setdefault(depth, []).append(e.attr)
            body = substitute(body, {var(e.attr): var(k)})
            return EGG_REDUCE[e.op](
                k, self.to_term(lo, depth), self.to_term(hi, depth), self.to_term(body, depth + 1)
            )
        return EGG_OPS[e.op](*(self.to_term(a, depth) for a in e.args))

    def to_expr(self, term: Term) -> Expr:
        return restore_indices(self._back(term), self.indices)

    def _back(self, term: Term) -> Expr:
        fn = str(get_callable_fn(term))
        args = get_callable_args(term)
        if fn == _LEAF:
            return self.leaves[get_literal_value(args[0])]
        if fn == _NUM:
            return const(float(get_literal_value(args[0])))
        if fn == _APPROX:
            return const(float(get_literal_value(args[1])))
        op = _OP_OF.get(fn)
        if op is None:
            raise ValueError(f"no IR op for egglog constructor {fn}")
        if op in REDUCE_OPS:
            k = get_literal_value(args[0])
            lo, hi, body = (self._back(a) for a in args[1:])
            return reduce(op, k, lo, hi, body)
        return build(op, *(self._back(a) for a in args))


def build(op: Op, *args: Expr) -> Expr:
    """An IR node through its smart constructor."""
    if op in (Op.ADD, Op.SUB, Op.MUL, Op.NEG, Op.MINIMUM, Op.MAXIMUM):
        return arith(op, *args)
    if op is Op.DIV:
        return div(*args)
    if op in (Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE):
        return compare(op, *args)
    if op is Op.AND:
        return and_(*args)
    if op is Op.OR:
        return or_(*args)
    if op is Op.NOT:
        return not_(args[0])
    if op is Op.WHERE:
        return where(*args)
    if op in (Op.SILU, Op.GELU, Op.GELU_TANH, Op.RELU, Op.LEAKY_RELU, Op.CLAMP, Op.SOFTPLUS):
        return named(op, *args)
    return math_fn(op, *args)


def restore_indices(e: Expr, names: dict[int, list[str]]) -> Expr:
    """Rename canonical bound indices `_b<d>` back to an original name of that depth (never capturing)."""

    def go(node: Expr, depth: int, outer: frozenset[str]) -> Expr:
        if node.op in REDUCE_OPS and node.attr == _canonical(depth):
            lo, hi, body = node.args
            body = go(body, depth + 1, outer | {node.attr})
            taken = (free_vars(body) - {node.attr}) | outer
            new = next((n for n in names.get(depth, []) if n not in taken), node.attr)
            body = substitute(body, {var(node.attr): var(new)})
            return Expr(node.op, (go(lo, depth, outer), go(hi, depth, outer), body), new, node.kind)
        if not node.args:
            return node
        return Expr(node.op, tuple(go(a, depth, outer) for a in node.args), node.attr, node.kind)

    return go(e, 0, frozenset())


def _sample(fn: Callable[..., Term], arity: int) -> str:
    leaf = Term.leaf("x")
    return str(get_callable_fn(fn(*([leaf] * arity))))


_LEAF = str(get_callable_fn(Term.leaf("x")))
_NUM = str(get_callable_fn(Term.num(0.0)))
_APPROX = str(get_callable_fn(Term.approx("x", 0.0)))
_ARITY = {Op.NEG: 1, Op.NOT: 1, Op.WHERE: 3, Op.CLAMP: 3}
_BINARY = {Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.MINIMUM, Op.MAXIMUM, Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE}
_BINARY |= {Op.AND, Op.OR, Op.POW, Op.LEAKY_RELU}
_OP_OF: dict[str, Op] = {}
for _op, _fn in EGG_OPS.items():
    if _op in REDUCE_OPS:
        _OP_OF[str(get_callable_fn(_fn("_b0", Term.leaf("x"), Term.leaf("x"), Term.leaf("x"))))] = _op
    else:
        _OP_OF[_sample(_fn, _ARITY.get(_op, 2 if _op in _BINARY else 1))] = _op
assert len(_OP_OF) == len(EGG_OPS), "two IR ops share an egglog constructor"
