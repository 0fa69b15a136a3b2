"""Whole-tensor form (ir/tensor_form.py): recognised exactly or not at all, and read back by ir.parse."""

from __future__ import annotations

import pytest

from tritonlift.ir.expr import ONE, Kind, var
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.parse import parse_expr, parse_formula
from tritonlift.ir.printer import formula_line
from tritonlift.ir.tensor_form import is_textbook, is_textbook_text

M, N, K = var("M"), var("N"), var("K")
SHAPES = {"x": (M, N), "y": (M, N), "b": (N,), "s": (M,), "A": (M, K), "B": (K, N), "v": (K,), "t": (N, M), "z": (M, K, N), "P": (M, N, K), "Q": (M, K, N)}
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
    ("sum(z[i, k, j] for k in range(K))", (M, N), ("i", "j"), "out = z.sum(dim=1)"),
    ("softmax(z[i, j, k] for k in range(N))[l]", (M, K, N), ("i", "j", "l"), "out = softmax(z, dim=2)"),
    ("softmax(x[i, k] for k in range(N))[j]", (M, N), ("i", "j"), "out = softmax(x, dim=1)"),
    ("softmax(t[k, i] for k in range(N))[j]", (M, N), ("i", "j"), "out = softmax(t.T, dim=1)"),
    ("softmax(x[k, j] for k in range(M))[i]", (M, N), ("i", "j"), "out = softmax(x, dim=0)"),
    (
        "layer_norm((x[i, k] for k in range(N)), eps)[j]",
        (M, N),
        ("i", "j"),
        "out = layer_norm(x, (N,), eps=eps)",
    ),
    (
        "layer_norm((x[i, k] for k in range(N)), eps)[j] * b[j] + b[j]",
        (M, N),
        ("i", "j"),
        "out = layer_norm(x, (N,), weight=b, bias=b, eps=eps)",
    ),
    (
        "layer_norm((x[i, k] for k in range(N)), eps)[j] + b[j]",
        (M, N),
        ("i", "j"),
        "out = layer_norm(x, (N,), bias=b, eps=eps)",
    ),
    (
        "rms_norm((x[i, k] for k in range(N)), eps)[j] * b[j]",
        (M, N),
        ("i", "j"),
        "out = rms_norm(x, (N,), weight=b, eps=eps)",
    ),
    (  # rms_norm has no bias: the sum stays a sum
        "rms_norm((x[i, k] for k in range(N)), eps)[j] + b[j]",
        (M, N),
        ("i", "j"),
        "out = rms_norm(x, (N,), eps=eps) + b",
    ),
    (  # a factor along the rows is no weight
        "layer_norm((x[i, k] for k in range(N)), eps)[j] * s[i]",
        (M, N),
        ("i", "j"),
        "out = layer_norm(x, (N,), eps=eps) * s[:, None]",
    ),
    ("normalize((x[i, k] for k in range(N)), eps)[j]", (M, N), ("i", "j"), "out = normalize(x, dim=1, eps=eps)"),
    ("std(x[i, k] for k in range(N))", (M,), ("i",), "out = x.std(dim=1, correction=0)"),
    ("variance(x[k, i] for k in range(M))", (N,), ("i",), "out = x.var(dim=0, correction=0)"),
    ("sum(A[i, k] * B[k, j] for k in range(K))", (M, N), ("i", "j"), "out = A @ B"),
    ("softmax(P[i, k, l] for k in range(N))[j]", (M, N, K), ("i", "j", "l"), "out = softmax(P, dim=1)"),
    ("0.0", (M, N), ("i", "j"), "out = 0.0"),
    ("sum(A[i, k] * v[k] for k in range(K))", (M,), ("i",), "out = A @ v"),
    ("sum(P[i, j, k] * Q[i, k, l] for k in range(K))", (M, N, N), ("i", "j", "l"), "out = P @ Q"),
]


@pytest.mark.parametrize(("text", "shape", "index", "want"), CASES, ids=[c[3] for c in CASES])
def test_whole_tensor_text_and_round_trip(text, shape, index, want):
    f = _formula(text, shape, index)
    assert formula_line(f, whole=True) == want
    assert is_textbook(f) and is_textbook_text(want)
    back = parse_formula(want, name="f", params=f.params, tensors={t.name: t for t in f.tensors}, kinds=KINDS)
    # read back up to the names of the indices: the indexed text of both agrees after renaming
    renamed = formula_line(back).replace("i1", "i").replace("i2", "j").replace("i3", "l")
    for k in ("k2", "k3", "k4"):
        renamed = renamed.replace(k, "k")
    assert renamed == formula_line(f), renamed


