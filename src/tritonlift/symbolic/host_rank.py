"""Tensors of symbolic rank in host code: what the host can say about their shapes, as size products.

A tensor parameter whose rank the host never fixes (`x.shape[-1]`, `x.numel()`, `x.shape[:dim]`,
`math.prod(normalized_shape)`) is a tensor of symbolic rank: its dims are `x.shape[0 .. x.ndim)` with
`x.ndim` a symbol. The host can only ever name products of consecutive dims, so the shape is kept as a
*chain*: cut points `0 = c0 <= c1 <= ... <= ck = x.ndim` (integer expressions over `x.ndim` and the host's
symbols, ordered under the path's facts) and one symbol per segment, the product of the dims in
`[c_i, c_(i+1))`. `x.numel()` is the product of the segments; `x.shape[d]` (for 0 <= d < x.ndim) is the
segment `[d, d + 1)`; `math.prod(x.shape[a:b])` the product of the segments between a and b. Cutting a
segment in two adds the fact `old == left * right` (each product >= 0), so an expression computed before a
cut stays related to those computed after it. Each symbol is named by Python text over the host's
parameters that evaluates to it (`math.prod(x.shape[:-1])`, `x.shape[dim % x.ndim]`), so the lifted torch
code can compute it.

The contiguous memory of such a tensor is what kernels read (flat, `x.numel()` elements); the operator's
formula views it as (M, N) or (M, N, K) with M, N, K these products (synth/rank_views.py).

A list parameter of sizes (`normalized_shape`) has `len(L)` and `math.prod(L)` as symbols. When the host
relates it to a tensor of symbolic rank, as PyTorch's contract for such a parameter does
(`x.numel() // math.prod(L)` rows, or `x.ndim - len(L)` as the first normalized dim), L is taken to be x's
trailing dims: an assumption the result lists (the host does not check it), after which
`math.prod(L)` is the segment `[x.ndim - len(L), x.ndim)` of x's chain.

Python sequence semantics are kept exact: an index or slice bound the facts do not place inside the
sequence (a negative `dim`, a slice past the end) is unsupported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Expr, Op
from tritonlift.ir.poly import norm

PROVE_MS = 2000


def _prove(facts: list[Expr], goal: Expr) -> bool:
    from tritonlift.synth.guards import prove

    if goal.op is Op.CONST:
        return bool(goal.value)
    return prove(facts, goal, PROVE_MS)


def _text(e: Expr) -> str:
    from tritonlift.ir.printer import to_text

    return to_text(e)


@dataclass
class RankChain:
    """The shape of one tensor of symbolic rank, as products of consecutive dims (see the module doc)."""

    owner: str  # the parameter's name: the symbols' texts read its shape
    cuts: list[Expr] = field(default_factory=list)
    segs: list[Expr] = field(default_factory=list)
    hints: dict[tuple[Expr, Expr], Expr] = field(default_factory=dict)  # (lo, hi) -> the symbol to use

    def __post_init__(self) -> None:
        if not self.cuts:
            self.cuts = [ir.ZERO, self.ndim]
            self.segs = [ir.var(f"{self.owner}.numel()")]

    @property
    def ndim(self) -> Expr:
        return ir.var(f"{self.owner}.ndim")

    def numel(self) -> Expr:
        out: Expr = ir.ONE
        for s in self.segs:
            out = ir.mul(out, s)
        return norm(out)

    # -- texts ---------------------------------------------------------------------------------
    def end_text(self, e: Expr) -> str:
        """A slice bound as Python text: `-1` for ndim - 1, `x.ndim - len(L)` for ndim - len(L)."""
        rest = norm(ir.sub(e, self.ndim))
        if rest.op is Op.CONST and rest.value < 0:
            return str(rest.value)
        if rest != e and not any(n.op is Op.VAR and n.attr == self.ndim.attr for n in ir.walk(rest)):
            minus = norm(ir.neg(rest))
            shown = _text(minus)
            if minus.op not in (Op.VAR, Op.CONST):
                shown = f"({shown})"
            return f"{self.owner}.ndim - {shown}"
        return _text(e)

    def slice_text(self, lo: Expr, hi: Expr) -> str:
        """`x.shape[lo:hi]` as Python text (empty bounds left out)."""
        a = "" if norm(lo) == ir.ZERO else self.end_text(lo)
        b = "" if norm(hi) == norm(self.ndim) else self.end_text(hi)
        return f"{self.owner}.shape[{a}:{b}]"

    def name(self, lo: Expr, hi: Expr) -> str:
        if norm(lo) == ir.ZERO and norm(hi) == norm(self.ndim):
            return f"{self.owner}.numel()"
        if norm(ir.sub(hi, lo)) == ir.ONE:
            return f"{self.owner}.shape[{self.end_text(lo)}]"
        return f"math.prod({self.slice_text(lo, hi)})"

    # -- cuts ----------------------------------------------------------------------------------
    def cut(self, p: Expr, facts: list[Expr], line_err: str) -> int:
        """Make p a cut point (0 <= p <= ndim under the facts); its index in `cuts`."""
        p = norm(p)
        for k, c in enumerate(self.cuts):
            if norm(c) == p:
                return k
        for k in range(len(self.segs)):
            a, b = self.cuts[k], self.cuts[k + 1]
            if not _prove(facts, ir.and_(ir.le(a, p), ir.le(p, b))):
                continue
            if _prove(facts, ir.eq(p, a)):
                return k
            if _prove(facts, ir.eq(p, b)):
                return k + 1
            left = self.hints.get((norm(a), p)) or ir.var(self.name(a, p))
            right = self.hints.get((p, norm(b))) or ir.var(self.name(p, b))
            facts += [
                ir.le(ir.ZERO, left),
                ir.le(ir.ZERO, right),
                ir.eq(self.segs[k], norm(ir.mul(left, right))),
            ]
            self.cuts.insert(k + 1, p)
            self.segs[k : k + 1] = [left, right]
            return k + 1
        raise Unsupported(
            f"{line_err}: the host slices {self.owner}.shape at {_text(p)}, which the facts do not "
            f"order among its other cuts ({', '.join(_text(c) for c in self.cuts)})"
        )

    def product(self, lo: Expr, hi: Expr, facts: list[Expr], where: str) -> Expr:
        """math.prod(x.shape[lo:hi]) for 0 <= lo <= hi <= ndim under the facts."""
        if not _prove(facts, ir.le(lo, hi)):
            raise Unsupported(f"{where}: {self.slice_text(lo, hi)} with bounds the facts do not order")
        a = self.cut(lo, facts, where)
        b = self.cut(hi, facts, where)
        out: Expr = ir.ONE
        for s in self.segs[a:b]:
            out = ir.mul(out, s)
        return norm(out)


@dataclass(frozen=True)
class Part:
    """A piece of a sequence of sizes: dims [lo, hi) of a chain, or one explicit size."""

    chain: RankChain | None
    lo: Expr = ir.ZERO
    hi: Expr = ir.ZERO
    size: Expr | None = None
    count: Expr | None = None  # with chain None: `count` copies of `size` (`for i in range(a, b): s[i] = 1`)

    def length(self) -> Expr:
        if self.chain is None:
            return ir.ONE if self.count is None else self.count
        return norm(ir.sub(self.hi, self.lo))


@dataclass(frozen=True)
class SymSizes:
    """A sequence of sizes of symbolic length (a shape of symbolic rank, a slice of one, a list copy of one
    with some items replaced): the host can take its length, its product, items and slices."""

    parts: tuple[Part, ...]

    def length(self) -> Expr:
        out: Expr = ir.ZERO
        for p in self.parts:
            out = ir.add(out, p.length())
        return norm(out)

    def product(self, facts: list[Expr], where: str) -> Expr:
        out: Expr = ir.ONE
        for p in self.parts:
            if p.chain is None and p.count is not None:  # size ** count: exact only for size 1
                if p.size != ir.ONE:
                    raise Unsupported(f"{where}: the product of {self.text()} is not modelled")
            elif p.chain is None:
                assert p.size is not None
                out = ir.mul(out, p.size)
            else:
                out = ir.mul(out, p.chain.product(p.lo, p.hi, facts, where))
        return norm(out)

    def text(self) -> str:
        """Python text of the sequence (a tuple), over the host's parameters."""
        items = []
        for p in self.parts:
            if p.chain is None and p.count is not None:
                assert p.size is not None
                items.append(f"*(({_text(p.size)},) * {_text(p.count)})")
            elif p.chain is None:
                assert p.size is not None
                items.append(_text(p.size))
            else:
                items.append("*" + p.chain.slice_text(p.lo, p.hi))
        if len(items) == 1 and items[0].startswith("*"):
            return items[0][1:]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    # -- Python's sequence operations ----------------------------------------------------------
    def _single(self, what: str, where: str) -> Part:
        if len(self.parts) != 1 or self.parts[0].chain is None:
            raise Unsupported(f"{where}: {what} of {self.text()} is not modelled")
        return self.parts[0]

    def position(self, d: Expr | int, facts: list[Expr], where: str) -> Expr:
        """The dim an index d names (Python's rule: d < 0 counts from the end); past this point the host
        has it in range (IndexError otherwise): a fact."""
        p = self._single("an item", where)
        d = ir.const(d) if isinstance(d, int) else d
        n = p.length()
        if d.op is Op.CONST and d.value < 0:
            pos = norm(ir.add(p.hi, d))
            facts.append(ir.le(ir.neg(d), n))
            return pos
        if not _prove(facts, ir.le(ir.ZERO, d)):
            raise Unsupported(f"{where}: index {_text(d)} of {self.text()} may be negative (not modelled)")
        facts.append(ir.lt(d, n))
        return norm(ir.add(p.lo, d))

    def item(self, d: Expr | int, facts: list[Expr], where: str) -> Expr:
        p = self._single("an item", where)
        assert p.chain is not None
        pos = self.position(d, facts, where)
        return p.chain.product(pos, norm(ir.add(pos, ir.ONE)), facts, where)

    def slice(self, lo: Expr | int | None, hi: Expr | int | None, facts: list[Expr], where: str) -> SymSizes:
        p = self._single("a slice", where)
        n = p.length()

        def bound(b: Expr | int | None, default: Expr) -> Expr:
            if b is None:
                return default
            e = ir.const(b) if isinstance(b, int) else b
            if e.op is Op.CONST and e.value < 0:
                at = norm(ir.add(n, e))  # Python clamps a bound past the front to 0
                if not _prove(facts, ir.le(ir.ZERO, at)):
                    raise Unsupported(f"{where}: slice bound {e.value} of {self.text()} may pass its front")
                return at
            if not _prove(facts, ir.and_(ir.le(ir.ZERO, e), ir.le(e, n))):
                raise Unsupported(
                    f"{where}: slice bound {_text(e)} of {self.text()} is not known to lie in it"
                )
            return e

        a, b = bound(lo, ir.ZERO), bound(hi, n)
        if not _prove(facts, ir.le(a, b)):
            raise Unsupported(f"{where}: slice bounds of {self.text()} the facts do not order")
        return SymSizes((Part(p.chain, norm(ir.add(p.lo, a)), norm(ir.add(p.lo, b))),))

    def replace_item(self, d: Expr | int, value: Expr, facts: list[Expr], where: str) -> SymSizes:
        """`shape[d] = value` on a list copy."""
        p = self._single("an item assignment", where)
        pos = self.position(d, facts, where)
        nxt = norm(ir.add(pos, ir.ONE))
        parts = []
        if norm(pos) != norm(p.lo):
            parts.append(Part(p.chain, p.lo, pos))
        parts.append(Part(None, size=value))
        if nxt != norm(p.hi):
            parts.append(Part(p.chain, nxt, p.hi))
        return SymSizes(tuple(parts))

    def without_item(self, d: Expr | int, facts: list[Expr], where: str) -> SymSizes:
        """The sequence with item d removed (`squeeze(dim=d)` of a shape whose item d is 1)."""
        if len(self.parts) == 1:
            p = self.parts[0]
            pos = self.position(d, facts, where)
            nxt = norm(ir.add(pos, ir.ONE))
            parts = []
            if norm(pos) != norm(p.lo):
                parts.append(Part(p.chain, p.lo, pos))
            if nxt != norm(p.hi):
                parts.append(Part(p.chain, nxt, p.hi))
            return SymSizes(tuple(parts))
        # [x.shape[:d], 1, x.shape[d+1:]] without item d (d == the first part's length)
        dd = ir.const(d) if isinstance(d, int) else d
        for k, p in enumerate(self.parts):
            if p.count is not None:
                break  # an item inside a repeated run: not modelled
            before: Expr = ir.ZERO
            for q in self.parts[:k]:
                before = ir.add(before, q.length())
            if p.chain is None and norm(before) == norm(dd):
                return SymSizes(self.parts[:k] + self.parts[k + 1 :])
        raise Unsupported(f"{where}: removing item {_text(dd)} of {self.text()} is not modelled")


