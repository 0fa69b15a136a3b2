"""Operator-level lifting of hosts that call `@pointwise_dynamic` functions (FlagGems' abs, add, gelu, ...).

A host such as

    def add(A, B, *, alpha=1):
        ...                                   # dtype/complex dispatch on Python values
        elif isinstance(A, torch.Tensor) and isinstance(B, torch.Tensor):
            return add_func(A, B, alpha)

is evaluated with the host evaluator (symbolic/host_eval.py) for its float overload: a parameter that the
host passes to a tensor slot of a pointwise function is a tensor with a real dtype, the others are real Python
numbers (both stated as assumptions). A call of a pointwise function yields a new tensor whose elements are
the function's body applied to its arguments, broadcast (symbolic/pointwise.py lifts the body); calls of
other functions of the same file (`where_self_out`, `SiluAndMul.apply` -> `forward`) are evaluated inline.
Tests on Python values (`mini is None`, `approximate == "tanh"`, `B.device != A.device`) split the host's
paths (symbolic/host_paths.py); a path that raises is reported, not verified.

Each path's result is the formula `out[i] = body(A[i], B[i], alpha)` over the host's own parameters (flat,
broadcast index, as for pointwise results), proved equal to the bodies' values with the host's arguments
substituted. Paths with the same formula merge; different ones are reported side by side, each under its
condition, and the torch code dispatches on the same Python tests.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from tritonlift.errors import LiftError, Unknown, Unsupported
from tritonlift.frontend.source import HostFunction, JitFunction, SourceModule, load_module_cached
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.options import Options
from tritonlift.result import LiftResult, Proof
from tritonlift.symbolic.host_eval import (
    HostEvaluator,
    HostRaises,
    HostTensor,
    is_opaque_condition,
)
from tritonlift.symbolic.host_paths import Decider, Decision
from tritonlift.symbolic.pointwise import REAL_ASSUMPTION, WRAPPER_ASSUMPTION, Promotion, Schema, read_schema
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import lane
from tritonlift.synth.derive import StoreMap, Witness

MAX_INLINE_DEPTH = 4
_CTX = ("ctx",)  # the `ctx` of an autograd Function's forward: save_for_backward and attributes are no-ops


# ---------------------------------------------------------------------------------------------------------
# Which functions of a file are pointwise hosts


def _module_functions(module: SourceModule) -> dict[str, ast.FunctionDef]:
    """Module-level functions and `Class.method`, jit functions excluded."""
    out: dict[str, ast.FunctionDef] = {}
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef) and node.name not in module.jit:
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = item
    return out


def pointwise_callee(module: SourceModule, name: str) -> JitFunction | None:
    """The `@pointwise_dynamic` function a name calls in this module (defined here or imported)."""
    fn = module.jit.get(name)
    if fn is None and name not in module.jit:
        fn = module.imported_jit(name)
    return fn if fn is not None and fn.is_pointwise else None


def _callees(module: SourceModule, fn: ast.FunctionDef, functions: dict[str, ast.FunctionDef]) -> list[str]:
    """Same-file functions a function calls: `f(...)` and `Class.apply(...)` (-> `Class.forward`)."""
    out = []
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id in functions:
            out.append(f.id)
        elif (
            isinstance(f, ast.Attribute)
            and f.attr == "apply"
            and isinstance(f.value, ast.Name)
            and f"{f.value.id}.forward" in functions
        ):
            out.append(f"{f.value.id}.forward")
    return out


def _direct_pointwise_calls(module: SourceModule, fn: ast.FunctionDef) -> list[str]:
    return [
        node.func.id
        for node in ast.walk(fn)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and pointwise_callee(module, node.func.id) is not None
    ]


def pointwise_hosts(module: SourceModule) -> list[HostFunction]:
    """Module-level functions (not jit, not kernel-launching hosts) that call a pointwise function, directly
    or through same-file functions; in source order."""
    functions = _module_functions(module)
    calls: dict[str, bool] = {}

    def reaches(name: str, depth: int) -> bool:
        if name in calls:
            return calls[name]
        calls[name] = False  # recursion guard
        fn = functions[name]
        hit = bool(_direct_pointwise_calls(module, fn)) or (
            depth < MAX_INLINE_DEPTH and any(reaches(c, depth + 1) for c in _callees(module, fn, functions))
        )
        calls[name] = hit
        return hit

    out = []
    for node in module.tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name in module.jit or node.name in module.hosts:
            continue
        if node.name.startswith("_") or not reaches(node.name, 0):
            continue
        out.append(HostFunction(node.name, node, module.path, node.lineno, []))
    return out


# ---------------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class PointwiseApp:
    """One call of a pointwise function: its body's values per output, over mem(param, lane 0) and symbols."""

    fn: JitFunction
    schema: Schema
    args: dict[str, Any]  # the body's parameter -> the host value passed
    outputs: list[str]  # the host tensors that receive the outputs
    line: int


