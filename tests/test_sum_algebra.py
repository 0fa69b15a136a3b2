"""The algebraic normal form of sums (verify/sum_algebra.py): true identities prove, wrong ones do not."""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.verify.check import _check
from tritonlift.verify.sum_algebra import Normalizer, abstract, prove, unique_binders

N = ir.var("N")
M = ir.var("M")
EPS = ir.var("eps", Kind.REAL)
KINDS = {"N": Kind.INT, "M": Kind.INT, "eps": Kind.REAL}


def x(k: str) -> Expr:
    return ir.mem("x", ir.var(k))


def y(k: str) -> Expr:
    return ir.mem("y", ir.var(k))


def total(k: str = "k", hi: Expr = N, f=x) -> Expr:
    return ir.reduce(Op.SUM, k, ir.ZERO, hi, f(k))


def mean(k: str = "k") -> Expr:
    return ir.div(total(k), ir.to_real(N))


def sq(a: Expr) -> Expr:
    return ir.mul(a, a)


def centred_sq_sum(k: str = "j", inner: str = "k") -> Expr:
    return ir.reduce(Op.SUM, k, ir.ZERO, N, sq(ir.sub(x(k), mean(inner))))


def check(h: list[Expr], g: Expr) -> object:
    return _check(h, g, KINDS, {}, 5000)


def proves(goal: Expr, hyps: list[Expr] | None = None) -> bool:
    return prove(hyps if hyps is not None else [ir.le(ir.ONE, N)], goal, {}, check) is not None


def test_alpha_equivalent_nested_sums_meet():
    a = ir.div(centred_sq_sum("j", "k"), ir.to_real(N))
    b = ir.div(centred_sq_sum("m", "l"), ir.to_real(N))
    nz = Normalizer({})
    assert nz.expr(a) == nz.expr(b)
    assert proves(ir.eq(a, b), hyps=[])  # no division inverted: holds for N = 0 too


def test_square_expansion():
    # Σ (x - μ)^2 = Σ x^2 - 2 μ Σ x + N μ^2 and, with μ the mean, = Σ x^2 - N μ^2
    mu = mean()
    lhs = centred_sq_sum()
    sum_sq = ir.reduce(Op.SUM, "i", ir.ZERO, N, sq(x("i")))
    n = ir.to_real(N)
    assert proves(
        ir.eq(lhs, ir.add(ir.sub(sum_sq, ir.mul(ir.mul(ir.const(2.0), mu), total())), ir.mul(n, sq(mu))))
    )
    assert proves(ir.eq(lhs, ir.sub(sum_sq, ir.mul(n, sq(mu)))))
    # variance = E[x^2] - mean^2
    assert proves(ir.eq(ir.div(lhs, n), ir.sub(ir.div(sum_sq, n), sq(mu))))


def test_wrong_identities_are_not_proved():
    mu = mean()
    n = ir.to_real(N)
    lhs = centred_sq_sum()
    sum_sq = ir.reduce(Op.SUM, "i", ir.ZERO, N, sq(x("i")))
    assert not proves(ir.eq(ir.div(lhs, n), ir.sub(ir.div(sum_sq, n), mu)))  # mean, not mean^2
    assert not proves(ir.eq(lhs, ir.sub(sum_sq, sq(mu))))  # N mu^2, not mu^2
    # Σ x·y is not Σ x · Σ y
    xy = ir.reduce(Op.SUM, "i", ir.ZERO, N, ir.mul(x("i"), y("i")))
    assert not proves(ir.eq(xy, ir.mul(total(), total("k", N, y))))
    # a factor that depends on the index does not leave the sum
    kx = ir.reduce(Op.SUM, "i", ir.ZERO, N, ir.mul(ir.to_real(ir.var("i")), x("i")))
    assert not proves(ir.eq(kx, ir.mul(ir.to_real(N), total())))


def test_linearity_and_constant_bodies():
    body = ir.add(ir.mul(ir.const(2.0), x("i")), ir.mul(EPS, y("i")))
    lhs = ir.reduce(Op.SUM, "i", ir.ZERO, N, ir.add(body, ir.const(3.0)))
    rhs = ir.add(
        ir.add(ir.mul(ir.const(2.0), total()), ir.mul(EPS, total("j", N, y))),
        ir.mul(ir.const(3.0), ir.to_real(N)),
    )
    assert proves(ir.eq(lhs, rhs))
    # over a range that may be empty the count is max(M, 0), not M
    const_sum = ir.reduce(Op.SUM, "i", ir.ZERO, M, ir.const(1.0))
    assert not proves(ir.eq(const_sum, ir.to_real(M)), hyps=[])
    assert proves(ir.eq(const_sum, ir.to_real(M)), hyps=[ir.le(ir.ZERO, M)])


