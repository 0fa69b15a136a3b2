"""The `map` sketch at operator level: the kernel's writes as a formula over the host's own tensors."""

from __future__ import annotations

from tritonlift.errors import Unknown
from tritonlift.frontend.source import HostFunction
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.poly import norm
from tritonlift.ir.printer import to_text
from tritonlift.ir.reductions import canon
from tritonlift.options import Options
from tritonlift.symbolic.host_eval import HostState, HostTensor, contiguous_strides
from tritonlift.symbolic.spec import KernelSpec
from tritonlift.symbolic.values import lane, pid
from tritonlift.synth.compose import compose_launches
from tritonlift.synth.derive import StoreMap, Witness, _fold_store_offset, _index_names, _solve, _sweeps_back
from tritonlift.synth.guards import domain_facts, finish_body, simplify_guards
from tritonlift.synth.indexing import Access, decompose, fold_offset, has_index_var
from tritonlift.synth.pid_map import regrid
from tritonlift.synth.rank_views import access_strides, exact_view, merge_multiples, view_name
from tritonlift.synth.tails import join_tails
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


def derive_operator(host: HostFunction, st: HostState, options: Options,
                    like: dict[str, TensorDecl] | None = None) -> Problem:
    """The operator's problem on one host path. `like` (views by base tensor, another path's): tensors of
    symbolic rank are read and written through those views where every store's dims have strides equal to
    the view's under this path's facts (z3), so that paths whose kernels walk the memory differently (a
    trailing extent that is 1 on this path) are checked against one formula."""
    if not st.launches:
        raise Unknown("the host function launches no kernel it could evaluate")
    spec = st.launches[0]
    if len(st.launches) > 1 and any(s.atomic for sp in st.launches for s in sp.stores):
        from tritonlift.errors import Unsupported

        first = next(s for sp in st.launches for s in sp.stores if s.atomic)
        raise Unsupported("atomic updates in a host that launches several kernels are not modelled yet (what the "
                          "other launches write before them is their initial value)", host.file, first.line)
    if len(st.launches) > 1:
        spec = compose_launches(st.launches, st.returns, list(st.facts))
        if _reads_earlier_writes(st.launches):  # the substituted reads' guards resolved (else nothing to settle)
            spec = _settled_spec(spec, st.facts)
    # the tile map's proofs with the facts every host path shares first (the same proofs on each path then:
    # pid_map caches them), with this path's decisions too only if they are needed
    base = [f for f in st.facts if f not in st.decided]
    rg = regrid(spec, _autotuned(st), base, timeout_ms=min(options.solver_timeout_ms, 5000)) if len(base) < len(
        st.facts) else None
    rg = rg or regrid(spec, _autotuned(st), list(st.facts), timeout_ms=min(options.solver_timeout_ms, 5000))
    if rg is not None:  # a 1-D grid of tiles proved onto a 2-D one (synth/pid_map)
        spec = rg.spec
    # a loop and its peeled last tile: one sum, where the host's facts prove it; a size the host takes as a
    # plain int parameter (`general_mm(a, b, c, M, N, K)`) may be assumed >= 1 there, and is then said so
    joined = join_tails(spec, list(st.facts), _int_params(host, st))
    tails = [n for n in joined.notes if n not in spec.notes] + [a for a in joined.assumptions if a not in spec.assumptions]
    spec = joined
    tensors: dict[str, HostTensor] = {v.name: v for v in st.scope.values() if isinstance(v, HostTensor)}
    decls: dict[str, TensorDecl] = {n: t.decl() for n, t in tensors.items()}
    assumptions = list(st.assumptions)
    own_notes = {n for sp in st.launches for n in sp.notes}
    assumptions += [n for n in spec.notes if n not in own_notes]  # how launches writing one output were joined
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
    # tensors of symbolic rank: read through the C-order views of their memory that the kernels walk
    read_views = _rank_read_views(spec, tensors, outputs, stored, taken)
    if like:
        read_views.update({b: v for b, v in like.items() if b in read_views})
    decls.update({v.name: v for v in read_views.values()})
    assigns: list[Assign] = []
    maps: list[StoreMap] = []
    wits: list[Witness] = []
    initial: dict[str, Expr] = {}
    corners: list[str] = []
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
        accs = {k: _fold_sweep(decompose(spec.stores[k].offset, spec.stores[k].shape)) for k in nums}
        # each store's witness from its own lanes (stores of one output from several places, or launches)
        own = len({spec.stores[k].launch for k in nums}) > 1
        hinted = None
        if tensors[out].shape is None and like and out in like:  # another path's view, strides equal here
            got = [restride(accs[k], like[out].strides, [*st.facts, *spec.facts]) for k in nums]
            if all(a is not None for a in got):
                hinted = (like[out], got)
        if hinted is not None:
            decl = decls[hinted[0].name] = hinted[0]
            accs, own = dict(zip(nums, hinted[1], strict=True)), True
        elif tensors[out].shape is None:  # symbolic rank: the view of its memory the stores walk
            rv = _rank_store_view(out, [accs[k] for k in nums], tensors[out], taken)
            if rv is not None:
                decl = decls[rv[0].name] = rv[0]
                accs, own = dict(zip(nums, rv[1], strict=True)), True
        names = _index_names(decl.ndim, taken)
        idx_vars = tuple(ir.var(n) for n in names)
        values: dict[Expr, Expr] = {}
        found: list[tuple[int, tuple[Expr, ...]]] = []
        for k in nums:
            acc = accs[k]
            index = _match(acc, decl.strides) or _positional(acc, decl.ndim)
            if index is None:
                raise Unknown(f"the kernel's writes to {out} do not follow {out}'s layout")
            found.append((k, index))
        corner = _written_corner(out, tensors[out], decl, [(spec.stores[k], ix) for k, ix in found], taken)
        if corner is not None:  # a caller's tensor written only in a corner the host's sizes bound
            decl = decls[corner.name] = corner
            corners.append(corner.name)
            own = True  # each store its own witness (a mirrored store writes an element from other lanes)
            bounds = ", ".join(f"{to_text(x)} <= {out}.shape[{d}]" for d, x in enumerate(corner.shape))
            assumptions.append(
                f"{out} is written only in its corner {corner.name} ({bounds}, which the host does not check; the "
                f"rest of {out} keeps its values)")
        maps += [StoreMap(k, decl.name, index) for k, index in found]
        first = spec.stores[nums[-1]]
        for d, v in zip(maps[-1].index, idx_vars, strict=True):
            if has_index_var(d):
                values.update(_solve(d, v, first.shape))
        for ax in range(len(first.shape)):
            values.setdefault(lane(ax), ir.ZERO)
        for ax in range(len(spec.axes)):
            values.setdefault(pid(ax), ir.ZERO)
        if own:
            wits += [Witness(m.store, decl.name, _witness_values(m.index, idx_vars, spec.stores[m.store], spec))
                     for m in maps[len(maps) - len(nums):]]
        else:
            wits += [Witness(k, decl.name, values) for k in nums]
        body = _body(first, values, decls, tensors, read_views)
        body = _later_launch(body)
        symbols = {str(n.attr) for n in ir.walk(body) if n.op is Op.VAR} | set(tensors) | taken
        body = _settle(body, [*st.facts, *domain_facts(names, decl.shape)])
        body = finish_body(body, [*st.facts, *domain_facts(names, decl.shape)], symbols | set(names))
        assigns.append(Assign(decl.name, names, body))
    decls = _read_extents(decls, assigns, list(st.facts))
    if corners:  # sizes taken as numbers bound the writes: the tensors read in corners they bound too
        assigns, decls = _read_corners(assigns, decls, tensors, taken, list(st.facts), assumptions)
    # a 1-D view is kept where its extent is a dim of a view of rank >= 2 (a weight along the rows' dim, read
    # as weight.view(N)); else the tensor is read flat, as it is
    dims = {e for d in decls.values() if d.ndim >= 2 for e in d.shape}
    same = {v.name: v.base for v in read_views.values() if decls[v.name].ndim == 1 and decls[v.name].shape[0] not in dims}
    if same:
        assigns = [Assign(a.target, a.index, ir.transform(a.body, lambda n: ir.read(same[n.attr], *n.args) if (
            n.op is Op.READ and n.attr in same) else None)) for a in assigns]
    if initial or any(s.atomic for s in spec.stores):
        from tritonlift.symbolic.atomics import ASSUMPTION

        assumptions.append(ASSUMPTION)
    used = {out for out in outputs} | {a.target for a in assigns}
    for a in assigns:
        used |= {n.attr for n in ir.walk(a.body) if n.op is Op.READ}
    used |= {decls[n].base for n in list(used) if n in decls}  # a view's tensor (made contiguous, say)
    params = []
    fn = host.node
    args = fn.args.posonlyargs + fn.args.args
    defaults = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    import ast

    for a, d in zip(args, defaults, strict=True):  # keyword-only ones below, behind `*`
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
        assumptions=tuple(assumptions + (rg.assumptions if rg is not None else []) + tails), contiguous=tuple(n for n in st.made_contiguous if n in used),
    )
    facts = list(st.facts) + (rg.facts if rg is not None else [])
    return Problem(spec, formula, spec.axes, maps, wits, facts, views=decls, refine=list(st.refine),
                   derived=dict(st.derived), initial=initial)


