"""Constexpr paths that compute different functions (src/tritonlift/flag_paths.py).

A path the kernel's heuristics (or tuner) choose must compute the same function as every other choice: a
disagreement is a fault, `refuted`. A flag only the caller sets selects one of several functions: the kernel
lifts to one formula per value of the flag (`[USE_EXP] ...; [not USE_EXP] ...`), each verified on its own
paths, the torch code dispatching on the flag; a group that fails makes the kernel fail, naming the group.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import interp
from tritonlift.api import lift_file
from tritonlift.flag_paths import (
    _leaves,
    caller_groups,
    cases_latex,
    combine,
    condition_text,
    differs_on_samples,
    dispatcher,
    expected_cases,
    holds,
    split_cases,
    union_text,
)
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.tensor_form import is_textbook_text
from tritonlift.options import Options
from tritonlift.result import Counterexample, LiftResult
from tritonlift.synth.paths import Path as ConstexprPath

DATA = Path(__file__).parent / "data" / "constexpr_flags.py"
GELU_FLAG = Path(__file__).parents[1] / "examples" / "gelu_flag.py"
MUTANTS = Path(__file__).parent / "mutants"


def _lift(name: str, path: Path = DATA, expect: str | None = None) -> LiftResult:
    (r,) = lift_file(path, Options(expect=expect), op=name)
    return r


# ---- end to end


def test_caller_set_flag_gives_one_formula_per_value() -> None:
    r = _lift("act_kernel")
    assert r.status == "verified", (r.status, r.message)
    assert (
        r.formula
        == "[USE_EXP] out_ptr.view(n) = exp(x_ptr.view(n)); [not USE_EXP] out_ptr.view(n) = x_ptr.view(n) * 2.0"
    )
    assert [(p["when"], p["status"]) for p in r.proof.paths] == [
        ("USE_EXP", "verified"),
        ("not USE_EXP", "verified"),
    ]
    assert r.proof.paths[0]["formula"] == "out_ptr.view(n) = exp(x_ptr.view(n))"
    assert r.latex.startswith(r"\begin{cases}") and r"\texttt{not USE\_EXP}" in r.latex
    assert "USE_EXP" in r.message and r.counterexample is None
    assert is_textbook_text(r.formula)


def test_per_flag_torch_code_matches_the_interpreter() -> None:
    """The torch code dispatches on the flag and does what the kernel does under each value."""
    module = interp.load_module(DATA)
    lifted = interp.exec_torch(_lift("act_kernel"))
    gen = torch.Generator().manual_seed(0)
    for use_exp in (True, False):
        for n in (1, 5, 37):
            x = torch.randn(n, generator=gen)
            out = torch.full((n,), float("nan"))
            module.act_kernel[(math.ceil(n / 16),)](x, out, n, USE_EXP=use_exp, BLOCK=16)
            mine = torch.full((n,), float("nan"))
            lifted(x, mine, n, use_exp, 16)
            torch.testing.assert_close(mine, out, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(mine, torch.exp(x) if use_exp else x * 2.0, rtol=1e-5, atol=1e-6)


def test_example_kernel_torch_code_follows_both_flags() -> None:
    """examples/gelu_flag.py: the kernel's torch code against the interpreter for USE_TANH true and false
    (the generic example test runs one host, so one value of the flag)."""
    module = interp.load_module(GELU_FLAG)
    r = _lift("gelu_flag_kernel", GELU_FLAG)
    assert r.status == "verified", r.message
    assert r.formula.startswith("[USE_TANH] ") and "; [not USE_TANH] " in r.formula
    lifted = interp.exec_torch(r)
    x = torch.linspace(-3, 3, 300)
    for use_tanh in (True, False):
        out = torch.empty(300)
        module.gelu_flag_kernel[(3,)](x, out, 300, USE_TANH=use_tanh, BLOCK_SIZE=128)
        mine = torch.empty(300)
        lifted(x, mine, 300, use_tanh, 128)
        torch.testing.assert_close(mine, out, rtol=1e-4, atol=1e-5)


def test_integer_mode_flag_gives_one_formula_per_mode() -> None:
    r = _lift("mode_kernel")
    assert r.status == "verified", r.message
    assert [p["when"] for p in r.proof.paths] == ["MODE == 0", "MODE == 1", "MODE != 0 and MODE != 1"]
    lifted = interp.exec_torch(r)
    x = torch.randn(7)
    for mode, want in ((0, x), (1, x * 2.0), (2, x * x), (-3, x * x)):
        out = torch.empty(7)
        lifted(x, out, 7, mode, 4)
        torch.testing.assert_close(out, want)


def test_flag_choosing_between_spellings_of_one_function_keeps_one_formula() -> None:
    r = _lift("same_kernel")
    assert r.status == "verified", r.message
    assert "[" not in r.formula and not r.proof.paths


def test_heuristic_chosen_paths_that_disagree_are_refuted() -> None:
    r = _lift("even_kernel")
    assert r.status == "refuted", (r.status, r.message)
    assert r.counterexample is not None
    assert "EVEN" in r.message


def test_heuristic_paths_must_agree_within_a_caller_flag_value() -> None:
    """Under `not USE_EXP` the heuristic EVEN's unmasked path computes x + 1, the masked one x * 2: refuted,
    naming the caller's case and the heuristic path; the USE_EXP case is verified."""
    r = _lift("mixed_kernel")
    assert r.status == "refuted", (r.status, r.message)
    assert r.counterexample is not None
    assert r.message.startswith("on the constexpr path"), r.message
    assert "on the constexpr path not USE_EXP and EVEN " in r.message
    assert "(on the constexpr paths where not USE_EXP)" in r.message
    assert "[USE_EXP] verified, [not USE_EXP] refuted" in r.message
    assert [(p["when"], p["status"]) for p in r.proof.paths] == [
        ("USE_EXP", "verified"),
        ("not USE_EXP", "refuted"),
    ]
    ok = _lift("mixed_ok_kernel")
    assert ok.status == "verified", ok.message
    assert len(ok.proof.paths) == 2


