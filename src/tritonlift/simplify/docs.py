"""Generate docs/rules.md from the rule table: `python -m tritonlift.simplify.docs [PATH]`."""

from __future__ import annotations

import sys
from pathlib import Path

from tritonlift.simplify.rules import APPROX_CONSTANTS, F32_RTOL, RULES, approx_rule_name

GROUP_TITLES = {
    "activations": "Activations and named elementwise operators",
    "selection": "Selection (where / minimum / maximum)",
    "exp_log": "exp / log algebra",
    "algebra": "Ring algebra (lines a kernel's spelling up with the patterns)",
    "rows": "Row operators (simplify/rows.py)",
}


def _cell(text: str) -> str:
    return "`" + text.replace("|", "\\|") + "`" if text else ""


def rules_markdown() -> str:
    lines = [
        "# Simplification rules",
        "",
        "Generated from `src/tritonlift/simplify/rules.py` by `python -m tritonlift.simplify.docs`; do not edit.",
        "Every rule is sound over the reals under its condition; `tests/test_simplify_rules.py` checks each on",
        "random inputs with the IR evaluator and proves it with z3 where z3 can (row rules: on unrolled rows).",
        "Pattern variables `a`, `b`, `c`, `d`, `s` stand for real terms; `x[i, k]` for any row body.",
        "",
    ]
    for group, title in GROUP_TITLES.items():
        lines += [f"## {title}", "", "| rule | rewrites | into | when | note |", "|---|---|---|---|---|"]
        for r in RULES:
            if r.group == group:
                when = ", ".join(r.when)
                lines.append(f"| {r.name} | {_cell(r.lhs)} | {_cell(r.rhs)} | {_cell(when)} | {r.doc} |")
        lines.append("")
    lines += [
        "## Constants recognised to float32 precision",
        "",
        f"A constant `v` in a kernel is read as the named value `c` when `|v - c| <= 2**-24 * |c|` "
        f"(float32's unit roundoff, {F32_RTOL:.3g}). When a rule consumes such a constant and `v` is not",
        "exactly the value a named operator's definition uses (`exact`: gelu's `1/sqrt(2)` is PyTorch's float64",
        "value; `sqrt(2)`, `log2(e)`, `ln(2)` are irrational, which no float is), the simplified formula is equal",
        "to the verified one only up to that rounding: the result lists the `approx_*` rule in `proof.rules`,",
        "and `formula_raw` (the z3-verified formula) keeps the constant as written. `--expect` of such a shown",
        "formula may come back `unknown`: z3 sees the difference in the last bits.",
        "",
        "| rule | pattern name | value | exact | note |",
        "|---|---|---|---|---|",
    ]
    for c in APPROX_CONSTANTS:
        exact = "when written as this value" if c.in_definition else "never"
        lines.append(f"| {approx_rule_name(c)} | `{c.var}` | `{c.value!r}` | {exact} | {c.doc} |")
    lines += [
        "",
        "## Whole-tensor notation (ir/tensor_form.py)",
        "",
        "After the rules, an assignment whose every read indexes a whole tensor by the output's own indices",
        "(extents equal, or equal under the result's assumptions such as `x.shape == y.shape`) is shown as a",
        "whole-tensor expression; otherwise it stays indexed. These are notations, not rewrites: each reads",
        "back (`--expect`) into exactly the indexed formula, and the torch code computes it with the PyTorch",
        "call shown (`tests/test_ir_tensor_form.py`, `tests/test_ir_torch.py`).",
        "",
        "| indexed | shown | PyTorch |",
        "|---|---|---|",
    ]
    for indexed, shown, torch in NOTATIONS:
        lines.append(f"| {_cell(indexed)} | {_cell(shown)} | {_cell(torch)} |")
    return "\n".join(lines) + "\n"


NOTATIONS = (
    ("out[i, j] = x[i, j] + b[j] * s[i]", "out = x + b * s[:, None]", "x + b * s[:, None]"),
    ("out[i, j] = x[j, i]", "out = x.T", "x.T"),
    ("out[i] = sum(x[i, k] for k in range(n))", "out = x.sum(dim=1)", "torch.sum(x, dim=1)"),
    ("out[i] = max(x[k, i] for k in range(m))", "out = x.amax(dim=0)", "x.amax(dim=0), -inf on an empty dim"),
    ("out[i] = variance(x[i, k] for k in range(n))", "out = x.var(dim=1, correction=0)", "torch.var(x, dim=1, correction=0)"),
    ("out[i] = std(x[i, k] for k in range(n))", "out = x.std(dim=1, correction=0)", "torch.std(x, dim=1, correction=0)"),
    ("out[i, j] = softmax(x[i, k] for k in range(n))[j]", "out = softmax(x, dim=1)", "torch.softmax(x, dim=1)"),
    ("out[i, j] = normalize((x[i, k] for k in range(n)), e)[j]", "out = normalize(x, dim=1, eps=e)", "torch.nn.functional.normalize(x, p=2.0, dim=1, eps=e)"),
    ("out[i, j] = layer_norm((x[i, k] for k in range(n)), e)[j] * w[j] + b[j]", "out = layer_norm(x, (n,), weight=w, bias=b, eps=e)", "torch.nn.functional.layer_norm(x, (n,), w, b, eps=e)"),
    ("out[i, j] = rms_norm((x[i, k] for k in range(n)), e)[j] * w[j]", "out = rms_norm(x, (n,), weight=w, eps=e)", "torch.nn.functional.rms_norm(x, (n,), w, eps=e)"),
    ("out[i, j] = sum(A[i, k] * B[k, j] for k in range(K))", "out = A @ B", "A @ B (also A @ v, v @ A, u @ v)"),
    ("o = as_strided(o_ptr, (M,), (1,)); o[i] = x[i] + 1.0", "o_ptr.view(M) = ...", "a kernel's view of its pointer's memory in C order, shown inline"),
)  # fmt: skip


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "docs" / "rules.md"
    path.write_text(rules_markdown())
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
