"""Welford's running mean and sum of squared deviations, recognised in a loop and closed (never unrolled).

The pattern `welford` of `verify.patterns` is proved once by induction over the state (n, mean, M2):

    n' = n + 1;  δ = x(t) - mean;  mean' = mean + δ / n';  M2' = M2 + δ · (x(t) - mean')
    from (0, 0, 0):  n_T = T,  mean_T = Σ_{t<T} x(t) / T  (0 for T = 0),  M2_T = Σ_{t<T} (x(t) - mean_T)^2

Kernels often keep no count of their own and divide by the iteration number instead (FlagGems'
`new_m = m + (x - m) / (step + 1)` with `step` counting 0, 1, ...): since the pattern's invariant gives
n_t = t at the start of iteration t, `n'` is `t + 1` there, and the instance is the same pattern. The
recognisers below only accept an update that *is* the pattern's step: the candidate step built from the
pattern and the kernel's update must have the same normal form (`verify.sum_algebra`, structural mode:
identities of real arithmetic only), so a kernel that divides by anything else, or updates M2 with another
product, is not matched (and stays unsupported).
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.poly import norm
from tritonlift.symbolic.loops import Summary, mentions_placeholder, replace_placeholder


def _same(a: Expr, b: Expr) -> bool:
    from tritonlift.verify.sum_algebra import Normalizer, TooBig

    if a == b:
        return True
    try:
        nz = Normalizer({})
        return nz.expr(ir.eq(a, b)) == ir.TRUE
    except TooBig:
        return False


def _is_zero(e: Expr) -> bool:
    return e.is_const and e.kind is not Kind.BOOL and float(e.value) == 0.0


def _count(t: str) -> Expr:
    """n' = t + 1 at iteration t (as a real: the kernel divides by it)."""
    return ir.to_real(ir.add(ir.var(t), ir.ONE))


def _candidates_g(new: Expr, p: Expr) -> list[Expr]:
    """g for each sub-term `g - p` of the update (the deviation δ = x(t) - mean)."""
    out = []
    for n in ir.walk(new):
        if n.op is Op.SUB and n.args[1] == p and not mentions_placeholder(n.args[0]):
            out.append(n.args[0])
    return out


def mean_step(mean: Expr, g: Expr, t: str) -> Expr:
    """mean' = mean + (g - mean) / (t + 1)."""
    return ir.add(mean, ir.div(ir.sub(g, mean), _count(t)))


def welford_mean(init: Expr, new: Expr, p: Expr, t: str, trips: Expr, bound: str) -> Summary | None:
    """The running mean `m' = m + (g(t) - m) / (t + 1)` from m_0 = 0: m_T = Σ_{r<T} g(r) / T (0 for T = 0)."""
    if not _is_zero(init):
        return None
    tv = ir.var(t)
    for g in _candidates_g(new, p):
        if not _same(new, mean_step(p, g, t)):
            continue
        body = ir.substitute(g, {tv: ir.var(bound)})

        def closed_at(k: Expr, body: Expr = body) -> Expr:
            total = ir.reduce(Op.SUM, bound, ir.ZERO, k, body)
            return ir.where(ir.eq(k, ir.ZERO), ir.const(0.0), ir.div(total, ir.to_real(k)))

        return Summary("welford", closed_at(trips), closed_at(tv), g, init, update=new)
    return None


def welford_m2(
    name_mean: str, mean: Summary, init: Expr, new: Expr, p: Expr, t: str, trips: Expr, bound: str, rank: int
) -> Summary | None:
    """M2' = M2 + (g(t) - mean') · (g(t) - mean) (either order), with `mean` the Welford mean of the same g
    and mean' its update: from M2_0 = 0, M2_T = Σ_{r<T} (g(r) - mean_T)^2."""
    if mean.pattern != "welford" or mean.step is None or mean.update is None or not _is_zero(init):
        return None
    g = mean.step
    m_at = mean.at
    m_new = replace_placeholder(mean.update, name_mean, m_at, rank)
    want = ir.add(p, ir.mul(ir.sub(g, m_new), ir.sub(g, m_at)))
    if mentions_placeholder(ir.sub(new, p)) and not _only_self(new, p):
        return None
    if not _same(new, want):
        return None
    tv = ir.var(t)

    def closed_at(k: Expr, m_k: Expr) -> Expr:
        dev = ir.sub(ir.substitute(g, {tv: ir.var(bound)}), m_k)
        return ir.reduce(Op.SUM, bound, ir.ZERO, k, ir.mul(dev, dev))

    return Summary("welford", closed_at(trips, mean.closed), closed_at(tv, m_at), g, init, update=new)


def _only_self(new: Expr, p: Expr) -> bool:
    """new reads no placeholder but p."""
    return all(n == p for n in ir.walk(new) if n.op is Op.READ and str(n.attr).startswith("@"))


__all__ = ["mean_step", "norm", "welford_m2", "welford_mean"]
