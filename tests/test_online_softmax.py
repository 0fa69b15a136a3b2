"""Per-lane and resumed online softmax, the rewrites that combine its denominators, and the spec's concrete
semantics against Triton's interpreter.

The spec of a kernel (symbolic/kernel_eval) is what every proof and every replayed counterexample is about,
so it must compute what the kernel computes, -inf lanes included: a [BLOCK_M, BLOCK_N] accumulator whose
lanes beyond N never see an element keeps m = -inf and z = 0 (the kernel's `where(m_new == -inf, z, ...)`),
and the closed form must say 0 there, not Σ exp(-inf - -inf) = NaN (which once made the replay report a
wrong counterexample for FlagGems' log_softmax).
"""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
import torch

import interp
from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.ir.adjacent import merge_pass
from tritonlift.ir.evaluate import Env, evaluate
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.reductions import canon
from tritonlift.ir.rescale import ninf_step, rescale
from tritonlift.options import Options
from tritonlift.pipeline import kernel_spec

HEADER = "import triton\nimport triton.language as tl\n\n\n"

# FlagGems' log_softmax_kernel, in our own words: a 2-D per-lane online softmax over the n axis of an
# (M, N, K) view, lanes combined after the loop, a second loop writing
LANES_2D = (
    HEADER
    + """@triton.jit
def lanes_log_softmax(out_ptr, in_ptr, M, N, K, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_k = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    m = tl.full([BLOCK_M, BLOCK_N], value=float("-inf"), dtype=tl.float32)
    z = tl.full([BLOCK_M, BLOCK_N], value=0.0, dtype=tl.float32)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        offs = rows[:, None] * N * K + cols[None, :] * K + pid_k
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        x = tl.load(in_ptr + offs, mask=mask, other=-float("inf"))
        m_new = tl.maximum(x, m)
        none = m_new == float("-inf")
        z = tl.where(none, z, z * tl.exp(m - m_new) + tl.exp(x - m_new))
        m = m_new
    m_row = tl.max(m, 1)
    z = tl.sum(z * tl.exp(m - m_row[:, None]), 1)
    for start in range(0, N, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        offs = rows[:, None] * N * K + cols[None, :] * K + pid_k
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        x = tl.load(in_ptr + offs, mask=mask, other=-float("inf"))
        tl.store(out_ptr + offs, x - m_row[:, None] - tl.log(z[:, None]), mask=mask)
"""
)

# FlagGems' softmax_kernel_inner (ONE_TILE_PER_CTA=False path), in our own words: per-lane online softmax
# over the full tiles, resumed over the masked last tile, lanes combined, then a reversed sweep writing the
# last tile first (masked) and the full tiles after it (unmasked)
RESUMED = (
    HEADER
    + """@triton.jit
def prev_multiple_of(a, b):
    return tl.cdiv(a, b) * b - b


@triton.heuristics({"TILE_N": lambda args: min(triton.next_power_of_2(args["N"]), 4)})
@triton.jit
def resumed_softmax(out_ptr, in_ptr, M, N, TILE_N: tl.constexpr):
    row = tl.program_id(0)
    m = tl.full([TILE_N], value=float("-inf"), dtype=tl.float32)
    z = tl.full([TILE_N], value=0.0, dtype=tl.float32)
    in_ptr += row * N
    out_ptr += row * N
    last = prev_multiple_of(N, TILE_N)
    for start in range(0, last, TILE_N):
        x = tl.load(in_ptr + start + tl.arange(0, TILE_N))
        m_new = tl.maximum(m, x)
        z = tl.where(m_new == float("-inf"), z, z * tl.exp(m - m_new) + tl.exp(x - m_new))
        m = m_new
    for start in range(last, N, TILE_N):
        cols = start + tl.arange(0, TILE_N)
        x = tl.load(in_ptr + cols, mask=cols < N, other=-float("inf"))
        m_new = tl.maximum(m, x)
        z = tl.where(m_new == float("-inf"), z, z * tl.exp(m - m_new) + tl.exp(x - m_new))
        m = m_new
    m_row = tl.max(m, 0)
    z = tl.sum(z * tl.exp(m - m_row), 0)
    for start in range(0, TILE_N, TILE_N):
        cols = (last - start) + tl.arange(0, TILE_N)
        x = tl.load(in_ptr + cols, mask=cols < N, other=-float("inf"))
        tl.store(out_ptr + cols, tl.exp(x - m_row) / z, mask=cols < N)
    for start in range(TILE_N, N, TILE_N):
        cols = (last - start) + tl.arange(0, TILE_N)
        x = tl.load(in_ptr + cols)
        tl.store(out_ptr + cols, tl.exp(x - m_row) / z)
"""
)


