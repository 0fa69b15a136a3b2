"""Formulas for accumulated outputs: the tensors a kernel updates with `tl.atomic_add/max/min`.

For an output updated atomically (symbolic/atomics.py), element i after the launch is its value before,
`out0[i]`, combined with the reduction over every update landing on i. The address analysis proposes:
- the output's view, from the update's offset split along strides (synth/indexing.decompose), as for stores;
  its extents from the mask (`cols < N`), else from the grid, else, for an index read from memory
  (`out_ptr + tl.load(x_ptr + k)`), the tensor's own extent (`out_ptr.numel()` along that stride);
- per update, the program ids and lanes that the element fixes (`pid * B + lane = j`: pid = j // B,
  lane = j % B, synth/derive._solve); the others are free and reduced over (symbolic/atomics.accumulated);
  dims no inverse was found for (data-dependent indices) become filters `index == j`.
The body is `out0[i] + Σ_free where(in range & mask & filters, value, 0)` (max, min with -inf, +inf), put in
canonical form (a tile `pid * B + lane` reduced over both becomes one index; masks become bounds). The views,
inverses and the body are proposals: verify/accumulate.py proves them.
"""

from __future__ import annotations

from dataclasses import replace

from tritonlift.errors import Unknown
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.poly import mono_expr, norm, poly
from tritonlift.ir.reductions import canon, flatten
from tritonlift.symbolic.atomics import ASSUMPTION, accumulated, combine, free_axes
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import GRID_PREFIX, lane, pid
from tritonlift.synth.derive import (
    Derivation,
    StoreMap,
    Witness,
    _extent_from_grid,
    _fix_grid,
    _grid_assumption,
    _index_names,
    _input_extents,
    _lane_facts,
    _solve,
    derive_kernel,
    tensor_name,
    to_reads,
)
from tritonlift.synth.guards import domain_facts, finish_body, simplify_guards
from tritonlift.synth.indexing import decompose, divide_exact, extent_from_mask, has_index_var, pid_no


def is_data(e: Expr) -> bool:
    """An index computed from memory (a loaded index)."""
    return any(n.op in (Op.MEM, Op.READ, Op.UNDEF) for n in ir.walk(e))


def settled(spec: KernelSpec, s: Store) -> Store:
    """The update with the guards its own mask and ranges decide dropped from its offset and value (an
    identity wherever it happens: `out_ptr + tl.load(x_ptr + k, mask=k < n, other=0)` indexes by x[k])."""
    hyps = list(spec.facts)
    for k, g in enumerate(spec.axes):
        hyps += [ir.le(ir.ZERO, pid(k)), ir.lt(pid(k), g)]
    for k, ext in enumerate(s.shape):
        hyps += [ir.le(ir.ZERO, lane(k)), ir.lt(lane(k), ext)]
        if not ext.is_const:
            hyps.append(ir.le(ir.ONE, ext))
    # the mask: its conjuncts with guards (a loaded index's `other=`) simplified under the ones without
    clean = [c for c in ir.conjuncts(s.mask) if not any(n.op is Op.WHERE for n in ir.walk(c))]
    mask = ir.and_(*(c if c in clean else simplify_guards(c, [*hyps, *clean]) for c in ir.conjuncts(s.mask)))
    hyps.append(s.mask)
    return replace(
        s, offset=norm(simplify_guards(s.offset, hyps)), value=simplify_guards(s.value, hyps), mask=mask
    )


