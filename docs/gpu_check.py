"""On a CUDA machine: the real FlagGems operators (flag_gems 5.0.2, its Triton kernels on the GPU) against the
lifted torch code (lifted.json, exported by tritonlift on a CPU machine), same random float32 inputs."""

import inspect
import json
import math
import os
import time

import torch
import torch.nn.functional as F

OUT = os.environ.get("OUT", ".")
dev = "cuda"
lifted = json.load(open(os.path.join(os.path.dirname(__file__), "lifted.json")))
rows = []
START = time.time()
DEADLINE = float(os.environ.get("GPU_DEADLINE", "1e9"))  # seconds; later checks are listed as not run


def late():
    return time.time() - START > DEADLINE


def fn(name):
    ns = {}
    exec(compile(lifted[name], f"<lifted {name}>", "exec"), ns)
    return ns[name.removeprefix("op:")]


def call(f, **kw):
    return f(**{p: kw[p] for p in inspect.signature(f).parameters})


def r(*shape, lo=-3.0, hi=3.0):
    return torch.rand(*shape, device=dev) * (hi - lo) + lo


def diff(a, b):
    a, b = a.float(), b.float()
    return float((a - b).abs().max()) if a.numel() else 0.0


def record(op, kernels, fg_fn, lifted_fn, torch_fn):
    if late():
        rows.append((op, ", ".join(kernels), "not run (time limit of the run)", "", "", ""))
        return
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

# -- kernels verified since the first check: softmax, log_softmax, prod, layer/rms norm loops, matmuls ----------
from flag_gems.runtime.backend._nvidia import heuristics_config_utils as heur  # FlagGems' own constexpr choices


def lifted_softmax_inner(xx):
    m, n = xx.shape
    out = torch.full_like(xx, float("nan"))
    tn = heur.softmax_heur_tile_n_inner({"N": n})
    call(fn("softmax_kernel_inner"), output_ptr=out, input_ptr=xx, M=m, N=n, TILE_N=tn, ONE_TILE_PER_CTA=tn >= n,
         grid=(m,))
    return out


for shape in [(33, 5000), (4, 40000)]:  # one tile per row; TILE_N = 4096 with a loop and a reversed sweep
    xs = r(*shape)
    record(f"softmax inner {shape}", ["softmax_kernel_inner"], lambda xs=xs: torch.softmax(xs, dim=1),
           lambda xs=xs: lifted_softmax_inner(xs), lambda xs=xs: torch.softmax(xs, dim=1))


def lifted_softmax_non_inner(xx):
    m, n, k = xx.shape
    out = torch.full_like(xx, float("nan"))
    tk = heur.softmax_heur_tile_k({"M": m, "N": n, "K": k})
    tn = heur.softmax_heur_tile_n_non_inner({"TILE_K": tk})
    call(fn("softmax_kernel_non_inner"), output_ptr=out, input_ptr=xx, M=m, N=n, K=k, TILE_N=tn, TILE_K=tk,
         ONE_TILE_PER_CTA=tn >= n, grid=(m, cdiv(k, tk)))
    return out


for shape in [(8, 300, 5), (2, 3000, 7)]:  # one tile along N; several tiles (loop, reversed sweep)
    xs = r(*shape)
    record(f"softmax dim=1 of 3-d {shape}", ["softmax_kernel_non_inner"], lambda xs=xs: torch.softmax(xs, dim=1),
           lambda xs=xs: lifted_softmax_non_inner(xs), lambda xs=xs: torch.softmax(xs, dim=1))


def lifted_log_softmax(xx):
    m, n, k = xx.shape
    out = torch.full_like(xx, float("nan"))
    call(fn("log_softmax_kernel"), output_ptr=out, input_ptr=xx, M=m, N=n, K=k, BLOCK_M=8, BLOCK_N=256,
         grid=(cdiv(m, 8), k))
    return out


