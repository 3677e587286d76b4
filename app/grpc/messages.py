"""zka's figures in the original's message shapes (ts-original §30, field numbers §37A).

Units follow the original's proto comments so the gateway's screens stay right: returns, volatility,
drawdowns, win rate, VaR and the daily/monthly returns in percent (zka computes fractions); drawdowns and
the average loss as positive numbers; ratios as they are. proto3 has no null: a figure zka leaves undefined
(too short a period to annualise, unknown cash...) travels as 0 and is named, with its reason, in the
`zka-undefined` trailer (JSON object field -> reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from app.core.labels import LABEL_RULE, is_valid_label
from app.errors import BadRequest
from app.grpc.calls import ms_of_day, number
from app.grpc.generated import enclave_pb2 as pb
from app.models import SignedReport, Snapshot
from app.routers.connections import Envelope
from app.services.benchmarks import SUPPORTED as BENCHMARKS
from app.services.manual_sync import ManualResult
from app.services.report_signing import ALGORITHM

NOT_COMPUTED = "not computed: zka measures equity, flows and time-weighted returns, not realized P&L"
MARKETS = ("global", "spot", "swap", "options", "stocks", "futures", "cfd", "forex", "commodities")


def pct(value: Any) -> float:
    return 0.0 if value is None else float(value) * 100


def pct_positive(value: Any) -> float:
    return 0.0 if value is None else abs(float(value)) * 100


def text_field(value: str, name: str, limit: int) -> str | None:
    if len(value) > limit:
        raise BadRequest(f"{name}: at most {limit} characters", code="validation_error")
    return value or None


def label_of(value: str, exchange: str) -> str:
    if not value:
        return f"{exchange} account"  # as REST
    if not is_valid_label(value):
        raise BadRequest(f"label: must be {LABEL_RULE}", code="validation_error")
    return value


def benchmark_of(value: str) -> str | None:
    if not value:
        return None
    if value not in BENCHMARKS:
        raise BadRequest(f"benchmark {value[:16]!r} is not supported; one of: {', '.join(BENCHMARKS)}",
                         code="validation_error")
    return value


def envelope(value: Any) -> dict[str, Any]:
    """Validated by REST's own model (same limits, no other field)."""
    return Envelope.model_validate(value).model_dump()


# -- responses ---------------------------------------------------------------------------------------------


def aggregated(totals: Mapping[str, Any]) -> tuple[pb.AggregatedMetricsResponse, dict[str, str]]:
    undefined = {"total_realized_pnl": NOT_COMPUTED}
    for field, name in (("total_balance", "cash"), ("total_unrealized_pnl", "unrealized_pnl")):
        if totals[name] is None:
            undefined[field] = f"unknown for connections {totals['unknown'].get(name)} (a statement lacked it)"
    last = totals["last_day"]
    return pb.AggregatedMetricsResponse(
        total_balance=number(totals["cash"]), total_equity=number(totals["total_equity"]),
        total_realized_pnl=0.0, total_unrealized_pnl=number(totals["unrealized_pnl"]),
        total_fees=number(totals["fees"]), total_trades=int(totals["trades"]),
        last_sync=ms_of_day(last),
    ), undefined


def _market(stats: Any) -> pb.MarketMetrics | None:
    if not isinstance(stats, dict) or "trades" not in stats:
        return None  # e.g. unpriced_assets
    return pb.MarketMetrics(equity=number(stats.get("equity")), volume=number(stats.get("volume")),
                            trades=int(stats.get("trades") or 0), trading_fees=number(stats.get("fees")),
                            funding_fees=number(stats.get("funding")))


def breakdown(markets: Mapping[str, Any]) -> pb.MarketBreakdown | None:
    parts = {name: m for name in MARKETS if (m := _market(markets.get(name))) is not None}
    return pb.MarketBreakdown(**parts) if parts else None


