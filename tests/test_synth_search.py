"""The synthesis search and its ablation modes (synth/search.py, enumerate.py, cheap_test.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Op
from tritonlift.options import Options
from tritonlift.pipeline import kernel_spec
from tritonlift.synth.cheap_test import draw_samples
from tritonlift.synth.derive import derive_kernel
from tritonlift.synth.enumerate import Grammar, grow, size
from tritonlift.synth.search import mode_of
from tritonlift.synth.sketches import sketch_of
from tritonlift.verify.check import Problem

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
MUTANTS = ROOT / "tests" / "mutants"
FAST = Options(search_seconds=2.0)


def _lift(path: Path, name: str, **changes) -> object:
    from dataclasses import replace

    results = lift_file(path, replace(FAST, **changes), op=name)
    assert len(results) == 1, results
    return results[0]


def _problem(path: Path, kernel: str) -> Problem:
    m = load_module(path)
    spec, params = kernel_spec(m, m.jit[kernel])
    d = derive_kernel(spec, params)
    return Problem(spec, d.formula, d.grid, d.store_maps, d.witnesses, [*spec.facts, *d.facts])


def test_enumeration_finds_silu_without_sketches():
    r = _lift(EXAMPLES / "silu.py", "silu_kernel", topdown=False)
    assert r.status == "verified", r.message
    assert r.formula_raw.endswith("out[i] = x[i] * sigmoid(x[i])")
    syn = r.proof.synthesis
    assert syn["strategy"] == "enumeration" and syn["mode"] == "no-topdown"
    assert syn["pruned"] > 0 and syn["solver_calls"] <= 3 < syn["enumerated"]


def test_enumeration_finds_a_reduction_and_a_two_input_body():
    r = _lift(EXAMPLES / "row_sum.py", "row_sum", topdown=False)
    assert r.status == "verified", r.message
    assert "sum(x[i, k] for k in range(x.shape[1]))" in r.formula_raw
    r = _lift(EXAMPLES / "vector_add.py", "add", topdown=False)
    assert r.status == "verified", r.message
    assert r.formula_raw == "output[i] = x[i] + y[i]"


def test_cheap_test_rejects_a_wrong_candidate_without_the_solver():
    p = _problem(EXAMPLES / "silu.py", "silu_kernel")
    (a,) = p.formula.assigns
    samples = draw_samples(p, a, count=5, seed=3)
    assert len(samples.points) == 5
    assert samples.passes(a.body)  # the body read off the spec agrees with the kernel
    x = next(n for n in ir.walk(a.body) if n.op is Op.READ)
    wrong = ir.mul(x, ir.math_fn(Op.SIGMOID, ir.neg(x)))  # x * sigmoid(-x): the sign slip of a mutant
    assert not samples.passes(wrong)
    right = ir.mul(x, ir.math_fn(Op.SIGMOID, x))
    assert samples.passes(right)


def test_samples_distinguish_a_transposition():
    p = _problem(EXAMPLES / "bias_add_2d.py", "bias_add_kernel")
    (a,) = p.formula.assigns
    samples = draw_samples(p, a, count=5, seed=0)
    assert samples.passes(a.body)
    i, j = (ir.var(n) for n in a.index)
    assert not samples.passes(ir.add(ir.read("x", j, i), ir.read("b", j)))
    assert not samples.passes(ir.add(ir.read("x", i, j), ir.read("b", i)))


def test_sketch_holes_prefer_a_smaller_equivalent_body():
    """silu_and_mul's derived body x / (1 + exp(-x)) * y is large: its holes are searched bottom-up."""
    r = _lift(EXAMPLES / "silu_and_mul.py", "silu_and_mul_kernel")
    assert r.status == "verified", r.message
    assert r.proof.synthesis["strategy"] == "sketch+holes"
    assert r.formula_raw.endswith("out[i] = x[i] * sigmoid(x[i]) * y[i]")
    small = _lift(EXAMPLES / "silu.py", "silu_kernel")  # not large: the derived body is kept
    assert small.proof.synthesis["strategy"] == "sketch" and "exp" in small.formula_raw


