"""The demo venue through the real connect flow (E2E envelope, live check, backfill, initial snapshot) and
a signed report over it: the report's daily NAV is the generator's own time-weighted return, so every
deposit and withdrawal landed on its day and none counted as profit. A production server refuses it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import col, select

from app.config import Settings
from app.connectors.demo import history
from app.connectors.registry import DemoRefused
from app.models import ExchangeConnection, Snapshot
from app.services.scheduler import run_daily_sync
from app.services.snapshots import day_window
from app.services.sync import fetch_account, sync_context
from tests.sync.conftest import USER, Clock, SyncApp, add_connection, running_app, sync_settings

DEMO = {"exchange": "demo", "label": "demo", "credentials": {"api_key": "k", "api_secret": "s"}}
ORDINARY_DAY = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
AFTER_A_DEPOSIT = datetime(2025, 4, 2, 10, 0, tzinfo=UTC)  # the day before connecting, 04-01, has a deposit
BEFORE_A_DEPOSIT = datetime(2025, 3, 30, 10, 0, tzinfo=UTC)  # the third run after connecting closes 04-01


@pytest.fixture
async def demo_app(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[SyncApp]:
    now = getattr(request, "param", ORDINARY_DAY)
    async with running_app(sync_settings(settings, {}), Clock(now)) as app:
        yield app


on_two_days = pytest.mark.parametrize("demo_app", [ORDINARY_DAY, AFTER_A_DEPOSIT], indirect=True,
                                      ids=["ordinary-day", "after-a-deposit"])


def _assert_nav_is_the_generators(daily: list[dict[str, object]], records: list[history.DemoDay]) -> float:
    assert [d["date"] for d in daily] == [r.day.isoformat() for r in records]
    nav = 1.0
    for row, record in zip(daily[1:], records[1:], strict=True):  # the first day is the entry: no return
        nav *= 1 + record.true_return
        assert row["nav"] == pytest.approx(nav, rel=1e-5), row["date"]
    return nav


async def _snapshots(app: SyncApp) -> list[Snapshot]:
    async with app.state.sessionmaker() as s:
        return list((await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all())


@on_two_days
async def test_connecting_backfills_two_years_with_each_days_flows_and_fees(demo_app: SyncApp) -> None:
    response = await demo_app.connect(**DEMO)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["backfilled_days"] == 729
    assert body["connection"]["exchange"] == "demo" and body["connection"]["is_paper"] is True
    rows = await _snapshots(demo_app)
    last = demo_app.clock().date() - timedelta(days=1)
    expected = history.days_between(last - timedelta(days=729), last)
    assert [r.day for r in rows] == [d.day for d in expected]
    assert [r.trigger for r in rows] == ["backfill"] * 729 + ["initial"]
    assert [(r.total_equity, r.deposits, r.withdrawals) for r in rows] == [
        (d.close, d.deposits, d.withdrawals) for d in expected]
    assert [Decimal(r.breakdown["spot"]["fees"]) for r in rows] == [d.fees for d in expected]


@on_two_days
async def test_the_reports_nav_is_the_generators_time_weighted_return(demo_app: SyncApp) -> None:
    assert (await demo_app.connect(**DEMO)).status_code == 201
    response = await demo_app.client.post("/api/v1/reports", json={"user_uid": USER})
    assert response.status_code == 201, response.text
    payload = response.json()["payload"]
    assert payload["exchanges"] == [{"exchange": "demo", "is_paper": True, "accounts": 1}]
    last = demo_app.clock().date() - timedelta(days=1)
    records = history.days_between(last - timedelta(days=729), last)
    nav = _assert_nav_is_the_generators(payload["metrics"]["daily"], records)
    assert payload["metrics"]["core"]["total_return"] == pytest.approx(nav - 1, rel=1e-5)


@pytest.mark.parametrize("demo_app", [BEFORE_A_DEPOSIT], indirect=True)
async def test_the_scheduled_runs_continue_the_same_account(demo_app: SyncApp) -> None:
    assert (await demo_app.connect(**DEMO)).status_code == 201
    for night in (31, 1, 2):  # 03-31, 04-01 and 04-02 at 00:00:05 write 03-30, 03-31 and 04-01
        run = datetime(2025, 3 if night == 31 else 4, night, 0, 0, 5, tzinfo=UTC)
        demo_app.clock.now = run
        assert (await run_daily_sync(demo_app.runtime, now=run)).outcomes == {"success": 1}
    rows = (await _snapshots(demo_app))[-4:]
    records = history.days_between(BEFORE_A_DEPOSIT.date() - timedelta(days=1), BEFORE_A_DEPOSIT.date() +
                                   timedelta(days=2))
    assert [(r.day, r.trigger) for r in rows] == [(d.day, t) for d, t in zip(
        records, ("initial", "scheduled", "scheduled", "scheduled"), strict=True)]
    assert [(r.total_equity, r.deposits, r.withdrawals) for r in rows] == [
        (d.close, d.deposits, d.withdrawals) for d in records]
    assert rows[-1].deposits > 0  # 04-01's deposit, in the 04-01 row
    response = await demo_app.client.post("/api/v1/reports", json={"user_uid": USER})
    assert response.status_code == 201, response.text
    last = records[-1].day
    _assert_nav_is_the_generators(response.json()["payload"]["metrics"]["daily"],
                                  history.days_between(last - timedelta(days=732), last))


async def test_a_production_server_refuses_to_connect_it(demo_app: SyncApp) -> None:
    # A production app cannot start without SEV-SNP hardware; the mode is read per request, so switching
    # it after start-up exercises the production path of the real request.
    demo_app.state.settings.server.env = "production"
    response = await demo_app.connect(**DEMO)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "demo_venue_refused"
    assert "development only" in error["message"] and "\n" not in error["message"]
    async with demo_app.state.sessionmaker() as s:
        assert (await s.exec(select(ExchangeConnection))).all() == []


async def test_a_production_sync_never_reads_a_demo_connection(demo_app: SyncApp) -> None:
    connection_id = await add_connection(demo_app, exchange="demo", api_key="k", api_secret="s")
    demo_app.state.settings.server.env = "production"
    async with demo_app.state.sessionmaker() as s:
        conn = await s.get(ExchangeConnection, connection_id)
    assert conn is not None
    fetched = await fetch_account(sync_context(demo_app.state), conn, day_window(demo_app.clock().date()))
    assert not fetched.ok and fetched.error_class == DemoRefused.__name__