def _fold_sweep(acc: Access) -> Access:
    """A store that sweeps back from a size-dependent start (`(P - t*B + l) * K`): the start folded into
    the outermost dim it is a whole number of strides of, the dim the sweep moves (as for kernels,
    synth/derive.py), not into whichever dim happens to divide it."""
    if acc.offset.is_const or not any(_sweeps_back(d.index) for d in acc.dims):
        return acc
    return _fold_store_offset(acc.dims, norm(acc.offset)) or acc


def restride(acc: Access, strides: tuple[Expr, ...], facts: list[Expr]) -> Access | None:
    """The access on a view with these strides: its constant part folded into its own dims first, then each
    dim (outermost first) given the outermost unused view stride that z3 proves equal to its own under the
    facts (the address is unchanged under them), or None where some dim has none."""
    from tritonlift.symbolic.host_paths import satisfiable
    from tritonlift.synth.indexing import Dim

    acc = fold_offset(_fold_sweep(acc))
    if norm(acc.offset) != ir.ZERO:
        return None
    used: set[int] = set()
    dims = []
    for d in sorted(acc.dims, key=lambda d: _stride_rank(d.stride, strides)):
        k = next((k for k, s in enumerate(strides) if k not in used and (
            norm(s) == norm(d.stride) or not satisfiable([*facts, ir.compare(Op.NE, s, d.stride)]))), None)
        if k is None:
            return None
        used.add(k)
        dims.append(Dim(strides[k], d.index))
    return Access(tuple(dims), ir.ZERO)


