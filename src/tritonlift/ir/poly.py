"""Polynomial normal form of integer index expressions: sums of integer-weighted monomials over atoms."""

from __future__ import annotations

from collections import defaultdict

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op

Mono = tuple[Expr, ...]  # sorted atoms (a multiset); () is the constant monomial
Poly = dict[Mono, int]


def _key(e: Expr) -> str:
    """A deterministic structural key (sorting by hash would vary between runs)."""
    if not e.args:
        return f"{e.op.value}:{e.attr!r}"
    return f"{e.op.value}:{e.attr!r}(" + ",".join(_key(a) for a in e.args) + ")"


def _mono(atoms: list[Expr]) -> Mono:
    return tuple(sorted(atoms, key=_key))


def poly(e: Expr) -> Poly:
    """e as a polynomial with integer coefficients (e must be INT kind)."""
    out: Poly = defaultdict(int)
    match e.op:
        case Op.CONST if e.kind is Kind.INT:
            out[()] += int(e.value)
        case Op.ADD:
            for m, c in poly(e.args[0]).items():
                out[m] += c
            for m, c in poly(e.args[1]).items():
                out[m] += c
        case Op.SUB:
            for m, c in poly(e.args[0]).items():
                out[m] += c
            for m, c in poly(e.args[1]).items():
                out[m] -= c
        case Op.NEG:
            for m, c in poly(e.args[0]).items():
                out[m] -= c
        case Op.MUL:
            pa, pb = poly(e.args[0]), poly(e.args[1])
            for ma, ca in pa.items():
                for mb, cb in pb.items():
                    out[_mono([*ma, *mb])] += ca * cb
        case _:
            out[(_atom(e),)] += 1
    return _fold_divmod({m: c for m, c in out.items() if c != 0})


def _atom(e: Expr) -> Expr:
    """Normalise the integer arguments inside an atom so equal atoms compare equal."""
    if e.op in (Op.TRUNCDIV, Op.TRUNCMOD, Op.FLOORDIV, Op.MOD, Op.MINIMUM, Op.MAXIMUM) and e.kind is Kind.INT:
        return Expr(e.op, tuple(norm(a) for a in e.args), e.attr, e.kind)
    return e


def _fold_divmod(p: Poly) -> Poly:
    """c*D*R*(X div D) + c*R*(X mod D) -> c*R*X (R a monomial: a stride, say), for C- and Python-style
    div/mod pairs alike: X = D*(X div D) + X mod D for both."""
    changed = True
    while changed:
        changed = False
        for m, c in list(p.items()):
            if m not in p:
                continue
            for a in m:
                if a.op not in (Op.TRUNCDIV, Op.FLOORDIV):
                    continue
                x, d = a.args
                mod_op = Op.TRUNCMOD if a.op is Op.TRUNCDIV else Op.MOD
                rest = list(m)
                rest.remove(a)
                dp = poly(d)
                if len(dp) != 1:
                    continue
                (dm, dc), = dp.items()
                outer = divide_mono(_mono(rest), dm)  # R: what multiplies D * (X div D)
                if outer is None or c % dc:
                    continue
                coef = c // dc
                mod_mono = _mono([Expr(mod_op, (x, d), None, Kind.INT), *outer])
                if p.get(mod_mono) != coef:
                    continue
                del p[m]
                del p[mod_mono]
                for xm, xc in poly(x).items():
                    key = _mono([*xm, *outer])
                    p[key] = p.get(key, 0) + coef * xc
                    if p[key] == 0:
                        del p[key]
                changed = True
                break
    return p


def unpoly(p: Poly) -> Expr:
    terms: list[Expr] = []
    for m, c in sorted(p.items(), key=lambda mc: (-len(mc[0]), [_key(a) for a in mc[0]])):
        t: Expr = ir.const(abs(c)) if not m else _product(m)
        if m and abs(c) != 1:
            t = ir.mul(ir.const(abs(c)), t)
        terms.append(t if c > 0 else ir.neg(t))
    if not terms:
        return ir.ZERO
    out = terms[0]
    for t in terms[1:]:
        out = ir.sub(out, t.args[0]) if t.op is Op.NEG else ir.add(out, t)
    return out


def _product(m: Mono) -> Expr:
    out = m[0]
    for a in m[1:]:
        out = ir.mul(out, a)
    return out


def norm(e: Expr) -> Expr:
    """Canonical form of an integer expression (equal polynomials print the same)."""
    if e.kind is not Kind.INT:
        return e
    return unpoly(poly(e))


def mono_expr(m: Mono) -> Expr:
    return ir.ONE if not m else _product(m)


def divide_poly(p: Poly, d: Poly) -> Expr | None:
    """p / d when d is one monomial dividing every monomial of p with an integer coefficient, else None."""
    if len(d) != 1:
        return None
    ((dm, dc),) = d.items()
    out: Poly = {}
    for m, c in p.items():
        rest = divide_mono(m, dm)
        if rest is None or c % dc:
            return None
        out[rest] = c // dc
    return unpoly(out)


def divide_mono(m: Mono, d: Mono) -> Mono | None:
    """m / d as a monomial when d divides m (multiset inclusion), else None."""
    rest = list(m)
    for a in d:
        if a not in rest:
            return None
        rest.remove(a)
    return _mono(rest)
