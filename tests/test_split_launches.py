"""Several launches writing one returned output (synth/split.py): merged, laid end to end, later writes win."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.options import Options

KERNEL = """
import torch
import triton
import triton.language as tl


@triton.jit
def blocks_kernel(x_ptr, y_ptr, out_ptr, n, block_offset, BLOCK: tl.constexpr):
    offs = (tl.program_id(0) + block_offset) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


def host(x, y):
    x = x.contiguous()
    y = y.contiguous()
    out = torch.empty_like(x)
    n = out.numel()
    total = triton.cdiv(n, 64)
    half = total // 2
"""


def _lift(tmp_path: Path, launches: str, expect: str | None = None):
    path = tmp_path / "split_host.py"
    path.write_text(KERNEL + textwrap.indent(textwrap.dedent(launches), "    ") + "    return out\n")
    return next(r for r in lift_file(path, Options(expect=expect), op="host") if r.name == "host")


def test_second_half_first_then_first_half_is_one_store(tmp_path):
    r = _lift(
        tmp_path,
        """
        blocks_kernel[(total - half,)](x, y, out, n, half, BLOCK=64)
        blocks_kernel[(half,)](x, y, out, n, 0, BLOCK=64)
    """,
    )
    # the second launch is the first with its program id shifted by -half: not within [0, total - half], so
    # the launches are laid end to end, each store under its range, and still verified
    assert r.status == "verified", r.message
    assert r.formula == "out[i] = x[i] + y[i]"


def test_three_launches_over_thirds(tmp_path):
    r = _lift(
        tmp_path,
        """
        third = total // 3
        blocks_kernel[(third,)](x, y, out, n, 0, BLOCK=64)
        blocks_kernel[(third,)](x, y, out, n, third, BLOCK=64)
        blocks_kernel[(total - 2 * third,)](x, y, out, n, 2 * third, BLOCK=64)
    """,
    )
    assert r.status == "verified", r.message
    assert sum("shifted by" in a for a in r.assumptions) == 2, r.assumptions


def test_an_earlier_wrong_write_left_by_the_later_launch_is_refuted_there(tmp_path):
    # the first launch writes x + x everywhere; the second overwrites only the second half with x + y
    r = _lift(
        tmp_path,
        """
        blocks_kernel[(total,)](x, x, out, n, 0, BLOCK=64)
        blocks_kernel[(total - half,)](x, y, out, n, half, BLOCK=64)
    """,
        expect="out[i] = x[i] + y[i]",
    )
    assert r.status == "refuted", r.message
    cx = r.counterexample
    assert cx is not None and "line 11" in cx.reason
    n = {**cx.sizes, **cx.index}["x.numel()"]
    half = -(-n // 64) // 2
    assert cx.index["i"] < half * 64, cx  # an element the second launch does not overwrite


def test_an_overwritten_wrong_write_is_not_a_counterexample(tmp_path):
    # the first launch writes x + x into the second half only; the second launch overwrites every block
    r = _lift(
        tmp_path,
        """
        blocks_kernel[(total - half,)](x, x, out, n, half, BLOCK=64)
        blocks_kernel[(total,)](x, y, out, n, 0, BLOCK=64)
    """,
    )
    assert r.status == "verified", r.message


def test_a_gap_in_swizzled_tile_launches_is_never_verified(tmp_path):
    """split_mm with the second launch one tile late: the union of the ranges is not one interval, so its tile
    map is not proved a bijection; the result is unknown today, and must never be verified."""
    src = (Path(__file__).parent.parent / "examples" / "split_mm.py").read_text()
    src = src.replace("(total - T0,)", "(total - T0 - 1,)").replace("        T0,\n", "        T0 + 1,\n")
    assert "T0 + 1,\n" in src and "(total - T0 - 1,)" in src
    path = tmp_path / "split_mm_gap.py"
    path.write_text(src)
    r = next(r for r in lift_file(path, Options(), op="split_mm") if r.name == "split_mm")
    assert r.status in ("unknown", "refuted"), (r.status, r.formula)
