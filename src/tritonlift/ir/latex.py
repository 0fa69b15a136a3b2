"""LaTeX printer: Exprs and Formulas in textbook notation (x_{i,j}, \\frac, \\sum, cases)."""

from __future__ import annotations

import math
import re
from typing import Any

from tritonlift.ir.expr import ONE, ZERO, Expr, Kind, Op, sub
from tritonlift.ir.formula import Formula
from tritonlift.ir.printer import (
    P_ADD,
    P_AND,
    P_ATOM,
    P_CMP,
    P_MUL,
    P_OR,
    P_UNARY,
    Handler,
    Render,
    Src,
)
from tritonlift.ir.printer import render as _render

P_BIGOP = 9  # \sum, \max_k: looser than + so that `(\sum_k a_k) + b` keeps its parentheses
P_POW = 13

_LOWER_GREEK = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau phi chi psi omega"
GREEK = frozenset(_LOWER_GREEK.split(" ")) | {
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Pi",
    "Sigma",
    "Phi",
    "Psi",
    "Omega",
}
_ESCAPES = {
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "\\": r"\backslash{}",
}
_ESCAPES |= {"^": r"\wedge{}", "~": r"\sim{}"}


def latex_name(name: str) -> str:
    """A name in math mode: `x`, `\\alpha`, or `\\mathrm{n\\_elements}` for longer names."""
    if len(name) == 1 and name.isalpha():
        return name
    if name in GREEK:
        return "\\" + name
    return r"\mathrm{" + re.sub(r"[_{}#$%&\\^~]", lambda m: _ESCAPES[m.group()], name) + "}"


def _group(src: Src, prec: int, strict: bool = False) -> str:
    text, p = src
    return rf"\left({text}\right)" if p < prec or (strict and p == prec) else text


def _infix(tok: str, prec: int) -> Handler:
    def handler(e: Expr, r: Render) -> Src:
        a, b = r(e.args[0]), r(e.args[1])
        right = _group(b, prec, strict=True)
        if prec >= P_ADD and b[1] == P_UNARY:  # a - (-b)
            right = rf"\left({b[0]}\right)"
        return f"{_group(a, prec)} {tok} {right}", prec

    return handler


def _bit_infix(tok: str) -> Handler:
    """A bit operation: its operands in parentheses unless atomic, itself as loose as a comparison (textbooks
    agree on no precedence for these)."""
    return lambda e, r: (
        f"{_group(r(e.args[0]), P_UNARY)} {tok} {_group(r(e.args[1]), P_UNARY)}",
        P_CMP,
    )


def _compare(tok: str) -> Handler:
    return lambda e, r: (
        f"{_group(r(e.args[0]), P_CMP, True)} {tok} {_group(r(e.args[1]), P_CMP, True)}",
        P_CMP,
    )


def _fn(name: str) -> Handler:
    return lambda e, r: (rf"{name}\left({', '.join(r(a)[0] for a in e.args)}\right)", P_ATOM)


def _wrap(left: str, right: str) -> Handler:
    return lambda e, r: (f"{left}{r(e.args[0])[0]}{right}", P_ATOM)


def _const(e: Expr, r: Render) -> Src:
    v = e.value
    if isinstance(v, bool):
        return (r"\mathrm{true}" if v else r"\mathrm{false}"), P_ATOM
    if isinstance(v, float) and math.isnan(v):
        return r"\mathrm{NaN}", P_ATOM
    if isinstance(v, float) and math.isinf(v):
        return (r"\infty" if v > 0 else r"-\infty"), P_ATOM if v > 0 else P_UNARY
    integral = isinstance(v, float) and v.is_integer() and abs(v) < 1e16
    text = str(int(v)) if integral else repr(v)  # textbook: 2 rather than 2.0
    if "e" in text:
        mantissa, exp = text.split("e")
        power = f"10^{{{int(exp)}}}"
        text = power if mantissa in ("1", "-1") else rf"{mantissa} \cdot {power}"
        text = "-" + text if mantissa == "-1" else text
    return text, P_UNARY if text.startswith("-") else P_ATOM


def _read(e: Expr, r: Render) -> Src:
    name = latex_name(str(e.attr))
    if not e.args:
        return name, P_ATOM
    return f"{name}_{{{','.join(r(a)[0] for a in e.args)}}}", P_ATOM


