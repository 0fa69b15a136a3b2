"""Whole-tensor form (ir/tensor_form.py): recognised exactly or not at all, and read back by ir.parse."""

from __future__ import annotations

import pytest

from tritonlift.ir.expr import ONE, Kind, var
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.parse import parse_expr, parse_formula
from tritonlift.ir.printer import formula_line
from tritonlift.ir.tensor_form import is_textbook, is_textbook_text

M, N, K = var("M"), var("N"), var("K")
SHAPES = {
    "x": (M, N),
    "y": (M, N),
    "b": (N,),
    "s": (M,),
    "A": (M, K),
    "B": (K, N),
    "v": (K,),
    "t": (N, M),
    "z": (M, N, K),
}
KINDS = {"eps": Kind.REAL, "alpha": Kind.REAL}


def _formula(text: str, out_shape=(M, N), index=("i", "j"), assumptions=()) -> Formula:
    tensors = [TensorDecl(n, shape, (ONE,) * len(shape), n) for n, shape in SHAPES.items()]
    tensors.append(TensorDecl("out", out_shape, (ONE,) * len(out_shape), "out"))
    extra = (Param("eps", "float"), Param("alpha", "float"))
    params = (*(Param(t.name, "tensor") for t in tensors), *extra)
    body = parse_expr(text, KINDS)
    return Formula("f", params, tuple(tensors), (Assign("out", index, body),), assumptions=assumptions)


CASES = [
    ("x[i, j] + alpha * y[i, j]", (M, N), ("i", "j"), "out = x + alpha * y"),
    ("x[i, j] + b[j]", (M, N), ("i", "j"), "out = x + b"),
    ("x[i, j] * s[i]", (M, N), ("i", "j"), "out = x * s[:, None]"),
    ("t[j, i]", (M, N), ("i", "j"), "out = t.T"),
    ("sum(x[i, k] for k in range(N))", (M,), ("i",), "out = x.sum(dim=1)"),
    ("max(x[k, i] for k in range(M))", (N,), ("i",), "out = x.amax(dim=0)"),
    ("softmax(x[i, k] for k in range(N))[j]", (M, N), ("i", "j"), "out = softmax(x, dim=1)"),
    (
        "layer_norm((x[i, k] for k in range(N)), eps)[j]",
        (M, N),
        ("i", "j"),
        "out = layer_norm(x, (N,), eps=eps)",
    ),
    ("sum(A[i, k] * B[k, j] for k in range(K))", (M, N), ("i", "j"), "out = A @ B"),
    ("softmax(z[i, k, l] for k in range(N))[j]", (M, N, K), ("i", "j", "l"), "out = softmax(z, dim=1)"),
    ("0.0", (M, N), ("i", "j"), "out = 0.0"),
    ("sum(A[i, k] * v[k] for k in range(K))", (M,), ("i",), "out = A @ v"),
]


@pytest.mark.parametrize(("text", "shape", "index", "want"), CASES, ids=[c[3] for c in CASES])
def test_whole_tensor_text_and_round_trip(text, shape, index, want):
    f = _formula(text, shape, index)
    assert formula_line(f, whole=True) == want
    assert is_textbook(f) and is_textbook_text(want)
    back = parse_formula(want, name="f", params=f.params, tensors={t.name: t for t in f.tensors}, kinds=KINDS)
    # read back up to the names of the indices: the indexed text of both agrees after renaming
    renamed = formula_line(back).replace("i1", "i").replace("i2", "j").replace("i3", "l")
    assert renamed.replace("k2", "k").replace("k3", "k").replace("k4", "k") == formula_line(f), renamed


NOT_WHOLE = [
    ("sum(x[i, k] for k in range(N - 1))", (M,), ("i",)),  # not the full axis
    ("x[i, j] + b[i]", (M, N), ("i", "j")),  # b has extent N, indexed by i of extent M
    ("x[0, j]", (M, N), ("i", "j")),  # a fixed row
    ("x[i, j] * float(i)", (M, N), ("i", "j")),  # the index itself is a value
    ("sum(A[i, k] * v[k] for k in range(K))", (N,), ("i",)),  # out's extent is not A's
]


@pytest.mark.parametrize(("text", "shape", "index"), NOT_WHOLE, ids=[c[0] for c in NOT_WHOLE])
def test_stays_indexed_when_the_pattern_does_not_apply_exactly(text, shape, index):
    f = _formula(text, shape, index)
    assert formula_line(f, whole=True) == formula_line(f)
    assert not is_textbook(f) and not is_textbook_text(formula_line(f))


def test_assumed_equal_sizes_count_as_the_same_extent():
    f = _formula("sum(A[i, k] * v[k] for k in range(K))", (N,), ("i",), assumptions=("N == M",))
    assert formula_line(f, whole=True) == "out = A @ v"