def _stride_rank(stride: Expr, strides: tuple[Expr, ...]) -> int:
    """Where a stride sits among a view's (syntactically), else first: dims outermost first."""
    n = norm(stride)
    return next((k for k, s in enumerate(strides) if norm(s) == n), -1)


def _rank_read_views(spec: KernelSpec, tensors: dict[str, HostTensor], outputs: list[str], stored: list[str],
                     taken: set[str]) -> dict[str, TensorDecl]:
    """For each input of symbolic rank the kernels only read: the C-order view of its memory that all its
    reads walk (synth/rank_views.py), when there is one of rank >= 2."""
    strides: dict[str, list[Expr]] = {}
    bad: set[str] = set()
    for s in spec.stores:
        for node in ir.walk(s.value):
            if node.op is not Op.MEM or node.attr in outputs or node.attr in stored:
                continue
            t = tensors.get(node.attr)
            if t is None or t.shape is not None:
                continue
            got = access_strides(decompose(node.args[0], s.shape))
            if got is None:
                bad.add(node.attr)
                continue
            have = strides.setdefault(node.attr, [])
            have += [x for x in got if x not in have]
    out: dict[str, TensorDecl] = {}
    for base, st in strides.items():
        if base in bad:
            continue
        view = exact_view(view_name(base, taken), base, tensors[base].numel(), st)
        if view is not None and view.ndim >= 2:
            out[base] = view
        elif view is not None:  # read along one dim (a weight): as far as the reads reach (extents below)
            out[base] = TensorDecl(view.name, (), view.strides, base)
    return out


def _read_extents(decls: dict[str, TensorDecl], assigns: list[Assign], facts: list[Expr]) -> dict[str, TensorDecl]:
    """Views declared without a shape get the smallest one holding their reads (as kernel inputs do),
    each extent simplified under the host's facts (min(BLOCK, N) is N where BLOCK >= N)."""
    from tritonlift.synth.derive import _input_extents

    pending = {n for n, d in decls.items() if not d.shape and d.strides}
    if not pending:
        return decls
    out = _input_extents(dict(decls), assigns, {}, {})
    for n in pending:
        d = out[n]
        out[n] = TensorDecl(d.name, tuple(simplify_guards(e, facts) for e in d.shape), d.strides, d.base, d.offset)
    return out


