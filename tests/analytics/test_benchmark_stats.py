"""Benchmark statistics: aligned by date (never by index), checked against empyrical and pandas.

Mapping: alpha, beta ← empyrical.alpha_beta_aligned(p, b, risk_free=rf, annualization=ppy);
correlation ← pandas Series.corr; tracking_error ← empyrical.annual_volatility(p − b,
annualization=ppy); information_ratio ← empyrical.excess_sharpe(p, b) × √ppy. p and b are the
portfolio-NAV and benchmark-close returns between consecutive *common* dates (pandas inner join
then pct_change); ppy = 365 × observations / calendar span (≈252 for SPY, 365 for BTC).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from app.services.analytics import AnalyticsOptions, compute_analytics

from .conftest import CASES
from .test_against_libraries import close


def _closes(days: list[date], seed: int, weekdays_only: bool) -> dict[date, float]:
    rng = np.random.default_rng(seed)
    px = 100 * np.cumprod(1 + rng.normal(0.0003, 0.012, len(days)))
    return {d: float(c) for d, c in zip(days, px, strict=True) if not weekdays_only or d.weekday() < 5}


@pytest.mark.parametrize("weekdays_only", [False, True], ids=["btc_like", "spy_like"])
@pytest.mark.parametrize("name", ["long_5y_with_flows", "gaps_in_dates", "fat_tails_3y"])
def test_benchmark_metrics_match_empyrical_on_date_joined_returns(name: str, weekdays_only: bool) -> None:
    p = CASES[name]
    first, span = p.days[0].astype(date), int((p.days[-1] - p.days[0]).astype(int))
    all_days = [first + timedelta(days=i) for i in range(span + 30)]
    closes = _closes(all_days[5:], seed=9, weekdays_only=weekdays_only)  # starts later, ends later
    rf = 0.00005
    result = compute_analytics(p, benchmark_symbol="X", benchmark_closes=closes,
                               options=AnalyticsOptions(risk_free=rf))
    bench = result["benchmark"]

    daily = result["daily"]
    nav = pd.Series([row["nav"] for row in daily], index=pd.to_datetime([row["date"] for row in daily]))
    bser = pd.Series(closes).rename(index=pd.Timestamp)
    joined = pd.concat([nav, bser], axis=1, join="inner").pct_change().dropna()
    pr, br = joined.iloc[:, 0].to_numpy(), joined.iloc[:, 1].to_numpy()
    span = (joined.index[-1] - pd.concat([nav, bser], axis=1, join="inner").index[0]).days
    ppy = 365 * len(joined) / span

    assert bench["observations"] == len(joined)
    assert close(bench["periods_per_year"], ppy)
    if weekdays_only and name != "gaps_in_dates":
        assert 250 < ppy < 262
    alpha, beta = ep.alpha_beta_aligned(pr, br, risk_free=rf, annualization=ppy)
    assert close(bench["beta"], beta)
    assert close(bench["alpha"], alpha)
    assert close(bench["correlation"], joined.iloc[:, 0].corr(joined.iloc[:, 1]))
    assert close(bench["tracking_error"], ep.annual_volatility(pr - br, annualization=ppy))
    assert close(bench["information_ratio"], ep.excess_sharpe(pr, br) * math.sqrt(ppy))
    assert close(bench["benchmark_return"], ep.cum_returns_final(br))
    assert close(bench["portfolio_return"], ep.cum_returns_final(pr))


def test_alignment_is_by_date_not_by_index() -> None:
    """Benchmark with an extra early date and a missing middle date: index pairing would be off by one."""
    p = CASES["long_5y_with_flows"]
    days = compute_analytics(p)["daily"]
    closes = {date.fromisoformat(r["date"]): r["nav"] * 50 for r in days}  # the portfolio itself
    closes[date(2019, 12, 25)] = 1.0
    del closes[date.fromisoformat(days[100]["date"])]
    bench = compute_analytics(p, benchmark_symbol="SELF", benchmark_closes=closes)["benchmark"]
    assert bench["beta"] == pytest.approx(1.0, abs=1e-12)
    assert bench["correlation"] == pytest.approx(1.0, abs=1e-12)
    assert bench["tracking_error"] == pytest.approx(0.0, abs=1e-12)
    assert bench["alpha"] == pytest.approx(0.0, abs=1e-9)


def test_too_few_common_days_gives_counts_but_no_ratios() -> None:
    p = CASES["short_10d"]
    closes = {p.days[i].astype(date): 100.0 + i for i in range(0, 11, 2)}
    bench = compute_analytics(p, benchmark_symbol="SPY", benchmark_closes=closes)["benchmark"]
    assert bench["observations"] == 5 and bench["beta"] is None and bench["alpha"] is None
    assert bench["benchmark_return"] == pytest.approx(110 / 100 - 1)
    assert len(bench["series"]) == 6 and bench["series"][0]["nav"] == 1.0