@dataclass
class PathResult:
    returns: tuple[str, ...]
    apps: list[PointwiseApp]
    tensors: dict[str, HostTensor]  # host tensor parameters by name
    assumptions: list[str]
    aliases: dict[str, str] = field(default_factory=dict)  # version written in place -> the tensor
    decisions: list[Decision] = field(default_factory=list)


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class PointwiseHostEvaluator(HostEvaluator):
    """The host evaluator, with pointwise calls, same-file calls evaluated inline and autograd `apply`."""

    def __init__(self, module: SourceModule, host: HostFunction, decider: Decider | None = None):
        self.functions = _module_functions(module)
        self.apps: list[PointwiseApp] = []
        self.aliases: dict[str, str] = {}  # a tensor version written through `out0=t` -> the tensor t
        self.depth = 0
        super().__init__(module, host, decider)

    # -- typing: which parameters are tensors --------------------------------------------------------
    def _tensor_params(self) -> set[str]:
        names = super()._tensor_params()
        slots = self._slot_kinds(self.host.node, {}, 0)
        names |= {n for n, tensor in slots.items() if tensor}
        for n, tensor in slots.items():
            if not tensor:
                self.kernel_kinds.setdefault(n, Kind.REAL)
        return names

    def _slot_kinds(self, fn: ast.FunctionDef, rename: dict[str, str], depth: int) -> dict[str, bool]:
        """Parameter -> True when some call passes it to a tensor slot of a pointwise function (through
        same-file calls too); False when only to scalar slots."""
        out: dict[str, bool] = {}

        def note(arg: ast.expr, tensor: bool) -> None:
            if isinstance(arg, ast.Name):
                name = rename.get(arg.id, arg.id)
                out[name] = out.get(name, False) or tensor

        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and (pw := pointwise_callee(self.module, f.id)) is not None:
                try:
                    sch = read_schema(pw)
                except LiftError:
                    continue
                for a, tensor in zip(node.args, sch.is_tensor, strict=False):
                    note(a, tensor)
                for k in node.keywords:
                    if k.arg is not None and (k.arg.startswith("out") or k.arg in sch.inputs):
                        note(k.value, k.arg.startswith("out") or sch.is_tensor[sch.inputs.index(k.arg)])
                continue
            callee = None
            if isinstance(f, ast.Name) and f.id in self.functions:
                callee = self.functions[f.id]
            elif isinstance(f, ast.Attribute) and f.attr == "apply" and isinstance(f.value, ast.Name):
                callee = self.functions.get(f"{f.value.id}.forward")
            if callee is None or depth >= MAX_INLINE_DEPTH:
                continue
            params = [a.arg for a in callee.args.posonlyargs + callee.args.args]
            if isinstance(f, ast.Attribute):
                params = params[1:]  # forward(ctx, ...)
            inner = self._slot_kinds(callee, {}, depth + 1)
            for p, a in zip(params, node.args, strict=False):
                if p in inner:
                    note(a, inner[p])
            for k in node.keywords:
                if k.arg in inner:
                    note(k.value, inner[k.arg])
        return out

    # -- statements --------------------------------------------------------------------------------
    def exec(self, st: ast.stmt) -> None:
        if self.depth > 0 and isinstance(st, ast.Return):
            raise _Return(self.eval(st.value) if st.value is not None else None)
        if isinstance(st, ast.Assign) and all(
            isinstance(t, ast.Attribute)
            and isinstance(t.value, ast.Name)
            and self.st.scope.get(t.value.id) == _CTX
            for t in st.targets
        ):
            return  # ctx.attr = ...: autograd bookkeeping
        super().exec(st)

    # -- calls -------------------------------------------------------------------------------------
    def call(self, node: ast.Call) -> Any:
        f = node.func
        if isinstance(f, ast.Name) and f.id not in self.st.scope:
            pw = pointwise_callee(self.module, f.id)
            if pw is not None:
                return self.apply_pointwise(pw, node)
            if f.id in self.functions:
                return self.inline(self.functions[f.id], node, [])
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            if self.st.scope.get(f.value.id) == _CTX:
                return None  # ctx.save_for_backward(...), ctx.mark_dirty(...)
            forward = self.functions.get(f"{f.value.id}.forward")
            if f.attr == "apply" and forward is not None and f.value.id not in self.st.scope:
                return self.inline(forward, node, [_CTX])
        return super().call(node)

    def inline(self, fn: ast.FunctionDef, node: ast.Call, leading: list[Any]) -> Any:
        """Evaluate a same-file function's body with its parameters bound to the call's arguments."""
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.err(f"calls nested deeper than {MAX_INLINE_DEPTH} levels", node)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.err("*args / **kwargs in a host call are not modelled", node)
        args = [*leading, *(self.eval(a) for a in node.args)]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        a = fn.args
        positional = a.posonlyargs + a.args
        if a.vararg is not None or a.kwarg is not None:
            raise self.err(f"{fn.name}: *args / **kwargs parameters are not modelled", node)
        scope: dict[str, Any] = {}
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        for k, (p, d) in enumerate(zip(positional, defaults, strict=True)):
            if k < len(args):
                scope[p.arg] = args[k]
            elif p.arg in kwargs:
                scope[p.arg] = kwargs[p.arg]
            elif d is not None:
                scope[p.arg] = self.eval(d)
            else:
                raise self.err(f"argument {p.arg} of {fn.name} is not passed", node)
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
            if p.arg in kwargs:
                scope[p.arg] = kwargs[p.arg]
            elif d is not None:
                scope[p.arg] = self.eval(d)
            else:
                raise self.err(f"argument {p.arg} of {fn.name} is not passed", node)
        saved, saved_line = self.st.scope, self.line
        self.st.scope = scope
        self.depth += 1
        try:
            for stmt in fn.body:
                self.exec(stmt)
            return None
        except _Return as r:
            return r.value
        finally:
            self.depth -= 1
            self.st.scope, self.line = saved, saved_line

    def apply_pointwise(self, fn: JitFunction, node: ast.Call) -> Any:
        """`f(a, b, scalar, out0=t)`: new tensors (or the given `outK`) holding the body's values."""
        sch = read_schema(fn)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.err(f"*args in a call of {fn.name} are not modelled", node)
        values = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        bound: dict[str, Any] = {}
        for name, v in zip(sch.inputs, values, strict=False):
            bound[name] = v
        for name in sch.inputs:
            if name in kwargs:
                bound[name] = kwargs.pop(name)
        missing = [n for n in sch.inputs if n not in bound]
        if missing:
            raise self.err(f"{fn.name}: argument(s) {', '.join(missing)} not passed", node)
        for name, tensor in zip(sch.inputs, sch.is_tensor, strict=True):
            v = bound[name]
            if not tensor and isinstance(v, HostTensor):
                raise self.err(f"{fn.name}: a tensor passed to the scalar parameter {name}", node)
            if not isinstance(v, (HostTensor, Expr, int, float)) or isinstance(v, bool):
                raise self.err(f"{fn.name}: argument {name} is not a tensor or a number", node)
        outs: list[str] = []
        written: list[tuple[HostTensor, str]] = []
        for k in range(sch.num_outputs):
            given = kwargs.pop(f"out{k}", None)
            name = self.fresh("pw")
            if given is not None:
                if not isinstance(given, HostTensor):
                    raise self.err(f"{fn.name}: out{k} is not a tensor", node)
                # written in place: a new version of that tensor (its old values may be this call's input)
                self.aliases[name] = self.aliases.get(given.name, given.name)
                written.append((given, name))
            outs.append(name)
        if kwargs:
            raise self.err(f"{fn.name}: keyword argument(s) {', '.join(kwargs)} are not modelled", node)
        self.apps.append(PointwiseApp(fn, sch, bound, outs, getattr(node, "lineno", self.line)))
        made = tuple(HostTensor(o, None, None, True) for o in outs)
        for given, name in written:
            new = next(t for t in made if t.name == name)
            for var, v in list(self.st.scope.items()):
                if v is given:
                    self.st.scope[var] = new
        return made[0] if len(made) == 1 else made

    def method(self, t: HostTensor, name: str, args: list[Any], node: ast.AST) -> Any:
        if name == "instantiate":  # where_inner.instantiate(ndim) is not a tensor method; never reached
            return None
        return super().method(t, name, args, node)


