"""On a CUDA machine: the real FlagGems operators (flag_gems 5.0.2, its Triton kernels on the GPU) against the
lifted torch code (lifted.json, exported by tritonlift on a CPU machine), same random float32 inputs."""

import inspect
import json
import math
import os
import sys
import traceback

import torch
import torch.nn.functional as F

OUT = os.environ.get("OUT", ".")
dev = "cuda"
lifted = json.load(open(os.path.join(os.path.dirname(__file__), "lifted.json")))
rows = []


def fn(name):
    ns = {}
    exec(compile(lifted[name], f"<lifted {name}>", "exec"), ns)
    return ns[name]


def call(f, **kw):
    return f(**{p: kw[p] for p in inspect.signature(f).parameters})


def r(*shape, lo=-3.0, hi=3.0):
    return torch.rand(*shape, device=dev) * (hi - lo) + lo


def diff(a, b):
    a, b = a.float(), b.float()
    return float((a - b).abs().max()) if a.numel() else 0.0


def record(op, kernels, fg_fn, lifted_fn, torch_fn):
    try:
        import flag_gems

        with flag_gems.use_gems():
            got_fg = fg_fn()
        torch.cuda.synchronize()
    except Exception as e:
        got_fg, fg_err = None, f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    else:
        fg_err = ""
    missing = [k for k in kernels if k not in lifted]
    if missing:
        rows.append((op, ", ".join(kernels), "not verified: " + ", ".join(missing), "", "", fg_err))
        return
    try:
        got_l = lifted_fn()
        ref = torch_fn()
    except Exception as e:
        rows.append((op, ", ".join(kernels), f"lifted code raised {type(e).__name__}: {e}"[:160], "", "", fg_err))
        return
    d_fg = "" if got_fg is None else f"{diff(got_l, got_fg):.2e}"
    d_t = f"{diff(got_l, ref):.2e}"
    ok = got_fg is not None and torch.allclose(got_l.float(), got_fg.float(), rtol=1e-4, atol=1e-4, equal_nan=True)
    rows.append((op, ", ".join(kernels), "agree" if ok else ("DIFFER" if got_fg is not None else "flag_gems failed"),
                 d_fg, d_t, fg_err))


torch.manual_seed(0)
x, y, yb, p = r(64, 257), r(64, 257), r(257), r(64, 257, lo=0.1, hi=4.0)
nz = torch.where(y.abs() < 0.1, torch.full_like(y, 0.5), y)
unary = [
    ("abs", "abs_func", x, torch.abs), ("neg", "neg_func", x, torch.neg), ("exp", "exp_func", x, torch.exp),
    ("log", "log_func", p, torch.log), ("sqrt", "sqrt_func", p, torch.sqrt), ("rsqrt", "rsqrt_func", p, torch.rsqrt),
    ("sin", "sin_func", x, torch.sin), ("tanh", "tanh_kernel", x, torch.tanh),
    ("sigmoid", "sigmoid_forward", x, torch.sigmoid), ("silu", "silu_forward", x, F.silu),
    ("gelu", "gelu_none", x, F.gelu), ("relu", "relu_forward", x, torch.relu),
]
for op, k, a, t in unary:
    record(op, [k], lambda: t(a), lambda: fn(k)(a), lambda: t(a))
record("gelu (tanh)", ["gelu_tanh"], lambda: F.gelu(x, approximate="tanh"), lambda: fn("gelu_tanh")(x),
       lambda: F.gelu(x, approximate="tanh"))
record("clamp", ["clamp_func"], lambda: torch.clamp(x, -0.5, 1.5), lambda: fn("clamp_func")(x, -0.5, 1.5),
       lambda: torch.clamp(x, -0.5, 1.5))
record("add", ["add_func"], lambda: torch.add(x, yb, alpha=0.5), lambda: fn("add_func")(x, yb, 0.5),
       lambda: torch.add(x, yb, alpha=0.5))
record("sub", ["sub_func"], lambda: torch.sub(x, yb, alpha=2.0), lambda: fn("sub_func")(x, yb, 2.0),
       lambda: torch.sub(x, yb, alpha=2.0))
record("mul", ["mul_func"], lambda: torch.mul(x, yb), lambda: fn("mul_func")(x, yb), lambda: torch.mul(x, yb))
record("true_divide", ["true_div_func"], lambda: torch.true_divide(x, nz), lambda: fn("true_div_func")(x, nz),
       lambda: torch.true_divide(x, nz))
record("pow", ["pow_func"], lambda: torch.pow(p, y), lambda: fn("pow_func")(p, y), lambda: torch.pow(p, y))
record("maximum", ["maximum_kernel"], lambda: torch.maximum(x, yb), lambda: fn("maximum_kernel")(x, yb),
       lambda: torch.maximum(x, yb))
c = x > 0
record("where", ["where_inner"], lambda: torch.where(c, x, yb), lambda: fn("where_inner")(c, x, yb),
       lambda: torch.where(c, x, yb))


def silu_and_mul_fg():
    import flag_gems

    return flag_gems.silu_and_mul(x, y)


record("silu_and_mul", ["silu_and_mul_kernel"], silu_and_mul_fg, lambda: fn("silu_and_mul_kernel")(x, y),
       lambda: F.silu(x) * y)


def np2(n):
    return 1 << (n - 1).bit_length() if n > 0 else 1


