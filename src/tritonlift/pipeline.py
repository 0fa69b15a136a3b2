"""The flat pipeline: parse -> evaluate -> synthesize -> verify -> simplify -> emit, per lifted thing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tritonlift.errors import InputError, LiftError, Unknown, Unsupported
from tritonlift.flag_paths import (
    caller_groups,
    chosen_constexprs,
    differs_on_samples,
    expected_cases,
    lift_per_flags,
    varying,
)
from tritonlift.frontend.source import JitFunction, SourceModule, load_module
from tritonlift.frontend.targets import resolve_target
from tritonlift.ir.expr import Kind
from tritonlift.ir.formula import Formula, Param
from tritonlift.options import Options
from tritonlift.result import STAGES, LiftResult, Proof
from tritonlift.symbolic.dtypes import evaluate_spec
from tritonlift.symbolic.kernel_eval import KernelEvaluator, grid_symbols
from tritonlift.symbolic.params import classify, grid_rank
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.synth.derive import Derivation, StoreMap, Witness, derive_kernel
from tritonlift.synth.paths import most_masked, paths
from tritonlift.synth.pid_map import regrid, restate, tile_box
from tritonlift.synth.search import synthesize, unknown_note
from tritonlift.synth.tails import join_tails
from tritonlift.verify.check import SOLVER, Outcome, Problem, verify


class Clock:
    """Per-stage wall times of one lifted thing."""

    ORDER = tuple(s for s in STAGES if s != "total")

    def __init__(self, first: str = "symbolic") -> None:
        self.seconds = {s: 0.0 for s in STAGES}
        self.start = time.perf_counter()
        self.last = self.start
        self.current = first  # the stage running now: the one after the last lap

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] += now - self.last
        self.last = now
        self.current = self.ORDER[min(self.ORDER.index(stage) + 1, len(self.ORDER) - 1)]

    def finish(self) -> dict[str, float]:
        """The time since the last lap goes to the stage that was running (where a failure stopped the
        lift, or simplification after a verification), then the totals."""
        self.lap(self.current)
        return self.done()

    def done(self) -> dict[str, float]:
        self.seconds["total"] = time.perf_counter() - self.start
        return self.seconds


def lift_targets(
    targets: list[str], options: Options, op: str | None, progress: Callable[[str], None] | None
) -> list[LiftResult]:
    results: list[LiftResult] = []
    for target in targets:
        try:
            files = resolve_target(target)
        except InputError as e:
            results.append(_error_result(target, e))
            continue
        for f in files:
            results.extend(lift_module_file(f, options, op, progress))
    return results


def lift_module_file(
    path: Path, options: Options, op: str | None = None, progress: Callable[[str], None] | None = None
) -> list[LiftResult]:
    if options.simplify:  # the simplifier's one-time start in this process, charged to no result's seconds
        from tritonlift.simplify.engine import warm_up

        warm_up()
    clock = Clock("frontend")
    try:
        module = load_module(path)
    except InputError as e:
        return [_error_result(str(path), e)]
    clock.lap("frontend")
    out: list[LiftResult] = []
    for fn in module.kernels():
        if op is not None and fn.name != op:
            continue
        if progress:
            progress(fn.name)
        out.append(lift_kernel(module, fn, options))
    for fn in module.pointwise():
        if op is not None and fn.name != op:
            continue
        if progress:
            progress(fn.name)
        out.append(lift_pointwise(module, fn, options))
    for host in module.hosts.values():
        if op is not None and host.name != op:
            continue
        if progress:
            progress(host.name)
        from tritonlift.symbolic.host_eval import lift_operator

        out.append(lift_operator(module, host, options))
    if module.pointwise() or module.aliases:  # hosts that call @pointwise_dynamic functions (operator level)
        from tritonlift.symbolic.host_pointwise import lift_pointwise_operator, pointwise_hosts

        for host in pointwise_hosts(module):
            if op is not None and host.name != op:
                continue
            if progress:
                progress(host.name)
            out.append(lift_pointwise_operator(module, host, options))
    return out


def _error_result(target: str, e: LiftError) -> LiftResult:
    return LiftResult(
        name=Path(target).stem or target, kind="kernel", file=e.file or target, line=e.line, kernels=[],
        status="error", message=e.located(),
    )


def kernel_params(fn: JitFunction, pointers: list[str], kinds: dict[str, Kind]) -> tuple[Param, ...]:
    import ast

    out = []
    for p in fn.params:
        if p.name in pointers:
            kind = "tensor"
        elif p.constexpr:
            kind = "constexpr"
        else:
            kind = "float" if kinds.get(p.name) is Kind.REAL else "int"
        out.append(Param(p.name, kind, ast.unparse(p.default) if p.default is not None else None))  # type: ignore[arg-type]
    return tuple(out)


def kernel_spec(
    module: SourceModule, fn: JitFunction, invariant_patterns: bool = True
) -> tuple[KernelSpec, tuple[Param, ...]]:
    pointers, kinds = classify(module, fn)
    grid = grid_symbols(grid_rank(module, fn))
    spec = evaluate_spec(
        lambda dtypes: KernelEvaluator(
            module, fn, {}, pointers, kinds, grid, invariant_patterns=invariant_patterns, elem_dtypes=dtypes
        ).run()
    )
    named = heuristic_facts_named(module, fn, pointers, kinds)
    spec.facts += [f for _n, f in named]
    if named:
        from tritonlift.ir.printer import to_text

        origin = fn.heuristics_with_origin()[1] or "its @triton.heuristics decorator"
        shown = "; ".join(dict.fromkeys(_heuristic_text(n, f, to_text) for n, f in named))
        spec.assumptions.append(f"constexprs {', '.join(dict.fromkeys(n for n, _f in named))} as chosen by {origin}: {shown}")
    return spec, kernel_params(fn, pointers, kinds)


def _heuristic_text(name: str, fact: object, to_text: Callable[[object], str]) -> str:
    """`int32(F != 0) == int32(c)` (how a boolean constexpr's fact is stated) shown as `F = c`."""
    from tritonlift.ir import expr as ir

    if isinstance(fact, ir.Expr) and fact.op is ir.Op.EQ:
        lhs, rhs = fact.args
        if lhs.op is ir.Op.CAST and rhs.op is ir.Op.CAST and lhs.args[0].op is ir.Op.NE:
            return f"{name} = {to_text(rhs.args[0])}"
        if lhs == ir.var(name, lhs.kind):
            return f"{name} = {to_text(rhs)}"
    return to_text(fact)


def heuristic_facts(module: SourceModule, fn: JitFunction, pointers: list[str], kinds: dict[str, Kind]) -> list:
    """`@triton.heuristics({"EVEN_N": lambda args: args["n"] % args["BLOCK"] == 0})` -> EVEN_N <=> n % BLOCK == 0."""
    return [f for _n, f in heuristic_facts_named(module, fn, pointers, kinds)]


def heuristic_facts_named(
    module: SourceModule, fn: JitFunction, pointers: list[str], kinds: dict[str, Kind]
) -> list[tuple[str, object]]:
    """heuristic_facts, each with the constexpr it defines."""
    import ast

    from tritonlift.errors import Unsupported
    from tritonlift.ir import expr as ir
    from tritonlift.symbolic.host_eval import HostEvaluator
    from tritonlift.symbolic.host_paths import Decider, explore

    facts: list[tuple[str, object]] = []
    heur = fn.heuristics
    if not heur:
        return facts
    meta = {p.name: ir.var(p.name, kinds.get(p.name, Kind.INT)) for p in fn.params if p.name not in pointers}
    host = HostFunctionStub(fn)

    def defining(name: str, v: object) -> object | None:
        var = meta[name]
        if isinstance(v, (bool, int)):
            v = ir.const(v)
        if not isinstance(v, ir.Expr):
            return None
        if v.kind is Kind.BOOL:
            return ir.eq(ir.cast(ir.compare(ir.Op.NE, var, ir.ZERO), "int32"), ir.cast(v, "int32"))
        if v.kind is Kind.INT:
            return ir.eq(var, v)
        return None

    for name, lam in heur.items():
        if not isinstance(lam, ast.Lambda) or name not in meta:
            continue

        def run_path(prefix: tuple[bool, ...], lam: ast.Lambda = lam) -> tuple[object, Decider]:
            ev = HostEvaluator(module, host, Decider(prefix))  # type: ignore[arg-type]
            try:
                v = ev.eval_lambda(lam, meta)
            except LiftError:
                return None, ev.decider
            return (v, list(ev.st.facts)), ev.decider

        # every branch the heuristic can take (`next_power_of_2(N) if N <= 32768 else 4096`): its value on each
        # path under that path's conditions; a constexpr with a path that cannot be read stays free
        try:
            paths = explore(run_path, fn.file, fn.line)
        except Unsupported:
            continue
        sides: list[list[object]] = []
        for result, _decisions in paths:
            if result is None:
                break
            v, path_facts = result
            fact = defining(name, v)
            sides.append([*path_facts, fact] if fact is not None else path_facts)
        else:
            if len(sides) == 1:
                facts += [(name, f) for f in sides[0]]
            elif sides and all(sides):
                alternatives = [ir.and_(*side) for side in sides]  # type: ignore[arg-type]
                fact = alternatives[0]
                for a in alternatives[1:]:
                    fact = ir.or_(fact, a)
                facts.append((name, fact))
    return facts


def closed_form(res: LiftResult) -> LiftResult:
    """A verified result whose torch code still names a value chosen at launch (an autotuned constexpr that
    is not a parameter of the lifted function) holds for every value of it but has no closed form to run:
    `unknown`, saying which names."""
    from tritonlift.ir.torch_names import unbound_names

    free = unbound_names(res.torch) if res.torch else []
    if free and res.status == "verified":
        res.status = "unknown"  # type: ignore[assignment]
        res.add_message(f"the formula holds for every value of {', '.join(free)} but still names them (chosen at "
                        "launch, not parameters of the lifted function): no closed form yet")
    return res


def own_candidate(res: LiftResult, options: Options, genuine: bool = False) -> None:
    """Without a reference formula (`--expect`) the formula is our own candidate: a counterexample to it shows
    that synthesis went wrong, not that the kernel is wrong, so the result is `unknown`, saying why, unless
    the caller knows the counterexample shows a fault whatever formula was meant (`genuine`: an operator
    leaving part of its host-allocated output unwritten, or host or constexpr paths that disagree with each
    other)."""
    cx = res.counterexample
    if options.expect is not None or res.status != "refuted" or cx is None or genuine:
        return
    res.status, res.counterexample = "unknown", None
    res.message = "; ".join(
        m for m in (f"no formula found: the formula derived from the kernel does not hold ({cx.reason})", res.message) if m
    )


def unique(items: list[str]) -> list[str]:
    """The items in their first order, each once."""
    return list(dict.fromkeys(items))


def internal_error(file: str, line: int, e: BaseException) -> str:
    """The one-line message for an exception inside tritonlift itself (reported as `unknown`)."""
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{file}:{line}: internal error in tritonlift ({type(e).__name__}: {text}); please report it"


class HostFunctionStub:
    """Just enough of a HostFunction for evaluating heuristics lambdas of a kernel."""

    def __init__(self, fn: JitFunction):
        self.name, self.node, self.file, self.line, self.launches = fn.name, fn.node, fn.file, fn.line, []


def lift_kernel(module: SourceModule, fn: JitFunction, options: Options) -> LiftResult:
    """A kernel's formula over its pointers as tensors. Under the Triton language's rule first; when that
    is not verified and masked-off lanes of loads without other= reach the stores, again with those lanes
    read as 0 (`Options.masked_loads`, symbolic/undefined.py): a proof then is reported with that assumption.
    A derived formula that itself reads undefined lanes is proved under the language's rule only if the
    zero-filled attempt fails (its proof would be set aside anyway)."""
    from tritonlift.symbolic.undefined import READS_UNDEFINED, adopt_zero_filled

    zero_mode = options.masked_loads == "zero"
    res, tags, reads_undef = _lift_kernel(module, fn, options, zero=False, defer=zero_mode)
    if zero_mode and tags and (reads_undef or res.status != "verified"):
        zero, _, _ = _lift_kernel(module, fn, options, zero=True)
        if zero.status == "verified":
            return adopt_zero_filled(zero, res, tags)
        if reads_undef:  # the language's rule after all: prove the formula that reads undefined lanes
            spent = zero.seconds
            res, tags, reads_undef = _lift_kernel(module, fn, options, zero=False)
            res.seconds = {k: v + spent.get(k, 0.0) for k, v in res.seconds.items()}
    if reads_undef:
        res.add_message(READS_UNDEFINED)
    return res


def _lift_kernel(
    module: SourceModule, fn: JitFunction, options: Options, zero: bool, defer: bool = False
) -> tuple[LiftResult, list[str], bool]:
    """One lift of a kernel; `zero`: masked-off lanes of loads without other= read 0. Also returns the loads
    whose undefined lanes reach a store (`ptr@line`), and whether the formula itself reads such lanes;
    `defer`: such a formula is returned unverified (status unknown), for the caller to try zeros first."""
    from tritonlift.symbolic.undefined import undefined_tags, zero_filled

    clock = Clock()
    res = LiftResult(name=fn.name, kind="kernel", file=fn.file, line=fn.line, kernels=[fn.name], status="unknown")
    tags: list[str] = []
    reads_undef = False
    try:
        spec, params = kernel_spec(module, fn, options.invariant_patterns and not options.baseline)
        tags = undefined_tags(spec)
        if zero:
            spec = zero_filled(spec)
        clock.lap("symbolic")
        constexprs = {p.name for p in fn.params if p.constexpr}
        box = tile_box(most_masked(spec, constexprs))  # a path's masks may name the tiles the others leave open
        why: list[str] = []
        rg = regrid(spec, constexprs, timeout_ms=min(options.solver_timeout_ms, 5000), box=box, why=why)
        spec = rg.spec if rg is not None else spec  # a 1-D grid of tiles proved onto a 2-D one (synth/pid_map)
        branches = paths(spec, constexprs)  # constexpr flags left symbolic: every path (synth/paths)
        # flags only the caller sets (USE_TANH, HAS_WEIGHT_BIAS) may select different functions: when one
        # formula does not hold on every path, one formula per such flag combination (flag_paths.py)
        groups = caller_groups(branches, chosen_constexprs(fn))
        case_texts = expected_cases(options.expect, groups)
        deferred = False
        memo: dict = {}  # a reference path's synthesized formula, for the flag group that holds it
        if case_texts is None:
            try:
                split = groups if options.expect is None else []
                reads_undef, deferred = _lift_paths(res, fn, spec, branches, params, options, rg, why, clock, defer,
                                                    split, memo)
            except LiftError:
                if len(groups) < 2 or options.expect is not None:
                    raise
                res.status = "unknown"  # one formula per flag combination, below
        if not deferred and len(groups) > 1 and (case_texts is not None or (
                res.status != "verified" and options.expect is None)):
            reads_undef, deferred = lift_per_flags(res, groups, case_texts, options, lambda part, group, opts: (
                _lift_paths(part, fn, spec, group, params, opts, rg, why, clock, defer, memo=memo)))
        if deferred:
            res.message = "not verified: the formula reads undefined lanes"
            res.seconds = clock.finish()
            return res, tags, reads_undef
    except LiftError as e:
        res.status = e.status  # type: ignore[assignment]
        res.message = e.located() if e.file else f"{fn.file}:{e.line or fn.line}: {e.message}"
    except Exception as e:  # a bug of ours: no proof, no counterexample, and the run goes on
        res.status, res.message = "unknown", internal_error(fn.file, fn.line, e)
    res.seconds = clock.finish()
    return res, tags, reads_undef


def _lift_paths(
    res: LiftResult, fn: JitFunction, spec: KernelSpec, branches: list, params: tuple[Param, ...],
    options: Options, rg: object, why: list[str], clock: Clock, defer: bool, groups: list | None = None,
    memo: dict | None = None,
) -> tuple[bool, bool]:
    """One formula for the kernel's constexpr paths `branches` (all of them, or those of one combination of
    the flags its caller sets): derived on the most masked one (or `options.expect`), verified on each; fills
    `res`. Returns whether the formula reads undefined lanes, and whether it was left unverified for that
    (`defer`: the caller tries zero-filled lanes first). `groups`: the paths split by the flags the caller
    sets (flag_paths.caller_groups), when one formula per group follows a failure here. `memo`: the formula
    synthesized on a reference path, kept for the next call with the same reference path (the flag group that
    holds the first attempt's reference path derives the same formula)."""
    groups = groups or []
    if branches:
        k = _reference(branches, params, _sizes(fn, spec))
        branches = [branches[k], *branches[:k], *branches[k + 1:]]
        spec = branches[0].spec
    spec = join_tails(spec, [], _sizes(fn, spec))  # a K loop and its peeled last tile: one sum (synth/tails)
    key = (id(branches[0]) if branches else None, options.expect)
    if memo is not None and key in memo:
        spec, formula, deriv, problem, synthesis = memo[key]
    else:
        try:
            deriv = derive_kernel(spec, params)
        except Unknown as e:
            if why and "cannot invert the index map" in e.message:
                raise Unknown(f"program ids: {why[0]}") from None
            raise
        if rg is not None:
            deriv = replace(deriv, formula=restate(deriv.formula, rg))
        formula, deriv = _expected(options, deriv, spec)
        problem = Problem(spec, formula, deriv.grid, deriv.store_maps, deriv.witnesses,
                          [*spec.facts, *deriv.facts])
        synthesis = {}
        if options.expect is None and not any(s.atomic for s in spec.stores):  # accumulated outputs: as derived
            problem, stats = synthesize(problem, options)
            formula, synthesis = problem.formula, stats.to_json()
        if memo is not None and branches:
            memo[key] = (spec, formula, deriv, problem, synthesis)
    clock.lap("synthesis")
    from tritonlift.ir.expr import Op, walk

    reads_undef = any(n.op is Op.UNDEF for a in formula.assigns for n in walk(a.body))
    if reads_undef and defer:
        return reads_undef, True
    outcome = first = verify(problem, options.solver_timeout_ms, options.seed)
    if outcome.status == "verified" and len(branches) > 1:
        mine = next((g.branches for g in groups if any(b is branches[0] for b in g.branches)), branches)
        quick = (lambda path: not any(b is path for b in mine)) if len(groups) > 1 else None
        outcome = _other_paths(branches, formula, deriv, params, options, _sizes(fn, spec), outcome, quick)
    clock.lap("verification")
    res.status = outcome.status  # type: ignore[assignment]
    res.counterexample = outcome.counterexample
    res.message = outcome.message
    res.proof = Proof(solver=SOLVER, obligations=outcome.obligations, invariants=list(spec.invariants),
                      synthesis=synthesis)
    if outcome.status == "unknown" and unknown_note(synthesis):
        res.add_message(unknown_note(synthesis))
    # constexpr paths that disagree with the one the formula was derived on: a fault of the kernel when the
    # constexprs deciding them are chosen by its heuristics or tuner (every choice must compute the same
    # function); flags its caller sets (USE_TANH, HAS_WEIGHT) select different functions, one per path
    set_by_caller = _caller_constexprs(fn, branches) if outcome is not first else []
    if set_by_caller and res.status == "refuted" and options.expect is None:
        res.add_message(f"the constexpr paths compute different functions ({', '.join(set_by_caller)} set by "
                        "the caller, in a condition that also names a constexpr the heuristics or the tuner choose: "
                        "no formula per path there)")
    own_candidate(res, options, genuine=outcome is not first and not set_by_caller)
    emit(res, formula, options)
    res.assumptions = unique([*formula.assumptions, *spec.assumptions, *spec.notes, *outcome.assumptions])
    if outcome.status == "verified":
        res.assumptions.append("output views do not overlap each other or the inputs")
    return reads_undef, False


def _caller_constexprs(fn: JitFunction, branches: list) -> list[str]:
    """The constexprs deciding the constexpr paths (the atoms whose truth value differs between them) that
    neither `@triton.heuristics` nor `@triton.autotune` chooses: set by whoever launches the kernel."""
    from tritonlift.ir.expr import Op, walk

    names = {str(n.attr) for k in varying(branches) for b in branches for n in walk(b.literals[k]) if n.op is Op.VAR}
    return sorted(names - chosen_constexprs(fn))


def _reference(branches: list, params: tuple[Param, ...], sizes: list[str]) -> int:
    """The constexpr path to derive the formula from: the most masked one whose derivation reads no undefined
    value (a masked load without other= that the formula would have to mention), else the most masked one."""
    from tritonlift.ir.expr import Op, walk

    for k, path in enumerate(branches):
        try:
            d = derive_kernel(join_tails(path.spec, [], sizes), params)
        except LiftError:
            continue
        if not any(n.op is Op.UNDEF for a in d.formula.assigns for n in walk(a.body)):
            return k
    return 0


def _other_paths(
    branches: list, formula: Formula, deriv: Derivation, params: tuple[Param, ...], options: Options,
    sizes: list[str], outcome: Outcome, quick: Callable[[object], bool] | None = None,
) -> Outcome:
    """The formula verified on the first (most masked) constexpr path, checked on every other path, launched
    with the same grid (a free grid axis the first path's masks fixed is fixed alike): the first path that
    fails decides the outcome. A path for which `quick` holds (another value of a flag the caller sets: its
    failure is no fault, another formula is derived for it) is cheap-tested first: a disagreement on sampled
    inputs fails it (`unknown`) without asking the solver, which can spend long on a formula of other math."""
    from tritonlift.ir import expr as ir
    from tritonlift.symbolic.values import GRID_PREFIX

    n = outcome.obligations
    failed: list[tuple[object, Outcome]] = []
    for path in branches[1:]:
        spec = path.spec
        fixed = {g: deriv.grid[k] for k, g in enumerate(spec.grid)
                 if g.op is ir.Op.VAR and str(g.attr).startswith(GRID_PREFIX) and deriv.grid[k] != g}
        stores = [replace(st, offset=ir.substitute(st.offset, fixed), value=ir.substitute(st.value, fixed),
                          mask=ir.substitute(st.mask, fixed)) for st in spec.stores]
        spec = replace(spec, grid=tuple(ir.substitute(g, fixed) for g in spec.grid), stores=stores)
        spec = join_tails(spec, [], sizes)
        own = _onto(formula, derive_kernel(spec, (*params,)))
        problem = Problem(spec, formula, deriv.grid, own.store_maps, own.witnesses, [*spec.facts, *own.facts])
        if quick is not None and quick(path) and differs_on_samples(problem, options.seed):
            out = Outcome("unknown", message="the formula differs from the kernel on sampled inputs")
        else:
            out = verify(problem, options.solver_timeout_ms, options.seed)
        n += out.obligations
        if out.status != "verified":
            tags = sorted({str(x.attr) for st in spec.stores for x in ir.walk(st.value) if x.op is ir.Op.UNDEF})
            undefined = (f"its loads without other= ({', '.join(t.replace('@', ' at line ') for t in tags)}) leave "
                         "masked-off lanes undefined and the stored value uses them") if tags else ""
            out.message = "; ".join(m for m in (f"on the constexpr path {path.text}", out.message, undefined) if m)
            failed.append((path, out))
    if failed:  # the worst path decides (refuted before unknown); every path is reported
        rank = {"refuted": 0, "unknown": 1}
        path, out = min(failed, key=lambda po: rank.get(po[1].status, 2))
        good = len(branches) - len(failed)
        out.message += f" ({good} of {len(branches)} constexpr paths verified; not: {'; '.join(p.text for p, _ in failed)})"
        out.obligations = n
        return out
    said = f"verified on each of the {len(branches)} constexpr paths ({'; '.join(b.text for b in branches)})"
    return replace(outcome, obligations=n, assumptions=[*outcome.assumptions, said])


def _sizes(fn: JitFunction, spec: KernelSpec) -> list[str]:
    """The integer scalar arguments that are not constexprs: the sizes a precondition may name."""
    constexprs = {p.name for p in fn.params if p.constexpr}
    return [n for n, k in spec.scalars.items() if k is Kind.INT and n not in constexprs]


def lift_pointwise(module: SourceModule, fn: JitFunction, options: Options) -> LiftResult:
    """A `@pointwise_dynamic` scalar body: its elementwise formula (symbolic/pointwise.py), checked by verify.

    The formula is built from the evaluated body, so the proof is the check that the formula as printed
    (`formula_raw`, parsed back) computes the body's value at every element: it catches printer/IR mismatches.
    """
    from tritonlift.ir.parse import parse_formula
    from tritonlift.ir.printer import formula_line
    from tritonlift.symbolic.pointwise import evaluate_pointwise, pointwise_torch

    clock = Clock()
    res = LiftResult(name=fn.name, kind="pointwise", file=fn.file, line=fn.line, kernels=[fn.name], status="unknown")
    try:
        lifted = evaluate_pointwise(module, fn)
        clock.lap("symbolic")
        built = lifted.formula
        decls = {t.name: t for t in built.tensors}
        text = options.expect if options.expect is not None else formula_line(built)
        try:
            parsed = parse_formula(text, name=built.name, params=built.params, tensors=decls, kinds=lifted.kinds)
            formula = Formula(built.name, built.params, built.tensors, _same_indices(parsed.assigns, built.assigns),
                              built.returns, built.allocs, built.assumptions)
        except ValueError as e:
            if options.expect is not None:
                raise InputError(f"cannot parse the expected formula: {e}") from None
            formula = built
            res.message = f"formula_raw does not parse back ({e}); the built formula was verified"
        if [a.target for a in formula.assigns] != lifted.outputs:
            raise Unknown(f"the formula must define {', '.join(lifted.outputs)}, in that order")
        clock.lap("synthesis")
        problem = Problem(lifted.spec, formula, (), lifted.store_maps, lifted.witnesses, [])
        outcome = verify(problem, options.solver_timeout_ms, options.seed)
        clock.lap("verification")
        res.status = outcome.status  # type: ignore[assignment]
        res.counterexample = outcome.counterexample
        res.add_message(outcome.message)
        res.proof = Proof(solver=SOLVER, obligations=outcome.obligations)
        own_candidate(res, options)
        emit(res, formula, options, torch=lambda shown: pointwise_torch(shown, lifted.schema))
        res.assumptions = list(formula.assumptions)
    except LiftError as e:
        res.status = e.status  # type: ignore[assignment]
        res.message = e.located() if e.file else f"{fn.file}:{e.line or fn.line}: {e.message}"
    except Exception as e:  # a bug of ours: no proof, no counterexample, and the run goes on
        res.status, res.message = "unknown", internal_error(fn.file, fn.line, e)
    res.seconds = clock.finish()
    return res


def _same_indices(assigns: tuple, like: tuple) -> tuple:
    """Each parsed assignment over the index names of the built one to the same output (a whole-tensor text,
    `out = abs(x)`, reads back over fresh names; the pointwise store maps name the built ones)."""
    from tritonlift.ir import expr as ir
    from tritonlift.ir.formula import Assign

    own = {a.target: a for a in like}
    out = []
    for a in assigns:
        b = own.get(a.target)
        if b is None or len(b.index) != len(a.index) or b.index == a.index:
            out.append(a)
            continue
        sub = {ir.var(old): ir.var(new) for old, new in zip(a.index, b.index, strict=True)}
        out.append(Assign(a.target, b.index, ir.substitute(a.body, sub)))
    return tuple(out)


def _expected(options: Options, deriv: Derivation, spec: KernelSpec) -> tuple[Formula, Derivation]:
    """The formula to verify: the derived one, or the user's `--expect` formula with the same hints."""
    if options.expect is None:
        return deriv.formula, deriv
    from tritonlift.ir.parse import parse_formula

    derived = deriv.formula
    kinds = {p.name: (Kind.REAL if p.kind == "float" else Kind.INT) for p in derived.params}
    kinds |= {f"grid[{k}]": Kind.INT for k in range(len(deriv.grid))}  # a free launch grid's sizes
    try:
        formula = parse_formula(
            options.expect, name=derived.name, params=derived.params,
            tensors={t.name: t for t in derived.tensors if t.base == t.name}, kinds=kinds,
        )
    except ValueError as e:
        raise InputError(f"cannot parse the expected formula: {e}") from None
    formula = Formula(formula.name, formula.params, formula.tensors, formula.assigns, formula.returns,
                      formula.allocs, derived.assumptions)
    return formula, _onto(formula, deriv)


def _onto(formula: Formula, deriv: Derivation) -> Derivation:
    """The derivation's hints (which element each store lane writes, which lane writes each element) mapped
    onto another formula over the same pointers."""
    targets = {a.target for a in formula.assigns}
    by_base: dict[str, str] = {}
    for t in formula.tensors:  # the assigned view of a pointer (an accumulated output's `out0` shares its memory)
        if t.base not in by_base or t.name in targets:
            by_base[t.base] = t.name
    rename = {t.name: by_base.get(t.base, t.name) for t in deriv.formula.tensors}
    expected_assign = {a.target: a for a in formula.assigns}
    maps, wits = [], []
    for sm in deriv.store_maps:
        tgt = rename[sm.target]
        if tgt not in expected_assign:
            raise Unknown(f"the expected formula does not define {tgt}")
        if len(expected_assign[tgt].index) != len(sm.index):
            raise Unknown(f"the expected formula gives {tgt} another rank than the kernel writes")
        maps.append(StoreMap(sm.store, tgt, sm.index))
    own = {a.target: a for a in deriv.formula.assigns}
    from tritonlift.ir import expr as ir

    for w in deriv.witnesses:
        tgt = rename[w.target]
        old, new = own[w.target].index, expected_assign[tgt].index
        sub = {ir.var(o): ir.var(n) for o, n in zip(old, new, strict=True)}
        wits.append(Witness(w.store, tgt, {k: ir.substitute(v, sub) for k, v in w.values.items()}))
    return Derivation(formula, deriv.grid, maps, wits, deriv.facts)


def emit(
    res: LiftResult, formula: Formula, options: Options, torch: Callable[[Formula], str] | None = None,
    reread: Callable[[Formula], tuple[list[str], list[str]] | None] | None = None,
) -> list[str]:
    """Text, LaTeX and PyTorch renderings: `formula_raw` as verified, the others simplified (simplify/);
    `torch` prints the PyTorch code (default: the whole-tensor torch printer; pointwise bodies have their own).
    `reread` may show the simplified formula otherwise (an operator over tensors of symbolic rank, at their own
    rank): it returns the lines and the assumptions that reading adds, which emit returns.

    The rules the simplifier used go to proof.rules (constants matched to float32 precision are listed as
    `approx_*` rules: formula_raw keeps the exact constant), its time to seconds["simplification"].
    """
    from tritonlift.ir.latex import formula_latex
    from tritonlift.ir.printer import formula_line
    from tritonlift.ir.torch_printer import formula_torch

    res.formula_raw = formula_line(formula)
    shown = formula
    if options.simplify:
        from tritonlift.simplify import Budget, simplify_formula

        simplified = simplify_formula(formula, Budget(seconds=min(2.0, max(options.timeout / 10, 0.1))))
        shown = simplified.formula
        res.proof.rules = simplified.rules
        res.seconds["simplification"] = simplified.seconds
    res.formula = formula_line(shown, whole=True)  # whole-tensor form where one exists (ir.tensor_form)
    extra: list[str] = []
    got = reread(shown) if reread is not None else None  # at the tensors' own rank (symbolic/rank_text.py)
    if got is not None:
        res.formula, extra = "; ".join(got[0]), got[1]
    res.latex = formula_latex(shown, whole=True)
    try:
        res.torch = torch(shown) if torch is not None else formula_torch(shown, whole=True)
    except ValueError as e:
        res.torch = ""
        res.add_message(f"no torch code: {e}")
    return extra  # assumptions the shown formula's reading adds


__all__ = ["Unsupported", "lift_module_file", "lift_targets"]