@dataclass
class RankState:
    """The chains of one host evaluation, and the list parameters bound to tensors' trailing dims."""

    chains: dict[str, RankChain] = field(default_factory=dict)
    bound: dict[str, str] = field(
        default_factory=dict
    )  # list parameter -> the tensor whose trailing dims it is
    sizes: dict[str, SymSizes] = field(
        default_factory=dict
    )  # allocation of a symbolic-rank shape -> its shape

    def renamed(self, old: str, new: str) -> None:
        if old in self.sizes:
            self.sizes[new] = self.sizes.pop(old)

    def chain(self, owner: str) -> RankChain:
        if owner not in self.chains:
            self.chains[owner] = RankChain(owner)
        return self.chains[owner]

    def shape(self, owner: str) -> SymSizes:
        c = self.chain(owner)
        return SymSizes((Part(c, ir.ZERO, c.ndim),))


def list_len(name: str) -> Expr:
    return ir.var(f"len({name})")


def list_prod(name: str) -> Expr:
    return ir.var(f"math.prod({name})")


def list_name(e: Expr, kind: str) -> str | None:
    """The list parameter behind `len(L)` (kind "len") or `math.prod(L)` (kind "prod") symbols."""
    if e.op is not Op.VAR:
        return None
    text = str(e.attr)
    head = "len(" if kind == "len" else "math.prod("
    if text.startswith(head) and text.endswith(")") and text[len(head) : -1].isidentifier():
        return text[len(head) : -1]
    return None


