"""Every metric cross-checked against empyrical-reloaded, quantstats or pandas on the same returns.

Mapping of conventions (ours ← library call):
  total_return        ← empyrical.cum_returns_final(r)
  cagr                ← empyrical.annual_return(r_cal, annualization=365); r_cal = r with 0 on every
                        calendar day that has no data, because we annualise over calendar days while
                        the libraries count observations (identical when there are no gaps)
  volatility          ← empyrical.annual_volatility(r, annualization=365)          (sample std)
  sharpe              ← empyrical.sharpe_ratio(r, risk_free=rf, annualization=365)
  sortino             ← empyrical.sortino_ratio(r, required_return=0, annualization=365)
  downside_deviation  ← empyrical.downside_risk(r, 0, annualization=365)
  max_drawdown        ← empyrical.max_drawdown(r)                                (≤ 0 in both)
  calmar              ← empyrical.calmar_ratio(r_cal, annualization=365)
  current_drawdown    ← quantstats.to_drawdown_series(r)[-1]
  drawdown periods    ← quantstats.drawdown_details(dd): their start/end are the first/last day
                        *under water*; ours are the peak day before and the recovery day after
  win_rate, profit_factor, avg_win, avg_loss ← quantstats (avg_loss negative in both)
  var_95/99           ← −empyrical.value_at_risk(r, 0.05/0.01)       (we report losses as positive)
  es_95/99            ← −empyrical.conditional_value_at_risk(r, 0.05/0.01)
  skewness, kurtosis  ← pandas Series.skew()/kurt() and quantstats.skew/kurtosis
  monthly/yearly      ← empyrical.aggregate_returns(r, 'monthly'/'yearly')
Where the library gives NaN or ±inf (too few points, zero dispersion, no losses) we return None;
quantstats' win_rate returns 0.0 and profit_factor inf/0.0 for those cases — also None for us.
A series whose spread is below floating-point resolution (a constant return recomputed from money
values) makes the libraries divide by ~1e-18 and report a Sharpe ratio of ~1e14: we call it
constant, and assert None for the ratios that divide by dispersion.
Tolerance: 1e-9 relative, 1e-12 absolute for values that are ~0.

Where our conventions differ from the libraries' (and why):
  - GIPS: we never annualise a period shorter than 365 days (CAGR, volatility, Sharpe, Sortino,
    downside deviation, Calmar are null with a reason); the libraries annualise any length. The
    formulas are compared with that presentation rule switched off (min_annualised_days=0), and
    test_short_periods_are_not_annualised checks the rule itself.
  - Days without capital (base ≤ 0) are left out of every statistic; the libraries would see 0.
  - A return ≤ −100 % is a wipe-out (NAV 0 for good); the libraries' cumprod would flip sign.
  - Past float range (NAV > 1.8e308) figures are null with a reason; the libraries give inf/NaN.
"""

from __future__ import annotations

import math
from typing import Any

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from app.services.analytics import AnalyticsOptions, Portfolio, compute_analytics
from app.services.analytics._num import is_constant

ANN = 365


def close(ours: Any, theirs: Any) -> bool:
    """Equal to 1e-9 relative; a non-finite library value must be None on our side."""
    if theirs is None or not math.isfinite(float(theirs)):
        return ours is None
    return ours is not None and math.isclose(ours, float(theirs), rel_tol=1e-9, abs_tol=1e-12)


def returns_of(result: dict[str, Any]) -> pd.Series:
    rows = result["daily"][1:]
    idx = pd.DatetimeIndex([row["date"] for row in rows])
    return pd.Series([row["return"] for row in rows], index=idx, dtype=float)


def calendar_returns(r: pd.Series, start: str) -> pd.Series:
    """r with a 0 return on every calendar day without data (same NAV, calendar length)."""
    full = pd.date_range(start, r.index[-1], freq="D")[1:]
    return r.reindex(full, fill_value=0.0)


def analyse(p: Portfolio, rf: float = 0.0) -> tuple[dict[str, Any], pd.Series]:
    """GIPS's 'no annualising under a year' off, so every formula can be compared with the libraries."""
    result = compute_analytics(p, options=AnalyticsOptions(risk_free=rf, min_annualised_days=0))
    return result, returns_of(result)


ANNUALISED = ("cagr", "volatility", "sharpe", "sortino", "downside_deviation", "calmar")


def test_short_periods_are_not_annualised(case: tuple[str, Portfolio]) -> None:
    name, p = case
    result = compute_analytics(p)
    span = result["period"]["capital_span_days"]
    assert result["period"]["annualised"] is (span >= 365), name
    if span >= 365:
        assert result["core"]["cagr"] is not None, name
        return
    if result["period"]["observations"] == 0:
        assert result["undefined"]["core.cagr"].startswith("a single day"), name
        return
    for key in ANNUALISED:
        assert result["core"][key] is None, (name, key)
        assert result["undefined"][f"core.{key}"].startswith("not annualised"), (name, key)
    assert result["core"]["total_return"] == analyse(p)[0]["core"]["total_return"]


