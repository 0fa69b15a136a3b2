"""The loop invariant patterns: each proves by induction; a wrong step, closed form or init must not."""

from __future__ import annotations

import dataclasses

import pytest
import z3

from tritonlift.verify import patterns as P
from tritonlift.verify.patterns import PATTERNS, Claim, Env, Pattern, PatternProof, ProofFailed, proof_of

REQUIRED = {
    "accumulate-sum",
    "accumulate-prod",
    "running-max",
    "running-min",
    "online-softmax",
    "welford",
    "pointer-advance",
    "tiled-reindex",
    "write-tiles",
}


def test_library_names():
    assert set(PATTERNS) >= REQUIRED
    for name, p in PATTERNS.items():
        assert p.name == name
        assert p.step and p.closed_form and p.statement
        assert "\n" not in p.statement


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_pattern_proves(name):
    proof = proof_of(name)
    assert isinstance(proof, PatternProof)
    assert proof.proved and proof.detail == ""
    assert proof.name == name
    assert proof.obligations >= (3 if name == "write-tiles" else 2)
    assert proof.seconds > 0
    assert proof_of(name) is proof  # cached per process


# ---- wrong variants: each must fail (z3 answers sat: a counterexample to the base or the step)


def _ext_le_inf(m, s, t):
    return (m.env.max(s[0], z3.If(t <= m.E, m.h(t), m.env.ninf)),)


def _softmax_no_rescale(m, s, t):
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.elem(t))
    return mn, z3.If(env.is_ninf(mn), d, d + env.sub_exp(m.elem(t), mn))


def _softmax_no_guard(m, s, t):
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.elem(t))
    return mn, d * env.sub_exp(mx, mn) + env.sub_exp(m.elem(t), mn)


def _softmax_old_max(m, s, t):  # rescales against the old max instead of the new one
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.elem(t))
    return mn, z3.If(env.is_ninf(mn), d, d * env.sub_exp(mx, mn) + env.sub_exp(m.elem(t), mx))


def _tile_no_rescale(m, s, t):
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.BM(m.B, t))
    p = z3.If(env.is_ninf(mn), env.nan, m.BS(m.B, t, env.val(mn)))
    return mn, z3.If(env.is_ninf(mn), d, d + p)


def _tile_no_guard(m, s, t):
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.BM(m.B, t))
    p = z3.If(env.is_ninf(mn), env.nan, m.BS(m.B, t, env.val(mn)))
    return mn, d * env.sub_exp(mx, mn) + p


def _no_resume_hyp(setup):
    """The online-softmax model without the hypothesis m_0 = -inf -> d_0 = 0 on the state it resumes from."""

    def wrong(env):
        m = setup(env)
        m.hyps = [h for h in m.hyps if "d0" not in str(h)]
        return m

    return wrong


def _softmax_closed_no_d0(m, T):  # forgets the rescaled d_0 of an earlier loop
    mx = m.env.max(m.m0, m.M(T))
    return mx, z3.If(m.env.is_ninf(mx), m.env.rv(0), m.SE(T, m.env.val(mx)))


def _tile_closed_d0_unscaled(m, T):  # adds d_0 without rescaling it to the new max
    env, mx = m.env, m.env.max(m.m0, m.OM(T, m.B))
    return mx, z3.If(env.is_ninf(mx), env.rv(0), m.d0 + m.OS(T, m.B, env.val(mx)))


_SCALAR_RESCALE = (
    lambda m, n: m.M(n),
    lambda m, n, c: m.SE(n, c),
    lambda m, n, c, c2: m.shift.at(n, c, c2),
    lambda m, n, c2: m.empty.at(n, c2),
)
_TILE_RESCALE = (
    lambda m, n: m.OM(n, m.B),
    lambda m, n, c: m.OS(n, m.B, c),
    lambda m, n, c, c2: m.oshift.at(n, m.B, c, c2),
    lambda m, n, c2: m.oempty.at(n, m.B, c2),
)


def _rescale_backwards(parts):  # d * exp(c' - C): rescaled the wrong way
    def lemma(m):
        hyps, goal = P._rescale_lemma(*parts)(m)
        lhs, rhs = goal.arg(0), goal.arg(1)
        factor = lhs.arg(1)
        return hyps, lhs.arg(0) * m.env.exp(-factor.arg(0)) == rhs

    return lemma


def _welford_delta_squared(m, s, t):  # M2 += delta * delta (forgets the updated mean)
    cnt, mean, m2 = s
    x = m.x(t)
    delta = x - mean
    return cnt + 1, mean + delta / z3.ToReal(cnt + 1), m2 + delta * delta