xs3 = r(9, 700, 3)
record("log_softmax dim=1 of 3-d", ["log_softmax_kernel"], lambda: torch.log_softmax(xs3, dim=1),
       lambda: lifted_log_softmax(xs3), lambda: torch.log_softmax(xs3, dim=1))

pm = r(33, 200, lo=0.95, hi=1.05)


def lifted_prod_dim():
    out = torch.full((33,), float("nan"), device=dev)
    call(fn("prod_kernel"), inp=pm, out=out, M=33, N=200, BLOCK_M=4, BLOCK_N=64, grid=(cdiv(33, 4),))
    return out


record("prod (last dim)", ["prod_kernel"], lambda: torch.prod(pm, dim=1), lifted_prod_dim, lambda: torch.prod(pm, dim=1))

xl = r(16, 3000)
wl, bl = r(3000), r(3000)


def lifted_ln_loop():
    out = torch.full_like(xl, float("nan"))
    mean, rstd = torch.full((16,), float("nan"), device=dev), torch.full((16,), float("nan"), device=dev)
    call(fn("layer_norm_loop_kernel"), in_ptr=xl, out_ptr=out, weight_ptr=wl, bias_ptr=bl, out_mean_ptr=mean,
         out_rstd_ptr=rstd, M=16, N=3000, eps=1e-5, TILE_N=1024, grid=(16,))
    return out


record("layer_norm (tile loop)", ["layer_norm_loop_kernel"], lambda: F.layer_norm(xl, (3000,), wl, bl, eps=1e-5),
       lifted_ln_loop, lambda: F.layer_norm(xl, (3000,), wl, bl, eps=1e-5))
xs_ml = r(40, 100)
w100, b100 = r(100), r(100)


def lifted_ln_multiline():
    out = torch.full_like(xs_ml, float("nan"))
    mean, rstd = torch.full((40,), float("nan"), device=dev), torch.full((40,), float("nan"), device=dev)
    call(fn("layer_norm_persistent_kernel_multiline"), in_ptr=xs_ml, out_ptr=out, weight_ptr=w100, bias_ptr=b100,
         out_mean_ptr=mean, out_rstd_ptr=rstd, M=40, N=100, eps=1e-5, TILE_M=8, TILE_N=128, grid=(cdiv(40, 8),))
    return out


record("layer_norm (several rows per program)", ["layer_norm_persistent_kernel_multiline"],
       lambda: F.layer_norm(xs_ml, (100,), w100, b100, eps=1e-5), lifted_ln_multiline,
       lambda: F.layer_norm(xs_ml, (100,), w100, b100, eps=1e-5))


def lifted_rms_loop():
    out, inv = torch.full_like(xl, float("nan")), torch.full((16,), float("nan"), device=dev)
    call(fn("rms_norm_loop_kernel"), out_ptr=out, INV_RMS=inv, in_ptr=xl, w_ptr=wl, N=3000, eps=1e-5, TILE_N=1024,
         grid=(16,))
    return out


record("rms_norm (tile loop)", ["rms_norm_loop_kernel"], lambda: F.rms_norm(xl, (3000,), wl, eps=1e-5),
       lifted_rms_loop, lambda: F.rms_norm(xl, (3000,), wl, eps=1e-5))

ma, mb = r(300, 200), r(200, 170)
torch.backends.cuda.matmul.allow_tf32 = False


def lifted_mm():
    out = torch.full((300, 170), float("nan"), device=dev)
    call(fn("mm_kernel_general"), A=ma, B=mb, C=out, M=300, N=170, K=200, stride_am=200, stride_ak=1,
         stride_bk=170, stride_bn=1, stride_cm=170, stride_cn=1, BLOCK_M=64, BLOCK_N=64, BLOCK_K=32, GROUP_M=8)
    return out


record("mm", ["mm_kernel_general"], lambda: torch.mm(ma, mb), lifted_mm, lambda: torch.mm(ma, mb))


