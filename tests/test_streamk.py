"""Stream-K (work-partitioned) loops, symbolic/streamk.py: both fix-up protocols verify at operator level, and
each deliberately broken variant is never `verified` (a protocol break has no value counterexample the
interpreter could replay: it runs programs one after another, and these kernels spin on each other's locks,
so the broken variants come back `unknown` or `refuted` with the broken part named)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tritonlift.api import lift_file

SRC = Path(__file__).parent / "data" / "streamk" / "streamk_mm.py"


def _lift(tmp_path: Path, op: str, old: str = "", new: str = "", count: int = 1):
    text = SRC.read_text()
    if old:
        assert text.count(old) >= count, old
        text = text.replace(old, new)
    f = tmp_path / "sk.py"
    f.write_text(text)
    return lift_file(f, op=op)


@pytest.mark.parametrize("op", ["streamk_mm", "streamk_mm_gather"])
def test_streamk_operators_verify(tmp_path: Path, op: str) -> None:
    (r,) = _lift(tmp_path, op)
    assert r.status == "verified", r.message
    assert "a[i, k] * b[k, j]" in r.formula or "a @ b" in r.formula
    assert any("lock protocol checked" in a for a in r.assumptions)
    assert not any("locks` holds zeros" in a for a in r.assumptions)  # the host allocates them with zeros


def test_streamk_kernel_alone_names_its_launch() -> None:
    (r,) = lift_file(SRC, op="streamk_kernel")
    assert r.status == "unknown"
    assert "not one per tile" in r.message  # its tiles depend on how the host splits the iterations


MUTANTS = [
    # (operator, old, new, what the message names)
    (
        "streamk_mm",
        "            tl.store(C_ptr, acc, mask=mask)\n            if iter_offset_in_tile != 0:\n"
        "                tl.atomic_xchg(locks + tile_id, 1)",
        "            if iter_offset_in_tile != 0:\n                tl.atomic_xchg(locks + tile_id, 1)\n"
        "            tl.store(C_ptr, acc, mask=mask)",
        "released before",
    ),
    (
        "streamk_mm",
        "            if iter_offset_in_tile != 0:\n                tl.atomic_xchg(locks + tile_id, 1)",
        "            if iter_offset_in_tile > 1:\n                tl.atomic_xchg(locks + tile_id, 1)",
        "hang",
    ),
    (
        "streamk_mm",
        "            while tl.atomic_cas(locks + tile_id, 1, 1) != 1:\n                pass\n"
        "            tl.atomic_add(C_ptr, acc, mask=mask)",
        "            tl.atomic_add(C_ptr, acc, mask=mask)\n            while tl.atomic_cas(locks + tile_id, 1, 1) != 1:\n"
        "                pass",
        "without first waiting",
    ),
    (
        "streamk_mm",
        "while tl.atomic_cas(locks + tile_id, 1, 1)",
        "while tl.atomic_cas(locks + pid, 1, 1)",
        "another lock",
    ),
    ("streamk_mm", "tl.atomic_add(C_ptr, acc, mask=mask)", "tl.store(C_ptr, acc, mask=mask)", "one store"),
    (  # the pieces' pointers do not move to where the piece starts: each sums the tile's first iterations
        "streamk_mm",
        "stride_am + rk[None, :] * stride_ak + BLOCK_K * stride_ak * iter_offset_in_tile",
        "stride_am + rk[None, :] * stride_ak",
        "depend on where the piece starts",
    ),
    (
        "streamk_mm",
        "end_iter = tl.minimum(start_iter + (iters_per_tile - iter_offset_in_tile), last_iter)",
        "end_iter = last_iter",
        "next tile boundary",
    ),
    (
        "streamk_mm",
        "last_iter = (pid + 1) * iters_per_pid + tl.minimum(pid + 1, iters_remaining)",
        "last_iter = (pid + 1) * iters_per_pid + tl.minimum(pid, iters_remaining)",
        "where the next one starts",
    ),
    (
        "streamk_mm_gather",
        "end += iters_per_pid + (next_pid < iters_remaining)",
        "end += iters_per_pid",
        "cursor",
    ),
    (
        "streamk_mm_gather",
        "P_ptr = P + next_pid * BLOCK_M * BLOCK_N",
        "P_ptr = P + pid * BLOCK_M * BLOCK_N",
        "slot",
    ),
    (
        "streamk_mm_gather",
        "            next_pid = pid + 1\n",
        "            next_pid = pid + 2\n",
        "next program",
    ),
    (
        "streamk_mm_gather",
        "            tl.store(P_ptr, acc)\n            tl.atomic_xchg(locks + pid, 1)",
        "            tl.atomic_xchg(locks + pid, 1)\n            tl.store(P_ptr, acc)",
        "released before",
    ),
    (
        "streamk_mm_gather",
        "P_ptr = P + pid * BLOCK_M * BLOCK_N + (rm1[:, None] * BLOCK_N + rn1[None, :])",
        "P_ptr = P + (rm1[:, None] * BLOCK_N + rn1[None, :])",
        "lock or slot",
    ),
    (
        "streamk_mm",
        "total_iters // programs,\n        total_iters % programs,",
        "total_iters // programs,\n        0,",
        "index map",  # the programs' ranges then cover fewer iterations than the tiles hold
    ),
]


@pytest.mark.parametrize("op,old,new,what", MUTANTS, ids=[f"{m[0]}-{k}" for k, m in enumerate(MUTANTS)])
def test_streamk_mutants_are_never_verified(tmp_path: Path, op: str, old: str, new: str, what: str) -> None:
    (r,) = _lift(tmp_path, op, old, new)
    assert r.status in ("unknown", "refuted", "unsupported"), r.formula
    assert what in r.message, r.message
