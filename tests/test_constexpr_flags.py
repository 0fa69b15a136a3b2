"""Constexpr paths that compute different functions: a fault only when the kernel's heuristics choose the
path (every choice the launch may make must compute the same thing); a flag the caller sets selects one of
several functions, so the formula of one path failing on another is not a counterexample to the kernel."""

from __future__ import annotations

from pathlib import Path

from tritonlift.api import lift_file

DATA = Path(__file__).parent / "data" / "constexpr_flags.py"


def test_caller_set_flag_selecting_functions_is_not_refuted() -> None:
    (r,) = lift_file(DATA, op="act_kernel")
    assert r.status == "unknown", (r.status, r.message)
    assert "USE_EXP set by the caller" in r.message, r.message


def test_heuristic_chosen_paths_that_disagree_are_refuted() -> None:
    (r,) = lift_file(DATA, op="even_kernel")
    assert r.status == "refuted", (r.status, r.message)
    assert r.counterexample is not None