def _welford_old_count(m, s, t):  # mean += delta / n with the count before the increment
    cnt, mean, m2 = s
    x = m.x(t)
    delta = x - mean
    mean2 = mean + delta / z3.ToReal(cnt)
    return cnt + 1, mean2, m2 + delta * (x - mean2)


WRONG: list[tuple[str, str, dict]] = [
    ("accumulate-sum", "closed form one term short", {"closed": lambda m, T: (m.acc0 + m.S(T - 1),)}),
    ("accumulate-sum", "wrong init", {"init": lambda m: (m.env.rv(0),)}),
    ("accumulate-sum", "step adds g(t+1)", {"update": lambda m, s, t: (s[0] + m.g(t + 1),)}),
    ("accumulate-prod", "closed form one factor too many", {"closed": lambda m, T: (m.acc0 * m.P(T + 1),)}),
    ("accumulate-prod", "step adds", {"update": lambda m, s, t: (s[0] + m.g(t),)}),
    ("sum-linearity", "step forgets c", {"update": lambda m, s, t: (s[0] + m.g(t),)}),
    ("running-max", "step forgets m", {"update": lambda m, s, t: (m.g(t),)}),
    ("running-max", "closed form forgets m_0", {"closed": lambda m, T: (m.M(T),)}),
    ("running-min", "step takes max", {"update": lambda m, s, t: (m.env.max(s[0], m.g(t)),)}),
    ("running-min", "init -inf", {"init": lambda m: (m.env.ninf,), "closed": lambda m, T: (m.N(T),)}),
    ("online-softmax", "no rescale exp(m - m')", {"update": _softmax_no_rescale}),
    ("online-softmax", "no where(m' == -inf) guard", {"update": _softmax_no_guard}),
    ("online-softmax", "exp(g - m) against the old max", {"update": _softmax_old_max}),
    ("online-softmax", "init d = 1", {"init": lambda m: (m.env.ninf, m.env.rv(1))}),
    ("online-softmax", "resumed with d_0 != 0 at m_0 = -inf", {"setup": _no_resume_hyp(P._setup_softmax)}),
    ("online-softmax", "closed form forgets d_0", {"closed": _softmax_closed_no_d0}),
    ("online-softmax-tile", "no rescale exp(m - m')", {"update": _tile_no_rescale}),
    ("online-softmax-tile", "resumed with d_0 != 0 at m_0 = -inf", {"setup": _no_resume_hyp(P._setup_softmax_tile)}),
    ("online-softmax-tile", "d_0 not rescaled", {"closed": _tile_closed_d0_unscaled}),
    ("online-softmax-tile", "no where(m' == -inf) guard", {"update": _tile_no_guard}),
    ("sum-exp-rescale", "C below the elements' max", {"lemma": P._rescale_lemma(*_SCALAR_RESCALE, below=False)}),
    ("sum-exp-rescale", "rescaled by exp(c' - C)", {"lemma": _rescale_backwards(_SCALAR_RESCALE)}),
    ("sum-exp-rescale-tile", "C below the elements' max", {"lemma": P._rescale_lemma(*_TILE_RESCALE, below=False)}),
    ("welford", "M2 += delta^2", {"update": _welford_delta_squared}),
    ("welford", "mean divides by the old count", {"update": _welford_old_count}),
    ("pointer-advance", "closed form T + 1 steps", {"closed": lambda m, T: (m.p0 + (T + 1) * m.c,)}),
    ("pointer-advance", "step advances c + 1", {"update": lambda m, s, t: (s[0] + m.c + 1,)}),
    ("tiled-reindex", "closed form one element short", {"closed": lambda m, T: (m.S(T * m.B - 1),)}),
    ("tiled-reindex", "tiles overlap by one", {"update": lambda m, s, t: (s[0] + m.SO(m.B, t * (m.B - 1)),)}),
    ("tiled-reindex-max", "closed form one element over", {"closed": lambda m, T: (m.M(T * m.B + 1),)}),
    ("tiled-reindex-prod", "closed form one factor short", {"closed": lambda m, T: (m.P(T * m.B - 1),)}),
    ("tiled-reindex-prod", "tiles overlap by one", {"update": lambda m, s, t: (s[0] * m.PO(m.B, t * (m.B - 1)),)}),
    ("tiled-reindex-min", "closed form one element over", {"closed": lambda m, T: (m.N(T * m.B + 1),)}),
    ("mask-prod", "masked lanes 0", {"update": lambda m, s, t: (s[0] * z3.If(t < m.E, m.f(t), m.env.rv(0)),)}),
    ("mask-prod", "closed form min(H, E + 1)", {"closed": lambda m, T: (m.P(P._imin(T, m.E + 1)),)}),
    ("mask-sum", "closed form min(H, E + 1)", {"closed": lambda m, T: (m.S(P._imin(T, m.E + 1)),)}),
    ("mask-sum", "mask k <= E", {"update": lambda m, s, t: (s[0] + z3.If(t <= m.E, m.f(t), m.env.rv(0)),)}),
    ("mask-max", "mask k <= E", {"update": _ext_le_inf}),
    (
        "mask-min",
        "masked lanes -inf",
        {"update": lambda m, s, t: (m.env.min(s[0], z3.If(t < m.E, m.h(t), m.env.ninf)),)},
    ),
    ("sum-concat", "the tail starts one past the loop's end", {"update": lambda m, s, t: (s[0] + m.f(m.a + t + 1),)}),
    ("sum-concat", "closed form one element short", {"closed": lambda m, T: (m.S(m.a + T - 1),)}),
    ("write-tiles", "tiles of B - 1 addresses", {"address": lambda m, t, lane: t * (m.B - 1) + lane}),
    ("write-tiles", "shifted by one", {"address": lambda m, t, lane: t * m.B + lane + 1}),
]