def bind_trailing(
    rs: RankState, lst: str, owner: str, facts: list[Expr], assumptions: list[str], where: str
) -> None:
    """Take list parameter `lst` to be the trailing dims of tensor `owner` (PyTorch's contract for a
    normalized shape; an assumption, listed): `math.prod(lst)` becomes the segment
    [ndim - len(lst), ndim) of owner's chain."""
    if rs.bound.get(lst) == owner:
        return
    if lst in rs.bound:
        raise Unsupported(f"{where}: {lst} is related to two tensors ({rs.bound[lst]}, {owner})")
    c = rs.chain(owner)
    n = list_len(lst)
    facts += [ir.le(ir.ZERO, n), ir.le(n, c.ndim)]
    lo = norm(ir.sub(c.ndim, n))
    c.hints[(lo, norm(c.ndim))] = list_prod(lst)
    a = c.cut(lo, facts, where)
    if not (a == len(c.segs) - 1 and c.segs[a] == list_prod(lst)):  # cut earlier inside the trailing dims
        facts.append(ir.eq(list_prod(lst), c.product(lo, c.ndim, facts, where)))
    rs.bound[lst] = owner
    text = (
        f"{lst} is the trailing dims of {owner}: tuple({lst}) == {c.slice_text(lo, c.ndim)} (PyTorch's "
        f"contract for {lst}; the host does not check it)"
    )
    if text not in assumptions:
        assumptions.append(text)


