"""A loop over full tiles and its peeled last tile joined into one sum (FlagGems' mm: `for start_k in
range(0, prev_multiple_of(K, BLOCK_K), BLOCK_K)` unmasked, then one masked tile at `prev_multiple`).

After the loop patterns, such a kernel's value holds two sums over the same body, the second one shifted:

    Σ_{k in [lo, a)} f(k)  +  Σ_{l in [lo2, h2)} f(s + l)      with  s + lo2 = a,  lo <= a,  lo2 <= h2

which is Σ_{k in [lo, s + h2)} f(k): the lemma `sum-concat` (verify/patterns.py, proved by induction:
Σ_{k<a} f(k) + Σ_{l<n} f(a + l) = Σ_{k<a+n} f(k) for a, n >= 0; the ranges above are its instance with
f shifted by lo). The side conditions are proved with z3 from the spec's facts. When they hold only for
non-empty sizes (at K = 0 the peeled tile of `prev_multiple_of` starts at -BLOCK_K, before the loop's
end), the sizes they mention are assumed >= 1 and the assumption is returned for the result to state;
the verifier then proves the kernel under it, and nothing is claimed for the excluded sizes.
"""

from __future__ import annotations

from dataclasses import replace

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import Poly, divide_poly, norm, poly
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.symbolic.values import lane, pid
from tritonlift.synth.guards import prove, simplify_guards
from tritonlift.synth.pid_map import deep_norm

_TIMEOUT_MS = 2000


def _addends(e: Expr) -> list[Expr]:
    if e.op is Op.ADD and e.kind is Kind.REAL:
        return _addends(e.args[0]) + _addends(e.args[1])
    return [e]


def _linear_in(e: Expr, k: Expr) -> tuple[Poly, Poly] | None:
    """(coefficient of k, the rest) of the integer polynomial e, when e is linear in k."""
    coef: Poly = {}
    rest: Poly = {}
    for m, c in poly(e).items():
        n = sum(1 for a in m if a == k)
        if n == 0:
            if any(any(x == k for x in ir.walk(a)) for a in m):
                return None  # k inside an atom (a division, say)
            rest[m] = c
        elif n == 1:
            coef[tuple(a for a in m if a != k)] = c
        else:
            return None
    return coef, rest


def _shifts(f: Expr, k1: Expr, g: Expr, k2: Expr) -> list[Expr]:
    """Candidate s with g(l) = f(s + l): from each pair of reads of one tensor, the difference of their
    addresses divided by the bound index's coefficient."""
    reads_f = [n for n in ir.walk(f) if n.op in (Op.MEM, Op.READ) and any(x == k1 for x in ir.walk(n))]
    reads_g = [n for n in ir.walk(g) if n.op in (Op.MEM, Op.READ) and any(x == k2 for x in ir.walk(n))]
    out: list[Expr] = []
    for rf in reads_f:
        for rg in reads_g:
            if rf.op is not rg.op or rf.attr != rg.attr or len(rf.args) != len(rg.args):
                continue
            for a1, a2 in zip(rf.args, rg.args, strict=True):
                l1, l2 = _linear_in(a1, k1), _linear_in(a2, k2)
                if l1 is None or l2 is None or not l1[0] or l1[0] != l2[0]:
                    continue
                diff = dict(l2[1])
                for m, c in l1[1].items():
                    diff[m] = diff.get(m, 0) - c
                s = divide_poly({m: c for m, c in diff.items() if c}, l1[0])
                if s is not None and norm(s) not in out:
                    out.append(norm(s))
    return out