def use_equalities(e: Expr, facts: list[Expr]) -> Expr:
    """A guard's conjuncts that the facts imply dropped, each on its own; in a guard `c1 & .. & (x == i) & ..`
    with i an output index, with x replaced by i first (`0 <= x & x < N & x == i` is `x == i` for i in
    [0, N)). Exact: under x == i the two forms agree."""
    index = {
        str(f.args[1].attr)
        for f in facts
        if f.op is Op.LE and f.args[0] == ir.ZERO and f.args[1].op is Op.VAR
    }

    def step(n: Expr) -> Expr | None:
        if n.op is not Op.WHERE:
            return None
        parts = ir.conjuncts(n.args[0])
        eqs = {
            p.args[0]: p.args[1]
            for p in parts
            if p.op is Op.EQ
            and p.args[1].op is Op.VAR
            and str(p.args[1].attr) in index
            and p.args[0].kind is Kind.INT
        }
        kept = []
        for p in parts:
            if p.op is Op.EQ and p.args[0] in eqs:
                kept.append(p)
                continue
            q = simplify_guards(ir.where(ir.substitute(p, eqs), ir.TRUE, ir.FALSE), facts)
            if q != ir.TRUE:
                kept.append(p)
        if len(kept) == len(parts):
            return None
        return ir.where(ir.and_(*kept), n.args[1], n.args[2])

    return ir.transform(e, step)