def _rank_store_view(out: str, accs: list[Access], t: HostTensor, taken: set[str]
                     ) -> tuple[TensorDecl, list[Access]] | None:
    """The C-order view of an output of symbolic rank that all its stores walk (rank >= 2), with each store's
    access on its dims (stores from several places aligned on the first's, as for kernels), or None."""
    from tritonlift.synth.derive import align_accesses

    if len({tuple(d.stride for d in a.dims) for a in accs}) > 1:
        try:
            accs = align_accesses(accs)
        except Unknown:
            return None
    strides: list[Expr] = []
    for a in accs:
        got = access_strides(a)
        if got is None:
            return None
        strides += [x for x in got if x not in strides]
    view = exact_view(view_name(out, taken), out, t.numel(), strides)
    # rank >= 2; or 1-D of an allocation of symbolic rank (torch.empty(x.shape[:-1])): shown as out.view(P)
    shaped = t.alloc is not None and t.alloc.shape_text is not None
    return (view, accs) if view is not None and (view.ndim >= 2 or shaped) else None


def _witness_values(index: tuple[Expr, ...], idx_vars: tuple[Expr, ...], store, spec: KernelSpec) -> dict[Expr, Expr]:
    """The program ids and lanes by which `store` writes element (i..) of its output's view."""
    values: dict[Expr, Expr] = {}
    for d, v in zip(index, idx_vars, strict=True):
        if has_index_var(d):
            values.update(_solve(d, v, store.shape))
    for ax in range(len(store.shape)):
        values.setdefault(lane(ax), ir.ZERO)
    for ax in range(len(spec.axes)):
        values.setdefault(pid(ax), ir.ZERO)
    return values


def _reads_earlier_writes(launches: list[KernelSpec]) -> bool:
    """Whether a launch reads memory an earlier launch writes (compose substitutes those reads)."""
    written: set[str] = set()
    for sp in launches:
        reads = {str(n.attr) for s in sp.stores for e in (s.value, s.mask, s.offset) for n in ir.walk(e)
                 if n.op is Op.MEM}
        if reads & written:
            return True
        written |= {s.base for s in sp.stores}
    return False


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


def _body(store, values: dict[Expr, Expr], decls: dict[str, TensorDecl], tensors: dict[str, HostTensor],
          views: dict[str, TensorDecl] | None = None) -> Expr:
    out = host_reads(store.value, store.shape, decls, tensors, views)
    out = ir.substitute(out, values)
    out = ir.transform(out, lambda n: norm(n) if n.kind is Kind.INT and n.op in (Op.ADD, Op.SUB, Op.MUL) else None)
    if has_index_var(out):
        raise Unknown("the stored value depends on lanes or program ids that the output index does not fix")
    return out


def host_reads(value: Expr, shape: tuple[Expr, ...], decls: dict[str, TensorDecl], tensors: dict[str, HostTensor],
               views: dict[str, TensorDecl] | None = None) -> Expr:
    """Every pointer-level read of `value` (a block element over lanes of `shape`) as a read of the host
    tensor's view (or of a C-order view of a symbolic-rank tensor's memory, `views`)."""

    def to_read(node: Expr) -> Expr | None:
        if node.op is not Op.MEM:
            return None
        acc = _fold_sweep(decompose(node.args[0], shape))
        view = (views or {}).get(node.attr)
        index = _match(merge_multiples(acc), view.strides) if view is not None else None
        if index is not None:
            assert view is not None
            return ir.read(view.name, *index)
        decl = decls.get(node.attr)
        if decl is None:
            raise Unknown(f"read of unknown memory {node.attr}")
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


