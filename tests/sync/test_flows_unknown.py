"""A venue that cannot report deposits/withdrawals (TradeStation v3) marks its snapshots: the breakdown
carries `flows_unavailable: true`, through the real connect flow and the real 00:00 UTC run. Venues that
do report flows (ccxt, Alpaca) never carry the flag."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from app.config import Settings
from app.models import Snapshot
from app.services.scheduler import run_daily_sync
from tests.fakes.brokers import (
    ALPACA_PAPER_KEY,
    ALPACA_SECRET,
    TS_CLIENT_ID,
    TS_CLIENT_SECRET,
    TS_REFRESH_TOKEN,
    FakeBrokers,
)
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import Clock, SyncApp, running_app, sync_settings

RUN = datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC)


@pytest.fixture
async def app(settings: Settings, binance: FakeVenue, brokers: FakeBrokers, clock: Clock) -> AsyncIterator[SyncApp]:
    urls = {"binance": binance.base_url, "tradestation": brokers.base_url, "alpaca": brokers.base_url}
    async with running_app(sync_settings(settings, urls), clock) as started:
        yield started


async def _breakdowns(app: SyncApp) -> dict[tuple[str, str], dict[str, object]]:
    async with app.state.sessionmaker() as s:
        rows = (await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all()
    return {(r.exchange, r.trigger): r.breakdown for r in rows}


async def test_tradestation_snapshots_say_their_flows_are_unknown(app: SyncApp) -> None:
    ts = await app.connect(exchange="tradestation", label="ts", credentials={
        "api_key": TS_CLIENT_ID, "api_secret": TS_CLIENT_SECRET, "passphrase": TS_REFRESH_TOKEN})
    assert ts.status_code == 201, ts.text
    alpaca = await app.connect(exchange="alpaca", label="paper", credentials={
        "api_key": ALPACA_PAPER_KEY, "api_secret": ALPACA_SECRET})
    assert alpaca.status_code == 201, alpaca.text
    assert (await app.connect()).status_code == 201  # binance through ccxt
    app.clock.now = RUN
    result = await run_daily_sync(app.runtime, now=RUN)
    assert result.outcomes == {"success": 3}
    rows = await _breakdowns(app)
    assert len(rows) == 6
    for (exchange, trigger), breakdown in rows.items():
        if exchange == "tradestation":
            assert breakdown.get("flows_unavailable") is True, trigger
        else:
            assert "flows_unavailable" not in breakdown, (exchange, trigger)
