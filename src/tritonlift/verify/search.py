"""Concrete counterexample search: random small sizes, program ids and lanes, replayed on the spec.

z3 treats a reduction as an uninterpreted function of its bounds and body, so when two sums differ only in
how they tile their range (a tail mask without its tile offset, say), its model is arbitrary and need not
replay. This search tries seeded random points instead; whatever it reports has been evaluated on the
concrete semantics (`check.replay_values`), like every counterexample. Finding nothing proves nothing.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Any

from tritonlift.ir import expr as ir
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Expr, Kind, Op
from tritonlift.ir.formula import TensorDecl
from tritonlift.result import Counterexample
from tritonlift.symbolic.values import LANE_PREFIX, PID_PREFIX, lane, pid

MAX_SIZE = 24
# besides small sizes, sizes around powers of two (host block caps such as min(next_power_of_2(n), 1024)
# show only past them)
EDGES = tuple(sorted({(1 << k) + d for k in range(4, 13) for d in (-1, 0, 1)}))
DERIVED = {"next_power_of_2": lambda n: 1 << (n - 1).bit_length() if n > 0 else 0}


def _symbols(p: Any, s: Any) -> dict[str, Kind]:
    exprs: list[Expr] = [s.offset, s.value, s.mask, *s.shape, *p.grid, *p.facts]
    for t in p.formula.tensors:
        exprs += [*t.shape, *t.strides, t.offset]
    for a in p.formula.assigns:
        exprs.append(a.body)
    out: dict[str, Kind] = {}
    bound = {str(n.attr) for e in exprs for n in ir.walk(e) if n.op in ir.BINDER_OPS}
    index = {n for a in p.formula.assigns for n in a.index}
    for e in exprs:
        for n in ir.walk(e):
            name = str(n.attr)
            if n.op is Op.VAR and not name.startswith((PID_PREFIX, LANE_PREFIX)) and name not in bound | index:
                out[name] = n.kind
    return out


def _holds(e: Expr, values: dict[str, Any]) -> bool:
    try:
        return bool(evaluate(e, Env(values)))
    except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
        return False


def search_write(
    p: Any, sm: Any, kinds: dict[str, Kind], tensors: dict[str, TensorDecl], seed: int, replays: int = 60,
    draws: int = 20000, seconds: float = 20.0,
) -> Counterexample | None:
    """A replayed counterexample for the write of `sm` at random points, or None. The search is bounded by
    counts (`replays` points replayed, `draws` points drawn), so its outcome depends on the seed alone, not
    on the machine's load; `seconds` is only a safety cap (about 5 s of replays on an unloaded core)."""
    from tritonlift.verify.check import _block_facts, replay_values

    s = p.spec.stores[sm.store]
    syms = _symbols(p, s)
    facts = _block_facts(p)
    rng = random.Random(seed * 104729 + sm.store)
    stop = time.monotonic() + seconds
    for _draw in range(draws):
        if replays <= 0 or time.monotonic() > stop:
            break
        values: dict[str, Any] = {}
        wide = rng.random() < 0.5  # one size near a power of two, the others small
        big = rng.choice(sorted(n for n, k in syms.items() if k is Kind.INT)) if wide and syms else None
        for name, kind in sorted(syms.items()):
            if kind is Kind.INT:
                values[name] = rng.choice(EDGES) if name == big else rng.randint(1, MAX_SIZE)
            elif kind is Kind.BOOL:
                values[name] = rng.random() < 0.5
            else:
                values[name] = round(rng.uniform(-2, 2), 3)
        for name, (fn, arg) in getattr(p, "derived", {}).items():
            if name in values and fn in DERIVED:
                with contextlib.suppress(ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
                    values[name] = DERIVED[fn](int(evaluate(arg, Env(values))))
        if not all(_holds(f, values) for f in facts):
            continue
        try:
            grid = [int(evaluate(g, Env(values))) for g in p.grid]
            exts = [int(evaluate(x, Env(values))) for x in s.shape]
        except (ZeroDivisionError, ValueError, OverflowError, KeyError, TypeError):
            continue
        if min(grid + exts, default=1) < 1:
            continue
        for k, g in enumerate(grid):
            values[str(pid(k).attr)] = rng.randrange(g)
        for k, x in enumerate(exts):
            values[str(lane(k).attr)] = rng.randrange(x)
        if not _holds(s.mask, values):
            continue
        replays -= 1
        cx = replay_values(p, sm, values, None, None, tensors, seed)
        if cx is not None:
            return cx
    return None
