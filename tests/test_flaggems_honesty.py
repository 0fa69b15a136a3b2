"""Honesty check: the lifted `torch` code of each verified flaggems-33 kernel, run on random float32 inputs,
against the PyTorch operator the FlagGems operator implements.

The table below is test data: for each operator, the kernels it launches, how the host launches them (the
arguments, in the lifted code's parameter order, as FlagGems' host code passes them) and the PyTorch reference.
A kernel that does not come back `verified` is skipped (its code promises nothing); one that does must agree
with PyTorch. Skips only when flag-gems is not installed (`pip install --no-deps flag-gems==5.0.2`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from tritonlift.bench import flaggems
from tritonlift.options import Options
from tritonlift.pipeline import lift_module_file
from tritonlift.result import LiftResult

SEED = 20240531


@pytest.fixture(scope="module")
def root() -> Path:
    found = flaggems.locate_package()
    if found is None:
        pytest.skip(f"FlagGems is not installed ({flaggems.INSTALL_HINT})")
    return found


@cache
def lifted(root: Path, file: str, name: str) -> LiftResult:
    results = [r for r in lift_module_file(root / file, Options(timeout=60), name) if r.name == name]
    assert len(results) == 1, f"{file}: {name} lifted {len(results)} times"
    return results[0]


def torch_fn(root: Path, file: str, name: str) -> Callable[..., Any]:
    r = lifted(root, file, name)
    if r.status != "verified":
        pytest.skip(f"{name} is {r.status}: {r.message}")
    assert r.torch, f"{name} is verified but has no torch code"
    ns: dict[str, Any] = {}
    exec(compile(r.torch, f"<lifted {name}>", "exec"), ns)
    return ns[name]


def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call lifted torch code with the kernel's arguments by name (it takes only those its formula uses)."""
    params = inspect.signature(fn).parameters
    missing = [p for p in params if p not in kwargs]
    assert not missing, f"the lifted code takes {missing}, which the launch does not pass"
    return fn(**{p: kwargs[p] for p in params})


def close(got: torch.Tensor, want: torch.Tensor) -> None:
    torch.testing.assert_close(got.to(want.dtype), want, rtol=1e-4, atol=1e-5, equal_nan=True)


def rand(g: torch.Generator, *shape: int, low: float = -3.0, high: float = 3.0) -> torch.Tensor:
    return torch.rand(*shape, generator=g, dtype=torch.float32) * (high - low) + low


# --- pointwise scalar functions: fn(*args) -> tensor ---------------------------------------------------


@dataclass(frozen=True)
class Pointwise:
    operator: str
    file: str
    kernel: str
    args: Callable[[torch.Generator], tuple[Any, ...]]
    ref: Callable[..., torch.Tensor]


def _x(g: torch.Generator) -> tuple[Any, ...]:
    return (rand(g, 7, 33),)


def _pos(g: torch.Generator) -> tuple[Any, ...]:
    return (rand(g, 7, 33, low=0.1, high=4.0),)


def _xy(g: torch.Generator) -> tuple[Any, ...]:
    return rand(g, 7, 33), rand(g, 7, 33)


def _xy_bcast(g: torch.Generator) -> tuple[Any, ...]:
    return rand(g, 7, 33), rand(g, 33)


def _x_s(g: torch.Generator) -> tuple[Any, ...]:
    return rand(g, 7, 33), 1.75


def _s_x(g: torch.Generator) -> tuple[Any, ...]:
    return -1.25, rand(g, 7, 33)


def _x_nz(g: torch.Generator) -> tuple[Any, ...]:
    y = rand(g, 7, 33)
    return rand(g, 7, 33), torch.where(y.abs() < 0.1, torch.full_like(y, 0.5), y)


