"""The `map` sketch at operator level: the kernel's writes as a formula over the host's own tensors."""

from __future__ import annotations

from tritonlift.errors import Unknown
from tritonlift.frontend.source import HostFunction
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.poly import norm
from tritonlift.ir.reductions import canon
from tritonlift.options import Options
from tritonlift.symbolic.host_eval import HostState, HostTensor, contiguous_strides
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.symbolic.values import lane, pid
from tritonlift.synth.compose import compose_launches
from tritonlift.synth.derive import StoreMap, Witness, _index_names, _solve
from tritonlift.synth.guards import domain_facts, finish_body, simplify_guards
from tritonlift.synth.indexing import Access, decompose, fold_offset, has_index_var
from tritonlift.synth.pid_map import regrid
from tritonlift.verify.check import Problem


def _match(acc: Access, strides: tuple[Expr, ...]) -> tuple[Expr, ...] | None:
    """Index per view dim when the access's dims are exactly the view's strides (any order)."""
    acc = fold_offset(acc, strides)
    if norm(acc.offset) != ir.ZERO:
        return None
    out: list[Expr] = []
    used: set[int] = set()
    for s in strides:
        hit = [k for k, d in enumerate(acc.dims) if norm(d.stride) == norm(s) and k not in used]
        if hit:
            used.add(hit[0])
            out.append(acc.dims[hit[0]].index)
        else:
            out.append(ir.ZERO)
    if len(used) != len(acc.dims):
        return None
    return tuple(out)


def _positional(acc: Access, ndim: int) -> tuple[Expr, ...] | None:
    """A hint for an access that does not follow the view's layout: its own dims in order, the
    constant part folded in. The verifier then compares addresses and refutes what is wrong."""
    acc = fold_offset(acc)
    if norm(acc.offset) != ir.ZERO or len(acc.dims) > ndim:
        return None
    return (ir.ZERO,) * (ndim - len(acc.dims)) + tuple(d.index for d in acc.dims)


def derive_operator(host: HostFunction, st: HostState, options: Options) -> Problem:
    if not st.launches:
        raise Unknown("the host function launches no kernel it could evaluate")
    spec = st.launches[0]
    if len(st.launches) > 1 and any(s.atomic for sp in st.launches for s in sp.stores):
        from tritonlift.errors import Unsupported

        first = next(s for sp in st.launches for s in sp.stores if s.atomic)
        raise Unsupported("atomic updates in a host that launches several kernels are not modelled yet (what the "
                          "other launches write before them is their initial value)", host.file, first.line)
    if len(st.launches) > 1:
        spec = _settled_spec(compose_launches(st.launches, st.returns), st.facts)
    rg = regrid(spec, _autotuned(st), list(st.facts), timeout_ms=min(options.solver_timeout_ms, 5000))
    if rg is not None:  # a 1-D grid of tiles proved onto a 2-D one (synth/pid_map)
        spec = rg.spec
    tensors: dict[str, HostTensor] = {v.name: v for v in st.scope.values() if isinstance(v, HostTensor)}
    decls: dict[str, TensorDecl] = {n: t.decl() for n, t in tensors.items()}
    assumptions = list(st.assumptions)
    for t in tensors.values():
        if t.shape is None and not t.contiguous and t.alloc is None:
            assumptions.append(f"{t.name} is contiguous (read as a flat vector of {t.name}.numel() elements)")
    outputs = [n for n in (st.returns or ()) if n in tensors]
    stored = []
    for s in spec.stores:
        if s.base not in stored:
            stored.append(s.base)
    if not outputs:
        outputs = stored
    taken = {p.arg for p in host.node.args.args} | set(tensors)
    assigns: list[Assign] = []
    maps: list[StoreMap] = []
    wits: list[Witness] = []
    initial: dict[str, Expr] = {}
    for out in outputs:
        nums = [k for k, s in enumerate(spec.stores) if s.base == out]
        if not nums:
            raise Unknown(f"{out} is returned but never written by the kernel")
        if any(spec.stores[k].atomic for k in nums):  # updated atomically: synth/accumulate.py
            from tritonlift.synth.accumulate import operator_assign

            a, ms, ws, init = operator_assign(spec, nums, tensors[out], decls, tensors, taken,
                                                      [*st.facts, *spec.facts], host_reads)
            assigns.append(a)
            maps += ms
            wits += ws
            if tensors[out].alloc is not None:  # torch.zeros: the updates add to 0
                initial[out] = init
            continue
        decl = decls[out]
        names = _index_names(decl.ndim, taken)
        idx_vars = tuple(ir.var(n) for n in names)
        values: dict[Expr, Expr] = {}
        for k in nums:
            s = spec.stores[k]
            acc = decompose(s.offset, s.shape)
            index = _match(acc, decl.strides) or _positional(acc, decl.ndim)
            if index is None:
                raise Unknown(f"the kernel's writes to {out} do not follow {out}'s layout")
            maps.append(StoreMap(k, out, index))
        first = spec.stores[nums[-1]]
        for d, v in zip(maps[-1].index, idx_vars, strict=True):
            if has_index_var(d):
                values.update(_solve(d, v, first.shape))
        for ax in range(len(first.shape)):
            values.setdefault(lane(ax), ir.ZERO)
        for ax in range(len(spec.axes)):
            values.setdefault(pid(ax), ir.ZERO)
        wits += [Witness(k, out, values) for k in nums]
        body = _body(first, values, decls, tensors)
        symbols = {str(n.attr) for n in ir.walk(body) if n.op is Op.VAR} | set(tensors) | taken
        body = _settle(body, [*st.facts, *domain_facts(names, decl.shape)])
        body = finish_body(body, [*st.facts, *domain_facts(names, decl.shape)], symbols | set(names))
        assigns.append(Assign(out, names, body))
    if initial or any(s.atomic for s in spec.stores):
        from tritonlift.symbolic.atomics import ASSUMPTION

        assumptions.append(ASSUMPTION)
    used = {out for out in outputs}
    for a in assigns:
        used |= {n.attr for n in ir.walk(a.body) if n.op is Op.READ}
    params = []
    fn = host.node
    args = fn.args.posonlyargs + fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    import ast

    kwonly = list(zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True))  # `*, dtype=None`: kept too
    for a, d in [*zip(args, defaults, strict=True), *kwonly]:
        v = st.scope.get(a.arg)
        kind = "tensor" if a.arg in tensors else ("float" if isinstance(v, Expr) and v.kind is Kind.REAL else "int")
        params.append(Param(a.arg, kind, ast.unparse(d) if d is not None else None))  # type: ignore[arg-type]
    for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):  # `*, dtype=None`: same signature
        v = st.scope.get(a.arg)
        kind = "tensor" if a.arg in tensors else ("float" if isinstance(v, Expr) and v.kind is Kind.REAL else "int")
        params.append(Param(a.arg, kind, ast.unparse(d) if d is not None else None, keyword_only=True))  # type: ignore[arg-type]
    formula = Formula(
        name=host.name, params=tuple(params), tensors=tuple(decls[n] for n in decls if n in used),
        assigns=tuple(assigns), returns=st.returns, allocs=tuple(a for a in st.allocs if a.name in used),
        assumptions=tuple(assumptions + (rg.assumptions if rg is not None else [])), contiguous=tuple(n for n in st.made_contiguous if n in used),
    )
    facts = list(st.facts) + (rg.facts if rg is not None else [])
    return Problem(spec, formula, spec.axes, maps, wits, facts, views=decls, refine=list(st.refine), initial=initial)


