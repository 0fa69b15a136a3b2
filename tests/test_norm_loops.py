"""Loops of normalisation kernels: dead-at-entry names, one-trip loops, Welford, reversed write loops."""

from __future__ import annotations

import ast
from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Kind, Op
from tritonlift.options import Options
from tritonlift.symbolic.liveness import live_at_entry
from tritonlift.symbolic.loops import placeholder
from tritonlift.symbolic.welford import mean_step, welford_m2, welford_mean

HEADER = "import triton\nimport triton.language as tl\n\n\n@triton.jit\n"


def lift_one(tmp_path: Path, src: str, name: str = "k.py", expect: str | None = None):
    f = tmp_path / name
    f.write_text(src)
    (r,) = lift_file(f, Options(expect=expect) if expect else Options())
    return r


# -- liveness ----------------------------------------------------------------------------------------


def _body(src: str) -> list[ast.stmt]:
    return ast.parse(src).body


def test_a_name_written_before_it_is_read_is_dead_at_entry():
    body = _body("mask = offs < n\nx = tl.load(p + offs, mask=mask)\nacc += x")
    assert not live_at_entry(body, "mask")
    assert live_at_entry(body, "acc")  # += reads it
    assert not live_at_entry(body, "y")  # not mentioned


def test_a_read_before_the_write_or_on_one_branch_only_keeps_a_name_live():
    assert live_at_entry(_body("y = mask & c\nmask = offs < n"), "mask")
    assert live_at_entry(_body("mask = mask & c"), "mask")  # the value is read before the target is bound
    assert live_at_entry(_body("if c:\n    mask = a\nx = mask"), "mask")  # not assigned on the else path
    assert not live_at_entry(_body("if c:\n    mask = a\nelse:\n    mask = b\nx = mask"), "mask")
    assert live_at_entry(_body("for i in range(3):\n    y = mask\nmask = a"), "mask")
    assert not live_at_entry(_body("m, s = a, b\nz = m + s"), "m")


DEAD_MASK = (
    HEADER
    + """def scale_rows(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    mask = offs < N
    for start in range(0, N, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        mask = offs < N
        v = tl.load(x_ptr + row * N + offs, mask=mask, other=0.0)
        tl.store(y_ptr + row * N + offs, v * 3.0, mask=mask)
"""
)


def test_names_recomputed_in_the_loop_are_not_carried(tmp_path: Path):
    r = lift_one(tmp_path, DEAD_MASK)
    assert r.status == "verified", r.message


def test_a_name_assigned_in_a_loop_is_not_usable_after_it(tmp_path: Path):
    src = DEAD_MASK + "    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)\n"
    r = lift_one(tmp_path, src)
    assert r.status in ("unsupported", "unknown"), r.status
    assert r.status != "verified"


# -- loops of one iteration --------------------------------------------------------------------------

ONE_TRIP = (
    HEADER
    + """def last_tile(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    steps = tl.cdiv(N, BLOCK)
    for s in range(steps - 1, steps):
        offs = s * BLOCK + tl.arange(0, BLOCK)
        mask = offs < N
        v = tl.load(x_ptr + row * N + offs, mask=mask, other=0.0)
        tl.store(y_ptr + row * N + offs, v + 1.0, mask=mask)
    for t in range(0, BLOCK, BLOCK):
        offs = tl.arange(0, BLOCK)
        tl.store(y_ptr + row * N + offs, tl.load(x_ptr + row * N + offs, mask=offs < N) * 2.0, mask=offs < N)
"""
)


def test_a_loop_of_one_iteration_runs_once(tmp_path: Path):
    from tritonlift.frontend.source import load_module
    from tritonlift.pipeline import kernel_spec

    f = tmp_path / "one.py"
    f.write_text(ONE_TRIP)
    m = load_module(f)
    spec, _ = kernel_spec(m, m.kernels()[0])
    assert not spec.loops  # neither loop became a storing loop with an iteration index
    assert sum("exactly one iteration" in n for n in spec.notes) == 2
    assert len(spec.stores) == 2


# -- Welford -----------------------------------------------------------------------------------------