# ---------------------------------------------------------------------------------------------------------
# The host evaluator's hooks (symbolic/host_eval.py calls these; `ev` is the HostEvaluator)

NOT_HANDLED = object()


def _where(ev: object, node: object) -> str:
    host = ev.host  # type: ignore[attr-defined]
    return f"{host.file}:{getattr(node, 'lineno', ev.line)}"  # type: ignore[attr-defined]


def _index(v: object) -> Expr | int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, Expr) and v.kind is ir.Kind.INT:
        return v
    return None


def subscript(ev: object, seq: SymSizes, sl: object, node: object) -> object:
    """`shape[d]`, `shape[a:b]` of a sequence of symbolic length."""
    import ast

    st = ev.st  # type: ignore[attr-defined]
    where = _where(ev, node)
    if isinstance(sl, ast.Slice):
        if sl.step is not None:
            raise Unsupported(f"{where}: a slice with a step of {seq.text()} is not modelled")
        lo = ev.eval(sl.lower) if sl.lower is not None else None  # type: ignore[attr-defined]
        hi = ev.eval(sl.upper) if sl.upper is not None else None  # type: ignore[attr-defined]
        if (lo is not None and _index(lo) is None) or (hi is not None and _index(hi) is None):
            raise Unsupported(f"{where}: a slice of {seq.text()} by a non-integer")
        return seq.slice(_index(lo), _index(hi), st.facts, where)
    d = _index(ev.eval(sl))  # type: ignore[attr-defined, arg-type]
    if d is None:
        raise Unsupported(f"{where}: an item of {seq.text()} by a non-integer")
    return seq.item(d, st.facts, where)


