"""The demo venue's generated account: deterministic by date, two realistic years, and the connector
protocol's window semantics (flows of the days whose close falls in the window, balance at its end)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.connectors.base import AuthError, ConnectorOptions, Credentials, DayWindow, Permission
from app.connectors.demo import create, history
from app.connectors.registry import DemoRefused, build_connector, check_allowed
from app.services.snapshots import day_window

CREDENTIALS = Credentials("demo-key", "demo-secret")
NOW = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)


def _max_drawdown(returns: list[float]) -> float:
    nav, peak, worst = 1.0, 1.0, 0.0
    for r in returns:
        nav *= 1 + r
        peak = max(peak, nav)
        worst = min(worst, nav / peak - 1)
    return worst


def test_a_day_has_the_same_close_however_it_is_asked_for() -> None:
    day = date(2025, 7, 14)
    window = history.days_between(day - timedelta(days=400), day + timedelta(days=30))
    assert {d.day: d.close for d in window}[day] == history.close_of(day)
    history._days_until.cache_clear()  # computed afresh, not served from the cache
    assert history.close_of(day) == {d.day: d.close for d in window}[day]
    assert history.close_of(history.EPOCH - timedelta(days=1)) == 0


def test_two_years_hold_deposits_withdrawals_fees_and_a_drawdown() -> None:
    last = NOW.date() - timedelta(days=1)
    days = history.days_between(last - timedelta(days=history.HISTORY_DAYS - 1), last)
    assert len(days) == history.HISTORY_DAYS == 730
    assert sum(1 for d in days if d.deposits) == 8 and sum(1 for d in days if d.withdrawals) == 4
    assert all(d.fees > 0 and d.trades > 0 for d in days)
    assert all(d.close > 0 for d in days)
    assert -0.45 < _max_drawdown([d.true_return for d in days[1:]]) < -0.10
    flows = [d for d in days if d.deposits or d.withdrawals]
    assert all(Decimal("0.02") < (d.deposits + d.withdrawals) / d.close < Decimal("0.15") for d in flows)


async def test_history_ends_the_day_before_the_last_window_read() -> None:
    connector = create("demo", CREDENTIALS, ConnectorOptions())
    assert connector.is_paper and await connector.permissions() == {Permission.READ}
    state = await connector.fetch_account_state(DayWindow(NOW, NOW))  # the initial read: an empty window
    assert state.total_equity == history.close_of(date(2026, 3, 9))
    assert (state.deposits, state.withdrawals, state.market("spot").trades) == (0, 0, 0)
    points = await connector.fetch_history(days=730)
    assert points[-1].day == date(2026, 3, 9) and points[0].day == date(2024, 3, 10)
    assert [p.total_equity for p in points[-3:]] == [history.close_of(p.day) for p in points[-3:]]


async def test_a_daily_window_counts_that_days_flows_and_trading() -> None:
    connector = create("demo", CREDENTIALS, ConnectorOptions())
    deposit_day = date(2025, 10, 1)
    [record] = history.days_between(deposit_day, deposit_day)
    state = await connector.fetch_account_state(day_window(deposit_day))
    assert state.total_equity == record.close and state.deposits == record.deposits > 0
    assert state.market("spot").fees == record.fees and state.market("spot").trades == record.trades
    # A run after three missed days: one window, the three days' flows, the last close.
    start = datetime(2025, 6, 13, tzinfo=UTC)
    late = await connector.fetch_account_state(DayWindow(start, start + timedelta(days=3, hours=5)))
    records = history.days_between(date(2025, 6, 13), date(2025, 6, 15))
    assert late.withdrawals == sum(r.withdrawals for r in records) > 0
    assert late.total_equity == records[-1].close


async def test_empty_credentials_are_refused() -> None:
    with pytest.raises(AuthError):
        build_connector("demo", Credentials(" ", "secret"), ConnectorOptions())


def test_production_refuses_the_demo_venue_only() -> None:
    with pytest.raises(DemoRefused, match="development only"):
        check_allowed("demo", production=True)
    check_allowed("demo", production=False)
    check_allowed("binance", production=True)