POINTWISE: tuple[Pointwise, ...] = (
    Pointwise("abs", "ops/abs.py", "abs_func", _x, torch.abs),
    Pointwise("neg", "ops/neg.py", "neg_func", _x, torch.neg),
    Pointwise("exp", "ops/exp.py", "exp_func", _x, torch.exp),
    Pointwise("log", "ops/log.py", "log_func", _pos, torch.log),
    Pointwise("sqrt", "ops/sqrt.py", "sqrt_func", _pos, torch.sqrt),
    Pointwise("rsqrt", "ops/rsqrt.py", "rsqrt_func", _pos, torch.rsqrt),
    Pointwise("sin", "ops/sin.py", "sin_func", _x, torch.sin),
    Pointwise("tanh", "ops/tanh.py", "tanh_kernel", _x, torch.tanh),
    Pointwise("sigmoid", "ops/sigmoid.py", "sigmoid_forward", _x, torch.sigmoid),
    Pointwise("silu", "ops/silu.py", "silu_forward", _x, F.silu),
    Pointwise("gelu", "ops/gelu.py", "gelu_none", _x, F.gelu),
    Pointwise("gelu", "ops/gelu.py", "gelu_tanh", _x, lambda x: F.gelu(x, approximate="tanh")),
    Pointwise("relu", "ops/relu.py", "relu_forward", _x, torch.relu),
    Pointwise("clamp", "ops/clamp.py", "clamp_func", lambda g: (rand(g, 7, 33), -0.5, 1.5),
              lambda x, lo, hi: torch.clamp(x, lo, hi)),
    Pointwise("clamp", "ops/clamp.py", "clamp_func_min", lambda g: (rand(g, 7, 33), -0.5),
              lambda x, lo: torch.clamp(x, min=lo)),
    Pointwise("clamp", "ops/clamp.py", "clamp_func_max", lambda g: (rand(g, 7, 33), 1.5),
              lambda x, hi: torch.clamp(x, max=hi)),
    Pointwise("clamp", "ops/clamp.py", "clamp_func_tensor",
              lambda g: (rand(g, 7, 33), rand(g, 7, 33, low=-2, high=0), rand(g, 33, low=0, high=2)),
              lambda x, lo, hi: torch.clamp(x, lo, hi)),
    Pointwise("clamp", "ops/clamp.py", "clamp_func_min_tensor", _xy, lambda x, lo: torch.clamp(x, min=lo)),
    Pointwise("clamp", "ops/clamp.py", "clamp_func_max_tensor", _xy, lambda x, hi: torch.clamp(x, max=hi)),
    Pointwise("add", "ops/add.py", "add_func", lambda g: (*_xy_bcast(g), 0.5),
              lambda x, y, a: torch.add(x, y, alpha=a)),
    Pointwise("add", "ops/add.py", "add_func_tensor_scalar", lambda g: (*_x_s(g), 0.5),
              lambda x, y, a: torch.add(x, y, alpha=a)),
    Pointwise("add", "ops/add.py", "add_func_scalar_tensor", lambda g: (*_s_x(g), 0.5),
              lambda x, y, a: torch.add(torch.tensor(x), y, alpha=a)),
    Pointwise("sub", "ops/sub.py", "sub_func", lambda g: (*_xy_bcast(g), 2.0),
              lambda x, y, a: torch.sub(x, y, alpha=a)),
    Pointwise("sub", "ops/sub.py", "sub_func_tensor_scalar", lambda g: (*_x_s(g), 2.0),
              lambda x, y, a: torch.sub(x, y, alpha=a)),
    Pointwise("sub", "ops/sub.py", "sub_func_scalar_tensor", lambda g: (*_s_x(g), 2.0),
              lambda x, y, a: torch.sub(torch.tensor(x), y, alpha=a)),
    Pointwise("mul", "ops/mul.py", "mul_func", _xy_bcast, torch.mul),
    Pointwise("mul", "ops/mul.py", "mul_func_scalar", _x_s, torch.mul),
    Pointwise("true_divide", "ops/div.py", "true_div_func", _x_nz, torch.true_divide),
    Pointwise("true_divide", "ops/div.py", "true_div_func_tensor_scalar", _x_s, torch.true_divide),
    Pointwise("true_divide", "ops/div.py", "true_div_func_scalar_tensor", lambda g: _s_x(g)[:1] + _x_nz(g)[1:],
              lambda x, y: torch.true_divide(torch.tensor(x), y)),
    Pointwise("pow", "ops/pow.py", "pow_func", lambda g: (rand(g, 7, 33, low=0.1, high=3), rand(g, 7, 33)),
              torch.pow),
    Pointwise("pow", "ops/pow.py", "pow_func_tensor_scalar", lambda g: (rand(g, 7, 33, low=0.1, high=3), 2.5),
              torch.pow),
    Pointwise("pow", "ops/pow.py", "pow_func_scalar_tensor", lambda g: (1.5, rand(g, 7, 33)), torch.pow),
    Pointwise("maximum", "ops/maximum.py", "maximum_kernel", _xy_bcast, torch.maximum),
    Pointwise("where", "ops/where.py", "where_inner",
              lambda g: (rand(g, 7, 33) > 0, rand(g, 7, 33), rand(g, 33)), torch.where),
    Pointwise("silu_and_mul", "fused/silu_and_mul.py", "silu_and_mul_kernel", _xy, lambda x, y: F.silu(x) * y),
)


