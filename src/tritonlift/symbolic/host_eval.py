"""Evaluate a host function symbolically: tensors with symbolic shapes/strides, block sizes, the launch."""

from __future__ import annotations

import ast
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from tritonlift.errors import LiftError, Unknown, Unsupported
from tritonlift.frontend.source import HostFunction, SourceModule, qualname
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Alloc, TensorDecl
from tritonlift.ir.poly import norm
from tritonlift.options import Options
from tritonlift.result import LiftResult, Proof
from tritonlift.symbolic import host_rank
from tritonlift.symbolic.host_paths import Decider, negate
from tritonlift.symbolic.host_rank import RankState, SymSizes
from tritonlift.symbolic.kernel_eval import _PY_BINOPS, KernelEvaluator
from tritonlift.symbolic.params import classify
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.symbolic.undefined import undefined_tags, zero_filled
from tritonlift.symbolic.values import PtrBlock, scalar


class _Returned(Exception):
    """A `return` of the host function: evaluation of that path stops there."""


class _CalleeReturned(Exception):
    """A `return` of a function the host calls from another module of its package (HostEvaluator.call_other)."""

    def __init__(self, value: Any):
        self.value = value


# calls of other modules' functions nested deeper than this are not followed
MAX_CALLEE_DEPTH = 4


class HostRaises(Unsupported):
    """The host raises on this path (`raise ValueError(...)`): the path computes nothing to verify."""


# Host values that compare without being numbers: `approximate == "tanh"`, `B.device != A.device`,
# `mini is None` on a parameter that defaults to None. Each such test is an opaque boolean named by its
# source text (ir.var of kind BOOL): a branch on it splits the host's paths, and each path's result holds
# under that path's condition. Python numbers never reach this: they compare exactly.
def opaque_condition(text: str) -> Expr:
    return ir.var(text, Kind.BOOL)


def is_opaque_condition(e: Expr) -> bool:
    return e.op is Op.VAR and e.kind is Kind.BOOL


# isinstance() on host values: what a tensor parameter, a scalar parameter and a Python number are (the
# operator is lifted for real-valued tensors and real Python numbers: its float overload)
_TENSOR_TYPES = ("torch.Tensor",)
_REAL_TYPES = ("int", "float", "bool", "numbers.Number", "numbers.Real")
_NON_REAL_TYPES = ("complex", "numbers.Complex", "str", "list", "tuple", "dict")
# dtypes a `.to(...)` may name and still keep the values (reals: a float cast is an identity)
_FLOAT_DTYPES = ("torch.float16", "torch.float32", "torch.float64", "torch.bfloat16", "torch.half",
                 "torch.float", "torch.double")


@dataclass
class HostTensor:
    name: str  # the tensor's identity (parameter name or the variable it was allocated into)
    shape: tuple[Expr, ...] | None  # None: rank unknown, seen as a flat contiguous vector
    strides: tuple[Expr, ...] | None
    contiguous: bool
    alloc: Alloc | None = None
    flat_numel: Expr | None = None  # for a tensor of unknown rank: its element count
    rank: Any = None  # for a tensor of symbolic rank: its shape's chain (symbolic/host_rank.RankChain)

    def numel(self) -> Expr:
        if self.shape is None and self.rank is not None:
            return self.rank.numel()
        if self.shape is None:
            return self.flat_numel if self.flat_numel is not None else ir.var(f"{self.name}.numel()")
        out: Expr = ir.ONE
        for s in self.shape:
            out = ir.mul(out, s)
        return norm(out)

    def decl(self) -> TensorDecl:
        if self.shape is None:
            return TensorDecl(self.name, (self.numel(),), (ir.ONE,), self.name)
        assert self.strides is not None
        return TensorDecl(self.name, self.shape, self.strides, self.name)


def _shape_of(node: ast.expr) -> str | None:
    """`x.shape` -> "x"."""
    if isinstance(node, ast.Attribute) and node.attr == "shape" and isinstance(node.value, ast.Name):
        return node.value.id
    return None


def contiguous_strides(shape: tuple[Expr, ...]) -> tuple[Expr, ...]:
    out: list[Expr] = []
    acc: Expr = ir.ONE
    for s in reversed(shape):
        out.append(acc)
        acc = norm(ir.mul(acc, s))
    return tuple(reversed(out))


@dataclass
class HostState:
    scope: dict[str, Any] = field(default_factory=dict)
    facts: list[Expr] = field(default_factory=list)
    # exact but costly facts (next_power_of_2 is a power of two): used only when a counterexample is sought
    # again after z3's first model did not replay (verify.check), never slowing a proof
    refine: list[Expr] = field(default_factory=list)
    derived: dict[str, tuple[str, Expr]] = field(default_factory=dict)  # symbols defined by a host function
    assumptions: list[str] = field(default_factory=list)
    launches: list[KernelSpec] = field(default_factory=list)
    returns: tuple[str, ...] = ()
    allocs: list[Alloc] = field(default_factory=list)
    made_contiguous: list[str] = field(default_factory=list)  # parameters replaced by x.contiguous()
    # parameters that hold Python flags (a True/False default): tests on them choose code, not sizes
    python_vars: set[str] = field(default_factory=set)
    counter: int = 0
    undefined: list[str] = field(default_factory=list)  # loads without other= whose masked lanes reach a store
    decided: list[Expr] = field(default_factory=list)  # the facts this path's branch decisions added
    ranks: RankState = field(default_factory=RankState)  # shapes of symbolic rank (symbolic/host_rank.py)


