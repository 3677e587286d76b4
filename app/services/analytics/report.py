"""Assemble every analytics figure for a report into one JSON-safe dict (shape in ``compute_analytics``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from . import stats
from ._num import NOT_REPRESENTABLE, FloatArray, finite_rows, iso_day, iso_days, publishable, ratio
from .benchmark import DEFAULT_MIN_OBSERVATIONS, benchmark_section
from .drawdown import drawdown_periods, drawdown_series, drawdown_summary
from .periodic import monthly_returns, yearly_returns
from .portfolio import Portfolio, portfolio_from_rows
from .returns import DailyReturns, log_nav_from_returns, modified_dietz, nav_from_returns

GIPS_SHORT = "not annualised: the period with capital is shorter than 365 days (GIPS)"
NO_CAPITAL = "no day with capital in the period"
FLOWS_UNKNOWN = ("unknown: an account in the period is on a venue that does not report deposits/withdrawals, "
                 "so they cannot be totalled (nor profit and loss told apart from them)")
# Sections whose figures are returns, so they depend on every deposit and withdrawal being known.
FLOW_DEPENDENT = ("core", "trading", "risk", "drawdown", "benchmark", "monthly_returns", "yearly_returns",
                  "daily[].return", "daily[].nav", "daily[].drawdown")
_ANNUALISED = frozenset({"cagr", "volatility", "sharpe", "sortino", "downside_deviation", "calmar", "alpha",
                         "tracking_error", "information_ratio"})
_RELATIVE = frozenset({"alpha", "beta", "correlation", "tracking_error", "information_ratio"})
_MIN_RETURNS = {"volatility": 2, "sharpe": 2, "sortino": 2, "skewness": 3, "kurtosis": 4}
_WHY_ELSE = {
    "sharpe": "the daily returns do not vary (zero dispersion)",
    "skewness": "the daily returns do not vary (zero dispersion)",
    "kurtosis": "the daily returns do not vary (zero dispersion)",
    "sortino": "no day below the 0 % target: downside deviation is 0",
    "calmar": "no drawdown in the period",
    "win_rate": "no day with a gain or a loss",
    "profit_factor": "no losing day",
    "avg_loss": "no losing day",
    "avg_win": "no winning day",
    "beta": "the benchmark's returns do not vary",
    "correlation": "the portfolio's or the benchmark's returns do not vary",
    "information_ratio": "the portfolio tracks the benchmark exactly (zero tracking error)",
}


@dataclass(frozen=True, slots=True)
class AnalyticsOptions:
    annualisation: float = 365.0  # calendar days: accounts are valued every day, weekends included
    risk_free: float = 0.0  # per period (per day), as empyrical's risk_free
    min_base: float = 0.0  # capital at risk at or below this makes a day's return undefined (left out)
    min_benchmark_observations: int = DEFAULT_MIN_OBSERVATIONS
    include_daily: bool = True
    daily_columns: tuple[str, ...] | None = None  # None: every column of `daily` (see _daily)
    min_annualised_days: int = 365  # GIPS: nothing is annualised over a shorter period
    stale_after_days: int | None = 7  # an account silent for longer stops being carried forward


@dataclass(frozen=True, slots=True)
class _Series:
    """Everything derived from the daily returns that more than one section needs."""

    dr: DailyReturns
    nav: FloatArray
    log_nav: FloatArray
    dd: FloatArray
    capital_from: int | None  # index of the first close with capital (CAGR starts there)
    span_days: int  # calendar days from that close to the last
    annualise: bool


def _series(p: Portfolio, o: AnalyticsOptions) -> _Series:
    dr = modified_dietz(p.values, p.flows, p.transfers, min_base=o.min_base)
    nav, log_nav = nav_from_returns(dr.r), log_nav_from_returns(dr.r)
    with_capital = np.flatnonzero(~dr.undefined)
    capital_from = int(with_capital[0]) if with_capital.size else None
    span = int((p.days[-1] - p.days[capital_from or 0]).astype(np.int64))
    annualise = capital_from is not None and span >= o.min_annualised_days
    return _Series(dr, nav, log_nav, drawdown_series(nav, log_nav), capital_from, span, annualise)


def _core(s: _Series, o: AnalyticsOptions) -> dict[str, Any]:
    r = s.dr.defined
    growth = stats.cagr(float(s.log_nav[-1]), s.span_days, o.annualisation) if s.annualise else None
    max_dd = float(np.min(s.dd))
    core: dict[str, Any] = {
        "total_return": float(s.nav[-1] - 1.0),
        "cagr": growth,
        "volatility": stats.volatility(r, o.annualisation),
        "sharpe": stats.sharpe(r, o.annualisation, o.risk_free),
        "sortino": stats.sortino(r, o.annualisation),
        "downside_deviation": stats.downside_deviation(r, o.annualisation),
        "calmar": None if growth is None else ratio(growth, abs(max_dd)),
        "max_drawdown": max_dd,
        "current_drawdown": float(s.dd[-1]),
    }
    if not s.annualise:
        core.update(dict.fromkeys(_ANNUALISED & core.keys()))
    return core


def _risk(r: FloatArray) -> dict[str, float | None]:
    return {
        "var_95": stats.value_at_risk(r, 0.95),
        "var_99": stats.value_at_risk(r, 0.99),
        "es_95": stats.expected_shortfall(r, 0.95),
        "es_99": stats.expected_shortfall(r, 0.99),
        "skewness": stats.skewness(r),
        "kurtosis": stats.excess_kurtosis(r),
    }


def _flows(p: Portfolio, flows_unknown: bool) -> dict[str, Any]:
    """Money in and out after day one: deposits and withdrawals summed gross (a day with 1,220 in and
    201 out is 1,220 / 201, not 1,019 / 0), and accounts joining or leaving the aggregate. Unknown,
    not 0, when a venue in the period does not report deposits/withdrawals."""
    start, end = float(p.values[0]), float(p.values[-1])
    added, removed = float(p.joined[1:].sum()), float(p.left[1:].sum())
    inflows, outflows = float(p.deposits[1:].sum()), float(p.withdrawals[1:].sum())
    known = not flows_unknown
    return {
        "known": known,
        "start_value": start,
        "end_value": end,
        "total_inflows": inflows if known else None,
        "total_outflows": outflows if known else None,
        "net_flows": inflows - outflows if known else None,
        "accounts_added": added,
        "accounts_removed": removed,
        "pnl": end - start - (inflows - outflows) - (added - removed) if known else None,
    }


def _daily(p: Portfolio, s: _Series, reasons: dict[str, str], columns: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """One row per day. A signed report asks only for date, return and NAV: the other columns are
    then neither computed into rows nor checked (a third of the report's time went to unused cells)."""
    def rets() -> Any:
        return np.concatenate(([np.nan], np.where(s.dr.undefined, np.nan, s.dr.r)))  # none on day one / no capital

    makers: dict[str, Any] = {"date": lambda: iso_days(p.days), "value": lambda: p.values, "flow": lambda: p.flows,
                              "transfer": lambda: p.transfers, "return": rets, "nav": lambda: s.nav,
                              "drawdown": lambda: s.dd, "carried": lambda: p.carried}
    wanted = columns if columns is not None else tuple(makers)
    rows = finite_rows("daily", {name: makers[name]() for name in wanted}, reasons)
    reasons.pop("daily[].return", None)  # null by definition there, as `period` counts
    return rows


def _period(p: Portfolio, s: _Series, o: AnalyticsOptions) -> dict[str, Any]:
    wiped = p.days[1:][s.dr.wiped]
    return {
        "start": p.coverage["start"],
        "end": p.coverage["end"],
        "span_days": int((p.days[-1] - p.days[0]).astype(np.int64)),
        "capital_start": None if s.capital_from is None else iso_day(p.days[s.capital_from]),
        "capital_span_days": s.span_days if s.capital_from is not None else 0,
        "annualised": s.annualise,
        "observations": int(s.dr.r.size - s.dr.undefined.sum()),
        "undefined_return_days": int(s.dr.undefined.sum()),
        "wipe_out_days": iso_days(wiped),
        "annualisation_factor": o.annualisation,
        "risk_free": o.risk_free,
    }


def _explain(result: dict[str, Any], s: _Series, reasons: dict[str, str], min_shared: int) -> None:
    """A reason for every figure left null (GIPS, too few returns, no dispersion, …)."""
    r = s.dr.defined
    beyond = not (np.isfinite(r).all() and np.isfinite(s.nav).all())
    for section in ("core", "trading", "risk", "benchmark"):
        block = result.get(section) or {}
        for key, value in block.items():
            if value is not None or not isinstance(key, str) or f"{section}.{key}" in reasons:
                continue
            reasons[f"{section}.{key}"] = _why(section, key, r.size, s, block, beyond, min_shared)


def _why(section: str, key: str, n: int, s: _Series, block: dict[str, Any], beyond: bool, min_shared: int) -> str:
    if s.dr.r.size == 0:
        return "a single day of data: there is no daily return yet"
    if s.capital_from is None:
        return NO_CAPITAL
    if key in _ANNUALISED and not s.annualise:
        return GIPS_SHORT
    if section == "benchmark":
        shared = int(block.get("observations") or 0)
        if shared < 1:
            return "fewer than two dates shared with the benchmark"
        if key in _RELATIVE and shared < min_shared:
            return f"needs at least {min_shared} returns on dates shared with the benchmark; there are {shared}"
    need = _MIN_RETURNS.get(key, 1)
    if section != "benchmark" and n < need:
        return f"needs at least {need} daily returns with capital; there are {n}"
    if beyond:
        return NOT_REPRESENTABLE
    return _WHY_ELSE.get(key, "not defined for this series")


def compute_analytics(
    portfolio: Portfolio,
    *,
    benchmark_symbol: str | None = None,
    benchmark_closes: Mapping[date, float | Decimal] | None = None,
    options: AnalyticsOptions | None = None,
    flows_unknown: bool = False,
) -> dict[str, Any]:
    """All figures of SPEC §9 as fractions. Top-level keys:

    period, core, trading, risk, drawdown, benchmark (None without one), flows, coverage,
    monthly_returns, yearly_returns, daily, undefined ({dotted path: why it is null}),
    depends_on_unknown_flows. See the package docstring for each section's keys.
    Every figure crosses ``publishable``: none is ever NaN or ±inf.
    """
    o = options or AnalyticsOptions()
    reasons: dict[str, str] = {}
    with np.errstate(all="ignore"):
        s = _series(portfolio, o)
        r, days = s.dr.defined, portfolio.days
        bench = None
        if benchmark_symbol and benchmark_closes is not None:
            bench = benchmark_section(
                benchmark_symbol, days, s.dr.r, s.nav, benchmark_closes, annualisation=o.annualisation,
                risk_free=o.risk_free, min_observations=o.min_benchmark_observations, annualise=s.annualise,
                reasons=reasons,
            )
        result = {
            "period": _period(portfolio, s, o),
            "core": _core(s, o),
            "trading": stats.trading_stats(r),
            "risk": _risk(r),
            "drawdown": drawdown_summary(s.dd, drawdown_periods(days, s.dd)),
            "benchmark": bench,
            "flows": _flows(portfolio, flows_unknown),
            "coverage": portfolio.coverage,
            "monthly_returns": monthly_returns(days[1:], s.dr.r),
            "yearly_returns": yearly_returns(days, s.dr.r),
            "daily": _daily(portfolio, s, reasons, o.daily_columns) if o.include_daily else [],
        }
    if flows_unknown:
        reasons.update({f"flows.{k}": FLOWS_UNKNOWN for k in ("total_inflows", "total_outflows", "net_flows", "pnl")})
    result = publishable(result, reasons)
    _explain(result, s, reasons, max(o.min_benchmark_observations, 2))
    result["undefined"] = dict(sorted(reasons.items()))
    result["depends_on_unknown_flows"] = list(FLOW_DEPENDENT) if flows_unknown else []
    return result


def analyse_snapshots(
    rows: Iterable[Any],
    *,
    still_active: Collection[Any] | None = None,
    benchmark_symbol: str | None = None,
    benchmark_closes: Mapping[date, float | Decimal] | None = None,
    options: AnalyticsOptions | None = None,
    flows_unknown: bool = False,
) -> dict[str, Any]:
    """Snapshot rows (objects or mappings with connection_id, day, total_equity, deposits,
    withdrawals) → ``compute_analytics``. Rows of excluded connections must be filtered out first."""
    o = options or AnalyticsOptions()
    portfolio = portfolio_from_rows(rows, still_active=still_active, stale_after_days=o.stale_after_days)
    return compute_analytics(portfolio, benchmark_symbol=benchmark_symbol, benchmark_closes=benchmark_closes,
                             options=o, flows_unknown=flows_unknown)
