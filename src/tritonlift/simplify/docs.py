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
        f"(float32's unit roundoff, {F32_RTOL:.3g}). When a rule consumes such a constant and `v != c`, the",
        "simplified formula is equal to the verified one only up to that rounding: the result lists the",
        "`approx_*` rule in `proof.rules`, and `formula_raw` (the z3-verified formula) keeps the exact constant.",
        "",
        "| rule | pattern name | value | note |",
        "|---|---|---|---|",
    ]
    for c in APPROX_CONSTANTS:
        lines.append(f"| {approx_rule_name(c)} | `{c.var}` | `{c.value!r}` | {c.doc} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "docs" / "rules.md"
    path.write_text(rules_markdown())
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