def derive_accumulate(spec: KernelSpec, params: tuple[Param, ...]) -> Derivation:
    """The kernel's formula when some of its writes are atomic updates: plain stores as synth/derive does
    them, accumulated outputs as the module docstring says."""
    plain = [n for n, s in enumerate(spec.stores) if not s.atomic]
    atomic = [n for n, s in enumerate(spec.stores) if s.atomic]
    taken = set(spec.pointers) | set(spec.scalars)
    names = {p: tensor_name(p, taken) for p in spec.pointers}
    grid = list(spec.axes)
    tensors: dict[str, TensorDecl] = {}
    assigns: list[Assign] = []
    maps: list[StoreMap] = []
    wits: list[Witness] = []
    facts: list[Expr] = []
    if plain:
        d = derive_kernel(replace(spec, stores=[spec.stores[n] for n in plain]), params)
        grid = list(d.grid)
        tensors = {t.name: t for t in d.formula.tensors}
        assigns = list(d.formula.assigns)
        maps = [StoreMap(plain[m.store], m.target, m.index) for m in d.store_maps]
        wits = [Witness(plain[w.store], w.target, w.values) for w in d.witnesses]
        facts = list(d.facts)
    stores = {n: settled(spec, spec.stores[n]) for n in atomic}
    by_base: dict[str, list[int]] = {}
    for n in atomic:
        by_base.setdefault(stores[n].base, []).append(n)
    new_inputs: set[str] = set()
    pending: list[tuple[str, str, tuple[str, ...], list[tuple[int, tuple[Expr, ...], dict[Expr, Expr]]]]] = []
    for base, nums in by_base.items():
        accs = {n: decompose(stores[n].offset, stores[n].shape) for n in nums}
        layouts = {(tuple(d.stride for d in a.dims), a.offset) for a in accs.values()}
        if len(layouts) > 1:
            raise Unknown(f"atomic updates of {base} at different layouts")
        first = accs[nums[0]]
        out = names[base]
        idx_names = _index_names(len(first.dims), taken | set(names.values()) | set(tensors))
        idx_vars = tuple(ir.var(x) for x in idx_names)
        # extents: a mask bound, else (after the inverses fix free grids) the grid's reach, else memory's
        shape: list[Expr | None] = []
        for k, d in enumerate(first.dims):
            ext = None
            for n in nums:
                ext = (
                    ext
                    or extent_from_mask(accs[n].dims[k].index, stores[n].mask)
                    or _loaded_bound(accs[n].dims[k].index, stores[n].mask)
                )
            if (
                ext is not None
                and not is_data(d.index)
                and any(pid_no(a) is not None for a in ir.walk(d.index))
            ):
                _fix_grid(d.index, ext, stores[nums[0]].shape, grid)
            shape.append(ext)
        per_store: list[tuple[int, tuple[Expr, ...], dict[Expr, Expr]]] = []
        for n in nums:
            s, a = stores[n], accs[n]
            sigma: dict[Expr, Expr] = {}
            for dim, v in zip(a.dims, idx_vars, strict=True):
                if is_data(dim.index) or not has_index_var(dim.index):
                    continue
                try:
                    sol = _solve(dim.index, v, s.shape)
                except Unknown:
                    continue  # no inverse: this dim filters (`index == i`)
                if set(sol) & set(sigma) or any(has_index_var(x) for x in sol.values()):
                    continue
                sigma.update(sol)
            for v in free_axes(len(grid), len(s.shape), sigma):
                k = pid_no(v)
                if k is not None and k < len(spec.grid):
                    _fix_reduced_grid(s, k, grid)
            index = tuple(d.index for d in a.dims)
            maps.append(StoreMap(n, out, index))
            wits.append(Witness(n, out, sigma))
            per_store.append((n, index, sigma))
        for k, d in enumerate(first.dims):
            if shape[k] is None:
                shape[k] = (
                    _data_extent(base, first, k)
                    if is_data(d.index)
                    else _extent_from_grid(d.index, stores[nums[0]].shape, grid)
                )
        decl = TensorDecl(
            out,
            tuple(x for x in shape if x is not None),
            tuple(d.stride for d in first.dims),
            base,
            first.offset,
        )
        tensors[out] = decl
        init = _fresh_name(f"{out}0", taken | set(names.values()) | set(tensors))
        tensors[init] = TensorDecl(init, decl.shape, decl.strides, base, decl.offset)
        pending.append((out, init, idx_names, per_store))
    axes = tuple(grid)
    # what each update adds, pointer-level first: a tile `pid * B + lane` reduced over both reads one flattened
    # index (ir.reductions' tiled reindex); then views of what the terms read (values, masks, loaded indices)
    terms: dict[int, Expr] = {}
    for _out, _init, idx_names, per_store in pending:
        idx_vars = tuple(ir.var(x) for x in idx_names)
        for j, (n, index, sigma) in enumerate(per_store):
            s = stores[n]
            terms[n] = canon(
                accumulated(s, s.value, s.mask, index, sigma, idx_vars, axes, _tag(j), apply_sigma=False)
            )
            for node in ir.walk(terms[n]):
                if node.op is Op.MEM and node.attr not in by_base:
                    _declare_read(tensors, names, node, s.shape, new_inputs)
    lane_facts = _lane_facts(spec)
    symbols_base = set(spec.scalars) | set(tensors) | set(names.values())
    new_assigns: list[Assign] = []
    for out, init, idx_names, per_store in pending:
        idx_vars = tuple(ir.var(x) for x in idx_names)
        decl = tensors[out]
        body: Expr = ir.read(init, *idx_vars)
        for n, _index, sigma in per_store:  # reads of views, then the solved ids as functions of the element
            s = stores[n]
            body = combine(s.combine, body, ir.substitute(to_reads(terms[n], s.shape, tensors), sigma))
        dom = domain_facts(idx_names, decl.shape)
        body = finish_body(
            use_equalities(body, [*lane_facts, *dom]), [*lane_facts, *dom], symbols_base | set(idx_names)
        )
        new_assigns.append(Assign(out, idx_names, body))
    if new_inputs:
        filled = _input_extents(tensors, new_assigns, by_base, names)
        tensors.update({n: filled[n] for n in new_inputs})
    formula = Formula(
        name=spec.name,
        params=params,
        tensors=tuple(tensors.values()),
        assigns=(*assigns, *new_assigns),
        assumptions=(*_grid_assumption(axes[: len(spec.grid)]), ASSUMPTION),
    )
    from tritonlift.synth.view_order import order_contraction_views

    return Derivation(order_contraction_views(formula), axes, maps, wits, facts)