@pytest.mark.parametrize("case", POINTWISE, ids=lambda c: f"{c.operator}-{c.kernel}")
def test_pointwise_lifted_torch_matches_pytorch(root: Path, case: Pointwise) -> None:
    g = torch.Generator().manual_seed(SEED)
    args = case.args(g)
    fn = torch_fn(root, case.file, case.kernel)
    close(fn(*args), case.ref(*args))


# --- kernels, launched as the host code launches them ----------------------------------------------------


def _next_pow2(n: int) -> int:
    return 1 << (n - 1).bit_length() if n > 0 else 1


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _two_stage(root: Path, file: str, first: str, second: str, x: torch.Tensor, mean: bool) -> torch.Tensor:
    """sum/mean/amax over all elements as their hosts do it: per-block partials, then one block over them."""
    m = x.numel()
    block = _next_pow2(math.ceil(math.sqrt(m)))
    mid_size = _cdiv(m, block)
    mid = torch.full((mid_size,), float("nan"))
    out = torch.full((), float("nan"))
    call(torch_fn(root, file, first), inp=x, mid=mid, M=m, BLOCK_SIZE=block, grid=(mid_size, 1, 1))
    extra = {"M": m, "MID_SIZE": mid_size} if mean else {"mid_size": mid_size}
    call(torch_fn(root, file, second), mid=mid, out=out, BLOCK_MID=_next_pow2(mid_size), grid=(1, 1, 1), **extra)
    return out


@pytest.mark.parametrize(
    ("operator", "file", "first", "second", "ref"),
    [
        ("sum", "ops/sum.py", "sum_kernel_1", "sum_kernel_2", torch.sum),
        ("mean", "ops/mean.py", "mean_kernel_1", "mean_kernel_2", torch.mean),
        ("amax", "ops/amax.py", "amax_kernel_1", "amax_kernel_2", torch.amax),
    ],
)
def test_full_reductions_two_launches(root: Path, operator: str, file: str, first: str, second: str, ref: Any) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 1000)
    close(_two_stage(root, file, first, second, x, operator == "mean"), ref(x))


@pytest.mark.parametrize(
    ("file", "kernel", "ref"),
    [
        ("ops/sum.py", "sum_dim_kernel", lambda x: x.sum(1)),
        ("ops/mean.py", "mean_dim_kernel", lambda x: x.mean(1)),
        ("ops/amax.py", "amax_kernel", lambda x: x.amax(1)),
    ],
)
def test_row_reductions(root: Path, file: str, kernel: str, ref: Any) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 9, 70)
    out = torch.full((9,), float("nan"))
    call(torch_fn(root, file, kernel), inp=x, out=out, M=9, N=70, BLOCK_M=4, BLOCK_N=32, grid=(_cdiv(9, 4),))
    close(out, ref(x))