def _write(tmp_path: Path, name: str, src: str) -> Path:
    f = tmp_path / f"{name}.py"
    f.write_text(src)
    return f


def _spec_outputs(
    path: Path, kernel: str, sizes: dict[str, int], grid: tuple[int, ...], inp: torch.Tensor, out_numel: int
) -> list[float]:
    """The spec's stored value at every address it writes (NaN where nothing is written), concretely."""
    module = load_module(path)
    fn = next(k for k in module.kernels() if k.name == kernel)
    spec, _ = kernel_spec(module, fn)
    flat = inp.flatten().tolist()
    out = [math.nan] * out_numel
    env_of = {**sizes, **{f"grid[{k}]": g for k, g in enumerate(grid)}}

    def mem(base: str, addr: int) -> float:
        assert base == "in_ptr", base
        return flat[addr]

    for s in spec.stores:
        axes = [g if isinstance(g, int) else int(evaluate(g, Env(vars=env_of))) for g in grid]
        axes += [int(evaluate(t, Env(vars=env_of))) for t in spec.loops]
        lanes = [int(evaluate(x, Env(vars=env_of))) for x in s.shape]
        # a storing loop's range is in its own stores' masks: other stores run its axis at 0 only
        for ids in itertools.product(*(range(max(a, 1)) for a in axes)):
            for ls in itertools.product(*(range(n) for n in lanes)):
                values = {
                    **env_of,
                    **{f"_pid{k}": v for k, v in enumerate(ids)},
                    **{f"_l{k}": v for k, v in enumerate(ls)},
                }
                env = Env(vars=values, mem=mem)
                if evaluate(s.mask, env):
                    out[int(evaluate(s.offset, env))] = float(evaluate(s.value, env))
    return out


def _interpreter(
    path: Path, kernel: str, grid: tuple[int, ...], inp: torch.Tensor, *args: int, **consts: int
):
    module = interp.load_module(path)
    out = torch.full_like(inp, math.nan)
    getattr(module, kernel)[grid](out, inp, *args, **consts)
    return out.flatten().tolist()


def _agree(spec: list[float], kernel: list[float]) -> None:
    for addr, (a, b) in enumerate(zip(spec, kernel, strict=True)):
        assert not math.isnan(b), f"the kernel left element {addr} unwritten"
        assert a == pytest.approx(b, rel=1e-5, abs=1e-5), f"element {addr}: spec {a}, kernel {b}"


@pytest.mark.parametrize("values", ["zeros", "random"])
def test_lane_accumulator_spec_matches_the_interpreter(tmp_path: Path, values: str) -> None:
    """Sizes of the wrong counterexample once reported for FlagGems' log_softmax (N=5 < BLOCK_N: lanes that
    never see an element), all-zero inputs there: the kernel stores -log(5), and so must the spec."""
    path = _write(tmp_path, "lanes", LANES_2D)
    M, N, K, BM, BN = 6, 5, 2, 4, 8
    gen = torch.Generator().manual_seed(0)
    inp = torch.zeros(M, N, K) if values == "zeros" else torch.randn(M, N, K, generator=gen)
    grid = (math.ceil(M / BM), K)
    sizes = {"M": M, "N": N, "K": K, "BLOCK_M": BM, "BLOCK_N": BN}
    spec = _spec_outputs(path, "lanes_log_softmax", sizes, grid, inp, inp.numel())
    kernel = _interpreter(path, "lanes_log_softmax", grid, inp, M, N, K, BLOCK_M=BM, BLOCK_N=BN)
    _agree(spec, kernel)
    if values == "zeros":
        assert kernel[0] == pytest.approx(-math.log(N))


@pytest.mark.parametrize("n", [10, 8, 3, 2, 1])
def test_resumed_online_softmax_spec_matches_the_interpreter(tmp_path: Path, n: int) -> None:
    path = _write(tmp_path, "resumed", RESUMED)
    rows, tile = 3, min(1 << (n - 1).bit_length(), 4)  # as the kernel's heuristic chooses it
    inp = torch.randn(rows, n, generator=torch.Generator().manual_seed(n))
    spec = _spec_outputs(
        path, "resumed_softmax", {"M": rows, "N": n, "TILE_N": tile}, (rows,), inp, inp.numel()
    )
    kernel = _interpreter(path, "resumed_softmax", (rows,), inp, rows, n)
    _agree(spec, kernel)


def test_lane_accumulator_lifts_to_log_softmax(tmp_path: Path) -> None:
    (r,) = lift_file(_write(tmp_path, "lanes", LANES_2D))
    assert r.status == "verified", r.message
    assert r.formula.endswith("out = log_softmax(in_ptr_v, dim=1)"), r.formula  # `in` is a keyword


