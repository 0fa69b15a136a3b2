"""Mutation tests: broken copies of examples must be refuted, rewrites equal over the reals verified.

tests/mutants/<example>__<mutation>.py and tests/rewrites/<example>__<rewrite>.py are whole copies of an
example (same kernel and host names) with one change, under a header of `# key: value` lines:
  mutant-of / rewrite-of  the example copied;   target  the host or kernel whose formula is compared;
  mutation / rewrite      the change in words;  plain: refuted  refuted even with no reference formula
                          (the host's output is left partly unwritten);
  witness                 sizes that expose the mutant in the interpreter ('any', 'n=1048577', or 'none (why)').
The check: lift the original, take the formula of the target, lift the copy with Options(expect=formula)
and op=target. Each copy is also run in the interpreter, so a mutant is known to be wrong and a rewrite
known to be right independently of tritonlift.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import interp

MUTANTS = [interp.read_variant(p) for p in interp.mutant_paths()]
REWRITES = [interp.read_variant(p) for p in interp.rewrite_paths()]
PLAIN = [v for v in MUTANTS if v.plain_refuted]
WITNESSED = [v for v in MUTANTS if v.witness is not None]
VARIANTS = MUTANTS + REWRITES


def ids(variants: list[interp.Variant]) -> list[str]:
    return [v.path.stem for v in variants]


def test_enough_mutants():
    per_example = Counter(v.original.name for v in MUTANTS)
    assert sum(1 for n in per_example.values() if n >= 2) >= 8, per_example
    assert REWRITES


@pytest.mark.parametrize("variant", VARIANTS, ids=ids(VARIANTS))
def test_variant_is_a_copy_of_its_example(variant: interp.Variant):
    """Same kernels, helpers and hosts as the original; the target exists; the text really changed."""
    assert variant.original.is_file(), f"{variant.path.name}: no {variant.original}"
    assert variant.path.stem.startswith(variant.original.stem + "__")
    assert interp.jit_functions(variant.path) == interp.jit_functions(variant.original)
    assert set(interp.launches_by_host(variant.path)) == set(interp.launches_by_host(variant.original))
    interp.host_of(variant.original, variant.target)
    code = variant.path.read_text().split('"""', 2)[2]
    assert code.strip() not in variant.original.read_text(), f"{variant.path.name}: nothing was changed"
    assert variant.change, f"{variant.path.name}: say what was changed"


def _original_formula(variant: interp.Variant) -> str:
    r = interp.result_named(interp.lift_cached(variant.original), variant.target)
    if r.status != "verified" or not r.formula:
        pytest.fail(f"the original {variant.original.name}:{variant.target} is {r.status}: {r.message}")
    return r.formula


@pytest.mark.parametrize("variant", MUTANTS, ids=ids(MUTANTS))
def test_mutant_refuted_against_original(variant: interp.Variant):
    formula = _original_formula(variant)
    results = interp.lift_cached(variant.path, variant.target, formula)
    r = interp.result_named(results, variant.target)
    assert r.status == "refuted", f"{variant.change}: {r.status}: {r.message} (expected {formula})"
    assert r.counterexample is not None, f"{variant.target}: refuted without a counterexample"


@pytest.mark.parametrize("variant", PLAIN, ids=ids(PLAIN))
def test_mutant_refuted_without_reference(variant: interp.Variant):
    """The host allocates the output and the mutant leaves part of it unwritten: wrong on its own."""
    r = interp.result_named(interp.lift_cached(variant.path, variant.target), variant.target)
    assert r.status == "refuted", f"{variant.change}: {r.status}: {r.formula or r.message}"
    assert r.counterexample is not None, f"{variant.target}: refuted without a counterexample"


@pytest.mark.parametrize("variant", REWRITES, ids=ids(REWRITES))
def test_rewrite_verified_against_original(variant: interp.Variant):
    formula = _original_formula(variant)
    results = interp.lift_cached(variant.path, variant.target, formula)
    r = interp.result_named(results, variant.target)
    assert r.status == "verified", f"{variant.change}: {r.status}: {r.message} (expected {formula})"


@pytest.mark.parametrize("variant", WITNESSED, ids=ids(WITNESSED))
def test_mutant_differs_in_interpreter(variant: interp.Variant):
    """The mutant is really wrong: on some input its host disagrees with the original's reference."""
    original = interp.load_module(variant.original)
    mutant = interp.load_module(variant.path)
    host = interp.host_of(variant.original, variant.target)
    specs = interp.input_specs(original, host)
    tried = []
    for trial in range(8):
        chooser = interp.RandomChooser(random.Random(trial))
        args = interp.make_inputs(specs, chooser, variant.witness, strided=trial % 2 == 1)
        result, _ = interp.run_host(mutant, host, args)
        if interp.differs(result, interp.run_reference(original, host, args)):
            return
        tried.append(interp.describe(args))
    pytest.fail(f"{variant.path.name} agreed with the reference on every try: {tried}")


@pytest.mark.parametrize("variant", REWRITES, ids=ids(REWRITES))
@settings(max_examples=8, deadline=None, phases=interp.PHASES)
@given(data=st.data())
def test_rewrite_agrees_in_interpreter(variant: interp.Variant, data: st.DataObject):
    original = interp.load_module(variant.original)
    rewrite = interp.load_module(variant.path)
    host = interp.host_of(variant.original, variant.target)
    args = interp.make_inputs(interp.input_specs(original, host), interp.HypothesisChooser(data))
    result, _ = interp.run_host(rewrite, host, args)
    interp.assert_same(result, interp.run_reference(original, host, args), f"{host}({interp.describe(args)})")
