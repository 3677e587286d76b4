"""Alpaca through the real connect flow and the real 00:00 UTC run: a journal into the account and a
deposit dated the connect day are flows of the next row, never profit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import col, select

from app.models import Snapshot
from app.services.scheduler import run_daily_sync
from tests.connectors.test_alpaca import nta
from tests.fakes.brokers import ALPACA_PAPER_KEY, ALPACA_SECRET, FakeBrokers
from tests.sync.conftest import USER, Clock, SyncApp

D = Decimal


@pytest.fixture
def clock() -> Clock:
    # 14:30 UTC = 10:30 New York: after the connect day's 00:00 New York
    return Clock(datetime(2024, 5, 6, 14, 30, tzinfo=UTC))


async def test_a_journal_in_and_a_connect_day_deposit_are_flows_not_profit(
        broker_app: SyncApp, brokers: FakeBrokers) -> None:
    brokers.state.alpaca_account = {"equity": "22000", "cash": "21400"}
    response = await broker_app.connect(exchange="alpaca", label="paper",
                                        credentials={"api_key": ALPACA_PAPER_KEY, "api_secret": ALPACA_SECRET})
    assert response.status_code == 201, response.text
    # After connecting: 1,000 deposited (dated May 6) and 2,000 journaled in (JNLC); 400 earned.
    brokers.state.alpaca_activities = [nta("CSD", "2024-05-06", "1000", 1), nta("JNLC", "2024-05-06", "2000", 2)]
    brokers.state.alpaca_account = {"equity": "25400", "cash": "24800"}
    run = datetime(2024, 5, 7, 0, 0, 5, tzinfo=UTC)
    broker_app.clock.now = run
    assert (await run_daily_sync(broker_app.runtime, now=run)).outcomes == {"success": 1}
    async with broker_app.state.sessionmaker() as s:
        rows = {r.day: r for r in (await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all()}
    assert list(rows) == [date(2024, 5, 5), date(2024, 5, 6)]
    assert D(rows[date(2024, 5, 6)].deposits) == D("3000") and D(rows[date(2024, 5, 6)].withdrawals) == 0
    assert D(rows[date(2024, 5, 6)].total_equity) == D("25400")
    perf = await broker_app.client.get("/api/v1/metrics/performance", params={"user_uid": USER})
    assert perf.status_code == 200, perf.text
    # Modified Dietz: (25,400 - 22,000 - 3,000) / (22,000 + 3,000 / 2) = 1.70 %, not 15.45 %
    assert perf.json()["daily"][-1]["return"] == pytest.approx(400 / 23500, abs=1e-12)