# ---------------------------------------------------------------------------------------------------------
# One path -> formula and spec


@dataclass
class PathLift:
    formula: Formula
    spec: KernelSpec
    maps: list[StoreMap]
    wits: list[Witness]
    kinds: dict[str, Kind]
    schema: Schema  # for the torch printer: the host's tensors and scalars the formula uses


def _body_values(app: PointwiseApp) -> list[Expr]:
    """The body's value per output over mem(tensor param, lane 0) and scalar symbols (symbolic/pointwise)."""
    from tritonlift.symbolic.pointwise import evaluate_pointwise

    module = load_module_cached(app.fn.file)
    lifted = evaluate_pointwise(module, app.fn)
    return [s.value for s in lifted.spec.stores]


def _scalar_expr(v: Any) -> Expr:
    if isinstance(v, Expr):
        return v if v.kind is Kind.REAL else ir.cast(v, "float32") if v.kind is Kind.INT else v
    return ir.const(float(v))


def compose(result: PathResult, host: HostFunction) -> tuple[list[Expr], list[str]]:
    """The returned tensors' element values over mem(host tensor, lane 0) and host scalar symbols, and the
    host tensors read."""
    producer: dict[str, tuple[PointwiseApp, int]] = {}
    for app in result.apps:
        for k, o in enumerate(app.outputs):
            producer[o] = (app, k)
    l0 = lane(0)
    cache: dict[str, Expr] = {}

    def value_of(name: str, depth: int) -> Expr:
        if name in cache:
            return cache[name]
        if name not in producer:
            if name not in result.tensors:
                raise Unknown(f"{name} is returned but not computed by a pointwise function")
            return ir.mem(name, l0)
        if depth > 32:
            raise Unsupported("pointwise calls nested too deeply", host.file, host.line)
        app, k = producer[name]
        elems = _body_values(app)
        sub: dict[Expr, Expr] = {}
        for pname, tensor in zip(app.schema.inputs, app.schema.is_tensor, strict=True):
            v = app.args[pname]
            if tensor:
                key = ir.mem(pname, l0)
                sub[key] = value_of(v.name, depth + 1) if isinstance(v, HostTensor) else _scalar_expr(v)
            else:
                param = next(p for p in app.fn.params if p.name == pname)
                kind = Kind.INT if param.constexpr else Kind.REAL
                sub[ir.var(pname, kind)] = (
                    _scalar_expr(v) if kind is Kind.REAL else (v if isinstance(v, Expr) else ir.const(v))
                )
        out = ir.substitute(elems[k], sub)
        cache[name] = out
        return out

    values = [value_of(r, 0) for r in result.returns]
    read = sorted({str(n.attr) for v in values for n in ir.walk(v) if n.op is Op.MEM})
    return values, read