def _settled_spec(spec: KernelSpec, facts: list[Expr]) -> KernelSpec:
    """Each store's value with its fact-decided guards dropped and reductions canonical: an identity under
    the facts and the store's own program-id/lane ranges (z3 decides each guard), so the composed spec the
    verifier sees means what the launches do, only with the earlier launch's write guards resolved."""
    from dataclasses import replace

    stores = []
    for s in spec.stores:
        ranges = []
        for ax, g in enumerate(spec.grid):
            ranges += [ir.le(ir.ZERO, pid(ax)), ir.lt(pid(ax), g)]
        for ax, ext in enumerate(s.shape):
            ranges += [ir.le(ir.ZERO, lane(ax)), ir.lt(lane(ax), ext)]
        stores.append(replace(s, value=_settle(s.value, [*facts, *spec.facts, *ranges, s.mask])))
    return replace(spec, stores=stores)


def _settle(body: Expr, facts: list[Expr], rounds: int = 4) -> Expr:
    """Canonical reductions and fact-decided guards to a fixpoint: a guard dropped can let a reduction
    reindex (tiles of a composed launch), whose new bound min(A * B, n) the facts then decide."""
    for _ in range(rounds):
        new = canon(simplify_guards(canon(body), facts))
        if new == body:
            break
        body = new
    return body


def _autotuned(st: HostState) -> set[str]:
    """Symbols the host took as `1 <= v` (constexprs chosen by autotune): group sizes may divide."""
    return {str(f.args[1].attr) for f in st.facts if f.op is Op.LE and f.args[0] == ir.ONE and f.args[1].op is Op.VAR}


def _body(store, values: dict[Expr, Expr], decls: dict[str, TensorDecl], tensors: dict[str, HostTensor]) -> Expr:
    out = host_reads(store.value, store.shape, decls, tensors)
    out = ir.substitute(out, values)
    out = ir.transform(out, lambda n: norm(n) if n.kind is Kind.INT and n.op in (Op.ADD, Op.SUB, Op.MUL) else None)
    if has_index_var(out):
        raise Unknown("the stored value depends on lanes or program ids that the output index does not fix")
    return out


def host_reads(value: Expr, shape: tuple[Expr, ...], decls: dict[str, TensorDecl], tensors: dict[str, HostTensor]) -> Expr:
    """Every pointer-level read of `value` (a block element over lanes of `shape`) as a read of the host
    tensor's view."""

    def to_read(node: Expr) -> Expr | None:
        if node.op is not Op.MEM:
            return None
        decl = decls.get(node.attr)
        if decl is None:
            raise Unknown(f"read of unknown memory {node.attr}")
        acc = decompose(node.args[0], shape)
        index = _match(acc, decl.strides)
        if index is None and tensors[node.attr].shape is not None:
            # propose the contiguous reading; the verifier decides (a missing .contiguous() is refuted)
            index = _match(acc, contiguous_strides(decl.shape))
        index = index or _positional(acc, decl.ndim)
        if index is None and decl.strides == (ir.ONE,) and decl.offset == ir.ZERO:
            index = (norm(node.args[0]),)  # a flat vector: the element offset is the index
        if index is None:
            raise Unknown(f"the kernel's reads of {node.attr} do not follow its layout")
        return ir.read(decl.name, *index)

    return ir.transform(value, to_read)
