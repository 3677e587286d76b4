"""Assemble every analytics figure for a report into one JSON-safe dict (shape in ``compute_analytics``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from . import stats
from ._num import FloatArray, fnum, iso_days, ratio
from .benchmark import DEFAULT_MIN_OBSERVATIONS, benchmark_section
from .drawdown import drawdown_periods, drawdown_series, drawdown_summary
from .periodic import monthly_returns, yearly_returns
from .portfolio import Portfolio, portfolio_from_rows
from .returns import modified_dietz, nav_from_returns


@dataclass(frozen=True, slots=True)
class AnalyticsOptions:
    annualisation: float = 365.0  # calendar days: accounts are valued every day, weekends included
    risk_free: float = 0.0  # per period (per day), as empyrical's risk_free
    min_base: float = 0.0  # capital at risk at or below this makes a day's return undefined (→ 0)
    min_benchmark_observations: int = DEFAULT_MIN_OBSERVATIONS
    include_daily: bool = True


def _safe_list(a: FloatArray) -> list[float | None]:
    if bool(np.isfinite(a).all()):
        return a.tolist()
    return [fnum(x) for x in a.tolist()]


def _core(
    r: FloatArray, nav: FloatArray, span_days: int, dd: FloatArray, o: AnalyticsOptions
) -> dict[str, Any]:
    growth = stats.cagr(float(nav[-1]), span_days, o.annualisation)
    max_dd = float(dd.min())
    return {
        "total_return": fnum(nav[-1] - 1.0),
        "cagr": growth,
        "volatility": stats.volatility(r, o.annualisation),
        "sharpe": stats.sharpe(r, o.annualisation, o.risk_free),
        "sortino": stats.sortino(r, o.annualisation),
        "downside_deviation": stats.downside_deviation(r, o.annualisation),
        "calmar": None if growth is None else ratio(growth, abs(max_dd)),
        "max_drawdown": max_dd,
        "current_drawdown": float(dd[-1]),
    }


def _risk(r: FloatArray) -> dict[str, float | None]:
    return {
        "var_95": stats.value_at_risk(r, 0.95),
        "var_99": stats.value_at_risk(r, 0.99),
        "es_95": stats.expected_shortfall(r, 0.95),
        "es_99": stats.expected_shortfall(r, 0.99),
        "skewness": stats.skewness(r),
        "kurtosis": stats.excess_kurtosis(r),
    }


def _flows(p: Portfolio) -> dict[str, float | None]:
    later = p.flows[1:]  # flows[0] is the opening value, not a deposit
    inflows, outflows = float(later[later > 0].sum()), float(-later[later < 0].sum())
    start, end = float(p.values[0]), float(p.values[-1])
    return {
        "start_value": fnum(start),
        "end_value": fnum(end),
        "total_inflows": fnum(inflows),
        "total_outflows": fnum(outflows),
        "net_flows": fnum(inflows - outflows),
        "pnl": fnum(end - start - (inflows - outflows)),
    }


def _daily(p: Portfolio, r: FloatArray, nav: FloatArray, dd: FloatArray) -> list[dict[str, Any]]:
    rets: list[float | None] = [None, *_safe_list(r)]
    cols = zip(iso_days(p.days), _safe_list(p.values), _safe_list(p.flows), rets,
               _safe_list(nav), _safe_list(dd), p.carried.tolist(), strict=True)
    return [{"date": d, "value": v, "flow": f, "return": x, "nav": n, "drawdown": w, "carried": c}
            for d, v, f, x, n, w, c in cols]


def compute_analytics(
    portfolio: Portfolio,
    *,
    benchmark_symbol: str | None = None,
    benchmark_closes: Mapping[date, float | Decimal] | None = None,
    options: AnalyticsOptions | None = None,
) -> dict[str, Any]:
    """All figures of SPEC §9 as fractions. Top-level keys:

    period, core, trading, risk, drawdown, benchmark (None without one), flows, coverage,
    monthly_returns, yearly_returns, daily. See the package docstring for each section's keys.
    """
    o = options or AnalyticsOptions()
    days = portfolio.days
    r, undefined = modified_dietz(portfolio.values, portfolio.flows, min_base=o.min_base)
    nav = nav_from_returns(r)
    dd = drawdown_series(nav)
    span_days = int((days[-1] - days[0]).astype(np.int64))
    periods = drawdown_periods(days, dd)
    bench = None
    if benchmark_symbol and benchmark_closes is not None:
        bench = benchmark_section(
            benchmark_symbol, days, nav, benchmark_closes, annualisation=o.annualisation,
            risk_free=o.risk_free, min_observations=o.min_benchmark_observations,
        )
    return {
        "period": {
            "start": portfolio.coverage["start"],
            "end": portfolio.coverage["end"],
            "span_days": span_days,
            "observations": int(r.size),
            "undefined_return_days": int(undefined.sum()),
            "annualisation_factor": o.annualisation,
            "risk_free": o.risk_free,
        },
        "core": _core(r, nav, span_days, dd, o),
        "trading": stats.trading_stats(r),
        "risk": _risk(r),
        "drawdown": drawdown_summary(dd, periods),
        "benchmark": bench,
        "flows": _flows(portfolio),
        "coverage": portfolio.coverage,
        "monthly_returns": monthly_returns(days[1:], r),
        "yearly_returns": yearly_returns(days[1:], r),
        "daily": _daily(portfolio, r, nav, dd) if o.include_daily else [],
    }


def analyse_snapshots(
    rows: Iterable[Any],
    *,
    still_active: Collection[Any] | None = None,
    benchmark_symbol: str | None = None,
    benchmark_closes: Mapping[date, float | Decimal] | None = None,
    options: AnalyticsOptions | None = None,
) -> dict[str, Any]:
    """Snapshot rows (objects or mappings with connection_id, day, total_equity, deposits,
    withdrawals) → ``compute_analytics``. Rows of excluded connections must be filtered out first."""
    portfolio = portfolio_from_rows(rows, still_active=still_active)
    return compute_analytics(portfolio, benchmark_symbol=benchmark_symbol,
                             benchmark_closes=benchmark_closes, options=options)