@pytest.mark.parametrize(("file", "kernel", "ref"), [("ops/sum.py", "sum_dim_kernel_inner", torch.sum),
                                                     ("ops/mean.py", "mean_dim_kernel_inner", torch.mean)])
@pytest.mark.parametrize("tile_n", [128, 32])  # one tile per row, and a loop over tiles
def test_inner_reductions_both_heuristic_paths(root: Path, file: str, kernel: str, ref: Any, tile_n: int) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 5, 100)
    out = torch.full((5,), float("nan"))
    call(torch_fn(root, file, kernel), output_ptr=out, input_ptr=x, M=5, N=100, TILE_N=tile_n,
         ONE_TILE_PER_CTA=tile_n >= 100, grid=(5,))
    close(out, ref(x, dim=1))


@pytest.mark.parametrize(("file", "kernel", "ref"), [("ops/sum.py", "sum_dim_kernel_non_inner", torch.sum),
                                                     ("ops/mean.py", "mean_dim_kernel_non_inner", torch.mean)])
def test_non_inner_reductions(root: Path, file: str, kernel: str, ref: Any) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 3, 20, 6)
    out = torch.full((3, 6), float("nan"))
    tile_k = 4
    tile_n = _cdiv(8192, tile_k)
    call(torch_fn(root, file, kernel), output_ptr=out, input_ptr=x, M=3, N=20, K=6, TILE_N=tile_n, TILE_K=tile_k,
         ONE_TILE_PER_CTA=tile_n >= 20, grid=(3, _cdiv(6, tile_k)))
    close(out, ref(x, dim=1))


def test_prod_two_launches_and_rows(root: Path) -> None:
    """prod: tl.reduce with a multiplying combine function, and an `acc *= x` loop over column tiles."""
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 300, low=0.8, high=1.2)
    close(_two_stage(root, "ops/prod.py", "prod_kernel_mid", "prod_kernel_result", x, False), torch.prod(x))
    y = rand(g, 9, 70, low=0.5, high=1.5)
    out = torch.full((9,), float("nan"))
    call(torch_fn(root, "ops/prod.py", "prod_kernel"), inp=y, out=out, M=9, N=70, BLOCK_M=4, BLOCK_N=32,
         grid=(_cdiv(9, 4),))
    close(out, y.prod(1))


@pytest.mark.parametrize(("name", "file", "ref"), [("prod", "ops/prod.py", torch.prod), ("mean", "ops/mean.py", torch.mean)])
def test_full_reduction_operators(root: Path, name: str, file: str, ref: Any) -> None:
    """The operator-level results (both host paths of `if dtype is None`) against PyTorch, same signature."""
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 7, 30, low=0.9, high=1.1)
    fn = torch_fn(root, file, name)
    assert list(inspect.signature(fn).parameters) == ["inp", "dtype"]
    assert inspect.signature(fn).parameters["dtype"].kind is inspect.Parameter.KEYWORD_ONLY
    close(fn(x), ref(x))
    close(fn(x, dtype=torch.float32), ref(x))


@pytest.mark.parametrize(("block_k", "vec"), [(2, 2), (4, 1)])
def test_mean_non_inner_vec(root: Path, block_k: int, vec: int) -> None:
    """mean over the middle dim with a [BLOCK_SIZE_K, VEC_SIZE] tile walking one fused dimension of K."""
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 3, 20, 7)
    out = torch.full((3, 7), float("nan"))
    call(torch_fn(root, "ops/mean.py", "mean_dim_kernel_non_inner_vec"), output_ptr=out, input_ptr=x, M=3, N=20,
         K=7, BLOCK_SIZE_K=block_k, VEC_SIZE=vec, grid=(3, _cdiv(7, block_k * vec)))
    close(out, x.mean(1))