def test_expect_with_cases_checks_each_case() -> None:
    good = _lift("act_kernel").formula
    assert _lift("act_kernel", expect=good).status == "verified"
    swapped = (
        "[not USE_EXP] out_ptr.view(n) = exp(x_ptr.view(n)); [USE_EXP] out_ptr.view(n) = x_ptr.view(n) * 2.0"
    )
    r = _lift("act_kernel", expect=swapped)
    assert r.status == "refuted" and r.counterexample is not None
    assert "[USE_EXP] refuted, [not USE_EXP] refuted" in r.message
    missing = _lift("act_kernel", expect="[USE_EXP] out_ptr.view(n) = exp(x_ptr.view(n))")
    assert missing.status == "error" and "no case for the constexpr path [not USE_EXP]" in missing.message
    plain = _lift("act_kernel", expect="out_ptr.view(n) = exp(x_ptr.view(n))")
    assert plain.status == "refuted", "a formula without cases is checked against every path"
    no_flags = _lift("even_kernel", expect="[EVEN] out_ptr.view(n) = x_ptr.view(n) * 2.0")
    assert no_flags.status == "error"


def test_mutant_with_one_wrong_path_is_refuted_naming_it() -> None:
    formula = _lift("gelu_flag_kernel", GELU_FLAG).formula
    r = _lift("gelu_flag_kernel", MUTANTS / "gelu_flag__tanh_path_sigmoid_unscaled.py", expect=formula)
    assert r.status == "refuted", r.message
    assert "(on the constexpr paths where USE_TANH)" in r.message and "where not USE_TANH" not in r.message
    assert "[USE_TANH] refuted, [not USE_TANH] verified" in r.message
    assert r.counterexample is not None and r.counterexample.sizes.get("USE_TANH") not in (0, False)
    assert [(p["when"], p["status"]) for p in r.proof.paths] == [
        ("USE_TANH", "refuted"),
        ("not USE_TANH", "verified"),
    ]


# ---- units


def _flag(name: str) -> ir.Expr:
    return ir.compare(Op.NE, ir.var(name, Kind.INT), ir.ZERO)