def set_item(ev: object, name: str, index: object, value: object, node: object) -> None:
    """`shape[d] = v` on a local list of symbolic length."""
    st = ev.st  # type: ignore[attr-defined]
    seq = st.scope.get(name)
    d = _index(index)
    v = ir.const(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(seq, SymSizes) or d is None or not (isinstance(v, Expr) and v.kind is ir.Kind.INT):
        raise Unsupported(f"{_where(ev, node)}: host item assignment to {name} is not modelled")
    st.facts.append(ir.le(ir.ZERO, v))  # a size (torch.empty raises on a negative one)
    st.scope[name] = seq.replace_item(d, v, st.facts, _where(ev, node))


def _is_param(ev: object, e: object) -> str | None:
    """The name of a non-tensor parameter still holding its argument (`normalized_shape`)."""
    if not (isinstance(e, Expr) and e.op is Op.VAR):
        return None
    name = str(e.attr)
    initial = getattr(ev, "initial", {})
    return name if name.isidentifier() and initial.get(name) is e else None


def call(ev: object, q: str, args: list[object], node: object) -> object:
    """len(), math.prod(), list()/tuple() on sequences of symbolic length and on list parameters."""
    st = ev.st  # type: ignore[attr-defined]
    where = _where(ev, node)
    if q in ("list", "tuple") and len(args) == 1 and isinstance(args[0], SymSizes):
        return args[0]
    if q == "len" and len(args) == 1:
        a = args[0]
        if isinstance(a, SymSizes):
            return a.length()
        if isinstance(a, (tuple, list)):
            return len(a)
        if (name := _is_param(ev, a)) is not None:
            n = list_len(name)
            st.facts.append(ir.le(ir.ZERO, n))
            return n
        return NOT_HANDLED
    if q == "functools.reduce" and len(args) in (2, 3) and isinstance(args[1], SymSizes) and _is_mul(args[0]):
        init = args[2] if len(args) == 3 else None  # reduce(lambda x, y: x * y, shape[:d], 1)
        init_e = ir.const(init) if isinstance(init, int) and not isinstance(init, bool) else init
        if len(args) == 3 and not (isinstance(init_e, Expr) and init_e.kind is ir.Kind.INT):
            return NOT_HANDLED
        if len(args) == 2:
            st.facts.append(ir.le(ir.ONE, args[1].length()))  # reduce() of an empty sequence raises
            init_e = ir.ONE
        assert isinstance(init_e, Expr)
        return norm(ir.mul(init_e, args[1].product(st.facts, where)))
    if q == "math.prod" and len(args) == 1:
        a = args[0]
        if isinstance(a, SymSizes):
            return a.product(st.facts, where)
        if (name := _is_param(ev, a)) is not None:
            owner = st.ranks.bound.get(name)
            if owner is not None:
                c = st.ranks.chain(owner)
                return c.product(norm(ir.sub(c.ndim, list_len(name))), c.ndim, st.facts, where)
            return list_prod(name)
        return NOT_HANDLED
    return NOT_HANDLED


def _is_mul(f: object) -> bool:
    """`lambda x, y: x * y` (or `y * x`)."""
    import ast

    if not (isinstance(f, ast.Lambda) and len(f.args.args) == 2 and isinstance(f.body, ast.BinOp)):
        return False
    a, b = (x.arg for x in f.args.args)
    body = f.body
    names = {getattr(body.left, "id", None), getattr(body.right, "id", None)}
    return (
        isinstance(body.op, ast.Mult)
        and names == {a, b}
        and isinstance(body.left, ast.Name)
        and isinstance(body.right, ast.Name)
    )


def _numel_owner(ev: object, a: Expr) -> str | None:
    """The tensor of symbolic rank whose element count `a` is (its `x.numel()` symbol or its chain's product)."""
    ranks: RankState = ev.st.ranks  # type: ignore[attr-defined]
    for owner, c in ranks.chains.items():
        if a == ir.var(f"{owner}.numel()") or norm(a) == c.numel():
            return owner
    return None


def binop(ev: object, op: object, a: object, b: object, node: object) -> object:
    """Where the host relates a list parameter to a tensor of symbolic rank (PyTorch's contract: it is the
    tensor's trailing dims), and exact floor divisions of size products."""
    import ast

    st = ev.st  # type: ignore[attr-defined]
    where = _where(ev, node)
    if not (isinstance(a, Expr) and isinstance(b, Expr) and a.kind is ir.Kind.INT and b.kind is ir.Kind.INT):
        return NOT_HANDLED
    if isinstance(op, ast.Sub) and (lst := list_name(b, "len")) is not None and a.op is Op.VAR:
        text = str(a.attr)
        if text.endswith(".ndim") and text[: -len(".ndim")] in st.ranks.chains:  # x.ndim - len(L)
            bind_trailing(st.ranks, lst, text[: -len(".ndim")], st.facts, st.assumptions, where)
        return NOT_HANDLED
    if isinstance(op, ast.FloorDiv):
        if (lst := list_name(b, "prod")) is not None and (owner := _numel_owner(ev, a)) is not None:
            bind_trailing(st.ranks, lst, owner, st.facts, st.assumptions, where)  # x.numel() // math.prod(L)
        owner = _numel_owner(ev, a)
        if owner is not None:
            a = st.ranks.chain(owner).numel()
        from tritonlift.synth.indexing import divide_exact

        q = divide_exact(norm(a), norm(b)) if not norm(b).is_const else None
        if q is not None:  # (q * b) // b == q where b != 0 (Python raises on b == 0: a fact past this point)
            st.facts.append(ir.compare(Op.NE, b, ir.ZERO))
            return q
    return NOT_HANDLED


def product_loop(ev: object, st_node: object) -> bool:
    """`for i in range(n): acc *= x.shape[i]` over a symbolic n (0 <= n <= x.ndim): acc times
    math.prod(x.shape[:n]). Only that form (each statement multiplies a name by an item of one shape at
    the loop index); True when handled."""
    import ast

    assert isinstance(st_node, ast.For)
    node = st_node
    if node.orelse or not isinstance(node.target, ast.Name):
        return False
    it = node.iter
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and 1 <= len(it.args) <= 2
        and not it.keywords
    ):
        return False
    idx = node.target.id
    updates: list[tuple[str, ast.expr]] = []
    for s in node.body:
        if not (
            isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Mult) and isinstance(s.target, ast.Name)
        ):
            return False
        v = s.value
        if not (isinstance(v, ast.Subscript) and isinstance(v.slice, ast.Name) and v.slice.id == idx):
            return False
        if s.target.id == idx or any(isinstance(n, ast.Name) and n.id == s.target.id for n in ast.walk(v)):
            return False
        updates.append((s.target.id, v.value))
    st = ev.st  # type: ignore[attr-defined]
    bounds = [ev.eval(a) for a in it.args]  # type: ignore[attr-defined]
    if any(_index(b) is None for b in bounds):
        return False
    lo, hi = bounds if len(bounds) == 2 else [0, bounds[0]]
    if isinstance(lo, int) and isinstance(hi, int):
        return False  # a concrete range: unrolled by the caller
    where = _where(ev, node)
    lo_e = ir.const(lo) if isinstance(lo, int) else lo
    hi_e = ir.const(hi) if isinstance(hi, int) else hi
    for name, seq_node in updates:
        seq = ev.eval(seq_node)  # type: ignore[attr-defined]
        if not isinstance(seq, SymSizes):
            raise Unsupported(
                f"{where}: a host loop over a symbolic range multiplies by items of a value that is "
                f"not a shape"
            )
        empty = _prove(st.facts, ir.le(hi_e, lo_e))
        factor = ir.ONE if empty else seq.slice(lo_e, hi_e, st.facts, where).product(st.facts, where)
        acc = st.scope.get(name)
        acc_e = ir.const(acc) if isinstance(acc, int) and not isinstance(acc, bool) else acc
        if not (isinstance(acc_e, Expr) and acc_e.kind is ir.Kind.INT):
            raise Unsupported(f"{where}: a host loop multiplies {name}, which is not an integer")
        st.scope[name] = norm(ir.mul(acc_e, factor))
    st.scope.pop(idx, None)  # the index after the loop is not modelled
    return True