def test_resumed_loops_and_reversed_sweep_lift_to_softmax(tmp_path: Path) -> None:
    (r,) = lift_file(_write(tmp_path, "resumed", RESUMED), op="resumed_softmax")
    assert r.status == "verified", r.message
    assert r.formula == "out_ptr.view(grid[0], N) = softmax(in_ptr.view(grid[0], N), dim=1)", r.formula


@pytest.mark.parametrize(
    ("change", "was", "now"),
    [
        ("lanes combined without the rescale", "z = tl.sum(z * tl.exp(m - m_row), 0)", "z = tl.sum(z, 0)"),
        (
            "the reversed sweep stops a tile early",
            "range(TILE_N, N, TILE_N)",
            "range(TILE_N, N - TILE_N, TILE_N)",
        ),
        (
            "the tail loop does not resume from the full tiles' max",
            "    for start in range(last, N, TILE_N):\n        cols = start + tl.arange(0, TILE_N)\n",
            '    m = tl.full([TILE_N], value=float("-inf"), dtype=tl.float32)\n'
            "    for start in range(last, N, TILE_N):\n        cols = start + tl.arange(0, TILE_N)\n",
        ),
    ],
)
def test_broken_resumed_softmax_is_not_verified(tmp_path: Path, change: str, was: str, now: str) -> None:
    good = _write(tmp_path, "resumed", RESUMED)
    (r,) = lift_file(good, op="resumed_softmax")
    assert was in RESUMED
    bad = _write(tmp_path, "broken", RESUMED.replace(was, now))
    (b,) = lift_file(bad, Options(expect=r.formula), op="resumed_softmax")
    assert b.status in ("refuted", "unknown", "unsupported"), change
    if b.status == "refuted":
        assert b.counterexample is not None


# -- the rewrites on terms: equal before and after on random concrete instances ------------------------

N, T, B = ir.var("N"), ir.var("T"), ir.var("B")
kv, sv, rv = ir.var("_k1"), ir.var("_s1"), ir.var("_r1")
NINF = ir.const(-math.inf)


def _x(i: ir.Expr) -> ir.Expr:
    return ir.mem("x", i)


def _eval(e: ir.Expr, mem: dict[int, float], **vals: float) -> float:
    return float(evaluate(e, Env(vars=vals, mem=lambda _b, a: mem[a])))


def _denominator(k: str, lo: ir.Expr, hi: ir.Expr, y, c: ir.Expr) -> ir.Expr:
    """where(c == -inf, 0, Σ_{k in [lo, hi)} exp(y(k) - c))"""
    total = ir.reduce(Op.SUM, k, lo, hi, ir.math_fn(Op.EXP, ir.sub(y(ir.var(k)), c)))
    return ir.where(ir.eq(c, NINF), ir.const(0.0), total)


def test_rescale_brings_two_denominators_to_a_common_max() -> None:
    masked = lambda i: ir.where(ir.lt(i, T), _x(i), NINF)  # noqa: E731  (elements past T are -inf)
    m1 = ir.maximum(NINF, ir.reduce(Op.RMAX, "_r2", ir.ZERO, N, masked(ir.var("_r2"))))
    d1 = _denominator("_k1", ir.ZERO, N, masked, m1)
    m2 = ir.maximum(m1, ir.reduce(Op.RMAX, "_r3", N, ir.add(N, B), _x(ir.var("_r3"))))
    d2 = ir.where(
        ir.eq(m2, NINF),
        ir.const(0.0),
        ir.add(
            ir.mul(d1, ir.math_fn(Op.EXP, ir.sub(m1, m2))),
            ir.reduce(Op.SUM, "_k4", N, ir.add(N, B), ir.math_fn(Op.EXP, ir.sub(_x(ir.var("_k4")), m2))),
        ),
    )
    top = ir.var("top", Kind.REAL)
    e = ir.mul(d2, ir.math_fn(Op.EXP, ir.sub(m2, top)))
    out = rescale(e)
    assert not any(n.op is Op.WHERE and n.args[0].op is Op.EQ for n in ir.walk(out)), out
    rng = random.Random(1)
    for _ in range(60):
        n, b, t = rng.randint(0, 5), rng.randint(0, 4), rng.randint(0, 6)
        mem = {a: rng.uniform(-3, 3) for a in range(12)}
        for topv in (rng.uniform(-1, 4), 3.5):
            want = _eval(e, mem, N=n, B=b, T=t, top=topv)
            assert _eval(out, mem, N=n, B=b, T=t, top=topv) == pytest.approx(want, rel=1e-9, abs=1e-12), (
                n,
                b,
                t,
            )