def _paths(atoms: list[ir.Expr], values: list[tuple[bool, ...]]) -> list[ConstexprPath]:
    return [
        ConstexprPath(tuple(a if v else ir.not_(a) for a, v in zip(atoms, vs, strict=True)), None)
        for vs in values
    ]  # type: ignore[arg-type]


def test_groups_split_on_caller_atoms_only() -> None:
    use, even = _flag("USE"), _flag("EVEN")
    branches = _paths([use, even], [(False, False), (False, True), (True, False), (True, True)])
    groups = caller_groups(branches, {"EVEN"})
    assert [g.text for g in groups] == ["USE", "not USE"]
    assert [len(g.branches) for g in groups] == [2, 2]
    (only,) = caller_groups(branches, {"EVEN", "USE"})  # both chosen: one group, every path must agree
    assert len(only.branches) == 4 and only.text == "True"
    # an atom naming a chosen constexpr beside a caller-set one stays inside the groups (must agree)
    mixed = ir.compare(Op.GE, ir.var("TILE", Kind.INT), ir.var("HEAD", Kind.INT))
    assert len(caller_groups(_paths([mixed], [(False,), (True,)]), {"TILE"})) == 1
    assert caller_groups([], set()) == []


def test_condition_text() -> None:
    m = ir.var("MODE", Kind.INT)
    assert condition_text((_flag("A"), ir.not_(_flag("B")))) == "A and not B"
    assert condition_text((ir.not_(ir.compare(Op.EQ, m, ir.const(1))),)) == "MODE != 1"
    assert condition_text((ir.not_(ir.compare(Op.LT, m, ir.const(2))),)) == "MODE >= 2"
    assert condition_text(()) == "True"


def test_union_of_groups_is_a_short_condition() -> None:
    a, b, c = _flag("A"), _flag("B"), _flag("C")
    combos = [tuple(bool(k >> j & 1) for j in (2, 1, 0)) for k in range(8)]
    groups = caller_groups(_paths([a, b, c], combos), set())
    all_false = next(k for k, g in enumerate(groups) if g.text == "not C and not B and not A")
    rest = [k for k in range(8) if k != all_false]
    assert sorted(union_text(groups, rest).split(" or ")) == ["A", "B", "C"]
    assert union_text(groups, list(range(8))) == "True"
    # the union reads back as the same set of groups
    leaves = _leaves(groups)
    assert [k for k, g in enumerate(groups) if holds(union_text(groups, rest), g, leaves)] == rest
    # atoms of one integer: combinations no value takes (MODE == 0 and MODE == 1) may be covered
    m = ir.var("MODE", Kind.INT)
    zero, one = ir.compare(Op.EQ, m, ir.ZERO), ir.compare(Op.EQ, m, ir.const(1))
    modes = caller_groups(_paths([one, zero], [(False, False), (False, True), (True, False)]), set())
    assert [g.text for g in modes] == ["MODE == 0", "MODE == 1", "MODE != 0 and MODE != 1"]
    assert union_text(modes, [0, 1]) in ("MODE == 0 or MODE == 1", "MODE == 1 or MODE == 0")
    assert union_text(modes, [1, 2]) == "MODE != 0"


def test_split_and_match_expected_cases() -> None:
    assert split_cases("out = x") is None
    assert split_cases("[A] out = x; [not A] out = y * 2") == [("A", "out = x"), ("not A", "out = y * 2")]
    use = _flag("USE")
    groups = caller_groups(_paths([use], [(False,), (True,)]), set())
    assert expected_cases("[not  USE] out = y; [USE] out = x", groups) == ["out = x", "out = y"]
    assert expected_cases("[USE or not USE] out = x", groups) == ["out = x", "out = x"]
    assert expected_cases("[True] out = x", groups) == ["out = x", "out = x"]
    with pytest.raises(Exception, match="several cases"):
        expected_cases("[USE] out = x; [True] out = y", groups)
    with pytest.raises(Exception, match="not one of the kernel's flag conditions"):
        expected_cases("[USE == 2] out = x; [not USE] out = y", groups)
    assert expected_cases("out = x", groups) is None
    assert expected_cases(None, groups) is None
    with pytest.raises(Exception, match="no case"):
        expected_cases("[USE] out = x", groups)