def _cast(e: Expr, r: Render) -> Src:
    if e.kind is Kind.REAL:  # int -> real is the identity on numbers
        return r(e.args[0])
    return rf"\operatorname{{{e.attr}}}\left({r(e.args[0])[0]}\right)", P_ATOM


def _where(e: Expr, r: Render) -> Src:
    c, a, b = (r(x)[0] for x in e.args)
    return rf"\begin{{cases}} {a} & \text{{if }} {c} \\ {b} & \text{{otherwise}} \end{{cases}}", P_ATOM


def _floordiv(e: Expr, r: Render) -> Src:
    a, b = r(e.args[0]), r(e.args[1])
    return rf"\left\lfloor {_group(a, P_MUL)} / {_group(b, P_MUL, True)} \right\rfloor", P_ATOM


def _pow(e: Expr, r: Render) -> Src:
    return f"{_group(r(e.args[0]), P_ATOM)}^{{{r(e.args[1])[0]}}}", P_POW


def _reduce(e: Expr, r: Render) -> Src:
    lo, hi, body = e.args
    k = latex_name(str(e.attr))
    if e.op in (Op.SUM, Op.PROD):
        big = r"\sum" if e.op is Op.SUM else r"\prod"
        head = f"{big}_{{{k}={r(lo)[0]}}}^{{{r(sub(hi, ONE))[0]}}}"
    else:
        big = r"\max" if e.op is Op.RMAX else r"\min"
        head = f"{big}_{{{k} < {r(hi)[0]}}}" if lo == ZERO else f"{big}_{{{r(lo)[0]} \\le {k} < {r(hi)[0]}}}"
    return f"{head} {_group(r(body), P_MUL)}", P_BIGOP


def _range_head(name: str, e: Expr, r: Render) -> str:
    lo, hi = e.args[0], e.args[1]
    k = latex_name(str(e.attr))
    bounds = f"{k} < {r(hi)[0]}" if lo == ZERO else f"{r(lo)[0]} \\le {k} < {r(hi)[0]}"
    return rf"\operatorname{{{name}}}_{{{bounds}}}"


def _row(name: str) -> Handler:
    """mean_{k<n} x_{i,k}; softmax_{k<n}(x_{i,k})_{j}; LayerNorm_{k<n}(x_{i,k}; eps)_{j}."""

    def handler(e: Expr, r: Render) -> Src:
        _, _, body, *extra = e.args
        head = _range_head(name, e, r)
        if not extra:
            return f"{head} {_group(r(body), P_MUL)}", P_BIGOP
        inner = r(body)[0] + (f"; {r(extra[1])[0]}" if len(extra) > 1 else "")
        return rf"{head}\left({inner}\right)_{{{r(extra[0])[0]}}}", P_ATOM

    return handler


def _leaky_relu(e: Expr, r: Render) -> Src:
    return rf"\operatorname{{LeakyReLU}}_{{{r(e.args[1])[0]}}}\left({r(e.args[0])[0]}\right)", P_ATOM


