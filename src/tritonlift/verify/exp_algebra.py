"""The exp/log algebra the z3 backend lacks, as a sound rewrite of an obligation before a second attempt.

z3 sees `exp` and `log` as uninterpreted functions with a few ground facts (exp > 0, exp(log a) = a), so
`exp(x_j - m) / Σ_k exp(x_k - m) = exp(x_j) / Σ_k exp(x_k)` (softmax is shift-invariant) is out of its reach:
the two sides are different terms. This module rewrites both sides of an obligation with laws that hold
for every real argument:

- exp(a + b) = exp(a) · exp(b),  exp(a - b) = exp(a) · exp(-b),  exp(-(-a)) = exp(a);
- log(exp(a)) = a,  log(exp(a) · s) = a + log(s)  (exp(a) > 0: both sides are defined for the same s);
- x · (y / z) = (x · y) / z,  (a / b) / c = a / (b · c),  (a · exp(u)) / (b · exp(u)) = a / b  (exp(u) > 0);

then puts reductions back in canonical form (`ir.reductions.canon`, whose linearity moves a factor that does
not depend on the bound index out of a sum). Masked lanes hold -inf outside the reals; `canon` has already
turned `exp(where(c, a, -inf))` into `where(c, exp(a), 0)` where it applies. The verifier uses the rewritten
obligation only to *prove* (a failed proof still ends in a counterexample replayed on the original terms),
so the rewrite can make a proof possible but never a refutation.
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.ir.reductions import canon


def has_exp(e: Expr) -> bool:
    return any(n.op in (Op.EXP, Op.LOG) for n in ir.walk(e))


def _terms(e: Expr, sign: int, out: list[tuple[int, Expr]]) -> None:
    """e as a signed sum of terms (ADD/SUB/NEG flattened)."""
    if e.op is Op.ADD:
        _terms(e.args[0], sign, out)
        _terms(e.args[1], sign, out)
    elif e.op is Op.SUB:
        _terms(e.args[0], sign, out)
        _terms(e.args[1], -sign, out)
    elif e.op is Op.NEG:
        _terms(e.args[0], -sign, out)
    else:
        out.append((sign, e))


def _exp_of(sign: int, t: Expr) -> Expr:
    return ir.math_fn(Op.EXP, t if sign > 0 else ir.neg(t))


def _step(n: Expr) -> Expr | None:
    if n.op is Op.EXP:
        terms: list[tuple[int, Expr]] = []
        _terms(n.args[0], 1, terms)
        if len(terms) == 1:
            sign, t = terms[0]
            new = _exp_of(sign, t)
            return None if new == n else new
        out = _exp_of(*terms[0])
        for sign, t in terms[1:]:
            out = ir.mul(out, _exp_of(sign, t))
        return out
    if n.op is Op.MUL:  # x · (y / z) = (x · y) / z: one quotient, so common factors can cancel
        x, y = n.args
        if y.op is Op.DIV:
            return ir.div(_product([*_factors(x), *_factors(y.args[0])]), y.args[1])
        if x.op is Op.DIV:
            return ir.div(_product([*_factors(x.args[0]), *_factors(y)]), x.args[1])
    if n.op is Op.DIV and n.args[0].op is Op.DIV:  # (a / b) / c = a / (b · c)
        return ir.div(n.args[0].args[0], ir.mul(n.args[0].args[1], n.args[1]))
    if n.op is Op.DIV:  # (a · exp(u)) / (b · exp(u)) = a / b: exp(u) > 0
        num, den = _factors(n.args[0]), _factors(n.args[1])
        common = [f for f in num if f.op is Op.EXP and f in den]
        if common:
            for f in common:
                num.remove(f)
                den.remove(f)
            return ir.div(_product(num), _product(den))
    if n.op is Op.LOG:
        a = n.args[0]
        if a.op is Op.EXP:
            return a.args[0]
        if a.op is Op.MUL:
            factors = _factors(a)
            exps = [f for f in factors if f.op is Op.EXP]
            rest = [f for f in factors if f.op is not Op.EXP]
            if exps and rest:
                total: Expr = exps[0].args[0]
                for f in exps[1:]:
                    total = ir.add(total, f.args[0])
                prod = rest[0]
                for f in rest[1:]:
                    prod = ir.mul(prod, f)
                return ir.add(total, ir.math_fn(Op.LOG, prod))
    return None


def _factors(e: Expr) -> list[Expr]:
    if e.op is Op.MUL:
        return _factors(e.args[0]) + _factors(e.args[1])
    return [e]


def _product(fs: list[Expr]) -> Expr:
    fs = [f for f in fs if not (f.is_const and f.value == 1)]
    if not fs:
        return ir.const(1.0)
    out = fs[0]
    for f in fs[1:]:
        out = ir.mul(out, f)
    return out


def split_exp(e: Expr, rounds: int = 4) -> Expr:
    """e with the exp/log laws above applied to a fixed point (bounded), reductions canonical in between."""
    for _ in range(rounds):
        new = canon(ir.transform(e, _step))
        if new == e:
            return e
        e = new
    return e