def cdiv(a, b):
    return -(-a // b)


def two_stage(first, second, v, mean):
    m = v.numel()
    block = np2(math.ceil(math.sqrt(m)))
    mid_size = cdiv(m, block)
    mid = torch.full((mid_size,), float("nan"), device=dev)
    out = torch.full((), float("nan"), device=dev)
    call(fn(first), inp=v, mid=mid, M=m, BLOCK_SIZE=block, grid=(mid_size, 1, 1))
    extra = {"M": m, "MID_SIZE": mid_size} if mean else {"mid_size": mid_size}
    call(fn(second), mid=mid, out=out, BLOCK_MID=np2(mid_size), grid=(1, 1, 1), **extra)
    return out


flat = r(100_003)
for op, k1, k2, t in [("sum", "sum_kernel_1", "sum_kernel_2", torch.sum), ("mean", "mean_kernel_1", "mean_kernel_2",
                      torch.mean), ("amax", "amax_kernel_1", "amax_kernel_2", torch.amax)]:
    record(f"{op} (all elements)", [k1, k2], lambda t=t: t(flat), lambda k1=k1, k2=k2, op=op: two_stage(
        k1, k2, flat, op == "mean"), lambda t=t: t(flat))

m3 = r(8, 300, 5)
for op, k, t in [("sum", "sum_dim_kernel_non_inner", torch.sum), ("mean", "mean_dim_kernel_non_inner", torch.mean)]:
    def lifted_non_inner(k=k):
        out = torch.full((8, 5), float("nan"), device=dev)
        tk = 4
        tn = cdiv(8192, tk)
        call(fn(k), output_ptr=out, input_ptr=m3, M=8, N=300, K=5, TILE_N=tn, TILE_K=tk, ONE_TILE_PER_CTA=tn >= 300,
             grid=(8, cdiv(5, tk)))
        return out
    record(f"{op} (dim=1 of 3-d)", [k], lambda t=t: t(m3, dim=1), lifted_non_inner, lambda t=t: t(m3, dim=1))

m2 = r(33, 5000)
for op, k, t in [("sum", "sum_dim_kernel_inner", torch.sum), ("mean", "mean_dim_kernel_inner", torch.mean)]:
    def lifted_inner(k=k):
        out = torch.full((33,), float("nan"), device=dev)
        tn = np2(5000)
        call(fn(k), output_ptr=out, input_ptr=m2, M=33, N=5000, TILE_N=tn, ONE_TILE_PER_CTA=tn >= 5000, grid=(33,))
        return out
    record(f"{op} (last dim)", [k], lambda t=t: t(m2, dim=1), lifted_inner, lambda t=t: t(m2, dim=1))


def lifted_amax_dim():
    out = torch.full((33,), float("nan"), device=dev)
    call(fn("amax_kernel"), inp=m2, out=out, M=33, N=5000, BLOCK_M=4, BLOCK_N=512, grid=(cdiv(33, 4),))
    return out


record("amax (last dim)", ["amax_kernel"], lambda: torch.amax(m2, dim=1), lifted_amax_dim, lambda: torch.amax(m2, dim=1))

A, v = r(200, 300), r(300)


def lifted_mv():
    out = torch.full((200,), float("nan"), device=dev)
    call(fn("mv_kernel"), A=A, B=v, C=out, N=200, M=300, stride_an=300, stride_am=1, stride_bm=1, stride_cn=1,
         BLOCK_N=32, BLOCK_M=64, grid=(cdiv(200, 32),))
    return out


record("mv", ["mv_kernel"], lambda: torch.mv(A, v), lifted_mv, lambda: torch.mv(A, v))

xr, w, b = r(16, 1000), r(1000), r(1000)


def lifted_rms():
    out, inv = torch.full((16, 1000), float("nan"), device=dev), torch.full((16,), float("nan"), device=dev)
    call(fn("rms_norm_kernel"), out_ptr=out, INV_RMS=inv, in_ptr=xr, w_ptr=w, y_stride_r=1000, y_stride_c=1,
         x_stride_r=1000, x_stride_c=1, N=1000, eps=1e-5, BLOCK_SIZE=1024, grid=(16,))
    return out


record("rms_norm", ["rms_norm_kernel"], lambda: F.rms_norm(xr, (1000,), w, eps=1e-5), lifted_rms,
       lambda: F.rms_norm(xr, (1000,), w, eps=1e-5))


def lifted_ln():
    out = torch.full((16, 1000), float("nan"), device=dev)
    mean, rstd = torch.full((16,), float("nan"), device=dev), torch.full((16,), float("nan"), device=dev)
    call(fn("layer_norm_persistent_kernel"), in_ptr=xr, out_ptr=out, weight_ptr=w, bias_ptr=b, out_mean_ptr=mean,
         out_rstd_ptr=rstd, M=16, N=1000, eps=1e-5, TILE_N=1024, grid=(16,))
    return out


record("layer_norm", ["layer_norm_persistent_kernel"], lambda: F.layer_norm(xr, (1000,), w, b, eps=1e-5), lifted_ln,
       lambda: F.layer_norm(xr, (1000,), w, b, eps=1e-5))

head = ["operator", "lifted kernels", "lifted vs FlagGems", "max |lifted - FlagGems|", "max |lifted - torch|",
        "FlagGems error"]
lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
text = "\n".join(lines) + "\n"
print(text)
open(os.path.join(OUT, "table.md"), "w").write(text)
