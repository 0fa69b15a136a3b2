"""Symbolic semantics of `tl.dot`: a block of sums over the shared (contracted) lane, read as reals.

`tl.dot(a, b, acc)` with a:[M, K], b:[K, N] is the [M, N] block whose element at lanes (l0, l1) is
`acc[l0, l1] + Σ_{k<K} a[l0, k] * b[k, l1]` (Triton's `semantic.dot`: 2-D, or 3-D batched
[B, M, K] x [B, K, N] with the batch lane shared). The precision arguments (`allow_tf32`,
`input_precision`, `out_dtype`, `max_num_imprecise_acc`) only choose how the hardware rounds: under the
real-number model they change nothing, and the evaluator records that they were ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from tritonlift.errors import Unsupported
from tritonlift.ir import expr as ir
from tritonlift.ir.expr import Kind, Op
from tritonlift.ir.poly import norm
from tritonlift.symbolic.values import Block, PtrBlock, Tile, broadcast_to, lane

PRECISION_ARGS = ("allow_tf32", "input_precision", "out_dtype", "max_num_imprecise_acc")


def dot(a: Tile, b: Tile, acc: Tile | None, fresh: Callable[[str], str], fail: Callable[[str], Unsupported]) -> Block:
    """The block `acc + a @ b` (batched when both are 3-D); `fresh` names the contracted index."""
    if isinstance(a, PtrBlock) or isinstance(b, PtrBlock):
        raise fail("tl.dot of pointers")
    if a.rank != b.rank or a.rank not in (2, 3):
        raise fail(f"tl.dot of blocks of rank {a.rank} and {b.rank} (2-D or 3-D batched only)")
    batch = a.rank - 2  # lanes before the matrix lanes
    m_ax, k_ax = batch, batch + 1  # a: [.., M, K]
    kb_ax, n_ax = batch, batch + 1  # b: [.., K, N]
    if batch and norm(a.shape[0]) != norm(b.shape[0]):
        raise fail(f"tl.dot batch sizes differ: {a.shape[0]} and {b.shape[0]}")
    if norm(a.shape[k_ax]) != norm(b.shape[kb_ax]):
        raise fail(f"tl.dot inner sizes differ: {a.shape[k_ax]} and {b.shape[kb_ax]}")
    if Kind.BOOL in (a.elem.kind, b.elem.kind):
        raise fail("tl.dot of boolean blocks")
    k = ir.var(fresh("k"))
    # a's K lane and b's K lane become the bound k; a's M lane and b's N lane already sit where the
    # result [.., M, N] puts them (lane batch and batch + 1), and the batch lanes are shared
    av = ir.substitute(a.elem, {lane(k_ax): k})
    bv = ir.substitute(b.elem, {lane(kb_ax): k})
    prod = ir.mul(ir.to_real(av), ir.to_real(bv))
    total = ir.reduce(Op.SUM, str(k.attr), ir.ZERO, a.shape[k_ax], prod)
    shape = (*a.shape[:batch], a.shape[m_ax], b.shape[n_ax])
    if acc is None:
        return Block(shape, total)
    if isinstance(acc, PtrBlock):
        raise fail("tl.dot accumulator is a pointer block")
    accb = broadcast_to(acc, shape)
    assert isinstance(accb, Block)
    # acc + Σ: the accumulator first, as `acc += ...` reads (the loop patterns see `acc + g`)
    return Block(shape, ir.add(ir.to_real(accb.elem), total))