LATEX_OPS: dict[Op, Handler] = {
    Op.CONST: _const,
    Op.VAR: lambda e, r: (latex_name(str(e.attr)), P_ATOM),
    Op.READ: _read,
    Op.MEM: lambda e, r: (
        rf"\mathrm{{mem}}_{{{latex_name(str(e.attr))}}}\left[{r(e.args[0])[0]}\right]",
        P_ATOM,
    ),
    Op.UNDEF: lambda e, r: (rf"\bot_{{{latex_name(str(e.attr))}}}", P_ATOM),
    Op.ADD: _infix("+", P_ADD),
    Op.SUB: _infix("-", P_ADD),
    Op.MUL: _infix(r"\cdot", P_MUL),
    Op.DIV: lambda e, r: (rf"\frac{{{r(e.args[0])[0]}}}{{{r(e.args[1])[0]}}}", P_ATOM),
    Op.NEG: lambda e, r: (f"-{_group(r(e.args[0]), P_UNARY, True)}", P_UNARY),
    Op.FLOORDIV: _floordiv,
    Op.MOD: _infix(r"\bmod", P_MUL),
    Op.TRUNCDIV: _fn(r"\operatorname{tdiv}"),
    Op.TRUNCMOD: _fn(r"\operatorname{tmod}"),
    Op.MINIMUM: _fn(r"\min"),
    Op.MAXIMUM: _fn(r"\max"),
    Op.LT: _compare("<"),
    Op.LE: _compare(r"\le"),
    Op.GT: _compare(">"),
    Op.GE: _compare(r"\ge"),
    Op.EQ: _compare("="),
    Op.NE: _compare(r"\ne"),
    Op.AND: _infix(r"\land", P_AND),
    Op.OR: _infix(r"\lor", P_OR),
    Op.NOT: lambda e, r: (rf"\lnot {_group(r(e.args[0]), P_UNARY)}", P_UNARY),
    Op.WHERE: _where,
    Op.CAST: _cast,
    Op.EXP: _fn(r"\exp"),
    Op.EXP2: lambda e, r: (f"2^{{{r(e.args[0])[0]}}}", P_POW),
    Op.LOG: _fn(r"\log"),
    Op.LOG2: _fn(r"\log_2"),
    Op.SQRT: _wrap(r"\sqrt{", "}"),
    Op.RSQRT: _wrap(r"\frac{1}{\sqrt{", "}}"),
    Op.SIGMOID: _fn(r"\sigma"),
    Op.ABS: _wrap(r"\left|", r"\right|"),
    Op.ERF: _fn(r"\operatorname{erf}"),
    Op.TANH: _fn(r"\tanh"),
    Op.SIN: _fn(r"\sin"),
    Op.COS: _fn(r"\cos"),
    Op.FLOOR: _wrap(r"\left\lfloor ", r" \right\rfloor"),
    Op.CEIL: _wrap(r"\left\lceil ", r" \right\rceil"),
    Op.POW: _pow,
    Op.TRUNC: _fn(r"\operatorname{trunc}"),
    Op.TAN: _fn(r"\tan"),
    Op.ASIN: _fn(r"\arcsin"),
    Op.ACOS: _fn(r"\arccos"),
    Op.ATAN: _fn(r"\arctan"),
    Op.ATAN2: _fn(r"\operatorname{atan2}"),
    Op.FMOD: _fn(r"\operatorname{fmod}"),
    Op.COPYSIGN: _fn(r"\operatorname{copysign}"),
    Op.ISNAN: _fn(r"\operatorname{isnan}"),
    Op.ISINF: _fn(r"\operatorname{isinf}"),
    Op.ISFINITE: _fn(r"\operatorname{isfinite}"),
    Op.SIGNBIT: _fn(r"\operatorname{signbit}"),
    Op.BITAND: _bit_infix(r"\mathbin{\&}"),
    Op.BITOR: _bit_infix(r"\mathbin{|}"),
    Op.BITXOR: _bit_infix(r"\oplus"),
    Op.BITNOT: lambda e, r: (rf"\mathord{{\sim}} {_group(r(e.args[0]), P_UNARY)}", P_UNARY),
    Op.SHL: _bit_infix(r"\ll"),
    Op.SHR: _bit_infix(r"\gg"),
    Op.SUM: _reduce,
    Op.PROD: _reduce,
    Op.RMAX: _reduce,
    Op.RMIN: _reduce,
    Op.ARGMAX: lambda e, r: (f"{_range_head('argmax', e, r)} {_group(r(e.args[2]), P_MUL)}", P_BIGOP),
    Op.ARGMIN: lambda e, r: (f"{_range_head('argmin', e, r)} {_group(r(e.args[2]), P_MUL)}", P_BIGOP),
    Op.SILU: _fn(r"\operatorname{SiLU}"),
    Op.GELU: _fn(r"\operatorname{GELU}"),
    Op.GELU_TANH: _fn(r"\operatorname{GELU}_{\tanh}"),
    Op.RELU: _fn(r"\operatorname{ReLU}"),
    Op.LEAKY_RELU: _leaky_relu,
    Op.CLAMP: _fn(r"\operatorname{clamp}"),
    Op.SOFTPLUS: _fn(r"\operatorname{softplus}"),
    Op.MEAN: _row("mean"),
    Op.VARIANCE: _row("Var"),
    Op.LOGSUMEXP: _row("logsumexp"),
    Op.SOFTMAX: _row("softmax"),
    Op.LOG_SOFTMAX: _row("log\\_softmax"),
    Op.LAYER_NORM: _row("LayerNorm"),
    Op.RMS_NORM: _row("RMSNorm"),
    Op.STD: _row("std"),
    Op.NORMALIZE: _row("normalize"),
}
UNSUPPORTED: frozenset[Op] = frozenset()  # every op has a notation