def _part(status: str, formula: str, torch_code: str = "", message: str = "", assumptions=()) -> LiftResult:
    r = LiftResult(name="k", kind="kernel", file="f.py", line=1, kernels=["k"], status=status)  # type: ignore[arg-type]
    r.formula = r.formula_raw = formula
    r.latex = formula.replace("_", r"\_")
    r.torch, r.message, r.assumptions = torch_code, message, list(assumptions)
    return r


def test_combine_takes_the_worst_status_and_names_the_group() -> None:
    res = _part("unknown", "")
    cx = Counterexample({}, {}, {}, 1.0, 2.0, "out[0] differs")
    bad = _part("refuted", "out = x")
    bad.counterexample = cx
    combine(res, [("A", _part("verified", "out = y", assumptions=["n >= 0", "one"])), ("not A", bad)], ["A"])
    assert res.status == "refuted" and res.counterexample is cx
    assert res.message.startswith("out[0] differs (on the constexpr paths where not A); ")
    assert res.formula == "[A] out = y; [not A] out = x"
    assert res.assumptions == ["[A] n >= 0", "[A] one"]
    res = _part("unknown", "")
    combine(
        res,
        [("A", _part("unknown", "out = y", message="no proof")), ("not A", _part("verified", "out = x"))],
        ["A"],
    )
    assert res.status == "unknown" and res.message.startswith("no proof (on the constexpr paths where A); ")
    assert res.message.endswith("(A): [A] unknown, [not A] verified")


def test_combine_joins_groups_with_the_same_formula() -> None:
    res = _part("unknown", "")
    code = "def k(x, F):\n    return 1\n"
    parts = [
        ("F == 0", _part("verified", "out = x", code)),
        ("F == 1", _part("verified", "out = y", code)),
        ("F != 0 and F != 1", _part("verified", "out = x", code)),
    ]
    combine(res, parts, ["F"])
    assert res.status == "verified"
    assert res.formula == "[F == 0 or F != 0 and F != 1] out = x; [F == 1] out = y"
    assert is_textbook_text(res.formula)


def test_dispatcher_calls_the_case_that_holds() -> None:
    cases = [
        ("F", _part("verified", "", "def k(x, F):\n    return 'first'\n")),
        ("not F", _part("unknown", "", "")),
    ]
    code = dispatcher("k", cases)
    scope: dict = {}
    exec(code, scope)
    assert scope["k"](0, True) == "first"
    with pytest.raises(NotImplementedError):
        scope["k"](0, False)
    with pytest.raises(ValueError):
        dispatcher("k", [("F", _part("unknown", ""))])


def test_cases_latex() -> None:
    assert cases_latex([("", "y = x")]) == "y = x"
    tex = cases_latex([("A", r"y = x \\ z = x"), ("not A", "y = 0")])
    assert tex == (
        r"\begin{cases} \begin{gathered} y = x \\ z = x \end{gathered} & \text{if } \texttt{A} \\ "
        r"y = 0 & \text{if } \texttt{not A} \end{cases}"
    )


def test_samples_tell_the_formula_of_another_flag_value_apart() -> None:
    """The cheap test that spares the solver a formula of other math (flag_paths.differs_on_samples): the
    formula derived on one value of the flag differs on samples of the other path, and not on its own."""
    from tritonlift.frontend.source import load_module
    from tritonlift.pipeline import kernel_spec
    from tritonlift.synth.derive import derive_kernel
    from tritonlift.synth.paths import paths
    from tritonlift.verify.check import Problem

    module = load_module(DATA)
    fn = next(k for k in module.kernels() if k.name == "act_kernel")
    spec, params = kernel_spec(module, fn, True)
    one, other = paths(spec, {"USE_EXP", "BLOCK"})
    d = derive_kernel(one.spec, params)

    def problem(s):  # the derived formula over the path's own store maps (one output, one store: the same)
        own = derive_kernel(s, params)
        return Problem(s, d.formula, d.grid, own.store_maps, own.witnesses, [*s.facts, *own.facts])

    assert not differs_on_samples(problem(one.spec))
    assert differs_on_samples(problem(other.spec))
