"""Operator-shaped sketches: which shape a derived body has, read off the spec (not off the kernel's name).

The top-down step (synth/derive.py, synth/operator.py) reads the body of each output off the kernel's stored
value, so the sketch is not chosen from a list and then filled: it *is* the shape of that value. This module
names the shape, for the report and for the search's statistics:

- `map`: no reduction, `out[idx] = f(inputs[idx])`;
- `reduce-over-axis`: the body is one reduction (`sum/max/min` over an axis), possibly scaled or cast;
- `matmul-like`: a sum over products of two different inputs;
- `softmax-like`: `exp(.. - max ..)` normalised by a sum of exponentials, or `.. - log(sum(exp ..))`;
- `normalise-by-reduction`: an input at the output index divided or multiplied by an expression over a
  reduction (l2 / rms / layer normalisation);
- `reduce-combination`: any other combination of reductions.
"""

from __future__ import annotations

from tritonlift.ir import expr as ir
from tritonlift.ir.expr import REDUCE_OPS, Expr, Op


def sketch_of(body: Expr) -> str:
    nodes = list(ir.walk(body))
    reds = [n for n in nodes if n.op in REDUCE_OPS or n.op in ir.ARG_OPS]
    if not reds:
        return "map"
    if any(_is_product_sum(r) for r in reds):
        return "matmul-like"
    if _softmax_like(body, reds):
        return "softmax-like"
    top = body
    while top.op in (Op.CAST, Op.NEG) or (top.op in (Op.MUL, Op.DIV) and any(a.is_const for a in top.args)):
        top = next(a for a in top.args if not a.is_const)
    if top.op in REDUCE_OPS or top.op in ir.ARG_OPS:
        return "reduce-over-axis"
    outer_reads = [n for n in nodes if n.op is Op.READ and not any(n in set(ir.walk(r)) for r in reds)]
    if outer_reads and any(n.op in (Op.DIV, Op.MUL, Op.RSQRT) for n in nodes):
        return "normalise-by-reduction"
    return "reduce-combination"


def _is_product_sum(r: Expr) -> bool:
    if r.op is not Op.SUM:
        return False
    body = r.args[2]
    if body.op is not Op.MUL:
        return False
    tensors = [{n.attr for n in ir.walk(a) if n.op is Op.READ} for a in body.args]
    return all(tensors) and tensors[0] != tensors[1]


def _softmax_like(body: Expr, reds: list[Expr]) -> bool:
    has_max = any(r.op is Op.RMAX for r in reds)
    sum_of_exp = any(r.op is Op.SUM and any(n.op in (Op.EXP, Op.EXP2) for n in ir.walk(r.args[2])) for r in reds)
    return sum_of_exp and (has_max or any(n.op in (Op.LOG, Op.DIV) for n in ir.walk(body)))
