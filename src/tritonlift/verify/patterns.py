"""Loop invariant patterns, each proved once (as a pattern) by induction on the trip count, with z3.

A Triton loop ``for t in range(T)`` that updates a carried state is summarised by matching its body
against one of the patterns below (the caller checks, per kernel, that the body's update has the
pattern's step shape). Each pattern is proved here once and for all, for every trip count ``T >= 0``:

* base:  the state before the loop equals the closed form at ``T = 0``;
* step:  assuming ``state == closed(T)`` (the induction hypothesis, ``T >= 0``), one body update with the
  iteration-``T`` terms gives ``closed(T + 1)``.

Both are z3 queries whose negation must be ``unsat``; z3 does no induction itself. Each query runs in a
private ``z3.Context`` so the proofs never interfere with other queries (and may run in threads).

The model
---------
* Values are z3 Reals, indices and pointers Ints. The per-iteration term is an uninterpreted function
  ``g: Int -> Real`` (or ``x: Int x Int -> Real`` for lane ``l`` of the tile of iteration ``t``), so a proof
  holds for every ``g``: any per-kernel term (a tile sum, a masked load, a shifted index ``g(s + t)``) is
  an instance.
* A reduction over ``0 <= t < n`` is a ``z3.RecFunction`` defined by its recursion:
  ``Σ_{t<n} g(t) = if n <= 0 then 0 else Σ_{t<n-1} g(t) + g(n-1)`` (likewise ``Π`` with 1, ``max`` with
  ``-inf``, ``min`` with ``+inf``). A range with a lower bound ``lo`` is the instance ``g(k) := g'(lo + k)``.
* ``-inf`` / ``+inf`` use an *extended real* datatype ``ExtReal = ninf | pinf | fin(val: Real)`` with the
  order ``ninf <= everything <= pinf``; ``max``/``min`` over ``ExtReal`` are the lattice operations, so an
  empty max is ``ninf`` ("no element yet") and a masked-off lane loaded with ``other=-inf`` is ``ninf``.
  Online softmax uses elements that are ``-inf`` or finite (a ``+inf`` input gives NaN in the kernel
  anyway): element ``t`` is ``ninf`` when ``gneg(t)`` holds, else ``fin(gv(t))``. ``exp(-inf - c) = 0``
  for finite ``c``; ``x - (-inf)`` is NaN (or +inf) in IEEE, modelled as an opaque real ``nan`` about
  which nothing can be proved, so an unguarded update that computes it fails, which is why the ``where(m' == -inf, ...)`` guard of real kernels is part of the step.
* ``exp`` is an uninterpreted function. The only facts used are ground instances of
  ``exp(a + b) = exp(a) * exp(b)``, written ``target == a + b -> exp(target) == exp(a) * exp(b)`` on terms
  of the query (no quantifiers).
* Lemmas that need induction themselves (linearity of Σ through the rescale ``exp(c - c')``, a sum over
  an all ``-inf`` prefix being 0, splitting a sum at an offset, expanding a sum of squares) are
  :class:`Claim` objects proved first by the same base/step scheme; the step queries then use their
  ground instances (``Claim.at``), which are only available once the claim is proved.

How the queries are made to go through (all sound; each is a weakening or a true ground fact):

* the induction hypothesis is used by substitution: the body runs on ``closed(T)`` itself;
* ``Env.unfold`` / ``Env.empty`` state a reduction's definition at ``n + 1`` / on an empty range as a
  ground fact, optionally multiplied by a factor (``e * F(n+1) = e * F(n) + e * term(n)``), which spares
  z3's nonlinear arithmetic from finding that product itself;
* Welford's step is discharged on its *arithmetic abstraction* (every function application replaced by a
  fresh variable, the hints carrying the facts about them): pure nonlinear real arithmetic, where z3 is
  at its best; an unsat abstraction proves the original;
* z3's run time on nonlinear queries is heavy-tailed in its random choices, so an obligation that times
  out is retried with another seed and a doubled time slice, within the one ``timeout_ms`` budget.

Patterns take their step (``update``) and closed form (``closed``) as data (callables over the model
namespace built by ``setup``), so a deliberately wrong variant can be plugged in with
``dataclasses.replace`` and must fail (see tests/test_patterns.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import z3

__all__ = ["PATTERNS", "Claim", "Model", "Pattern", "PatternProof", "ProofFailed", "proof_of"]


@dataclass(frozen=True)
class PatternProof:
    name: str
    obligations: int  # z3 queries discharged (base, step, side lemmas)
    seconds: float
    statement: str  # one line, human readable: the invariant proved
    proved: bool = True
    detail: str = ""  # on failure: which obligation, and z3's answer (sat with a model, or unknown)


class ProofFailed(Exception):
    """A pattern's proof did not go through (z3 answered sat or unknown on some obligation)."""

    def __init__(self, proof: PatternProof):
        super().__init__(f"pattern {proof.name}: {proof.detail}")
        self.proof = proof


class _Fail(Exception):
    pass


class Fact:
    """A ground formula the step queries may assume: an axiom instance or a proved claim's instance."""

    __slots__ = ("formula", "source")

    def __init__(self, formula: z3.BoolRef, source: str):
        self.formula = formula
        self.source = source