@pytest.mark.parametrize("tile_n", [128, 32])  # one tile per row, and the online-softmax loops
def test_softmax_inner_both_heuristic_paths(root: Path, tile_n: int) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 5, 100)
    out = torch.full((5, 100), float("nan"))
    call(torch_fn(root, "ops/softmax.py", "softmax_kernel_inner"), output_ptr=out, input_ptr=x, M=5, N=100,
         TILE_N=tile_n, ONE_TILE_PER_CTA=tile_n >= 100, grid=(5,))
    close(out, torch.softmax(x, dim=1))


@pytest.mark.parametrize("tile_k", [4, 2048])  # TILE_N = cdiv(8192, TILE_K): one tile, and the online loop
def test_softmax_non_inner(root: Path, tile_k: int) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 3, 20, 6)
    out = torch.full((3, 20, 6), float("nan"))
    tile_n = _cdiv(8192, tile_k)
    call(torch_fn(root, "ops/softmax.py", "softmax_kernel_non_inner"), output_ptr=out, input_ptr=x, M=3, N=20,
         K=6, TILE_N=tile_n, TILE_K=tile_k, ONE_TILE_PER_CTA=tile_n >= 20, grid=(3, _cdiv(6, tile_k)))
    close(out, torch.softmax(x, dim=1))


def test_log_softmax(root: Path) -> None:
    g = torch.Generator().manual_seed(SEED)
    x = rand(g, 9, 21, 3)
    out = torch.full((9, 21, 3), float("nan"))
    call(torch_fn(root, "ops/log_softmax.py", "log_softmax_kernel"), output_ptr=out, input_ptr=x, M=9, N=21,
         K=3, BLOCK_M=8, BLOCK_N=8, grid=(_cdiv(9, 8), 3))
    close(out, torch.log_softmax(x, dim=1))


def test_mv(root: Path) -> None:
    g = torch.Generator().manual_seed(SEED)
    a, b = rand(g, 13, 40), rand(g, 40)
    c = torch.full((13,), float("nan"))
    call(torch_fn(root, "ops/mv.py", "mv_kernel"), A=a, B=b, C=c, N=13, M=40, stride_an=a.stride(0),
         stride_am=a.stride(1), stride_bm=b.stride(0), stride_cn=c.stride(0), BLOCK_N=8, BLOCK_M=16,
         grid=(_cdiv(13, 8),))
    close(c, torch.mv(a, b))


def test_rms_norm(root: Path) -> None:
    g = torch.Generator().manual_seed(SEED)
    x, w = rand(g, 6, 50), rand(g, 50)
    y, inv = torch.full((6, 50), float("nan")), torch.full((6,), float("nan"))
    call(torch_fn(root, "ops/rms_norm.py", "rms_norm_kernel"), out_ptr=y, INV_RMS=inv, in_ptr=x, w_ptr=w,
         y_stride_r=50, y_stride_c=1, x_stride_r=50, x_stride_c=1, N=50, eps=1e-5, BLOCK_SIZE=64, grid=(6,))
    close(y, F.rms_norm(x, (50,), w, eps=1e-5))
    close(inv, torch.rsqrt(x.pow(2).mean(1) + 1e-5))


def test_layer_norm_persistent(root: Path) -> None:
    g = torch.Generator().manual_seed(SEED)
    x, w, b = rand(g, 6, 50), rand(g, 50), rand(g, 50)
    y, mean, rstd = torch.full((6, 50), float("nan")), torch.full((6,), float("nan")), torch.full((6,), float("nan"))
    call(torch_fn(root, "ops/layernorm.py", "layer_norm_persistent_kernel"), in_ptr=x, out_ptr=y, weight_ptr=w,
         bias_ptr=b, out_mean_ptr=mean, out_rstd_ptr=rstd, M=6, N=50, eps=1e-5, TILE_N=64, grid=(6,))
    close(y, F.layer_norm(x, (50,), w, b, eps=1e-5))
    close(mean, x.mean(1))
    close(rstd, torch.rsqrt(x.var(1, unbiased=False) + 1e-5))


# --- operator level: the host function's lifted torch code, called as PyTorch's operator is ----------------