@pytest.mark.parametrize(("name", "why", "change"), WRONG, ids=[f"{n}: {w}" for n, w, _ in WRONG])
def test_wrong_variant_fails(name, why, change):
    wrong = dataclasses.replace(PATTERNS[name], **change)
    proof = wrong.prove(timeout_ms=30_000)
    assert not proof.proved, why
    assert ": sat" in proof.detail, proof.detail  # a real counterexample, not a solver give-up


def test_every_pattern_has_a_wrong_variant():
    assert {n for n, _, _ in WRONG} == set(PATTERNS)


def test_proof_of_raises_on_failure(monkeypatch):
    wrong = dataclasses.replace(PATTERNS["accumulate-sum"], name="bad-sum", closed=lambda m, T: (m.S(T),))
    monkeypatch.setitem(PATTERNS, "bad-sum", wrong)
    with pytest.raises(ProofFailed) as info:
        proof_of("bad-sum")
    assert not info.value.proof.proved
    assert "base" in info.value.proof.detail
    proof_of.cache_clear()


# ---- the machinery: lemma instances only after their proof, hints only Facts, the abstraction is sound


def test_claim_unusable_before_proof():
    env = Env(1000)
    g = env.func("g", env.I, env.R)
    S = env.sum("S", g)
    c = Claim("nonneg", (), prop=lambda n: S(n) >= 0)
    with pytest.raises(RuntimeError):
        c.at(env.iv(3))


def test_false_claim_fails():
    env = Env(1000)
    g = env.func("g", env.I, env.R)
    S = env.sum("S", g)
    c = Claim("nonneg", (), prop=lambda n: S(n) >= 0)  # false: g may be negative
    with pytest.raises(P._Fail, match="step: sat"):
        c.prove(env)
    assert not c.proved


def test_hints_must_be_facts():
    bad = dataclasses.replace(
        PATTERNS["accumulate-sum"],
        hints=lambda m, s, T: [m.S(T) == m.acc0],  # an unproved "fact"
    )
    with pytest.raises(TypeError):
        bad.prove()


def test_abstraction_is_a_weakening():
    env = Env(1000)
    g = env.func("g", env.I, env.R)
    x = env.int("x")
    # true only by congruence (g(x) == g(x + 0)): the abstraction loses that, so it must not prove it
    with pytest.raises(P._Fail):
        env.discharge("congruence", [], g(x) == g(x + 1 - 1) + 0 * g(x + 2), abstract=True)
    env.discharge("congruence", [], g(x) == g(x + 1 - 1))


def test_unguarded_exp_is_opaque():
    env = Env(1000)
    # exp(-inf - (-inf)) is NaN: nothing can be proved about it
    with pytest.raises(P._Fail):
        env.discharge("nan", [], env.sub_exp(env.ninf, env.ninf) == 0)
    env.discharge("exp(-inf - c)", [], env.sub_exp(env.ninf, env.fin(env.rv(2))) == 0)


def test_pattern_is_data():
    p = PATTERNS["online-softmax"]
    assert isinstance(p, Pattern)
    assert "exp(m - m')" in p.step and "-inf" in p.step
    assert "Σ" in p.closed_form


def test_patterns_command_lists_every_pattern_with_its_proof():
    import json

    from typer.testing import CliRunner

    from tritonlift.cli import app

    out = CliRunner().invoke(app, ["patterns", "--json"])
    assert out.exit_code == 0, out.output
    got = {p["name"]: p for p in json.loads(out.output)["patterns"]}
    assert set(got) == set(PATTERNS)
    assert all(p["proved"] and p["obligations"] >= 2 and p["statement"] for p in got.values())