def to_latex(e: Expr) -> str:
    """`e` in LaTeX math mode."""
    return _render(e, LATEX_OPS)[0]


def bold_name(name: str) -> str:
    """A whole tensor: `\\mathbf{x}` (long names upright bold too)."""
    return r"\mathbf{" + re.sub(r"[_{}#$%&\\^~]", lambda m: _ESCAPES[m.group()], name) + "}"


LATEX_REDUCE = {Op.SUM: r"\sum", Op.PROD: r"\prod", Op.RMAX: r"\max", Op.RMIN: r"\min"}
LATEX_REDUCE |= {Op.ARGMAX: r"\operatorname{argmax}", Op.ARGMIN: r"\operatorname{argmin}"}
LATEX_ROW = {Op.MEAN: "mean", Op.VARIANCE: "Var", Op.LOGSUMEXP: "logsumexp", Op.SOFTMAX: "softmax"}
LATEX_ROW |= {Op.LOG_SOFTMAX: "log\\_softmax", Op.LAYER_NORM: "LayerNorm", Op.RMS_NORM: "RMSNorm"}
LATEX_ROW |= {Op.STD: "std", Op.NORMALIZE: "normalize"}


def _tensor_reduce(t: Any, child: Src, weight: Src | None = None, bias: Src | None = None) -> Src:
    """`\\sum_{\\mathrm{dim}=1} \\mathbf{x}`, `\\operatorname{softmax}(\\mathbf{x}, \\mathrm{dim}=1)`."""
    dim = rf"\mathrm{{dim}}={t.dim}"
    if t.scan:
        name = "cumsum" if t.op is Op.SUM else "cumprod"
        return rf"\operatorname{{{name}}}\left({child[0]}, {dim}\right)", P_ATOM
    if t.op in LATEX_REDUCE and not t.axes and len(t.child.axes) == 1:  # every element: no dim to name
        return f"{LATEX_REDUCE[t.op]} {_group(child, P_MUL)}", P_BIGOP
    if t.op in LATEX_REDUCE:
        return f"{LATEX_REDUCE[t.op]}_{{{dim}}} {_group(child, P_MUL)}", P_BIGOP
    whole = not t.axes and len(t.child.axes) == 1 and t.op in (Op.MEAN, Op.VARIANCE, Op.LOGSUMEXP)
    args = [child[0]] + ([] if whole else [dim]) + [rf"\epsilon={to_latex(x)}" for x in t.extra]
    args += [rf"\{k}={v[0]}" for k, v in (("gamma", weight), ("beta", bias)) if v is not None]
    return rf"\operatorname{{{LATEX_ROW[t.op]}}}\left({', '.join(args)}\right)", P_ATOM


def _tensor_notation() -> Any:
    from tritonlift.ir.printer import with_holes
    from tritonlift.ir.tensor_form import Notation

    return Notation(
        ref=lambda r: (bold_name(r.name) + (r"^\top" if r.transposed else ""), P_ATOM),
        scalar=lambda e: _render(e, LATEX_OPS),
        align=lambda src, pad: src,  # broadcasting is implicit in textbook notation
        node=with_holes(LATEX_OPS),
        reduce=_tensor_reduce,
        matmul=lambda a, b: (f"{_group(a, P_MUL)} {_group(b, P_MUL, True)}", P_MUL),
    )


def formula_latex(f: Formula, whole: bool = False) -> str:
    """Every assignment as `\\mathrm{out}_{i,j} = ...`, joined with `\\\\`; with `whole`, those with a
    whole-tensor form (ir.tensor_form) as `\\mathbf{out} = \\operatorname{softmax}(\\mathbf{x}, ...)`."""
    from tritonlift.ir.tensor_form import render as render_tensor
    from tritonlift.ir.tensor_form import tensor_form

    lines = []
    for a in f.assigns:
        t = tensor_form(a, f) if whole else None
        if t is not None:
            lines.append(f"{bold_name(a.target)} = {render_tensor(t, _tensor_notation())[0]}")
            continue
        index = ",".join(latex_name(i) for i in a.index)
        target = latex_name(a.target) + (f"_{{{index}}}" if index else "")
        lines.append(f"{target} = {to_latex(a.body)}")
    return " \\\\ ".join(lines)
