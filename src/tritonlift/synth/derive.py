"""The `map` sketch: turn a straight-line spec into `out[i..] = f(inputs[..])` over recovered views.

The derivation only proposes: every claim it makes (views, extents, grid, index maps) is checked by
the verifier, which trusts nothing computed here.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass, field

from tritonlift.errors import Unknown
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import Assign, Formula, Param, TensorDecl
from tritonlift.ir.poly import mono_expr, norm, poly
from tritonlift.ir.reductions import REDUCTIONS, flatten
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import GRID_PREFIX, lane, pid
from tritonlift.synth.guards import domain_facts, finish_body, simplify_guards
from tritonlift.synth.indexing import (
    Access,
    Dim,
    _dim_order,
    decompose,
    divide_exact,
    extent_from_mask,
    fold_offset,
    has_index_var,
    lane_no,
    merge_lane_dims,
    pid_no,
)

INDEX_NAMES = ("i", "j", "k", "l", "m", "n", "p", "q")


@dataclass
class StoreMap:
    """Hint: the output element a store lane writes (index per target dim, over program ids/lanes)."""

    store: int
    target: str
    index: tuple[Expr, ...]


@dataclass
class Witness:
    """Hint: which program id and lane writes output element (i..): values over the index vars."""

    store: int
    target: str
    values: dict[Expr, Expr]  # pid/lane var -> expr over the assign's index vars


@dataclass
class Derivation:
    formula: Formula
    grid: tuple[Expr, ...]
    store_maps: list[StoreMap] = field(default_factory=list)
    witnesses: list[Witness] = field(default_factory=list)
    facts: list[Expr] = field(default_factory=list)


def tensor_name(ptr: str, taken: set[str]) -> str:
    for suffix in ("_ptr", "_pointer", "ptr", "_p"):
        if ptr.endswith(suffix) and len(ptr) > len(suffix):
            name = ptr[: -len(suffix)].rstrip("_")
            if name and name not in taken and name.isidentifier() and not keyword.iskeyword(name):  # `in_ptr`
                return name
    return ptr if ptr not in taken else f"{ptr}_v"


def _index_names(n: int, taken: set[str]) -> tuple[str, ...]:
    names = [x for x in INDEX_NAMES if x not in taken]
    if len(names) < n:
        names += [f"i{k}" for k in range(n) if f"i{k}" not in taken]
    return tuple(names[:n])


def _moving_part(e: Expr) -> Expr:
    """The part of a sum that holds program ids or lanes."""
    out: Expr = ir.ZERO
    for m, c in poly(e).items():
        if any(has_index_var(a) for a in m):
            out = ir.add(out, ir.mul(ir.const(c), mono_expr(m)))
    return norm(out)


def _solve(dim_index: Expr, value: Expr, lane_extents: tuple[Expr, ...]) -> dict[Expr, Expr]:
    """Program ids and lanes that make dim_index equal value (a free index variable)."""
    e = norm(dim_index)
    if lane_no(e) is not None or pid_no(e) is not None:
        return {e: value}
    moving = _moving_part(e)
    if moving != e:  # core + c: solve core = value - c
        return _solve(moving, norm(ir.sub(value, ir.sub(e, moving))), lane_extents)
    # lane - pid * E (a sweep from the end): pid = (E - 1 - value) // E, lane = value + pid * E
    p = poly(e)
    if len(p) == 2:
        lane_m = [m for m in p if len(m) == 1 and lane_no(m[0]) is not None and p[m] == 1]
        pid_m = [m for m in p if m not in lane_m and p[m] < 0 and sum(pid_no(x) is not None for x in m) == 1]
        if lane_m and pid_m:
            ln = lane_no(lane_m[0][0])
            atom = next(x for x in pid_m[0] if pid_no(x) is not None)
            # E is the rest of the monomial times its coefficient's magnitude (a constant tile: -4096 * pid)
            factor = norm(ir.mul(ir.const(-p[pid_m[0]]), mono_expr(tuple(x for x in pid_m[0] if x != atom))))
            if ln is not None and ln < len(lane_extents) and factor == norm(lane_extents[ln]):
                q = ir.arith(Op.FLOORDIV, ir.sub(ir.sub(factor, ir.ONE), value), factor)
                return {atom: q, lane_m[0][0]: ir.add(value, ir.mul(q, factor))}
    # pid * E + lane  with E the lane's extent
    if e.op is Op.ADD:
        a, b = e.args
        for x, y in ((a, b), (b, a)):
            ln = lane_no(y)
            if ln is None or ln >= len(lane_extents):
                continue
            ext = lane_extents[ln]
            rest = norm(x)
            if rest.op is Op.MUL:
                p_, q_ = rest.args
                for atom, factor in ((p_, q_), (q_, p_)):
                    if pid_no(atom) is not None and norm(factor) == norm(ext):
                        return {atom: ir.arith(Op.TRUNCDIV, value, ext), y: ir.arith(Op.TRUNCMOD, value, ext)}
    # mixed radix: rest * E + lane with E the lane's extent (a fused dimension, indexing.merge_lane_dims):
    # lane = value % E, and rest = value // E solved the same way
    terms = poly(e)
    for m, c in terms.items():
        if c != 1 or len(m) != 1 or (ln := lane_no(m[0])) is None or ln >= len(lane_extents):
            continue
        rest = divide_exact(norm(ir.sub(e, m[0])), lane_extents[ln])
        if rest is None or rest == ir.ZERO or not has_index_var(rest):
            continue
        ext = lane_extents[ln]
        inner = _solve(rest, ir.arith(Op.TRUNCDIV, value, ext), lane_extents)
        return {**inner, m[0]: ir.arith(Op.TRUNCMOD, value, ext)}
    raise Unknown(f"cannot invert the index map {e}")


def derive_kernel(spec: KernelSpec, params: tuple[Param, ...]) -> Derivation:
    """Kernel-level formula: outputs and inputs as strided views of the pointer arguments."""
    if not spec.stores:
        raise Unknown("the kernel stores nothing")
    taken = set(spec.pointers) | set(spec.scalars)
    names = {p: tensor_name(p, taken) for p in spec.pointers}
    grid = list(spec.axes)  # launch grid, then the iterations of loops that store
    by_base: dict[str, list[int]] = {}
    for n, s in enumerate(spec.stores):
        by_base.setdefault(s.base, []).append(n)
    if any(s.atomic for s in spec.stores):  # atomic updates: accumulated outputs (synth/accumulate.py)
        from tritonlift.synth.accumulate import derive_accumulate

        return derive_accumulate(spec, params)
    tensors: dict[str, TensorDecl] = {}
    assigns: list[Assign] = []
    store_maps: list[StoreMap] = []
    witnesses: list[Witness] = []
    pending_reads: list[tuple[Store, dict[Expr, Expr]]] = []
    fused = _fused_lanes(spec)

    def dec(offset: Expr, lane_extents: tuple[Expr, ...]) -> Access:
        acc = decompose(offset, lane_extents)
        return merge_lane_dims(acc, lane_extents, lambda _i, ln: ln in fused) if fused else acc

    body_only: set[int] = set()
    for base, nums in by_base.items():
        first = spec.stores[nums[0]]
        acc = dec(first.offset, first.shape)
        accs = {n: dec(spec.stores[n].offset, spec.stores[n].shape) for n in nums}
        out_name = names[base]
        idx_names = _index_names(len(acc.dims), taken | set(names.values()))
        idx_vars = tuple(ir.var(n) for n in idx_names)
        # every store's access in the first one's layout (a store starting elsewhere, such as a reversed
        # sweep from the last tile, folds its offset into the dim it moves)
        raw = {n: accs[n] if n != nums[0] else acc for n in nums}
        if any(norm(raw[n].offset) != norm(acc.offset) for n in nums) or (
            acc.offset.op is not Op.CONST and any(_sweeps_back(d.index) for d in acc.dims)
        ):
            # stores start at different places, or one sweeps back from a size-dependent start (the last
            # tile): each one's start folds into its dims, the view starts at 0
            acc = Access(acc.dims, ir.ZERO)
        accesses: dict[int, Access] = {}
        for n in nums:
            a = raw[n]
            rel = norm(ir.sub(a.offset, acc.offset))
            same = [d.stride for d in a.dims] == [d.stride for d in acc.dims]
            folded = (_fold_store_offset(a.dims, rel) if rel != ir.ZERO else a) if same else None
            if folded is None:
                break
            accesses[n] = folded
        if len(accesses) < len(nums):
            if len({tuple(d.stride for d in a.dims) for a in accs.values()}) == 1:
                raise Unknown(f"stores to {base} use different layouts")
            # several stores (a masked tail tile and a loop over full tiles, say) with different layouts:
            # each on the dims of the first, constant parts folded into the index (verify checks every map)
            aligned = align_accesses([accs[n] for n in nums])
            out_name = names[base]
            decl, per_store = _aligned_view(spec, nums, aligned, out_name, grid, taken | set(names.values()))
            tensors[out_name] = decl
            idx_names = _index_names(len(decl.shape), taken | set(names.values()))
            for n, (index, values) in zip(nums, per_store, strict=True):
                store_maps.append(StoreMap(n, out_name, index))
                witnesses.append(Witness(n, out_name, values))
            pending_reads.append((first, per_store[0][1]))
            assigns.append(Assign(out_name, idx_names, ir.TRUE))
            body_only.update(nums[1:])  # the body (and so the input views) comes from the first store
            continue
        acc = accesses[nums[0]]
        shape: list[Expr] = []
        for k, d in enumerate(acc.dims):
            ext = None
            for n in nums:
                ext = ext or extent_from_mask(d.index, spec.stores[n].mask)
            if ext is None:
                ext = _extent_from_grid(d.index, first.shape, grid)
            elif not any(pid_no(a) is not None for a in ir.walk(d.index)):
                # lanes alone index this dim: the mask bounds it, and so does the block, unless another
                # store (another constexpr path) tiles the same dim with program ids: the mask alone then
                # (or starts it elsewhere: a one-trip loop's tile at a size-dependent offset)
                tiled = [e for n in nums[1:] if (_moves_by_pid(accesses[n].dims[k].index)
                                                 or norm(accesses[n].dims[k].index) != norm(d.index))
                         and (e := extent_from_mask(accesses[n].dims[k].index, spec.stores[n].mask)) is not None]
                reach = _extent_from_grid(d.index, first.shape, grid)
                if tiled:
                    ext = tiled[0]
                elif reach != ext:
                    ext = simplify_guards(ir.minimum(ext, reach), _lane_facts(spec))
            else:
                _fix_grid(d.index, ext, first.shape, grid)
            shape.append(ext)
        decl = TensorDecl(out_name, tuple(shape), tuple(d.stride for d in acc.dims), base, acc.offset)
        tensors[out_name] = decl
        values: dict[Expr, Expr] = {}
        for n in nums:
            a = accesses[n]
            store_maps.append(StoreMap(n, out_name, tuple(d.index for d in a.dims)))
            # which program id and lane write element (i..): each store its own
            values = _store_values(a, idx_vars, spec.stores[n].shape, len(grid))
            witnesses.append(Witness(n, out_name, values))
        last = spec.stores[nums[-1]]
        pending_reads.append((last, values))
        assigns.append(Assign(out_name, idx_names, ir.TRUE))  # body filled below
    # input views from every read of every stored value
    reads: dict[str, list[tuple[Access, Store]]] = {}
    for n, s in enumerate(spec.stores):
        if n in body_only:
            continue
        for node in ir.walk(s.value):
            if node.op is Op.MEM:
                reads.setdefault(node.attr, []).append((dec(node.args[0], s.shape), s))
    for base, accs in reads.items():
        if base in by_base:
            continue
        strides: list[Expr] = []
        for a, _ in accs:
            for d in a.dims:
                if d.stride not in strides:
                    strides.append(d.stride)
        strides = _like_an_output(strides, tensors)
        tensors[names.get(base, base)] = TensorDecl(names.get(base, base), (), tuple(strides), base, ir.ZERO)
    bodies: list[Expr] = []
    for store, values in pending_reads:
        bodies.append(_body(store, values, tensors, dec))
    facts = _lane_facts(spec)
    symbols = {str(n.attr) for b in bodies for n in ir.walk(b) if n.op is Op.VAR} | set(spec.scalars)
    assigns = [
        Assign(a.target, a.index, finish_body(b, facts + domain_facts(a.index, tensors[a.target].shape),
                                              symbols | set(a.index) | set(tensors)))
        for a, b in zip(assigns, bodies, strict=True)
    ]
    tensors = _input_extents(tensors, assigns, by_base, names)
    grid_t = tuple(grid)
    formula = Formula(
        name=spec.name,
        params=params,
        tensors=tuple(tensors.values()),
        assigns=tuple(assigns),
        assumptions=tuple(_grid_assumption(grid_t[: len(spec.grid)])),
    )
    from tritonlift.synth.view_order import order_contraction_views

    return Derivation(order_contraction_views(formula), grid_t, store_maps, witnesses)


def _fused_lanes(spec: KernelSpec) -> set[int]:
    """Lanes whose dimension fuses with the one outside it (`indexing.merge_lane_dims`) in every store: those
    where a store's mask bounds the fused index (`k = (pid * B + l0) * V + l1 < K`) and not the lane alone.
    Reads then fuse the same lanes, so inputs and outputs share the fused index."""
    out: set[int] | None = None
    for s in spec.stores:
        lanes: set[int] = set()

        def fits(index: Expr, ln: int, s: Store = s, lanes: set[int] = lanes) -> bool:
            if extent_from_mask(index, s.mask) is None or extent_from_mask(lane(ln), s.mask) is not None:
                return False
            lanes.add(ln)
            return True

        merge_lane_dims(decompose(s.offset, s.shape), s.shape, fits)
        out = lanes if out is None else out & lanes
    return out or set()


def _sweeps_back(index: Expr) -> bool:
    """Whether a program id (a loop's trip) moves the index down: `P - t * B + l`."""
    return any(c < 0 and any(pid_no(a) is not None for a in m) for m, c in poly(norm(index)).items())


def _moves_by_pid(index: Expr) -> bool:
    return any(pid_no(a) is not None for a in ir.walk(index))


def _fold_store_offset(dims: tuple, rel: Expr) -> Access | None:
    """A store whose offset differs from the first store's by rel: rel as a whole number of one dim's
    strides, the outermost dim that divides it (the sweep `(P - t*B + l) * K` starts P rows further)."""
    for k, d in enumerate(dims):
        q = divide_exact(rel, d.stride)
        if q is not None:
            new = list(dims)
            new[k] = type(d)(d.stride, norm(ir.add(d.index, q)))
            return Access(tuple(new), ir.ZERO)
    return None


def _store_values(a: Access, idx_vars: tuple[Expr, ...], lanes: tuple[Expr, ...], grid_rank: int) -> dict[Expr, Expr]:
    """The program ids and lanes of one store that write output element idx_vars (its dims' indices solved)."""
    values: dict[Expr, Expr] = {}
    for d, v in zip(a.dims, idx_vars, strict=True):
        values.update(_solve(d.index, v, lanes))
    # lanes and program ids that do not move the address: any value writes the same element
    for ax in range(len(lanes)):
        values.setdefault(lane(ax), ir.ZERO)
    for ax in range(grid_rank):
        values.setdefault(pid(ax), ir.ZERO)
    return values


def align_accesses(accs: list[Access]) -> list[Access]:
    """Accesses of one output on the dims of the first, offset 0: a dim whose stride is a multiple of one
    of the first's strides joins that dim (a reversed tile loop `P - B*t + l` moves the unit-stride index
    by -B per iteration), and the constant part is folded into an index (fold_offset)."""
    ref = [d.stride for d in accs[0].dims]
    order = sorted(range(len(ref)), key=lambda k: _dim_order(accs[0].dims[k]))  # innermost last
    out: list[Access] = []
    for a in accs:
        index = {s: ir.ZERO for s in ref}
        for d in a.dims:
            if d.stride in index:
                index[d.stride] = norm(ir.add(index[d.stride], d.index))
                continue
            for k in order:  # outermost first: a stride N*B joins N before 1
                q = divide_exact(d.stride, ref[k])
                if q is not None:
                    index[ref[k]] = norm(ir.add(index[ref[k]], ir.mul(q, d.index)))
                    break
            else:
                raise Unknown("stores to one output use layouts that do not align")
        folded = fold_offset(Access(tuple(Dim(s, i) for s, i in index.items()), a.offset), tuple(ref))
        if norm(folded.offset) != ir.ZERO or [d.stride for d in folded.dims] != ref:
            raise Unknown("stores to one output at constant offsets that do not align")
        out.append(folded)
    return out


def _aligned_view(
    spec: KernelSpec, nums: list[int], aligned: list[Access], out_name: str, grid: list[Expr], taken: set[str]
) -> tuple[TensorDecl, list[tuple[tuple[Expr, ...], dict[Expr, Expr]]]]:
    """The output view of aligned stores (extents from any store's mask, else from the grid) and, per store,
    its index map and its witness (which program ids and lanes write element (i..))."""
    first = spec.stores[nums[0]]
    ref = aligned[0].dims
    idx_vars = tuple(ir.var(n) for n in _index_names(len(ref), taken))
    shape: list[Expr] = []
    for k, d in enumerate(ref):
        ext = None
        for n, a in zip(nums, aligned, strict=True):
            ext = ext or extent_from_mask(a.dims[k].index, spec.stores[n].mask)
        shape.append(ext if ext is not None else _extent_from_grid(d.index, first.shape, grid))
    per_store = []
    for n, a in zip(nums, aligned, strict=True):
        s = spec.stores[n]
        values: dict[Expr, Expr] = {}
        for d, v in zip(a.dims, idx_vars, strict=True):
            values.update(_solve(d.index, v, s.shape))
        for ax in range(len(s.shape)):
            values.setdefault(lane(ax), ir.ZERO)
        for ax in range(len(grid)):
            values.setdefault(pid(ax), ir.ZERO)
        per_store.append((tuple(d.index for d in a.dims), values))
    decl = TensorDecl(out_name, tuple(shape), tuple(d.stride for d in ref), spec.stores[nums[0]].base, ir.ZERO)
    return decl, per_store


def _like_an_output(strides: list[Expr], outputs: dict[str, TensorDecl]) -> list[Expr]:
    """An input read through the same strides as an output is viewed in the output's dimension order
    (`out[i, j, k] = f(x[i, l, k] for l)` rather than x's dimensions in the order its reads met them)."""
    for decl in outputs.values():
        if len(decl.strides) == len(strides) and set(decl.strides) == set(strides):
            return list(decl.strides)
    return strides


def _lane_facts(spec: KernelSpec) -> list[Expr]:
    out: list[Expr] = list(spec.facts)
    for s in spec.stores:
        for ext in s.shape:
            if not ext.is_const:
                out.append(ir.le(ir.ONE, ext))
    return out


def _grid_assumption(grid: tuple[Expr, ...]) -> list[str]:
    from tritonlift.ir.printer import to_text

    return [f"launched with grid ({', '.join(to_text(g) for g in grid)}{',' if len(grid) == 1 else ''})"]


def _extent_from_grid(index: Expr, lane_extents: tuple[Expr, ...], grid: list[Expr]) -> Expr:
    # the largest index + 1 when every program id and lane takes its largest value
    sub: dict[Expr, Expr] = {}
    for a in ir.walk(index):
        if (n := lane_no(a)) is not None:
            sub[a] = ir.sub(lane_extents[n], ir.ONE)
        elif (n := pid_no(a)) is not None:
            sub[a] = ir.sub(grid[n], ir.ONE)
    return norm(ir.add(ir.substitute(index, sub), ir.ONE))


def _fix_grid(index: Expr, ext: Expr, lane_extents: tuple[Expr, ...], grid: list[Expr]) -> None:
    """A free (kernel-level) grid axis becomes the smallest grid that covers [0, ext)."""
    e = norm(index)
    pids = [a for a in ir.walk(e) if pid_no(a) is not None]
    lanes = [a for a in ir.walk(e) if lane_no(a) is not None]
    if len(pids) != 1:
        return
    k = pid_no(pids[0])
    assert k is not None
    if not (grid[k].op is Op.VAR and str(grid[k].attr).startswith(GRID_PREFIX)):
        return
    if not lanes:
        grid[k] = ext
    elif len(lanes) == 1:
        n = lane_no(lanes[0])
        assert n is not None
        b = lane_extents[n]
        grid[k] = ir.arith(Op.TRUNCDIV, ir.sub(ir.add(ext, b), ir.ONE), b)
    else:  # pid * C + r(lanes) where r covers [0, C): a fused tile (indexing.merge_lane_dims)
        step = divide_exact(_moving_part(ir.substitute(e, {lane: ir.ZERO for lane in lanes})), pids[0])
        tile = _extent_from_grid(ir.substitute(e, {pids[0]: ir.ZERO}), lane_extents, grid)
        if step is not None and norm(step) == norm(ir.sub(tile, ir.sub(e, _moving_part(e)))):
            grid[k] = ir.arith(Op.TRUNCDIV, ir.sub(ir.add(ext, step), ir.ONE), step)


def _body(
    store: Store, values: dict[Expr, Expr], tensors: dict[str, TensorDecl],
    dec: Callable[[Expr, tuple[Expr, ...]], Access] = decompose,
) -> Expr:
    out = to_reads(store.value, store.shape, tensors, dec)
    out = ir.substitute(out, values)
    out = ir.transform(out, lambda n: norm(n) if n.kind is Kind.INT and n.op in (Op.ADD, Op.SUB, Op.MUL) else None)
    if has_index_var(out):
        raise Unknown("the stored value depends on lanes or program ids that the output index does not fix")
    return out


def to_reads(
    value: Expr, shape: tuple[Expr, ...], tensors: dict[str, TensorDecl],
    dec: Callable[[Expr, tuple[Expr, ...]], Access] = decompose,
) -> Expr:
    """Every pointer-level read (MEM) of `value`, a block element over lanes of `shape`, as a read of the view
    declared for its pointer (its element offset split along the view's strides)."""
    by_base = {t.base: t for t in tensors.values()}

    def to_read(node: Expr) -> Expr | None:
        if node.op is not Op.MEM:
            return None
        t = by_base[node.attr]
        acc = dec(node.args[0], shape)
        rel = norm(ir.sub(acc.offset, t.offset))
        if rel != ir.ZERO:  # x_ptr + offs + 1: the constant part moves the index
            # a symbolic shift (a reversed sweep's start row) moves the outermost dim it divides
            exact = [q for d in acc.dims if (q := divide_exact(rel, d.stride)) is not None]
            folded = None if any(q.is_const for q in exact) else _fold_store_offset(acc.dims, rel)
            acc = folded or fold_offset(Access(acc.dims, rel), t.strides)
            acc = Access(acc.dims, norm(ir.add(acc.offset, t.offset)))
        idx: list[Expr] = []
        for s in t.strides:
            match = [d for d in acc.dims if d.stride == s]
            idx.append(match[0].index if match else ir.ZERO)
        if len(acc.dims) != len([d for d in acc.dims if d.stride in t.strides]):
            raise Unknown(f"read of {node.attr} does not fit its view")
        if norm(ir.sub(acc.offset, t.offset)) != ir.ZERO:
            raise Unknown(f"read of {node.attr} at a constant offset outside its view")
        return ir.read(t.name, *(norm(i) for i in idx))

    return ir.transform(value, to_read)


def _reads_with_bounds(e: Expr, ranges: dict[str, tuple[Expr, Expr]] | None = None):
    """Each READ with the range [lo, hi - 1] of every reduction index around it."""
    ranges = ranges or {}
    if e.op is Op.READ:
        yield e, ranges
    if e.op in REDUCTIONS or e.op in ir.ARG_OPS:
        lo, hi, body = e.args
        yield from _reads_with_bounds(lo, ranges)
        yield from _reads_with_bounds(hi, ranges)
        yield from _reads_with_bounds(body, {**ranges, str(e.attr): (lo, ir.sub(hi, ir.ONE))})
        return
    for a in e.args:
        yield from _reads_with_bounds(a, ranges)


def _bound(e: Expr, ranges: dict[str, tuple[Expr, Expr]], upper: bool, depth: int = 0) -> Expr:
    """An upper (or lower) bound of the integer expression e when each variable in `ranges` lies in its
    [lo, top]: min/max bound argument-wise, a linear term takes the end its coefficient's sign picks
    (a tile bound min(B, M - B*i) is largest at i = 0, not at the last i)."""
    if depth > 8 or not any(n.op is Op.VAR and str(n.attr) in ranges for n in ir.walk(e)):
        return e
    if e.op in (Op.MINIMUM, Op.MAXIMUM):
        a, b = (_bound(x, ranges, upper, depth + 1) for x in e.args)
        return ir.minimum(a, b) if e.op is Op.MINIMUM else ir.maximum(a, b)
    out: Expr = ir.ZERO
    for m, c in poly(e).items():
        ranged = [k for k, a in enumerate(m) if any(n.op is Op.VAR and str(n.attr) in ranges for n in ir.walk(a))]
        term = mono_expr(m)
        if len(ranged) == 1 and m[ranged[0]].op in (Op.VAR, Op.MINIMUM, Op.MAXIMUM):
            # c * (other factors: sizes, block sizes, taken >= 0) * atom: the atom's bound in c's direction
            atom, rest = m[ranged[0]], m[: ranged[0]] + m[ranged[0] + 1:]
            up = upper if c > 0 else not upper
            if atom.op is Op.VAR:
                lo, top = ranges[str(atom.attr)]
                b = _bound(top if up else lo, ranges, up, depth + 1)
            else:
                b = _bound(atom, ranges, up, depth + 1)
            term = ir.mul(mono_expr(rest), b) if rest else b
        elif ranged:  # anything else: every variable at its top (the old, monotone reading)
            term = _at_tops(term, ranges, depth)
        out = ir.add(out, ir.mul(ir.const(c), term))
    return norm(out)


def _at_tops(e: Expr, ranges: dict[str, tuple[Expr, Expr]], depth: int) -> Expr:
    for _ in range(depth + 2):
        e = ir.substitute(e, {ir.var(v): top for v, (_lo, top) in ranges.items()})
    return e


def _join_extent(old: Expr | None, new: Expr) -> Expr:
    """maximum(old, new) without redundant terms: min(.., b, ..) <= b, and min(a, b) is min(b, a); a new
    maximum(a, b) joins term by term (no nested copies of one bound)."""
    if old is None:
        return new
    out = old
    for term in flatten(new, Op.MAXIMUM):
        out = _join_one(out, term)
    return out


def _join_one(old: Expr, new: Expr) -> Expr:
    parts = flatten(old, Op.MAXIMUM)
    new_bounds = {_minmax_key(new)} | {_minmax_key(q) for q in flatten(new, Op.MINIMUM)}  # new <= each
    if any(_minmax_key(p) in new_bounds for p in parts):
        return old
    # drop the old terms that are <= new
    out = new
    for p in parts:
        if _minmax_key(new) not in {_minmax_key(q) for q in flatten(p, Op.MINIMUM)}:
            out = ir.maximum(p, out)
    return out


def _minmax_key(e: Expr) -> tuple:
    if e.op in (Op.MINIMUM, Op.MAXIMUM):
        return (e.op.value, tuple(sorted(_minmax_key(a) for a in flatten(e, e.op))))
    return ("", repr(norm(e)))


def _input_extents(
    tensors: dict[str, TensorDecl], assigns: list[Assign], outputs: dict[str, list[int]], names: dict[str, str]
) -> dict[str, TensorDecl]:
    """Give every input view the smallest shape that holds all its reads over the output domains."""
    out = dict(tensors)
    extents: dict[str, list[Expr | None]] = {}
    for a in assigns:
        tgt = tensors[a.target]
        bounds = {n: (ir.ZERO, ir.sub(e, ir.ONE)) for n, e in zip(a.index, tgt.shape, strict=True)}
        for node, inner in _reads_with_bounds(a.body):
            t = tensors[node.attr]
            if t.shape:
                continue
            ext = extents.setdefault(t.name, [None] * len(t.strides))
            for d, i in enumerate(node.args):
                hi = norm(ir.add(_bound(i, {**bounds, **inner}, upper=True), ir.ONE))
                ext[d] = _join_extent(ext[d], hi)
    for name, ext in extents.items():
        t = out[name]
        ext = [_memory_extent(t, d) if e is not None and _reads_memory(e) else e for d, e in enumerate(ext)]
        out[name] = TensorDecl(t.name, tuple(e if e is not None else ir.ONE for e in ext), t.strides, t.base, t.offset)
    for name, t in list(out.items()):
        if not t.shape and t.strides:
            out[name] = TensorDecl(t.name, tuple(ir.ONE for _ in t.strides), t.strides, t.base, t.offset)
    return out


def _reads_memory(e: Expr) -> bool:
    return any(n.op in (Op.READ, Op.MEM, Op.UNDEF) for n in ir.walk(e))


def _memory_extent(t: TensorDecl, d: int) -> Expr:
    """The extent of an input dim indexed by loaded values (a gather `w[int64(idx[k]), j]`): what the
    pointer's memory holds along it (`w_ptr.numel()` over the stride). Only the view's declared shape: the
    proof is about addresses, which do not depend on it."""
    numel = ir.var(f"{t.base}.numel()")
    return numel if t.strides[d] == ir.ONE else ir.arith(Op.TRUNCDIV, numel, t.strides[d])