def _loaded_bound(index: Expr, mask: Expr) -> Expr | None:
    """E when the index is a loaded integer int64(v) and the mask says v < E (E an integer: then so is
    int64(v) < E, v being an integer; a proposal all the same, the verifier checks the update lands inside)."""
    if index.op is not Op.CAST or index.args[0].kind is not Kind.REAL:
        return None
    v = index.args[0]
    for c in ir.conjuncts(mask):
        if c.op not in (Op.LT, Op.GT):
            continue
        a, b = c.args if c.op is Op.LT else c.args[::-1]
        if (
            a == v
            and b.op is Op.CAST
            and b.args[0].kind is Kind.INT
            and not has_index_var(b)
            and not is_data(b)
        ):
            return b.args[0]
    return None


def _tag(j: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[j % 26] + ("" if j < 26 else str(j // 26))


def _fresh_name(name: str, taken: set[str]) -> str:
    out, n = name, 1
    while out in taken:
        n += 1
        out = f"{name}_{n}"
    return out


def _declare_read(
    tensors: dict[str, TensorDecl], names: dict[str, str], node: Expr, shape: tuple[Expr, ...], new: set[str]
) -> None:
    """A view for a pointer the updates read: its strides those of the reads (as synth/derive does), extents
    filled in later from the reads' bounds; an existing view (a plain store's input) must hold the read."""
    base = str(node.attr)
    name = names.get(base, base)
    acc = decompose(node.args[0], shape)
    t = tensors.get(name)
    if t is None or (name in new and not t.shape):
        strides = list(t.strides) if t is not None else []
        for d in acc.dims:
            if d.stride not in strides:
                strides.append(d.stride)
        tensors[name] = TensorDecl(name, (), tuple(strides), base, ir.ZERO)
        new.add(name)
        return
    if t.base != base or any(d.stride not in t.strides for d in acc.dims):
        raise Unknown(f"reads of {base} by the atomic updates do not fit the view of its other reads")


def _data_extent(base: str, acc, k: int) -> Expr:
    """The extent of a dim indexed by loaded values: the next outer dim's stride over this one's (a row of a
    strided view), or for the outermost dim what the tensor's memory holds along it (`out_ptr.numel()`)."""
    dims = acc.dims
    stride = dims[k].stride
    outer = [
        d.stride
        for d in dims
        if d.stride != stride
        and divide_exact(d.stride, stride) is not None
        and divide_exact(d.stride, stride) != ir.ONE
    ]
    inner = [q for s in outer if (q := divide_exact(s, stride)) is not None]
    if inner:
        return min(inner, key=lambda e: len(poly(e)))
    numel = ir.sub(ir.var(f"{base}.numel()"), acc.offset)
    return norm(numel) if stride == ir.ONE else ir.arith(Op.TRUNCDIV, numel, stride)


def _fix_reduced_grid(s: Store, k: int, grid: list[Expr]) -> None:
    """A free launch-grid axis the updates reduce over: the smallest grid whose tiles reach a bound the update
    states for them (`pid * B + lane < n`, in its mask or a guard of its value: grid cdiv(n, B)). A proposal:
    the formula says which grid it is for."""
    if not (grid[k].op is Op.VAR and str(grid[k].attr).startswith(GRID_PREFIX)):
        return
    p = pid(k)
    conds = list(ir.conjuncts(s.mask))
    conds += [c for n in ir.walk(s.value) if n.op is Op.WHERE for c in ir.conjuncts(n.args[0])]
    # a guard absorbed into a reduction's bound: R_{k < min(B, n - pid * B)} is `pid * B + k < n`
    for n in ir.walk(s.value):
        if n.op in (Op.SUM, Op.PROD, Op.RMAX, Op.RMIN):
            for x in flatten(n.args[1], Op.MINIMUM):
                terms = poly(x)
                with_p = [(m, c_) for m, c_ in terms.items() if p in m]
                if len(with_p) == 1 and with_p[0][1] == -1:
                    m = with_p[0][0]
                    rest = norm(ir.add(x, mono_expr(m)))
                    if not has_index_var(rest) and not is_data(rest):
                        step = _product([y for y in m if y != p])
                        if not has_index_var(step):
                            grid[k] = ir.arith(Op.TRUNCDIV, norm(ir.sub(ir.add(rest, step), ir.ONE)), step)
                            return
    for c in conds:
        if c.op not in (Op.LT, Op.GT) or c.args[0].kind is not Kind.INT:
            continue
        a, b = c.args if c.op is Op.LT else c.args[::-1]
        if has_index_var(b) or is_data(b) or is_data(a):
            continue
        terms = poly(a)
        with_p = {m: c_ for m, c_ in terms.items() if p in m}
        if len(with_p) != 1:
            continue
        ((m, coef),) = with_p.items()
        if coef != 1 or any(x != p and has_index_var(x) for x in m):
            continue
        step = norm(ir.mul(ir.ONE, _product([x for x in m if x != p])))
        rest = [mm for mm in terms if mm != m]
        if not rest:
            grid[k] = norm(b)
        else:
            grid[k] = ir.arith(Op.TRUNCDIV, norm(ir.sub(ir.add(b, step), ir.ONE)), step)
        return


def _product(items: list[Expr]) -> Expr:
    out: Expr = ir.ONE
    for x in items:
        out = ir.mul(out, x)
    return out


def operator_assign(
    spec: KernelSpec,
    nums: list[int],
    t,
    decls: dict[str, TensorDecl],
    tensors: dict,
    taken: set[str],
    facts: list[Expr],
    reads,
) -> tuple[Assign, list[StoreMap], list[Witness], Expr]:
    """An operator's output updated atomically, over the host's own view of it: its initial value is 0 where
    the host allocates it with torch.zeros, its value before the call where it is a tensor parameter (updated
    in place); torch.empty memory has no defined value to add to. Returns the assignment, the hints, and the
    initial value (over the assignment's index names) for the verifier."""
    from tritonlift.synth.operator import _match, _positional

    decl = decls[t.name]
    names = _index_names(decl.ndim, taken)
    idx_vars = tuple(ir.var(x) for x in names)
    if t.alloc is not None and not t.alloc.zeros:
        raise Unknown(
            f"{t.name} is updated atomically but allocated with torch.empty: the value it adds to is "
            "undefined"
        )
    init: Expr = ir.const(0.0) if t.alloc is not None else ir.read(decl.name, *idx_vars)
    axes = tuple(spec.axes)
    maps: list[StoreMap] = []
    wits: list[Witness] = []
    body = init
    for j, n in enumerate(nums):
        s = settled(spec, spec.stores[n])
        acc = decompose(s.offset, s.shape)
        index = _match(acc, decl.strides) or _positional(acc, decl.ndim)
        if index is None:
            raise Unknown(f"the kernel's atomic updates of {t.name} do not follow {t.name}'s layout")
        sigma: dict[Expr, Expr] = {}
        for e, v in zip(index, idx_vars, strict=True):
            if is_data(e) or not has_index_var(e):
                continue
            try:
                sol = _solve(e, v, s.shape)
            except Unknown:
                continue
            if not set(sol) & set(sigma) and not any(has_index_var(x) for x in sol.values()):
                sigma.update(sol)
        maps.append(StoreMap(n, t.name, index))
        wits.append(Witness(n, t.name, sigma))
        term = canon(
            accumulated(s, s.value, s.mask, index, sigma, idx_vars, axes, _tag(j), apply_sigma=False)
        )
        body = combine(s.combine, body, ir.substitute(reads(term, s.shape, decls, tensors), sigma))
    f = [*facts, *domain_facts(names, decl.shape)]
    symbols = {str(x.attr) for x in ir.walk(body) if x.op is Op.VAR} | set(tensors) | taken
    body = finish_body(use_equalities(body, f), f, symbols | set(names))
    return Assign(t.name, names, body), maps, wits, init
