"""Named operators: each definition (ir.named) computes what PyTorch's function of that name computes,
and every back end (text, LaTeX, torch, evaluator, z3) understands each named op."""

from __future__ import annotations

import math
import random

import pytest
import torch
import z3

from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import NAMED_ELEMENTWISE_OPS, ROW_OPS, ZERO, Kind, Op, named, read, row, var
from tritonlift.ir.latex import to_latex
from tritonlift.ir.named import expand, expand_all, has_named
from tritonlift.ir.parse import parse_expr
from tritonlift.ir.printer import to_text
from tritonlift.verify.z3_backend import Z3Ctx, math_axioms

F = torch.nn.functional
SEED = 7
a, s, lo, hi = (var(n, Kind.REAL) for n in ("a", "s", "lo", "hi"))
ELEMENTWISE = {
    Op.SILU: ((a,), lambda v: F.silu(v)),
    Op.GELU: ((a,), lambda v: F.gelu(v)),
    Op.GELU_TANH: ((a,), lambda v: F.gelu(v, approximate="tanh")),
    Op.RELU: ((a,), lambda v: F.relu(v)),
    Op.LEAKY_RELU: ((a, s), lambda v: F.leaky_relu(v, 0.3)),
    Op.CLAMP: ((a, lo, hi), lambda v: torch.clamp(v, -0.5, 1.25)),
    Op.SOFTPLUS: ((a,), lambda v: F.softplus(v)),
}


def test_every_named_op_has_a_definition():
    for op in NAMED_ELEMENTWISE_OPS:
        e = named(op, *ELEMENTWISE[op][0])
        assert not has_named(expand(e)), op
    assert set(ELEMENTWISE) == NAMED_ELEMENTWISE_OPS


@pytest.mark.parametrize("op", sorted(ELEMENTWISE, key=lambda o: o.value), ids=lambda o: o.name)
def test_elementwise_definition_is_torch(op):
    args, fn = ELEMENTWISE[op]
    e = named(op, *args)
    rng = random.Random(SEED)
    for _ in range(200):
        v = rng.uniform(-6, 6)
        got = evaluate(e, Env(vars={"a": v, "s": 0.3, "lo": -0.5, "hi": 1.25}))
        want = fn(torch.tensor(v, dtype=torch.float64)).item()
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (op, v, got, want)


@pytest.mark.parametrize("op", sorted(ELEMENTWISE, key=lambda o: o.value), ids=lambda o: o.name)
def test_elementwise_prints_and_parses(op):
    e = named(op, *ELEMENTWISE[op][0])
    assert parse_expr(to_text(e), {"a": Kind.REAL, "s": Kind.REAL, "lo": Kind.REAL, "hi": Kind.REAL}) == e
    assert to_latex(e).startswith(r"\operatorname")


@pytest.mark.parametrize("op", sorted(ELEMENTWISE, key=lambda o: o.value), ids=lambda o: o.name)
def test_z3_translates_named_ops_by_their_definition(op):
    e = named(op, *ELEMENTWISE[op][0])
    cx = Z3Ctx({})
    left, right = cx(e), cx(expand(e))
    solver = z3.Solver()
    solver.add(*math_axioms(cx), left != right)
    assert solver.check() == z3.unsat


x_ik = read("x", var("i"), var("k"))
ROWS = {
    Op.SOFTMAX: (row(Op.SOFTMAX, "k", ZERO, var("n"), x_ik, var("j")), lambda t: torch.softmax(t, dim=1)),
    Op.LOG_SOFTMAX: (
        row(Op.LOG_SOFTMAX, "k", ZERO, var("n"), x_ik, var("j")),
        lambda t: torch.log_softmax(t, dim=1),
    ),
    Op.LOGSUMEXP: (row(Op.LOGSUMEXP, "k", ZERO, var("n"), x_ik), lambda t: torch.logsumexp(t, dim=1)),
    Op.MEAN: (row(Op.MEAN, "k", ZERO, var("n"), x_ik), lambda t: t.mean(dim=1)),
    Op.VARIANCE: (row(Op.VARIANCE, "k", ZERO, var("n"), x_ik), lambda t: t.var(dim=1, correction=0)),
    Op.LAYER_NORM: (
        row(Op.LAYER_NORM, "k", ZERO, var("n"), x_ik, var("j"), var("eps", Kind.REAL)),
        lambda t: F.layer_norm(t, (t.shape[1],), eps=1e-5),
    ),
    Op.RMS_NORM: (
        row(Op.RMS_NORM, "k", ZERO, var("n"), x_ik, var("j"), var("eps", Kind.REAL)),
        lambda t: F.rms_norm(t, (t.shape[1],), eps=1e-5),
    ),
    Op.STD: (row(Op.STD, "k", ZERO, var("n"), x_ik), lambda t: t.std(dim=1, correction=0)),
    Op.NORMALIZE: (
        row(Op.NORMALIZE, "k", ZERO, var("n"), x_ik, var("j"), var("eps", Kind.REAL)),
        lambda t: F.normalize(t, p=2.0, dim=1, eps=1e-5),
    ),
}


@pytest.mark.parametrize("op", sorted(ROWS, key=lambda o: o.value), ids=lambda o: o.name)
def test_row_definition_is_torch(op):
    e, fn = ROWS[op]
    assert set(ROWS) == ROW_OPS
    assert not has_named(expand_all(e))
    gen = torch.Generator().manual_seed(SEED)
    t = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    want = fn(t)
    for i in range(3):
        for j in range(5):
            env = Env(vars={"i": i, "j": j, "n": 5, "eps": 1e-5}, read=lambda name, idx: t[idx].item())
            got = evaluate(e, env)
            w = want[i].item() if want.ndim == 1 else want[i, j].item()
            assert math.isclose(got, w, rel_tol=1e-9, abs_tol=1e-12), (op, i, j, got, w)
    assert parse_expr(to_text(e), {"eps": Kind.REAL}) == e
    assert to_latex(e)