def test_rescale_needs_the_max_of_the_summed_elements() -> None:
    # the guard's max is over other elements than the sum's: c = -inf does not make the sum 0
    c = ir.maximum(NINF, ir.reduce(Op.RMAX, "_r2", ir.ZERO, N, _x(ir.add(ir.var("_r2"), ir.ONE))))
    d = _denominator("_k1", ir.ZERO, N, _x, c)
    e = ir.mul(d, ir.math_fn(Op.EXP, ir.sub(c, ir.var("top", Kind.REAL))))
    assert rescale(e) == e


def test_split_sums_and_maxima_of_reductions() -> None:
    inner = lambda op, v: ir.reduce(op, "_r1", ir.ZERO, T, _x(ir.add(ir.mul(ir.var("_r1"), B), ir.var(v))))  # noqa: E731
    for op, join in ((Op.SUM, ir.add), (Op.RMAX, ir.maximum)):
        body = join(
            inner(op, "_k1"), ir.reduce(op, "_s1", ir.ZERO, T, _x(ir.add(ir.var("_s1"), ir.var("_k1"))))
        )
        e = ir.reduce(op, "_k1", ir.ZERO, B, body if op is Op.SUM else ir.maximum(NINF, body))
        out = rescale(e)
        assert out.op is (Op.ADD if op is Op.SUM else Op.MAXIMUM), out
        assert all(part.op is op for part in out.args), out
        rng = random.Random(2)
        for _ in range(30):
            t, b = rng.randint(0, 3), rng.randint(0, 3)
            mem = {a: rng.uniform(-3, 3) for a in range(20)}
            assert _eval(out, mem, T=t, B=b) == pytest.approx(_eval(e, mem, T=t, B=b), rel=1e-12)


def test_max_of_finite_elements_is_minus_inf_only_when_empty() -> None:
    finite_max = ir.reduce(Op.RMAX, "_k1", ir.ZERO, N, ir.math_fn(Op.EXP, _x(kv)))
    assert ninf_step(ir.eq(finite_max, NINF)) == ir.le(N, ir.ZERO)
    masked_max = ir.reduce(Op.RMAX, "_k1", ir.ZERO, N, ir.where(ir.lt(kv, T), _x(kv), NINF))
    assert ninf_step(ir.eq(masked_max, NINF)) is None  # a lane may hold only -inf
    s = ir.reduce(Op.SUM, "_k1", ir.ZERO, N, _x(kv))
    assert ninf_step(ir.where(ir.le(N, ir.ZERO), ir.const(0.0), s)) == s
    assert ninf_step(ir.where(ir.le(N, ir.ONE), ir.const(0.0), s)) is None  # not the sum's own range


@pytest.mark.parametrize("op", [Op.SUM, Op.RMAX])
def test_adjacent_ranges_merge_exactly(op: Op) -> None:
    """R_{k < P} x[k] (+) R_{k < L} x[P + k] -> R_{k < P + L} x[k] when P = T*B, kept beside the original."""
    p = ir.mul(T, B)
    first = ir.reduce(op, "_k1", ir.ZERO, p, ir.math_fn(Op.EXP, _x(kv)))
    tail = ir.reduce(op, "_k2", ir.ZERO, ir.sub(N, p), ir.math_fn(Op.EXP, _x(ir.add(p, ir.var("_k2")))))
    e = ir.add(first, tail) if op is Op.SUM else ir.maximum(first, tail)
    out = canon(e)
    assert out.op is Op.WHERE and out.args[1].op is op and out.args[1].args[1] == N, out
    assert canon(out) == out and merge_pass(out) == out  # a second canonicalisation does not nest it again
    rng = random.Random(3)
    for _ in range(60):
        t, b, n = (
            rng.randint(0, 3),
            rng.randint(1, 3),
            rng.randint(0, 12),
        )  # n < t*b: the merge does not apply
        mem = {a: rng.uniform(-2, 2) for a in range(-4, 16)}
        want = _eval(e, mem, T=t, B=b, N=n)
        assert _eval(out, mem, T=t, B=b, N=n) == pytest.approx(want, rel=1e-12), (t, b, n)


def test_adjacent_ranges_need_the_same_body() -> None:
    first = ir.reduce(Op.SUM, "_k1", ir.ZERO, T, _x(kv))
    tail = ir.reduce(Op.SUM, "_k2", ir.ZERO, N, ir.mul(ir.const(2.0), _x(ir.add(T, ir.var("_k2")))))
    assert merge_pass(ir.add(first, tail)) == ir.add(first, tail)
