"""FlagGems' `general_mm(a, b, c, M, N, K)` and `syrk_mm(a, c, M, K)` (flag-gems 5.0.2) at operator level: the 1-D launch of
`cdiv(M, BLOCK_M) * cdiv(N, BLOCK_N)` programs, remapped in GROUP_M groups by the kernel, proved a bijection
onto the tiles (synth/pid_map.py) on the host's own launch; the corner of `c` that the host's numbers M, N
bound is the output, the corners of `a`, `b` that M, N, K bound the inputs: `c_v = a_v @ b_v`, with the
bounds stated. A mutant copy of the file whose grid launches one program too few must not verify; one that
passes b's strides swapped computes, and is shown as, `a_v @ b_v.T`. `syrk_mm`'s packed lower-triangle launch
with its mirrored stores verifies as `c_v = a_v @ a_v.T`; without the mirror next to the diagonal it does not. Skips when the package is not installed
(`pip install --no-deps flag-gems==5.0.2`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.bench import flaggems
from tritonlift.options import Options

GRID = 'triton.cdiv(M, META["BLOCK_M"]) * triton.cdiv(N, META["BLOCK_N"]),'


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


def _mutant(root: Path, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of ops/mm.py with one edit, inside a copy of the package (imports read as for the original)."""
    pkg = tmp_path / "flag_gems"
    shutil.copytree(root, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.so", "csrc", "testing"))
    f = pkg / "ops" / "mm.py"
    text = f.read_text()
    assert text.count(old) == 1
    f.write_text(text.replace(old, new))
    return f


def test_general_mm_verifies_as_a_matmul_of_corners(root: Path) -> None:
    (r,) = lift_file(root / "ops" / "mm.py", Options(timeout=120), op="general_mm")
    assert r.kind == "operator"
    assert r.status == "verified", r.message
    assert r.formula.endswith("c_v = a_v @ b_v"), r.formula
    assert "c_v = as_strided(c, (M, N), (c.stride(0), c.stride(1)))" in r.formula
    said = " ".join(r.assumptions)
    assert "M <= c.shape[0], N <= c.shape[1]" in said  # the corner's bounds are stated, not assumed silently
    assert "K <= a.shape[1]" in said
    assert "a proved bijection" in said
    assert "K >= 1" in said


def test_general_mm_with_a_grid_one_short_does_not_verify(root: Path, tmp_path: Path) -> None:
    short = GRID.replace('"BLOCK_N"]),', '"BLOCK_N"]) - 1,')
    f = _mutant(root, tmp_path, GRID, short)
    (r,) = lift_file(f, Options(timeout=120), op="general_mm")
    assert r.status != "verified", r.formula


def test_general_mm_reading_b_transposed_says_so(root: Path, tmp_path: Path) -> None:
    """b's strides swapped at the launch: the operator computes a @ b.T over b's (N, K) corner, and says that."""
    old = "            b.stride(0),\n            b.stride(1),\n            c.stride(0),"
    new = "            b.stride(1),\n            b.stride(0),\n            c.stride(0),"
    f = _mutant(root, tmp_path, old, new)
    (r,) = lift_file(f, Options(timeout=120), op="general_mm")
    assert r.status == "verified", r.message
    assert r.formula.endswith("c_v = a_v @ b_v.T"), r.formula
    assert "b_v = as_strided(b, (N, K), (b.stride(0), b.stride(1)))" in r.formula


def test_syrk_mm_verifies_as_a_times_its_transpose(root: Path) -> None:
    """The packed lower-triangle launch, mirrored stores included (each store its own witness)."""
    (r,) = lift_file(root / "ops" / "mm.py", Options(timeout=120), op="syrk_mm")
    assert r.status == "verified", r.message
    assert r.formula.endswith("c_v = a_v @ a_v.T"), r.formula
    said = " ".join(r.assumptions)
    assert "M <= c.shape[0], M <= c.shape[1]" in said
    assert "lower triangle" in said


def test_syrk_mm_without_the_mirror_next_to_the_diagonal_does_not_verify(root: Path, tmp_path: Path) -> None:
    f = _mutant(root, tmp_path, "    if pid_m > pid_n:\n", "    if pid_m > pid_n + 1:\n")
    (r,) = lift_file(f, Options(timeout=120), op="syrk_mm")
    assert r.status != "verified", r.formula


def test_streamk_mm_verifies_on_every_host_path(root: Path) -> None:
    """FlagGems' stream-K host: the first wave (atomic fix-up for fp16, scratch slots for bf16, symbolic/streamk.py)
    and `classic_mm` over the remaining tiles, merged into one launch over all tiles (synth/split.py), on every
    path of the host's tile split; the flag EVEN_K splits the paths."""
    (r,) = lift_file(root / "ops" / "mm_streamk.py", Options(), op="streamk_mm")
    assert r.status == "verified", r.message
    assert r.formula.endswith("c_v = a_v @ b_v")
    assert {"first_wave", "first_wave_for_bf16", "classic_mm"} <= {
        k for p in r.proof.paths for k in p["kernels"]
    }
    assert all(p["status"] == "verified" for p in r.proof.paths)
    assert any(a.startswith("sm_count >= 1") for a in r.assumptions)
    assert any("lock protocol checked" in a for a in r.assumptions)
    assert not any("locks` holds zeros" in a for a in r.assumptions)  # torch.zeros in the host


def test_streamk_mm_with_the_lock_released_before_the_store_does_not_verify(
    root: Path, tmp_path: Path
) -> None:
    pkg = tmp_path / "flag_gems"
    shutil.copytree(root, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.so", "csrc", "testing"))
    f = pkg / "ops" / "mm_streamk.py"
    text = f.read_text()
    old = "            tl.store(C_ptr, acc, mask=mask)\n            if iter_offset_in_tile != 0:  # only if tile has been partially processed\n                tl.atomic_xchg(locks + tile_id, 1)"
    new = "            if iter_offset_in_tile != 0:  # only if tile has been partially processed\n                tl.atomic_xchg(locks + tile_id, 1)\n            tl.store(C_ptr, acc, mask=mask)"
    assert text.count(old) == 1
    f.write_text(text.replace(old, new))
    (r,) = lift_file(f, Options(), op="streamk_mm")
    assert r.status != "verified"
    assert "released before" in r.message
