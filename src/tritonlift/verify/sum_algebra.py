"""An algebraic normal form for real expressions with sums, tried before and beside z3.

z3 sees a reduction as an uninterpreted function of its bounds and of its body (an array), and it does no
algebra under a binder: `Σ_k (x_k - μ)^2 / N` and `Σ_k x_k^2 / N - μ^2` are different terms to it, and even
two alpha-equivalent sums over nonlinear bodies are often not recognised as equal (z3 answers with a model
that does not replay). This module puts both sides of an obligation in a normal form where such identities
become syntactic, and hands what is left to z3 with every reduction abstracted to a fresh real variable:

- a real expression is a polynomial with exact rational coefficients over *atoms*; a monomial is a
  product of atoms with integer (possibly negative) exponents;
- atoms: memory reads (a tensor read becomes the read of its memory at its normalised address), real
  scalars, `float(i)` of an integer atom, math functions and `where`/`maximum`/`minimum` of normalised
  arguments, and reductions of a normalised body;
- linearity:  Σ_k (c · f(k) + g(k)) = c · Σ_k f(k) + Σ_k g(k)  (c free of k), Σ_k c = max(hi - lo, 0) · c;
  the body of a sum atom is one monomial's k-dependent factors, so each distinct such product is one atom
  (Σ(x-μ)² becomes Σx² - 2μΣx + Nμ²);
- every bound index is renamed canonically (by nesting depth), so equal reductions are equal atoms
  wherever they occur.

Soundness. With `invert=False` every step is an identity of real arithmetic that holds for all values
(ring laws, linearity of finite sums, congruence); a division `a / b` is then an atom of the normalised
`a` and `b`. With `invert=True` a division becomes a product with a negative power, and `rsqrt(a)` (with
`rsqrt=True`) becomes `sqrt(a)^-1`: those steps hold where the inverted atoms are nonzero (and `a > 0`
for rsqrt), which `Normal.conditions` lists. `prove` discharges the normal form under those conditions
and the original obligation (structurally normalised) where one of them fails, so a proof here is a proof
of the obligation in the verifier's own semantics. Abstracting each distinct reduction to a fresh
variable only weakens what z3 may assume, so a proof of the abstraction proves the original; the one fact
added back is that a sum of even powers is nonnegative. This pass only ever proves: a failure falls back
to the verifier's search for a counterexample, replayed on the original terms.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import BINDER_OPS, Expr, Kind, Op
from tritonlift.ir.formula import TensorDecl
from tritonlift.ir.named import expand_all
from tritonlift.ir.poly import norm
from tritonlift.ir.poly import poly as int_poly
from tritonlift.ir.reductions import REDUCTIONS, canon

Mono = tuple[tuple[Expr, int], ...]  # atoms with their exponents, sorted by key; () is 1
RPoly = dict[Mono, Fraction]

MAX_TERMS = 400  # a product that expands to more monomials than this gives up (no normal form)


class TooBig(Exception):
    """The expansion exceeded MAX_TERMS monomials."""


_KEYS: dict[Expr, str] = {}


def key(e: Expr) -> str:
    """A deterministic structural key (hashes vary between runs)."""
    k = _KEYS.get(e)
    if k is None:
        if not e.args:
            k = f"{e.op.value}:{e.attr!r}:{e.kind.value}"
        else:
            k = f"{e.op.value}:{e.attr!r}(" + ",".join(key(a) for a in e.args) + ")"
        if len(_KEYS) > 200_000:
            _KEYS.clear()
        _KEYS[e] = k
    return k


def _mono(factors: dict[Expr, int]) -> Mono:
    return tuple(sorted(((a, p) for a, p in factors.items() if p != 0), key=lambda ap: key(ap[0])))


def is_indicator(a: Expr) -> bool:
    """where(c, 1.0, 0.0): the 0/1 value of a condition (idempotent: [c]^2 = [c])."""
    return a.op is Op.WHERE and a.args[1] == ONE_R and a.args[2] == ZERO_R


ONE_R = ir.const(1.0)
ZERO_R = ir.const(0.0)


def _mul_mono(a: Mono, b: Mono) -> Mono:
    out = dict(a)
    for x, p in b:
        out[x] = out.get(x, 0) + p
        if is_indicator(x) and out[x] > 1:
            out[x] = 1
    return _mono(out)


def p_const(c: Fraction | int) -> RPoly:
    return {(): Fraction(c)} if c != 0 else {}


def p_atom(a: Expr, power: int = 1) -> RPoly:
    return {((a, power),): Fraction(1)}


def p_add(a: RPoly, b: RPoly, sign: int = 1) -> RPoly:
    out = dict(a)
    for m, c in b.items():
        v = out.get(m, Fraction(0)) + sign * c
        if v == 0:
            out.pop(m, None)
        else:
            out[m] = v
    return out


def p_scale(a: RPoly, c: Fraction) -> RPoly:
    return {m: v * c for m, v in a.items()} if c != 0 else {}


def p_mul(a: RPoly, b: RPoly, limit: int = MAX_TERMS) -> RPoly:
    if len(a) * len(b) > limit:
        raise TooBig
    out: RPoly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            m = _mul_mono(ma, mb)
            v = out.get(m, Fraction(0)) + ca * cb
            if v == 0:
                out.pop(m, None)
            else:
                out[m] = v
    return out


def _real(v: Fraction) -> Expr:
    return ir.const(float(v))


def _power(a: Expr, p: int) -> Expr:
    out = a
    for _ in range(abs(p) - 1):
        out = ir.mul(out, a)
    return ir.div(ir.const(1.0), out) if p < 0 else out


def to_expr(p: RPoly) -> Expr:
    """The polynomial as an Expr (terms in key order, so equal polynomials give equal Exprs)."""
    terms: list[Expr] = []
    for m, c in sorted(p.items(), key=lambda mc: [(key(a), e) for a, e in mc[0]]):
        num = [_power(a, e) for a, e in m if e > 0]
        den = [_power(a, -e) for a, e in m if e < 0]
        t: Expr | None = None
        for f in num:
            t = f if t is None else ir.mul(t, f)
        if t is None:
            t = _real(abs(c))
        elif abs(c) != 1:
            t = ir.mul(_real(abs(c)), t)
        for f in den:
            t = ir.div(t, f)
        terms.append(t if c > 0 else ir.neg(t))
    if not terms:
        return ir.const(0.0)
    out = terms[0]
    for t in terms[1:]:
        out = ir.sub(out, t.args[0]) if t.op is Op.NEG else ir.add(out, t)
    return out


@functools.lru_cache(maxsize=100_000)
def _free(e: Expr) -> frozenset[str]:
    return frozenset(ir.free_vars(e))


def mentions(e: Expr, name: str) -> bool:
    return name in _free(e)


def _depth(e: Expr) -> int:
    """Nesting depth of the binders inside e."""
    best = 0
    for n in ir.walk(e):
        if n.op in BINDER_OPS:
            best = max(best, 1 + _depth(n.args[2]))
    return best


def unique_binders(e: Expr, prefix: str = "_u") -> Expr:
    """Every binder renamed to a fresh name `_u0`, `_u1`, ... (so the canonical names cannot capture)."""
    count = [0]

    def go(n: Expr) -> Expr:
        if n.op in REDUCTIONS:
            lo, hi, body = (go(a) for a in n.args)
            name = f"{prefix}{count[0]}"
            count[0] += 1
            return ir.reduce(n.op, name, lo, hi, ir.substitute(body, {ir.var(str(n.attr)): ir.var(name)}))
        if not n.args:
            return n
        return ir.rebuild(n, tuple(go(a) for a in n.args))

    return go(e)


@dataclass
class Normal:
    """A normal form and the conditions it needs (each inverted atom nonzero, each rsqrt argument > 0)."""

    expr: Expr
    conditions: list[Expr] = field(default_factory=list)


class Normalizer:
    """Normal forms of real expressions (see the module docstring). One instance per obligation: its atoms
    and conditions accumulate."""

    def __init__(
        self, tensors: dict[str, TensorDecl], invert: bool = False, rsqrt: bool = False, merge: bool = False
    ):
        self.tensors = tensors
        self.invert = invert
        self.rsqrt = rsqrt
        self.merge = merge
        self.conditions: dict[Expr, None] = {}
        self.memo: dict[Expr, RPoly] = {}
        self.canon_seen: set[Expr] = set()
        self.sum_memo: dict[Expr, RPoly] = {}
        # decides integer min/max (and guards) under the obligation's hypotheses: a bound min(B, N - t*B) the
        # normal form produces (mask absorption) is decided where it appears
        self.bounds: Callable[[Expr], Expr] = lambda e: e
        self.fixed: dict[
            Expr, Expr
        ] = {}  # symbols the hypotheses fix (`x.stride(1) == 1`), in view addresses
        self.inv_polys: dict[Expr, RPoly] = {}  # a sum inverted as one atom (1 / (q - 1)): its polynomial
        self.depth = 0

    # ---- entry points
    def expr(self, e: Expr) -> Expr:
        """e (any kind) with every real sub-expression in normal form."""
        return self._node(unique_binders(canon(expand_all(e))))

    def _top(self, e: Expr) -> Expr:
        p = self.poly(e)
        return to_expr(self._merged(p) if self.merge else p)

    def _node(self, e: Expr) -> Expr:
        if e.kind is Kind.REAL:
            return self._top(e)
        if e.op in (Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE) and e.args[0].kind is Kind.REAL:
            p = self.poly(ir.sub(e.args[0], e.args[1]))
            p = self._merged(p) if self.merge else p
            if self.invert and e.op in (Op.EQ, Op.NE) and self.is_zero(p):
                return ir.TRUE if e.op is Op.EQ else ir.FALSE
            return ir.compare(e.op, to_expr(p), ir.const(0.0))
        if not e.args:
            return e
        if e.op in BINDER_OPS:  # an integer reduction: normalise its body, keep it
            lo, hi, body = e.args
            return Expr(e.op, (self._node(lo), self._node(hi), self._node(body)), e.attr, e.kind)
        if e.kind is Kind.INT and e.op in (Op.ADD, Op.SUB, Op.MUL, Op.NEG):
            return norm(ir.rebuild(e, tuple(self._node(a) for a in e.args)))
        return ir.rebuild(e, tuple(self._node(a) for a in e.args))

    # ---- real polynomials
    def poly(self, e: Expr) -> RPoly:
        got = self.memo.get(e)
        if got is None:
            got = self.memo[e] = self._poly(e)
        return got

    def _poly(self, e: Expr) -> RPoly:
        op = e.op
        if op is Op.CONST:
            v = float(e.value)
            return p_const(Fraction(v)) if math.isfinite(v) else p_atom(e)
        if op is Op.ADD:
            return p_add(self.poly(e.args[0]), self.poly(e.args[1]))
        if op is Op.SUB:
            return p_add(self.poly(e.args[0]), self.poly(e.args[1]), -1)
        if op is Op.NEG:
            return p_scale(self.poly(e.args[0]), Fraction(-1))
        if op is Op.MUL:
            return p_mul(self.poly(e.args[0]), self.poly(e.args[1]))
        if op is Op.DIV and e.args[1].op is Op.SQRT and e.args[0].is_const and float(e.args[0].value) == 1.0:
            # 1 / sqrt(a) is rsqrt(a) by definition, for every a (z3_backend, evaluate): one atom, no condition
            return self.poly(ir.math_fn(Op.RSQRT, e.args[1].args[0]))
        if op is Op.DIV:
            return self._div(e)
        if (
            op is Op.POW
            and e.args[1].is_const
            and float(e.args[1].value).is_integer()
            and 0 <= e.args[1].value <= 4
        ):
            base, out = self.poly(e.args[0]), p_const(1)
            for _ in range(int(e.args[1].value)):
                out = p_mul(out, base)
            return out
        if op is Op.CAST and e.args[0].kind is Kind.INT:
            return self._int(e.args[0])
        if op is Op.CAST and e.args[0].kind is Kind.BOOL:
            return self._indicator(e.args[0])
        if op is Op.WHERE and not any(_infinite(x) for x in e.args[1:]):
            # where(c, a, b) = [c]·a + (1 - [c])·b over the reals (a and b finite)
            c = self._indicator(e.args[0])
            return p_add(
                p_mul(c, self.poly(e.args[1])), p_mul(p_add(p_const(1), c, -1), self.poly(e.args[2]))
            )
        if op is Op.CAST and e.args[0].kind is Kind.REAL:
            return self.poly(e.args[0])
        if op is Op.RSQRT and self.rsqrt and self.invert and not _binds(e.args[0]):
            # rsqrt(a) = 1 / sqrt(a) for a > 0 (stated on a as it is, where a sum of squares is seen >= 0)
            self.conditions[ir.compare(Op.GT, e.args[0], ir.const(0.0))] = None
            return p_atom(ir.math_fn(Op.SQRT, self._node(e.args[0])), -1)
        if op is Op.SUM:
            return self._sum(e)
        if op is Op.READ:
            decl = self.tensors.get(str(e.attr))
            if decl is not None:
                address = ir.substitute(decl.address(tuple(norm(i) for i in e.args)), self.fixed)
                return p_atom(ir.mem(decl.base, norm(address)))
        if op is Op.MEM:
            return p_atom(ir.mem(str(e.attr), norm(e.args[0])))
        if op in REDUCTIONS:  # prod, max, min: an atom over a normalised body
            return p_atom(self._binder(e, self._node(e.args[2])))
        return p_atom(ir.rebuild(e, tuple(self._node(a) for a in e.args)) if e.args else e)

    def _int(self, i: Expr) -> RPoly:
        """float(i) of an integer expression: its integer polynomial, each atom cast (a bool cast to an int is
        its indicator)."""
        out: RPoly = {}
        for m, c in int_poly(i).items():
            term = p_const(c)
            for a in m:
                if a.op is Op.CAST and a.args[0].kind is Kind.BOOL:
                    term = p_mul(term, self._indicator(a.args[0]))
                else:
                    term = p_mul(term, p_atom(ir.to_real(a)))
            out = p_add(out, term)
        return out

    def _indicator(self, c: Expr) -> RPoly:
        """[c] as a polynomial: [a & b] = [a][b], [not a] = 1 - [a], [a | b] = [a] + [b] - [a][b], constants."""
        if c.is_const:
            return p_const(1 if c.value else 0)
        if c.op is Op.AND:
            return p_mul(self._indicator(c.args[0]), self._indicator(c.args[1]))
        if c.op is Op.NOT:
            return p_add(p_const(1), self._indicator(c.args[0]), -1)
        if c.op is Op.OR:
            a, b = self._indicator(c.args[0]), self._indicator(c.args[1])
            return p_add(p_add(a, b), p_mul(a, b), -1)
        if c.op in (Op.LT, Op.LE, Op.GT, Op.GE, Op.EQ, Op.NE) and c.args[0].kind is Kind.INT:
            c = _int_compare(c)
        else:
            c = self._node(c)
        if c.is_const:
            return p_const(1 if c.value else 0)
        return p_atom(ir.Expr(Op.WHERE, (c, ONE_R, ZERO_R), None, Kind.REAL))

    # ---- rational identities: denominators cleared, equal arguments of a function unified
    def is_zero(self, p: RPoly) -> bool:
        """p == 0 where every inverted atom is nonzero (the conditions): p times the product of its
        denominators, each inverted sum expanded back into its polynomial, is the zero polynomial."""
        try:
            if self.merge:
                p = self._split(p)
            cleared = self.clear(p)
            # adjacent ranges whose coefficients only agree once the denominators are cleared
            return not (self._merged(cleared) if self.merge and cleared else cleared)
        except TooBig:
            return False

    def clear(self, p: RPoly) -> RPoly:
        if self.depth > 4:
            raise TooBig
        self.depth += 1
        try:
            p = self._unify(p)
            for _ in range(4):
                need: dict[Expr, int] = {}
                for m in p:
                    for a, q in m:
                        if q < 0:
                            need[a] = max(need.get(a, 0), -q)
                if not need:
                    return p
                factor = _mono(need)
                p = {_mul_mono(m, factor): c for m, c in p.items()}
                out: RPoly = {}
                for m, c in p.items():
                    term: RPoly = {(): c}
                    rest: dict[Expr, int] = {}
                    for a, q in m:
                        if a in self.inv_polys and q > 0:
                            for _ in range(q):
                                term = p_mul(term, self.inv_polys[a], 20_000)
                        else:
                            rest[a] = rest.get(a, 0) + q
                    out = p_add(out, p_mul(term, {_mono(rest): Fraction(1)}, 20_000))
                p = out
            raise TooBig
        finally:
            self.depth -= 1

    def _unify(self, p: RPoly) -> RPoly:
        """Function atoms f(a), f(b) of p with a == b (denominators cleared) become one atom."""
        atoms = {
            a for m in p for a, _ in m if a.op in ir.UNARY_MATH_OPS and a.args and a.args[0].kind is Kind.REAL
        }
        rename: dict[Expr, Expr] = {}
        ordered = sorted(atoms, key=key)
        for i, a in enumerate(ordered):
            if a in rename:
                continue
            for b in ordered[i + 1 :]:
                if b in rename or b.op is not a.op:
                    continue
                if self.is_zero(p_add(self.poly(a.args[0]), self.poly(b.args[0]), -1)):
                    rename[b] = a
        if not rename:
            return p
        out: RPoly = {}
        for m, c in p.items():
            merged: dict[Expr, int] = {}
            for a, q in m:
                a = rename.get(a, a)
                merged[a] = merged.get(a, 0) + q
            out = p_add(out, {_mono(merged): c})
        return out

    def _div(self, e: Expr) -> RPoly:
        if self.invert and e.args[1].op is Op.MUL:  # a / (b · c) = (a / b) / c
            x, y = e.args[1].args
            return self.poly(ir.div(ir.div(e.args[0], x), y))
        num = self.poly(e.args[0])
        den = self.poly(e.args[1])
        if len(den) == 1 and next(iter(den)) == ():  # a nonzero constant divisor
            c = next(iter(den.values()))
            return p_scale(num, 1 / c)
        if not self.invert or _binds(e.args[1]):
            # a divisor that depends on a reduction's index stays inside an atom: its nonzero condition could
            # not be stated once for the obligation
            return p_atom(ir.div(to_expr(num), to_expr(den)))
        if not den:
            return p_atom(ir.div(to_expr(num), ir.const(0.0)))
        # the condition is stated on the divisor as written (where a sum of squares is seen >= 0); with the
        # other conditions it equals its normal form
        self.conditions[ir.compare(Op.NE, e.args[1], ir.const(0.0))] = None
        if len(den) == 1:  # c · Π a^p  ->  (1/c) · Π a^-p: each a is nonzero where the product is
            ((m, c),) = den.items()
            return p_scale(p_mul(num, {tuple((a, -p) for a, p in m): Fraction(1)}), 1 / c)
        d = to_expr(den)
        self.inv_polys[d] = den
        return p_mul(num, p_atom(d, -1))

    def _binder(self, e: Expr, body: Expr) -> Expr:
        """The reduction e over `body`, its bounds normalised, its range shifted to start at 0 (R_{k in [lo,
        hi)} f(k) = R_{k in [0, hi - lo)} f(k + lo)) and its index renamed canonically."""
        lo, hi = norm(self.bounds(self._node(e.args[0]))), norm(self.bounds(self._node(e.args[1])))
        k = str(e.attr)
        if lo != ir.ZERO and e.op is Op.SUM:
            body = self._node(ir.substitute(body, {ir.var(k): ir.add(ir.var(k), lo)}))
            lo, hi = ir.ZERO, norm(ir.sub(hi, lo))
        name = f"_b{_depth(body)}"
        return ir.reduce(e.op, name, lo, hi, ir.substitute(body, {ir.var(k): ir.var(name)}))

    def _sum_atom(self, e: Expr, dep: Mono) -> RPoly:
        """Σ_k of one monomial's k-dependent factors: an atom, after ir.reductions' canonical form (a loop over
        tiles flattened: Σ_a Σ_b f(a*B + b) = Σ_k f(k)), itself normalised again."""
        atom = self._binder(e, to_expr({dep: Fraction(1)}))
        got = self.sum_memo.get(atom)
        if got is not None:
            return got
        if atom in self.canon_seen:  # being normalised further up: an atom here
            return p_atom(atom)
        self.canon_seen.add(atom)
        c = canon(atom)
        got = p_atom(atom) if c == atom else self.poly(unique_binders(c, prefix=f"_c{len(self.canon_seen)}_"))
        self.canon_seen.discard(atom)
        self.sum_memo[atom] = got
        return got

    # ---- merging adjacent ranges
    def _merged(self, p: RPoly) -> RPoly:
        """c·R·Σ_{k<a} f(k) + c·R·Σ_{k<b} f(a + k)  ->  c·R·Σ_{k<a+b} f(k), on the conditions a >= 0, b >= 0
        (two consecutive ranges: a sum over a whole row split into full tiles and a tail)."""
        changed = True
        while changed:
            changed = False
            items = list(p.items())
            for i, (m1, c1) in enumerate(items):
                for m2, c2 in items[i + 1 :]:
                    if c1 != c2:
                        continue
                    new = self._merge_monos(m1, m2)
                    if new is None:
                        continue
                    p = p_add(p_add(p, {m1: c1}, -1), {m2: c2}, -1)
                    p = p_add(p, {new[0]: c1})
                    for cond in new[1]:
                        self.conditions[cond] = None
                    changed = True
                    break
                if changed:
                    break
        return p

    def _split(self, p: RPoly) -> RPoly:
        """A sum over [0, a + b) of p, when p also holds its two parts Σ_{k<a} f(k) and Σ_{k<b} f(a + k),
        replaced by their sum (conditions a, b >= 0): the same partition on both sides, also inside products
        (a mean squared)."""
        atoms = sorted({a for m in p for a, _ in m if a.op is Op.SUM and a.args[0] == ir.ZERO}, key=key)
        subst: dict[Expr, RPoly] = {}
        for first in atoms:
            for second in atoms:
                if first is second or first in subst or second in subst:
                    continue
                joined = self._join(first, second)
                if (
                    joined is None
                    or joined[0] not in atoms
                    or joined[0] in (first, second)
                    or joined[0] in subst
                ):
                    continue
                subst[joined[0]] = p_add(p_atom(first), p_atom(second))
                for cond in joined[1]:
                    self.conditions[cond] = None
        if not subst:
            return p
        out: RPoly = {}
        for m, c in p.items():
            term: RPoly = {(): c}
            rest: dict[Expr, int] = {}
            for a, q in m:
                if a in subst and q > 0:
                    for _ in range(q):
                        term = p_mul(term, subst[a], 20_000)
                else:
                    rest[a] = rest.get(a, 0) + q
            out = p_add(out, p_mul(term, {_mono(rest): Fraction(1)}, 20_000))
        return out

    def _merge_monos(self, m1: Mono, m2: Mono) -> tuple[Mono, list[Expr]] | None:
        d1, d2 = dict(m1), dict(m2)
        sums1 = [a for a, q in m1 if a.op is Op.SUM and q == 1 and a.args[0] == ir.ZERO]
        sums2 = [a for a, q in m2 if a.op is Op.SUM and q == 1 and a.args[0] == ir.ZERO]
        for s1 in sums1:
            for s2 in sums2:
                rest1 = {a: q for a, q in d1.items() if a != s1}
                rest2 = {a: q for a, q in d2.items() if a != s2}
                if rest1 != rest2:
                    continue
                for first, second in ((s1, s2), (s2, s1)):
                    joined = self._join(first, second)
                    if joined is not None:
                        out = dict(rest1)
                        out[joined[0]] = out.get(joined[0], 0) + 1
                        return _mono(out), joined[1]
        return None

    def _join(self, a: Expr, b: Expr) -> tuple[Expr, list[Expr]] | None:
        """Σ_{k<h1} f(k) and Σ_{k<h2} g(k) with g(k) = f(h1 + k): Σ_{k<h1+h2} f(k) for h1, h2 >= 0."""
        h1, h2 = a.args[1], b.args[1]
        if _binds(h1) or _binds(h2):  # the conditions h1, h2 >= 0 must be about the obligation's own symbols
            return None
        ka, kb = ir.var(str(a.attr)), ir.var(str(b.attr))
        shifted = self._node(ir.substitute(a.args[2], {ka: ir.add(ka, h1)}))
        if ir.substitute(shifted, {ka: kb}) != b.args[2]:
            return None
        joined = ir.reduce(Op.SUM, str(a.attr), ir.ZERO, norm(ir.add(h1, h2)), a.args[2])
        return joined, [ir.le(ir.ZERO, h1), ir.le(ir.ZERO, h2)]

    def _sum(self, e: Expr) -> RPoly:
        lo, hi, body = e.args
        k = str(e.attr)
        out: RPoly = {}
        groups: dict[Mono, RPoly] = {}  # k-dependent part -> the polynomial multiplying it
        for m, c in self.poly(body).items():
            dep = tuple((a, p) for a, p in m if mentions(a, k))
            free = tuple((a, p) for a, p in m if not mentions(a, k))
            groups[dep] = p_add(groups.get(dep, {}), {free: c})
        for dep, coef in groups.items():
            if not dep:
                n = ir.maximum(norm(ir.sub(hi, lo)), ir.ZERO) if not _nonneg(hi, lo) else ir.sub(hi, lo)
                count = self._int(norm(self.bounds(n)))
                out = p_add(out, p_mul(coef, count))
                continue
            out = p_add(out, p_mul(coef, self._sum_atom(e, dep)))
        return out


_BINDER_NAME = re.compile(r"^_(u\d+|b\d+|c\d+_\d+)$")


def _binds(e: Expr) -> bool:
    """e mentions an index bound by a reduction of the obligation (all renamed by unique_binders/_binder)."""
    return any(_BINDER_NAME.match(n) for n in _free(e))


def _infinite(e: Expr) -> bool:
    return any(n.is_const and n.kind is Kind.REAL and not math.isfinite(n.value) for n in ir.walk(e))


def _int_compare(c: Expr) -> Expr:
    """An integer comparison in one form: a < b, a <= b, a > b, a >= b as `x < y` / `x <= y` with both sides
    normalised (a > b is b < a); == and != with normalised sides."""
    a, b = norm(c.args[0]), norm(c.args[1])
    if c.op is Op.GT:
        return ir.lt(b, a)
    if c.op is Op.GE:
        return ir.le(b, a)
    return ir.compare(c.op, a, b)


def _nonneg(hi: Expr, lo: Expr) -> bool:
    d = norm(ir.sub(hi, lo))
    return d.is_const and int(d.value) >= 0


# ---- proving -------------------------------------------------------------------------------------


def abstract(items: list[Expr]) -> tuple[list[Expr], list[Expr]]:
    """Every outermost real reduction replaced by a fresh real variable (equal reductions, in any of the
    items, by the same one), and the facts kept about them: a sum of even powers is >= 0."""
    names: dict[Expr, Expr] = {}
    facts: list[Expr] = []
    memo: dict[Expr, Expr] = {}

    def go(n: Expr) -> Expr:
        got = memo.get(n)
        if got is not None:
            return got
        if n.op in REDUCTIONS and n.kind is Kind.REAL:
            v = names.get(n)
            if v is None:
                v = names[n] = ir.var(f"_sa{len(names)}", Kind.REAL)
                if n.op is Op.SUM and _even_powers(n.args[2]):
                    facts.append(ir.compare(Op.GE, v, ir.const(0.0)))
            out = v
        elif not n.args:
            out = n
        else:
            out = ir.rebuild(n, tuple(go(a) for a in n.args))
        memo[n] = out
        return out

    return [go(x) for x in items], facts


def _even_powers(body: Expr) -> bool:
    """body is a product of even powers of atoms (so every summand is >= 0)."""
    factors: dict[Expr, int] = {}

    def collect(x: Expr) -> bool:
        if x.op is Op.MUL:
            return collect(x.args[0]) and collect(x.args[1])
        if x.op is Op.DIV:
            return False
        factors[x] = factors.get(x, 0) + 1
        return True

    if not collect(body):
        return False
    counts: dict[Expr, int] = {}
    for f, q in factors.items():  # equal up to the names of their bound indices
        a = alpha(f)
        counts[a] = counts.get(a, 0) + q
    return all(q % 2 == 0 for q in counts.values())


def alpha(e: Expr) -> Expr:
    """e with every bound index renamed by its nesting depth (`_a0` innermost): alpha-equivalent terms become
    equal."""

    def go(n: Expr) -> Expr:
        if n.op in REDUCTIONS:
            lo, hi, body = (go(a) for a in n.args)
            name = f"_a{_depth(body)}"
            return ir.reduce(n.op, name, lo, hi, ir.substitute(body, {ir.var(str(n.attr)): ir.var(name)}))
        if not n.args:
            return n
        return ir.rebuild(n, tuple(go(a) for a in n.args))

    return go(e)


Check = Callable[[list[Expr], Expr], object]  # (hyps, goal) -> "proved" | "unknown" | a model


MODES = (
    ("sum-algebra", {}),
    ("sum-algebra (ranges joined, divisions inverted)", {"invert": True, "merge": True}),
    (
        "sum-algebra (ranges joined, divisions inverted, rsqrt as 1/sqrt)",
        {"invert": True, "merge": True, "rsqrt": True},
    ),
)


def prove(
    hyps: list[Expr], goal: Expr, tensors: dict[str, TensorDecl], check: Check, splits: int = 1
) -> str | None:
    """The name of the normal form that proved `goal` from `hyps`, or None. Failing that, a case split on an
    integer condition of a `where` outside every reduction (the loop ran no iteration, or some): each case
    proved with the condition as a hypothesis and the `where`s it decides replaced by their branch."""
    got = prove_once(hyps, goal, tensors, check)
    if got is not None or splits <= 0:
        return got
    for c in split_conditions(goal)[:2]:
        yes_hyps = [*hyps, c]
        yes = prove(
            yes_hyps, fix_divisions(ir.substitute(goal, {c: ir.TRUE}), yes_hyps), tensors, check, splits - 1
        )
        if yes is None:
            continue
        no = prove([*hyps, ir.not_(c)], ir.substitute(goal, {c: ir.FALSE}), tensors, check, splits - 1)
        if no is not None:
            return f"{yes}, by cases"
    return None


def fix_divisions(goal: Expr, hyps: list[Expr]) -> Expr:
    """Integer divisions the hypotheses pin to 0 or 1 (a case where the loop over full tiles ran no
    iteration: cdiv(N, B) == 1) replaced by that value, so the ranges they bound meet syntactically."""
    from tritonlift.synth.guards import prove as prove_int

    ints = [h for h in hyps if _integral(h)]
    ints += division_facts([goal, *ints])
    fixed: dict[Expr, Expr] = {}
    for n in ir.walk(goal):
        if n.op in (Op.TRUNCDIV, Op.FLOORDIV) and n.kind is Kind.INT and not _binds(n) and n not in fixed:
            for c in (ir.ZERO, ir.ONE):
                if prove_int(ints, ir.eq(n, c), 1000, rlimit=500_000):
                    fixed[n] = c
                    break
    return ir.substitute(goal, fixed) if fixed else goal


def split_conditions(goal: Expr) -> list[Expr]:
    """Integer conditions of `where`s that no reduction index reaches (each once, outermost first)."""
    out: dict[Expr, None] = {}
    seen: set[tuple[Expr, frozenset[str]]] = set()

    def go(n: Expr, bound: frozenset[str]) -> None:
        if (n, bound) in seen:
            return
        seen.add((n, bound))
        if n.op in BINDER_OPS:
            go(n.args[0], bound)
            go(n.args[1], bound)
            go(n.args[2], bound | {str(n.attr)})
            for a in n.args[3:]:
                go(a, bound)
            return
        if n.op is Op.WHERE and _integral(n.args[0]) and not (_free(n.args[0]) & bound) and _free(n.args[0]):
            out.setdefault(n.args[0], None)
        for a in n.args:
            go(a, bound)

    go(goal, frozenset())
    return list(out)


def prove_once(hyps: list[Expr], goal: Expr, tensors: dict[str, TensorDecl], check: Check) -> str | None:
    """The name of the normal form that proved `goal` from `hyps`, or None.

    Tries, in order: the structural normal form (no conditions); adjacent ranges joined and divisions
    inverted; rsqrt as 1/sqrt too. A normal form with conditions C proves the goal when hyps & C imply it
    and hyps & not C imply the structural one. `check` is the verifier's z3 query (hyps, goal) -> "proved"
    | other."""
    from tritonlift.synth.guards import simplify_guards

    ints = [h for h in hyps if _integral(h)]
    facts = division_facts([goal, *ints])
    ints, hyps = [*ints, *facts], [*hyps, *facts]
    # a hypothesis `v == c` (a host path where x.stride(1) == 1) holds in the goal: addresses meet syntactically
    fixed = {
        h.args[0]: h.args[1] for h in ints if h.op is Op.EQ and h.args[0].op is Op.VAR and h.args[1].is_const
    }
    if fixed:
        goal = ir.substitute(goal, fixed)
    # integer min/max (a reduction's bound min(BLOCK, N)) and guards the hypotheses decide: z3 decides each
    goal = empty_ranges(simplify_guards(goal, ints, timeout_ms=1000), ints)
    cache: dict[Expr, Expr] = {}

    def bounds(e: Expr) -> Expr:
        if e not in cache:
            cache[e] = norm(simplify_guards(e, ints, timeout_ms=1000))
        return cache[e]

    try:
        nz0 = Normalizer(tensors)
        nz0.bounds, nz0.fixed = bounds, fixed
        structural = nz0.expr(goal)
    except TooBig:
        return None
    if _holds(hyps, structural, check):
        return MODES[0][0]
    for name, flags in MODES[1:]:
        nz = Normalizer(tensors, **flags)
        nz.bounds, nz.fixed = bounds, fixed
        try:
            algebraic = nz.expr(goal)
        except TooBig:
            return None
        if algebraic == structural:
            continue
        conds = [simplify_guards(c, ints, timeout_ms=1000) for c in nz.conditions]
        if algebraic != ir.TRUE:  # bounds the joined ranges produced, decided again
            algebraic = simplify_guards(algebraic, ints, timeout_ms=1000)
            again = Normalizer(tensors, **flags)
            again.bounds, again.fixed = bounds, fixed
            algebraic = again.expr(algebraic)
        if not _holds([*hyps, *conds], algebraic, check):
            continue
        # where a condition fails, the (structural) obligation itself must hold
        if not conds or _holds([*hyps, ir.not_(ir.and_(*conds))], structural, check):
            return name
    return None


def empty_ranges(e: Expr, ints: list[Expr]) -> Expr:
    """Reductions whose range the hypotheses prove empty (hi <= lo) replaced by their identity."""
    from tritonlift.ir.reductions import identity
    from tritonlift.synth.guards import prove as prove_int

    cache: dict[tuple[Expr, Expr], bool] = {}

    def step(n: Expr) -> Expr | None:
        if n.op not in REDUCTIONS:
            return None
        lo, hi = n.args[0], n.args[1]
        if not (_integral(lo) and _integral(hi)):
            return None
        key = (lo, hi)
        if key not in cache:
            cache[key] = prove_int(ints, ir.le(hi, lo), 1000, rlimit=500_000)
        return identity(n.op, n.kind) if cache[key] else None

    return ir.transform(e, step)


def division_facts(items: list[Expr]) -> list[Expr]:
    """For each integer division q = x // d in items: d >= 1 (and x >= 0 for C's truncating division)
    implies d*q <= x < d*q + d. True of integer division; z3 needs them stated for symbolic divisors."""
    out: list[Expr] = []
    seen: set[Expr] = set()
    for e in items:
        for n in ir.walk(e):
            if n.op not in (Op.TRUNCDIV, Op.FLOORDIV) or n.kind is not Kind.INT or n in seen:
                continue
            seen.add(n)
            x, d = n.args
            if d.is_const:
                continue
            pre = ir.and_(ir.le(ir.ONE, d), ir.le(ir.ZERO, x)) if n.op is Op.TRUNCDIV else ir.le(ir.ONE, d)
            prod = ir.mul(d, n)
            out.append(ir.or_(ir.not_(pre), ir.and_(ir.le(prod, x), ir.lt(x, ir.add(prod, d)))))
    return out


def _integral(e: Expr) -> bool:
    return not any(n.kind is Kind.REAL or n.op in (Op.READ, Op.MEM, Op.UNDEF) for n in ir.walk(e))


def _holds(hyps: list[Expr], goal: Expr, check: Check) -> bool:
    if goal == ir.TRUE:
        return True
    items, facts = abstract([*hyps, goal])
    return check([*facts, *items[:-1]], items[-1]) == "proved"
