"""Kernels whose constexpr flags are set by the caller: one formula per combination of those flags.

A kernel's constexpr paths (synth/paths.py) are split by the atoms of their conditions. A path chosen by the
kernel's `@triton.heuristics` or `@triton.autotune` must compute the same function as every other choice (the
launch picks one, the caller cannot tell which), so such paths are verified against one formula and a
disagreement is a fault. A flag only the caller sets (`USE_TANH`, `HAS_WEIGHT_BIAS`, `REDUCTION`) selects the
function itself: the paths are grouped by the truth values of the atoms that mention caller-set constexprs
only (an atom that also names a constexpr the heuristics or the tuner choose stays within the groups, where
its paths must agree: the conservative side), and when one formula does not hold on every path, each group is
lifted on its own (its formula derived on its most masked path and verified on each of its paths). The result
shows one formula per group, `[USE_TANH] out = ...; [not USE_TANH] out = ...`, as host paths split by tests
on Python values are shown (symbolic/host_pointwise.py); its status is the worst group's, whose condition the
message names. The torch code dispatches on the constexpr parameters (`if USE_TANH: ...`), the LaTeX is a
`cases` environment, and `proof.paths` records each group (`when`, `status`, `formula`, `kernels`).

`--expect` takes the same form: each `[condition]` case is checked against the group whose condition it
names (a case may join groups with `or`); a plain formula is checked against every path, as before.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tritonlift.errors import InputError, LiftError
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.options import Options
from tritonlift.result import LiftResult, Proof
from tritonlift.synth.paths import literal_text

STATUS_ORDER = ("refuted", "unknown", "unsupported", "error")  # worst first; then verified
_CASE = re.compile(
    r"(?:^|;\s*)\[([^\[\]]*)\]\s+"
)  # a `[condition] ` case prefix, as is_textbook_text reads it


@dataclass(frozen=True)
class FlagGroup:
    """The constexpr paths that agree on every atom set by the caller: `key` are those atoms' truth values
    (each atom or its negation), `literals` the ones the condition shows (those the others do not imply),
    `branches` the paths (synth/paths.Path)."""

    key: tuple[Expr, ...]
    literals: tuple[Expr, ...]
    branches: list

    @property
    def text(self) -> str:
        return condition_text(self.literals)

    @property
    def flags(self) -> set[str]:
        return {n for lit in self.key for n in _names(lit)}


def chosen_constexprs(fn: Any) -> set[str]:
    """The constexprs that `@triton.heuristics` or `@triton.autotune` choose (the rest are set by the caller)."""
    chosen = set(fn.heuristics) | {k for c in fn.autotune_configs for k in c}
    with contextlib.suppress(Exception):
        chosen |= set(fn.unread_heuristics()[0])
    return chosen


def _names(e: Expr) -> set[str]:
    return {str(n.attr) for n in ir.walk(e) if n.op is Op.VAR}


def varying(branches: list) -> list[int]:
    """The positions of the atoms whose truth value differs between the paths (the others decide nothing)."""
    if not branches:
        return []
    first = branches[0].literals
    return [k for k in range(len(first)) if any(b.literals[k] != first[k] for b in branches[1:])]


def caller_groups(branches: list, chosen: set[str]) -> list[FlagGroup]:
    """The paths grouped by the truth values of the varying atoms that name caller-set constexprs only; groups
    in the order true before false, the atoms read last to first (`if MODE == 0: ... elif MODE == 1:` gives
    `[MODE == 0]`, `[MODE == 1]`, `[MODE != 0 and MODE != 1]`). [] without paths."""
    caller = [
        k for k in varying(branches) if (names := _names(branches[0].literals[k])) and not names & chosen
    ]
    caller.reverse()
    groups: dict[tuple[Expr, ...], list] = {}
    for b in branches:
        groups.setdefault(tuple(b.literals[k] for k in caller), []).append(b)
    keys = sorted(groups, key=lambda lits: tuple(lit.op is Op.NOT for lit in lits))
    return [FlagGroup(key, _shown(key), groups[key]) for key in keys]


def _shown(literals: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """The literals less those the others imply (`MODE == 1 and MODE != 0` is `MODE == 1`): an equivalent
    condition, proved by z3 for all values of the constexprs."""
    from tritonlift.synth.guards import prove

    kept = list(literals)
    for lit in literals:
        others = [x for x in kept if x is not lit]
        if others and prove(others, lit, 1000):
            kept = others
    return tuple(kept)


def condition_text(literals: tuple[Expr, ...]) -> str:
    return " and ".join(literal_text(lit) for lit in literals) or "True"


def _atom(lit: Expr) -> Expr:
    return lit.args[0] if lit.op is Op.NOT else lit


def _leaves(groups: list[FlagGroup]) -> dict[str, tuple[int, bool]]:
    """Each atom's condition texts (Python's spelling) mapped to (its position in the groups' keys, truth)."""
    out: dict[str, tuple[int, bool]] = {}
    for k, lit in enumerate(groups[0].key if groups else ()):
        atom = _atom(lit)
        out.setdefault(ast.unparse(ast.parse(literal_text(atom), mode="eval")), (k, True))
        out.setdefault(ast.unparse(ast.parse(literal_text(ir.not_(atom)), mode="eval")), (k, False))
    return out


def holds(text: str, group: FlagGroup, leaves: dict[str, tuple[int, bool]]) -> bool:
    """Whether a condition written over the flags' atoms (`and`, `or`, `not`, and the atoms as the conditions
    print them: `USE_TANH`, `MODE == 0`, `MODE != 1`) holds on the group: a boolean function of the atoms,
    which are constant on the group. A ValueError for any other condition."""
    values = [lit.op is not Op.NOT for lit in group.key]

    def ev(node: ast.expr) -> bool:
        if isinstance(node, ast.BoolOp):
            parts = [ev(v) for v in node.values]
            return all(parts) if isinstance(node.op, ast.And) else any(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not ev(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        key = ast.unparse(node)
        if key not in leaves:
            raise ValueError(f"{key} is not one of the kernel's flag conditions ({', '.join(leaves)})")
        k, positive = leaves[key]
        return values[k] == positive

    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"cannot read the condition {text!r}") from e
    return ev(tree)


def union_text(groups: list[FlagGroup], chosen: list[int]) -> str:
    """The condition of a union of groups, as a short disjunction of conjunctions of the atoms' literals
    (`IS_FP32 or IS_FP16 or IS_BF16` for seven of the eight combinations of three flags): each conjunction
    (a cube) covers only combinations of the union, or combinations no value of the constexprs can take
    (`MODE == 0 and MODE == 1`, proved by z3): the same condition for every value. "True" for all groups."""
    from tritonlift.synth.guards import prove

    atoms = [_atom(lit) for lit in groups[0].key]
    n = len(atoms)
    on = {tuple(lit.op is not Op.NOT for lit in groups[k].key) for k in chosen}
    taken = {tuple(lit.op is not Op.NOT for lit in g.key) for g in groups}
    never = set()
    for combo in itertools.product((True, False), repeat=n):
        if combo not in taken:
            lits = [a if v else ir.not_(a) for a, v in zip(atoms, combo, strict=True)]
            if prove(lits, ir.FALSE, 1000):
                never.add(combo)

    def covers(cube: tuple) -> list[tuple[bool, ...]]:
        return [
            c
            for c in itertools.product((True, False), repeat=n)
            if all(v is None or v == x for v, x in zip(cube, c, strict=True))
        ]

    valid = [
        cube for cube in itertools.product((True, False, None), repeat=n) if set(covers(cube)) <= on | never
    ]
    primes = [c for c in valid if not any(d != c and set(covers(c)) < set(covers(d)) for d in valid)]
    left, picked = set(on), []
    while left:  # greedy: the cube covering most of what is left, then the one with fewest literals
        best = max(primes, key=lambda c: (len(left & set(covers(c))), -sum(v is not None for v in c)))
        if not left & set(covers(best)):
            break
        picked.append(best)
        left -= set(covers(best))
    texts = []
    for cube in picked:
        lits = tuple(a if v else ir.not_(a) for a, v in zip(atoms, cube, strict=True) if v is not None)
        texts.append(condition_text(_shown(lits)))
    return " or ".join(texts) if texts else "True"


def split_cases(formula: str) -> list[tuple[str, str]] | None:
    """`[c1] f1; [c2] f2` as [(c1, f1), (c2, f2)]; None for a formula without cases."""
    text = formula.strip()
    if not text.startswith("["):
        return None
    parts = _CASE.split(text)
    if len(parts) < 3 or parts[0].strip():
        return None
    return [(parts[k].strip(), parts[k + 1].strip().rstrip(";").strip()) for k in range(1, len(parts), 2)]


def expected_cases(expect: str | None, groups: list[FlagGroup]) -> list[str] | None:
    """For an `--expect` formula written per flag combination (`[USE_TANH] out = ...; [not USE_TANH] out =
    ...`), the case of each group; None for no `--expect` or a plain formula (checked against every path)."""
    cases = split_cases(expect) if expect is not None else None
    if cases is None:
        return None
    if len(groups) < 2:
        raise InputError(
            "the expected formula has cases ([" + "], [".join(c for c, _ in cases) + "]), but no "
            "constexpr flag set by the caller selects between paths of this kernel"
        )
    leaves = _leaves(groups)
    try:
        chosen = [[f for c, f in cases if holds(c, g, leaves)] for g in groups]
    except ValueError as e:
        raise InputError(f"the expected formula's case conditions: {e}") from None
    for g, mine in zip(groups, chosen, strict=True):
        if len(mine) != 1:
            said = "no case" if not mine else "several cases"
            raise InputError(
                f"the expected formula has {said} for the constexpr path [{g.text}] (its cases: ["
                + "], [".join(c for c, _ in cases)
                + "])"
            )
    return [mine[0] for mine in chosen]


def lift_per_flags(
    res: LiftResult,
    groups: list[FlagGroup],
    cases: list[str] | None,
    options: Options,
    run: Callable[[LiftResult, list, Options], tuple[bool, bool]],
) -> tuple[bool, bool]:
    """Each group lifted on its own (`run(part, branches, options)`: pipeline._lift_paths, with the group's
    `--expect` case), the parts combined into `res`. Returns whether a formula reads undefined lanes, and
    whether one was left unverified for that (then `res` is left for the caller)."""
    parts: list[tuple[str, LiftResult]] = []
    reads = False
    for k, g in enumerate(groups):
        part = LiftResult(
            name=res.name,
            kind=res.kind,
            file=res.file,
            line=res.line,
            kernels=list(res.kernels),
            status="unknown",
        )
        opts = options if cases is None else replace(options, expect=cases[k])
        try:
            undef, deferred = run(part, g.branches, opts)
        except LiftError as e:
            part.status = e.status  # type: ignore[assignment]
            part.message = e.located() if e.file else f"{res.file}:{e.line or res.line}: {e.message}"
            undef, deferred = False, False
        if deferred:
            return True, True
        reads = reads or undef
        parts.append((g.text, part))
    flags = sorted(set().union(*(g.flags for g in groups)))
    combine(res, parts, flags, lambda ks: union_text(groups, ks))
    return reads, False


def combine(
    res: LiftResult,
    parts: list[tuple[str, LiftResult]],
    flags: list[str],
    union: Callable[[list[int]], str] | None = None,
) -> None:
    """One result from the results of the flag groups: each formula under its condition (verified groups with
    the same formula and code are one case, under `union` of their indices: by default their conditions
    joined by `or`), the worst status, the message naming each failing group."""
    merged: list[tuple[list[int], LiftResult]] = []
    for k, (_cond, part) in enumerate(parts):
        same = next(
            (
                m
                for m in merged
                if m[1].status == part.status == "verified"
                and m[1].formula_raw == part.formula_raw
                and m[1].torch == part.torch
            ),
            None,
        )
        if same is not None:
            same[0].append(k)
        else:
            merged.append(([k], part))

    def condition(ks: list[int]) -> str:
        if len(ks) == len(parts):
            return ""
        if len(ks) == 1:
            return parts[ks[0]][0]
        return union(ks) if union is not None else " or ".join(parts[k][0] for k in ks)

    cases = [(condition(ks), p) for ks, p in merged]
    statuses = [p.status for _c, p in parts]
    res.status = next((s for s in STATUS_ORDER if s in statuses), "verified")  # type: ignore[assignment]
    worst = next(p for _c, p in parts if p.status == res.status)
    res.counterexample = worst.counterexample
    shown = [(c, p) for c, p in cases if p.formula]
    res.formula = "; ".join(f"[{c}] {p.formula}" if c else p.formula for c, p in shown)
    res.formula_raw = "; ".join(f"[{c}] {p.formula_raw}" if c else p.formula_raw for c, p in shown)
    res.latex = cases_latex([(c, p.latex) for c, p in shown])
    said = f"one formula per combination of the constexpr flags set by the caller ({', '.join(flags)})"
    if res.status == "verified":
        msgs = [f"{said}, each verified on its constexpr paths"]
    else:  # the worst group's own message first (its location, the reason a report counts), naming the group
        failing = sorted(
            (cp for cp in cases if cp[1].status != "verified"), key=lambda cp: cp[1] is not worst
        )
        msgs = []
        for c, p in failing:
            why = p.message or (p.counterexample.reason if p.counterexample is not None else p.status)
            msgs.append(f"{why} (on the constexpr paths where {c})" if c else why)
        msgs.append(f"{said}: " + ", ".join(f"[{c}] {p.status}" for c, p in cases))
    res.message = "; ".join(m for m in msgs if m)
    assumptions: list[str] = []
    for c, p in cases:
        assumptions += [
            a if not c or all(a in q.assumptions for _c, q in cases) else f"[{c}] {a}" for a in p.assumptions
        ]
    res.assumptions = list(dict.fromkeys(assumptions))
    res.proof = Proof(
        solver=worst.proof.solver or next((p.proof.solver for _c, p in parts if p.proof.solver), ""),
        obligations=sum(p.proof.obligations for _c, p in parts),
        invariants=list(dict.fromkeys(i for _c, p in parts for i in p.proof.invariants)),
        rules=list(dict.fromkeys(r for _c, p in parts for r in p.proof.rules)),
        synthesis=next((p.proof.synthesis for _c, p in parts if p.proof.synthesis), {}),
        paths=[
            {
                "when": c,
                "status": p.status,
                "formula": p.formula if p.status == "verified" else "",
                "kernels": list(res.kernels),
            }
            for c, p in parts
        ],
    )
    try:
        res.torch = dispatcher(res.name, cases)
    except ValueError as e:
        res.torch = ""
        if res.status == "verified":
            res.add_message(f"no torch code: {e}")


def differs_on_samples(problem: Any, seed: int = 0) -> bool:
    """Whether the problem's formula disagrees with the kernel on a few sampled writes (synth/cheap_test.py:
    sizes, ids and lanes chosen by z3 under the spec's facts, random inputs). True only on a disagreement
    seen; no sample, or one that cannot be evaluated, says nothing (False)."""
    from tritonlift.synth.cheap_test import FAIL, draw_samples

    try:
        for assign in problem.formula.assigns:
            samples = draw_samples(problem, assign, seed=seed)
            values = samples.values_of(assign.body)
            if samples.points and FAIL not in values and not samples.agrees(values):
                return True
    except Exception:  # a sample that cannot be drawn or evaluated decides nothing: the solver will
        return False
    return False


def _latex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("{", r"\{").replace("}", r"\}")


def cases_latex(cases: list[tuple[str, str]]) -> str:
    """The formulas as a LaTeX `cases` environment, one row per condition (a case of several statements is
    one `gathered` cell)."""
    if len(cases) == 1 and not cases[0][0]:
        return cases[0][1]
    rows = []
    for c, tex in cases:
        cell = rf"\begin{{gathered}} {tex} \end{{gathered}}" if r" \\ " in tex else tex
        rows.append(
            rf"{cell} & \text{{if }} \texttt{{{_latex_text(c)}}}" if c else rf"{cell} & \text{{otherwise}}"
        )
    return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def dispatcher(name: str, cases: list[tuple[str, LiftResult]]) -> str:
    """One torch function per case, and the flags' tests choosing between them (the kernel-level torch code
    takes every constexpr as a parameter)."""
    signature: list[str] | None = None
    for _c, part in cases:
        if part.torch:
            fn = ast.parse(part.torch).body[0]
            if isinstance(fn, ast.FunctionDef):
                signature = [a.arg for a in fn.args.args]
                break
    if signature is None:
        raise ValueError("no constexpr path has a formula")
    call = ", ".join(signature)
    lines = [f"def {name}({call}):"]
    for k, (_c, part) in enumerate(cases):
        if not part.torch:
            msg = f"not lifted on this constexpr path: {part.status}"
            lines += [f"    def _path{k}(*args, **kwargs):", f"        raise NotImplementedError({msg!r})"]
            continue
        code = part.torch.replace(f"def {name}(", f"def _path{k}(", 1)
        lines += ["    " + ln if ln else "" for ln in code.rstrip("\n").splitlines()]
    for k, (c, _part) in enumerate(cases):
        if not c:
            lines.append(f"    return _path{k}({call})")
            break
        ast.parse(c, mode="eval")  # a SyntaxError is a ValueError: no torch code, said so
        lines.append(f"    if {c}:")
        lines.append(f"        return _path{k}({call})")
    else:
        lines.append('    raise ValueError("no constexpr path of the lifted kernel applies")')
    return "\n".join(lines) + "\n"


__all__ = [
    "FlagGroup",
    "caller_groups",
    "cases_latex",
    "chosen_constexprs",
    "combine",
    "condition_text",
    "differs_on_samples",
    "dispatcher",
    "expected_cases",
    "holds",
    "lift_per_flags",
    "split_cases",
    "union_text",
    "varying",
]