def test_inverting_a_divisor_needs_it_nonzero():
    # (Σ_{k<M} x_k / N) * N = Σ_{k<M} x_k only where N != 0
    s = total("k", M)
    goal = ir.eq(ir.mul(ir.div(s, ir.to_real(N)), ir.to_real(N)), s)
    assert proves(goal, hyps=[ir.le(ir.ONE, N)])
    assert not proves(goal, hyps=[ir.le(ir.ZERO, N)])
    nz = Normalizer({}, invert=True)
    assert nz.expr(goal) == ir.TRUE
    assert nz.conditions  # the normal form is valid where float(N) != 0, and says so


def test_rsqrt_as_reciprocal_sqrt_needs_a_positive_argument():
    mean_sq = ir.div(ir.reduce(Op.SUM, "k", ir.ZERO, N, sq(x("k"))), ir.to_real(N))
    for eps in (ir.const(1e-6), ir.const(-1.0), EPS):
        # x * rsqrt(a) == x / sqrt(a) for every a: rsqrt(a) is 1 / sqrt(a) and a / b is a * (1 / b), as in IEEE
        # (where a <= 0 both sides are the same nan or infinity)
        lhs = ir.mul(x("j"), ir.math_fn(Op.RSQRT, ir.add(mean_sq, eps)))
        rhs = ir.div(x("j"), ir.math_fn(Op.SQRT, ir.add(mean_sq, eps)))
        assert proves(ir.eq(lhs, rhs))
    # rsqrt(a) * sqrt(a) == 1 only where a > 0 (at a = 0 it is 0 * inf): needs eps > 0 (and N >= 1)
    for eps, ok in ((ir.const(1e-6), True), (ir.const(-1.0), False), (EPS, False)):
        a = ir.add(mean_sq, eps)
        one = ir.eq(ir.mul(ir.math_fn(Op.RSQRT, a), ir.math_fn(Op.SQRT, a)), ir.const(1.0))
        assert proves(one, hyps=[ir.le(ir.ONE, N)]) is ok, eps
    a = ir.add(mean_sq, EPS)
    one = ir.eq(ir.mul(ir.math_fn(Op.RSQRT, a), ir.math_fn(Op.SQRT, a)), ir.const(1.0))
    assert proves(one, hyps=[ir.le(ir.ONE, N), ir.compare(Op.GT, EPS, ir.const(0.0))])


def test_abstraction_shares_equal_reductions_and_keeps_square_sums_nonnegative():
    s2 = ir.reduce(Op.SUM, "_b0", ir.ZERO, N, sq(x("_b0")))
    s1 = total("_b0")
    items, facts = abstract([ir.eq(s2, s1), ir.compare(Op.GT, s2, s1)])
    v2, v1 = items[0].args
    assert v2.op is Op.VAR and v1.op is Op.VAR and v2 != v1
    assert items[1].args == (v2, v1)
    assert facts == [ir.compare(Op.GE, v2, ir.const(0.0))]


def test_unique_binders_do_not_capture():
    inner = ir.reduce(Op.SUM, "_b0", ir.ZERO, N, ir.mul(x("_b0"), ir.to_real(ir.var("_b1"))))
    outer = ir.reduce(Op.SUM, "_b1", ir.ZERO, N, inner)
    renamed = unique_binders(outer)
    assert {str(n.attr) for n in ir.walk(renamed) if n.op is Op.SUM} == {"_u0", "_u1"}
    # Σ_a Σ_b x_b · a  !=  Σ_a Σ_b x_b · b: the normal form keeps them apart
    swapped = ir.reduce(
        Op.SUM,
        "_b1",
        ir.ZERO,
        N,
        ir.reduce(Op.SUM, "_b0", ir.ZERO, N, ir.mul(x("_b0"), ir.to_real(ir.var("_b0")))),
    )
    assert not proves(ir.eq(outer, swapped), hyps=[])