def _welford_pieces():
    t = "_t9"
    tv = ir.var(t)
    g = ir.mem("x", ir.add(ir.mul(tv, ir.var("B")), ir.var("_l0")))
    pm = placeholder("m", (ir.var("B"),), Kind.REAL)
    ps = placeholder("s", (ir.var("B"),), Kind.REAL)
    return t, tv, g, pm, ps


def test_welford_mean_is_recognised_only_with_the_iteration_count():
    t, tv, g, pm, _ = _welford_pieces()
    trips = ir.var("T")
    ok = welford_mean(ir.const(0.0), mean_step(pm, g, t), pm, t, trips, "_r9")
    assert ok is not None and ok.pattern == "welford"
    # written the other way round: (x - m) / (t + 1) + m
    flipped = ir.add(ir.div(ir.sub(g, pm), ir.to_real(ir.add(tv, ir.ONE))), pm)
    assert welford_mean(ir.const(0.0), flipped, pm, t, trips, "_r9") is not None
    # divided by t + 2, by t, or started from 1: not the pattern
    off = ir.add(pm, ir.div(ir.sub(g, pm), ir.to_real(ir.add(tv, ir.const(2)))))
    assert welford_mean(ir.const(0.0), off, pm, t, trips, "_r9") is None
    by_t = ir.add(pm, ir.div(ir.sub(g, pm), ir.to_real(tv)))
    assert welford_mean(ir.const(0.0), by_t, pm, t, trips, "_r9") is None
    assert welford_mean(ir.const(1.0), mean_step(pm, g, t), pm, t, trips, "_r9") is None


def test_welford_m2_needs_the_updated_and_the_old_mean():
    t, _tv, g, pm, ps = _welford_pieces()
    trips = ir.var("T")
    mean = welford_mean(ir.const(0.0), mean_step(pm, g, t), pm, t, trips, "_r9")
    assert mean is not None
    from tritonlift.symbolic.loops import replace_placeholder

    m_at = mean.at
    m_new = replace_placeholder(mean.update, "m", m_at, 1)
    good = ir.add(ps, ir.mul(ir.sub(g, m_new), ir.sub(g, m_at)))
    swapped = ir.add(ir.mul(ir.sub(g, m_at), ir.sub(g, m_new)), ps)
    for upd in (good, swapped):
        s = welford_m2("m", mean, ir.const(0.0), upd, ps, t, trips, "_r8", 1)
        assert s is not None and s.pattern == "welford"
        assert s.closed.op is Op.SUM
    # delta squared with the old mean twice (forgets the update), or the new mean twice: not Welford
    for bad in (
        ir.add(ps, ir.mul(ir.sub(g, m_at), ir.sub(g, m_at))),
        ir.add(ps, ir.mul(ir.sub(g, m_new), ir.sub(g, m_new))),
    ):
        assert welford_m2("m", mean, ir.const(0.0), bad, ps, t, trips, "_r8", 1) is None
    assert welford_m2("m", mean, ir.const(1.0), good, ps, t, trips, "_r8", 1) is None


WELFORD = (
    HEADER
    + """def row_stats(x_ptr, mean_ptr, var_ptr, N, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    m = tl.zeros((BLOCK,), dtype=tl.float32)
    s = tl.zeros((BLOCK,), dtype=tl.float32)
    cnt = tl.zeros((BLOCK,), dtype=tl.int32)
    steps = tl.cdiv(N, BLOCK)
    for step in range(0, steps - 1, 1):
        offs = step * BLOCK + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + pid * N + offs).to(tl.float32)
        new_m = m + (x - m) / (step + 1)
        new_s = s + (x - new_m) * (x - m)
        cnt += 1
        m = new_m
        s = new_s
    for step in range(steps - 1, steps, 1):
        offs = step * BLOCK + tl.arange(0, BLOCK)
        mask = offs < N
        x = tl.load(x_ptr + pid * N + offs, mask=mask).to(tl.float32)
        new_m = tl.where(mask, m + (x - m) / (step + 1), m)
        new_s = tl.where(mask, s + (x - new_m) * (x - m), s)
        cnt += mask.to(tl.int32)
        m = new_m
        s = new_s
    final_m = tl.sum(m * cnt) / N
    var = tl.sum(s + cnt * (m - final_m) * (m - final_m)) / N
    tl.store(mean_ptr + pid, final_m)
    tl.store(var_ptr + pid, var)
"""
)
TEXTBOOK = (
    "mean[i] = sum(x[i, k] for k in range(N)) / float(N); "
    "var[i] = sum((x[i, k] - sum(x[i, l] for l in range(N)) / float(N)) ** 2 for k in range(N)) / float(N)"
)