class HostEvaluator:
    def __init__(
        self, module: SourceModule, host: HostFunction, decider: Decider | None = None, invariant_patterns: bool = True,
        zero_fill: bool = False,
    ):
        self.module, self.host = module, host
        self.zero_fill = zero_fill  # masked-off lanes of loads without other= read 0 (symbolic/undefined.py)
        self.invariant_patterns = invariant_patterns  # off (ablation): kernel loops are not summarized
        self.st = HostState()
        self.line = host.line
        self.decider = decider or Decider()
        self.callee_depth = 0  # > 0 while evaluating a function of another module (call_other)

    def err(self, msg: str, node: ast.AST | None = None) -> Unsupported:
        return Unsupported(msg, self.host.file, getattr(node, "lineno", self.line))

    def run(self) -> HostState:
        fn = self.host.node
        args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        used_as_tensor = self._tensor_params()
        for a in args:
            if a.arg in used_as_tensor:
                self.st.scope[a.arg] = HostTensor(a.arg, self._rank_shape(a.arg), None, False)
                t = self.st.scope[a.arg]
                if t.shape is not None:
                    t.strides = tuple(ir.var(f"{a.arg}.stride({k})") for k in range(len(t.shape)))
                    self.st.facts += [ir.le(ir.ZERO, s) for s in t.shape]
                    if a.arg not in self._rank_exact:
                        # read off the highest index the host uses (x.shape[1], x.stride(1)): the host may accept
                        # other ranks, which the result does not cover
                        self._assume(f"{a.arg}.ndim == {len(t.shape)}")
                else:  # symbolic rank: its shape is a chain of size products (symbolic/host_rank.py)
                    t.rank = self.st.ranks.chain(a.arg)
                    self.st.facts += [ir.le(ir.ZERO, t.rank.ndim), ir.le(ir.ZERO, t.rank.numel())]
            else:
                self.st.scope[a.arg] = ir.var(a.arg, self._scalar_kind(a.arg))
        self.initial = dict(self.st.scope)
        self.none_defaults = self._none_defaults()
        self.st.python_vars = self._flag_params()
        try:
            for stmt in fn.body:
                self.exec(stmt)
        except _Returned:
            pass
        return self.st

    def _flag_params(self) -> set[str]:
        a = self.host.node.args
        pos = a.posonlyargs + a.args
        pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True))
        pairs += [(x, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
        return {x.arg for x, d in pairs if isinstance(d, ast.Constant) and isinstance(d.value, bool)}

    def _none_defaults(self) -> set[str]:
        """Parameters whose default is None: `p is None` is an open question on them (an opaque condition)."""
        a = self.host.node.args
        pos = a.posonlyargs + a.args
        pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True))
        pairs += [(x, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
        return {x.arg for x, d in pairs if isinstance(d, ast.Constant) and d.value is None}

    def _tensor_params(self) -> set[str]:
        names = set()
        launched = set()
        self.kernel_kinds: dict[str, Kind] = {}
        for ln in self.host.launches:
            kfn = self.module.jit[ln.kernel]
            ptrs, kinds = classify(self.module, kfn)
            pairs = list(zip([p.name for p in kfn.params], ln.args, strict=False)) + [
                (k, v) for k, v in ln.kwargs.items()
            ]
            for pname, a in pairs:
                if isinstance(a, ast.Name):
                    if pname in ptrs:
                        launched.add(a.id)
                    elif pname in kinds:
                        self.kernel_kinds[a.id] = kinds[pname]
        for node in ast.walk(self.host.node):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in (
                "shape", "stride", "numel", "contiguous", "size", "dim", "ndim", "dtype", "device", "is_contiguous",
            ):
                names.add(node.value.id)
            if isinstance(node, ast.Call) and qualname(node.func, self.module.aliases) in (
                "torch.empty_like", "torch.zeros_like",
            ):
                names |= {a.id for a in node.args if isinstance(a, ast.Name)}
        return names | {n for n in launched if self._param_named(n)}

    def _param_named(self, n: str) -> bool:
        a = self.host.node.args
        return n in {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}

    def _rank_shape(self, name: str, asserted: bool = True) -> tuple[Expr, ...] | None:
        """The shape of tensor parameter `name`, of the rank its uses need; a tuple unpacking `m, n = x.shape`
        fixes the rank exactly (Python raises otherwise), other uses give a lower bound (see run())."""
        rank = -1
        if not hasattr(self, "_rank_exact"):
            self._rank_exact: set[str] = set()
        for node in ast.walk(self.host.node):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
                v = node.value
                if isinstance(v.value, ast.Name) and v.value.id == name and v.attr == "shape":
                    t = node.targets[0]
                    if isinstance(t, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in t.elts):
                        rank = max(rank, len(t.elts))
                        self._rank_exact.add(name)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
                v = node.value
                shape_of_name = isinstance(v.value, ast.Name) and v.value.id == name and v.attr == "shape"
                if shape_of_name and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                    rank = max(rank, node.slice.value + 1 if node.slice.value >= 0 else -1)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                f = node.func
                method_of_name = isinstance(f.value, ast.Name) and f.value.id == name and f.attr in ("stride", "size")
                if method_of_name and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, int):
                    rank = max(rank, node.args[0].value + 1)
        if rank < 0 and asserted:
            rank = self._asserted_rank(name)
            if rank >= 0:  # `assert b.shape == (N,)`: Python raises for any other rank
                self._rank_exact.add(name)
        if rank < 0:
            return None
        return tuple(ir.var(f"{name}.shape[{k}]") for k in range(rank))

    def _asserted_rank(self, name: str) -> int:
        """The rank an `assert name.shape == (a, b)` states, or `assert name.shape == other.shape` with
        other's rank known from its own uses; -1 when no assertion says."""
        for node in ast.walk(self.host.node):
            if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)):
                continue
            items = [node.test.left, *node.test.comparators]
            if not all(isinstance(op, ast.Eq) for op in node.test.ops) or not any(
                _shape_of(it) == name for it in items
            ):
                continue
            for it in items:
                if isinstance(it, ast.Tuple):
                    return len(it.elts)
                other = _shape_of(it)
                if other is not None and other != name:
                    shape = self._rank_shape(other, asserted=False)  # from other's own uses only
                    if shape is not None:
                        return len(shape)
        return -1

    def _scalar_kind(self, name: str) -> Kind:
        fn = self.host.node
        args = fn.args.posonlyargs + fn.args.args
        defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
        for a, d in zip(args, defaults, strict=True):
            if a.arg == name:
                if isinstance(d, ast.Constant) and isinstance(d.value, float):
                    return Kind.REAL
                if a.annotation is not None and ast.unparse(a.annotation) == "float":
                    return Kind.REAL
        return getattr(self, "kernel_kinds", {}).get(name, Kind.INT)

    # -- statements --------------------------------------------------------------------------------
    def exec(self, st: ast.stmt) -> None:
        self.line = st.lineno
        match st:
            case ast.Assign(targets=targets, value=value):
                v = self.eval(value)
                for t in targets:
                    self.assign(t, v, value)
            case ast.AnnAssign(target=target, value=value) if value is not None:
                self.assign(target, self.eval(value), value)
            case ast.Expr(value=ast.Constant()):
                return
            case ast.Expr(value=value) if self.is_logging(value):
                return  # logger.debug("GEMS SUM"): no effect on any tensor
            case ast.Expr(value=value):
                self.eval(value)
            case ast.With(items=items, body=body) if all(self.is_device_guard(i.context_expr) for i in items):
                for s in body:  # `with torch_device_fn.device(x.device):` only picks the current device
                    self.exec(s)
            case ast.Assert(test=test):
                self.assert_(test)  # noqa: UP005 (our own method, not unittest)
            case ast.Return(value=value) if self.callee_depth > 0:  # in a function called from the host
                raise _CalleeReturned(self.eval(value) if value is not None else None)
            case ast.Return(value=value):
                v = self.eval(value) if value is not None else None
                items = v if isinstance(v, tuple) else (v,)
                if not all(isinstance(x, HostTensor) for x in items):
                    raise self.err("the operator returns something other than tensors", st)
                self.st.returns = tuple(x.name for x in items)
                raise _Returned  # the rest of the function does not run on this path
            case ast.If(test=test, body=body, orelse=orelse):
                for s in body if self.decide(self.eval(test), st) else orelse:
                    self.exec(s)
            case ast.Pass():
                return
            case ast.AugAssign(target=ast.Name(id=name), op=op, value=value):
                self.st.scope[name] = self.binop(op, self.eval(ast.Name(name, ast.Load())), self.eval(value), st)
            case ast.For() if host_rank.product_loop(self, st):
                return  # `for i in range(dim): M *= x.shape[i]` (symbolic/host_rank.py)
            case ast.For() if host_rank.fill_loop(self, st):
                return  # `for i in range(0, x.dim()): shape[i] = 1` (symbolic/host_rank.py)
            case ast.Raise(exc=exc):
                shown = ast.unparse(exc) if exc is not None else "raise"
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                raise HostRaises(f"the host raises {shown} on this path", self.host.file, st.lineno)
            case _:
                raise self.err(f"host statement {type(st).__name__} is not modelled", st)

    def decide(self, c: Any, node: ast.AST) -> bool:
        """A host branch: concrete, or split on a size condition (symbolic/host_paths.py)."""
        if isinstance(c, (bool, int)) and not isinstance(c, Expr):
            return bool(c)
        if isinstance(c, Expr) and c.kind is Kind.INT:
            c = ir.compare(Op.NE, c, ir.ZERO)
        if not (isinstance(c, Expr) and c.kind is Kind.BOOL):
            raise self.err("data-dependent host branches are not modelled", node)
        taken = self.decider.choose(c, self.st.facts, getattr(node, "lineno", self.line))
        self.st.facts.append(c if taken else negate(c))
        self.st.decided.append(self.st.facts[-1])
        return taken

    def is_logging(self, node: ast.expr) -> bool:
        """`logger.debug(...)` on a module-level `logger = logging.getLogger(...)`, or `logging.info(...)`."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return False
        if node.func.attr not in _LOG_METHODS or not isinstance(node.func.value, ast.Name):
            return False
        name = node.func.value.id
        if self.module.aliases.get(name) == "logging":
            return True
        made = self.module.constants.get(name)
        return (
            name not in self.st.scope
            and isinstance(made, ast.Call)
            and qualname(made.func, self.module.aliases) == "logging.getLogger"
        )

    def is_device_guard(self, node: ast.expr) -> bool:
        """`torch_device_fn.device(t.device)` / `torch.cuda.device(...)`: a current-device context."""
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "device"
            and len(node.args) == 1
            and not node.keywords
        )

    def assign(self, target: ast.expr, v: Any, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if isinstance(v, HostTensor) and v.alloc is not None and v.alloc.name.startswith("_alloc"):
                from dataclasses import replace

                a = replace(v.alloc, name=target.id)
                self.st.ranks.renamed(v.alloc.name, target.id)
                self.st.allocs = [x for x in self.st.allocs if x is not v.alloc] + [a]
                v = HostTensor(target.id, v.shape, v.strides, True, a, v.flat_numel, v.rank)
            self.st.scope[target.id] = v
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and not isinstance(
                target.slice, ast.Slice):  # `shape[dim] = 1` on a list of symbolic length
            host_rank.set_item(self, target.value.id, self.eval(target.slice), v, target)
        elif isinstance(target, ast.Tuple):
            if not isinstance(v, tuple) or len(v) != len(target.elts):
                raise self.err("tuple assignment of a non-tuple", target)
            for t, x in zip(target.elts, v, strict=True):
                self.assign(t, x, value)
        else:
            raise self.err(f"host assignment to {type(target).__name__}", target)

    def assert_(self, test: ast.expr) -> None:
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            for v in test.values:  # `assert a and b`: both hold past it (no path split on either)
                self.assert_(v)  # noqa: UP005 (our own method)
            return
        if self._assert_same_shapes(test):
            return
        try:
            c = self.eval(test)
        except LiftError:
            return  # an assertion we cannot read is not used
        if c is False:
            raise HostRaises(f"the host's assertion {ast.unparse(test)} fails on this path", self.host.file,
                             test.lineno)
        if isinstance(c, Expr) and c.kind is Kind.BOOL:
            self.st.facts.append(c)
            from tritonlift.ir.printer import to_text

            self.st.assumptions.append(to_text(c))

    def _assert_same_shapes(self, test: ast.expr) -> bool:
        """`assert x.shape == y.shape [== ...]` over tensors of unknown rank (each seen as a flat vector):
        the fact that their element counts agree, and the assumption as written. True when handled."""
        if not (isinstance(test, ast.Compare) and all(isinstance(op, ast.Eq) for op in test.ops)):
            return False
        names = [_shape_of(it) for it in (test.left, *test.comparators)]
        tensors = [self.st.scope.get(n) for n in names if n is not None]
        if None in names or not all(isinstance(t, HostTensor) and t.shape is None for t in tensors):
            return False
        counts = [t.numel() for t in tensors if isinstance(t, HostTensor)]
        self.st.facts += [ir.eq(a, b) for a, b in itertools.pairwise(counts)]
        self.st.assumptions.append(" == ".join(f"{n}.shape" for n in names))
        return True

    # -- expressions -------------------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        match node:
            case ast.Constant(value=v):
                return v
            case ast.Name(id=n):
                if n in self.st.scope:
                    return self.st.scope[n]
                if n in self.module.constants:
                    return self.eval(self.module.constants[n])
                return ("ref", self.module.aliases.get(n, n))
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                return tuple(self.eval(e) for e in elts)
            case ast.Attribute(value=base, attr=a):
                b = self.eval(base)
                if isinstance(b, HostTensor):
                    if a == "shape":
                        if b.shape is None and b.rank is not None:  # symbolic rank (symbolic/host_rank.py)
                            return self.st.ranks.shape(b.rank.owner)
                        if b.shape is None:
                            raise self.err(f"rank of {b.name} is unknown here", node)
                        return b.shape
                    if a in ("dtype", "device"):
                        return ("attr", b.name, a)
                    if a == "ndim":
                        return len(b.shape) if b.shape is not None else ir.var(f"{b.name}.ndim")
                    return ("method", b, a)
                if isinstance(b, tuple) and b and b[0] == "ref":
                    return ("ref", f"{b[1]}.{a}")
                raise self.err(f"host attribute .{a} is not modelled", node)
            case ast.Subscript(value=base, slice=sl):
                b = self.eval(base)
                if isinstance(b, SymSizes):
                    return host_rank.subscript(self, b, sl, node)
                if isinstance(b, HostTensor) or (isinstance(b, tuple) and b and b[0] == "attr"):
                    raise self.err("host subscript is not modelled", node)
                i = self.eval(sl)
                if isinstance(b, tuple) and isinstance(i, int):
                    return b[i]
                if isinstance(b, dict) and isinstance(i, str):
                    if i not in b:  # a heuristic reading a pointer argument (`args["x"] is not None`)
                        raise self.err(f"host value {i!r} is not known here", node)
                    return b[i]
                raise self.err("host subscript is not modelled", node)
            case ast.BinOp(left=l_, op=op, right=r_):
                return self.binop(op, self.eval(l_), self.eval(r_), node)
            case ast.UnaryOp(op=ast.USub(), operand=o):
                v = self.eval(o)
                return -v if isinstance(v, (int, float)) else ir.neg(v)
            case ast.UnaryOp(op=ast.Not(), operand=o):
                v = self.eval(o)
                if isinstance(v, (bool, int)) and not isinstance(v, Expr):
                    return not v
                if isinstance(v, Expr) and v.kind is Kind.BOOL:
                    return negate(v)
                if isinstance(v, Expr) and v.kind is Kind.INT:  # `not keepdim`: Python's truth of a number
                    return ir.compare(Op.EQ, v, ir.ZERO)
                raise self.err("host `not` on a value that is not a condition", node)
            case ast.BoolOp(op=op, values=values):
                return self.boolop(op, values, node)
            case ast.Compare(left=l_, ops=[ast.Is() | ast.IsNot() as op], comparators=[r_]):
                return self.is_test(op, l_, r_, node)
            case ast.Compare(left=l_, ops=[op], comparators=[r_]):
                a, b = self.eval(l_), self.eval(r_)
                if isinstance(op, (ast.Eq, ast.NotEq)) and (_non_number(a) or _non_number(b)):
                    return self.opaque_compare(op, a, b, node)
                return self.compare(op, a, b, node)
            case ast.Dict(keys=keys, values=vals):
                return {self.eval(k): self.eval(v) for k, v in zip(keys, vals, strict=True) if k is not None}
            case ast.Call():
                return self.call(node)
            case ast.Lambda():
                return node
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.eval(body if self.decide(self.eval(test), node) else orelse)
            case _:
                raise self.err(f"host expression {type(node).__name__} is not modelled", node)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        r = host_rank.binop(self, op, a, b, node)
        if r is not host_rank.NOT_HANDLED:
            return r
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and type(op) in _PY_BINOPS:
            return _PY_BINOPS[type(op)](a, b)
        x, y = _e(a), _e(b)
        match op:
            case ast.Add():
                return norm(ir.add(x, y)) if x.kind is Kind.INT and y.kind is Kind.INT else ir.add(x, y)
            case ast.Sub():
                return norm(ir.sub(x, y)) if x.kind is Kind.INT and y.kind is Kind.INT else ir.sub(x, y)
            case ast.Mult():
                return norm(ir.mul(x, y)) if x.kind is Kind.INT and y.kind is Kind.INT else ir.mul(x, y)
            case ast.FloorDiv():
                self.nonzero_divisor(y)
                return ir.arith(Op.FLOORDIV, x, y)
            case ast.Mod():
                self.nonzero_divisor(y)
                return ir.arith(Op.MOD, x, y)
            case ast.Div():
                return ir.div(x, y)
        raise self.err("host operator is not modelled", node)

    def is_none(self, v: Any, node: ast.AST) -> Any:
        """`v is None`: False for tensors and numbers the host computed; for an optional parameter that
        defaults to None (`dtype=None`) a host branch on a boolean symbol `<name> is None`, split like any
        other (symbolic/host_paths.py), so each side is proved on its own path."""
        if v is None:
            return True
        if isinstance(v, Expr) and v.op is Op.VAR and self._defaults_to_none(str(v.attr)):
            return ir.var(f"{v.attr} is None", Kind.BOOL)
        if isinstance(v, (HostTensor, int, float)) or (isinstance(v, Expr) and v.op is not Op.VAR):
            return False
        if isinstance(v, tuple) and v and v[0] in ("attr", "ref"):
            return False  # x.dtype, torch.float32: never None
        raise self.err("host `is None` test of a value that is not modelled", node)

    def _param_default(self, name: str) -> ast.expr | None:
        """The default value of the host's parameter `name`, as written (None: it has none)."""
        a = self.host.node.args
        pos = a.posonlyargs + a.args
        pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True))
        pairs += [(x, d) for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
        return next((d for x, d in pairs if x.arg == name), None)

    def _defaults_to_none(self, name: str) -> bool:
        d = self._param_default(name)
        return isinstance(d, ast.Constant) and d.value is None

    def nonzero_divisor(self, y: Expr) -> None:
        """Python raises ZeroDivisionError on `a // 0`: past this point the host has y != 0 (not an assumption).
        A divisor that is an int parameter with a positive default (`sm_count=108`) is a count: taken >= 1,
        and said so (a negative count divides into nonsense the host does not guard against)."""
        if y.is_const:
            return
        self.st.facts.append(ir.compare(Op.NE, y, ir.ZERO))
        default = self._int_default(str(y.attr)) if y.op is Op.VAR else None
        if default is not None and default >= 1:
            self.st.facts.append(ir.le(ir.ONE, y))
            self._assume(f"{y.attr} >= 1 (a count the host divides by; its default is {default})")

    def _int_default(self, name: str) -> int | None:
        d = self._param_default(name)
        return d.value if isinstance(d, ast.Constant) and type(d.value) is int else None

    def compare(self, op: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op, (ast.Is, ast.IsNot)) and (a is None or b is None):
            test = self.is_none(b if a is None else a, node)
            return test if isinstance(op, ast.Is) else (not test if isinstance(test, bool) else ir.not_(test))
        if isinstance(a, tuple) != isinstance(b, tuple):
            raise self.err("host comparison of a list or tuple with a number is not modelled", node)
        if isinstance(a, tuple) and isinstance(b, tuple) and isinstance(op, ast.Eq):
            if len(a) != len(b):
                return False
            return ir.and_(*[ir.eq(_e(x), _e(y)) for x, y in zip(a, b, strict=True)])
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return {ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b, ast.GtE: a >= b, ast.Eq: a == b,
                    ast.NotEq: a != b}[type(op)]
        ops = {ast.Lt: Op.LT, ast.LtE: Op.LE, ast.Gt: Op.GT, ast.GtE: Op.GE, ast.Eq: Op.EQ, ast.NotEq: Op.NE}
        if type(op) not in ops:
            raise self.err("host comparison is not modelled", node)
        return ir.compare(ops[type(op)], _e(a), _e(b))

    def boolop(self, op: ast.boolop, values: list[ast.expr], node: ast.AST) -> Any:
        """`a and b`, `a or b` on conditions, with Python's short-circuit: a symbolic operand is decided as a
        host branch (each side is a path), so an operand is evaluated only where Python evaluates it
        (`dim is None or len(dim) == 0`)."""
        is_and = isinstance(op, ast.And)
        for v_node in values:
            v = self.eval(v_node)
            if isinstance(v, Expr) and v.kind is Kind.BOOL:
                v = self.decide(v, v_node)
            elif not (isinstance(v, (bool, int)) and not isinstance(v, Expr)):
                raise self.err("host `and`/`or` on a value that is not a condition", node)
            if bool(v) != is_and:  # False in an `and`, True in an `or`: decides the whole test
                return bool(v)
        return is_and

    def is_test(self, op: ast.cmpop, left: ast.expr, right: ast.expr, node: ast.AST) -> Any:
        """`x is None` / `x is not None`: concrete on a value the host made; an opaque condition on a
        parameter that defaults to None and still holds its argument."""
        if not (isinstance(right, ast.Constant) and right.value is None):
            same = self.dtype_test(self.eval(left), self.eval(right), node)
            return same if isinstance(op, ast.Is) else (not same if isinstance(same, bool) else negate(same))
        v = self.eval(left)
        if v is None:
            result: Any = True
        elif (
            isinstance(left, ast.Name)
            and left.id in self.none_defaults
            and self.st.scope.get(left.id) is self.initial.get(left.id)
        ):
            result = opaque_condition(f"{left.id} is None")
        else:
            result = False
        if isinstance(op, ast.IsNot):
            return (not result) if isinstance(result, bool) else negate(result)
        return result

    def dtype_test(self, a: Any, b: Any, node: ast.AST) -> Any:
        """`x.dtype is torch.bool` / `x.dtype == torch.int64`: False for a tensor of a real floating dtype (the
        float overload, an assumption); a test against a float dtype stays open (an opaque condition)."""
        if (isinstance(b, tuple) and b[:1] == ("attr",)) or isinstance(b, Expr):
            a, b = b, a
        if isinstance(a, Expr) and a.op is Op.VAR and isinstance(b, tuple) and b[:1] == ("ref",):
            assert isinstance(node, ast.Compare)  # a dtype the caller passed: an open question
            return opaque_condition(f"{ast.unparse(node.left)} == {ast.unparse(node.comparators[0])}")
        if not (isinstance(a, tuple) and a[:1] == ("attr",) and a[2] == "dtype"):
            raise self.err("host `is` test other than `is None` or on a tensor's dtype", node)
        if not (isinstance(b, tuple) and b[:1] == ("ref",) and str(b[1]).startswith("torch.")):
            raise self.err("host test of a dtype against something that is not a torch dtype", node)
        if b[1] in _FLOAT_DTYPES:
            assert isinstance(node, ast.Compare)
            return opaque_condition(f"{ast.unparse(node.left)} == {ast.unparse(node.comparators[0])}")
        self._assume(f"{a[1]} has a real floating dtype")
        return False

    def opaque_compare(self, op: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        """`==`/`!=` between host values that are not numbers (strings, devices, dtypes): concrete when both
        sides are Python constants, else an opaque condition named by the test's source text."""
        if isinstance(a, (str, bytes, type(None))) and isinstance(b, (str, bytes, type(None))):
            return (a == b) if isinstance(op, ast.Eq) else (a != b)
        dtype_attr = [v for v in (a, b) if isinstance(v, tuple) and v[:1] == ("attr",) and v[2] == "dtype"]
        torch_ref = [v for v in (a, b) if isinstance(v, tuple) and v[:1] == ("ref",) and str(v[1]).startswith("torch.")]
        if dtype_attr and torch_ref:
            same = self.dtype_test(a, b, node)
            return same if isinstance(op, ast.Eq) else (not same if isinstance(same, bool) else negate(same))
        assert isinstance(node, ast.Compare)
        text = f"{ast.unparse(node.left)} == {ast.unparse(node.comparators[0])}"
        c = opaque_condition(text)
        return c if isinstance(op, ast.Eq) else negate(c)

    def isinstance_test(self, value: Any, types: Any, node: ast.AST) -> bool:
        """isinstance() for the float overload: tensors are torch.Tensor with a real dtype, scalar parameters
        are real Python numbers (both stated as assumptions)."""
        names = [t[1] for t in (types if isinstance(types, tuple) and types and types[0] != "ref" else (types,))
                 if isinstance(t, tuple) and len(t) == 2 and t[0] == "ref"]
        if not names:
            raise self.err("isinstance() with a type that is not a name", node)
        hits = []
        for q in names:
            if isinstance(value, HostTensor):
                self._assume(f"{value.name} is a torch.Tensor with a real dtype")
                hits.append(q in _TENSOR_TYPES)
            elif isinstance(value, Expr) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                if isinstance(value, Expr):
                    self._assume(f"{_text(value)} is a real Python number, not a tensor")
                if q in _TENSOR_TYPES or q in _NON_REAL_TYPES:
                    hits.append(False)
                elif q in _REAL_TYPES and isinstance(value, (int, float)):
                    hits.append(isinstance(value, {"int": int, "float": float, "bool": bool}.get(q, (int, float))))
                elif q in ("numbers.Number", "numbers.Real"):
                    hits.append(True)
                else:
                    raise self.err(f"isinstance(..., {q}) on a host number is not modelled", node)
            else:
                raise self.err("isinstance() on this host value is not modelled", node)
        return any(hits)

    def _assume(self, text: str) -> None:
        if text not in self.st.assumptions:
            self.st.assumptions.append(text)

    def fresh(self, prefix: str) -> str:
        self.st.counter += 1
        return f"_{prefix}{self.st.counter}"

    def call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Subscript):
            self.launch(node)
            return None
        f = self.eval(node.func)
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        if isinstance(f, tuple) and f[0] == "method":
            return self.method(f[1], f[2], args, node)
        if not (isinstance(f, tuple) and f[0] == "ref"):
            raise self.err(f"host call of {ast.unparse(node.func)} is not modelled", node)
        q = f[1]
        r = host_rank.call(self, q, args, node)
        if r is not host_rank.NOT_HANDLED:
            return r
        if q == "isinstance" and len(args) == 2:
            return self.isinstance_test(args[0], args[1], node)
        if q in ("torch.empty_like", "torch.zeros_like"):
            src = args[0]
            assert isinstance(src, HostTensor)
            alloc = Alloc(self.fresh("alloc"), src.shape or (src.numel(),), like=src.name,
                          zeros=q.endswith("zeros_like"))
            self.st.allocs.append(alloc)
            if not src.contiguous:
                self.st.assumptions.append(f"{src.name} is contiguous (empty_like keeps its layout)")
            strides = contiguous_strides(src.shape) if src.shape is not None else None
            return HostTensor(alloc.name, src.shape, strides, True, alloc, src.numel() if src.shape is None else None,
                              src.rank)  # same shape: the same chain
        if q in ("torch.empty", "torch.zeros"):
            sym = args[0] if len(args) == 1 and isinstance(args[0], SymSizes) else None
            shape = args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args)
            # a shape of symbolic rank: allocated by its text, viewed flat by its element count
            shape = (sym.product(self.st.facts, f"{self.host.file}:{self.line}"),) if sym else tuple(
                _e(s) for s in shape)
            like = kwargs.get("dtype")
            dl = like[1] if isinstance(like, tuple) and like[0] == "attr" else None
            named = like[1][len("torch."):] if isinstance(like, tuple) and like[0] == "ref" and str(
                like[1]).startswith("torch.") else None
            dev = kwargs.get("device")
            dev_like = dev[1] if isinstance(dev, tuple) and dev[0] == "attr" else None
            alloc = Alloc(self.fresh("alloc"), shape, dtype_like=dl, zeros=q.endswith("zeros"), dtype=named,
                          device_like=dev_like, shape_text=sym.text() if sym else None)
            self.st.allocs.append(alloc)
            if sym is not None:
                self.st.ranks.sizes[alloc.name] = sym
                return HostTensor(alloc.name, None, None, True, alloc, shape[0])
            return HostTensor(alloc.name, shape, contiguous_strides(shape), True, alloc)
        if q == "triton.cdiv":
            a, b = args
            if isinstance(a, int) and isinstance(b, int):
                return -(-a // b)
            c = ir.arith(Op.FLOORDIV, norm(ir.sub(ir.add(_e(a), _e(b)), ir.ONE)), _e(b))
            if not _e(b).is_const:
                # what cdiv means, stated so that the solver need not derive it from `//` (nonlinear):
                # b >= 1  ->  a <= c * b < a + b
                cb = norm(ir.mul(c, _e(b)))
                self.st.facts.append(ir.or_(ir.lt(_e(b), ir.ONE),
                                            ir.and_(ir.le(_e(a), cb), ir.lt(cb, norm(ir.add(_e(a), _e(b)))))))
            return c
        if q == "triton.next_power_of_2":
            (a,) = args
            if isinstance(a, int):
                return 1 << (a - 1).bit_length() if a > 0 else 1
            p = ir.var(f"next_power_of_2({_text(a)})")
            self.st.facts += [ir.le(_e(a), p), ir.le(ir.ONE, p), ir.lt(p, ir.add(ir.mul(ir.const(2), _e(a)), ir.ONE))]
            # a power of two (up to 2^40), and below 2a once a >= 1 (next_power_of_2(1) = 1): exactly triton's
            # value for a >= 1, so a counterexample's block sizes are ones the host really picks
            powers = ir.FALSE
            for k in range(41):
                powers = ir.or_(powers, ir.eq(p, ir.const(1 << k)))
            self.st.refine.append(powers)
            self.st.derived[str(p.attr)] = ("next_power_of_2", _e(a))
            self.st.refine.append(ir.or_(ir.lt(_e(a), ir.ONE), ir.lt(p, ir.mul(ir.const(2), _e(a)))))
            return p
        if q in ("min", "max"):
            if all(isinstance(x, int) for x in args):
                return (min if q == "min" else max)(args)
            out = _e(args[0])
            for x in args[1:]:
                out = ir.minimum(out, _e(x)) if q == "min" else ir.maximum(out, _e(x))
            return out
        if q in ("int", "float") and len(args) == 1:
            return args[0]
        if q.startswith("math."):
            return self.math_call(q[len("math."):], args, node)
        other = self.module.imported_function(q) if "." in q else None
        if other is not None:
            return self.call_other(other[0], other[1], args, kwargs, node)
        raise self.err(f"host call of {q} is not modelled", node)

    def call_other(self, module: SourceModule, fn: ast.FunctionDef, args: list[Any], kwargs: dict[str, Any],
                   node: ast.Call) -> Any:
        """A function of another module of the package (`from pkg.ops.zeros import zero_`), evaluated inline
        with its parameters bound to the call's values, under its own module's names (its kernels, imports,
        constants); its launches are the host's. Errors inside it name its own file and line."""
        if self.callee_depth >= MAX_CALLEE_DEPTH:
            raise self.err(f"host calls nested deeper than {MAX_CALLEE_DEPTH} levels", node)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.err("*args / **kwargs in a host call are not modelled", node)
        a = fn.args
        if a.vararg is not None or a.kwarg is not None:
            raise self.err(f"{fn.name}: *args / **kwargs parameters are not modelled", node)
        positional = a.posonlyargs + a.args
        if len(args) > len(positional) or set(kwargs) - {p.arg for p in positional + a.kwonlyargs}:
            raise self.err(f"host call of {fn.name} with arguments it does not take", node)
        saved = (self.module, self.host, self.st.scope, self.line)
        self.module = module  # defaults and body read the callee's module
        self.host = HostFunction(fn.name, fn, module.path, fn.lineno, [])
        scope: dict[str, Any] = {}
        try:
            defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
            pairs = [*zip(positional, defaults, strict=True), *zip(a.kwonlyargs, a.kw_defaults, strict=True)]
            for k, (p, d) in enumerate(pairs):
                if k < len(args) and k < len(positional):
                    scope[p.arg] = args[k]
                elif p.arg in kwargs:
                    scope[p.arg] = kwargs[p.arg]
                elif d is not None:
                    scope[p.arg] = self.eval(d)
                else:
                    raise self.err(f"argument {p.arg} of {fn.name} is not passed", node)
            self.st.scope = scope
            self.callee_depth += 1
            try:
                for stmt in fn.body:
                    self.exec(stmt)
                return None
            except _CalleeReturned as r:
                return r.value
            finally:
                self.callee_depth -= 1
        finally:
            self.module, self.host, self.st.scope, self.line = saved

    def math_call(self, name: str, args: list[Any], node: ast.AST) -> Any:
        """`math.*` on host numbers: folded when concrete; symbolic ones defined by facts (host_math.py)."""
        from tritonlift.symbolic.host_math import math_value

        v, facts = math_value(name, args)
        if v is None:
            raise self.err(f"host call of math.{name} is not modelled", node)
        self.st.facts += facts
        return v

    def method(self, t: HostTensor, name: str, args: list[Any], node: ast.AST) -> Any:
        if name == "element_size":
            # bytes per element of t's dtype: any real dtype (bool/int8 1 ... float64/int64 8), one symbol per
            # tensor; the proof holds for each of those sizes (complex dtypes are not modelled)
            e = ir.var(f"{t.name}.element_size()")
            fact = ir.or_(ir.or_(ir.eq(e, ir.const(1)), ir.eq(e, ir.const(2))),
                          ir.or_(ir.eq(e, ir.const(4)), ir.eq(e, ir.const(8))))
            if fact not in self.st.facts:
                self.st.facts.append(fact)
                self.st.assumptions.append(f"{t.name} has a real dtype: {t.name}.element_size() in (1, 2, 4, 8)")
            return e
        if name == "data_ptr":
            raise self.err(f"tensor method .{name}() is not modelled", node)
        if name == "contiguous":
            if t.alloc is None and not t.contiguous and t.name not in self.st.made_contiguous:
                self.st.made_contiguous.append(t.name)
            if t.shape is None:
                return HostTensor(t.name, None, None, True, t.alloc, t.flat_numel, t.rank)
            return HostTensor(t.name, t.shape, contiguous_strides(t.shape), True, t.alloc)
        if name == "numel":
            return t.numel()
        if name == "stride" and args and isinstance(args[0], int):
            if t.strides is None:
                raise self.err(f"stride of {t.name} whose rank is unknown", node)
            return t.strides[args[0]]
        if name == "size" and t.shape is None and t.rank is not None:  # symbolic rank
            seq = self.st.ranks.shape(t.rank.owner)
            return host_rank.subscript(self, seq, ast.Constant(args[0]), node) if args else seq
        if name == "size" and args and isinstance(args[0], int):
            if t.shape is None:
                raise self.err(f"size of {t.name} whose rank is unknown", node)
            return t.shape[args[0]]
        if name == "dim":
            return len(t.shape) if t.shape is not None else ir.var(f"{t.name}.ndim")
        if name == "is_contiguous":
            return ir.var(f"{t.name}.is_contiguous()", Kind.BOOL)
        if name in ("is_complex", "is_floating_point") and not args:
            self._assume(f"{t.name} is a torch.Tensor with a real dtype")
            return name == "is_floating_point"
        if name in ("broadcast_to", "expand") and args:
            return self.broadcast(t, args[0] if len(args) == 1 and isinstance(args[0], tuple) else tuple(args), node)
        if name == "to" and len(args) == 1 and not self._value_changing_to(args[0]):
            self._assume("`.to(device or float dtype)` keeps the values (reals: a float cast is an identity)")
            return t
        raise self.err(f"tensor method .{name}() is not modelled", node)

    def broadcast(self, t: HostTensor, target: tuple[Any, ...], node: ast.AST) -> HostTensor:
        """`t.broadcast_to(shape)`: a view of t's memory with the target shape; a dim of size 1 is read with
        stride 0. torch raises unless each of t's dims (right-aligned) is 1 or the target's, so past this
        call that holds (a fact, not an assumption)."""
        if t.shape is None or t.strides is None:
            raise self.err(f"broadcast_to of {t.name}, whose rank is unknown", node)
        shape = tuple(_e(x) for x in target)
        if len(shape) < len(t.shape) or any(s.kind is not Kind.INT for s in shape):
            raise self.err("broadcast_to a shape of lower rank or with non-integer sizes", node)
        lead = len(shape) - len(t.shape)
        strides: list[Expr] = [ir.ZERO] * lead
        for k, (have, st) in enumerate(zip(t.shape, t.strides, strict=True)):
            want = shape[lead + k]
            self.st.facts.append(ir.or_(ir.eq(have, want), ir.eq(have, ir.ONE)))
            strides.append(ir.where(ir.eq(have, ir.ONE), ir.ZERO, st) if have != want else st)
        return HostTensor(t.name, shape, tuple(strides), False, t.alloc)

    @staticmethod
    def _value_changing_to(arg: Any) -> bool:
        """Whether `t.to(arg)` may change values: anything but a device, another tensor's dtype or a float dtype."""
        if isinstance(arg, tuple) and len(arg) == 3 and arg[0] == "attr":
            return False  # x.device, x.dtype (tensors of a real dtype)
        if isinstance(arg, tuple) and len(arg) == 2 and arg[0] == "ref":
            return arg[1] not in _FLOAT_DTYPES
        return True

    def launch(self, node: ast.Call) -> None:
        sub = node.func
        assert isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
        fn = self.module.jit[sub.value.id]
        pointers, kinds = classify(self.module, fn)
        bindings: dict[str, Any] = {}
        params = fn.params
        args = [self.eval(a) for a in node.args]
        kwargs = {k.arg: self.eval(k.value) for k in node.keywords if k.arg}
        values: dict[str, Any] = {}
        for p, a in zip(params, args, strict=False):
            values[p.name] = a
        for k, v in kwargs.items():
            if k in {p.name for p in params}:
                values[k] = v
        meta = self.launch_values(fn, values, node)
        for p in params:
            v = meta[p.name]
            if p.constexpr and p.name in values and isinstance(v, Expr) and v.kind is Kind.BOOL \
                    and not any(n.op in (Op.MEM, Op.UNDEF) for n in ir.walk(v)):
                # a flag the host passes (`EVEN_K=K % BLOCK_K == 0`): Triton compiles one kernel per value,
                # so each value is a host path of its own (the kernel's branch on it then folds)
                v = meta[p.name] = self.decide(v, node)
            if isinstance(v, HostTensor):
                bindings[p.name] = PtrBlock((), v.name, ir.ZERO)
                if p.name not in pointers:
                    pointers.append(p.name)
            elif isinstance(v, (bool, int, float)) and p.constexpr:
                bindings[p.name] = v
            elif isinstance(v, Expr):
                bindings[p.name] = scalar(v)
            elif isinstance(v, (int, float)):
                bindings[p.name] = scalar(ir.const(v))
            elif v is None:
                bindings[p.name] = None
            else:
                raise self.err(f"argument {p.name} of {fn.name} is not modelled", node)
            meta[p.name] = v
        grid = self.grid(self.eval(sub.slice), meta, node)
        pointers = [p for p in pointers if isinstance(values.get(p), HostTensor)]
        from tritonlift.symbolic.dtypes import evaluate_spec

        # the launch's tensors allocated with zeros (a stream-K kernel's lock array: symbolic/streamk.py)
        zeroed = frozenset(p.name for p in params if isinstance(meta[p.name], HostTensor)
                           and meta[p.name].alloc is not None and meta[p.name].alloc.zeros)

        def run(dtypes: Any) -> KernelSpec:
            ev = KernelEvaluator(
                self.module, fn, bindings, pointers, kinds, grid, self.invariant_patterns, elem_dtypes=dtypes
            )
            ev.zeroed = zeroed
            return ev.run()

        key = (self.module.path, hash(self.module.source), fn.name, fn.line, repr(sorted(bindings.items())),
               repr(pointers), repr(sorted(kinds.items())), repr(grid), self.invariant_patterns, zeroed)
        spec = _launch_spec(key, lambda: evaluate_spec(run))
        self.st.undefined += [t for t in undefined_tags(spec) if t not in self.st.undefined]
        if self.zero_fill:
            spec = zero_filled(spec)
        self.st.launches.append(spec)

    def launch_values(self, fn: Any, values: dict[str, Any], node: ast.AST) -> dict[str, Any]:
        """Every parameter's value at a launch, in Triton's order: the arguments passed (or their defaults);
        then the constexprs autotune or a heuristic that is not evaluated here chooses, each a free symbol
        (the one the kernel's own evaluation uses, >= 1) so that the proof holds for every value it may take;
        then the heuristics' lambdas in their decorator's order, each seeing the values before it."""
        heur = {k: v for k, v in fn.heuristics.items() if isinstance(v, ast.Lambda)}
        unread, origin = fn.unread_heuristics()
        missing = object()  # an argument passed as None (`weight=None`) is not a missing one
        meta: dict[str, Any] = {}
        for p in fn.params:
            v = values.get(p.name, missing)
            if v is missing and p.name in heur:
                continue  # computed below
            if v is missing:
                if p.default is not None:
                    v = self.eval(p.default)
                elif p.constexpr:
                    v = ir.var(p.name)  # chosen by autotune / a heuristic we cannot evaluate: any value
                    self.st.facts.append(ir.le(ir.ONE, v))
                    if p.name in unread:
                        self._assume(f"constexpr {p.name} of {fn.name}, chosen by {unread[p.name]} "
                                     f"({origin}), is left free: the result holds for every {p.name} >= 1")
                else:
                    raise self.err(f"argument {p.name} of {fn.name} is not passed", node)
            meta[p.name] = v
        for name, lam in heur.items():
            if name in {p.name for p in fn.params} and name not in meta:
                meta[name] = self.eval_lambda(lam, meta)
        return {p.name: meta[p.name] for p in fn.params}

    def eval_lambda(self, lam: ast.Lambda, meta: dict[str, Any]) -> Any:
        """A heuristics/grid lambda applied to the launch's arguments."""
        saved = dict(self.st.scope)
        self.st.scope[lam.args.args[0].arg] = meta
        try:
            return self.eval(lam.body)
        finally:
            self.st.scope = saved

    def grid(self, g: Any, meta: dict[str, Any], node: ast.AST) -> tuple[Expr, ...]:
        if isinstance(g, ast.Lambda):
            saved = dict(self.st.scope)
            self.st.scope[g.args.args[0].arg] = meta
            try:
                g = self.eval(g.body)
            finally:
                self.st.scope = saved
        if not isinstance(g, tuple):
            g = (g,)
        return tuple(_e(x) for x in g)


# A launch's spec depends only on the module, the kernel and what the launch binds: host paths that reach the
# same launch (most of them) evaluate it once. Each hit is a fresh spec (fresh containers; the expressions are shared).
_LAUNCHES: dict[tuple, Any] = {}
_LAUNCHES_MAX = 256


def _launch_spec(key: tuple, compute: Any) -> KernelSpec:
    import copy

    hit = _LAUNCHES.get(key)
    if hit is None:
        try:
            hit = ("ok", compute())
        except LiftError as e:
            hit = ("raise", e)
        if len(_LAUNCHES) >= _LAUNCHES_MAX:
            _LAUNCHES.pop(next(iter(_LAUNCHES)))
        _LAUNCHES[key] = hit
    if hit[0] == "raise":
        raise hit[1]
    # a fresh spec with fresh containers (callers extend its notes); the expressions are immutable, shared
    spec = copy.copy(hit[1])
    for name, value in vars(spec).items():
        if isinstance(value, (list, dict)):
            setattr(spec, name, copy.copy(value))
    return spec


_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


def _non_number(v: Any) -> bool:
    """A host value that is not a number or a numeric expression: a string, None, a device or dtype attribute."""
    if isinstance(v, (str, bytes)) or v is None:
        return True
    return isinstance(v, tuple) and bool(v) and v[0] in ("attr", "ref")


def _e(v: Any) -> Expr:
    if isinstance(v, Expr):
        return v
    if isinstance(v, (bool, int, float)):
        return ir.const(v)
    raise Unknown(f"expected a number, got {v!r}")


def _text(e: Any) -> str:
    from tritonlift.ir.printer import to_text

    return to_text(_e(e))


def _with_expected(problem: Any, text: str) -> Any:
    """Check the user's formula instead of the derived one: same tensors, same hints by output name."""
    from tritonlift.errors import InputError
    from tritonlift.ir.parse import parse_formula

    f = problem.formula
    kinds = {p.name: (Kind.REAL if p.kind == "float" else Kind.INT) for p in f.params}
    try:
        views = {**problem.views, **{t.name: t for t in f.tensors}}
        exp = parse_formula(text, name=f.name, params=f.params, tensors=views, kinds=kinds)
    except ValueError as e:
        raise InputError(f"cannot parse the expected formula: {e}") from None
    return with_formula(problem, exp)


def with_formula(problem: Any, exp: Any) -> Any:
    """The problem with `exp`'s assignments (by output name, index variables renamed to the problem's own)
    in place of its derived ones; tensors the problem declares keep the problem's views."""
    from dataclasses import replace

    f = problem.formula
    own = {a.target: a for a in f.assigns}
    if set(own) != {a.target for a in exp.assigns}:
        raise Unknown(f"the formula defines {', '.join(a.target for a in exp.assigns)}, "
                      f"the operator writes {', '.join(own)}")
    assigns = []
    for a in exp.assigns:
        if len(a.index) != len(own[a.target].index):
            raise Unknown(f"the expected formula's {a.target} does not match an output of the operator")
        sub = {ir.var(n): ir.var(o) for n, o in zip(a.index, own[a.target].index, strict=True)}
        assigns.append(replace(a, index=own[a.target].index, body=ir.substitute(a.body, sub)))
    used = {n.attr for a in assigns for n in ir.walk(a.body) if n.op is Op.READ} | {a.target for a in assigns}
    tensors = {t.name: t for t in f.tensors}
    for t in exp.tensors:
        if t.name in used:
            tensors.setdefault(t.name, t)
    return replace(problem, formula=replace(f, assigns=tuple(assigns), tensors=tuple(tensors.values())))


def lift_operator(module: SourceModule, host: HostFunction, options: Options) -> LiftResult:
    """Operator-level lifting under the Triton language's rule for loads without other=, then (when that is
    not verified, or the formula reads their masked-off lanes) with those lanes read as 0, as for kernels
    (pipeline.lift_kernel, symbolic/undefined.py)."""
    from tritonlift.pipeline import closed_form
    from tritonlift.symbolic.undefined import READS_UNDEFINED, adopt_zero_filled

    # when the first host path's formula reads masked-off lanes, the first attempt could only end in the
    # zero-filled one (below): that one is tried first, and the first attempt only if it is not verified
    tried_zero = False
    began = time.monotonic()
    if options.masked_loads == "zero" and _first_formula_reads_undefined(module, host, options):
        spent = time.monotonic() - began
        zero, ztags = _lift_operator(module, host, options, zero=True)
        if zero.status == "verified":
            stub = LiftResult(name=host.name, kind="operator", file=host.file, line=host.line, kernels=[],
                              status="unknown")
            stub.seconds = {"synthesis": spent, "total": spent}  # the first path's formula, derived to look
            return closed_form(adopt_zero_filled(zero, stub, ztags))
        tried_zero = True
    res, tags = _lift_operator(module, host, options, zero=False)
    if tried_zero:
        tags = []
    reads_undef = "undef(" in res.formula_raw
    if reads_undef:
        res.add_message(READS_UNDEFINED)
    if (res.status == "verified" and not reads_undef) or not tags or options.masked_loads != "zero":
        return closed_form(res)
    zero, _ = _lift_operator(module, host, options, zero=True)
    if zero.status != "verified":
        return closed_form(res)
    return closed_form(adopt_zero_filled(zero, res, tags))


def _first_formula_reads_undefined(module: SourceModule, host: HostFunction, options: Options) -> bool:
    """Whether the formula derived on the host's first path (under the language's rule for loads without
    other=) reads their masked-off lanes; False when that path cannot be evaluated or derived."""
    from tritonlift.synth.operator import derive_operator
    from tritonlift.synth.search import synthesize

    ev = HostEvaluator(module, host, Decider(()), options.invariant_patterns and not options.baseline, False)
    try:
        st = ev.run()
        if not st.undefined or options.expect is not None:
            return False
        ref, _stats = synthesize(derive_operator(host, st, options), options)
    except Exception:
        return False
    return any(n.op is Op.UNDEF for a in ref.formula.assigns for n in ir.walk(a.body))


def _lift_operator(module: SourceModule, host: HostFunction, options: Options, zero: bool) -> tuple[LiftResult, list[str]]:
    """Operator-level lifting: the kernels' writes over the host's tensors, on every host path.

    Size-dependent host branches split the evaluation (symbolic/host_paths.py). The formula is derived on
    the first path (or given by --expect) and every path is verified against that same formula, under its
    own branch conditions: verified only when all are, refuted with the first failing path's counterexample.
    """
    from tritonlift.pipeline import Clock
    from tritonlift.symbolic.host_paths import explore

    clock = Clock()
    res = LiftResult(name=host.name, kind="operator", file=host.file, line=host.line,
                     kernels=[ln.kernel for ln in host.launches], status="unknown")
    tags: list[str] = []
    try:
        def run_path(prefix: tuple[bool, ...]) -> tuple[Any, Decider]:
            decider = Decider(prefix)
            ev = HostEvaluator(module, host, decider, options.invariant_patterns and not options.baseline, zero)
            try:
                return ev.run(), decider
            except HostRaises as e:  # a path that raises computes nothing: left out, and said so
                return e, decider
            except LiftError as e:  # a path the evaluator cannot follow: that path's (group's) result
                return (e, ev.st.python_vars), decider

        explored = explore(run_path, host.file, host.line)
        tags = sorted({t for st, _d in explored if isinstance(st, HostState) for t in st.undefined})
        paths = [(st, d) for st, d in explored if isinstance(st, HostState)]
        raising = [(e, d) for e, d in explored if isinstance(e, HostRaises)]
        failed = [(f[0], f[1], d) for f, d in explored if isinstance(f, tuple)]
        if not paths:
            raise (failed[0][0] if failed else raising[0][0])
        clock.lap("symbolic")
        # paths that differ in a test on Python values (`weight is None`, `approximate == "tanh"`) may compute
        # different things: each group of paths gets its own formula, shown under its condition; paths that
        # differ only in size tests must all satisfy one formula
        flags = paths[0][0].python_vars
        groups: dict[tuple, list[tuple[HostState, list]]] = {}
        for st, decisions in paths:
            groups.setdefault(_python_key(decisions, st.python_vars), []).append((st, decisions))
        failures: dict[tuple, tuple[LiftError, list]] = {}
        for e, pv, decisions in failed:
            failures.setdefault(_python_key(decisions, pv), (e, decisions))
        empty = _join_empty_groups(groups, failures)
        if len(groups) == 1 and (not failures or set(failures) == set(groups)):
            if failures:  # the only group has a path the evaluator cannot follow
                raise next(iter(failures.values()))[0]
            paths = next(iter(groups.values()))
            _lift_group(host, paths, raising, options, clock, res, empty.get(next(iter(groups)), []))
        else:
            from tritonlift.symbolic.host_pointwise import combine_cases

            cases = []
            records: list[dict[str, Any]] = []  # per group: its status and the kernels it launches
            for key, group in groups.items():
                part = LiftResult(name=host.name, kind="operator", file=host.file, line=host.line,
                                  kernels=res.kernels, status="unknown")
                try:
                    if key in failures:
                        raise failures[key][0]
                    params = _lift_group(host, group, [], options, clock, part, empty.get(key, []))
                except LiftError as e:
                    part.status = e.status  # type: ignore[assignment]
                    part.message = e.located() if e.file else f"{host.file}:{host.line}: {e.message}"
                    params = None
                cases.append(([_python_decisions(d, flags) for _st, d in group], params, part))
                records.append(_path_record([d for _st, d in [*group, *empty.get(key, [])]], part, flags,
                                            [spec.name for st, _d in group for spec in st.launches]))
            for key, (e, decisions) in failures.items():
                if key not in groups:  # every path of this group stopped the evaluator
                    part = LiftResult(name=host.name, kind="operator", file=host.file, line=host.line,
                                      kernels=res.kernels, status=e.status)  # type: ignore[arg-type]
                    part.message = e.located() if e.file else f"{host.file}:{host.line}: {e.message}"
                    cases.append(([_python_decisions(decisions, flags)], None, part))
                    records.append(_path_record([decisions], part, flags, []))
            combine_cases(res, cases, [(e, _python_decisions(d, flags)) for e, d in raising])
            res.proof.paths = records
    except LiftError as e:
        res.status = e.status  # type: ignore[assignment]
        res.message = e.located() if e.file else f"{host.file}:{host.line}: {e.message}"
    except Exception as e:  # a bug of ours: no proof, no counterexample, and the run goes on
        from tritonlift.pipeline import internal_error

        res.status, res.message = "unknown", internal_error(host.file, host.line, e)
    res.seconds = clock.finish()
    return res, tags


def _path_record(decisions: list[list], part: LiftResult, flags: set[str], kernels: list[str]) -> dict[str, Any]:
    """A group of host paths as recorded in the result's proof data (result.Proof.paths)."""
    from tritonlift.symbolic.host_paths import describe

    conds = list(dict.fromkeys(describe(d) for d in decisions))  # each path's full condition
    return {"when": conds[0] if len(conds) == 1 else " or ".join(f"({c})" for c in conds),
            "status": part.status, "formula": part.formula if part.status == "verified" else "",
            "kernels": list(dict.fromkeys(kernels))}


def _is_python_test(e: Expr, flags: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """A condition on Python values only (opaque tests, tests of flag parameters, combined with not/and/or),
    no sizes."""
    if is_opaque_condition(e):
        return True
    if e.op in (Op.NOT, Op.AND, Op.OR):
        return all(_is_python_test(a, flags) for a in e.args)
    free = {str(n.attr) for n in ir.walk(e) if n.op is Op.VAR}
    return bool(free) and free <= set(flags)


def _python_decisions(decisions: list, flags: set[str] = frozenset()) -> list:  # type: ignore[assignment]
    return [d for d in decisions if d.free and _is_python_test(d.cond, flags)]


def _python_key(decisions: list, flags: set[str] = frozenset()) -> tuple:  # type: ignore[assignment]
    return tuple((d.cond, d.taken) for d in _python_decisions(decisions, flags))


def _unwritten_allocation(problem: Any, cex: Any) -> bool:
    """Whether a counterexample is an element of an output the host allocates (torch.empty) that no launch
    writes: a fault of the operator. An unwritten element of a tensor the caller passes in keeps the caller's
    value, so there it only says that the formula claims too much (the candidate is wrong, not the kernel)."""
    if cex.kernel_value != "not written":
        return False
    target = str(cex.reason).split("[", 1)[0]
    allocated = {a.name for a in problem.formula.allocs}
    decl = next((t for t in problem.formula.tensors if t.name == target), None)
    return target in allocated or (decl is not None and decl.base in allocated)


def _empty_outputs(st: HostState) -> bool:
    """Whether every tensor the path writes or returns provably has no element under the path's facts (z3):
    there any formula over the outputs holds vacuously."""
    from tritonlift.symbolic.host_paths import satisfiable

    names = list(st.returns) + [s.base for spec in st.launches for s in spec.stores]
    tensors = [st.scope.get(n) for n in dict.fromkeys(names)]
    if not tensors or not all(isinstance(t, HostTensor) for t in tensors):
        return False
    return all(not satisfiable([*st.facts, ir.compare(Op.NE, t.numel(), ir.ZERO)]) for t in tensors)


def _join_empty_groups(groups: dict[tuple, list], failures: dict[tuple, Any]) -> dict[tuple, list]:
    """Groups of host paths on which every output is empty (z3, from each path's facts) join the other
    groups their Python tests agree with: they are checked there against those groups' formula (vacuously,
    with the emptiness proved), not given a formula of their own. Returns the empty paths per group key;
    `groups` keeps the others (unchanged when every group is empty, or an empty one has no partner)."""
    vacuous = [k for k, g in groups.items() if k not in failures and all(_empty_outputs(st) for st, _d in g)]
    others = [k for k in groups if k not in vacuous]
    if not vacuous or not others:
        return {}
    joined: dict[tuple, list] = {}
    for v in vacuous:
        partners = [k for k in others if _agree(v, k)]
        if not partners:
            continue
        for k in partners:
            joined.setdefault(k, []).extend(groups[v])
        del groups[v]
    return joined


def _agree(a: tuple, b: tuple) -> bool:
    """Whether two groups' Python tests can hold together (no test taken one way in one, the other in the other)."""
    taken = dict(a)
    return all(taken.get(c, t) == t for c, t in b)


def _lift_group(
    host: HostFunction, paths: list, raising: list, options: Options, clock: Any, res: LiftResult,
    empty: list | None = None,
) -> tuple:
    """One formula for a group of host paths: derived on the first (or --expect), verified on each; fills
    `res` and returns the formula's parameters. `empty`: paths of the group on which every output is
    provably empty (_empty_outputs), where the formula holds vacuously."""
    from tritonlift.pipeline import emit, own_candidate, unique
    from tritonlift.symbolic.host_paths import describe
    from tritonlift.synth.operator import derive_operator
    from tritonlift.verify.check import SOLVER, coverage, verify

    problems = []

    def derive(st: Any, decisions: Any) -> None:
        try:
            problems.append((derive_operator(host, st, options), decisions))
        except LiftError as e:
            if len(paths) > 1:
                e.message = f"on the host path where {describe(decisions)}: {e.message}"
            raise

    derive(*paths[0])
    first = problems[0][0]
    synthesis: dict = {}
    expect = options.expect
    if expect is not None and paths[0][0].ranks.chains:  # written at the tensors' own rank: through the views
        from tritonlift.symbolic.rank_text import lower_expected

        expect = lower_expected(expect, first.formula, paths[0][0].ranks)
    if expect is not None:
        ref = _with_expected(first, expect)
    else:
        from tritonlift.synth.search import synthesize

        ref, stats = synthesize(first, options)
        synthesis = stats.to_json()
    for st, decisions in paths[1:]:
        derive(st, decisions)
    checked = [(ref, problems[0][1])]
    like = {t.base: t for t in ref.formula.tensors if t.name != t.base}  # the reference's views
    for (p, d), (st, _d) in zip(problems[1:], paths[1:], strict=True):
        try:
            checked.append((_with_expected(p, expect) if expect is not None else with_formula(p, ref.formula), d))
        except Unknown:
            if not like:
                raise
            # this path's kernels walk a tensor of symbolic rank through other views: derived again through
            # the reference's views where its strides equal theirs under this path's facts
            p = derive_operator(host, st, options, like=like)
            checked.append((_with_expected(p, expect) if expect is not None else with_formula(p, ref.formula), d))
    clock.lap("synthesis")
    outcomes = []
    for problem, decisions in checked:
        o = verify(problem, options.solver_timeout_ms, options.seed)
        if len(checked) > 1 and o.message:
            o.message = f"on the host path where {describe(decisions)}: {o.message}"
        if o.status == "refuted" and o.counterexample is not None and len(checked) > 1:
            o.counterexample.reason += f" (host path where {describe(decisions)})"
        outcomes.append(o)
        if o.status == "refuted":
            break  # a replayed counterexample on one path refutes the operator
    # refuted (any path) > unknown (any path) > verified (every path)
    outcome = next((o for o in outcomes if o.status == "refuted"), None) or next(
        (o for o in outcomes if o.status != "verified"), outcomes[0])
    obligations = sum(o.obligations for o in outcomes)
    assert outcome is not None
    clock.lap("verification")
    res.status = outcome.status  # type: ignore[assignment]
    res.counterexample = outcome.counterexample
    res.message = outcome.message
    if outcome.status == "verified" and len(checked) > 1:
        res.message = f"verified on each of {len(checked)} host paths: " + "; ".join(
            describe(d) for _, d in checked)
    if outcome.status == "verified" and empty:
        res.add_message(*(f"on the host path where {describe(d)} every output is empty (proved from its "
                          "conditions): the formula holds there vacuously" for _st, d in empty))
    launched = [spec for st, _d in paths for spec in st.launches]
    res.proof = Proof(solver=SOLVER, obligations=obligations, synthesis=synthesis,
                      invariants=unique([i for spec in launched for i in spec.invariants]))
    if outcome.status == "unknown":
        from tritonlift.synth.search import unknown_note

        res.add_message(unknown_note(synthesis))
    # a refutation is a fault of the operator itself when an allocated output stays unwritten, or when a
    # host path other than the one the formula was derived on disagrees with it
    faulty = outcome.status == "refuted" and outcome.counterexample is not None and (
        _unwritten_allocation(checked[outcomes.index(outcome)][0], outcome.counterexample)
        or outcomes.index(outcome) > 0)
    if outcome.status == "refuted" and not faulty and options.expect is None:
        # the derived formula is wrong at some write; an unwritten allocated element is still a fault
        for problem, decisions in checked:
            hole = coverage(problem, options.solver_timeout_ms)
            if (hole is not None and hole.status == "refuted" and hole.counterexample is not None
                    and _unwritten_allocation(problem, hole.counterexample)):
                if len(checked) > 1:
                    hole.counterexample.reason += f" (host path where {describe(decisions)})"
                res.counterexample, res.message, faulty = hole.counterexample, "", True
                break
    own_candidate(res, options, genuine=faulty)
    ranks = paths[0][0].ranks
    reread = None
    if ranks.chains and outcome.status == "verified":  # shown at the tensors' own rank (symbolic/rank_text.py)
        from tritonlift.symbolic.rank_text import rank_lines

        def reread(f: Any) -> Any:
            return rank_lines(f, ranks)
    extra = emit(res, ref.formula, options, reread=reread)
    clock.lap("simplification")
    said = [a for o in outcomes if o.status == "verified" for a in o.assumptions]  # preconditions the proof added
    res.assumptions = unique([*_merged_assumptions(checked), *(n for spec in launched for n in spec.notes), *said, *extra]) + [
        f"the host raises where {describe(d)} ({e.located()}): no result there" for e, d in raising]
    return ref.formula.params


def _merged_assumptions(checked: list[tuple[Any, Any]]) -> list[str]:
    """Assumptions every path made, then those of single paths, each prefixed by its path condition."""
    from tritonlift.symbolic.host_paths import describe

    per_path = [list(p.formula.assumptions) for p, _ in checked]
    common = [a for a in per_path[0] if all(a in other for other in per_path[1:])]
    out = list(common)
    if len(checked) > 1:
        for (_, decisions), items in zip(checked, per_path, strict=True):
            out += [f"on the host path where {describe(decisions)}: {a}" for a in items if a not in common]
    return out