def _written_corner(out: str, t: HostTensor, decl: TensorDecl, stores: list[tuple], taken: set[str]
                    ) -> TensorDecl | None:
    """The view `out[:X0, :X1, ..]` of a tensor the caller passes (not allocated by the host) when every store
    to it is masked by `index_d < X_d` on each dim, the same X_d for all, and some X_d is not the tensor's own
    extent (sizes the host takes as plain numbers: `general_mm(a, b, c, M, N, K)`). The formula then states
    the corner it writes; the rest of the tensor keeps the caller's values, and the verifier still proves
    every write lands inside the view (so inside the tensor only where X_d <= its extent: said below)."""
    if t.alloc is not None or t.shape is None or not stores:
        return None
    ext: tuple[Expr, ...] | None = None
    for st, index in stores:
        terms = ir.conjuncts(st.mask)
        got = []
        for d in index:
            want = norm(d)
            hit = [c.args[1] for c in terms if c.op is Op.LT and norm(c.args[0]) == want and c.args[1].kind is Kind.INT]
            if not hit:
                return None
            got.append(hit[0])
        if ext is not None and tuple(got) != ext:
            return None
        ext = tuple(got)
    assert ext is not None
    if len(ext) != len(decl.shape) or all(norm(x) == norm(s) for x, s in zip(ext, decl.shape, strict=True)):
        return None
    return TensorDecl(view_name(out, taken), ext, decl.strides, decl.base, decl.offset)


def _int_params(host: HostFunction, st: HostState) -> list[str]:
    """The host's parameters that hold plain integers (sizes passed in, not read from a tensor)."""
    a = host.node.args
    out = []
    for p in a.posonlyargs + a.args + a.kwonlyargs:
        v = st.scope.get(p.arg)
        if isinstance(v, Expr) and v.op is Op.VAR and v.attr == p.arg and v.kind is Kind.INT:
            out.append(p.arg)
    return out


def _read_corners(
    assigns: list[Assign], decls: dict[str, TensorDecl], tensors: dict[str, HostTensor], taken: set[str],
    facts: list[Expr], assumptions: list[str],
) -> tuple[list[Assign], dict[str, TensorDecl]]:
    """Each tensor the caller passes, read (as itself) only within bounds other than its own extents: read
    through the view `x[:E0, :E1, ..]` that holds its reads (as a kernel's input views are sized). The
    addresses are the same; only the view's extents are new, and they are stated to fit the tensor."""
    from tritonlift.synth.derive import _input_extents

    cands = {n: d for n, d in decls.items() if n in tensors and tensors[n].alloc is None and d.shape
             and d.name == n and n not in {a.target for a in assigns}}
    if not cands:
        return assigns, decls
    probe = dict(decls)
    for n, d in cands.items():
        probe[n] = TensorDecl(d.name, (), d.strides, d.base, d.offset)
    sized = _input_extents(probe, assigns, {}, {})
    rename: dict[str, str] = {}
    out = dict(decls)
    for n, d in cands.items():
        ext = tuple(simplify_guards(e, facts) for e in sized[n].shape)
        if not any(n == str(r.attr) for a in assigns for r in ir.walk(a.body) if r.op is Op.READ):
            continue
        if len(ext) != len(d.shape) or all(norm(x) == norm(y) for x, y in zip(ext, d.shape, strict=True)):
            continue
        if any(m.op in (Op.READ, Op.MEM, Op.UNDEF) for x in ext for m in ir.walk(x)):  # a gather's extent
            continue
        v = TensorDecl(view_name(n, taken), ext, d.strides, d.base, d.offset)
        out[v.name] = v
        rename[n] = v.name
        bounds = ", ".join(f"{to_text(x)} <= {n}.shape[{k}]" for k, x in enumerate(ext))
        assumptions.append(f"{n} is read only in its corner {v.name} ({bounds}, which the host does not check)")
    if not rename:
        return assigns, decls
    new = [Assign(a.target, a.index, ir.transform(a.body, lambda r: ir.read(rename[r.attr], *r.args) if (
        r.op is Op.READ and r.attr in rename) else None)) for a in assigns]
    return new, out


def _later_launch(body: Expr) -> Expr:
    """The value of the launch that runs last where launches with other code were merged (synth/split.py): the
    candidate is derived from it; the verifier checks the spec's value, both launches', against it."""
    from tritonlift.synth.split import EITHER

    def step(n: Expr) -> Expr | None:
        if n.op is Op.WHERE and n.args[0].op is Op.VAR and str(n.args[0].attr).startswith(EITHER):
            return ir.transform(n.args[1], step)
        return None

    return ir.transform(body, step)