@cache
def lifted_operator(root: Path, file: str, host: str) -> LiftResult:
    results = [r for r in lift_module_file(root / file, Options(timeout=60), host)
               if r.name == host and r.kind == "operator"]
    assert len(results) == 1, f"{file}: {host} lifted {len(results)} times at operator level"
    return results[0]


@dataclass(frozen=True)
class OperatorCall:
    """A FlagGems host function called with these arguments must compute what `ref` computes."""

    operator: str
    file: str
    host: str
    args: Callable[[torch.Generator], tuple[tuple[Any, ...], dict[str, Any]]]
    ref: Callable[..., torch.Tensor]


def _a(*shapes: tuple[int, ...], low: float = -3.0, high: float = 3.0, **kw: Any):
    return lambda g: (tuple(rand(g, *s, low=low, high=high) for s in shapes), kw)


def _norm_args(shape: tuple[int, ...], k: int, affine: str):
    """(input, normalized_shape = its last k dims[, weight][, bias]) and eps, as layer_norm/rms_norm take them."""

    def make(g: torch.Generator) -> tuple[tuple[Any, ...], dict[str, Any]]:
        x, ns = rand(g, *shape), list(shape[-k:])
        kw: dict[str, Any] = {"eps": 1e-5}
        if "w" in affine:
            kw["weight"] = rand(g, *ns)
        if "b" in affine:
            kw["bias"] = rand(g, *ns)
        return (x, ns), kw

    return make