def _host_params(host: HostFunction) -> list[tuple[str, str | None]]:
    a = host.node.args
    pos = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, ast.unparse(d) if d is not None else None) for p, d in zip(pos, defaults, strict=True)]
    out += [
        (p.arg, ast.unparse(d) if d is not None else None)
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    return out


def build_path(host: HostFunction, result: PathResult) -> PathLift:
    if not result.returns:
        raise Unknown("the host returns no tensor")
    values, read = compose(result, host)
    taken = {n for n, _d in _host_params(host)} | set(read)

    def fresh(base: str) -> str:
        name = base
        while name in taken:
            name += "_"
        taken.add(name)
        return name

    host_names = {n for n, _d in _host_params(host)}
    outs = []
    for k, r in enumerate(result.returns):
        alias = result.aliases.get(r, r)
        if alias in host_names and alias not in read and alias not in outs:
            outs.append(alias)  # written through `out0=t` into a parameter t: the output keeps its name
        else:
            outs.append(fresh("out") if len(values) == 1 else fresh(f"out{k}"))
    size, index = fresh("n"), fresh("i")
    n, i, l0 = ir.var(size), ir.var(index), lane(0)
    to_read = {ir.mem(t, l0): ir.read(t, i) for t in read}
    assigns, stores, maps, wits = [], [], [], []
    for k, (o, e) in enumerate(zip(outs, values, strict=True)):
        body = ir.substitute(e, to_read)
        if str(l0.attr) in ir.free_vars(body) or any(node.op is Op.MEM for node in ir.walk(body)):
            raise Unknown(f"output {k} is not a function of the inputs' elements")
        assigns.append(Assign(o, (index,), body))
        stores.append(Store(o, l0, e, ir.TRUE, (n,), host.line))
        maps.append(StoreMap(k, o, (l0,)))
        wits.append(Witness(k, o, {l0: i}))
    scalars_used = {str(v.attr) for a in assigns for v in ir.walk(a.body) if v.op is Op.VAR}
    params = []
    for name, default in _host_params(host):
        kind = "tensor" if name in result.tensors else "float"
        params.append(Param(name, kind, default))  # type: ignore[arg-type]
    decls = [TensorDecl(t, (n,), (ir.ONE,), t) for t in [*read, *outs]]
    formula = Formula(host.name, tuple(params), tuple(decls), tuple(assigns), returns=tuple(outs))
    kinds: dict[str, Kind] = {size: Kind.INT}
    for a in assigns:
        for v in ir.walk(a.body):
            if v.op is Op.VAR and str(v.attr) != index:
                kinds[str(v.attr)] = v.kind
    spec = KernelSpec(host.name, host.file, host.line, [*read, *outs], dict(kinds), (), stores)
    # the torch printer's view: the host's tensors and scalars the formula uses, promotion as the last call
    inputs = [name for name, _d in _host_params(host) if name in read or name in scalars_used]
    last = next((a for a in reversed(result.apps) if set(a.outputs) & set(result.returns)), None)
    promotions = []
    for _o in outs:
        proms: list[int] = []
        method = "DEFAULT"
        if last is not None and last.schema.promotions:
            p = last.schema.promotions[0]
            method = p.method
            for k in p.args:
                v = last.args.get(last.schema.inputs[k])
                host_name = (
                    v.name
                    if isinstance(v, HostTensor)
                    else (str(v.attr) if isinstance(v, Expr) and v.op is Op.VAR else None)
                )
                if host_name in inputs:
                    proms.append(inputs.index(host_name))
        if not proms:
            proms = [k for k, name in enumerate(inputs) if name in read] or list(range(len(inputs)))
        promotions.append(Promotion(tuple(proms), method))
    schema = Schema(tuple(inputs), tuple(name in read for name in inputs), tuple(promotions))
    return PathLift(formula, spec, maps, wits, {**kinds, index: Kind.INT}, schema)


# ---------------------------------------------------------------------------------------------------------
# Python text of path conditions (opaque tests on host values), for messages and the torch dispatcher


def _flag_test(e: Expr) -> tuple[str, bool] | None:
    """`flag == 0` / `flag != 0` on a Python flag parameter (`not halve`, `if keepdim:`): (name, truth)."""
    if e.op in (Op.EQ, Op.NE) and e.args[1] == ir.ZERO and e.args[0].op is Op.VAR:
        return str(e.args[0].attr), e.op is Op.NE
    return None


def condition_text(e: Expr) -> str:
    """A path condition as Python: opaque tests are their source text, flag tests `flag` / `not flag`;
    raises ValueError otherwise."""
    if is_opaque_condition(e):
        return str(e.attr)
    flag = _flag_test(e)
    if flag is not None:
        return flag[0] if flag[1] else f"not {flag[0]}"
    if e.op is Op.NOT:
        return f"not ({condition_text(e.args[0])})"
    if e.op in (Op.AND, Op.OR):
        word = " and " if e.op is Op.AND else " or "
        return word.join(f"({condition_text(a)})" for a in e.args)
    if e.op is Op.CONST and e.kind is Kind.BOOL:
        return str(bool(e.value))
    raise ValueError(f"a host condition that is not a test on Python values: {e}")


def _literal_text(atom: Expr, positive: bool) -> str:
    flag = _flag_test(atom)
    if flag is not None:
        return flag[0] if flag[1] == positive else f"not {flag[0]}"
    text = str(atom.attr)
    if positive:
        return text
    if text.endswith(" is None"):
        return text[: -len(" is None")] + " is not None"
    if " == " in text and text.count(" == ") == 1:
        return text.replace(" == ", " != ")
    return f"not ({text})"


def _conj(facts: list[Expr]) -> Expr:
    out: Expr = ir.TRUE
    for f in facts:
        out = f if out == ir.TRUE else ir.and_(out, f)
    return out


def paths_condition(paths: list[list[Decision]]) -> str:
    """The condition under which one of several paths runs, as Python text: a conjunction of the host's
    tests where the disjunction is one (`hi is not None`), else the paths' conditions joined by `or`."""
    if len(paths) == 1:
        return path_condition(paths[0])
    either: Expr = ir.FALSE
    for d in paths:
        c = _conj([x.fact for x in d if x.free])
        either = c if either == ir.FALSE else ir.or_(either, c)
    lits = _as_literals([either])
    if lits is not None:
        return " and ".join(_literal_text(a, p) for a, p in lits) or "True"
    lits = _as_literals(
        [ir.not_(either)]
    )  # `factor is None or not halve` is not (halve and factor is not None)
    if lits:
        return "not (" + " and ".join(_literal_text(a, p) for a, p in lits) + ")"
    return " or ".join(f"({path_condition(d)})" for d in paths)


def _as_literals(facts: list[Expr]) -> list[tuple[Expr, bool]] | None:
    """The path condition as a conjunction of opaque tests or their negations, when it is one (z3 decides
    which literals the facts imply and that they imply the facts back); None otherwise."""
    import z3

    from tritonlift.verify.z3_backend import Z3Ctx

    atoms: list[Expr] = []
    for f in facts:
        for node in ir.walk(f):
            if (is_opaque_condition(node) or _flag_test(node) is not None) and node not in atoms:
                atoms.append(node)
    try:
        cx = Z3Ctx({})
        cond = z3.And(*[cx(f) for f in facts]) if facts else z3.BoolVal(True)
        lits: list[tuple[Expr, bool]] = []
        for a in atoms:
            for positive in (True, False):
                s = z3.Solver()
                s.set(timeout=1000)
                lit = cx(a) if positive else z3.Not(cx(a))
                s.add(cond, z3.Not(lit))
                if s.check() == z3.unsat:
                    lits.append((a, positive))
        s = z3.Solver()
        s.set(timeout=1000)
        s.add(
            z3.And(*[cx(a) if p else z3.Not(cx(a)) for a, p in lits]) if lits else z3.BoolVal(True),
            z3.Not(cond),
        )
        return lits if s.check() == z3.unsat else None
    except Exception:
        return None


def path_condition(decisions: list[Decision]) -> str:
    """The condition of a path as Python text: a conjunction of the host's tests (or their negations) when
    it is one, else the branch conditions met, in order."""
    facts = [d.fact for d in decisions if d.free]
    if not facts:
        return "True"
    lits = _as_literals(facts)
    if lits is not None and lits:
        return " and ".join(_literal_text(a, p) for a, p in lits)
    return " and ".join(f"({condition_text(f)})" if len(facts) > 1 else condition_text(f) for f in facts)


def _describe(decisions: list[Decision]) -> str:
    try:
        return path_condition(decisions)
    except ValueError:
        from tritonlift.symbolic.host_paths import describe

        return describe(decisions)


# ---------------------------------------------------------------------------------------------------------
# The lift


def lift_pointwise_operator(module: SourceModule, host: HostFunction, options: Options) -> LiftResult:
    """Operator-level result of a host that calls pointwise functions: every host path, each verified."""
    from tritonlift.ir.parse import parse_formula
    from tritonlift.ir.printer import formula_line
    from tritonlift.pipeline import Clock, emit, internal_error
    from tritonlift.symbolic.host_paths import explore
    from tritonlift.symbolic.pointwise import pointwise_torch
    from tritonlift.verify.check import SOLVER, Problem, verify

    clock = Clock()
    res = LiftResult(
        name=host.name, kind="operator", file=host.file, line=host.line, kernels=[], status="unknown"
    )
    try:

        def run_path(prefix: tuple[bool, ...]) -> tuple[Any, Decider]:
            decider = Decider(prefix)
            ev = PointwiseHostEvaluator(module, host, decider)
            try:
                st = ev.run()
            except HostRaises as e:
                return e, decider
            tensors = {n: v for n, v in ev.initial.items() if isinstance(v, HostTensor)}
            return PathResult(st.returns, ev.apps, tensors, list(st.assumptions), dict(ev.aliases)), decider

        explored = explore(run_path, host.file, host.line)
        clock.lap("symbolic")
        kernels = []
        for r, _d in explored:
            if isinstance(r, PathResult):
                kernels += [a.fn.name for a in r.apps if a.fn.name not in kernels]
        res.kernels = kernels
        paths = [(r, d) for r, d in explored if isinstance(r, PathResult)]
        raising = [(e, d) for e, d in explored if isinstance(e, HostRaises)]
        if not paths:
            raise raising[0][0]
        cases: list[tuple[list[list[Decision]], PathLift, LiftResult]] = []
        obligations = 0
        statuses = []
        for r, decisions in paths:
            lifted = build_path(host, r)
            text = formula_line(lifted.formula)
            same = next((c for c in cases if formula_line(c[1].formula) == text), None)
            if same is not None:
                same[0].append(decisions)
                continue
            f = lifted.formula
            decls = {t.name: t for t in f.tensors}
            try:
                parsed = parse_formula(text, name=f.name, params=f.params, tensors=decls, kinds=lifted.kinds)
                formula = Formula(
                    f.name, f.params, f.tensors, parsed.assigns, f.returns, f.allocs, f.assumptions
                )
            except ValueError as e:
                formula = f
                res.message = f"formula_raw does not parse back ({e}); the built formula was verified"
            clock.lap("synthesis")
            problem = Problem(lifted.spec, formula, (), lifted.maps, lifted.wits, [])
            outcome = verify(problem, options.solver_timeout_ms, options.seed)
            clock.lap("verification")
            obligations += outcome.obligations
            statuses.append(outcome.status)
            part = LiftResult(
                name=host.name,
                kind="operator",
                file=host.file,
                line=host.line,
                kernels=kernels,
                status=outcome.status,
            )  # type: ignore[arg-type]
            part.counterexample, part.message = outcome.counterexample, outcome.message
            sch = lifted.schema
            emit(part, formula, options, torch=lambda shown, sch=sch: pointwise_torch(shown, sch))
            clock.lap("simplification")
            part.assumptions = list(dict.fromkeys(r.assumptions))
            cases.append(([decisions], lifted, part))
            if outcome.status == "refuted":
                break
        order = ("refuted", "unknown", "unsupported", "error")
        worst = next((s for s in order if s in statuses), "verified")
        res.status = worst  # type: ignore[assignment]
        bad = next((c[2] for c in cases if c[2].status == worst), cases[0][2])
        res.counterexample = bad.counterexample
        res.proof = Proof(solver=SOLVER, obligations=obligations)
        common = [
            "tensor parameters are tensors with a real dtype and scalar parameters real Python numbers "
            "(the operator's float overload)",
            f"{cases[0][1].formula.assigns[0].index[0]} is the flat index (C order) of the broadcast shape of the "
            "tensors read; each tensor is read broadcast to that shape",
            WRAPPER_ASSUMPTION,
            REAL_ASSUMPTION,
        ]
        if len(cases) == 1 and not raising:
            part = cases[0][2]
            res.formula, res.formula_raw, res.latex, res.torch = (
                part.formula,
                part.formula_raw,
                part.latex,
                part.torch,
            )
            res.proof.rules = part.proof.rules
            res.add_message(part.message)
            res.assumptions = common + part.assumptions
        else:
            _combine(res, [(ps, lifted.formula.params, part) for ps, lifted, part in cases], raising, common)
    except LiftError as e:
        res.status = e.status  # type: ignore[assignment]
        res.message = e.located() if e.file else f"{host.file}:{host.line}: {e.message}"
    except Exception as e:  # a bug of ours: no proof, no counterexample, and the run goes on
        res.status, res.message = "unknown", internal_error(host.file, host.line, e)
    res.seconds = clock.finish()
    return res


STATUS_ORDER = ("refuted", "unknown", "unsupported", "error")


def combine_cases(
    res: LiftResult,
    cases: list[tuple[list[list[Decision]], Any, LiftResult]],
    raising: list[tuple[HostRaises, list[Decision]]],
    common: list[str] | None = None,
) -> None:
    """One result from the results of groups of host paths that differ in tests on Python values: each case
    is (the decisions of each of its paths, the formula's parameters or None, its result). The status is the
    worst case's (refuted > unknown > unsupported > error > verified)."""
    merged: list[tuple[list[list[Decision]], Any, LiftResult]] = []
    for ps, params, part in cases:  # groups with the same result (formula and code) are one case
        same = next(
            (
                c
                for c in merged
                if c[2].status == part.status == "verified"
                and c[2].formula_raw == part.formula_raw
                and c[2].torch == part.torch
            ),
            None,
        )
        if same is not None:
            same[0].extend(ps)
        else:
            merged.append((list(ps), params, part))
    cases = merged
    if len(cases) == 1:  # one formula wherever the host returns: the raising paths are assumptions
        part = cases[0][2]
        for k in ("status", "formula", "formula_raw", "latex", "torch", "counterexample", "message", "proof"):
            setattr(res, k, getattr(part, k))
        raises = [
            f"the host raises where {_describe(d)} ({e.located()}): no result there" for e, d in raising
        ]
        res.assumptions = list(dict.fromkeys([*(common or []), *part.assumptions, *raises]))
        return
    statuses = [p.status for _ps, _params, p in cases]
    worst = next((s for s in STATUS_ORDER if s in statuses), "verified")
    res.status = worst  # type: ignore[assignment]
    bad = next(p for _ps, _params, p in cases if p.status == worst)
    res.counterexample = bad.counterexample
    res.proof = Proof(solver=bad.proof.solver, obligations=sum(p.proof.obligations for _ps, _pa, p in cases))
    _combine(res, cases, raising, list(common or []))


def _combine(
    res: LiftResult,
    cases: list[tuple[list[list[Decision]], Any, LiftResult]],
    raising: list[tuple[HostRaises, list[Decision]]],
    common: list[str],
) -> None:
    """Several host paths with different formulas: each shown under its condition; torch code dispatches."""
    conds = []
    for paths, _lifted, _part in cases:
        try:
            conds.append(paths_condition(paths))
        except ValueError:
            texts = [_describe(d) for d in paths]
            conds.append(texts[0] if len(texts) == 1 else " or ".join(f"({t})" for t in texts))
    # the formulas shown: cases with the same formula (their code may differ, e.g. in the output's dtype) are
    # one line under the union of their conditions, no condition when that covers every path; a failed case
    # has no formula (its reason is in the message)
    lines: dict[str, tuple[list[list[Decision]], LiftResult]] = {}
    for ps, _l, p in cases:
        if p.formula:
            lines.setdefault(p.formula_raw, ([], p))[0].extend(ps)
    shown = []
    for ps, p in lines.values():
        try:
            c = paths_condition(ps)
        except ValueError:
            c = " or ".join(f"({_describe(d)})" for d in ps)
        shown.append(("" if c == "True" else c, p))
    res.formula = "; ".join(f"[{c}] {p.formula}" if c else p.formula for c, p in shown)
    res.formula_raw = "; ".join(f"[{c}] {p.formula_raw}" if c else p.formula_raw for c, p in shown)
    res.latex = r" \quad ".join(rf"\text{{{_latex_text(c)}}}:\ {p.latex}" if c else p.latex for c, p in shown)
    rules: list[str] = []
    for _ps, _l, p in cases:
        rules += [r for r in p.proof.rules if r not in rules]
    res.proof.rules = rules
    msgs = [
        f"verified on each of {len(cases)} groups of host paths split by tests on Python values"
        if res.status == "verified"
        else ""
    ]
    msgs += [f"[{c}] {p.message}" for c, (_ps, _l, p) in zip(conds, cases, strict=True) if p.message]
    msgs += [f"where {_describe(d)}: {e.located()}" for e, d in raising]
    res.message = "; ".join(m for m in msgs if m)
    assumptions = list(common)
    for c, (_ps, _l, p) in zip(conds, cases, strict=True):
        assumptions += [a if len(cases) == 1 else f"[{c}] {a}" for a in p.assumptions]
    res.assumptions = list(dict.fromkeys(assumptions))
    try:
        res.torch = _dispatcher(res.name, cases, conds, raising)
    except ValueError as e:
        res.torch = ""
        res.add_message(f"no torch code: {e}")


def _latex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("{", r"\{").replace("}", r"\}")


def _dispatcher(
    name: str,
    cases: list[tuple[list[list[Decision]], Any, LiftResult]],
    conds: list[str],
    raising: list[tuple[HostRaises, list[Decision]]],
) -> str:
    """One torch function per path, and the host's Python tests choosing between them."""
    params = next((c[1] for c in cases if c[1] is not None), None)
    if params is None:
        raise ValueError("no path has a formula")
    parts: list[str] = []
    for p in params:
        if p.keyword_only and "*" not in parts:  # `def f(x, *, dtype=None)`: the same signature
            parts.append("*")
        parts.append(p.name if p.default is None else f"{p.name}={p.default}")
    sig = ", ".join(parts)
    call = ", ".join(f"{p.name}={p.name}" if p.keyword_only else p.name for p in params)
    lines = [f"def {name}({sig}):"]
    for k, (_ps, _l, part) in enumerate(cases):
        if not part.torch:  # a case that was not lifted: its branch says so
            msg = f"not lifted on this host path: {part.status}"
            lines += [f"    def _path{k}(*args, **kwargs):", f"        raise NotImplementedError({msg!r})"]
            continue
        code = part.torch.replace(f"def {name}(", f"def _path{k}(", 1)
        lines += ["    " + ln if ln else "" for ln in code.rstrip("\n").splitlines()]
    for e, d in raising:
        cond = path_condition(d)
        lines.append(f"    if {cond}:")
        lines.append(f"        raise ValueError({e.message!r})")
    for k in range(len(conds)):
        lines.append(f"    if {paths_condition(cases[k][0])}:")
        lines.append(f"        return _path{k}({call})")
    lines.append('    raise ValueError("no host path of the lifted operator applies")')
    return "\n".join(lines) + "\n"
