"""report.html: one self-contained page (inline CSS and JS, nothing fetched) for any bench report.

The summary comes first, then the failure reasons (when the report has them), then one sortable table with a
row per operator (or jit function); clicking a row opens its details: every result's formula, assumptions,
PyTorch code, counterexample and message. Every text from the report is HTML-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from tritonlift.result import STAGES

STATUSES = ("verified", "refuted", "unknown", "unsupported", "error")
STAGE_COLUMNS = [s for s in STAGES if s != "total"]

CSS = """
:root { --verified:#1a7f37; --refuted:#cf222e; --unknown:#9a6700; --unsupported:#8250df; --error:#a40e26; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #1f2328; }
h1 { font-size: 1.5em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.4em 0 .5em; }
.meta { color: #57606a; margin-bottom: 1em; }
.cards { display: flex; flex-wrap: wrap; gap: .6em; margin: .6em 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .4em .8em; min-width: 6em; }
.card b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d8dee4; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; cursor: pointer; user-select: none; white-space: nowrap; }
th.sorted-asc::after { content: " \\25B2"; } th.sorted-desc::after { content: " \\25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
td.formula { min-width: 26em; max-width: 60em; }
td.formula code { white-space: pre-wrap; word-break: break-word; }
td.reason { color: #57606a; min-width: 22em; max-width: 40em; word-break: break-word; }
td.name { max-width: 16em; word-break: break-word; } td.file { max-width: 16em; word-break: break-all; }
pre { background: #f6f8fa; padding: .6em; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
.status { font-weight: 600; padding: 0 .4em; border-radius: 4px; color: #fff; white-space: nowrap; }
.s-verified { background: var(--verified); } .s-refuted { background: var(--refuted); }
.s-unknown { background: var(--unknown); } .s-unsupported { background: var(--unsupported); }
.s-error { background: var(--error); } .s-none { background: #8c959f; }
tr.main { cursor: pointer; } tr.main:hover { background: #f6f8fa; }
tr.details { display: none; } tbody.open tr.details { display: table-row; }
tr.details > td { background: #fbfcfd; }
.result { border-left: 3px solid #d0d7de; padding: .2em .8em; margin: .5em 0; }
.scope { color: #9a6700; font-size: .9em; }
.muted { color: #57606a; }
#filter { padding: .3em .5em; width: 22em; margin: .4em 0; }
.kl { margin: 0 0 .25em; } .kl:last-child { margin-bottom: 0; }
.kname { color: #57606a; font-size: .92em; }
.kl code { white-space: pre-wrap; word-break: break-word; display: block; margin-left: .8em; }
.kl .why { color: #57606a; display: block; margin-left: .8em; word-break: break-word; }
td.kernels { min-width: 26em; max-width: 48em; }
td.oplevel { min-width: 14em; max-width: 28em; }
.bar { display: flex; width: 9em; height: .9em; background: #eaeef2; border-radius: 3px; overflow: hidden;
       margin-top: .25em; }
.bar span { display: block; height: 100%; }
.st-frontend { background: #8c959f; } .st-symbolic { background: #0969da; } .st-synthesis { background: #bf8700; }
.st-verification { background: #1a7f37; } .st-simplification { background: #8250df; }
.legend span.sw { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin: 0 .25em 0 .8em;
                  vertical-align: -.05em; }
"""

JS = """
(function () {
  const table = document.getElementById('ops');
  if (!table) return;
  const heads = table.tHead.rows[0].cells;
  function key(tbody, col) {
    const cell = tbody.rows[0].cells[col];
    const v = cell.getAttribute('data-sort');
    const text = v !== null ? v : cell.textContent.trim();
    const n = parseFloat(text);
    return (text !== '' && !isNaN(n) && isFinite(text)) ? n : text.toLowerCase();
  }
  for (let c = 0; c < heads.length; c++) {
    heads[c].addEventListener('click', function () {
      const asc = !heads[c].classList.contains('sorted-asc');
      for (const h of heads) h.classList.remove('sorted-asc', 'sorted-desc');
      heads[c].classList.add(asc ? 'sorted-asc' : 'sorted-desc');
      const bodies = Array.from(table.tBodies);
      bodies.sort(function (a, b) {
        const x = key(a, c), y = key(b, c);
        if (typeof x === typeof y) return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        return (typeof x === 'number' ? -1 : 1) * (asc ? 1 : -1);
      });
      for (const b of bodies) table.appendChild(b);
    });
  }
  for (const body of table.tBodies) {
    body.rows[0].addEventListener('click', function () { body.classList.toggle('open'); });
  }
  const filter = document.getElementById('filter');
  if (filter) filter.addEventListener('input', function () {
    const q = filter.value.toLowerCase();
    for (const body of table.tBodies) {
      body.style.display = body.rows[0].textContent.toLowerCase().includes(q) ? '' : 'none';
    }
  });
})();
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _status(status: str | None) -> str:
    if not status:
        return '<span class="status s-none">—</span>'
    return f'<span class="status s-{_e(status)}">{_e(status)}</span>'


def _secs(value: float) -> str:
    return f"{value:.3f}"


def _stage_seconds(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    out = {s: 0.0 for s in STAGES}
    for r in results:
        for k, v in r.get("seconds", {}).items():
            out[k] = out.get(k, 0.0) + float(v)
    return out


def _summary_cards(summary: dict[str, Any]) -> str:
    cards = [f'<div class="card">operators<b>{_e(summary.get("operators", 0))}</b></div>']
    for s in STATUSES:
        cards.append(f'<div class="card">{_status(s)}<b>{_e(summary.get(s, 0))}</b></div>')
    cards.append(f'<div class="card">wall seconds<b>{_e(_secs(summary.get("seconds", 0.0)))}</b></div>')
    cards.append(f'<div class="card">median s / thing<b>{_e(summary.get("median_seconds", 0.0))}</b></div>')
    for key, label in (
        ("lifted", "lifted"),
        ("textbook", "textbook form"),
        ("kernels_verified", "kernels verified"),
        ("operator_level_verified", "operator level: all hosts verified"),
        ("operator_level_partial", "operator level: a host verified"),
        ("jit_functions", "jit functions"),
        ("files", "files"),
        ("out_of_scope", "out of scope"),
        ("in_scope_verified", "in scope: verified"),
    ):
        if key in summary:
            value = summary[key]
            if key == "kernels_verified":
                value = f"{value}/{summary.get('kernels', '?')}"
            if key == "in_scope_verified" and "jit_functions" in summary:
                value = f"{value}/{summary['jit_functions'] - summary.get('out_of_scope', 0)}"
            cards.append(f'<div class="card">{_e(label)}<b>{_e(value)}</b></div>')
    return '<div class="cards">' + "".join(cards) + "</div>"


def _ablation_table(ablations: dict[str, dict[str, Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in ("mode", "operators", *STATUSES, "wall s", "median s"))
    rows = []
    for mode, s in ablations.items():
        cells = [f"<td>{_e(mode)}</td>"] + [
            f'<td class="num">{_e(s.get(k, 0))}</td>' for k in ("operators", *STATUSES)
        ]
        cells += [f'<td class="num">{_secs(s.get("seconds", 0.0))}</td>']
        cells += [f'<td class="num">{_e(s.get("median_seconds", 0.0))}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


REASONS_SHOWN = 12  # failure reasons shown before the rest fold into a <details>


def _reasons_table(rows: Sequence[dict[str, Any]]) -> str:
    """The failure reasons, most frequent first; those past the first REASONS_SHOWN fold away."""
    head = "".join(f"<th>{h}</th>" for h in ("count", "status", "reason", "examples"))

    def table(part: Sequence[dict[str, Any]]) -> str:
        body = []
        for row in part:
            examples = "<br>".join(_e(x) for x in row.get("examples", []))
            oos = row.get("out_of_scope", 0)
            note = (
                f' <span class="scope">({"all" if oos == row["count"] else oos} out of scope)</span>'
                if oos
                else ""
            )
            body.append(
                f'<tr><td class="num">{_e(row["count"])}</td><td>{_status(row["status"])}</td>'
                f'<td><code>{_e(row["reason"])}</code>{note}</td><td class="muted">{examples}</td></tr>'
            )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    out = table(rows[:REASONS_SHOWN])
    if len(rows) > REASONS_SHOWN:
        rest = rows[REASONS_SHOWN:]
        n = sum(int(r["count"]) for r in rest)
        out += (
            f"<details><summary>{len(rest)} more reasons ({n} jit functions)</summary>{table(rest)}</details>"
        )
    return out


def _result_block(r: dict[str, Any]) -> str:
    parts = [
        f'<div class="result"><b>{_e(r.get("name"))}</b> <span class="muted">{_e(r.get("kind"))} · '
        f"{_e(r.get('file'))}:{_e(r.get('line'))}</span> {_status(r.get('status'))}"
    ]
    if r.get("formula"):
        parts.append(f"<div>formula:</div><pre>{_e(r['formula'])}</pre>")
    if r.get("formula_raw") and r.get("formula_raw") != r.get("formula"):
        parts.append(f"<div>as synthesized:</div><pre>{_e(r['formula_raw'])}</pre>")
    if r.get("assumptions"):
        items = "".join(f"<li><code>{_e(a)}</code></li>" for a in r["assumptions"])
        parts.append(f"<div>assumptions:</div><ul>{items}</ul>")
    if r.get("counterexample"):
        parts.append(f"<div>counterexample:</div><pre>{_e(json.dumps(r['counterexample'], indent=2))}</pre>")
    if r.get("message"):
        parts.append(f"<div>message:</div><pre>{_e(r['message'])}</pre>")
    if r.get("torch"):
        parts.append(f"<details><summary>PyTorch code</summary><pre>{_e(r['torch'])}</pre></details>")
    if r.get("latex"):
        parts.append(f"<details><summary>LaTeX</summary><pre>{_e(r['latex'])}</pre></details>")
    stages = r.get("seconds", {})
    if stages:
        shown = ", ".join(f"{k} {_secs(float(v))}" for k, v in stages.items())
        parts.append(f'<div class="muted">seconds: {_e(shown)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _columns(report: dict[str, Any]) -> list[str]:
    layout = report.get("layout", "")
    cols = ["name", "file"]
    if layout == "flaggems":
        cols += ["role", "scope"]
    cols += ["status"]
    cols += ["kernels: formula / reason"] if layout == "flaggems-33" else ["formula / reason"]
    if layout == "flaggems-33":
        cols += ["operator level (host code included)", "textbook"]
    cols += ["total s", "stages"]
    cols += list(report.get("ablations", {}))
    return cols


def _lines(formula: str) -> str:
    """A formula of several statements (`a = ...; b = ...`) one statement per line, for reading."""
    return "\n".join(part.strip() for part in formula.split("; "))


def _short(text: str, limit: int = 220) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _stage_bar(secs: dict[str, float]) -> str:
    """Per-stage times as one stacked bar (hover: the seconds of each stage)."""
    total = sum(secs.get(s, 0.0) for s in STAGE_COLUMNS)
    spans = []
    for s in STAGE_COLUMNS:
        v = secs.get(s, 0.0)
        if total > 0 and v > 0:
            spans.append(
                f'<span class="st-{s}" style="width:{100 * v / total:.1f}%" title="{s} {_secs(v)} s"></span>'
            )
    shown = ", ".join(f"{s} {_secs(secs.get(s, 0.0))}" for s in STAGE_COLUMNS)
    return f'<div class="bar" title="{_e(shown)}">{"".join(spans)}</div>'


def _legend() -> str:
    items = "".join(f'<span class="sw st-{s}"></span>{_e(s)}' for s in STAGE_COLUMNS)
    return f'<p class="muted legend">stages (seconds per stage on hover):{items}</p>'


def _kernel_lines(op: dict[str, Any], root: str) -> str:
    """One line per kernel the operator runs: its name, status, and formula (verified) or reason."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for r in op.get("results", []):
        by_name.setdefault(r.get("name", ""), []).append(r)
    out = []
    for k in op.get("kernels", []):
        rs = by_name.get(k["name"], [])
        head = f'<span class="kname">{_e(k["name"])}</span> {_status(k["status"])}'
        if k["status"] == "verified":
            text = "; ".join(r.get("formula", "") for r in rs if r.get("formula"))
            body = f"<code>{_e(_lines(text))}</code>" if text else ""
        else:
            bad = next((r for r in rs if r.get("status") != "verified"), {})
            cx = bad.get("counterexample") or {}
            msg = bad.get("message", "") or (f"counterexample: {cx['reason']}" if cx.get("reason") else "")
            msg = msg.replace(root, "") if root else msg
            body = f'<span class="why" title="{_e(msg)}">{_e(_short(msg))}</span>' if msg else ""
        out.append(f'<div class="kl">{head}{body}</div>')
    return "".join(out)


def _operator_lines(op: dict[str, Any], root: str) -> str:
    """The operator-level result of each host function: status and formula, or the reason."""
    out = []
    for r in op.get("operator_results", []):
        head = f'<span class="kname">{_e(r.get("name"))}</span> {_status(r.get("status"))}'
        body = f"<code>{_e(_lines(r['formula']))}</code>" if r.get("formula") else ""
        if r.get("status") != "verified":  # a partial result: the cases lifted (if any), then why not all
            msg = r.get("message", "")
            msg = msg.replace(root, "") if root else msg
            body += f'<span class="why" title="{_e(msg)}">{_e(_short(msg, 160))}</span>' if msg else ""
        out.append(f'<div class="kl">{head}{body}</div>')
    return "".join(out) or _status(None)


def _op_rows(report: dict[str, Any], op: dict[str, Any], ncols: int) -> str:
    layout = report.get("layout", "")
    results = op.get("results", [])
    secs = _stage_seconds(results)
    where = f"{op.get('file', '')}:{op['line']}" if op.get("line") else op.get("file", "")
    cells = [f'<td class="name"><b>{_e(op["name"])}</b></td>', f'<td class="muted file">{_e(where)}</td>']
    if layout == "flaggems":
        scope = op.get("scope") or ""
        cells += [f"<td>{_e(op.get('role', ''))}</td>", f'<td class="scope">{_e(scope)}</td>']
    status = op.get("status", "")
    cells.append(
        f'<td data-sort="{STATUSES.index(status) if status in STATUSES else 9}">{_status(status)}</td>'
    )
    root = (report.get("package") or {}).get("root", "")
    root = root + "/" if root else ""
    if layout == "flaggems-33":
        cells.append(
            f'<td class="kernels" data-sort="{len(op.get("kernels", []))}">{_kernel_lines(op, root)}</td>'
        )
        ostatus = op.get("operator_status")
        order = STATUSES.index(ostatus) if ostatus in STATUSES else 9
        cells.append(f'<td class="oplevel" data-sort="{order}">{_operator_lines(op, root)}</td>')
        tb = op.get("textbook")
        cells.append(f"<td>{'—' if tb is None else ('yes' if tb else 'no')}</td>")
    else:
        formula = op.get("formula") or "; ".join(r.get("formula", "") for r in results if r.get("formula"))
        if status == "verified" and formula:
            cells.append(f'<td class="formula"><code>{_e(_lines(formula))}</code></td>')
        else:
            reason = op.get("reason") or next((r.get("message", "") for r in results if r.get("message")), "")
            cells.append(f'<td class="reason">{_e(reason)}</td>')
    total = secs.get("total", 0.0) + sum(
        float(r.get("seconds", {}).get("total", 0.0)) for r in op.get("operator_results", [])
    )
    cells.append(f'<td class="num">{_secs(total)}</td>')
    cells.append(f'<td data-sort="{total:.6f}">{_stage_bar(secs)}</td>')
    for mode in report.get("ablations", {}):
        c = op.get("ablations", {}).get(mode)
        if c is None:
            cells.append('<td data-sort="9">—</td>')
        else:
            order = STATUSES.index(c["status"]) if c["status"] in STATUSES else 9
            cells.append(
                f'<td data-sort="{order}">{_status(c["status"])} <span class="muted">{_secs(c["seconds"])}</span></td>'
            )
    details = [_result_block(r) for r in results]
    for r in op.get("operator_results", []):
        details.append("<div class='muted'>operator-level (host code included):</div>" + _result_block(r))
    extra = []
    if op.get("scope"):
        extra.append(f"out of scope ({_e(op['scope'])}): {_e(op.get('scope_reason', ''))}")
    if op.get("launched_by"):
        extra.append("launched by " + _e(", ".join(op["launched_by"])))
    if op.get("used_by"):
        extra.append("used by " + _e(", ".join(op["used_by"])))
    for k in op.get("kernels", []):
        if k.get("via"):
            extra.append(f"{_e(k['name'])} via {_e(' → '.join(k['via']))}")
    for x in op.get("excluded", []):
        extra.append(f"not counted: {_e(x['kernel'])} ({_e(x['reason'])})")
    head = "".join(f"<div class='muted'>{x}</div>" for x in extra)
    return (
        f'<tbody class="op"><tr class="main">{"".join(cells)}</tr>'
        f'<tr class="details"><td colspan="{ncols}">{head}{"".join(details)}</td></tr></tbody>'
    )


def render_html(report: dict[str, Any]) -> str:
    """The whole page, as a string."""
    title = f"tritonlift bench: {report.get('suite', '')}"
    pkg = report.get("package")
    meta = [f"tritonlift {report.get('tool_version', '')}", f"mode {report.get('mode', '')}"]
    if pkg:
        meta.insert(1, f"{pkg.get('name')} {pkg.get('version')}")
    options = ", ".join(f"{k}={v}" for k, v in report.get("options", {}).items())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<div class="meta">{_e(" · ".join(meta))}<br>options: <code>{_e(options)}</code></div>',
        "<h2>Summary</h2>",
        _summary_cards(report.get("summary", {})),
    ]
    if report.get("ablations"):
        parts += ["<h2>Ablations</h2>", _ablation_table(report["ablations"])]
    if report.get("failure_reasons"):
        parts += [
            "<h2>Failure reasons</h2>",
            "<p class='muted'>Sorted by how many jit functions (kernels) each blocks.</p>",
            _reasons_table(report["failure_reasons"]),
        ]
    cols = _columns(report)
    numeric = {"total s"}
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{_e(c)}</th>' for c in cols)
    rows = "".join(_op_rows(report, op, len(cols)) for op in report.get("operators", []))
    parts += [
        "<h2>Results</h2>",
        "<p class='muted'>Click a column header to sort, a row to see its formulas, PyTorch code, "
        "counterexample and messages.</p>",
        _legend(),
        '<input id="filter" type="search" placeholder="filter rows">',
        f'<table id="ops"><thead><tr>{head}</tr></thead>{rows}</table>',
        f"<script>{JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
