"""Loads without other=: masked-off lanes are undefined (the Triton language), zero on real backends.

By default a kernel whose proof needs those lanes to be 0 is verified with that assumption, naming the
loads; `masked_loads="undefined"` keeps the language's rule, where the formula shows the undefined lanes.
"""

from __future__ import annotations

from pathlib import Path

from tritonlift.api import lift_file
from tritonlift.options import Options

SOURCE = '''import torch
import triton
import triton.language as tl


@triton.jit
def row_sum_no_other(x_ptr, out_ptr, N, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * N + offs, mask=offs < N)
    tl.store(out_ptr + row, tl.sum(x, axis=0))


@triton.jit
def copy_no_other(x_ptr, out_ptr, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < N)
    tl.store(out_ptr + offs, x * 2.0, mask=offs < N)


def row_sum(x):
    n_rows, n_cols = x.shape
    out = torch.empty((n_rows,), dtype=x.dtype, device=x.device)
    x = x.contiguous()
    row_sum_no_other[(n_rows,)](x, out, n_cols, BLOCK=triton.next_power_of_2(n_cols))
    return out
'''


def _lift(tmp_path: Path, **options: object) -> dict:
    f = tmp_path / "k.py"
    f.write_text(SOURCE)
    return {r.name: r for r in lift_file(f, Options(**options))}


def test_zero_filled_lanes_are_an_assumption_only_where_the_proof_needs_them(tmp_path: Path) -> None:
    got = _lift(tmp_path)
    for name in ("row_sum", "row_sum_no_other"):
        r = got[name]
        assert r.status == "verified", r.message
        assert "undef" not in r.formula_raw and ".sum(dim=1)" in r.formula, r.formula
        notes = [a for a in r.assumptions if a.startswith("masked-off lanes of loads without other=")]
        assert len(notes) == 1 and "at line 10" in notes[0], r.assumptions
        assert r.torch, r.message
    copy = got["copy_no_other"]  # the undefined lanes are never stored: no assumption
    assert copy.status == "verified" and not any("masked-off" in a for a in copy.assumptions), copy.assumptions


def test_the_language_rule_shows_the_undefined_lanes(tmp_path: Path) -> None:
    got = _lift(tmp_path, masked_loads="undefined")
    for name in ("row_sum", "row_sum_no_other"):
        r = got[name]
        assert 'undef("x' in r.formula_raw, r.formula_raw
        assert "the Triton language leaves undefined" in r.message, r.message
        assert not any("masked-off lanes" in a for a in r.assumptions)
        assert not r.torch  # an undefined value has no PyTorch code
    # against the zero-filled formula, the language's rule gives no proof: z3 may pick any masked-off value
    ref = _lift(tmp_path)["row_sum"].formula
    strict = {r.name: r for r in lift_file(tmp_path / "k.py", Options(expect=ref, masked_loads="undefined"),
                                           op="row_sum")}
    assert strict["row_sum"].status != "verified", strict["row_sum"].message
