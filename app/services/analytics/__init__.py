"""Pure, numpy-vectorised performance analytics (SPEC §9). No I/O, no database, no clock.

Entry points:
    analyse_snapshots(rows, *, still_active=None, benchmark_symbol=None, benchmark_closes=None,
                      options=None) -> dict
    compute_analytics(portfolio, *, benchmark_symbol=None, benchmark_closes=None, options=None) -> dict
    portfolio_from_rows(rows, *, still_active=None) -> Portfolio
    Portfolio.from_points([DailyPoint(day, value, flow), ...]) -> Portfolio
    bench_analytics() -> {"rows", "repeats", "median_ms", "min_ms", "max_ms"}

Result (all values fractions; None where undefined — never NaN/inf; dates 'YYYY-MM-DD'):
    period:   start, end, span_days (end − start, calendar), capital_start (first close with capital:
              CAGR starts there), capital_span_days, annualised (GIPS: span ≥ 365 days),
              observations (daily returns with capital), undefined_return_days (no capital: left out
              of every statistic), wipe_out_days (a return ≤ −100 %: NAV 0 from then on),
              annualisation_factor, risk_free (per day)
    core:     total_return, cagr, volatility, sharpe, sortino, downside_deviation, calmar,
              max_drawdown (≤ 0), current_drawdown (≤ 0)
    trading:  win_rate, profit_factor, avg_win, avg_loss (< 0), winning_days, losing_days, flat_days,
              best_day, worst_day
    risk:     var_95, var_99, es_95, es_99 (positive = loss), skewness, kurtosis (excess)
    drawdown: max_drawdown, max_drawdown_start/trough/end, max_drawdown_duration_days,
              longest_drawdown_days, current_drawdown, current_drawdown_days,
              periods: [{start, trough, end|None, depth, length_days, decline_days,
                         recovery_days|None, recovered}]
    benchmark: None, or {symbol, observations, periods_per_year, alpha, beta, correlation,
              tracking_error, information_ratio, benchmark_return, portfolio_return,
              series: [{date, nav}], monthly_returns: [{month, return}]}
    flows:    known, start_value, end_value, total_inflows / total_outflows (gross deposits /
              withdrawals), net_flows, accounts_added, accounts_removed, pnl (currency units; the
              flow figures are None when a venue in the period does not report flows)
    coverage: start, end, calendar_days, days_with_data, days_without_data, gaps: [[from, to]],
              connections: [{connection_id, first_day, last_day, snapshots, carried_forward_days,
                             removed, stale, stale_gaps}]
    monthly_returns: [{month 'YYYY-MM', return, days}]
    yearly_returns: [{year 'YYYY', return, days, from, to, partial}] (calendar years, GIPS)
    daily:    [{date, value, flow, transfer, return (None on day one and days without capital), nav,
              drawdown, carried}]
    undefined: {dotted path: why that figure is None}; depends_on_unknown_flows: [sections]
"""

from .bench import bench_analytics
from .methodology import METHODOLOGY_VERSION, methodology
from .portfolio import (
    DailyPoint,
    Portfolio,
    SnapshotRow,
    build_portfolio,
    columns_from_rows,
    portfolio_from_rows,
)
from .report import AnalyticsOptions, analyse_snapshots, compute_analytics
from .returns import modified_dietz, nav_from_returns

__all__ = [
    "METHODOLOGY_VERSION",
    "AnalyticsOptions",
    "DailyPoint",
    "Portfolio",
    "SnapshotRow",
    "analyse_snapshots",
    "bench_analytics",
    "build_portfolio",
    "columns_from_rows",
    "compute_analytics",
    "methodology",
    "modified_dietz",
    "nav_from_returns",
    "portfolio_from_rows",
]
