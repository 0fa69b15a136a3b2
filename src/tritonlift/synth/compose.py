"""Multi-launch operators: one spec for the launch that writes the outputs, earlier launches substituted in.

A host that launches kernel 1 into a scratch buffer `mid` and kernel 2 from `mid` into `out` computes, at
each element kernel 2 writes, kernel 2's value with every read `mid[o]` replaced by what kernel 1 stored at
element o. A read is replaced by `where(written(o), value(o), undef)`: `written` says some program id and
lane of an earlier launch stores exactly at o (in the grid, in the block, under the store's mask, and at that
address — the inverse map is checked, never trusted), `value` is that store's value there, and a position no
earlier launch wrote reads as undefined memory (never equal to anything). Later stores of the same buffer
take precedence over earlier ones, launch by launch and store by store, as they would run.
"""

from __future__ import annotations

from dataclasses import replace

from tritonlift.errors import Unknown, Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import BINDER_OPS, Expr, Op
from tritonlift.ir.printer import to_text
from tritonlift.symbolic.spec import KernelSpec, Store
from tritonlift.symbolic.values import lane, pid
from tritonlift.synth.derive import _solve


def compose_launches(launches: list[KernelSpec], returned: tuple[str, ...],
                     facts: list[Expr] | None = None) -> KernelSpec:
    """The launch writing the returned outputs, its reads of earlier launches' writes substituted; several
    launches writing them become one spec (synth/split.py). `facts`: the host's, for those proofs."""
    writers = [j for j, sp in enumerate(launches) if any(s.base in returned for s in sp.stores)]
    if not writers:
        writers = [len(launches) - 1]
    if len(writers) > 1:
        from tritonlift.synth.split import merge_writers

        done_all: list[list[Store]] = []
        for j in range(writers[-1] + 1):
            done_all.append([_substituted(s, done_all, launches, j) for s in launches[j].stores])
        merged = merge_writers([launches[j] for j in writers], [done_all[j] for j in writers], list(facts or []))
        earlier = [f for j, sp in enumerate(launches[: writers[-1] + 1]) if j not in writers for f in sp.facts]
        symbols = {k: v for sp in launches[: writers[-1] + 1] for k, v in sp.symbols.items()}
        return replace(merged, facts=[*earlier, *merged.facts], symbols=symbols)
    final = writers[0]
    done: list[list[Store]] = []  # each earlier launch's stores, its own reads already substituted
    for j in range(final):
        sp = launches[j]
        done.append([_substituted(s, done, launches, j) for s in sp.stores])
    sp = launches[final]
    stores = [_substituted(s, done, launches, final) for s in sp.stores]
    facts = [f for earlier in launches[:final] for f in earlier.facts] + list(sp.facts)
    symbols = {k: v for earlier in launches[: final + 1] for k, v in earlier.symbols.items()}
    return replace(sp, stores=stores, facts=facts, symbols=symbols)


def _substituted(s: Store, done: list[list[Store]], launches: list[KernelSpec], me: int) -> Store:
    def step(n: Expr) -> Expr | None:
        if n.op is not Op.MEM:
            return None
        return _read_after(n.attr, ir.transform(n.args[0], step), done, launches, me, n)

    return replace(s, value=ir.transform(s.value, step), mask=ir.transform(s.mask, step))


def _read_after(base: str, o: Expr, done: list[list[Store]], launches: list[KernelSpec], me: int,
                plain: Expr) -> Expr:
    """The value at element o of `base` after launches 0..me-1 (the plain read if none of them writes it)."""
    out: Expr | None = None
    for j, stores in enumerate(done):
        for n, s in enumerate(stores):
            if s.base != base:
                continue
            written, value = _inverse(s, o, launches[j], f"{j}_{n}")
            prev = out if out is not None else ir.undef(f"{base} unwritten by {launches[j].name}", o)
            out = ir.where(written, value, prev)
    return plain if out is None else out


def _inverse(s: Store, o: Expr, sp: KernelSpec, tag: str) -> tuple[Expr, Expr]:
    """(some program id and lane of store s writes element o, the value it writes there)."""
    try:
        sol = _solve(s.offset, o, s.shape)
    except Unknown as e:
        raise Unsupported(f"cannot tell which program of {sp.name} writes {s.base}[{to_text(o)}]: {e.message}",
                          sp.file, s.line) from None
    sub = dict(sol)
    for ax in range(len(s.shape)):
        if lane(ax) not in sub and _mentions(s, lane(ax)):
            raise Unsupported(f"several lanes of {sp.name} write the same element of {s.base}", sp.file, s.line)
    for ax in range(len(sp.grid)):
        if pid(ax) not in sub:
            if _mentions(s, pid(ax)):
                raise Unsupported(f"several programs of {sp.name} write the same element of {s.base}",
                                  sp.file, s.line)
            sub[pid(ax)] = ir.ZERO  # a program-id axis the store ignores: program 0 writes it (grid >= 1 below)
    ranges = []
    for ax, g in enumerate(sp.grid):
        ranges += [ir.le(ir.ZERO, sub[pid(ax)]), ir.lt(sub[pid(ax)], g)]
    for ax, ext in enumerate(s.shape):
        if lane(ax) in sub:
            ranges += [ir.le(ir.ZERO, sub[lane(ax)]), ir.lt(sub[lane(ax)], ext)]
    fresh = _fresh_binders(s, tag)
    written = ir.and_(*ranges, ir.substitute(fresh.mask, sub), ir.eq(ir.substitute(fresh.offset, sub), o))
    return written, ir.substitute(fresh.value, sub)


def _mentions(s: Store, v: Expr) -> bool:
    return any(n == v for e in (s.offset, s.value, s.mask) for n in ir.walk(e))


def _fresh_binders(s: Store, tag: str) -> Store:
    """Rename the store's bound reduction indices so that substituting it under another launch's binders
    cannot capture (both kernels name their reduction indices _k0, _k1, ...)."""
    count = [0]

    def step(n: Expr) -> Expr | None:
        if n.op in BINDER_OPS:
            old = str(n.attr)
            count[0] += 1
            new = f"{old}L{tag}_{count[0]}"
            body = ir.substitute(n.args[2], {ir.var(old): ir.var(new)})
            return ir.Expr(n.op, (n.args[0], n.args[1], body, *n.args[3:]), new, n.kind)
        return None

    return replace(s, value=ir.transform(s.value, step), mask=ir.transform(s.mask, step))