def time_series(rows: Sequence[Snapshot]) -> tuple[pb.SnapshotTimeSeriesResponse, dict[str, str]]:
    out = []
    unknown = 0
    for row in reversed(rows):  # newest first, as the original
        unknown += row.cash is None or row.unrealized_pnl is None
        out.append(pb.DailySnapshot(
            user_uid=row.user_uid, exchange=row.exchange, timestamp=ms_of_day(row.day),
            total_equity=number(row.total_equity), realized_balance=number(row.cash),
            unrealized_pnl=number(row.unrealized_pnl), deposits=number(row.deposits),
            withdrawals=number(row.withdrawals), breakdown=breakdown(row.breakdown or {}),
        ))
    undefined = {"snapshots.realized_balance": f"unknown on {unknown} backfilled days (0 here; null in "
                 "GET /api/v1/snapshots)"} if unknown else {}
    return pb.SnapshotTimeSeriesResponse(snapshots=out), undefined


_PERFORMANCE_FIELDS = {  # proto field -> zka path
    "sharpe_ratio": "core.sharpe", "sortino_ratio": "core.sortino", "calmar_ratio": "core.calmar",
    "volatility": "core.volatility", "downside_deviation": "core.downside_deviation",
    "max_drawdown": "core.max_drawdown", "current_drawdown": "core.current_drawdown",
    "win_rate": "trading.win_rate", "profit_factor": "trading.profit_factor", "avg_win": "trading.avg_win",
    "avg_loss": "trading.avg_loss",
}


def _undefined(reasons: Mapping[str, str], fields: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, str]:
    return {proto: reasons.get(path, "not defined for this data")
            for proto, path in fields.items() if values.get(proto) is None}


def performance(a: Mapping[str, Any]) -> tuple[pb.PerformanceMetricsResponse, dict[str, str]]:
    core, trading, drawdown = a["core"], a["trading"], a["drawdown"]
    values = {proto: a[path.split(".")[0]][path.split(".")[1]] for proto, path in _PERFORMANCE_FIELDS.items()}
    return pb.PerformanceMetricsResponse(
        success=True,
        sharpe_ratio=number(core["sharpe"]), sortino_ratio=number(core["sortino"]), calmar_ratio=number(core["calmar"]),
        volatility=pct(core["volatility"]), downside_deviation=pct(core["downside_deviation"]),
        max_drawdown=pct_positive(core["max_drawdown"]),
        max_drawdown_duration=int(drawdown["max_drawdown_duration_days"] or 0),
        current_drawdown=pct_positive(core["current_drawdown"]),
        win_rate=pct(trading["win_rate"]), profit_factor=number(trading["profit_factor"]),
        avg_win=pct(trading["avg_win"]), avg_loss=pct_positive(trading["avg_loss"]),
        period_start=ms_of_day(_day(a["period_start"])), period_end=ms_of_day(_day(a["period_end"])),
        data_points=len(a["daily"]),
    ), _undefined(a.get("undefined", {}), _PERFORMANCE_FIELDS, values)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def sync_job(user_uid: str, exchange: str, done: Iterable[ManualResult]) -> pb.SyncJobResponse:
    results = list(done)
    latest = max(results, key=lambda r: (r.snapshot.day, r.snapshot.taken_at), default=None)
    trades = sum(int(m.get("trades") or 0) for r in results for m in r.snapshot.breakdown.values()
                 if isinstance(m, dict))
    snap = None if latest is None else pb.SyncJobResponse.Snapshot(
        balance=number(latest.snapshot.cash), equity=number(latest.snapshot.total_equity),
        timestamp=ms_of_day(latest.snapshot.day))
    return pb.SyncJobResponse(success=True, user_uid=user_uid, exchange=exchange, synced=trades,
                              snapshots_generated=sum(1 + r.backfilled for r in results), latest_snapshot=snap)


_REPORT_FIELDS = {
    "annualized_return": "core.cagr", "volatility": "core.volatility", "sharpe_ratio": "core.sharpe",
    "sortino_ratio": "core.sortino", "calmar_ratio": "core.calmar",
    "var_95": "risk.var_95", "var_99": "risk.var_99", "expected_shortfall": "risk.es_95",
    "skewness": "risk.skewness", "kurtosis": "risk.kurtosis",
    "alpha": "benchmark.alpha", "beta": "benchmark.beta", "information_ratio": "benchmark.information_ratio",
    "tracking_error": "benchmark.tracking_error", "correlation": "benchmark.correlation",
}


