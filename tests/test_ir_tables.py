"""Every back end keys one table by Op and covers every Op, or refuses it by name (STYLE.md habit 4)."""

from __future__ import annotations

import math
from types import ModuleType

import pytest
import torch

from tritonlift.ir import evaluate as evaluate_mod
from tritonlift.ir import latex, printer, torch_printer
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import (
    ONE,
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
    lt,
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
from tritonlift.ir.parse import parse_expr

BACK_ENDS: list[tuple[ModuleType, str]] = [
    (printer, "TEXT_OPS"),
    (latex, "LATEX_OPS"),
    (torch_printer, "TORCH_OPS"),
    (evaluate_mod, "EVAL_OPS"),
]


@pytest.mark.parametrize(("module", "table"), BACK_ENDS, ids=[t for _, t in BACK_ENDS])
def test_table_covers_every_op(module: ModuleType, table: str) -> None:
    handled = set(getattr(module, table))
    refused = module.UNSUPPORTED
    assert isinstance(refused, frozenset)
    assert not handled & refused, f"{table} both handles and refuses {handled & refused}"
    missing = set(Op) - handled - refused
    assert not missing, f"{table} neither handles nor refuses {sorted(o.name for o in missing)}"
    assert all(callable(fn) for fn in getattr(module, table).values())


def test_refusals_have_reasons() -> None:
    assert set(torch_printer.UNSUPPORTED_WHY) == torch_printer.UNSUPPORTED
    assert all(len(why) > 10 for why in torch_printer.UNSUPPORTED_WHY.values())


# one example per op: each back end handles it, and the text round-trips
i, n = var("i"), var("n")
a, b = var("a", Kind.REAL), var("b", Kind.REAL)
x_i = read("x", i)
x_k = read("x", var("k"))
_K = math.sqrt(2 / math.pi)
_LSE = math.log(sum(math.exp(v) for v in range(5)))
# each example's value at i=2, n=5, a=-1.5, b=2.0 with x = [0, 10, 20, 30, 40]
EXAMPLES: dict[Op, tuple[Expr, float | int | bool]] = {
    Op.CONST: (const(2.5), 2.5),
    Op.VAR: (a, -1.5),
    Op.READ: (x_i, 20.0),
    Op.MEM: (mem("x_ptr", i), 20.0),
    Op.UNDEF: (undef("masked", i), 0.0),
    Op.ADD: (arith(Op.ADD, i, n), 7),
    Op.SUB: (arith(Op.SUB, i, n), -3),
    Op.MUL: (arith(Op.MUL, a, b), -3.0),
    Op.DIV: (div(a, b), -0.75),
    Op.NEG: (neg(i), -2),
    Op.FLOORDIV: (arith(Op.FLOORDIV, neg(n), i), -3),
    Op.MOD: (arith(Op.MOD, neg(n), i), 1),
    Op.TRUNCDIV: (arith(Op.TRUNCDIV, neg(n), i), -2),
    Op.TRUNCMOD: (arith(Op.TRUNCMOD, neg(n), i), -1),
    Op.MINIMUM: (arith(Op.MINIMUM, a, b), -1.5),
    Op.MAXIMUM: (arith(Op.MAXIMUM, a, b), 2.0),
    Op.LT: (lt(i, n), True),
    Op.LE: (compare(Op.LE, n, i), False),
    Op.GT: (compare(Op.GT, a, b), False),
    Op.GE: (compare(Op.GE, b, a), True),
    Op.EQ: (compare(Op.EQ, i, const(2)), True),
    Op.NE: (compare(Op.NE, i, const(2)), False),
    Op.AND: (and_(lt(i, n), lt(a, b)), True),
    Op.OR: (or_(lt(n, i), compare(Op.GT, b, a)), True),
    Op.NOT: (not_(lt(i, n)), False),
    Op.WHERE: (where(lt(i, n), x_i, const(0.0)), 20.0),
    Op.CAST: (cast(a, "int32"), -1),
    Op.EXP: (math_fn(Op.EXP, a), math.exp(-1.5)),
    Op.EXP2: (math_fn(Op.EXP2, b), 4.0),
    Op.LOG: (math_fn(Op.LOG, b), math.log(2.0)),
    Op.LOG2: (math_fn(Op.LOG2, b), 1.0),
    Op.SQRT: (math_fn(Op.SQRT, b), math.sqrt(2.0)),
    Op.RSQRT: (math_fn(Op.RSQRT, b), 1 / math.sqrt(2.0)),
    Op.SIGMOID: (math_fn(Op.SIGMOID, a), 1 / (1 + math.exp(1.5))),
    Op.ABS: (math_fn(Op.ABS, a), 1.5),
    Op.ERF: (math_fn(Op.ERF, a), math.erf(-1.5)),
    Op.TANH: (math_fn(Op.TANH, a), math.tanh(-1.5)),
    Op.SIN: (math_fn(Op.SIN, a), math.sin(-1.5)),
    Op.COS: (math_fn(Op.COS, a), math.cos(-1.5)),
    Op.FLOOR: (math_fn(Op.FLOOR, a), -2.0),
    Op.CEIL: (math_fn(Op.CEIL, a), -1.0),
    Op.POW: (math_fn(Op.POW, b, to_real(i)), 4.0),
    Op.TRUNC: (math_fn(Op.TRUNC, a), -1.0),
    Op.TAN: (math_fn(Op.TAN, a), math.tan(-1.5)),
    Op.ASIN: (math_fn(Op.ASIN, div(a, b)), math.asin(-0.75)),
    Op.ACOS: (math_fn(Op.ACOS, div(a, b)), math.acos(-0.75)),
    Op.ATAN: (math_fn(Op.ATAN, a), math.atan(-1.5)),
    Op.ATAN2: (math_fn(Op.ATAN2, a, b), math.atan2(-1.5, 2.0)),
    Op.FMOD: (math_fn(Op.FMOD, neg(x_i), const(7.0)), -6.0),  # the sign of the dividend
    Op.COPYSIGN: (math_fn(Op.COPYSIGN, b, a), -2.0),
    Op.ISNAN: (predicate(Op.ISNAN, a), False),
    Op.ISINF: (predicate(Op.ISINF, div(a, const(0.0))), True),
    Op.ISFINITE: (predicate(Op.ISFINITE, a), True),
    Op.SIGNBIT: (predicate(Op.SIGNBIT, a), True),
    Op.BITAND: (bitwise(Op.BITAND, n, const(6)), 4),
    Op.BITOR: (bitwise(Op.BITOR, n, i), 7),
    Op.BITXOR: (bitwise(Op.BITXOR, n, const(3)), 6),
    Op.BITNOT: (bitwise(Op.BITNOT, n), -6),
    Op.SHL: (bitwise(Op.SHL, n, i), 20),
    Op.SHR: (bitwise(Op.SHR, neg(n), const(1)), -3),
    Op.SUM: (reduce(Op.SUM, "k", ZERO, i, read("x", var("k"))), 10.0),
    Op.PROD: (reduce(Op.PROD, "k", ONE, n, var("k")), 24),
    Op.RMAX: (reduce(Op.RMAX, "k", ZERO, n, read("x", var("k"))), 40.0),
    Op.RMIN: (reduce(Op.RMIN, "k", i, n, read("x", var("k"))), 20.0),
    Op.ARGMAX: (argreduce(Op.ARGMAX, "k", ZERO, n, read("x", var("k"))), 4),
    Op.ARGMIN: (argreduce(Op.ARGMIN, "k", i, n, read("x", var("k"))), 2),
    Op.SILU: (named(Op.SILU, a), -1.5 / (1 + math.exp(1.5))),
    Op.GELU: (named(Op.GELU, a), 0.5 * -1.5 * (1 + math.erf(-1.5 / math.sqrt(2)))),
    Op.GELU_TANH: (named(Op.GELU_TANH, a), 0.5 * -1.5 * (1 + math.tanh(_K * (-1.5 + 0.044715 * -(1.5**3))))),
    Op.RELU: (named(Op.RELU, a), 0.0),
    Op.LEAKY_RELU: (named(Op.LEAKY_RELU, a, b), -3.0),
    Op.CLAMP: (named(Op.CLAMP, x_i, a, b), 2.0),
    Op.SOFTPLUS: (named(Op.SOFTPLUS, a), math.log(1 + math.exp(-1.5))),
    Op.MEAN: (row(Op.MEAN, "k", ZERO, n, x_k), 20.0),
    Op.VARIANCE: (row(Op.VARIANCE, "k", ZERO, n, x_k), 200.0),
    Op.LOGSUMEXP: (row(Op.LOGSUMEXP, "k", ZERO, n, div(x_k, const(10.0))), _LSE),
    Op.SOFTMAX: (row(Op.SOFTMAX, "k", ZERO, n, div(x_k, const(10.0)), i), math.exp(2 - _LSE)),
    Op.LOG_SOFTMAX: (row(Op.LOG_SOFTMAX, "k", ZERO, n, div(x_k, const(10.0)), i), 2 - _LSE),
    Op.LAYER_NORM: (row(Op.LAYER_NORM, "k", ZERO, n, x_k, arith(Op.SUB, n, ONE), b), 20 / math.sqrt(202)),
    Op.RMS_NORM: (row(Op.RMS_NORM, "k", ZERO, n, x_k, i, b), 20 / math.sqrt(602)),
    Op.STD: (row(Op.STD, "k", ZERO, n, x_k), math.sqrt(200.0)),
    Op.NORMALIZE: (row(Op.NORMALIZE, "k", ZERO, n, x_k, i, b), 20 / math.sqrt(3000)),
}
KINDS = {"a": Kind.REAL, "b": Kind.REAL}
VARS = {"i": 2, "n": 5, "a": -1.5, "b": 2.0}
X = [10.0 * v for v in range(5)]


def test_examples_cover_every_op_and_use_it() -> None:
    assert set(EXAMPLES) == set(Op)
    assert all(e.op is op for op, (e, _) in EXAMPLES.items())


@pytest.mark.parametrize("op", list(Op), ids=[o.name for o in Op])
def test_each_back_end_on_each_op(op: Op) -> None:
    e, want = EXAMPLES[op]
    text = printer.to_text(e)
    assert parse_expr(text, KINDS) == e, text
    assert latex.to_latex(e)
    env = Env(vars=VARS, read=lambda t, idx: X[idx[0]], mem=lambda p, off: X[off], undef=lambda tag: 0.0)
    got = evaluate(e, env)
    assert got == pytest.approx(want) and type(got) is type(want)
    if op in torch_printer.UNSUPPORTED:
        return
    # the torch printer: out[i] = e over i in range(n), with i a tensor index
    params = (Param("x", "tensor"), Param("out", "tensor"), Param("n", "int"), Param("a", "float"))
    f = Formula(
        name="one_op",
        params=(*params, Param("b", "float")),
        tensors=(TensorDecl("x", (n,), (ONE,), "x"), TensorDecl("out", (n,), (ONE,), "out")),
        assigns=(Assign("out", ("i",), e),),
    )
    namespace: dict[str, object] = {}
    exec(torch_printer.formula_torch(f, real_dtype="float64"), namespace)
    out = torch.empty(5, dtype=torch.float64)
    namespace["one_op"](torch.tensor(X, dtype=torch.float64), out, 5, -1.5, 2.0)
    assert out[2].item() == pytest.approx(float(want))