def lifted_syrk():
    out = torch.full((300, 300), float("nan"), device=dev)
    call(fn("mm_kernel_syrk"), A=ma, C=out, M=300, K=200, stride_am=200, stride_ak=1, stride_cm=300, stride_cn=1,
         BLOCK_M=64, BLOCK_K=32)
    return out


record("mm (a @ a.T)", ["mm_kernel_syrk"], lambda: torch.mm(ma, ma.T), lifted_syrk, lambda: torch.mm(ma, ma.T))
ba, bb = r(3, 70, 50), r(3, 50, 90)


def lifted_bmm():
    out = torch.full((3, 70, 90), float("nan"), device=dev)
    tm, tn, tk = 32, 32, 32
    call(fn("bmm_kernel"), A=ba, B=bb, O=out, M=70, N=90, K=50, stride_ab=70 * 50, stride_am=50, stride_ak=1,
         stride_bb=50 * 90, stride_bn=1, stride_bk=90, stride_ob=70 * 90, stride_om=90, stride_on=1,
         TILE_M=tm, TILE_N=tn, TILE_K=tk, GROUP_M=1, DIVISIBLE_M=70 % tm == 0, DIVISIBLE_N=90 % tn == 0,
         DIVISIBLE_K=50 % tk == 0, grid=(cdiv(70, tm), cdiv(90, tn), 3))
    return out


record("bmm", ["bmm_kernel"], lambda: torch.bmm(ba, bb), lifted_bmm, lambda: torch.bmm(ba, bb))
ai, i2 = r(300, 170), r(300, 170)


def lifted_addmm_kernel():
    out = torch.full((300, 170), float("nan"), device=dev)
    call(fn("addmm_kernel"), a_ptr=ma, b_ptr=mb, i_ptr=i2, c_ptr=out, alpha=0.5, beta=2.0, M=300, N=170, K=200,
         stride_am=200, stride_ak=1, stride_bk=170, stride_bn=1, stride_im=170, stride_in=1, stride_cm=170,
         stride_cn=1, BLOCK_SIZE_M=64, BLOCK_SIZE_N=64, BLOCK_SIZE_K=32)
    return out


record("addmm (kernel)", ["addmm_kernel"], lambda: torch.addmm(i2, ma, mb, beta=2.0, alpha=0.5),
       lifted_addmm_kernel, lambda: torch.addmm(i2, ma, mb, beta=2.0, alpha=0.5))

# -- operator level: FlagGems' own host function and the lifted one (host code included), same arguments ---------
import importlib  # noqa: E402

