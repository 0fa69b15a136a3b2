"""On the H200: FlagGems' stream-K host `streamk_mm` (its first-wave kernels with spin locks, then classic_mm)
run for real, against the lifted torch code (tritonlift's operator-level result)."""
import json
import sys

import torch

sys.path.insert(0, "gpucheck")  # flag_gems sources and lifted_streamk.json copied there (not in git)
import flag_gems  # noqa: E402,F401
from flag_gems.ops.mm_streamk import streamk_mm  # noqa: E402

lifted = json.load(open("gpucheck/lifted_streamk.json"))["results"][0]
ns: dict = {}
exec(lifted["torch"], ns)
lifted_fn = ns["streamk_mm"]
sms = torch.cuda.get_device_properties(0).multi_processor_count
rows = []
torch.manual_seed(0)
cases = [(1000, 1000, 1000), (2048, 2048, 512), (640, 1280, 384), (1500, 700, 200), (128, 128, 128),
         (4096, 1024, 1111), (300, 5000, 64), (2000, 2000, 2048)]
for dtype in (torch.float16, torch.bfloat16):
    for M, N, K in cases:
        for sm in (sms, 108, 7):
            a = torch.randn(M, K, device="cuda", dtype=dtype)
            b = torch.randn(K, N, device="cuda", dtype=dtype)
            tiles = ((M + 127) // 128) * ((N + 127) // 128)
            ncoop = tiles % sm
            c1 = torch.empty(M, N, device="cuda", dtype=dtype)
            try:
                got = streamk_mm(a, b, c1, M, N, K, sm_count=sm)
                torch.cuda.synchronize()
                err = ""
            except Exception as e:  # noqa: BLE001
                got, err = None, f"{type(e).__name__}: {e}"[:120]
            want = lifted_fn(a, b, torch.empty(M, N, device="cuda", dtype=dtype), M, N, K, sm_count=sm)
            ref = (a.float() @ b.float())
            if got is None:
                rows.append((str(dtype), M, N, K, sm, ncoop, "flag_gems failed", "", "", err))
                continue
            d_lift = (got.float() - want.float()).abs().max().item()
            d_ref = (got.float() - ref).abs().max().item()
            scale = ref.abs().max().item()
            ok = torch.allclose(got.float(), want.float(), rtol=2e-2, atol=2e-2 * max(1.0, scale) / 10)
            rows.append((str(dtype), M, N, K, sm, ncoop, "agree" if ok else "DIFFER", f"{d_lift:.3g}",
                         f"{d_ref:.3g}", ""))
print("| dtype | M | N | K | sm_count | cooperative tiles | lifted vs FlagGems | max diff | max diff to fp32 | error |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    print("| " + " | ".join(str(x) for x in r) + " |")
print("agree", sum(r[6] == "agree" for r in rows), "of", len(rows))