@pytest.mark.parametrize("rf", [0.0, 0.0001])
def test_core_metrics_match_empyrical(case: tuple[str, Portfolio], rf: float) -> None:
    name, p = case
    result, r = analyse(p, rf)
    core = result["core"]
    if r.empty:  # one day: nothing to compare but the defined figures
        assert core["total_return"] == 0.0 and core["cagr"] is None and core["sharpe"] is None
        return
    a = r.to_numpy()
    r_cal = calendar_returns(r, result["period"]["start"]).to_numpy()
    assert close(core["total_return"], ep.cum_returns_final(a)), name
    assert close(core["cagr"], ep.annual_return(r_cal, annualization=ANN)), name
    assert close(core["volatility"], ep.annual_volatility(a, annualization=ANN)) or (
        core["volatility"] == 0.0 and abs(ep.annual_volatility(a, annualization=ANN)) < 1e-15
    ), name
    if is_constant(a):
        assert core["sharpe"] is None, name
    else:
        assert close(core["sharpe"], ep.sharpe_ratio(a, risk_free=rf, annualization=ANN)), name
    assert close(core["sortino"], ep.sortino_ratio(a, required_return=0, annualization=ANN)), name
    assert close(core["downside_deviation"], ep.downside_risk(a, 0, annualization=ANN)), name
    assert close(core["max_drawdown"], ep.max_drawdown(a)), name
    assert close(core["calmar"], ep.calmar_ratio(r_cal, annualization=ANN)), name


def test_drawdowns_match_quantstats(case: tuple[str, Portfolio]) -> None:
    name, p = case
    result, r = analyse(p)
    if r.empty:
        assert result["drawdown"]["periods"] == [] and result["drawdown"]["max_drawdown"] == 0.0
        return
    dd = result["drawdown"]
    assert close(dd["current_drawdown"], qs.stats.to_drawdown_series(r).iloc[-1]), name
    assert close(dd["max_drawdown"], qs.stats.max_drawdown(r)), name

    # quantstats works on a drawdown series; give it ours including day one (0, the first peak).
    series = pd.Series([row["drawdown"] for row in result["daily"]],
                       index=pd.DatetimeIndex([row["date"] for row in result["daily"]]))
    details = qs.stats.drawdown_details(series)
    assert len(details) == len(dd["periods"]), name
    day_list = [row["date"] for row in result["daily"]]
    for ours, (_, theirs) in zip(dd["periods"], details.iterrows(), strict=True):
        first_under = day_list[day_list.index(ours["start"]) + 1]
        last_under = day_list[day_list.index(ours["end"]) - 1] if ours["recovered"] else day_list[-1]
        assert (theirs["start"], theirs["end"], theirs["valley"]) == (first_under, last_under, ours["trough"])
        assert close(ours["depth"], theirs["max drawdown"] / 100.0), name


def test_trading_stats_match_quantstats(case: tuple[str, Portfolio]) -> None:
    name, p = case
    result, r = analyse(p)
    t = result["trading"]
    if (r != 0).sum() == 0:  # quantstats: 0.0 / NaN here; we say "undefined"
        assert t["win_rate"] is None and t["profit_factor"] is None and t["avg_win"] is None
        return
    assert close(t["win_rate"], qs.stats.win_rate(r, prepare_returns=False)), name
    assert close(t["profit_factor"], qs.stats.profit_factor(r, prepare_returns=False)), name
    assert close(t["avg_win"], qs.stats.avg_win(r, prepare_returns=False)), name
    assert close(t["avg_loss"], qs.stats.avg_loss(r, prepare_returns=False)), name
    assert close(t["best_day"], qs.stats.best(r, prepare_returns=False)), name
    assert close(t["worst_day"], qs.stats.worst(r, prepare_returns=False)), name


def test_risk_metrics_match_empyrical_and_pandas(case: tuple[str, Portfolio]) -> None:
    name, p = case
    result, r = analyse(p)
    risk = result["risk"]
    if r.empty:
        assert all(v is None for v in risk.values())
        return
    a = r.to_numpy()
    assert close(risk["var_95"], -ep.value_at_risk(a, 0.05)), name
    assert close(risk["var_99"], -ep.value_at_risk(a, 0.01)), name
    assert close(risk["es_95"], -ep.conditional_value_at_risk(a, 0.05)), name
    assert close(risk["es_99"], -ep.conditional_value_at_risk(a, 0.01)), name
    if is_constant(a):
        assert risk["skewness"] is None and risk["kurtosis"] is None, name
        return
    assert close(risk["skewness"], r.skew()), name
    assert close(risk["kurtosis"], r.kurt()), name
    assert close(risk["skewness"], qs.stats.skew(r, prepare_returns=False)), name
    assert close(risk["kurtosis"], qs.stats.kurtosis(r, prepare_returns=False)), name


def test_monthly_and_yearly_match_empyrical(case: tuple[str, Portfolio]) -> None:
    name, p = case
    result, r = analyse(p)
    if r.empty:
        assert result["monthly_returns"] == [] and result["yearly_returns"] == []
        return
    monthly = ep.aggregate_returns(r, "monthly")
    assert [m["month"] for m in result["monthly_returns"]] == [f"{y:04d}-{m:02d}" for y, m in monthly.index]
    for ours, theirs in zip(result["monthly_returns"], monthly, strict=True):
        assert close(ours["return"], theirs), name
    yearly = ep.aggregate_returns(r, "yearly")
    assert [y["year"] for y in result["yearly_returns"]] == [str(y) for y in yearly.index]
    for ours, theirs in zip(result["yearly_returns"], yearly, strict=True):
        assert close(ours["return"], theirs), name
    # Compounding the months gives the total: no day is dropped at a month boundary.
    assert close(float(np.prod([1 + m["return"] for m in result["monthly_returns"]]) - 1),
                 result["core"]["total_return"])