def attestation_id(payload: Mapping[str, Any]) -> str:
    """The SEV-SNP REPORT_ID (hex) of the boot attestation report the signed payload carries: the
    firmware's identifier of this guest launch, inside the signature (the original sent an operator-set
    ATTESTATION_ID, unchecked). '' when the document carries no evidence."""
    decoded = ((payload.get("attestation") or {}).get("report") or {}).get("decoded") or {}
    value = decoded.get("report_id")
    return value if isinstance(value, str) else ""


def signed_report(row: SignedReport, *, user_uid: str, version: str, mode: str) -> tuple[pb.SignedReportResponse,
                                                                                          dict[str, str]]:
    payload = row.payload
    m = payload["metrics"]
    core = m["core"]
    risk = m.get("risk") or {}
    bench = m.get("benchmark") or {}
    dd = m.get("drawdown") or {}
    sections = {"core": core, "risk": risk, "benchmark": bench}
    values = {proto: sections[path.split(".")[0]].get(path.split(".")[1]) for proto, path in _REPORT_FIELDS.items()}
    daily = [pb.DailyReturnData(date=d["date"], net_return=pct(d["return"]), outperformance=pct(d["return"]),
                                cumulative_return=number(d["nav"]), nav=number(d["nav"])) for d in m["daily"]]
    monthly = [pb.MonthlyReturnData(date=r["month"], net_return=pct(r["return"]), outperformance=pct(r["return"]))
               for r in m["monthly_returns"]]
    periods = [pb.DrawdownPeriodData(start_date=p["start"], end_date=p.get("end") or "", depth=pct_positive(p["depth"]),
                                     duration=int(p["length_days"]), recovered=bool(p["recovered"]))
               for p in dd.get("periods", [])]
    response = pb.SignedReportResponse(
        success=True, report_id=row.report_id, user_uid=user_uid,
        report_name=(row.display or {}).get("report_name") or "Track Record Report",
        generated_at=payload["generated_at"], period_start=payload["period_start"], period_end=payload["period_end"],
        base_currency=payload["base_currency"], benchmark=(payload.get("benchmark") or {}).get("symbol") or "",
        data_points=len(m["daily"]), exchanges=sorted({e["exchange"] for e in payload["exchanges"]}),
        total_return=pct(core["total_return"]), annualized_return=pct(core["cagr"]), volatility=pct(core["volatility"]),
        sharpe_ratio=number(core["sharpe"]), sortino_ratio=number(core["sortino"]),
        max_drawdown=pct_positive(core["max_drawdown"]), calmar_ratio=number(core["calmar"]),
        var_95=pct(risk.get("var_95")), var_99=pct(risk.get("var_99")), expected_shortfall=pct(risk.get("es_95")),
        skewness=number(risk.get("skewness")), kurtosis=number(risk.get("kurtosis")),
        alpha=pct(bench.get("alpha")), beta=number(bench.get("beta")),
        information_ratio=number(bench.get("information_ratio")), tracking_error=pct(bench.get("tracking_error")),
        correlation=number(bench.get("correlation")),
        max_drawdown_duration=int(dd.get("max_drawdown_duration_days") or 0),
        current_drawdown=pct_positive(dd.get("current_drawdown")), drawdown_periods=periods,
        daily_returns=daily, monthly_returns=monthly,
        signature=row.signature, public_key=row.public_key, signature_algorithm=ALGORITHM, report_hash=row.hash,
        enclave_version=version, attestation_id=attestation_id(payload), enclave_mode=mode,
    )
    undefined = _undefined(m.get("undefined", {}), _REPORT_FIELDS, values)
    if not risk:
        undefined = {k: v for k, v in undefined.items() if not _REPORT_FIELDS[k].startswith("risk.")}
    if not bench:
        undefined = {k: v for k, v in undefined.items() if not _REPORT_FIELDS[k].startswith("benchmark.")}
    return response, undefined
