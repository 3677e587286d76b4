"""The report page: self-contained (strict CSP), escaped, with charts and every section present."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from app.services.analytics import SnapshotRow, analyse_snapshots
from app.services.analytics.bench import synthetic_rows
from app.services.report_html import render_report_html

EVIL = '<script>alert("x")</script> & "quotes" \'single\''


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


def sample_report(days: int = 800, benchmark: bool = True) -> dict:
    rows = synthetic_rows(3, days)
    start = date(2020, 1, 1)
    every = [start + timedelta(days=d) for d in range(days)]
    closes = {d: 100 + i * 0.1 for i, d in enumerate(every) if d.weekday() < 5}
    a = analyse_snapshots(rows, benchmark_symbol="SPY" if benchmark else None, benchmark_closes=closes)
    return {
        "report_id": "TR-1", "report_hash": "f" * 64, "signature": "MEUC<sig>", "public_key": "MFkw",
        "display": {"report_name": EVIL, "manager": "<b>M</b>"},
        "payload": {"period_start": a["period"]["start"], "period_end": a["period"]["end"], "base_currency": "USD",
                    "exchanges": [{"exchange": "binance", "label": "<img src=x onerror=alert(1)>"}, "kraken"],
                    "metrics": a},
    }


def parse(page: str) -> Tags:
    t = Tags()
    t.feed(page)
    return t


def test_page_is_self_contained_and_escaped() -> None:
    page = render_report_html(sample_report())
    tags = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "script" not in tags.tags and "img" not in tags.tags and "link" not in tags.tags
    assert tags.tags.count("svg") == 2
    # Nothing the CSP would block: no src/href, no url(), no @import; the only URL is the SVG namespace.
    assert not [name for name, _ in tags.attrs if name in ("src", "href", "onerror", "onload")]
    assert "url(" not in page and "@import" not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot; &#x27;single&#x27;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "MEUC&lt;sig&gt;" in page


def test_all_sections_present() -> None:
    page = render_report_html(sample_report())
    for heading in ("Key figures", "Equity curve", "Drawdown", "Monthly returns", "Risk and return",
                    "Against the benchmark", "Worst drawdowns", "Coverage", "Verify this report"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<path d=") >= 4  # NAV, benchmark, drawdown area and line
    grid = page[page.index("Monthly returns"):page.index("Risk and return")]
    assert grid.count("<tr><th>20") == 3  # 2020, 2021, 2022
    assert "zka report verify" in page and "f" * 64 in page


@pytest.mark.parametrize("days", [1, 2, 20])
def test_short_and_degenerate_reports_render(days: int) -> None:
    rows = [SnapshotRow(1, date(2024, 1, 1) + timedelta(days=i), 1000 + i) for i in range(days)]
    page = render_report_html({"payload": {"metrics": analyse_snapshots(rows)}})
    assert "<h2>Key figures</h2>" in page and "Verify this report" in page
    assert "nan" not in page.lower().replace("nano", "") and "inf" not in page.replace("information", "")
    if days == 1:
        assert "a single day of data: there is no daily return yet" in page
    else:  # GIPS: nothing annualised under a year, and the page says why
        assert "CAGR, Sharpe, Volatility, Sortino, Calmar: not annualised: the period with capital is shorter " \
               "than 365 days (GIPS)." in page
        assert "2024<br><span class=\"note\">partial</span>" in page and "2024 is a partial year" in page


def test_unknown_flows_are_shown_as_unknown_and_the_figures_marked() -> None:
    rows = [SnapshotRow(1, date(2024, 1, 1) + timedelta(days=i), 1000 + i) for i in range(5)]
    page = render_report_html({"payload": {"metrics": analyse_snapshots(rows, flows_unknown=True)}})
    assert "Deposits / withdrawals (gross)</td><td>unknown \u2020 / unknown \u2020" in page
    assert "Profit and loss</td><td>unknown \u2020" in page and "(gross)</td><td>0.00" not in page
    assert '<div class="k">Total return \u2020</div>' in page and "does not report (see Coverage)" in page


def test_wipe_out_is_flagged_on_the_page() -> None:
    equity = [1000, 500, -200, 100, 150]
    rows = [SnapshotRow(1, date(2024, 1, 1) + timedelta(days=i), e) for i, e in enumerate(equity)]
    page = render_report_html({"payload": {"metrics": analyse_snapshots(rows)}})
    assert '<p class="warn"><b>Wipe-out on 2024-01-03:</b>' in page


def test_flat_payload_without_benchmark() -> None:
    report = sample_report(120, benchmark=False)
    flat = {**report["payload"], "report_hash": "a" * 64, "report_name": "Plain"}
    page = render_report_html(flat)
    assert "<title>Plain</title>" in page and "Against the benchmark" not in page


def test_a_demo_venue_report_says_so_before_any_figure() -> None:
    report = sample_report(120)
    assert "Demo data." not in render_report_html(report)
    report["payload"]["exchanges"] = [{"exchange": "demo", "is_paper": True, "accounts": 1}]
    page = render_report_html(report)
    assert page.index("Demo data.") < page.index("<h2>Key figures</h2>")
    assert "not a real trading record" in page


def test_a_benchmark_that_could_not_be_drawn_is_named_with_its_reason() -> None:
    report = sample_report(120, benchmark=False)
    report["payload"]["benchmark"] = {"symbol": "QQQ", "available": False, "reason": "source <unreachable>"}
    legend = render_report_html(report).split('<div class="legend">', 1)[1].split("</div>", 1)[0]
    assert "benchmark QQQ not drawn: source &lt;unreachable&gt;" in legend
    drawn = render_report_html(sample_report(120)).split('<div class="legend">', 1)[1].split("</div>", 1)[0]
    assert "SPY (rebased)" in drawn and "not drawn" not in drawn


def test_the_page_carries_print_rules() -> None:
    page = render_report_html(sample_report(120))
    assert "@media print{" in page and "break-inside:avoid" in page and "@page{size:A4" in page