def test_welford_with_a_masked_last_step_and_the_parallel_combine_is_the_textbook_variance(tmp_path: Path):
    r = lift_one(tmp_path, WELFORD)
    assert r.status == "verified", r.message
    views = (
        "x = as_strided(x_ptr, (grid[0], N), (N, 1)); mean = as_strided(mean_ptr, (grid[0],), (1,)); "
        "var = as_strided(var_ptr, (grid[0],), (1,)); "
    )
    ok = lift_one(tmp_path, WELFORD, "e.py", expect=views + TEXTBOOK)
    assert ok.status == "verified", ok.message
    # the same claim with the variance divided by N - 1 is refuted, with a counterexample
    bad = lift_one(
        tmp_path,
        WELFORD,
        "b.py",
        expect=views
        + TEXTBOOK.replace(") / float(N)", ") / float(N - 1)", 3).replace(
            "range(N)) / float(N)", "range(N)) / float(N)"
        ),
    )
    assert bad.status == "refuted", bad.message
    assert bad.counterexample is not None


def test_welford_without_the_updated_mean_is_not_the_pattern(tmp_path: Path):
    src = WELFORD.replace(
        "new_s = s + (x - new_m) * (x - m)\n        cnt += 1",
        "new_s = s + (x - m) * (x - m)\n        cnt += 1",
    )
    r = lift_one(tmp_path, src)
    if r.status == "verified":  # its own formula (a sum of deviations from running means) may verify ...
        views = (
            "x = as_strided(x_ptr, (grid[0], N), (N, 1)); mean = as_strided(mean_ptr, (grid[0],), (1,)); "
            "var = as_strided(var_ptr, (grid[0],), (1,)); "
        )
        bad = lift_one(tmp_path, src, "b.py", expect=views + TEXTBOOK)
        assert bad.status != "verified"  # ... but it is not the variance


# -- a reversed write loop after a masked tail tile --------------------------------------------------

REVERSED = (
    HEADER
    + """def double_rows(x_ptr, y_ptr, N, TILE: tl.constexpr):
    pid = tl.program_id(0)
    prev = tl.cdiv(N, TILE) * TILE - TILE
    for start in range(0, TILE, TILE):
        offs = (prev - start) + tl.arange(0, TILE)
        mask = offs < N
        x = tl.load(x_ptr + pid * N + offs, mask=mask, other=0.0)
        tl.store(y_ptr + pid * N + offs, x * 2.0, mask=mask)
    for start in range(TILE, N, TILE):
        offs = (prev - start) + tl.arange(0, TILE)
        x = tl.load(x_ptr + pid * N + offs)
        tl.store(y_ptr + pid * N + offs, x * 2.0)
"""
)


def test_a_reversed_write_loop_and_its_tail_tile_cover_the_row(tmp_path: Path):
    r = lift_one(tmp_path, REVERSED)
    assert r.status == "verified", r.message
    assert r.formula_raw.endswith("y[i, j] = x[i, j] * 2.0")
    # it writes below the row for N <= 0: the extent is assumed, and said
    assert "N >= 1 (an extent)" in r.assumptions


def test_a_reversed_write_loop_one_tile_short_is_refuted(tmp_path: Path):
    good = lift_one(tmp_path, REVERSED)
    bad = lift_one(
        tmp_path,
        REVERSED.replace("range(TILE, N, TILE)", "range(2 * TILE, N, TILE)"),
        "bad.py",
        expect=good.formula_raw,
    )
    assert bad.status == "refuted", bad.message
    assert bad.counterexample is not None