class Env:
    """A private z3 context with the sorts, the extended reals and the query runner of one proof."""

    def __init__(self, timeout_ms: int):
        self.ctx = z3.Context()
        self.timeout_ms = timeout_ms
        self.obligations = 0
        self.I = z3.IntSort(self.ctx)
        self.R = z3.RealSort(self.ctx)
        self.B = z3.BoolSort(self.ctx)
        dt = z3.Datatype("ExtReal", ctx=self.ctx)
        dt.declare("ninf")
        dt.declare("pinf")
        dt.declare("fin", ("val", self.R))
        self.X = dt.create()
        self.ninf = self.X.ninf
        self.pinf = self.X.pinf
        self._exp = z3.Function("exp", self.R, self.R)
        self.nan = z3.Real("nan", self.ctx)  # an unconstrained real: nothing can be proved about it
        self._names: set[str] = set()
        self._defs: dict[z3.FuncDeclRef, tuple[Callable, Callable, z3.ExprRef]] = {}

    # ---- symbols
    def _fresh(self, name: str) -> str:
        base, k = name, 0
        while name in self._names:
            k += 1
            name = f"{base}!{k}"
        self._names.add(name)
        return name

    def int(self, name: str) -> z3.ArithRef:
        return z3.Int(self._fresh(name), self.ctx)

    def real(self, name: str) -> z3.ArithRef:
        return z3.Real(self._fresh(name), self.ctx)

    def const(self, name: str, sort: z3.SortRef) -> z3.ExprRef:
        return z3.Const(self._fresh(name), sort)

    def func(self, name: str, *sorts: z3.SortRef) -> z3.FuncDeclRef:
        return z3.Function(self._fresh(name), *sorts)

    def rv(self, v: Any) -> z3.ArithRef:
        return z3.RealVal(v, self.ctx)

    def iv(self, v: int) -> z3.ArithRef:
        return z3.IntVal(v, self.ctx)

    def fin(self, v: z3.ArithRef) -> z3.DatatypeRef:
        return self.X.fin(v)

    def is_ninf(self, a: z3.ExprRef) -> z3.BoolRef:
        return self.X.is_ninf(a)

    def val(self, a: z3.ExprRef) -> z3.ArithRef:
        return self.X.val(a)

    def le(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
        """a <= b over ExtReal."""
        X = self.X
        return z3.Or(X.is_ninf(a), X.is_pinf(b), z3.And(X.is_fin(a), X.is_fin(b), X.val(a) <= X.val(b)))

    def max(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        return z3.If(self.le(a, b), b, a)

    def min(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
        return z3.If(self.le(a, b), a, b)

    def exp(self, a: z3.ArithRef) -> z3.ArithRef:
        return self._exp(a)

    def ee(self, a: z3.ExprRef, c: z3.ArithRef) -> z3.ArithRef:
        """exp(a - c) for a in {-inf} ∪ R and c finite: 0 when a is -inf."""
        return z3.If(self.is_ninf(a), self.rv(0), self.exp(self.val(a) - c))

    def sub_exp(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.ArithRef:
        """exp(a - b) for a, b in {-inf} ∪ R as IEEE computes it: 0 when only a is -inf; when b is -inf the
        difference is NaN (or +inf), modelled as the opaque value `nan` that no proof can rely on."""
        return z3.If(self.is_ninf(b), self.nan, self.ee(a, self.val(b)))

    def exp_add(self, a: z3.ArithRef, b: z3.ArithRef, target: z3.ArithRef) -> Fact:
        """Ground instance of exp(a + b) = exp(a) * exp(b), at a term `target` equal to a + b."""
        return Fact(z3.Implies(target == a + b, self.exp(target) == self.exp(a) * self.exp(b)), "exp-add")

    # ---- reductions: F(n, *params) = op_{0 <= k < n} term(k, *params), by recursion on n
    def reduction(
        self,
        name: str,
        combine: Callable[[z3.ExprRef, z3.ExprRef], z3.ExprRef],
        identity: z3.ExprRef,
        term: Callable[..., z3.ExprRef],
        params: Sequence[z3.SortRef] = (),
    ) -> z3.FuncDeclRef:
        F = z3.RecFunction(self._fresh(name), self.I, *params, identity.sort())
        n = z3.Int(self._fresh("n"), self.ctx)
        ps = [z3.Const(self._fresh(f"p{i}"), s) for i, s in enumerate(params)]
        z3.RecAddDefinition(F, [n, *ps], z3.If(n <= 0, identity, combine(F(n - 1, *ps), term(n - 1, *ps))))
        self._defs[F] = (combine, term, identity)
        return F

    def unfold(
        self, F: z3.FuncDeclRef, n: z3.ArithRef, *ps: z3.ExprRef, scale: z3.ArithRef | None = None
    ) -> Fact:
        """The definition of F at n + 1 (n >= 0), optionally with both sides multiplied by `scale`.

        z3 unfolds recursive definitions by itself; stating the unfolding multiplied by a factor spares its
        nonlinear arithmetic from having to find that product (e * F(n+1) = e * F(n) + e * term(n)).
        """
        combine, term, _ = self._defs[F]
        lhs, rhs = F(n + 1, *ps), combine(F(n, *ps), term(n, *ps))
        if scale is not None:
            lhs, rhs = scale * lhs, scale * rhs
        return Fact(z3.Implies(n >= 0, lhs == rhs), f"definition of {F.name()}")

    def sum(self, name: str, term: Callable[..., z3.ExprRef], params: Sequence[z3.SortRef] = ()):
        return self.reduction(name, lambda a, b: a + b, self.rv(0), term, params)

    def prod(self, name: str, term: Callable[..., z3.ExprRef], params: Sequence[z3.SortRef] = ()):
        return self.reduction(name, lambda a, b: a * b, self.rv(1), term, params)

    def rmax(self, name: str, term: Callable[..., z3.ExprRef], params: Sequence[z3.SortRef] = ()):
        return self.reduction(name, self.max, self.ninf, term, params)

    def rmin(self, name: str, term: Callable[..., z3.ExprRef], params: Sequence[z3.SortRef] = ()):
        return self.reduction(name, self.min, self.pinf, term, params)

    # ---- queries
    def empty(self, F: z3.FuncDeclRef, n: z3.ArithRef, *ps: z3.ExprRef) -> Fact:
        """The definition of F on an empty range: n <= 0 -> F(n) = identity."""
        return Fact(z3.Implies(n <= 0, F(n, *ps) == self._defs[F][2]), f"definition of {F.name()}")

    def discharge(
        self, label: str, hyps: Sequence[z3.BoolRef | Fact], goal: z3.BoolRef, abstract: bool = False
    ) -> None:
        """Prove hyps -> goal: the negation must be unsat.

        With `abstract`, the query is first weakened to its arithmetic abstraction: every application of
        an uninterpreted or recursive function becomes a fresh variable (the same term, the same variable).
        An unsat abstraction proves the original (any model of the original is one of the abstraction),
        and z3's nonlinear real arithmetic does much better without functions around; the hypotheses
        must then state every fact about those applications that the proof needs (as Facts).
        """
        formulas = [h.formula if isinstance(h, Fact) else h for h in hyps] + [z3.Not(goal)]
        if abstract:
            formulas = _abstract(formulas)
        # z3's run time on these nonlinear queries is heavy-tailed in its random choices: restart with a new
        # seed and a doubled time slice (any unsat answer is a proof; sat is a counterexample at once)
        deadline = time.perf_counter() + self.timeout_ms / 1000
        slice_ms, seed, reason = max(250, self.timeout_ms // 16), 0, ""
        self.obligations += 1
        while True:
            left_ms = int((deadline - time.perf_counter()) * 1000)
            if left_ms <= 0:
                raise _Fail(f"{label}: unknown ({reason or 'timeout'}, {seed} attempts)")
            s = z3.Solver(ctx=self.ctx)
            s.set("timeout", min(slice_ms, left_ms))
            s.set("random_seed", seed)
            s.add(*formulas)
            r = s.check()
            if r == z3.unsat:
                return
            if r == z3.sat:
                model = str(s.model()).replace("\n", " ")
                raise _Fail(f"{label}: sat (counterexample {model[:400]})")
            reason = s.reason_unknown()
            if "timeout" not in reason and "canceled" not in reason:
                raise _Fail(f"{label}: unknown ({reason})")
            seed, slice_ms = seed + 1, slice_ms * 2


@dataclass(eq=False)
class Claim:
    """A lemma ∀ n >= 0, params: hyp(params) -> prop(n, params), proved by induction on n.

    ``hints(n, *params)`` gives the ground facts (instances of earlier claims, exp axioms) the step needs.
    """

    name: str
    params: tuple[z3.SortRef, ...]
    prop: Callable[..., z3.BoolRef]
    hyp: Callable[..., z3.BoolRef] | None = None
    hints: Callable[..., list[Fact]] | None = None
    proved: bool = field(default=False, init=False)

    def at(self, n: z3.ArithRef, *args: z3.ExprRef) -> Fact:
        if not self.proved:
            raise RuntimeError(f"claim {self.name} used before it was proved")
        cond = [n >= 0] + ([self.hyp(*args)] if self.hyp else [])
        return Fact(z3.Implies(z3.And(*cond), self.prop(n, *args)), self.name)

    def prove(self, env: Env) -> None:
        ps = [env.const(f"{self.name}.p{i}", s) for i, s in enumerate(self.params)]
        hyp = [self.hyp(*ps)] if self.hyp else []
        n = env.int(f"{self.name}.n")
        env.discharge(f"{self.name} base", hyp, self.prop(env.iv(0), *ps))
        hints = self.hints(n, *ps) if self.hints else []
        env.discharge(f"{self.name} step", [n >= 0, *hyp, self.prop(n, *ps), *hints], self.prop(n + 1, *ps))
        self.proved = True


class Model(SimpleNamespace):
    """The symbols of one pattern proof: env, per-iteration terms, reductions, claims, hypotheses."""

    env: Env
    claims: list[Claim]
    hyps: list[z3.BoolRef]


State = tuple[z3.ExprRef, ...]


@dataclass(frozen=True)
class Pattern:
    name: str
    step: str  # the loop body's update, in words/math: "acc' = acc + g(t)"
    closed_form: str  # "acc_T = acc_0 + Σ_{t<T} g(t)"
    setup: Callable[[Env], Model] = field(repr=False, compare=False)
    init: Callable[[Model], State] | None = field(default=None, repr=False, compare=False)
    update: Callable[[Model, State, z3.ArithRef], State] | None = field(
        default=None, repr=False, compare=False
    )
    closed: Callable[[Model, z3.ArithRef], State] | None = field(default=None, repr=False, compare=False)
    hints: Callable[[Model, State, z3.ArithRef], list[Fact]] | None = field(
        default=None, repr=False, compare=False
    )
    # write loops: the address written by lane l of iteration t (no induction: plain queries)
    address: Callable[[Model, z3.ArithRef, z3.ArithRef], z3.ArithRef] | None = field(
        default=None, repr=False, compare=False
    )
    statement: str = ""
    # discharge the step on its arithmetic abstraction (see Env.discharge); the hints carry every fact
    abstract_step: bool = False
    # discharge the step one state component at a time, in order; in each later component, the update's
    # earlier components are replaced by their closed forms at T + 1 (terms just proved equal to them), so
    # the hints, stated on the closed forms, apply to the very terms the update computes
    staged: bool = False
    # a lemma (no loop, no induction of its own): (hypotheses, goal) over the model, discharged once after the
    # model's claims (which are proved by induction) are
    lemma: Callable[[Model], tuple[list[z3.BoolRef | Fact], z3.BoolRef]] | None = field(
        default=None, repr=False, compare=False
    )

    def prove(self, timeout_ms: int = 60_000) -> PatternProof:  # wall clock: generous, for loaded machines
        start = time.perf_counter()
        env = Env(timeout_ms)
        try:
            m = self.setup(env)
            for c in m.claims:
                c.prove(env)
            if self.address is not None:
                _prove_writes(self, m)
            elif self.lemma is not None:
                hyps, goal = self.lemma(m)
                m.env.discharge("lemma", [*m.hyps, *hyps], goal)
            else:
                _prove_loop(self, m)
        except _Fail as e:
            return PatternProof(
                self.name, env.obligations, time.perf_counter() - start, self.statement, False, str(e)
            )
        return PatternProof(self.name, env.obligations, time.perf_counter() - start, self.statement)


def _abstract(formulas: list[z3.BoolRef]) -> list[z3.BoolRef]:
    """Replace every application of an uninterpreted or recursive function by a fresh constant."""
    apps: dict[int, z3.ExprRef] = {}
    seen: set[int] = set()
    kinds = (z3.Z3_OP_UNINTERPRETED, z3.Z3_OP_RECURSIVE)

    def walk(e: z3.ExprRef) -> None:
        if e.get_id() in seen:
            return
        seen.add(e.get_id())
        if z3.is_app(e):
            if e.num_args() > 0 and e.decl().kind() in kinds:
                apps[e.get_id()] = e
            for c in e.children():
                walk(c)

    for f in formulas:
        walk(f)
    pairs = [(e, z3.FreshConst(e.sort(), "app")) for e in apps.values()]
    return [z3.substitute(f, *pairs) for f in formulas] if pairs else formulas


def _eq(a: State, b: State) -> z3.BoolRef:
    assert len(a) == len(b), "state arity"
    return z3.And(*[x == y for x, y in zip(a, b, strict=True)])


def _prove_loop(p: Pattern, m: Model) -> None:
    assert p.init and p.update and p.closed
    env = m.env
    env.discharge("base", m.hyps, _eq(p.init(m), p.closed(m, env.iv(0))))
    T = env.int("T")
    # the induction hypothesis state_T == closed(T) is used by substitution: the body runs on closed(T)
    state = p.closed(m, T)
    hints = p.hints(m, state, T) if p.hints else []
    for h in hints:
        if not isinstance(h, Fact):
            raise TypeError("pattern hints must be Facts (axiom or proved-claim instances)")
    new, nxt = p.update(m, state, T), p.closed(m, T + 1)
    if not p.staged:
        env.discharge("step", [T >= 0, *m.hyps, *hints], _eq(new, nxt), abstract=p.abstract_step)
        return
    assert len(new) == len(nxt), "state arity"
    for k, (a, b) in enumerate(zip(new, nxt, strict=True)):
        done = [(new[j], nxt[j]) for j in range(k) if not new[j].eq(nxt[j])]
        a = z3.substitute(a, *done) if done else a
        env.discharge(f"step ({k})", [T >= 0, *m.hyps, *hints], a == b, abstract=p.abstract_step)


def _prove_writes(p: Pattern, m: Model) -> None:
    assert p.address
    env = m.env
    T, B = m.T, m.B
    t1, t2, l1, l2, k = env.int("t1"), env.int("t2"), env.int("l1"), env.int("l2"), env.int("k")
    rng = [T >= 0, B >= 1, *m.hyps]
    lanes = [t1 >= 0, t1 < T, t2 >= 0, t2 < T, l1 >= 0, l1 < B, l2 >= 0, l2 < B]
    env.discharge("disjoint", [*rng, *lanes, t1 != t2], p.address(m, t1, l1) != p.address(m, t2, l2))
    env.discharge(
        "in-bounds",
        [*rng, *lanes[:2], *lanes[4:6]],
        z3.And(p.address(m, t1, l1) >= 0, p.address(m, t1, l1) < T * B),
    )
    tk, lk = k / B, k % B  # the witness iteration and lane for address k
    env.discharge(
        "covering",
        [*rng, k >= 0, k < T * B],
        z3.And(tk >= 0, tk < T, lk >= 0, lk < B, p.address(m, tk, lk) == k),
    )


def _model(env: Env, **kw: Any) -> Model:
    kw.setdefault("claims", [])
    kw.setdefault("hyps", [])
    return Model(env=env, **kw)


# ----------------------------------------------------------------------------------------------------
# accumulate-sum / accumulate-prod / sum-linearity / pointer-advance


def _setup_acc(env: Env) -> Model:
    g = env.func("g", env.I, env.R)
    return _model(env, g=g, S=env.sum("S", g), P=env.prod("P", g), acc0=env.real("acc0"), c=env.real("c"))


ACCUMULATE_SUM = Pattern(
    "accumulate-sum",
    "acc' = acc + g(t)",
    "acc_T = acc_0 + Σ_{t<T} g(t)",
    _setup_acc,
    init=lambda m: (m.acc0,),
    update=lambda m, s, t: (s[0] + m.g(t),),
    closed=lambda m, T: (m.acc0 + m.S(T),),
    statement="for t in range(T): acc += g(t)  ==>  acc = acc_0 + Σ_{t<T} g(t)",
)

ACCUMULATE_PROD = Pattern(
    "accumulate-prod",
    "acc' = acc * g(t)",
    "acc_T = acc_0 * Π_{t<T} g(t)",
    _setup_acc,
    init=lambda m: (m.acc0,),
    update=lambda m, s, t: (s[0] * m.g(t),),
    closed=lambda m, T: (m.acc0 * m.P(T),),
    statement="for t in range(T): acc *= g(t)  ==>  acc = acc_0 * Π_{t<T} g(t)",
)

SUM_LINEARITY = Pattern(
    "sum-linearity",
    "acc' = acc + c * g(t)",
    "acc_T = c * Σ_{t<T} g(t)  (acc_0 = 0)",
    _setup_acc,
    init=lambda m: (m.env.rv(0),),
    update=lambda m, s, t: (s[0] + m.c * m.g(t),),
    closed=lambda m, T: (m.c * m.S(T),),
    statement="Σ_{t<T} c * g(t) = c * Σ_{t<T} g(t)",
)


def _setup_ptr(env: Env) -> Model:
    return _model(env, p0=env.int("p0"), c=env.int("c"))


POINTER_ADVANCE = Pattern(
    "pointer-advance",
    "p' = p + c",
    "p_T = p_0 + T * c",
    _setup_ptr,
    init=lambda m: (m.p0,),
    update=lambda m, s, t: (s[0] + m.c,),
    closed=lambda m, T: (m.p0 + T * m.c,),
    statement="for t in range(T): p += c  ==>  p = p_0 + T * c  (integers)",
)


# ----------------------------------------------------------------------------------------------------
# running max / min over extended reals


def _setup_ext(env: Env) -> Model:
    g = env.func("g", env.I, env.X)
    return _model(env, g=g, M=env.rmax("M", g), N=env.rmin("N", g), m0=env.const("m0", env.X))


RUNNING_MAX = Pattern(
    "running-max",
    "m' = max(m, g(t))",
    "m_T = max(m_0, max_{t<T} g(t))",
    _setup_ext,
    init=lambda m: (m.m0,),
    update=lambda m, s, t: (m.env.max(s[0], m.g(t)),),
    closed=lambda m, T: (m.env.max(m.m0, m.M(T)),),
    statement="for t in range(T): m = maximum(m, g(t))  ==>  m = max(m_0, max_{t<T} g(t))  (-inf = none yet)",
)

RUNNING_MIN = Pattern(
    "running-min",
    "m' = min(m, g(t))",
    "m_T = min(m_0, min_{t<T} g(t))",
    _setup_ext,
    init=lambda m: (m.m0,),
    update=lambda m, s, t: (m.env.min(s[0], m.g(t)),),
    closed=lambda m, T: (m.env.min(m.m0, m.N(T)),),
    statement="for t in range(T): m = minimum(m, g(t))  ==>  m = min(m_0, min_{t<T} g(t))  (+inf = none yet)",
)


# ----------------------------------------------------------------------------------------------------
# online softmax: scalar form (one element per iteration) and tile form (a block of B lanes)


def _shift_claim(
    env: Env,
    name: str,
    F: Callable[..., z3.ArithRef],
    hints: Callable[..., list[Fact]],
    lead: tuple[z3.SortRef, ...] = (),
) -> Claim:
    """F(n, *lead, c') = exp(c - c') * F(n, *lead, c): the rescale of online softmax (linearity of Σ)."""
    return Claim(
        name,
        (*lead, env.R, env.R),
        prop=lambda n, *a: F(n, *a[:-2], a[-1]) == env.exp(a[-2] - a[-1]) * F(n, *a[:-2], a[-2]),
        hints=hints,
    )


def _setup_softmax(env: Env) -> Model:
    gneg = env.func("gneg", env.I, env.B)  # element t is -inf
    gv = env.func("gv", env.I, env.R)  # else its finite value

    def elem(t: z3.ArithRef) -> z3.ExprRef:
        return z3.If(gneg(t), env.ninf, env.fin(gv(t)))

    M = env.rmax("M", elem)
    SE = env.sum("SE", lambda t, c: env.ee(elem(t), c), [env.R])  # Σ_{t<n} exp(g(t) - c)
    shift = _shift_claim(
        env,
        "sum-exp-shift",
        SE,
        hints=lambda n, c, c2: [
            env.exp_add(c - c2, gv(n) - c, gv(n) - c2),
            env.unfold(SE, n, c, scale=env.exp(c - c2)),
        ],
    )
    empty = Claim(  # a prefix whose max is -inf contributes nothing
        "sum-exp-empty", (env.R,), prop=lambda n, c: z3.Implies(env.is_ninf(M(n)), SE(n, c) == 0)
    )
    return _model(
        env, elem=elem, gv=gv, M=M, SE=SE, shift=shift, empty=empty, claims=[shift, empty], **_resume(env)
    )


def _resume(env: Env) -> dict[str, Any]:
    """The state an online-softmax loop starts from: (-inf, 0), or where an earlier loop left it. Any
    (m0, d0) with m0 = -inf -> d0 = 0 (no element yet, nothing summed). exp(0) = 1 follows from the
    exp-add instance exp(0) = exp(0) * exp(0) and exp(0) > 0."""
    m0, d0 = env.const("m0", env.X), env.real("d0")
    zero = env.rv(0)
    hyps = [
        z3.Not(env.X.is_pinf(m0)),  # a max of elements that are -inf or finite
        z3.Implies(env.is_ninf(m0), d0 == 0),
        env.exp_add(zero, zero, zero).formula,
        env.exp(zero) > 0,
    ]
    return {"m0": m0, "d0": d0, "hyps": hyps}


def _resumed(m: Model, mx: z3.ExprRef, total: Callable[[z3.ArithRef], z3.ArithRef]) -> z3.ArithRef:
    """d at max mx: 0 while mx = -inf, else d0 rescaled to mx plus the terms summed so far (total(c))."""
    env = m.env
    c = env.val(mx)
    return z3.If(env.is_ninf(mx), env.rv(0), m.d0 * env.ee(m.m0, c) + total(c))


def _resume_hint(m: Model, c: z3.ArithRef, c2: z3.ArithRef) -> Fact:
    """d0 * exp(m0 - c2) = d0 * (exp(m0 - c) * exp(c - c2)): the exp-add instance for the resumed part,
    multiplied by d0 (which spares z3's nonlinear arithmetic from finding that product)."""
    env, v = m.env, m.env.val(m.m0)
    return Fact(m.d0 * env.exp(v - c2) == m.d0 * (env.exp(v - c) * env.exp(c - c2)), "exp-add")


def _softmax_update(m: Model, s: State, t: z3.ArithRef) -> State:
    env, (mx, d) = m.env, s
    x = m.elem(t)
    mn = env.max(mx, x)
    # alpha = exp(m - m_new), p = exp(x - m_new); where(m_new == -inf, d, d * alpha + p)
    return mn, z3.If(env.is_ninf(mn), d, d * env.sub_exp(mx, mn) + env.sub_exp(x, mn))


def _softmax_closed(m: Model, T: z3.ArithRef) -> State:
    mx = m.env.max(m.m0, m.M(T))
    return mx, _resumed(m, mx, lambda c: m.SE(T, c))


def _softmax_hints(m: Model, s: State, T: z3.ArithRef) -> list[Fact]:
    env = m.env
    c, c2 = env.val(s[0]), env.val(env.max(m.m0, m.M(T + 1)))
    return [
        m.shift.at(T, c, c2),
        m.empty.at(T, c2),
        env.unfold(m.SE, T, c2),
        env.unfold(m.M, T),
        _resume_hint(m, c, c2),
    ]


ONLINE_SOFTMAX = Pattern(
    "online-softmax",
    "m' = max(m, g(t)); d' = where(m' == -inf, d, d * exp(m - m') + exp(g(t) - m'))",
    "m_T = max(m_0, max_{t<T} g(t)); d_T = d_0 * exp(m_0 - m_T) + Σ_{t<T} exp(g(t) - m_T)  (0 while m_T = -inf)",
    _setup_softmax,
    init=lambda m: (m.m0, m.d0),
    update=_softmax_update,
    closed=_softmax_closed,
    hints=_softmax_hints,
    staged=True,
    abstract_step=True,
    statement="online softmax (m, d) from (m_0, d_0) with m_0 = -inf -> d_0 = 0 (e.g. (-inf, 0)), guarded rescale  "
    "==>  m = max(m_0, max_t g(t)), d = d_0 * exp(m_0 - m) + Σ_t exp(g(t) - m)",
)


def _setup_softmax_tile(env: Env) -> Model:
    xneg = env.func("xneg", env.I, env.I, env.B)
    xv = env.func("xv", env.I, env.I, env.R)
    Bsz = env.int("B")

    def elem(t: z3.ArithRef, lane: z3.ArithRef) -> z3.ExprRef:
        return z3.If(xneg(t, lane), env.ninf, env.fin(xv(t, lane)))

    # inner reductions over lanes l < L of tile t; outer over tiles t < n (tile size b a parameter)
    BM = env.rmax("BM", lambda lane, t: elem(t, lane), [env.I])  # BM(L, t)
    BS = env.sum("BS", lambda lane, t, c: env.ee(elem(t, lane), c), [env.I, env.R])  # BS(L, t, c)
    OM = env.rmax("OM", lambda t, b: BM(b, t), [env.I])  # OM(n, b)
    OS = env.sum("OS", lambda t, b, c: BS(b, t, c), [env.I, env.R])  # OS(n, b, c)
    ishift = _shift_claim(
        env,
        "tile-sum-exp-shift",
        BS,
        lead=(env.I,),
        hints=lambda n, t, c, c2: [
            env.exp_add(c - c2, xv(t, n) - c, xv(t, n) - c2),
            env.unfold(BS, n, t, c, scale=env.exp(c - c2)),
        ],
    )
    iempty = Claim(
        "tile-sum-exp-empty",
        (env.I, env.R),
        prop=lambda n, t, c: z3.Implies(env.is_ninf(BM(n, t)), BS(n, t, c) == 0),
    )
    oshift = _shift_claim(
        env,
        "sum-tile-sum-exp-shift",
        OS,
        lead=(env.I,),
        hints=lambda n, b, c, c2: [ishift.at(b, n, c, c2), env.unfold(OS, n, b, c, scale=env.exp(c - c2))],
    )
    oshift.hyp = lambda b, c, c2: b >= 0
    oempty = Claim(
        "sum-tile-sum-exp-empty",
        (env.I, env.R),
        prop=lambda n, b, c: z3.Implies(env.is_ninf(OM(n, b)), OS(n, b, c) == 0),
        hyp=lambda b, c: b >= 0,
        hints=lambda n, b, c: [iempty.at(b, n, c)],
    )
    resume = _resume(env)
    resume["hyps"] = [Bsz >= 0, *resume["hyps"]]
    return _model(
        env,
        B=Bsz,
        BM=BM,
        BS=BS,
        OM=OM,
        OS=OS,
        oshift=oshift,
        oempty=oempty,
        claims=[ishift, iempty, oshift, oempty],
        **resume,
    )


def _softmax_tile_update(m: Model, s: State, t: z3.ArithRef) -> State:
    env, (mx, d) = m.env, s
    mn = env.max(mx, m.BM(m.B, t))  # m_new = maximum(m, tl.max(x, 0))
    # the tile's Σ_l exp(x - m_new) is NaN when m_new is -inf (every lane computes -inf - -inf)
    p = z3.If(env.is_ninf(mn), env.nan, m.BS(m.B, t, env.val(mn)))
    return mn, z3.If(env.is_ninf(mn), d, d * env.sub_exp(mx, mn) + p)


def _softmax_tile_closed(m: Model, T: z3.ArithRef) -> State:
    mx = m.env.max(m.m0, m.OM(T, m.B))
    return mx, _resumed(m, mx, lambda c: m.OS(T, m.B, c))


def _softmax_tile_hints(m: Model, s: State, T: z3.ArithRef) -> list[Fact]:
    env = m.env
    c, c2 = env.val(env.max(m.m0, m.OM(T, m.B))), env.val(env.max(m.m0, m.OM(T + 1, m.B)))
    return [
        m.oshift.at(T, m.B, c, c2),
        m.oempty.at(T, m.B, c2),
        env.unfold(m.OS, T, m.B, c2),
        env.unfold(m.OM, T, m.B),
        _resume_hint(m, c, c2),
    ]


ONLINE_SOFTMAX_TILE = Pattern(
    "online-softmax-tile",
    "m' = max(m, max_{l<B} x(t,l)); d' = where(m' == -inf, d, d * exp(m - m') + Σ_{l<B} exp(x(t,l) - m'))",
    "m_T = max(m_0, max_{t<T} max_{l<B} x(t,l)); d_T = d_0 * exp(m_0 - m_T) + Σ_{t<T} Σ_{l<B} exp(x(t,l) - m_T)"
    "  (0 while m_T = -inf)",
    _setup_softmax_tile,
    init=lambda m: (m.m0, m.d0),
    update=_softmax_tile_update,
    closed=_softmax_tile_closed,
    hints=_softmax_tile_hints,
    staged=True,
    abstract_step=True,
    statement="online softmax over tiles (m, d) from (m_0, d_0) with m_0 = -inf -> d_0 = 0, guarded rescale  ==>  "
    "m = max(m_0, max_{t,l} x(t,l)), d = d_0 * exp(m_0 - m) + Σ_{t,l} exp(x(t,l) - m)",
)


# ----------------------------------------------------------------------------------------------------
# the rescale of a finished online-softmax denominator to another max (ir.rescale)


def _rescale_lemma(max_of: Callable, sum_of: Callable, shift: Callable, empty: Callable, below: bool = True):
    """where(C == -inf, 0, Σ exp(y - C)) * exp(C - c') = Σ exp(y - c') for every C >= max y (C not +inf)."""

    def lemma(m: Model) -> tuple[list[z3.BoolRef | Fact], z3.BoolRef]:
        env = m.env
        n, C, c2 = env.int("n"), env.const("C", env.X), env.real("c2")
        c = env.val(C)
        hyps: list[z3.BoolRef | Fact] = [n >= 0, z3.Not(env.X.is_pinf(C)), shift(m, n, c, c2), empty(m, n, c2)]
        if below:
            hyps.append(env.le(max_of(m, n), C))
        lhs = z3.If(env.is_ninf(C), env.rv(0), sum_of(m, n, c)) * env.exp(c - c2)
        return hyps, lhs == sum_of(m, n, c2)

    return lemma


SUM_EXP_RESCALE = Pattern(
    "sum-exp-rescale",
    "d = where(C == -inf, 0, Σ_{t<n} exp(g(t) - C)), C >= max_{t<n} g(t)",
    "d * exp(C - c') = Σ_{t<n} exp(g(t) - c')  (c' finite)",
    _setup_softmax,
    lemma=_rescale_lemma(
        lambda m, n: m.M(n),
        lambda m, n, c: m.SE(n, c),
        lambda m, n, c, c2: m.shift.at(n, c, c2),
        lambda m, n, c2: m.empty.at(n, c2),
    ),
    statement="where(C == -inf, 0, Σ_t exp(g(t) - C)) * exp(C - c') = Σ_t exp(g(t) - c') for C >= max_t g(t)",
)

SUM_EXP_RESCALE_TILE = Pattern(
    "sum-exp-rescale-tile",
    "d = where(C == -inf, 0, Σ_{t<n} Σ_{l<B} exp(x(t,l) - C)), C >= max_{t<n} max_{l<B} x(t,l)",
    "d * exp(C - c') = Σ_{t<n} Σ_{l<B} exp(x(t,l) - c')  (c' finite)",
    _setup_softmax_tile,
    lemma=_rescale_lemma(
        lambda m, n: m.OM(n, m.B),
        lambda m, n, c: m.OS(n, m.B, c),
        lambda m, n, c, c2: m.oshift.at(n, m.B, c, c2),
        lambda m, n, c2: m.oempty.at(n, m.B, c2),
    ),
    statement="where(C == -inf, 0, Σ_{t,l} exp(x(t,l) - C)) * exp(C - c') = Σ_{t,l} exp(x(t,l) - c') "
    "for C >= max_{t,l} x(t,l)",
)


# ----------------------------------------------------------------------------------------------------
# Welford


def _setup_welford(env: Env) -> Model:
    x = env.func("x", env.I, env.R)
    S1 = env.sum("S1", x)
    S2 = env.sum("S2", lambda t: x(t) * x(t))
    Q = env.sum("Q", lambda t, c: (x(t) - c) * (x(t) - c), [env.R])  # Σ_{t<n} (x(t) - c)^2
    expand = Claim(
        "sum-squares-expand",
        (env.R,),
        prop=lambda n, c: Q(n, c) == S2(n) - 2 * c * S1(n) + z3.ToReal(n) * c * c,
    )
    return _model(env, x=x, S1=S1, S2=S2, Q=Q, expand=expand, claims=[expand])


def _welford_update(m: Model, s: State, t: z3.ArithRef) -> State:
    cnt, mean, m2 = s
    x = m.x(t)
    cnt2 = cnt + 1
    delta = x - mean
    mean2 = mean + delta / z3.ToReal(cnt2)
    return cnt2, mean2, m2 + delta * (x - mean2)


def _welford_mean(m: Model, T: z3.ArithRef) -> z3.ArithRef:
    return z3.If(T == 0, m.env.rv(0), m.S1(T) / z3.ToReal(T))


def _welford_closed(m: Model, T: z3.ArithRef) -> State:
    mean = _welford_mean(m, T)
    return T, mean, m.Q(T, mean)


def _welford_hints(m: Model, s: State, T: z3.ArithRef) -> list[Fact]:
    env = m.env
    return [
        m.expand.at(T, _welford_mean(m, T)),
        m.expand.at(T + 1, _welford_mean(m, T + 1)),
        env.unfold(m.S1, T),
        env.unfold(m.S2, T),
        env.empty(m.S1, T),
        env.empty(m.S2, T),
    ]


WELFORD = Pattern(
    "welford",
    "n' = n + 1; δ = x(t) - mean; mean' = mean + δ / n'; M2' = M2 + δ * (x(t) - mean')",
    "n_T = T; mean_T = Σ_{t<T} x(t) / T; M2_T = Σ_{t<T} (x(t) - mean_T)^2  (mean_0 = 0)",
    _setup_welford,
    init=lambda m: (m.env.iv(0), m.env.rv(0), m.env.rv(0)),
    update=_welford_update,
    closed=_welford_closed,
    hints=_welford_hints,
    abstract_step=True,
    statement="Welford from (0, 0, 0)  ==>  n = T, mean = Σ x / T, M2 = Σ (x - mean)^2",
)


# ----------------------------------------------------------------------------------------------------
# rewrite lemmas for the reduction normaliser: tiled re-indexing and mask absorption (as loops)


def _split_claim(env: Env, name: str, F: Any, SO: Any, combine: Callable) -> Claim:
    """F(a + b) = combine(F(a), SO(b, a)) for a >= 0, by induction on b; SO(b, a) = op_{l<b} f(a + l)."""
    return Claim(name, (env.I,), prop=lambda n, a: F(a + n) == combine(F(a), SO(n, a)), hyp=lambda a: a >= 0)


def _setup_reindex(env: Env) -> Model:
    f = env.func("f", env.I, env.R)
    S = env.sum("S", f)
    SO = env.sum("SO", lambda lane, a: f(a + lane), [env.I])  # Σ_{l<b} f(a + l)
    split = _split_claim(env, "sum-split", S, SO, lambda a, b: a + b)
    B = env.int("B")
    return _model(env, f=f, B=B, S=S, SO=SO, split=split, claims=[split], hyps=[B >= 0])


def _setup_reindex_max(env: Env) -> Model:
    h = env.func("h", env.I, env.X)
    M = env.rmax("M", h)
    MO = env.rmax("MO", lambda lane, a: h(a + lane), [env.I])  # max_{l<b} h(a + l)
    msplit = _split_claim(env, "max-split", M, MO, env.max)
    B = env.int("B")
    return _model(env, h=h, B=B, M=M, MO=MO, msplit=msplit, claims=[msplit], hyps=[B >= 0])


TILED_REINDEX = Pattern(
    "tiled-reindex",
    "acc' = acc + Σ_{l<B} f(t*B + l)",
    "acc_T = Σ_{k<T*B} f(k)  (acc_0 = 0, B >= 0)",
    _setup_reindex,
    init=lambda m: (m.env.rv(0),),
    update=lambda m, s, t: (s[0] + m.SO(m.B, t * m.B),),
    closed=lambda m, T: (m.S(T * m.B),),
    hints=lambda m, s, T: [m.split.at(m.B, T * m.B)],
    statement="Σ_{t<T} Σ_{l<B} f(t*B + l) = Σ_{k<T*B} f(k)",
)

TILED_REINDEX_MAX = Pattern(
    "tiled-reindex-max",
    "m' = max(m, max_{l<B} f(t*B + l))",
    "m_T = max_{k<T*B} f(k)  (m_0 = -inf, B >= 0)",
    _setup_reindex_max,
    init=lambda m: (m.env.ninf,),
    update=lambda m, s, t: (m.env.max(s[0], m.MO(m.B, t * m.B)),),
    closed=lambda m, T: (m.M(T * m.B),),
    hints=lambda m, s, T: [m.msplit.at(m.B, T * m.B)],
    statement="max_{t<T} max_{l<B} f(t*B + l) = max_{k<T*B} f(k)",
)


def _setup_reindex_prod(env: Env) -> Model:
    f = env.func("f", env.I, env.R)
    P = env.prod("P", f)
    PO = env.prod("PO", lambda lane, a: f(a + lane), [env.I])  # Π_{l<b} f(a + l)
    psplit = _split_claim(env, "prod-split", P, PO, lambda a, b: a * b)
    B = env.int("B")
    return _model(env, f=f, B=B, P=P, PO=PO, psplit=psplit, claims=[psplit], hyps=[B >= 0])


def _setup_reindex_min(env: Env) -> Model:
    h = env.func("h", env.I, env.X)
    N = env.rmin("N", h)
    NO = env.rmin("NO", lambda lane, a: h(a + lane), [env.I])  # min_{l<b} h(a + l)
    nsplit = _split_claim(env, "min-split", N, NO, env.min)
    B = env.int("B")
    return _model(env, h=h, B=B, N=N, NO=NO, nsplit=nsplit, claims=[nsplit], hyps=[B >= 0])


TILED_REINDEX_PROD = Pattern(
    "tiled-reindex-prod",
    "acc' = acc * Π_{l<B} f(t*B + l)",
    "acc_T = Π_{k<T*B} f(k)  (acc_0 = 1, B >= 0)",
    _setup_reindex_prod,
    init=lambda m: (m.env.rv(1),),
    update=lambda m, s, t: (s[0] * m.PO(m.B, t * m.B),),
    closed=lambda m, T: (m.P(T * m.B),),
    hints=lambda m, s, T: [m.psplit.at(m.B, T * m.B)],
    statement="Π_{t<T} Π_{l<B} f(t*B + l) = Π_{k<T*B} f(k)",
)

TILED_REINDEX_MIN = Pattern(
    "tiled-reindex-min",
    "m' = min(m, min_{l<B} f(t*B + l))",
    "m_T = min_{k<T*B} f(k)  (m_0 = +inf, B >= 0)",
    _setup_reindex_min,
    init=lambda m: (m.env.pinf,),
    update=lambda m, s, t: (m.env.min(s[0], m.NO(m.B, t * m.B)),),
    closed=lambda m, T: (m.N(T * m.B),),
    hints=lambda m, s, T: [m.nsplit.at(m.B, T * m.B)],
    statement="min_{t<T} min_{l<B} f(t*B + l) = min_{k<T*B} f(k)",
)


def _setup_mask(env: Env) -> Model:
    f = env.func("f", env.I, env.R)
    h = env.func("h", env.I, env.X)
    return _model(
        env, f=f, h=h, E=env.int("E"), S=env.sum("S", f), P=env.prod("P", f), M=env.rmax("M", h), N=env.rmin("N", h)
    )


def _imin(a: z3.ArithRef, b: z3.ArithRef) -> z3.ArithRef:
    return z3.If(a <= b, a, b)


MASK_SUM = Pattern(
    "mask-sum",
    "acc' = acc + where(t < E, f(t), 0)",
    "acc_H = Σ_{k<min(H, E)} f(k)  (acc_0 = 0)",
    _setup_mask,
    init=lambda m: (m.env.rv(0),),
    update=lambda m, s, t: (s[0] + z3.If(t < m.E, m.f(t), m.env.rv(0)),),
    closed=lambda m, T: (m.S(_imin(T, m.E)),),
    statement="Σ_{k<H} where(k < E, f(k), 0) = Σ_{k<min(H, E)} f(k)",
)

MASK_PROD = Pattern(
    "mask-prod",
    "acc' = acc * where(t < E, f(t), 1)",
    "acc_H = Π_{k<min(H, E)} f(k)  (acc_0 = 1)",
    _setup_mask,
    init=lambda m: (m.env.rv(1),),
    update=lambda m, s, t: (s[0] * z3.If(t < m.E, m.f(t), m.env.rv(1)),),
    closed=lambda m, T: (m.P(_imin(T, m.E)),),
    statement="Π_{k<H} where(k < E, f(k), 1) = Π_{k<min(H, E)} f(k)",
)

MASK_MAX = Pattern(
    "mask-max",
    "m' = max(m, where(t < E, f(t), -inf))",
    "m_H = max_{k<min(H, E)} f(k)  (m_0 = -inf)",
    _setup_mask,
    init=lambda m: (m.env.ninf,),
    update=lambda m, s, t: (m.env.max(s[0], z3.If(t < m.E, m.h(t), m.env.ninf)),),
    closed=lambda m, T: (m.M(_imin(T, m.E)),),
    statement="max_{k<H} where(k < E, f(k), -inf) = max_{k<min(H, E)} f(k)",
)

MASK_MIN = Pattern(
    "mask-min",
    "m' = min(m, where(t < E, f(t), +inf))",
    "m_H = min_{k<min(H, E)} f(k)  (m_0 = +inf)",
    _setup_mask,
    init=lambda m: (m.env.pinf,),
    update=lambda m, s, t: (m.env.min(s[0], z3.If(t < m.E, m.h(t), m.env.pinf)),),
    closed=lambda m, T: (m.N(_imin(T, m.E)),),
    statement="min_{k<H} where(k < E, f(k), +inf) = min_{k<min(H, E)} f(k)",
)


def _setup_concat(env: Env) -> Model:
    f = env.func("f", env.I, env.R)
    a = env.int("a")
    return _model(env, f=f, a=a, S=env.sum("S", f), hyps=[a >= 0])


SUM_CONCAT = Pattern(
    "sum-concat",
    "acc' = acc + f(a + t)",
    "acc_T = Σ_{k<a+T} f(k)  (acc_0 = Σ_{k<a} f(k), a >= 0)",
    _setup_concat,
    init=lambda m: (m.S(m.a),),
    update=lambda m, s, t: (s[0] + m.f(m.a + t),),
    closed=lambda m, T: (m.S(m.a + T),),
    hints=lambda m, s, T: [m.env.unfold(m.S, m.a + T)],
    statement="Σ_{k<a} f(k) + Σ_{l<n} f(a + l) = Σ_{k<a+n} f(k)  (a, n >= 0: a loop and its peeled last tile)",
)


# ----------------------------------------------------------------------------------------------------
# write loops


def _setup_writes(env: Env) -> Model:
    return _model(env, T=env.int("T"), B=env.int("B"))


WRITE_TILES = Pattern(
    "write-tiles",
    "iteration t stores lanes l < B at offset t*B + l",
    "the T iterations write [0, T*B) exactly once: disjoint tiles, in bounds, covering",
    _setup_writes,
    address=lambda m, t, lane: t * m.B + lane,
    statement="t1 != t2 -> t1*B + l1 != t2*B + l2 (l1, l2 < B); every k < T*B is t*B + l for t = k // B, l = k % B",
)


PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        ACCUMULATE_SUM,
        ACCUMULATE_PROD,
        SUM_LINEARITY,
        RUNNING_MAX,
        RUNNING_MIN,
        ONLINE_SOFTMAX,
        ONLINE_SOFTMAX_TILE,
        SUM_EXP_RESCALE,
        SUM_EXP_RESCALE_TILE,
        WELFORD,
        POINTER_ADVANCE,
        TILED_REINDEX,
        TILED_REINDEX_MAX,
        TILED_REINDEX_PROD,
        TILED_REINDEX_MIN,
        MASK_SUM,
        MASK_PROD,
        MASK_MAX,
        MASK_MIN,
        SUM_CONCAT,
        WRITE_TILES,
    )
}


@functools.cache
def proof_of(name: str) -> PatternProof:
    """The proof of a library pattern, done once per process; raises ProofFailed if it does not go through."""
    proof = PATTERNS[name].prove()
    if not proof.proved:
        raise ProofFailed(proof)
    return proof
