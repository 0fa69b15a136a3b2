"""FlagGems `@pointwise_dynamic` scalar bodies: the elementwise formula of the body, its spec, its torch code.

`@pointwise_dynamic(is_tensor=[...], num_outputs=k, promotion_methods=[...])` over a `@triton.jit` scalar
function generates (at run time) a rank-specialised kernel that broadcasts the tensor inputs to one shape,
loads one element of each, calls the body on them (and on the non-tensor arguments), and stores each returned
value into a freshly allocated output of the broadcast shape, cast to the promoted dtype. The body is lifted
here, once, for tensors of every rank, with a flat-index convention:

    x[i] is element i (C order) of tensor input x broadcast to the common shape of n elements; each output
    out[i] (out0[i], out1[i], ... for several) is element i of that output, for 0 <= i < n.

The body is evaluated by the kernel evaluator, inline-call style (each tensor parameter bound to one element
read, each scalar parameter to a symbol), so it models exactly what kernels model. The generated wrapper
(tiling, masks, strides, grid-stride loops) is not verified here: it is stated as an assumption.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tritonlift.errors import Unsupported
from tritonlift.frontend.source import JitFunction, SourceModule
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.symbolic.kernel_eval import KernelEvaluator, to_tile
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import PtrBlock, lane, scalar
from tritonlift.synth.derive import StoreMap, Witness

PROMOTION_KINDS = ("DEFAULT", "NO_OPMATH", "INT_TO_FLOAT", "ALWAYS_BOOL", "COMPLEX_TO_FLOAT", "BOOL_TO_LONG")
WRAPPER_ASSUMPTION = (
    "the wrapper that @pointwise_dynamic generates (tiles, masks, strided loads and stores) applies the body "
    "once to every element of the broadcast shape"
)
REAL_ASSUMPTION = (
    "values are reals: .to(tl.float32), the computation dtype and the cast to the output dtype are identities; "
    "rounding, overflow and NaN are not part of the proof"
)


@dataclass(frozen=True)
class Promotion:
    args: tuple[int, ...]  # the argument positions that decide the output dtype
    method: str  # one of PROMOTION_KINDS (torch._prims_common.ELEMENTWISE_TYPE_PROMOTION_KIND)

    def text(self, names: list[str]) -> str:
        return f"({', '.join(names[k] for k in self.args)}; {self.method})"


@dataclass(frozen=True)
class Schema:
    """The decorator's FunctionSchema, read literally from the source (FlagGems' defaults applied)."""

    inputs: tuple[str, ...]  # the body's parameters that the wrapper passes, in order
    is_tensor: tuple[bool, ...]
    promotions: tuple[Promotion, ...]  # one per output

    @property
    def tensors(self) -> list[str]:
        return [n for n, t in zip(self.inputs, self.is_tensor, strict=True) if t]

    @property
    def num_outputs(self) -> int:
        return len(self.promotions)


@dataclass
class PointwiseLift:
    """The evaluated body: its formula (flat index), the spec of the same values, and the hints for verify."""

    schema: Schema
    formula: Formula
    spec: KernelSpec
    store_maps: list[StoreMap]
    witnesses: list[Witness]
    kinds: dict[str, Kind]  # every free symbol of the formula: scalars, the size and the index
    outputs: list[str]
    size: str
    index: str
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# the decorator


def _literal(node: ast.expr, what: str, fn: JitFunction) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise Unsupported(
            f"@pointwise_dynamic({what}={ast.unparse(node)}): only literal arguments are read",
            fn.file,
            node.lineno,
        ) from None


def _promotion(item: object, fn: JitFunction, line: int) -> Promotion:
    if not isinstance(item, (tuple, list)) or not item or item[-1] not in PROMOTION_KINDS:
        raise Unsupported(
            f"@pointwise_dynamic promotion method {item!r} is not one of {PROMOTION_KINDS}", fn.file, line
        )
    args: list[int] = []
    for a in item[:-1]:  # polar writes ((0, 1), "DEFAULT")
        for k in a if isinstance(a, (tuple, list)) else (a,):
            if not isinstance(k, int):
                raise Unsupported(
                    f"@pointwise_dynamic promotion argument {k!r} is not an index", fn.file, line
                )
            args.append(k)
    return Promotion(tuple(args), str(item[-1]))


def read_schema(fn: JitFunction) -> Schema:
    """FlagGems' FunctionSchema rules: num_inputs, else is_tensor, else dtypes, else every parameter a tensor;
    num_outputs, else one output per promotion method."""
    d = fn.decorator("pointwise_dynamic")
    assert d is not None
    kw = d.kwargs
    line = getattr(d.node, "lineno", fn.line)
    names = [p.name for p in fn.params]
    is_tensor: list[bool] | None = None
    if "is_tensor" in kw:
        v = _literal(kw["is_tensor"], "is_tensor", fn)
        if not isinstance(v, (list, tuple)) or not all(isinstance(b, bool) for b in v):
            raise Unsupported("@pointwise_dynamic is_tensor must be a list of booleans", fn.file, line)
        is_tensor = list(v)
    if "dtypes" in kw and is_tensor is None:
        node = kw["dtypes"]
        if not isinstance(node, (ast.List, ast.Tuple)):
            raise Unsupported("@pointwise_dynamic dtypes must be a literal list", fn.file, line)
        is_tensor = [isinstance(e, ast.Constant) and e.value is None for e in node.elts]
    if "num_inputs" in kw:
        n = _literal(kw["num_inputs"], "num_inputs", fn)
        if not isinstance(n, int):
            raise Unsupported("@pointwise_dynamic num_inputs must be an integer", fn.file, line)
        if is_tensor is None:
            is_tensor = [True] * n
    if is_tensor is None:
        is_tensor = [True] * len(names)
    if len(is_tensor) > len(names):
        raise Unsupported(
            f"@pointwise_dynamic declares {len(is_tensor)} inputs, {fn.name} takes {len(names)}",
            fn.file,
            line,
        )
    if "promotion_methods" not in kw:
        raise Unsupported("@pointwise_dynamic without promotion_methods", fn.file, line)
    methods = _literal(kw["promotion_methods"], "promotion_methods", fn)
    if not isinstance(methods, (list, tuple)) or not methods:
        raise Unsupported("@pointwise_dynamic promotion_methods must be a non-empty list", fn.file, line)
    promotions = tuple(_promotion(m, fn, line) for m in methods)
    if "num_outputs" in kw:
        k = _literal(kw["num_outputs"], "num_outputs", fn)
        if k != len(promotions):
            raise Unsupported(
                f"@pointwise_dynamic num_outputs={k} with {len(promotions)} promotion methods", fn.file, line
            )
    for p in promotions:
        if any(not 0 <= a < len(is_tensor) for a in p.args):
            raise Unsupported(f"@pointwise_dynamic promotion argument out of range: {p.args}", fn.file, line)
    return Schema(tuple(names[: len(is_tensor)]), tuple(is_tensor), promotions)


# ---------------------------------------------------------------------------------------------------------
# the body


def _fresh(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def output_names(fn: JitFunction, k: int) -> list[str]:
    taken = {p.name for p in fn.params}
    if k == 1:
        return [_fresh("out", taken)]
    return [_fresh(f"out{j}", taken) for j in range(k)]


def evaluate_pointwise(module: SourceModule, fn: JitFunction) -> PointwiseLift:
    """Evaluate the body on one element of each tensor input -> the formula and the spec of its values; once
    per floating element type of the inputs the body tests (symbolic/dtypes.py)."""
    from tritonlift.symbolic.dtypes import choose, per_element_type

    sch = read_schema(fn)
    variants = per_element_type(lambda dtypes: _evaluate_body(module, fn, sch, dtypes))
    (elems, kinds, notes), chosen = choose(variants, lambda v: tuple(v[0]))
    return build(fn, sch, elems, kinds, [*notes, *chosen])


def _evaluate_body(
    module: SourceModule, fn: JitFunction, sch: Schema, dtypes: dict[str, str]
) -> tuple[list[Expr], dict[str, Kind], list[str]]:
    params = {p.name: p for p in fn.params}
    ev = KernelEvaluator(module, fn, {}, [], {}, (), elem_dtypes=dtypes)
    ev.prescan()
    args = []
    kinds: dict[str, Kind] = {}
    for name, tensor in zip(sch.inputs, sch.is_tensor, strict=True):
        if tensor:
            args.append(scalar(ir.mem(name, lane(0))))
        else:
            kinds[name] = Kind.INT if params[name].constexpr else Kind.REAL
            args.append(scalar(ir.var(name, kinds[name])))
    value = ev.inline(fn, args, {}, fn.node)
    if ev.path != ir.TRUE:
        raise Unsupported("`return` inside a branch on a runtime value (use tl.where)", fn.file, ev.line)
    if ev.stores:
        raise Unsupported("tl.store inside a @pointwise_dynamic body", fn.file, ev.stores[0].line)
    if value is None:
        raise Unsupported(f"{fn.name} returns nothing", fn.file, fn.line)
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if len(values) != sch.num_outputs:
        raise Unsupported(
            f"{fn.name} returns {len(values)} value(s), the decorator declares {sch.num_outputs} output(s)",
            fn.file,
            fn.line,
        )
    elems: list[Expr] = []
    for v in values:
        t = to_tile(v, max((r.lineno for r in ast.walk(fn.node) if isinstance(r, ast.Return)), default=fn.line))
        if isinstance(t, PtrBlock):
            raise Unsupported(f"{fn.name} returns a pointer", fn.file, fn.line)
        if t.rank != 0:
            raise Unsupported(f"{fn.name} returns a block, not one element", fn.file, fn.line)
        elems.append(t.elem)
    return elems, kinds, ev.notes


def build(
    fn: JitFunction, sch: Schema, elems: list[Expr], kinds: dict[str, Kind], notes: list[str]
) -> PointwiseLift:
    """The flat-index formula and spec of the body's values `elems` (over mem(x, _l0) and scalar symbols)."""
    taken = {p.name for p in fn.params}
    outs = output_names(fn, len(elems))
    taken |= set(outs)
    size = _fresh("n", taken)
    index = _fresh("i", taken)
    n, i, l0 = ir.var(size), ir.var(index), lane(0)
    tensors = sch.tensors
    to_read = {ir.mem(t, l0): ir.read(t, i) for t in tensors}
    decls = [TensorDecl(t, (n,), (ir.ONE,), t) for t in [*tensors, *outs]]
    assigns, stores, maps, wits = [], [], [], []
    for k, (o, e) in enumerate(zip(outs, elems, strict=True)):
        body = ir.substitute(e, to_read)
        stray = ir.free_vars(body) & {str(l0.attr)}
        if stray or any(node.op is Op.MEM for node in ir.walk(body)):
            raise Unsupported(
                f"{fn.name}: the value of output {k} is not a function of the inputs' elements",
                fn.file,
                fn.line,
            )
        assigns.append(Assign(o, (index,), body))
        stores.append(Store(o, l0, e, ir.TRUE, (n,), fn.line))
        maps.append(StoreMap(k, o, (l0,)))
        wits.append(Witness(k, o, {l0: i}))
    params = []
    for p in fn.params:
        if p.name in tensors:
            kind = "tensor"
        elif p.constexpr:
            kind = "constexpr"
        else:
            kind = "float"
        params.append(Param(p.name, kind, ast.unparse(p.default) if p.default is not None else None))  # type: ignore[arg-type]
    formula = Formula(
        fn.name,
        tuple(params),
        tuple(decls),
        tuple(assigns),
        returns=tuple(outs),
        assumptions=tuple(assumptions(sch, outs, size, index, notes)),
    )
    scalars = {**kinds, size: Kind.INT}
    spec = KernelSpec(fn.name, fn.file, fn.line, [*tensors, *outs], scalars, (), stores)
    return PointwiseLift(
        sch, formula, spec, maps, wits, {**scalars, index: Kind.INT}, outs, size, index, list(notes)
    )


