"""`math.*` on host values: Python's own result on numbers, an IR term with its defining facts on symbols.

Python raises on a domain error (`math.sqrt(-1)`, `math.log(0)`), so a symbolic call also records that the
host got past it (`x >= 0`, `x > 0`): a fact of the path, not an assumption. `ceil`/`floor` of a real give a
fresh integer symbol pinned by `c - 1 < x <= c` (resp. `f <= x < f + 1`), so block sizes computed from them
stay integers for the kernel.
"""

from __future__ import annotations

import math
from typing import Any

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op

# math functions whose IR operator exists: name -> (op, domain condition on the argument or None)
_REAL_FNS: dict[str, tuple[Op, str | None]] = {
    "sqrt": (Op.SQRT, "nonneg"),
    "exp": (Op.EXP, None),
    "exp2": (Op.EXP2, None),
    "log": (Op.LOG, "pos"),
    "log2": (Op.LOG2, "pos"),
    "tanh": (Op.TANH, None),
    "sin": (Op.SIN, None),
    "cos": (Op.COS, None),
    "erf": (Op.ERF, None),
}
# modelled when the arguments are numbers (Python computes them)
_CONCRETE = {*_REAL_FNS, "ceil", "floor", "trunc", "fabs", "pow", "isqrt", "gcd", "prod", "log10"}


def math_value(name: str, args: list[Any]) -> tuple[Any, list[Expr]]:
    """(value, facts) of `math.<name>(*args)`; (None, []) when not modelled."""
    if all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        if name not in _CONCRETE:
            return None, []
        return getattr(math, name)(*args), []
    if len(args) != 1 or not isinstance(args[0], Expr):
        return None, []
    x = args[0]
    if name in ("ceil", "floor", "trunc"):
        return _rounding(name, x)
    if name == "fabs":
        return ir.math_fn(Op.ABS, ir.to_real(x)), []
    if name in _REAL_FNS:
        op, domain = _REAL_FNS[name]
        facts = []
        if domain == "nonneg":
            facts.append(ir.le(_zero(x), x))
        elif domain == "pos":
            facts.append(ir.lt(_zero(x), x))
        return ir.math_fn(op, ir.to_real(x)), facts
    return None, []


def _zero(x: Expr) -> Expr:
    return ir.const(0.0) if x.kind is Kind.REAL else ir.ZERO


def _rounding(name: str, x: Expr) -> tuple[Expr, list[Expr]]:
    if x.kind is Kind.INT:
        return x, []
    from tritonlift.ir.printer import to_text

    c = ir.var(f"{name}({to_text(x)})")
    r = ir.to_real(c)
    one = ir.const(1.0)
    if name == "ceil":
        return c, [ir.le(x, r), ir.lt(r, ir.add(x, one))]
    if name == "floor":
        return c, [ir.le(r, x), ir.lt(x, ir.add(r, one))]
    # trunc: toward zero
    return c, [ir.or_(ir.and_(ir.le(ir.const(0.0), x), ir.le(r, x), ir.lt(x, ir.add(r, one))),
                      ir.and_(ir.lt(x, ir.const(0.0)), ir.le(x, r), ir.lt(r, ir.add(x, one))))]