NOT_WHOLE = [
    ("sum(x[i, k] for k in range(N - 1))", (M,), ("i",)),  # not the full axis
    ("x[i, j] + b[i]", (M, N), ("i", "j")),  # b has extent N, indexed by i of extent M
    ("x[0, j]", (M, N), ("i", "j")),  # a fixed row
    ("x[i, j] * float(i)", (M, N), ("i", "j")),  # the index itself is a value
    ("sum(A[i, k] * v[k] for k in range(K))", (N,), ("i",)),  # out's extent is not A's
    ("sum(z[j, k, i] for k in range(K))", (N, M), ("i", "j")),  # what is left is z's dims swapped
]


@pytest.mark.parametrize(("text", "shape", "index"), NOT_WHOLE, ids=[c[0] for c in NOT_WHOLE])
def test_stays_indexed_when_the_pattern_does_not_apply_exactly(text, shape, index):
    f = _formula(text, shape, index)
    assert formula_line(f, whole=True) == formula_line(f)
    assert not is_textbook(f) and not is_textbook_text(formula_line(f))


def test_assumed_equal_sizes_count_as_the_same_extent():
    f = _formula("sum(A[i, k] * v[k] for k in range(K))", (N,), ("i",), assumptions=("N == M",))
    assert formula_line(f, whole=True) == "out = A @ v"


@pytest.mark.parametrize(
    "text",
    [
        "out = x.var(dim=1)",  # PyTorch's default is correction=1: not the population variance
        "out = x.std(dim=1, correction=1)",
        "out = rms_norm(x, (N,), bias=b, eps=eps)",
        "out = normalize(x, dim=1, weight=b, eps=eps)",
        "out = layer_norm(x, (N,), weight=x, eps=eps)",  # a weight is a vector
    ],
)
def test_text_forms_that_mean_something_else_are_refused(text):
    f = _formula("std(x[i, k] for k in range(N))", (M,), ("i",))
    with pytest.raises(ValueError):
        parse_formula(text, name="f", params=f.params, tensors={t.name: t for t in f.tensors}, kinds=KINDS)


def test_kernel_views_shown_inline_read_back():
    """`out_ptr.view(M) = inp_ptr.view(M, N).sum(dim=1)`: views of pointer memory in C order, inline."""
    from tritonlift.ir.expr import read
    from tritonlift.ir.printer import contiguous_strides

    params = (Param("inp_ptr", "tensor"), Param("out_ptr", "tensor"), Param("M", "int"), Param("N", "int"))
    inp = TensorDecl("inp", (M, N), (N, ONE), "inp_ptr")
    out = TensorDecl("out", (M,), (ONE,), "out_ptr")
    body = parse_expr("sum(inp[i, k] for k in range(N)) + inp[i, 0]")  # indexed: declarations stay
    f = Formula("k", params, (out, inp), (Assign("out", ("i",), body),))
    assert formula_line(f, whole=True) == (
        "out = out_ptr.view(M); inp = inp_ptr.view(M, N); out[i] = sum(inp[i, k] for k in range(N)) + inp[i, 0]"
    )
    whole = Formula("k", params, (out, inp), (Assign("out", ("i",), parse_expr("sum(inp[i, k] for k in range(N))")),))
    text = formula_line(whole, whole=True)
    assert text == "out_ptr.view(M) = inp_ptr.view(M, N).sum(dim=1)"
    assert is_textbook_text(text) and not is_textbook_text(formula_line(f, whole=True))
    back = parse_formula(text, name="k", params=params, tensors={})
    (a,) = back.assigns
    views = {t.name: t for t in back.tensors}
    assert views[a.target].base == "out_ptr" and views[a.target].shape == (M,)
    src = next(t for t in back.tensors if t.base == "inp_ptr")
    assert src.shape == (M, N) and src.strides == contiguous_strides((M, N)) == (N, ONE)
    assert a.body.op.name == "SUM" and a.body.args[2] == read(src.name, var(a.index[0]), var(a.body.attr))
    # the same view twice is one declaration; a strided view stays declared
    twice = parse_formula("o_ptr.view(M) = x_ptr.view(M) * x_ptr.view(M)", name="k",
                          params=(Param("x_ptr", "tensor"), Param("o_ptr", "tensor")), tensors={})  # fmt: skip
    assert len(twice.tensors) == 2
    assert is_textbook_text("x = as_strided(x_ptr, (M, N), (s0, s1)); o_ptr.view(M) = x.sum(dim=1)")
    assert not is_textbook_text("o = o_ptr.view(M); o[i] = x[i]")