def fill_loop(ev: object, st_node: object) -> bool:
    """`for i in range(a, b): s[i] = c` (every statement of the body one such assignment, c not reading i or
    s) on a local list copy `s` of one shape of symbolic rank, with 0 <= a <= b <= len(s) following from the
    facts: s with items [a, b) all c (a repeated run). Python leaves `i` bound after a non-empty loop: not
    modelled, so `i` is dropped from the scope (a later use is an error). True when handled."""
    import ast

    assert isinstance(st_node, ast.For)
    node = st_node
    if node.orelse or not isinstance(node.target, ast.Name) or not node.body:
        return False
    it = node.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 2 and not it.keywords):
        return False
    idx = node.target.id
    sets: list[tuple[str, ast.expr]] = []
    for s in node.body:
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Subscript)):
            return False
        t = s.targets[0]
        if not (isinstance(t.value, ast.Name) and isinstance(t.slice, ast.Name) and t.slice.id == idx):
            return False
        if any(isinstance(n, ast.Name) and n.id in (idx, t.value.id) for n in ast.walk(s.value)):
            return False
        sets.append((t.value.id, s.value))
    st = ev.st  # type: ignore[attr-defined]
    where = _where(ev, node)
    if len({n for n, _v in sets}) != len(sets) or "range" in st.scope:
        return False
    bounds = [ev.eval(a) for a in it.args]  # type: ignore[attr-defined]
    if any(_index(b) is None for b in bounds):
        return False
    lo, hi = bounds if len(bounds) == 2 else [0, bounds[0]]
    lo_e = ir.const(lo) if isinstance(lo, int) else lo
    hi_e = ir.const(hi) if isinstance(hi, int) else hi
    for name, value_node in sets:
        seq = st.scope.get(name)
        if not isinstance(seq, SymSizes) or len(seq.parts) != 1 or seq.parts[0].chain is None:
            raise Unsupported(f"{where}: a host loop assigns items of {name}, which is not a list copy of a shape")
        v = ev.eval(value_node)  # type: ignore[attr-defined]
        v = ir.const(v) if isinstance(v, int) and not isinstance(v, bool) else v
        if not (isinstance(v, Expr) and v.kind is ir.Kind.INT and v.op is Op.CONST):
            raise Unsupported(f"{where}: a host loop assigns items of {name} a value that is not an integer constant")
        p = seq.parts[0]
        n = p.length()
        if not _prove(st.facts, ir.and_(ir.le(ir.ZERO, lo_e), ir.le(lo_e, hi_e), ir.le(hi_e, n))):
            raise Unsupported(f"{where}: the range of a host loop over {name} is not known to lie in it")
        a, b = norm(ir.add(p.lo, lo_e)), norm(ir.add(p.lo, hi_e))
        parts = []
        if a != norm(p.lo):
            parts.append(Part(p.chain, p.lo, a))
        parts.append(Part(None, size=v, count=norm(ir.sub(hi_e, lo_e))))
        if b != norm(p.hi):
            parts.append(Part(p.chain, b, p.hi))
        st.facts.append(ir.le(ir.ZERO, v))  # a size (torch.empty raises on a negative one)
        st.scope[name] = SymSizes(tuple(parts))
    st.scope.pop(idx, None)
    return True
