"""report.html: one self-contained page that parses, lists every operator, escapes what it shows, and fetches
nothing (no external URL)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fake_pipeline import make_result
from tritonlift.bench import report, runner
from tritonlift.bench.html import render_html
from tritonlift.options import Options

VOID = {"meta", "br", "input", "link", "img", "hr"}


class Checker(HTMLParser):
    """Collects tags, checks that every non-void element is closed in order, and records attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.texts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.texts.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    return checker


def sample_results():
    ok = make_result("softmax", "verified")
    ok.formula = "out[i, j] = exp(x[i, j]) / Σ_k exp(x[i, k]) <script>alert(1)</script> & a|b"
    ok.torch = "def softmax(x):\n    return torch.softmax(x, dim=1)\n"
    bad = make_result("cut", "refuted")
    odd = make_result("odd", "unsupported")
    odd.message = 'ops/odd.py:3: tl.atomic_add <b>"is"</b> not supported'
    slow = make_result("slow", "unknown")
    err = make_result("bad", "error")
    return [ok, bad, odd, slow, err]


def test_the_page_parses_lists_every_operator_and_escapes_text():
    data = report.build_report("suite", [runner.ModeRun("default", Options(), sample_results(), 2.5)])
    page = render_html(data)
    checker = parse(page)
    text = "".join(checker.texts)
    for name in ("softmax", "cut", "odd", "slow", "bad"):
        assert name in text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<b>"is"</b>' not in page
    assert "return torch.softmax(x, dim=1)" in text  # the torch code in the expandable row
    assert "the mask drops elements past 2^20" in text  # the counterexample
    assert checker.tags.count("script") == 1 and checker.tags.count("style") == 1
    for cls in ("s-verified", "s-refuted", "s-unknown", "s-unsupported", "s-error"):
        assert cls in page
    for stage in ("frontend", "symbolic", "synthesis", "verification", "simplification"):
        assert f'class="sw st-{stage}"' in page  # the legend of the per-stage bars
        assert f'title="{stage} ' in page  # a bar segment with its seconds


def test_the_page_fetches_nothing():
    data = report.build_report("suite", [runner.ModeRun("default", Options(), sample_results(), 1.0)])
    page = render_html(data)
    checker = parse(page)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
    for tag, key, value in checker.attrs:
        assert key not in ("src", "href"), (tag, key, value)
    assert "@import" not in page and "url(" not in page and "<link" not in page


def test_ablation_columns_and_sortable_headers():
    runs = [
        runner.ModeRun(mode, Options(), sample_results(), 1.0) for mode in ("default", "baseline", "no-prune")
    ]
    page = render_html(report.build_report("suite", runs))
    checker = parse(page)
    heads = [t for t in checker.texts if t in ("default", "baseline", "no-prune")]
    assert {"default", "baseline", "no-prune"} <= set(heads)
    assert "addEventListener('click'" in page and "sorted-asc" in page
    assert page.count('<tbody class="op">') == 5


def test_a_flaggems_layout_report_renders():
    from tritonlift.bench import fgsuite, flaggems

    entry = flaggems.JitEntry(
        "ops/a.py", "/x/ops/a.py", "a_kernel", 3, "kernel", ["a"], [], "atomics", "tl.atomic_add"
    )
    helper = flaggems.JitEntry("ops/a.py", "/x/ops/a.py", "h", 1, "helper", [], ["a_kernel"])
    pw = flaggems.JitEntry("ops/a.py", "/x/ops/a.py", "p", 9, "pointwise")
    got = {entry.key: [make_result("a_kernel", "unsupported", "/x/ops/a.py", 5)]}
    run = fgsuite.ModeResults("default", Options(), got, 1.0)
    from pathlib import Path

    data = fgsuite.build_all_report(Path("/x"), [helper, entry, pw], [run])
    assert [op["status"] for op in data["operators"]] == ["unsupported"] * 3
    assert data["operators"][0]["reason"].startswith("helper, inlined into a_kernel")
    assert data["summary"]["out_of_scope"] == 1 and data["failure_reasons"][0]["count"] == 1
    page = render_html(data)
    checker = parse(page)
    text = "".join(checker.texts)
    assert "a_kernel" in text and "pointwise" in text and "atomics" in text
    md = report.render_markdown(data)
    assert "| ops/a.py | p | 9 | pointwise | unsupported |" in md


def test_a_flaggems_33_report_shows_each_kernel_and_the_operator_level_result():
    ok = make_result("k_ok", "verified").to_json()
    ok["formula"] = "v = as_strided(x, (n,), (1,)); out = v.sum(dim=0)"
    bad = make_result("k_bad", "unsupported", "/pkg/ops/s.py", 7).to_json()
    bad["message"] = "/pkg/ops/s.py:7: tl.reduce is not modelled yet (planned)"
    cut = make_result("k_cut", "refuted").to_json()  # no message: the counterexample's reason is shown
    host = make_result("s", "verified").to_json()
    host["kind"], host["formula"] = "operator", "[dim is None] out = x.sum()"
    host2 = make_result("s_dim", "unsupported").to_json()
    host2["kind"], host2["message"] = "operator", "/pkg/ops/s.py:40: host call of len is not modelled"
    data = {
        "suite": "flaggems-33",
        "layout": "flaggems-33",
        "tool_version": "0",
        "mode": "default",
        "options": {},
        "package": {"name": "flag-gems", "version": "5.0.2", "root": "/pkg"},
        "summary": {"operators": 1, "unsupported": 1, "seconds": 1.0, "median_seconds": 0.1},
        "operators": [
            {
                "name": "s",
                "file": "ops/s.py",
                "status": "unsupported",
                "reason": "x",
                "formula": "",
                "textbook": None,
                "results": [ok, bad, cut],
                "operator_status": "unsupported",
                "operator_results": [host, host2],
                "kernels": [
                    {"name": "k_ok", "status": "verified", "via": ["s"]},
                    {"name": "k_bad", "status": "unsupported", "via": ["s"]},
                    {"name": "k_cut", "status": "refuted", "via": ["s"]},
                ],
            }
        ],
    }
    page = render_html(data)
    text = "".join(parse(page).texts)
    assert "v = as_strided(x, (n,), (1,))\nout = v.sum(dim=0)" in text  # one statement per line
    assert ">ops/s.py:7: tl.reduce is not modelled yet (planned)</span>" in page  # the package root dropped
    assert "[dim is None] out = x.sum()" in text and "ops/s.py:40: host call of len" in text
    assert "operator level (host code included)" in text
    assert ">counterexample: the mask drops elements past 2^20</span>" in page
