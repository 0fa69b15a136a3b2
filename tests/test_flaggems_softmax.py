"""FlagGems' softmax family (flag-gems 5.0.2): every path its heuristics can select, in textbook form.

`softmax_kernel_inner` chooses `TILE_N = next_power_of_2(N) if N <= 32768 else 4096` and
`ONE_TILE_PER_CTA = TILE_N >= N`: the one-tile path for rows up to 32768, the online-softmax path (full tiles,
a resumed masked tail, a reversed write sweep) beyond. A mutant of the online path, in a copy of the package
(so the heuristics are read exactly as for the original), shows that path is proved, not assumed away.
Skips when the package is not installed (`pip install --no-deps flag-gems==5.0.2`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tritonlift.api import lift_file
from tritonlift.bench import flaggems
from tritonlift.options import Options


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


@pytest.mark.parametrize(
    ("rel", "kernel", "textbook"),
    [
        ("ops/softmax.py", "softmax_kernel_inner", "output_ptr.view(grid[0], N) = softmax(input_ptr.view(grid[0], N), dim=1)"),
        ("ops/softmax.py", "softmax_kernel_non_inner", "output_ptr.view(grid[0], N, K) = softmax(input_ptr.view(grid[0], N, K), dim=1)"),
        ("ops/log_softmax.py", "log_softmax_kernel", "output = log_softmax(input, dim=1)"),
    ],
)
def test_softmax_family_verifies_in_textbook_form(root: Path, rel: str, kernel: str, textbook: str) -> None:
    (r,) = lift_file(root / rel, op=kernel)
    assert r.status == "verified", r.message
    assert r.formula.endswith(textbook), r.formula


def test_inner_heuristics_reach_both_paths(root: Path) -> None:
    (r,) = lift_file(root / "ops/softmax.py", op="softmax_kernel_inner")
    shown = " ".join(r.assumptions)
    assert "N > 32768" in shown and "TILE_N == 4096" in shown, shown  # the online path's branch is a case


@pytest.fixture(scope="module")
def package_copy(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fg") / "flag_gems"
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.mark.parametrize(
    ("why", "was", "now"),
    [
        (
            "the reversed sweep stops a tile early",
            "for start_n in range(TILE_N, N, TILE_N):",
            "for start_n in range(TILE_N, N - TILE_N, TILE_N):",
        ),
        (
            "lanes combined without their rescale",
            "z = tl.sum(z * tl.exp(m - m_reduced), 0)\n        m = m_reduced\n\n        previous_multiple",
            "z = tl.sum(z, 0)\n        m = m_reduced\n\n        previous_multiple",
        ),
    ],
)
def test_online_path_mutant_is_not_verified(
    package_copy: Path, root: Path, why: str, was: str, now: str
) -> None:
    (original,) = lift_file(root / "ops/softmax.py", op="softmax_kernel_inner")
    src = (root / "ops/softmax.py").read_text()
    assert src.count(was) == 1, why
    mutant = package_copy / "ops" / "softmax.py"
    mutant.write_text(src.replace(was, now))
    try:
        (r,) = lift_file(mutant, Options(expect=original.formula), op="softmax_kernel_inner")
    finally:
        mutant.write_text(src)
    assert r.status != "verified", why
