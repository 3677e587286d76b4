"""IBKR through the real connect flow and the real 00:00 UTC run, against statements written for the
case (tests/fakes/flex_statements.py): every deposit counted once, in the row whose NAV reflects it;
backfilled rows keep what the statement has; a stock broker's weekends are carried forward, not gaps.

The account: business-day NAV rows from Monday 2025-03-03, no trading gains except those stated below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.models import Snapshot
from app.services.scheduler import run_daily_sync
from tests.fakes.brokers import IBKR_TOKEN, FakeBrokers
from tests.fakes.flex_statements import Flow, Nav, Statement, render
from tests.sync.conftest import USER, Clock, SyncApp

D = Decimal
QUERY = "scenario"


def d(day: int) -> date:
    return date(2025, 3, day)


# Business-day NAV rows (Mon 3 .. Fri 7, Mon 10, Tue 11), cash beside them.
NAVS = {
    3: Nav(d(3), "100000", cash="40000", stock="60000"),
    4: Nav(d(4), "100500", cash="40000", stock="60500"),
    5: Nav(d(5), "101000", cash="40000", stock="61000"),
    6: Nav(d(6), "100800", cash="40000", stock="60800"),
    7: Nav(d(7), "101200", cash="40000", stock="61200"),
}


def statement(to_day: int, navs: dict[int, Nav], flows: list[Flow], unrealized: str | None = "750") -> bytes:
    return render(Statement(d(3), d(to_day), [navs[k] for k in sorted(navs)], flows, unrealized))


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 3, 11, 10, 0, tzinfo=UTC))


async def connect(app: SyncApp) -> None:
    response = await app.connect(exchange="ibkr", label="flex",
                                 credentials={"api_key": IBKR_TOKEN, "api_secret": QUERY})
    assert response.status_code == 201, response.text


async def run_at(app: SyncApp, when: datetime) -> None:
    app.clock.now = when
    result = await run_daily_sync(app.runtime, now=when)
    assert result.outcomes == {"success": 1}


async def rows(app: SyncApp) -> dict[date, Snapshot]:
    async with app.state.sessionmaker() as s:
        return {r.day: r for r in (await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all()}


async def performance(app: SyncApp) -> dict[str, Any]:
    response = await app.client.get("/api/v1/metrics/performance", params={"user_uid": USER})
    assert response.status_code == 200, response.text
    return dict(response.json())


def flows(snaps: dict[date, Snapshot]) -> dict[date, tuple[Decimal, Decimal]]:
    """Days with a deposit or withdrawal, and the amounts."""
    return {k: (D(r.deposits).normalize(), D(r.withdrawals).normalize()) for k, r in snaps.items()
            if r.deposits or r.withdrawals}


async def test_a_deposit_reported_the_day_before_connecting_is_counted_once(
        broker_app: SyncApp, brokers: FakeBrokers) -> None:
    # Monday 10: +1,000 deposited; NAV 102,400 = Friday 101,200 + 200 gain + 1,000. Connect Tuesday 11.
    deposit = Flow("1000", "20250310;140000", d(10))
    navs = {**NAVS, 10: Nav(d(10), "102400", cash="41000", stock="61400")}
    brokers.state.ibkr_queries[QUERY] = statement(10, navs, [deposit])
    await connect(broker_app)
    # check, initial state and history come from one statement: one SendRequest, one GetStatement
    assert sorted(path.rsplit("/", 1)[1] for _, path in brokers.state.requests) == ["GetStatement", "SendRequest"]
    snaps = await rows(broker_app)
    assert snaps[d(10)].trigger == "initial"
    assert flows(snaps) == {d(10): (D(1000), D(0))}
    # Tuesday's NAV +200; the run of Wednesday 00:00 counts no flow again.
    brokers.state.ibkr_queries[QUERY] = statement(11, {**navs, 11: Nav(d(11), "102600", cash="41000")}, [deposit])
    await run_at(broker_app, datetime(2025, 3, 12, 0, 0, 5, tzinfo=UTC))
    snaps = await rows(broker_app)
    assert flows(snaps) == {d(10): (D(1000), D(0))}
    assert D(snaps[d(11)].total_equity) == D("102600")
    # Modified Dietz by hand, day by day (weekend 8, 9: no return):
    # 500/100000, 500/100500, -200/101000, 400/100800, 0, 0, (102400-101200-1000)/(101200+500), 200/102400
    expected = 1.0
    for r in (500 / 100000, 500 / 100500, -200 / 101000, 400 / 100800, 200 / 101700, 200 / 102400):
        expected *= 1 + r
    assert (await performance(broker_app))["core"]["total_return"] == pytest.approx(expected - 1, abs=1e-9)


async def test_a_weekend_deposit_before_a_monday_connect_lands_in_mondays_row(
        broker_app: SyncApp, brokers: FakeBrokers) -> None:
    # Saturday 8: +1,000 reported on a day without a NAV row; the statement (to Sunday 9) ends with Friday's.
    deposit = Flow("1000", "20250308;110000", d(8))
    brokers.state.ibkr_queries[QUERY] = statement(9, NAVS, [deposit])
    broker_app.clock.now = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
    await connect(broker_app)
    snaps = await rows(broker_app)
    assert snaps[d(9)].trigger == "initial" and flows(snaps) == {}  # Friday's NAV does not hold it yet
    # Monday's NAV holds it (and +200): the run of Tuesday 00:00 counts it there.
    navs = {**NAVS, 10: Nav(d(10), "102400", cash="41000", stock="61400")}
    brokers.state.ibkr_queries[QUERY] = statement(10, navs, [deposit])
    await run_at(broker_app, datetime(2025, 3, 11, 0, 0, 5, tzinfo=UTC))
    snaps = await rows(broker_app)
    assert flows(snaps) == {d(10): (D(1000), D(0))}
    expected = 1.0
    for r in (500 / 100000, 500 / 100500, -200 / 101000, 400 / 100800, 200 / 101700):
        expected *= 1 + r
    assert (await performance(broker_app))["core"]["total_return"] == pytest.approx(expected - 1, abs=1e-9)


async def test_a_deposit_is_dated_by_the_nav_it_moves(broker_app: SyncApp, brokers: FakeBrokers) -> None:
    # Booked Tuesday 4 after the close, reported (and in the NAV) on Wednesday 5: 101,000 + 1,000.
    navs = {**NAVS, 5: Nav(d(5), "102000", cash="41000", stock="61000"),
            6: Nav(d(6), "101800", cash="41000", stock="60800"), 7: Nav(d(7), "102200", cash="41000", stock="61200"),
            10: Nav(d(10), "102400", cash="41000", stock="61400")}
    brokers.state.ibkr_queries[QUERY] = statement(10, navs, [Flow("1000", "20250304;153000", d(5))])
    await connect(broker_app)
    assert flows(await rows(broker_app)) == {d(5): (D(1000), D(0))}
    daily = {p["date"]: p for p in (await performance(broker_app))["daily"]}
    assert daily["2025-03-04"]["return"] == pytest.approx(500 / 100000, abs=1e-12)
    # (102,000 - 100,500 - 1,000) / (100,500 + 500): +0.5 %, not -0.5 % on Tuesday then +1.5 % on Wednesday
    assert daily["2025-03-05"]["return"] == pytest.approx(500 / 101000, abs=1e-12)


async def test_backfilled_rows_store_what_the_statement_has_and_null_for_the_rest(
        broker_app: SyncApp, brokers: FakeBrokers) -> None:
    navs = {**NAVS, 10: Nav(d(10), "101400", cash=None, stock="61400")}  # Monday's row has no cash column
    brokers.state.ibkr_queries[QUERY] = statement(10, navs, [], unrealized="750")
    await connect(broker_app)
    response = await broker_app.client.get("/api/v1/snapshots", params={
        "user_uid": USER, "start_date": "2025-03-01", "end_date": "2025-03-11"})
    assert response.status_code == 200, response.text
    got = {s["day"]: s for s in response.json()["snapshots"]}
    assert list(got) == [f"2025-03-{k:02d}" for k in range(3, 11)]
    # Open Positions only for the statement's last NAV day (Monday 10, the initial row): earlier unknown.
    for k in (3, 4, 5, 6, 7, 8, 9):
        row = got[f"2025-03-{k:02d}"]
        assert row["trigger"] == "backfill"
        assert row["cash"] == "40000.00000000" and row["unrealized_pnl"] is None, row
    assert got["2025-03-05"]["breakdown"]["stocks"]["equity"] == "61000"
    assert got["2025-03-10"]["trigger"] == "initial" and got["2025-03-10"]["unrealized_pnl"] == "750.00000000"
    assert got["2025-03-10"]["cash"] is None  # the live row too: no cash column, so unknown, not 0
    assert got["2025-03-08"]["breakdown"] == {"stocks": {"equity": "61200", "trades": 0, "volume": "0",
                                                         "fees": "0", "funding": "0"}, "market_closed": True}
    totals = await broker_app.client.get("/api/v1/metrics/aggregated", params={
        "user_uid": USER, "start_date": "2025-03-01", "end_date": "2025-03-07"})
    body = totals.json()
    assert body["cash"] == "40000.00000000" and body["unrealized_pnl"] is None
    assert body["unknown"] == {"unrealized_pnl": [got["2025-03-07"]["connection_id"]]}


async def test_weekends_are_carried_forward_and_listed_as_market_closed_not_as_gaps(
        broker_app: SyncApp, brokers: FakeBrokers) -> None:
    navs = {**NAVS, 10: Nav(d(10), "101400", cash="40000", stock="61400")}
    brokers.state.ibkr_queries[QUERY] = statement(10, navs, [])
    await connect(broker_app)
    snaps = await rows(broker_app)
    assert [k.day for k in snaps] == list(range(3, 11))
    assert [k.day for k, r in snaps.items() if r.breakdown.get("market_closed")] == [8, 9]
    assert D(snaps[d(8)].total_equity) == D(snaps[d(9)].total_equity) == D("101200")
    coverage = (await performance(broker_app))["coverage"]
    assert coverage["gaps"] == [] and coverage["days_without_data"] == 0
    assert coverage["market_closed"] == [{"connection_id": snaps[d(3)].connection_id, "exchange": "ibkr",
                                          "days": ["2025-03-08", "2025-03-09"]}]
    daily = {p["date"]: p for p in (await performance(broker_app))["daily"]}
    assert daily["2025-03-08"]["return"] == 0 and daily["2025-03-09"]["return"] == 0
