"""Named operators (silu, gelu, softmax, layer_norm, ...) defined in terms of the base IR: `expand`.

A named operator is shorthand, never a new primitive: every back end that has no notation of its own for
one (the z3 translation, the concrete evaluator) uses its definition here, so a simplified formula means
exactly what its expansion means. The constants of the GELU definitions are PyTorch's float64 values
(`M_SQRT1_2`, `M_SQRT2 * M_2_SQRTPI * 0.5`, 0.044715), so `gelu(x)` is `torch.nn.functional.gelu(x)`.
"""

from __future__ import annotations

from tritonlift.ir.expr import (
    NAMED_OPS,
    Expr,
    Op,
    add,
    compare,
    const,
    contains,
    div,
    free_vars,
    math_fn,
    maximum,
    minimum,
    mul,
    reduce,
    row,
    sub,
    substitute,
    to_real,
    transform,
    var,
    where,
)

INV_SQRT2 = 0.7071067811865476  # float64(1 / sqrt(2)), PyTorch's M_SQRT1_2
SQRT_2_OVER_PI = 0.7978845608028654  # float64(sqrt(2 / pi)), PyTorch's M_SQRT2 * M_2_SQRTPI * 0.5
GELU_TANH_CUBIC = 0.044715


def fresh_index(base: str, avoid: set[str]) -> str:
    """An index name like `base` that is not in `avoid`."""
    n = 1
    while f"{base}_{n}" in avoid:
        n += 1
    return f"{base}_{n}"


def row_at(e: Expr) -> Expr:
    """The element `body[index := at]` of a row-valued operator's row."""
    return substitute(e.args[2], {var(e.attr): e.args[3]})


def _half_x_times(x: Expr, inner: Expr) -> Expr:
    return mul(mul(const(0.5), x), add(const(1.0), inner))


def _row_mean(index: str, lo: Expr, hi: Expr, body: Expr) -> Expr:
    return div(reduce(Op.SUM, index, lo, hi, body), to_real(sub(hi, lo)))


def _variance(e: Expr) -> Expr:
    lo, hi, body = e.args[:3]
    k = e.attr
    k2 = fresh_index(k, free_vars(body) | {k})
    mean = row(Op.MEAN, k2, lo, hi, substitute(body, {var(k): var(k2)}))
    dev = sub(body, mean)
    return row(Op.MEAN, k, lo, hi, mul(dev, dev))


def expand(e: Expr) -> Expr:
    """The definition of a named operator node in terms of other ops (one level); other nodes unchanged."""
    a = e.args
    match e.op:
        case Op.SILU:
            return mul(a[0], math_fn(Op.SIGMOID, a[0]))
        case Op.GELU:
            return _half_x_times(a[0], math_fn(Op.ERF, mul(a[0], const(INV_SQRT2))))
        case Op.GELU_TANH:
            x = a[0]
            cubic = add(x, mul(mul(mul(const(GELU_TANH_CUBIC), x), x), x))
            return _half_x_times(x, math_fn(Op.TANH, mul(const(SQRT_2_OVER_PI), cubic)))
        case Op.RELU:
            return where(compare(Op.GT, a[0], const(0.0)), a[0], const(0.0))
        case Op.LEAKY_RELU:
            return where(compare(Op.GT, a[0], const(0.0)), a[0], mul(a[1], a[0]))
        case Op.CLAMP:
            return minimum(maximum(a[0], a[1]), a[2])
        case Op.SOFTPLUS:
            return math_fn(Op.LOG, add(const(1.0), math_fn(Op.EXP, a[0])))
        case Op.MEAN:
            return _row_mean(e.attr, *a)
        case Op.VARIANCE:
            return _variance(e)
        case Op.LOGSUMEXP:
            return math_fn(Op.LOG, reduce(Op.SUM, e.attr, a[0], a[1], math_fn(Op.EXP, a[2])))
        case Op.SOFTMAX:
            total = reduce(Op.SUM, e.attr, a[0], a[1], math_fn(Op.EXP, a[2]))
            return div(math_fn(Op.EXP, row_at(e)), total)
        case Op.LOG_SOFTMAX:
            return sub(row_at(e), row(Op.LOGSUMEXP, e.attr, a[0], a[1], a[2]))
        case Op.LAYER_NORM:
            mean = row(Op.MEAN, e.attr, a[0], a[1], a[2])
            variance = row(Op.VARIANCE, e.attr, a[0], a[1], a[2])
            return div(sub(row_at(e), mean), math_fn(Op.SQRT, add(variance, a[4])))
        case Op.RMS_NORM:
            mean_sq = row(Op.MEAN, e.attr, a[0], a[1], mul(a[2], a[2]))
            return div(row_at(e), math_fn(Op.SQRT, add(mean_sq, a[4])))
        case Op.STD:
            return math_fn(Op.SQRT, row(Op.VARIANCE, e.attr, a[0], a[1], a[2]))
        case Op.NORMALIZE:
            norm = math_fn(Op.SQRT, reduce(Op.SUM, e.attr, a[0], a[1], mul(a[2], a[2])))
            return div(row_at(e), maximum(norm, a[4]))
    return e


def expand_all(e: Expr) -> Expr:
    """`e` with every named operator replaced by its definition, recursively (only base IR remains)."""

    def step(node: Expr) -> Expr | None:
        if node.op not in NAMED_OPS:
            return None
        return expand_all(expand(node))

    return transform(e, step)


def has_named(e: Expr) -> bool:
    return contains(e, lambda n: n.op in NAMED_OPS)


__all__ = ["INV_SQRT2", "SQRT_2_OVER_PI", "expand", "expand_all", "fresh_index", "row_at"]