def assumptions(sch: Schema, outs: list[str], size: str, index: str, notes: list[str]) -> list[str]:
    tensors = sch.tensors
    names = list(sch.inputs)
    out = []
    if tensors:
        out.append(
            f"tensor inputs {', '.join(tensors)} broadcast to a common shape of {size} elements; "
            f"{tensors[0]}[{index}] is element {index} (C order) of {tensors[0]} broadcast to that shape"
        )
    scalars = [n for n, t in zip(sch.inputs, sch.is_tensor, strict=True) if not t]
    if scalars:
        out.append(f"{', '.join(scalars)}: Python numbers (is_tensor=False)")
    for o, p in zip(outs, sch.promotions, strict=True):
        out.append(
            f"{o}: a new tensor of the broadcast shape, dtype promoted per promotion_methods={p.text(names)}"
        )
    out += [WRAPPER_ASSUMPTION, REAL_ASSUMPTION, *notes]
    return out


# ---------------------------------------------------------------------------------------------------------
# PyTorch


def pointwise_torch(f: Formula, sch: Schema, real_dtype: str = "float32") -> str:
    """`def name(params): ... return out` over whole tensors: torch's broadcasting is the wrapper's."""
    from tritonlift.ir.torch_printer import _AssignCtx, _FunctionCtx, _helper_lines

    fn = _FunctionCtx(f, real_dtype)
    tensors = sch.tensors
    body: list[str] = []
    first = tensors[0] if tensors else None
    shapes = ", ".join(f"{t}.shape" for t in tensors)
    body.append(f"    _shape = torch.broadcast_shapes({shapes})")
    body.append(f"    _dev = {first}.device" if first else '    _dev = "cpu"')
    names = list(sch.inputs)
    for a, prom in zip(f.assigns, sch.promotions, strict=True):
        (index,) = a.index
        as_tensors = {ir.read(t, ir.var(index)): ir.var(t, Kind.REAL) for t in tensors}
        e = ir.substitute(a.body, as_tensors)
        if index in ir.free_vars(e):
            raise ValueError(f"{a.target}: the index is used other than to read an input")
        ctx = _AssignCtx(fn, 0, 0, "    ")
        for t in tensors:
            ctx.scopes[0][t] = t
        for node in ir.walk(e):
            for child in node.args:
                ctx.shared[child] += 1
        value = ctx.sub(e)
        body += ctx.lines
        promote = ", ".join(names[k] for k in prom.args)
        body.append(
            f"    _, _dt = elementwise_dtypes({promote}, type_promotion_kind=ELEMENTWISE_TYPE_PROMOTION_KIND."
            f"{prom.method})"
        )
        body.append(f"    {a.target} = torch.empty(_shape, dtype=_dt, device=_dev)")
        body.append(f"    {a.target}.copy_(torch.as_tensor({value.text}))")
    body.append(f"    return {', '.join(a.target for a in f.assigns)}")
    params = ", ".join(p.name if p.default is None else f"{p.name}={p.default}" for p in f.params)
    head = [
        f"def {f.name}({params}):",
        "    import math",
        "    import torch",
        "    from torch._prims_common import ELEMENTWISE_TYPE_PROMOTION_KIND, elementwise_dtypes",
        "",
    ]
    return "\n".join(head + _helper_lines(fn.helpers) + body) + "\n"