x3 = r(4, 6, 257)
lo_t, hi_t = r(64, 257, lo=-1.0, hi=0.0), r(64, 257, lo=0.0, hi=1.0)
OPERATOR_CALLS = {  # host name: (module, [argument tuples, keyword dicts])
    "abs": ("ops.abs", [((x,), {})]), "neg": ("ops.neg", [((x,), {})]), "exp": ("ops.exp", [((x,), {})]),
    "log": ("ops.log", [((p,), {})]), "sqrt": ("ops.sqrt", [((p,), {})]), "rsqrt": ("ops.rsqrt", [((p,), {})]),
    "sin": ("ops.sin", [((x,), {})]), "tanh": ("ops.tanh", [((x,), {})]), "sigmoid": ("ops.sigmoid", [((x,), {})]),
    "silu": ("ops.silu", [((x,), {})]), "relu": ("ops.relu", [((x,), {})]),
    "gelu": ("ops.gelu", [((x,), {}), ((x,), {"approximate": "tanh"})]),
    "clamp": ("ops.clamp", [((x, -0.5, 1.5), {}), ((x, None, 1.5), {}), ((x, -0.5), {})]),
    "clamp_tensor": ("ops.clamp", [((x, lo_t, hi_t), {})]),
    "add": ("ops.add", [((x, yb), {"alpha": 0.5})]),  # B a tensor: the lifted result assumes it
    "sub": ("ops.sub", [((x, yb), {"alpha": 2.0})]), "mul": ("ops.mul", [((x, yb), {})]),
    "true_divide": ("ops.div", [((x, nz), {})]), "maximum": ("ops.maximum", [((x, yb), {})]),
    "pow_tensor_tensor": ("ops.pow", [((p, y), {})]), "pow_tensor_scalar": ("ops.pow", [((p, 2.5), {})]),
    "pow_scalar": ("ops.pow", [((2.0, y), {})]), "silu_and_mul": ("fused.silu_and_mul", [((x, y), {})]),
    "sum": ("ops.sum", [((flat,), {}), ((x3,), {})]), "mean": ("ops.mean", [((flat,), {}), ((x3,), {})]),
    "prod": ("ops.prod", [((r(3000, lo=0.99, hi=1.01),), {})]),
    "log_softmax": ("ops.log_softmax", [((x, 1), {}), ((x3, 1), {}), ((x3, -1), {})]),
    "layer_norm": ("ops.layernorm", [((xr, [1000], w, b, 1e-5), {}), ((xl, [3000], None, None, 1e-5), {}),
                                     ((x3, [6, 257], None, r(6, 257), 1e-5), {})]),
    "rms_norm_forward": ("ops.rms_norm", [((xr, [1000], w, 1e-5), {}), ((x3, [257], r(257), 1e-6), {})]),
    "addmm": ("ops.addmm", [((i2, ma, mb), {"beta": 2.0, "alpha": 0.5})]),
    "mv": ("ops.mv", [((A, v), {})]),
    "zero_": ("ops.zeros", [((r(100),), {})]),
    "softmax": ("ops.softmax", [((x, 1), {}), ((x3, 1), {}), ((x3, -1), {}), ((r(4, 40000), 1), {}),
                                ((r(0, 5), 1), {})]),
    "amax": ("ops.amax", [((x3,), {}), ((x3,), {"keepdim": True})]),
    "bmm": ("ops.bmm", [((ba, bb), {})]),
    "general_mm": ("ops.mm", [((ma, mb, torch.full((300, 170), float("nan"), device=dev), 300, 170, 200), {})]),
    "syrk_mm": ("ops.mm", [((ma, torch.full((300, 300), float("nan"), device=dev), 300, 200), {})]),
}


def as_tuple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


for host, (module, calls) in OPERATOR_CALLS.items():
    for k, (args, kwargs) in enumerate(calls):
        label = f"{host} (operator level, call {k + 1})"
        if late():
            rows.append((label, host, "not run (time limit of the run)", "", "", ""))
            continue
        if "op:" + host not in lifted:
            rows.append((label, host, "not verified at operator level", "", "", ""))
            continue
        try:
            fg_fn = getattr(importlib.import_module(f"flag_gems.{module}"), host)
            fresh = lambda a: a.clone() if isinstance(a, torch.Tensor) else a  # noqa: E731 (in-place hosts)
            got_fg = as_tuple(fg_fn(*[fresh(a) for a in args], **kwargs))
            torch.cuda.synchronize()
            got_l = as_tuple(fn("op:" + host)(*[fresh(a) for a in args], **kwargs))
        except Exception as e:
            rows.append((label, host, f"raised {type(e).__name__}: {str(e).splitlines()[0][:120]}", "", "", ""))
            continue
        pairs = [(a, b) for a, b in zip(got_l, got_fg) if isinstance(a, torch.Tensor)]
        ok = len(got_l) == len(got_fg) and all(
            a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-4, equal_nan=True)
            for a, b in pairs)
        worst = max((diff(a, b) for a, b in pairs if a.shape == b.shape), default=0.0)
        rows.append((label, host, "agree" if ok else "DIFFER", f"{worst:.2e}", "", ""))


head = ["operator", "lifted kernels", "lifted vs FlagGems", "max |lifted - FlagGems|", "max |lifted - torch|",
        "FlagGems error"]
lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
text = "\n".join(lines) + "\n"
print(text)
open(os.path.join(OUT, "table.md"), "w").write(text)