def test_no_prune_sends_more_candidates_to_the_solver():
    pruned = _lift(EXAMPLES / "silu_and_mul.py", "silu_and_mul_kernel")
    plain = _lift(EXAMPLES / "silu_and_mul.py", "silu_and_mul_kernel", prune=False)
    assert pruned.status == plain.status == "verified"
    a, b = pruned.proof.synthesis, plain.proof.synthesis
    assert a["mode"] == "default" and b["mode"] == "no-prune"
    assert b["cheap_tested"] == 0 and b["pruned"] == 0
    assert b["solver_calls"] > a["solver_calls"]


def test_baseline_sends_every_candidate_to_the_solver_and_says_so():
    r = _lift(EXAMPLES / "silu.py", "silu_kernel", baseline=True, search_seconds=1.0)
    assert r.status == "unknown"
    assert "search budget exhausted" in r.message and "0 pruned" in r.message


def test_baseline_fails_honestly_on_a_reduction_loop():
    r = _lift(EXAMPLES / "matvec.py", "matvec", baseline=True)
    assert r.status == "unknown" and r.counterexample is None
    assert "invariant patterns" in r.message
    assert _lift(EXAMPLES / "matvec.py", "matvec").status == "verified"


@pytest.mark.parametrize("name", ["matvec_kernel", "col_sum_kernel"])
def test_no_invariant_patterns_leaves_symbolic_loops_unknown(name: str):
    path = EXAMPLES / ("matvec.py" if name.startswith("matvec") else "col_sum.py")
    r = _lift(path, name, invariant_patterns=False)
    assert r.status == "unknown", r.status
    assert "no proof for every trip count" in r.message and ".py:" in r.message
    # loop-free kernels are not affected
    assert _lift(EXAMPLES / "row_sum.py", "row_sum_kernel", invariant_patterns=False).status == "verified"


@pytest.mark.parametrize("mutant", ["silu__wrong_constant", "vector_add__mask_minus_one"])
@pytest.mark.parametrize("mode", [{"topdown": False}, {"prune": False}, {"baseline": True}])
def test_mutants_are_never_verified_against_the_original_formula(mutant: str, mode: dict):
    """Whatever the search finds for a mutant, it is not the original's formula (that would be a wrong proof)."""
    original = mutant.split("__")[0]
    target = {"silu": "silu", "row_sum": "row_sum", "vector_add": "add"}[original]
    right = _lift(EXAMPLES / f"{original}.py", target, **mode)
    r = _lift(MUTANTS / f"{mutant}.py", target, search_seconds=1.0, **mode)
    assert r.status != "verified" or r.formula_raw != right.formula_raw


def test_modes_and_sketch_names():
    assert mode_of(Options()) == "default"
    assert mode_of(Options(topdown=False, prune=False)) == "no-topdown+no-prune"
    assert mode_of(Options(baseline=True)) == "baseline"
    x, y = ir.read("x", ir.var("i")), ir.read("y", ir.var("i"))
    assert sketch_of(ir.add(x, y)) == "map"
    row = ir.reduce(Op.SUM, "k", ir.ZERO, ir.var("N"), ir.read("x", ir.var("i"), ir.var("k")))
    assert sketch_of(row) == "reduce-over-axis"
    mv = ir.reduce(Op.SUM, "k", ir.ZERO, ir.var("N"), ir.mul(ir.read("A", ir.var("i"), ir.var("k")),
                                                            ir.read("v", ir.var("k"))))
    assert sketch_of(mv) == "matmul-like"


def test_grow_is_in_size_order_and_admit_prunes_the_bank():
    x = ir.read("x", ir.var("i"))
    g = Grammar([x, ir.const(1.0)])
    sizes = [n for _e, n in grow(g, 3, lambda e: True)]
    assert sizes == sorted(sizes) and sizes[0] == 1 and max(sizes) == 3
    everything = sum(1 for _ in grow(g, 4, lambda e: True))
    only_leaves = sum(1 for _ in grow(g, 4, lambda e: e.op is Op.READ or e.is_const))
    assert only_leaves < everything
    assert size(ir.add(x, x)) == 3


def test_unknown_results_say_what_the_cheap_tests_saw():
    from tritonlift.synth.search import unknown_note

    assert unknown_note({"samples": 5, "cheap_failed": 0}).startswith("the formula agreed with the kernel on all 5")
    assert "disagreed" in unknown_note({"samples": 5, "cheap_failed": 1})
    assert unknown_note({}) == ""  # no search ran (--expect): nothing to say
