"""A stand-in for triton.language.extra.cuda.libdevice that Triton's CPU interpreter can run (it cannot run
libdevice's extern calls): each function applies numpy to the interpreter's arrays. tritonlift never runs it:
it reads `libdevice.tan(x)` as libdevice's tan by name, as it reads FlagGems' tl_extra_shim."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import triton.language as tl
from triton.runtime.interpreter import TensorHandle


def _wrap(data: np.ndarray, like: tl.tensor, dtype: tl.dtype) -> tl.tensor:
    ty = like.type.with_element_ty(dtype) if like.type.is_block() else dtype
    return tl.tensor(TensorHandle(data, dtype), ty)


def _unary(fn: Callable[[np.ndarray], np.ndarray], boolean: bool = False) -> Callable[..., tl.tensor]:
    def run(x: tl.tensor, _semantic: object = None) -> tl.tensor:
        out = fn(x.handle.data)
        dtype = tl.int1 if boolean else x.handle.dtype.scalar
        return _wrap(out.astype(np.bool_) if boolean else out.astype(x.handle.data.dtype), x, dtype)

    return run


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., tl.tensor]:
    def run(x: tl.tensor, y: tl.tensor, _semantic: object = None) -> tl.tensor:
        out = fn(x.handle.data, y.handle.data).astype(x.handle.data.dtype)
        return _wrap(out, x if x.type.is_block() else y, x.handle.dtype.scalar)

    return run


tan = _unary(np.tan)
asin = _unary(np.arcsin)
acos = _unary(np.arccos)
atan = _unary(np.arctan)
trunc = _unary(np.trunc)
isnan = _unary(np.isnan, boolean=True)
isinf = _unary(np.isinf, boolean=True)
finitef = _unary(np.isfinite, boolean=True)
atan2 = _binary(np.arctan2)
fmod = _binary(np.fmod)
copysign = _binary(np.copysign)
div_rz = _binary(np.divide)  # the real quotient; the rounding mode is float detail
