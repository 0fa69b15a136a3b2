"""Program-id maps onto tiles (synth/pid_map), constexpr paths (synth/paths), a loop joined with its peeled
last tile (synth/tails), tl.trans / tl.permute / .T, and the batched tl.dot: maps that are bijections are
remapped and the kernels verify; maps that are not (or writes that depend on more than the tile) must not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.frontend.source import load_module
from tritonlift.ir import expr as ir
from tritonlift.options import Options
from tritonlift.pipeline import kernel_spec
from tritonlift.symbolic.values import pid
from tritonlift.synth.paths import paths, settle_bounds
from tritonlift.synth.pid_map import one_to_one, regrid
from tritonlift.synth.tails import join_tails

HEADER = "import triton\nimport triton.language as tl\n\n\n"

# a grouped map in the style of FlagGems' mm_kernel_general: `pid % group_size` (not `(pid % width) % size`)
# picks the row inside the group, and the last group may be narrower
GROUPED = """
@triton.jit
def mm_kernel(A, B, C, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    grid_m = tl.cdiv(M, BLOCK_M)
    grid_n = tl.cdiv(N, BLOCK_N)
    width = GROUP_M * grid_n
    group_id = pid // width
    group_size = min(grid_m - group_id * GROUP_M, GROUP_M)
{map}
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        rk = k * BLOCK_K + tl.arange(0, BLOCK_K)
        a = tl.load(A + (rm % M)[:, None] * stride_am + rk[None, :] * stride_ak, mask=rk[None, :] < K, other=0.0)
        b = tl.load(B + rk[:, None] * stride_bk + (rn % N)[None, :] * stride_bn, mask=rk[:, None] < K, other=0.0)
        acc += tl.dot(a, b, allow_tf32=False)
    mask = (rm < M)[:, None] & (rn < N)[None, :]
    tl.store(C + rm[:, None] * stride_cm + rn[None, :] * stride_cn, acc, mask=mask)
"""
FLAGGEMS_MAP = (
    "    pid_m = group_id * GROUP_M + (pid % group_size)\n    pid_n = (pid % width) // group_size\n"
)
MM_EXPECT = (
    "C_v = as_strided(C, (M, N), (stride_cm, stride_cn)); A_v = as_strided(A, (M, K), (stride_am, stride_ak)); "
    "B_v = as_strided(B, (K, N), (stride_bk, stride_bn)); C_v[i, j] = sum(A_v[i, k] * B_v[k, j] for k in range(K))"
)

# a 2-D grid regrouped only when GROUP_M != 1 (FlagGems' bmm), over num_programs
GRID_2D = """
@triton.jit
def copy_kernel(X, Y, M, N, stride_xm, stride_xn, stride_ym, stride_yn,
                TILE_M: tl.constexpr, TILE_N: tl.constexpr, GROUP_M: tl.constexpr):
    pidx = tl.program_id(0)
    pidy = tl.program_id(1)
    if GROUP_M == 1:
        pid_m, pid_n = pidx, pidy
    else:
        gridx = tl.num_programs(0)
        gridy = tl.num_programs(1)
        pid = pidx + pidy * gridx
        per_group = gridy * GROUP_M
        group_id = pid // per_group
        inner = pid % per_group
        size = tl.where((group_id * GROUP_M + GROUP_M) > gridx, gridx % GROUP_M, GROUP_M)
{map}
    rm = pid_m * TILE_M + tl.arange(0, TILE_M)
    rn = pid_n * TILE_N + tl.arange(0, TILE_N)
    mask = (rm < M)[:, None] & (rn < N)[None, :]
    x = tl.load(X + rm[:, None] * stride_xm + rn[None, :] * stride_xn, mask=mask)
    tl.store(Y + rm[:, None] * stride_ym + rn[None, :] * stride_yn, x, mask=mask)
"""
BMM_MAP = "        pid_m = group_id * GROUP_M + inner % size\n        pid_n = inner // size\n"
COPY_EXPECT = (
    "Y_v = as_strided(Y, (M, N), (stride_ym, stride_yn)); X_v = as_strided(X, (M, N), (stride_xm, stride_xn)); "
    "Y_v[i, j] = X_v[i, j]"
)


def _write(tmp_path: Path, body: str, name: str = "k.py") -> Path:
    p = tmp_path / name
    p.write_text(HEADER + textwrap.dedent(body))
    return p


def _lift(path: Path, expect: str | None = None):
    res = lift_file(path, Options(expect=expect) if expect else None)
    assert len(res) == 1, [r.name for r in res]
    return res[0]


def _regrid(path: Path):
    module = load_module(path)
    fn = next(iter(module.kernels()))
    spec, _ = kernel_spec(module, fn)
    return regrid(spec, {p.name for p in fn.params if p.constexpr})


# ---- grouped maps that are bijections


def test_flaggems_grouped_map_is_a_bijection(tmp_path):
    p = _write(tmp_path, GROUPED.format(map=FLAGGEMS_MAP))
    rg = _regrid(p)
    assert rg is not None
    assert "proved bijection" in rg.assumptions[0] and "split at GROUP_M" in rg.assumptions[0]
    assert len(rg.spec.grid) == 2
    # the stores read the tile coordinates only: no division of a program id is left
    assert not any(
        n.op in ir.INT_DIV_OPS and any(m == pid(0) for m in ir.walk(n))
        for st in rg.spec.stores
        for n in ir.walk(st.offset)
    )
    r = _lift(p, MM_EXPECT)
    assert r.status == "verified", r.message
    assert any("launched with grid" in a for a in r.assumptions)


def test_flaggems_grouped_map_derives_the_textbook_formula(tmp_path):
    r = _lift(_write(tmp_path, GROUPED.format(map=FLAGGEMS_MAP)))
    assert r.status == "verified", r.message
    assert r.formula.endswith("C_v = A_v.T @ B_v") or r.formula.endswith("C_v = A_v @ B_v"), r.formula


def test_column_major_map(tmp_path):
    p = _write(tmp_path, GROUPED.format(map="    pid_m = pid % grid_m\n    pid_n = pid // grid_m\n"))
    assert _regrid(p) is not None
    assert _lift(p, MM_EXPECT).status == "verified"


def test_two_d_grid_regrouped_by_a_constexpr_branch(tmp_path):
    p = _write(tmp_path, GRID_2D.format(map=BMM_MAP))
    rg = _regrid(p)
    assert rg is not None
    said = rg.assumptions[0]
    assert "when GROUP_M == 1" in said and "row-major index of the grid" in said, said
    r = _lift(p, COPY_EXPECT)
    assert r.status == "verified", r.message


# ---- maps that are not bijections must not be remapped, and the kernels must not verify


@pytest.mark.parametrize(
    ("why", "mapping"),
    [
        (
            "two tiles per program id, half of them never written",
            "    pid_m = pid // grid_n\n    pid_n = (pid % grid_n) // 2 * 2\n",
        ),
        (
            "programs wrap around the rows and columns independently",
            "    pid_m = pid % grid_m\n    pid_n = pid % grid_n\n",
        ),
        (
            "the row inside a group without the group's offset",
            "    pid_m = pid % group_size\n    pid_n = (pid % width) // group_size\n",
        ),
    ],
)
def test_non_bijective_maps_are_not_accepted(tmp_path, why, mapping):
    p = _write(tmp_path, GROUPED.format(map=mapping))
    assert _regrid(p) is None, why
    assert _lift(p, MM_EXPECT).status != "verified", why


def test_two_d_grid_map_that_drops_the_group_offset_is_not_accepted(tmp_path):
    wrong = "        pid_m = inner % size\n        pid_n = inner // size\n"
    p = _write(tmp_path, GRID_2D.format(map=wrong))
    assert _regrid(p) is None
    assert _lift(p, COPY_EXPECT).status != "verified"


def test_one_to_one_refuses_a_collapsing_map():
    g, n = ir.var("G"), ir.var("n")
    x = pid(0)
    # x -> (x // 2, 0) over [0, 2n): every tile twice
    parts = (ir.arith(ir.Op.TRUNCDIV, x, ir.const(2)), ir.ZERO)
    assert one_to_one(parts, 1, [ir.mul(ir.const(2), n)], [ir.le(ir.ONE, n), ir.le(ir.ONE, g)], 2000) is None
    # x -> (x // n, x % n) over [0, G * n): one-to-one
    parts = (ir.arith(ir.Op.TRUNCDIV, x, n), ir.arith(ir.Op.TRUNCMOD, x, n))
    assert one_to_one(parts, 1, [ir.mul(g, n)], [ir.le(ir.ONE, n), ir.le(ir.ONE, g)], 2000) is not None


# ---- a loop over full tiles and its peeled last tile


PEELED = """
@triton.jit
def prev_multiple_of(a, b):
    return tl.cdiv(a, b) * b - b


@triton.jit
def row_dot_kernel(X, Y, out, M, K, stride_xm, BLOCK_M: tl.constexpr, BLOCK_K: tl.constexpr):
    rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    prev = prev_multiple_of(K, BLOCK_K)
    acc = tl.zeros((BLOCK_M,), dtype=tl.float32)
    for start in range(0, prev, BLOCK_K):
        rk = start + tl.arange(0, BLOCK_K)
        x = tl.load(X + (rm % M)[:, None] * stride_xm + rk[None, :])
        y = tl.load(Y + rk)
        acc += tl.sum(x * y[None, :], axis=1)
    rk = {tail} + tl.arange(0, BLOCK_K)
    x = tl.load(X + (rm % M)[:, None] * stride_xm + rk[None, :], mask=rk[None, :] < K, other=0.0)
    y = tl.load(Y + rk, mask=rk < K, other=0.0)
    acc += tl.sum(x * y[None, :], axis=1)
    tl.store(out + rm, acc, mask=rm < M)
"""
ROW_DOT = (
    "out_v = as_strided(out, (M,), (1,)); X_v = as_strided(X, (M, K), (stride_xm, 1)); "
    "Y_v = as_strided(Y, (K,), (1,)); out_v[i] = sum(X_v[i, k] * Y_v[k] for k in range(K))"
)


def test_peeled_tail_joins_the_loop_for_k_at_least_one(tmp_path):
    p = _write(tmp_path, PEELED.format(tail="prev"))
    r = _lift(p, ROW_DOT)
    assert r.status == "verified", r.message
    assert any(a.startswith("K >= 1") for a in r.assumptions), r.assumptions
    derived = _lift(p)
    assert derived.status == "verified" and "for k in range(K)" in derived.formula_raw, derived.formula_raw


def test_a_tail_that_skips_an_element_is_not_joined(tmp_path):
    p = _write(tmp_path, PEELED.format(tail="(prev + 1)"))
    module = load_module(p)
    fn = next(iter(module.kernels()))
    spec, _ = kernel_spec(module, fn)
    joined = join_tails(spec, [], ["M", "K", "stride_xm"])
    assert joined is spec  # the tail starts one past the loop's end: two sums stay
    assert _lift(p, ROW_DOT).status != "verified"


# ---- constexpr paths (heuristics flags)


EVEN = """
@triton.heuristics({{"EVEN_N": lambda args: args["N"] % args["BLOCK"] == 0}})
@triton.jit
def scale_kernel(X, Y, N, BLOCK: tl.constexpr, EVEN_N: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if EVEN_N:
        x = tl.load(X + offs)
        tl.store(Y + offs, 2.0 * x)
    else:
        x = tl.load(X + offs, mask=offs < N{other})
        tl.store(Y + offs, 2.0 * x, mask=offs < N)
"""


def test_constexpr_paths_are_split_and_each_is_verified(tmp_path):
    p = _write(tmp_path, EVEN.format(other=", other=0.0"))
    module = load_module(p)
    fn = next(iter(module.kernels()))
    spec, _ = kernel_spec(module, fn)
    found = paths(spec, {q.name for q in fn.params if q.constexpr})
    assert len(found) == 2
    assert "EVEN_N" in found[0].text
    r = _lift(p)
    assert r.status == "verified", r.message
    assert any("constexpr paths" in a for a in r.assumptions), r.assumptions


def test_settle_bounds_needs_the_path_fact():
    k, t = ir.var("K"), ir.var("T")
    hi = ir.mul(ir.maximum(ir.arith(ir.Op.TRUNCDIV, ir.sub(ir.add(k, t), ir.ONE), t), ir.ZERO), t)
    s = ir.reduce(ir.Op.SUM, "_r0", ir.ZERO, hi, ir.read("x", ir.var("_r0")))
    base = [ir.le(ir.ONE, t)]
    assert settle_bounds(s, base).args[1] == hi  # not a multiple of T: the bound stays
    divisible = [*base, ir.eq(ir.arith(ir.Op.TRUNCMOD, k, t), ir.ZERO)]
    assert settle_bounds(s, divisible).args[1] == k


# ---- tl.trans / tl.permute / .T


TRANS = """
@triton.jit
def trans_kernel(X, Y, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    mask = (rm < M)[:, None] & (rn < N)[None, :]
    x = tl.load(X + rm[:, None] * N + rn[None, :], mask=mask, other=0.0)
    tl.store(Y + rn[:, None] * M + rm[None, :], {t}, mask={mt})
"""
TRANS_EXPECT = (
    "Y_v = as_strided(Y, (N, M), (M, 1)); X_v = as_strided(X, (M, N), (N, 1)); Y_v[i, j] = X_v[j, i]"
)


@pytest.mark.parametrize(
    "spelling", ["tl.trans(x)", "tl.trans(x, 1, 0)", "tl.trans(x, (1, 0))", "tl.permute(x, (1, 0))", "x.T"]
)
def test_trans_swaps_the_lanes(tmp_path, spelling):
    p = _write(tmp_path, TRANS.format(t=spelling, mt="tl.trans(mask)"))
    r = _lift(p, TRANS_EXPECT)
    assert r.status == "verified", r.message


def test_untransposed_store_is_refuted(tmp_path):
    # the block stored without tl.trans at the transposed address (square tiles so the shapes agree)
    body = TRANS.replace("BN: tl.constexpr", "BN: tl.constexpr = 0").format(t="x", mt="mask")
    body = body.replace("BN: tl.constexpr = 0", "BN: tl.constexpr").replace(
        "tl.program_id(1) * BN", "tl.program_id(1) * BM"
    )
    body = body.replace("tl.arange(0, BN)", "tl.arange(0, BM)")
    r = _lift(_write(tmp_path, body), TRANS_EXPECT)
    assert r.status == "refuted", r.message
    assert r.counterexample is not None


def test_permute_of_three_dimensions(tmp_path):
    body = """
    @triton.jit
    def perm_kernel(X, Y, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr):
        a = tl.arange(0, A)
        b = tl.arange(0, B)
        c = tl.arange(0, C)
        x = tl.load(X + a[:, None, None] * (B * C) + b[None, :, None] * C + c[None, None, :])
        y = tl.permute(x, (2, 0, 1))
        tl.store(Y + c[:, None, None] * (A * B) + a[None, :, None] * B + b[None, None, :], y)
    """
    expect = (
        "Y_v = as_strided(Y, (C, A, B), (A * B, B, 1)); X_v = as_strided(X, (A, B, C), (B * C, C, 1)); "
        "Y_v[i, j, k] = X_v[j, k, i]"
    )
    assert _lift(_write(tmp_path, body), expect).status == "verified"


def test_permute_needs_a_permutation(tmp_path):
    p = _write(tmp_path, TRANS.format(t="tl.permute(x, (0, 0))", mt="mask"))
    r = _lift(p)
    assert r.status == "unsupported" and "not a permutation" in r.message


# ---- the batched (3-D) tl.dot


def test_batched_dot_example_verifies_at_both_levels():
    results = {r.name: r for r in lift_file(Path(__file__).resolve().parents[1] / "examples" / "bmm.py")}
    assert results["bmm_kernel"].status == "verified", results["bmm_kernel"].message
    assert results["bmm"].status == "verified" and results["bmm"].formula == "out = a @ b"


def test_batched_dot_shares_the_batch_lane(tmp_path):
    body = """
    @triton.jit
    def bdot_kernel(A, B, O, R: tl.constexpr, M: tl.constexpr, K: tl.constexpr, N: tl.constexpr):
        r = tl.arange(0, R)
        m = tl.arange(0, M)
        k = tl.arange(0, K)
        n = tl.arange(0, N)
        a = tl.load(A + r[:, None, None] * (M * K) + m[None, :, None] * K + k[None, None, :])
        b = tl.load(B + r[:, None, None] * (K * N) + k[None, :, None] * N + n[None, None, :])
        o = tl.dot(a, b, allow_tf32=False)
        tl.store(O + r[:, None, None] * (M * N) + m[None, :, None] * N + n[None, None, :], o)
    """
    good = (
        "O_v = as_strided(O, (R, M, N), (M * N, N, 1)); A_v = as_strided(A, (R, M, K), (M * K, K, 1)); "
        "B_v = as_strided(B, (R, K, N), (K * N, N, 1)); O_v[i, j, k] = sum(A_v[i, j, l] * B_v[i, l, k] for l in range(K))"
    )
    p = _write(tmp_path, body)
    assert _lift(p, good).status == "verified"
    crossed = good.replace("B_v[i, l, k]", "B_v[0, l, k]")  # a batch read from batch 0 only
    r = _lift(p, crossed)
    assert r.status == "refuted" and r.counterexample is not None


# ---- a packed lower triangle of tiles (FlagGems' syrk): row by a square root, then a mirrored store


TRIANGLE = """
@triton.jit
def sym_kernel(A, S, M, stride_am, stride_an, stride_sm, stride_sn, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    pid_f = pid.to(tl.float32)
    pid_m = tl.floor((tl.sqrt(8.0 * pid_f + 1.0) - 1.0) / 2.0).to(tl.int32)
    tri_start = pid_m * (pid_m + 1) // 2
    pid_m = tl.where(tri_start > pid, pid_m - 1, pid_m)
    next_tri_start = (pid_m + 1) * (pid_m + 2) // 2
    pid_m = tl.where(next_tri_start <= pid, pid_m + 1, pid_m)
    tri_start = pid_m * (pid_m + 1) // 2
    pid_n = pid - tri_start
    rm = pid_m * BLOCK + tl.arange(0, BLOCK)
    rn = pid_n * BLOCK + tl.arange(0, BLOCK)
    mask = (rm < M)[:, None] & (rn < M)[None, :]
    a = tl.load(A + rm[:, None] * stride_am + rn[None, :] * stride_an, mask=mask, other=0.0)
    at = tl.load(A + rn[None, :] * stride_am + rm[:, None] * stride_an, mask=mask, other=0.0)
    out = a + at
    tl.store(S + rm[:, None] * stride_sm + rn[None, :] * stride_sn, out, mask=mask)
{mirror}
"""
MIRROR = """    if pid_m > pid_n:
        mask_t = (rn < M)[:, None] & (rm < M)[None, :]
        tl.store(S + rn[:, None] * stride_sm + rm[None, :] * stride_sn, tl.trans(out), mask=mask_t)
"""
SYM = (
    "S_v = as_strided(S, (M, M), (stride_sm, stride_sn)); A_v = as_strided(A, (M, M), (stride_am, stride_an)); "
    "S_v[i, j] = A_v[i, j] + A_v[j, i]"
)


def test_packed_triangle_with_a_mirrored_store(tmp_path):
    p = _write(tmp_path, TRIANGLE.format(mirror=MIRROR))
    rg = _regrid(p)
    assert rg is not None and "lower triangle" in rg.assumptions[0], rg and rg.assumptions
    assert any("float32 rounding" in a for a in rg.assumptions)
    r = _lift(p, SYM)
    assert r.status == "verified", r.message


def test_packed_triangle_without_the_mirror_leaves_tiles_unwritten(tmp_path):
    p = _write(tmp_path, TRIANGLE.format(mirror=""))
    r = _lift(p, SYM)
    assert r.status != "verified", r.message


def test_trans_of_a_3d_block_needs_its_order(tmp_path):
    body = """
    @triton.jit
    def t3_kernel(X, Y, A: tl.constexpr):
        a = tl.arange(0, A)
        x = tl.load(X + a[:, None, None] * (A * A) + a[None, :, None] * A + a[None, None, :])
        tl.store(Y + a[:, None, None] * (A * A) + a[None, :, None] * A + a[None, None, :], tl.trans(x))
    """
    r = _lift(_write(tmp_path, body))
    assert r.status == "unsupported" and "2-D block" in r.message, r.message


def test_a_map_that_starts_past_the_first_tile_says_why(tmp_path):
    # stream-K's second wave: tile_id = pid + T (the first T tiles were another kernel's)
    mapping = "    pid_m = (pid + T) // grid_n\n    pid_n = (pid + T) % grid_n\n"
    body = GROUPED.format(map=mapping).replace("GROUP_M: tl.constexpr):", "GROUP_M: tl.constexpr, T=0):")
    r = _lift(_write(tmp_path, body))
    assert r.status == "unknown", r.message
    assert "program ids: the tile coordinates the stores write are not proved to lie in" in r.message, (
        r.message
    )
