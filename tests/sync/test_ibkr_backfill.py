"""IBKR's first sync backfills up to 365 daily snapshots from the Flex statement (trigger=backfill)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import col, select

from app.models import Snapshot, SyncEvent
from tests.fakes.brokers import IBKR_TOKEN
from tests.sync.conftest import USER, Clock, SyncApp, add_connection


@pytest.fixture
def clock() -> Clock:
    # The fixture statement's newest report date is 2025-01-03 (a Friday); connect on Sunday 2025-01-05.
    return Clock(datetime(2025, 1, 5, 10, 0, tzinfo=UTC))


async def _rows(app: SyncApp) -> tuple[list[tuple[date, str, Decimal]], list[tuple[str, str]]]:
    async with app.state.sessionmaker() as s:
        snaps = (await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all()
        events = (await s.exec(select(SyncEvent).order_by(col(SyncEvent.id)))).all()
    return [(r.day, r.trigger, r.total_equity) for r in snaps], [(e.trigger, e.outcome) for e in events]


EXPECTED = [
    (date(2025, 1, 1), "backfill", Decimal("155000")),
    (date(2025, 1, 2), "backfill", Decimal("159000")),
    (date(2025, 1, 3), "backfill", Decimal("162500")),
    (date(2025, 1, 4), "initial", Decimal("162500")),  # Saturday: the latest report (Friday's close)
]


async def test_connecting_ibkr_backfills_history(broker_app: SyncApp) -> None:
    response = await broker_app.connect(exchange="ibkr", label="flex",
                                      credentials={"api_key": IBKR_TOKEN, "api_secret": "backfill"})
    assert response.status_code == 201, response.text
    assert response.json()["backfilled_days"] == 3
    assert response.json()["connection"]["permissions"] == ["read"]
    snaps, events = await _rows(broker_app)
    assert [(d, t, e.normalize()) for d, t, e in snaps] == [(d, t, e.normalize()) for d, t, e in EXPECTED]
    assert events == [("backfill", "success"), ("initial", "success")]


async def test_a_manual_first_sync_of_ibkr_backfills_too(broker_app: SyncApp) -> None:
    conn = await add_connection(broker_app, exchange="ibkr", api_key=IBKR_TOKEN, api_secret="backfill")
    response = await broker_app.client.post("/api/v1/sync", json={"user_uid": USER, "connection_id": conn})
    assert response.status_code == 200, response.text
    assert response.json()["backfilled_days"] == 3
    snaps, events = await _rows(broker_app)
    assert [d for d, _, _ in snaps] == [d for d, _, _ in EXPECTED]
    assert events == [("initial", "success"), ("backfill", "success")]