def _layer_norm_ref(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    rows = x.reshape(-1, math.prod(normalized_shape))
    return (F.layer_norm(x, normalized_shape, weight, bias, eps), rows.mean(dim=1),
            torch.rsqrt(rows.var(dim=1, correction=0) + eps))


def _rms_norm_ref(x, normalized_shape, weight, eps=1e-5):
    rows = x.reshape(-1, math.prod(normalized_shape))
    return F.rms_norm(x, normalized_shape, weight, eps), torch.rsqrt((rows * rows).mean(dim=1) + eps)


OPERATOR_CALLS: tuple[OperatorCall, ...] = (
    OperatorCall("abs", "ops/abs.py", "abs", _a((7, 33)), torch.abs),
    OperatorCall("neg", "ops/neg.py", "neg", _a((7, 33)), torch.neg),
    OperatorCall("exp", "ops/exp.py", "exp", _a((7, 33)), torch.exp),
    OperatorCall("log", "ops/log.py", "log", _a((7, 33), low=0.1, high=4.0), torch.log),
    OperatorCall("sqrt", "ops/sqrt.py", "sqrt", _a((7, 33), low=0.1, high=4.0), torch.sqrt),
    OperatorCall("rsqrt", "ops/rsqrt.py", "rsqrt", _a((7, 33), low=0.1, high=4.0), torch.rsqrt),
    OperatorCall("sin", "ops/sin.py", "sin", _a((7, 33)), torch.sin),
    OperatorCall("tanh", "ops/tanh.py", "tanh", _a((7, 33)), torch.tanh),
    OperatorCall("sigmoid", "ops/sigmoid.py", "sigmoid", _a((7, 33)), torch.sigmoid),
    OperatorCall("silu", "ops/silu.py", "silu", _a((7, 33)), F.silu),
    OperatorCall("gelu", "ops/gelu.py", "gelu", _a((7, 33)), F.gelu),
    OperatorCall("gelu", "ops/gelu.py", "gelu", _a((7, 33), approximate="tanh"),
                 lambda x, approximate: F.gelu(x, approximate=approximate)),
    OperatorCall("relu", "ops/relu.py", "relu", _a((7, 33)), torch.relu),
    OperatorCall("clamp", "ops/clamp.py", "clamp", lambda g: ((rand(g, 7, 33), -0.5, 1.5), {}), torch.clamp),
    OperatorCall("clamp", "ops/clamp.py", "clamp", lambda g: ((rand(g, 7, 33),), {"mini": -0.5}),
                 lambda x, mini: torch.clamp(x, min=mini)),
    OperatorCall("clamp", "ops/clamp.py", "clamp", lambda g: ((rand(g, 7, 33),), {"maxi": 1.5}),
                 lambda x, maxi: torch.clamp(x, max=maxi)),
    OperatorCall("clamp", "ops/clamp.py", "clamp_tensor",
                 lambda g: ((rand(g, 7, 33), rand(g, 7, 33, low=-2, high=0), rand(g, 33, low=0, high=2)), {}),
                 torch.clamp),
    OperatorCall("clamp", "ops/clamp.py", "clamp_tensor", lambda g: ((rand(g, 7, 33),), {"maxi": rand(g, 33)}),
                 lambda x, maxi: torch.clamp(x, max=maxi)),
    OperatorCall("add", "ops/add.py", "add", _a((7, 33), (33,)), torch.add),
    OperatorCall("add", "ops/add.py", "add", _a((7, 33), (7, 1), alpha=0.5),
                 lambda x, y, alpha: torch.add(x, y, alpha=alpha)),
    OperatorCall("sub", "ops/sub.py", "sub", _a((7, 33), (33,), alpha=2.0),
                 lambda x, y, alpha: torch.sub(x, y, alpha=alpha)),
    OperatorCall("mul", "ops/mul.py", "mul", _a((7, 33), (33,)), torch.mul),
    OperatorCall("true_divide", "ops/div.py", "true_divide", lambda g: (_x_nz(g), {}),
                 torch.true_divide),
    OperatorCall("pow", "ops/pow.py", "pow_tensor_tensor", lambda g: ((rand(g, 7, 33, low=0.1, high=3),
                                                                     rand(g, 33)), {}), torch.pow),
    OperatorCall("pow", "ops/pow.py", "pow_tensor_scalar", lambda g: ((rand(g, 7, 33, low=0.1, high=3), 2.5), {}),
                 torch.pow),
    OperatorCall("pow", "ops/pow.py", "pow_scalar", lambda g: ((1.5, rand(g, 7, 33)), {}), torch.pow),
    OperatorCall("maximum", "ops/maximum.py", "maximum", _a((7, 33), (33,)), torch.maximum),
    OperatorCall("silu_and_mul", "fused/silu_and_mul.py", "silu_and_mul", _a((7, 33), (7, 33)),
                 lambda x, y: F.silu(x) * y),
    # hosts that launch kernels: the two-launch full reductions over any rank, matrix-vector
    OperatorCall("sum", "ops/sum.py", "sum", _a((9, 7, 13)), torch.sum),
    OperatorCall("sum", "ops/sum.py", "sum", _a((1000,), dtype=torch.float64),
                 lambda x, dtype: torch.sum(x, dtype=dtype)),
    OperatorCall("mean", "ops/mean.py", "mean", _a((9, 7, 13)), torch.mean),
    OperatorCall("mv", "ops/mv.py", "mv", _a((13, 40), (40,)), torch.mv),
    OperatorCall("mv", "ops/mv.py", "mv", lambda g: ((rand(g, 40, 13).t(), rand(g, 40)), {}), torch.mv),
    # bias.broadcast_to((M, N)): a 2-d bias (the rank the lifted result assumes), full or with a dim of size 1
    OperatorCall("addmm", "ops/addmm.py", "addmm", _a((13, 17), (13, 40), (40, 17), beta=0.5, alpha=2.0),
                 lambda b, x, y, beta, alpha: torch.addmm(b, x, y, beta=beta, alpha=alpha)),
    OperatorCall("addmm", "ops/addmm.py", "addmm", _a((1, 17), (13, 40), (40, 17)), torch.addmm),
    OperatorCall("addmm", "ops/addmm.py", "addmm", _a((13, 1), (13, 40), (40, 17), alpha=-1.0),
                 lambda b, x, y, alpha: torch.addmm(b, x, y, alpha=alpha)),
    # hosts over tensors of symbolic rank (symbolic/host_rank.py): several ranks, each size-dependent launch
    *(OperatorCall("layer_norm", "ops/layernorm.py", "layer_norm", _norm_args(shape, k, affine), _layer_norm_ref)
      for shape, k in (((7, 40), 1), ((33,), 1), ((2, 3, 5, 8), 2), ((3, 200), 1), ((2, 5000), 1))
      for affine in ("", "w", "wb", "b")),
    *(OperatorCall("rms_norm", "ops/rms_norm.py", "rms_norm_forward", _norm_args(shape, k, "w"), _rms_norm_ref)
      for shape, k in (((7, 40), 1), ((33,), 1), ((2, 3, 5, 8), 2), ((2, 5000), 1))),
)


@pytest.mark.parametrize("case", OPERATOR_CALLS, ids=lambda c: f"{c.operator}-{c.host}")
def test_operator_level_torch_matches_pytorch(root: Path, case: OperatorCall) -> None:
    """The operator-level torch code (host code included: dispatch on None/strings, scalars, broadcasting)
    called as PyTorch's operator is called."""
    r = lifted_operator(root, case.file, case.host)
    if r.status != "verified":
        pytest.skip(f"{case.host} is {r.status} at operator level: {r.message}")
    assert r.torch, f"{case.host} is verified but has no torch code"
    ns: dict[str, Any] = {}
    exec(compile(r.torch, f"<lifted operator {case.host}>", "exec"), ns)
    g = torch.Generator().manual_seed(SEED)
    args, kwargs = case.args(g)
    got, want = ns[case.host](*args, **kwargs), case.ref(*args, **kwargs)
    if isinstance(want, tuple):  # several outputs (layer_norm's y, mean, rstd): each, same shape
        assert isinstance(got, tuple) and len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert a.shape == b.shape
            close(a, b)
    else:
        close(got, want)


def test_the_pointwise_operators_verify_at_operator_level(root: Path) -> None:
    """A floor for the operator-level skips above: every host of the table lifts to `verified` today."""
    bad = sorted({f"{c.host}: {r.status} {r.message}" for c in OPERATOR_CALLS
                  for r in [lifted_operator(root, c.file, c.host)] if r.status != "verified"})
    assert not bad, bad


def test_the_pointwise_operators_verify(root: Path) -> None:
    """A floor, so that the skips above cannot hide a regression: every pointwise scalar function of the
    table lifts to `verified` today."""
    bad = [f"{c.kernel}: {r.status} {r.message}" for c in POINTWISE
           for r in [lifted(root, c.file, c.kernel)] if r.status != "verified"]
    assert not bad, bad


@pytest.mark.parametrize("transposed_b", [False, True])
def test_mm_general(root: Path, transposed_b: bool) -> None:
    g = torch.Generator().manual_seed(SEED)
    a = rand(g, 37, 29)
    b = rand(g, 23, 29).T if transposed_b else rand(g, 29, 23)  # a column-major B: the strides carry it
    c = torch.full((37, 23), float("nan"))
    call(torch_fn(root, "ops/mm.py", "mm_kernel_general"), A=a, B=b, C=c, M=37, N=23, K=29,
         stride_am=a.stride(0), stride_ak=a.stride(1), stride_bk=b.stride(0), stride_bn=b.stride(1),
         stride_cm=c.stride(0), stride_cn=c.stride(1), BLOCK_M=16, BLOCK_N=8, BLOCK_K=8, GROUP_M=3)
    close(c, a @ b)


def test_mm_syrk(root: Path) -> None:
    g = torch.Generator().manual_seed(SEED)
    a = rand(g, 21, 13)
    c = torch.full((21, 21), float("nan"))
    call(torch_fn(root, "ops/mm.py", "mm_kernel_syrk"), A=a, C=c, M=21, K=13, stride_am=a.stride(0),
         stride_ak=a.stride(1), stride_cm=c.stride(0), stride_cn=c.stride(1), BLOCK_M=8, BLOCK_K=4)
    close(c, a @ a.T)
