"""Simplification: egglog rewriting of verified formulas into their textbook form (see engine.py)."""

from tritonlift.simplify.engine import Budget, Simplified, simplify_formula

__all__ = ["Budget", "Simplified", "simplify_formula"]
