"""Signed report → one self-contained HTML page (SPEC §10) with server-side SVG charts.

Works under ``Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:``:
no script, no external CSS/fonts/images; charts are inline <svg>. Every value that reaches the page
goes through ``_e`` (html.escape) — report names, labels and exchange names are user-provided.

Accepted input (missing parts are simply left out of the page):
    {"report_id", "report_hash", "signature", "public_key", "signature_algorithm"?,
     "display": {"report_name", "manager", "firm"}?,
     "payload": {"report_name"?, "generated_at", "period_start", "period_end", "base_currency",
                 "benchmark"?, "exchanges": [str | {"exchange", "label"?, "is_paper"?}],
                 "metrics" | "analytics": <app.services.analytics result>, "attestation"?: {...}}}
A flat dict (payload keys next to the signature keys) is accepted too.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_W, _H = 880, 260  # chart viewBox
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 56, 16, 14, 28
_BLUE, _AMBER, _RED, _GREEN = "#1f5fbf", "#c77c02", "#c0392b", "#1e8449"  # amber: the benchmark

_CSS = """
*{box-sizing:border-box}body{margin:0;background:#f4f6f9;color:#1c2430;
font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:960px;margin:0 auto;padding:28px 20px 48px}
header{border-bottom:3px solid #1f5fbf;padding-bottom:14px;margin-bottom:20px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:17px;margin:0 0 12px;color:#223}
.sub{color:#5b6678}.sub b{color:#1c2430}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:18px 20px;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{border:1px solid #e3e8ee;border-radius:6px;padding:10px 12px;background:#fafbfd}
.card .k{font-size:12px;color:#5b6678;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.pos{color:#1e8449}.neg{color:#c0392b}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 8px;text-align:right;border-bottom:1px solid #edf0f4}
th:first-child,td:first-child{text-align:left}th{font-weight:600;color:#445;background:#f7f9fb}
.grid td,.grid th{text-align:center;font-size:12.5px;padding:5px 3px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:0 28px}
.legend{font-size:12px;color:#5b6678;margin-top:4px}.legend i{display:inline-block;width:18px;
height:3px;vertical-align:middle;margin:0 5px 0 12px}
td.mono{text-align:left}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
word-break:break-all}.note{font-size:12.5px;color:#5b6678}
.warn{background:#fff6e0;border:1px solid #e8c66a;border-radius:6px;padding:8px 12px;margin:0 0 12px}
ol{padding-left:20px}li{margin:4px 0}svg{display:block;width:100%;height:auto}
.demo{background:#fdecea;border:1px solid #e6a19a;border-radius:6px;padding:8px 12px;margin:12px 0 0}
@page{size:A4;margin:12mm}
@media print{body{background:#fff;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:none;padding:0}section{border:0;border-top:1px solid #dde3ea;border-radius:0;padding:10px 0;
margin:0 0 8px;break-inside:avoid;page-break-inside:avoid}h2{break-after:avoid}header{margin-bottom:10px}
.card .v{font-size:17px}.cards{gap:6px}.two{gap:0 16px}th,td{padding:3px 6px}
.grid td,.grid th{font-size:10px;padding:3px 2px}code,.mono{font-size:9.5px}}
"""


# --- formatting ----------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _pct(x: Any, digits: int = 2) -> str:
    v = _num(x)
    return "—" if v is None else f"{v * 100:+.{digits}f}%".replace("+-", "−").replace("-", "−")


def _upct(x: Any, digits: int = 2) -> str:
    v = _num(x)
    return "—" if v is None else f"{v * 100:.{digits}f}%".replace("-", "−")


def _ratio(x: Any) -> str:
    v = _num(x)
    return "—" if v is None else f"{round(v, 2) + 0.0:.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _money(x: Any, ccy: str) -> str:
    v = _num(x)
    return "—" if v is None else f"{v:,.2f} {ccy}".replace("-", "−")


def _sign_class(x: Any) -> str:
    v = _num(x)
    return "" if not v else ("pos" if v > 0 else "neg")


# --- input -----------------------------------------------------------------------------------------


def _sections(report: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    payload = report.get("payload") if isinstance(report.get("payload"), Mapping) else report
    assert isinstance(payload, Mapping)
    for key in ("metrics", "analytics"):
        if isinstance(payload.get(key), Mapping) and "core" in payload[key]:
            return payload, payload[key]
    return payload, payload


def _get(d: Mapping[str, Any] | None, *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


# --- SVG charts --------------------------------------------------------------------------------------


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    raw = (hi - lo) / max(n, 1) or 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _x_labels(days: Sequence[date], sx: Any) -> str:
    """A label at each year start (or month start for short periods), thinned to fit."""
    span = (days[-1] - days[0]).days
    marks = [(i, d) for i, d in enumerate(days) if i and (d.year != days[i - 1].year if span > 500
                                                            else d.month != days[i - 1].month)]
    if not marks or marks[0][0] > len(days) // 12:  # label the start unless a mark sits right next to it
        marks.insert(0, (0, days[0]))
    step = max(1, math.ceil(len(marks) / 10))
    out = []
    for i, d in marks[::step]:
        label = str(d.year) if span > 500 else f"{_MONTHS[d.month - 1]} {d.year % 100:02d}"
        x = sx(i)
        out.append(f'<line x1="{x:.1f}" y1="{_PAD_T}" x2="{x:.1f}" y2="{_H - _PAD_B}" stroke="#eef1f5"/>'
                   f'<text x="{x:.1f}" y="{_H - 9}" text-anchor="middle">{_e(label)}</text>')
    return "".join(out)


def _path(values: Iterable[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in values)


def _line_chart(days: list[date], series: list[tuple[list[float | None], str, str]], fmt: Any,
                *, fill_to: float | None = None, title: str) -> str:
    vals = [v for s, _, _ in series for v in s if v is not None]
    if len(days) < 2 or not vals:
        return '<p class="note">Not enough data for a chart.</p>'
    lo, hi = min(vals), max(vals)
    if fill_to is not None:
        lo, hi = min(lo, fill_to), max(hi, fill_to)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 0.01
    lo, hi = lo - (pad if fill_to is None or lo < fill_to else 0), hi + (pad if fill_to is None or hi > fill_to else 0)
    sx = _scale(0, len(days) - 1, _PAD_L, _W - _PAD_R)
    sy = _scale(lo, hi, _H - _PAD_B, _PAD_T)
    parts = [f'<svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{_e(title)}" font-size="11" fill="#5b6678"'
             ' xmlns="http://www.w3.org/2000/svg">', f"<title>{_e(title)}</title>"]
    for t in _ticks(lo, hi):
        y = sy(t)
        parts.append(f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{_W - _PAD_R}" y2="{y:.1f}" stroke="#e3e8ee"/>'
                     f'<text x="{_PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(fmt(t))}</text>')
    parts.append(_x_labels(days, sx))
    for values, colour, dash in series:
        pts = [(sx(i), sy(v)) for i, v in enumerate(values) if v is not None]
        if len(pts) < 2:
            continue
        if fill_to is not None:
            base = sy(fill_to)
            area = _path([(pts[0][0], base), *pts, (pts[-1][0], base)]) + "Z"
            parts.append(f'<path d="{area}" fill="{colour}" fill-opacity="0.18" stroke="none"/>')
        parts.append(f'<path d="{_path(pts)}" fill="none" stroke="{colour}" stroke-width="1.6"'
                     f'{dash} stroke-linejoin="round"/>')
    parts.append(f'<line x1="{_PAD_L}" y1="{_H - _PAD_B}" x2="{_W - _PAD_R}" y2="{_H - _PAD_B}" stroke="#b8c1cc"/>')
    parts.append("</svg>")
    return "".join(parts)


def _daily_points(a: Mapping[str, Any]) -> tuple[list[date], list[float | None], list[float | None]]:
    days, nav, dd = [], [], []
    for row in a.get("daily") or []:
        try:
            days.append(date.fromisoformat(str(row["date"])))
        except (KeyError, ValueError):
            continue
        nav.append(_num(row.get("nav")))
        dd.append(_num(row.get("drawdown")))
    if dd and all(v is None for v in dd):  # signed reports carry NAV only: drawdown from its running peak
        dd = _drawdown_from_nav(nav)
    return days, nav, dd


def _drawdown_from_nav(nav: list[float | None]) -> list[float | None]:
    peak: float | None = None
    out: list[float | None] = []
    for value in nav:
        if value is None:
            out.append(None)
            continue
        peak = value if peak is None else max(peak, value)
        out.append(value / peak - 1 if peak > 0 else None)
    return out


def _benchmark_on(days: list[date], a: Mapping[str, Any]) -> list[float | None]:
    by_day = {str(p.get("date")): _num(p.get("nav")) for p in _get(a, "benchmark", "series") or []
              if isinstance(p, Mapping)}
    return [by_day.get(d.isoformat()) for d in days]


def _charts(a: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    days, nav, dd = _daily_points(a)
    bench = _benchmark_on(days, a)
    symbol = _get(a, "benchmark", "symbol")
    series = [(nav, _BLUE, "")]
    legend = f'<i style="background:{_BLUE}"></i>Portfolio NAV (time-weighted, flows removed)'
    if any(v is not None for v in bench):
        series.append((bench, _AMBER, ' stroke-dasharray="5 3"'))
        legend += f'<i style="background:{_AMBER}"></i>{_e(symbol)} (rebased)'
    elif isinstance(asked := payload.get("benchmark"), Mapping) and asked.get("symbol"):
        reason = asked.get("reason") or "no prices on the report's dates"
        legend += f' · benchmark {_e(asked["symbol"])} not drawn: {_e(reason)}'
    nav_svg = _line_chart(days, series, lambda t: f"{t:.2f}", title="Net asset value, starting at 1.00")
    dd_svg = _line_chart(days, [(dd, _RED, "")], lambda t: _upct(t, 0), fill_to=0.0, title="Drawdown from peak")
    return (f'<section><h2>Equity curve</h2>{nav_svg}<div class="legend">{legend}</div></section>'
            f'<section><h2>Drawdown</h2>{dd_svg}</section>')


# --- tables ------------------------------------------------------------------------------------------


def _cell_style(r: float | None, scale: float) -> str:
    if r is None:
        return ""
    k = min(abs(r) / scale, 1.0) if scale else 0.0
    rgb = "30,132,73" if r >= 0 else "192,57,43"
    ink = "#fff" if k > 0.6 else "#1c2430"
    return f' style="background:rgba({rgb},{0.08 + 0.72 * k:.2f});color:{ink}"'


def _monthly_grid(a: Mapping[str, Any]) -> str:
    months = {str(m.get("month")): _num(m.get("return")) for m in a.get("monthly_returns") or []}
    years_total = {str(y.get("year")): _num(y.get("return")) for y in a.get("yearly_returns") or []}
    partial = {str(y.get("year")): f"{y.get('from')} to {y.get('to')}" for y in a.get("yearly_returns") or []
               if isinstance(y, Mapping) and y.get("partial")}
    years = sorted({k[:4] for k in months} | set(years_total))
    if not years:
        return ""
    scale = max([abs(v) for v in months.values() if v is not None] or [0.0]) or 0.01
    head = "".join(f"<th>{m}</th>" for m in _MONTHS)
    rows = []
    for y in years:
        cells = "".join(
            f"<td{_cell_style(months.get(f'{y}-{i:02d}'), scale)}>"
            f"{_pct(months[f'{y}-{i:02d}'], 1) if f'{y}-{i:02d}' in months else ''}</td>" for i in range(1, 13))
        total = years_total.get(y)
        label = f'{_e(y)}<br><span class="note">partial</span>' if y in partial else _e(y)
        rows.append(f"<tr><th>{label}</th>{cells}<td{_cell_style(total, scale * 3)}><b>{_pct(total, 1)}</b></td></tr>")
    return (f'<section><h2>Monthly returns</h2><table class="grid"><tr><th></th>{head}<th>Year</th></tr>'
            f'{"".join(rows)}</table><p class="note">Each month compounds every daily return that ends in it; '
            "years are calendar years of compounded months. Deposits and withdrawals are not returns."
            + "".join(f" {_e(y)} is a partial year ({_e(span)})." for y, span in sorted(partial.items()))
            + "</p></section>")


_FLOWS_MARK = "\u2020"  # †: the figure depends on deposits/withdrawals a venue does not report


def _flows_marked(a: Mapping[str, Any], section: str) -> bool:
    marked = a.get("depends_on_unknown_flows")
    return isinstance(marked, list) and section in marked


def _why_null(a: Mapping[str, Any], path: str) -> str | None:
    reasons = a.get("undefined")
    why = reasons.get(path) if isinstance(reasons, Mapping) else None
    return str(why) if why else None


def _cards(a: Mapping[str, Any]) -> str:
    core = a.get("core") or {}
    mark = f" {_FLOWS_MARK}" if _flows_marked(a, "core") else ""
    items = [("Total return", _pct(core.get("total_return")), core.get("total_return"), "total_return"),
             ("CAGR", _pct(core.get("cagr")), core.get("cagr"), "cagr"),
             ("Max drawdown", _pct(core.get("max_drawdown")), core.get("max_drawdown"), "max_drawdown"),
             ("Sharpe", _ratio(core.get("sharpe")), None, "sharpe"),
             ("Volatility", _upct(core.get("volatility")), None, "volatility"),
             ("Sortino", _ratio(core.get("sortino")), None, "sortino"),
             ("Calmar", _ratio(core.get("calmar")), None, "calmar"),
             ("Current drawdown", _pct(core.get("current_drawdown")), core.get("current_drawdown"), "current_drawdown")]
    cards: list[str] = []
    reasons: dict[str, list[str]] = {}  # why a card is empty -> the cards it empties
    for label, value, sign, key in items:
        why = _why_null(a, f"core.{key}") if core.get(key) is None else None
        if why:
            reasons.setdefault(why, []).append(label)
        title = f' title="{_e(why)}"' if why else ""
        cards.append(f'<div class="card"><div class="k">{_e(label)}{mark}</div>'
                     f'<div class="v {_sign_class(sign)}"{title}>{value}</div></div>')
    notes = "".join(f'<p class="note">{_e(", ".join(labels))}: {_e(why)}.</p>' for why, labels in reasons.items())
    if _flows_marked(a, "core"):
        notes += (f'<p class="note">{_FLOWS_MARK} Depends on deposits and withdrawals that a venue in this period '
                  "does not report (see Coverage): a transfer there cannot be told apart from performance.</p>")
    return f'<section><h2>Key figures</h2>{_wipe_out(a)}<div class="cards">{"".join(cards)}</div>{notes}</section>'


def _wipe_out(a: Mapping[str, Any]) -> str:
    days = _get(a, "period", "wipe_out_days")
    if not isinstance(days, list) or not days:
        return ""
    return (f'<p class="warn"><b>Wipe-out on {_e(days[0])}:</b> a daily return of −100 % or worse (the capital '
            "was lost, or equity turned negative). The time-weighted return stays at −100 % from then on.</p>")


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _metrics_tables(a: Mapping[str, Any], ccy: str) -> str:
    core, tr, risk = a.get("core") or {}, a.get("trading") or {}, a.get("risk") or {}
    dd, flows, period = a.get("drawdown") or {}, a.get("flows") or {}, a.get("period") or {}
    left = _kv_table([
        ("Annualised volatility", _upct(core.get("volatility"))),
        ("Downside deviation", _upct(core.get("downside_deviation"))),
        ("Sharpe ratio", _ratio(core.get("sharpe"))), ("Sortino ratio", _ratio(core.get("sortino"))),
        ("Calmar ratio", _ratio(core.get("calmar"))),
        ("Max drawdown duration", f"{_e(dd.get('max_drawdown_duration_days', '—'))} days"),
        ("Longest drawdown", f"{_e(dd.get('longest_drawdown_days', '—'))} days"),
        ("VaR 95% / 99% (1 day)", f"{_upct(risk.get('var_95'))} / {_upct(risk.get('var_99'))}"),
        ("Expected shortfall 95% / 99%", f"{_upct(risk.get('es_95'))} / {_upct(risk.get('es_99'))}"),
        ("Skewness / excess kurtosis", f"{_ratio(risk.get('skewness'))} / {_ratio(risk.get('kurtosis'))}"),
    ])
    right = _kv_table([
        ("Win rate (non-zero days)", _upct(tr.get("win_rate"), 1)),
        ("Profit factor", _ratio(tr.get("profit_factor"))),
        ("Average win / loss", f"{_pct(tr.get('avg_win'))} / {_pct(tr.get('avg_loss'))}"),
        ("Best / worst day", f"{_pct(tr.get('best_day'))} / {_pct(tr.get('worst_day'))}"),
        ("Daily observations", _e(period.get("observations", "—"))),
        ("Start / end value", f"{_money(flows.get('start_value'), ccy)} / {_money(flows.get('end_value'), ccy)}"),
        ("Deposits / withdrawals (gross)", _flow_money(flows, "total_inflows", ccy) + " / "
                                           + _flow_money(flows, "total_outflows", ccy)),
        ("Accounts added / removed", f"{_money(flows.get('accounts_added'), ccy)} / "
                                     f"{_money(flows.get('accounts_removed'), ccy)}"),
        ("Profit and loss", _flow_money(flows, "pnl", ccy)),
    ])
    return f'<section><h2>Risk and return</h2><div class="two">{left}{right}</div></section>'


def _flow_money(flows: Mapping[str, Any], key: str, ccy: str) -> str:
    """Unknown, never 0.00, when a venue in the period does not report deposits/withdrawals."""
    if flows.get("known") is False and flows.get(key) is None:
        return f"unknown {_FLOWS_MARK}"
    return _money(flows.get(key), ccy)


def _benchmark_table(a: Mapping[str, Any]) -> str:
    b = a.get("benchmark")
    if not isinstance(b, Mapping):
        return ""
    rows = _kv_table([
        ("Benchmark", _e(b.get("symbol"))),
        ("Common observations", _e(b.get("observations"))),
        ("Benchmark return (same dates)", _pct(b.get("benchmark_return"))),
        ("Portfolio return (same dates)", _pct(b.get("portfolio_return"))),
        ("Alpha (annualised)", _pct(b.get("alpha"))), ("Beta", _ratio(b.get("beta"))),
        ("Correlation", _ratio(b.get("correlation"))), ("Tracking error", _upct(b.get("tracking_error"))),
        ("Information ratio", _ratio(b.get("information_ratio"))),
    ])
    return (f"<section><h2>Against the benchmark</h2>{rows}<p class=\"note\">Aligned by date: returns are "
            "taken between consecutive days on which both the portfolio and the benchmark have a value.</p>"
            "</section>")


def _drawdown_table(a: Mapping[str, Any]) -> str:
    periods = [p for p in _get(a, "drawdown", "periods") or [] if isinstance(p, Mapping)]
    worst = sorted(periods, key=lambda p: _num(p.get("depth")) or 0.0)[:5]
    if not worst:
        return ""
    rows = "".join(
        f"<tr><td>{_e(p.get('start'))}</td><td>{_e(p.get('trough'))}</td>"
        f"<td>{_e(p.get('end') or 'not recovered')}</td><td class=\"neg\">{_pct(p.get('depth'))}</td>"
        f"<td>{_e(p.get('length_days'))}</td></tr>" for p in worst)
    return ("<section><h2>Worst drawdowns</h2><table><tr><th>Peak</th><th>Trough</th><th>Recovered</th>"
            f"<th>Depth</th><th>Days</th></tr>{rows}</table></section>")


def _exchange_label(x: Any) -> str:
    if isinstance(x, Mapping):
        name = " · ".join(str(x[k]) for k in ("exchange", "label") if x.get(k))
        return _e(name) + (" <span class=\"note\">(paper)</span>" if x.get("is_paper") else "")
    return _e(x)


def _coverage(payload: Mapping[str, Any], a: Mapping[str, Any]) -> str:
    cov = a.get("coverage") or payload.get("coverage") or {}
    gaps = [g for g in cov.get("gaps") or [] if isinstance(g, Sequence) and len(g) == 2]
    conns = [c for c in cov.get("connections") or [] if isinstance(c, Mapping)]
    carried = sum(len(c.get("carried_forward_days") or []) for c in conns)
    gap_text = ", ".join(f"{_e(s)} → {_e(t)}" for s, t in gaps[:12]) + (" …" if len(gaps) > 12 else "")
    exchanges = payload.get("exchanges") or []
    rows = _kv_table([
        ("Calendar days in period", _e(cov.get("calendar_days", cov.get("expected_days", "—")))),
        ("Days with snapshots", _e(cov.get("days_with_data", "—"))),
        ("Days without any snapshot", _e(cov.get("days_without_data", "—")) + (f" ({gap_text})" if gaps else "")),
        ("Account-days carried forward", f"{carried} (a missed sync keeps the account's last value, no flow)"),
        ("Accounts removed during the period", _e(sum(1 for c in conns if c.get("removed")))),
        ("Accounts silent too long to carry forward (stale)",
         _e(sum(1 for c in conns if c.get("stale") or c.get("stale_gaps")))),
        ("Exchanges", ", ".join(_exchange_label(x) for x in exchanges) or "—"),
    ])
    warnings = _flows_warning(cov) + _permissions_warning(cov) + _late_flows_warning(cov)
    return f"<section><h2>Coverage</h2>{warnings}{rows}</section>"


def _unknown_flows(cov: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = cov.get("flows_unknown")
    return [f for f in listed if isinstance(f, Mapping)] if isinstance(listed, list) else []


def _flows_warning(cov: Mapping[str, Any]) -> str:
    """Accounts whose venue does not report deposits/withdrawals: their returns may include them, and a
    reader must see that before trusting the figures (venue + connection id only, escaped)."""
    listed = _unknown_flows(cov)
    if not listed:
        return ""
    who = ", ".join(f"{_e(f.get('exchange'))} (connection {_e(f.get('connection_id'))})" for f in listed)
    text = cov.get("flows_warning") or "Returns for these accounts may include deposits/withdrawals."
    return f'<p class="warn"><b>Deposits/withdrawals not reported:</b> {who}. {_e(text)}</p>'


def _permissions_warning(cov: Mapping[str, Any]) -> str:
    """Accounts whose key was not proven unable to withdraw (the venue does not report a key's
    permissions): an investor must see which ones (venue + connection id only, escaped)."""
    listed = cov.get("permissions_unknown")
    listed = [p for p in listed if isinstance(p, Mapping)] if isinstance(listed, list) else []
    if not listed:
        return ""
    who = ", ".join(f"{_e(p.get('exchange'))} (connection {_e(p.get('connection_id'))})" for p in listed)
    text = cov.get("permissions_warning") or "These accounts' API keys were not proven unable to withdraw."
    return f'<p class="warn"><b>Key permissions not verified:</b> {who}. {_e(text)}</p>'


def _late_flows_warning(cov: Mapping[str, Any]) -> str:
    """Accounts with a flow pending past the look-back on some day (venue + connection id + days, escaped)."""
    listed = cov.get("late_flows")
    listed = [p for p in listed if isinstance(p, Mapping)] if isinstance(listed, list) else []
    if not listed:
        return ""
    who = ", ".join(f"{_e(p.get('exchange'))} (connection {_e(p.get('connection_id'))}: "
                    f"{_e(', '.join(str(d) for d in p.get('days') or []))})" for p in listed)
    text = cov.get("late_flows_warning") or "A deposit or withdrawal completing late may not have been seen."
    return f'<p class="warn"><b>Flows pending past the look-back:</b> {who}. {_e(text)}</p>'


_METHOD_LABELS = (("return", "Return"), ("valuation_time", "Valuation time"), ("currency", "Currency"),
                  ("external_flows", "Deposits and withdrawals"),
                  ("accounts_joining_leaving", "Accounts joining or leaving"),
                  ("wipe_out", "Wipe-out"), ("days_without_capital", "Days without capital"),
                  ("annualisation", "Annualisation"), ("short_periods", "Short periods"),
                  ("annual_returns", "Annual returns"), ("gaps", "Missing days"), ("unknown_flows", "Unreported flows"),
                  ("undefined", "Undefined figures"), ("fees", "Fees"))


def _methodology(payload: Mapping[str, Any]) -> str:
    """The signed methodology statement (GIPS: how returns are computed, flows, valuation time, currency,
    fees). Reports signed before it existed simply have none."""
    m = payload.get("methodology")
    if not isinstance(m, Mapping):
        return ""
    rows = _kv_table((label, _e(m[key])) for key, label in _METHOD_LABELS if m.get(key))
    return (f'<section><h2>Methodology</h2>{rows}{_definitions(m.get("definitions"))}'
            f'<p class="note">Methodology version {_e(m.get("version"))}, covered by the report\'s signature.</p>'
            "</section>")


def _definitions(definitions: Any) -> str:
    """What each figure means (equity, cash, flows, ...), as the report states them."""
    if not isinstance(definitions, Mapping) or not definitions:
        return ""
    rows = "".join(f"<dt>{_e(str(k).replace('_', ' '))}</dt><dd>{_e(v)}</dd>" for k, v in definitions.items())
    return f"<h3>Definitions</h3><dl>{rows}</dl>"


def _verification(report: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    fields = [("Report hash (SHA-256)", report.get("report_hash") or report.get("hash")),
              ("Signature (ECDSA P-256, DER, base64)", report.get("signature")),
              ("Public key (SPKI, base64)", report.get("public_key"))]
    rows = "".join(f'<tr><td>{_e(k)}</td><td class="mono">{_e(v) or "—"}</td></tr>' for k, v in fields)
    att = payload.get("attestation") or payload.get("enclave_attestation")
    platform = _get(att, "platform") if isinstance(att, Mapping) else None
    att_note = (f"<p>Attestation evidence is included (platform: <b>{_e(platform or 'unknown')}</b>).</p>"
                if att else '<p class="note">No hardware attestation evidence is attached to this report.</p>')
    return (f'<section><h2>Verify this report</h2><table>{rows}</table>{att_note}<ol>'
            "<li>Take the report's JSON <code>payload</code> and serialise it as RFC 8785 canonical JSON.</li>"
            "<li>Its SHA-256, in lowercase hex, must equal the report hash above.</li>"
            "<li>The signature is ECDSA P-256/SHA-256 over the ASCII bytes of that hex hash, verifiable "
            "with the public key above.</li>"
            "<li>When attestation evidence is present, check the AMD certificate chain, that the measurement "
            "is on the published allow-list, and that REPORT_DATA binds the signing key.</li></ol>"
            "<p>All of this is done offline by <code>zka report verify report.json</code> or by "
            "<code>POST /api/v1/reports/verify</code>.</p></section>")


def _header(report: Mapping[str, Any], payload: Mapping[str, Any], a: Mapping[str, Any]) -> str:
    display = report.get("display") if isinstance(report.get("display"), Mapping) else {}
    assert isinstance(display, Mapping)
    name = display.get("report_name") or payload.get("report_name") or "Track record report"
    start = payload.get("period_start") or _get(a, "period", "start")
    end = payload.get("period_end") or _get(a, "period", "end")
    who = " · ".join(_e(display[k]) for k in ("manager", "firm") if display.get(k))
    bench = payload.get("benchmark") or _get(a, "benchmark", "symbol")
    if isinstance(bench, Mapping):  # {symbol, available, reason?}: say when it could not be fetched
        bench = f"{bench.get('symbol')}" + ("" if bench.get("available", True) else " (unavailable)")
    facts = [f"Period <b>{_e(start)}</b> to <b>{_e(end)}</b>",
             f"Currency <b>{_e(payload.get('base_currency') or 'USD')}</b>"]
    if bench:
        facts.append(f"Benchmark <b>{_e(bench)}</b>")
    if payload.get("generated_at"):
        facts.append(f"Generated {_e(payload['generated_at'])}")
    if report.get("report_id"):
        facts.append(f"Report <b>{_e(report['report_id'])}</b>")
    return (f"<header><h1>{_e(name)}</h1>" + (f'<div class="sub">{who}</div>' if who else "")
            + f'<div class="sub">{" · ".join(facts)}</div>{_demo_notice(payload)}</header>')


def _demo_notice(payload: Mapping[str, Any]) -> str:
    """The built-in demo venue's numbers are generated: say so before any figure (the signed exchange list
    names the venue, so this label cannot be removed without breaking the signature)."""
    venues = [x.get("exchange") if isinstance(x, Mapping) else x for x in payload.get("exchanges") or []]
    if "demo" not in venues:
        return ""
    return ('<p class="demo"><b>Demo data.</b> This report covers an account on zka\'s built-in '
            "<code>demo</code> venue: a generated paper account, not a real trading record.</p>")


def _footer(payload: Mapping[str, Any], a: Mapping[str, Any]) -> str:
    cov = a.get("coverage") or payload.get("coverage") or {}
    unknown = isinstance(cov, Mapping) and bool(_unknown_flows(cov))
    # The usual promise does not hold for accounts whose venue does not report flows: qualify it.
    caveat = (", except on the accounts the coverage section lists, whose venue does not report them"
              if unknown else "")
    return ('<p class="note">Values are fractions shown as percentages; returns are time-weighted '
            f"(Modified Dietz per day) so deposits and withdrawals never count as performance{caveat}.</p>")


def render_report_html(report: Mapping[str, Any]) -> str:
    payload, a = _sections(report)
    ccy = _e(payload.get("base_currency") or "USD")
    title = _get(report, "display", "report_name") or payload.get("report_name") or "Track record report"
    body = "".join([
        _header(report, payload, a), _cards(a), _charts(a, payload), _monthly_grid(a), _metrics_tables(a, ccy),
        _benchmark_table(a), _drawdown_table(a), _coverage(payload, a), _methodology(payload),
        _verification(report, payload),
    ])
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>{body}"
            f"{_footer(payload, a)}</main></body></html>")
