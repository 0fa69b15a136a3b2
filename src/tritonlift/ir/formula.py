"""Formulas: what every output tensor holds, element by element, over named tensor views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tritonlift.ir.expr import ZERO, Expr, add, mul

ParamKind = Literal["tensor", "int", "float", "constexpr", "bool", "other"]


@dataclass(frozen=True)
class Param:
    """A parameter of the lifted thing (kernel argument or host function argument)."""

    name: str
    kind: ParamKind
    default: str | None = None  # Python source text of the default value, if any
    keyword_only: bool = False  # declared after `*` (`def prod(inp, *, dtype=None)`)


@dataclass(frozen=True)
class TensorDecl:
    """A tensor the formula reads or writes: a strided view of the memory behind parameter `base`.

    Element `name[i0, .., ik]` lives at element offset `offset + sum(i_d * strides[d])` of `base`'s
    memory (for a kernel: the pointer argument; for an operator: the host tensor's storage, relative to
    its data pointer).
    """

    name: str
    shape: tuple[Expr, ...]
    strides: tuple[Expr, ...]
    base: str
    offset: Expr = ZERO

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def address(self, index: tuple[Expr, ...]) -> Expr:
        out = self.offset
        for i, s in zip(index, self.strides, strict=True):
            out = add(out, mul(i, s))
        return out


@dataclass(frozen=True)
class Alloc:
    """An operator allocates this tensor: `torch.empty_like(like)` (or `torch.zeros_like`), or
    `torch.empty(shape, dtype=<dtype_like>.dtype)` (or `torch.zeros`) when `like` is None."""

    name: str
    shape: tuple[Expr, ...]
    like: str | None = None
    dtype_like: str | None = None
    zeros: bool = False
    dtype: str | None = None  # an explicit torch dtype (`dtype=torch.int64`): its name, e.g. "int64"
    device_like: str | None = None  # `device=<tensor>.device`: that tensor's name
    # a shape of symbolic rank (symbolic/host_rank.py): its Python text (`x.shape[:-1]`), `shape` being then
    # the one flat extent (its element count) the formula views it by
    shape_text: str | None = None


@dataclass(frozen=True)
class Assign:
    """`target[index] = body` for every index inside the target's shape."""

    target: str
    index: tuple[str, ...]
    body: Expr


@dataclass(frozen=True)
class Formula:
    """A lifted result: assignments to output tensors over declared tensor views.

    `params` is the signature of the lifted thing (same names and order), `returns` the names of
    the tensors an operator returns (empty for a kernel, which writes its outputs in place), `allocs`
    the tensors an operator allocates, and `assumptions` the preconditions (as readable text) under
    which the formula holds. `contiguous` names the tensor parameters an operator rebinds to
    `x.contiguous()` before anything else reads them: its views see that copy's memory. A TensorDecl
    whose base is an alloc or a tensor parameter views that tensor's memory.
    """

    name: str
    params: tuple[Param, ...]
    tensors: tuple[TensorDecl, ...]
    assigns: tuple[Assign, ...]
    returns: tuple[str, ...] = ()
    allocs: tuple[Alloc, ...] = ()
    assumptions: tuple[str, ...] = field(default=())
    contiguous: tuple[str, ...] = ()  # tensor parameters the operator replaces by `x.contiguous()` first

    def tensor(self, name: str) -> TensorDecl:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(name)

    def tensor_of_base(self, base: str) -> TensorDecl | None:
        for t in self.tensors:
            if t.base == base:
                return t
        return None