def _join(s1: Expr, s2: Expr, hyps: list[Expr], sizes: list[str]) -> tuple[Expr, list[str]] | None:
    """Σ_{[lo, a)} f + Σ_{[lo2, h2)} f(s + .) as one sum (and the sizes assumed >= 1), else None."""
    k1, k2 = ir.var(str(s1.attr)), ir.var(str(s2.attr))
    lo1, hi1, f = s1.args
    lo2, hi2, g = s2.args
    for s in _shifts(f, k1, g, k2):
        moved = deep_norm(ir.substitute(g, {k2: ir.sub(k1, s)}))
        body = f
        if moved != deep_norm(f):
            # the tail masked (`where(k < K, x, 0)`) where the loop is not: one sum of the masked body when
            # the loop's range makes its guards true (then the masked body is the loop's there)
            in_loop = [*hyps, ir.le(lo1, k1), ir.lt(k1, hi1)]
            if not (any(n.op is Op.WHERE for n in ir.walk(moved))
                    and deep_norm(simplify_guards(moved, in_loop)) == deep_norm(f)):
                continue
            body = moved
        side = ir.and_(ir.eq(hi1, ir.add(lo2, s)), ir.le(lo1, hi1), ir.le(lo2, hi2))
        assumed: list[str] = []
        if not prove(hyps, side, _TIMEOUT_MS):
            named = sorted({str(n.attr) for n in ir.walk(side) if n.op is Op.VAR and str(n.attr) in sizes})
            extra = [ir.le(ir.ONE, ir.var(v)) for v in named]
            if not extra or not prove([*hyps, *extra], side, _TIMEOUT_MS):
                continue
            assumed = [f"{v} >= 1" for v in named]
            hyps = [*hyps, *extra]
        hi = simplify_guards(norm(ir.add(hi2, s)), hyps)
        return ir.reduce(Op.SUM, str(k1.attr), lo1, hi, body), assumed
    return None


def join_tails(spec: KernelSpec, facts: list[Expr], sizes: list[str]) -> KernelSpec:
    """The spec with every loop-plus-peeled-tile pair of sums joined: an identity under `facts` and the
    assumptions it adds to the spec's facts and assumptions (each `v >= 1` for a size v in `sizes`)."""
    said: list[str] = []
    stores = []
    for st in spec.stores:
        ranges = [f for ax, g in enumerate(spec.axes) for f in (ir.le(ir.ZERO, pid(ax)), ir.lt(pid(ax), g))]
        ranges += [f for ax, e in enumerate(st.shape) for f in (ir.le(ir.ZERO, lane(ax)), ir.lt(lane(ax), e))]
        hyps = [*spec.facts, *facts, *ranges]
        assumed: list[str] = []

        def step(n: Expr, hyps: list[Expr] = hyps, assumed: list[str] = assumed) -> Expr | None:
            if n.op is not Op.ADD or n.kind is not Kind.REAL:
                return None
            terms = _addends(n)
            sums = [k for k, t in enumerate(terms) if t.op is Op.SUM]
            for i in sums:
                for j in sums:
                    if i == j:
                        continue
                    got = _join(
                        terms[i],
                        terms[j],
                        [*hyps, *(ir.le(ir.ONE, ir.var(a.split()[0])) for a in assumed)],
                        sizes,
                    )
                    if got is None:
                        continue
                    joined, more = got
                    assumed.extend(a for a in more if a not in assumed)
                    rest = [t for k, t in enumerate(terms) if k not in (i, j)]
                    out = joined
                    for t in rest:
                        out = ir.add(out, t)
                    return out
            return None

        value = st.value
        for _ in range(4):  # each join removes one sum
            new = ir.transform(value, step)
            if new == value:
                break
            value = new
        said.extend(a for a in assumed if a not in said)
        stores.append(replace(st, value=value))
    if all(a.value == b.value for a, b in zip(stores, spec.stores, strict=True)):
        return spec
    extra = [ir.le(ir.ONE, ir.var(a.split()[0])) for a in said]
    why = "a loop over full tiles and its peeled last tile are one sum only then"
    note = "a loop over full tiles and its peeled last tile joined into one sum (pattern sum-concat)"
    return replace(
        spec,
        stores=stores,
        facts=[*spec.facts, *extra],
        notes=[*spec.notes, note],
        assumptions=[*spec.assumptions, *(f"{a} ({why})" for a in said)],
    )


__all__ = ["join_tails"]
