"""What happens around a venue call: a connection deleted meanwhile gets nothing back (no ciphertext, no
snapshot, one `skipped` event); a rotated TradeStation refresh token survives a snapshot that cannot be
written (and the attempt is still audited); two manual syncs at once reach the venue once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.config import Settings
from app.connectors.base import AccountState, ConnectorOptions, Credentials, DayWindow, Permission
from app.connectors.registry import build_connector
from app.db import unit_of_work
from app.models import ExchangeConnection, Snapshot, SyncEvent
from app.services.crypto import decrypt_credentials
from app.services.scheduler import run_daily_sync
from app.services.snapshots import initial_day
from tests.fakes.brokers import (
    TS_CLIENT_ID,
    TS_CLIENT_SECRET,
    TS_REFRESH_TOKEN,
    FakeBrokers,
    FakeBrokerState,
    running_fake_brokers,
)
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import USER, Clock, SyncApp, add_connection, running_app, sync_settings
from tests.sync.test_scheduler import RUN

Hook = Callable[[], Awaitable[None]]


class HookedConnector:
    """A venue whose read runs a test's hook first (delete the connection, wait for a rival, ...)."""

    def __init__(self, creds: Credentials, hook: Hook, fetches: list[DayWindow]) -> None:
        self._creds, self._hook, self._fetches = creds, hook, fetches
        self.rotated_credentials: Credentials | None = None

    async def check_credentials(self) -> None: ...

    async def permissions(self) -> set[Permission]:
        return {Permission.READ}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        self._fetches.append(window)
        await self._hook()
        c = self._creds
        self.rotated_credentials = Credentials(c.api_key, c.api_secret, "rotated-refresh-token-02")
        return AccountState(total_equity=Decimal(100))

    async def close(self) -> None: ...


def hooked(app: SyncApp, hook: Hook) -> list[DayWindow]:
    fetches: list[DayWindow] = []

    def build(_venue: str, creds: Credentials, _options: ConnectorOptions) -> HookedConnector:
        return HookedConnector(creds, hook, fetches)

    app.state.connector_factory = build
    return fetches


async def _rows(app: SyncApp) -> tuple[list[ExchangeConnection], list[Snapshot], list[tuple[str, str, str | None]]]:
    async with app.state.sessionmaker() as s:
        conns = list((await s.exec(select(ExchangeConnection))).all())
        snaps = list((await s.exec(select(Snapshot))).all())
        events = (await s.exec(select(SyncEvent).order_by(col(SyncEvent.id)))).all()
    return conns, snaps, [(e.trigger, e.outcome, e.error_class) for e in events]


async def _delete(app: SyncApp, connection_id: int) -> None:
    response = await app.client.delete(f"/api/v1/connections/{connection_id}", params={"user_uid": USER})
    assert response.status_code == 204


# -- 2. a connection deleted during its sync ----------------------------------------------------------


async def test_a_connection_deleted_during_the_scheduled_sync_gets_nothing_back(sync_app: SyncApp) -> None:
    conn_id = await add_connection(sync_app, exchange="tradestation", passphrase="first-refresh-token-01")
    hooked(sync_app, lambda: _delete(sync_app, conn_id))  # the venue rotates the token meanwhile
    result = await run_daily_sync(sync_app.runtime, now=RUN)
    assert result.outcomes == {"skipped": 1}
    conns, snaps, events = await _rows(sync_app)
    assert [(c.is_active, c.credentials, c.credentials_hash) for c in conns] == [(False, None, None)]
    assert snaps == []
    assert events == [("scheduled", "skipped", "ConnectionDeleted")]


async def test_a_connection_deleted_during_a_manual_sync_gets_nothing_back(sync_app: SyncApp) -> None:
    conn_id = await add_connection(sync_app, exchange="tradestation", passphrase="first-refresh-token-01")
    hooked(sync_app, lambda: _delete(sync_app, conn_id))
    response = await sync_app.client.post("/api/v1/sync", json={"user_uid": USER, "connection_id": conn_id})
    assert response.status_code == 404 and response.json()["error"]["code"] == "connection_deleted"
    conns, snaps, events = await _rows(sync_app)
    assert [(c.is_active, c.credentials) for c in conns] == [(False, None)]
    assert snaps == []
    assert events == [("initial", "skipped", "ConnectionDeleted")]


# -- 3. a rotated TradeStation refresh token survives a snapshot conflict -----------------------------


@pytest.fixture
def brokers() -> Iterator[FakeBrokers]:
    with running_fake_brokers(FakeBrokerState(ts_rotate_refresh_token=True)) as fake:
        yield fake


@pytest.fixture
async def ts_app(settings: Settings, binance: FakeVenue, brokers: FakeBrokers, clock: Clock) -> AsyncIterator[SyncApp]:
    urls = {"binance": binance.base_url, "tradestation": brokers.base_url}
    async with running_app(sync_settings(settings, urls), clock) as started:
        yield started


def conflict_after_fetch(app: SyncApp, trigger: str) -> None:
    """The real TradeStation connector; once it has read the account (and rotated the refresh token),
    another writer (a replica, a connect) stores that day's row first."""

    def build(venue: str, creds: Credentials, options: ConnectorOptions) -> Any:
        connector = build_connector(venue, creds, options)
        fetch = connector.fetch_account_state

        async def then_conflict(window: DayWindow) -> AccountState:
            state = await fetch(window)
            day = RUN.date() - timedelta(days=1) if trigger == "scheduled" else initial_day(app.clock())
            async with unit_of_work(app.state.sessionmaker) as s:
                conn = (await s.exec(select(ExchangeConnection))).one()
                assert conn.id is not None
                s.add(Snapshot(user_uid=conn.user_uid, connection_id=conn.id, exchange=conn.exchange, label="x",
                               day=day, taken_at=app.clock(), trigger=trigger, total_equity=Decimal(1),
                               cash=Decimal(0), unrealized_pnl=Decimal(0), deposits=Decimal(0),
                               withdrawals=Decimal(0), breakdown={}))
            return state

        connector.fetch_account_state = then_conflict  # type: ignore[method-assign]
        return connector

    app.state.connector_factory = build


async def _stored_refresh_token(app: SyncApp, conn_id: int) -> str | None:
    async with app.state.sessionmaker() as s:
        conn = await s.get(ExchangeConnection, conn_id)
    assert conn is not None and conn.credentials is not None and app.state.keys is not None
    return decrypt_credentials(app.state.keys.dek, conn_id, conn.credentials).passphrase


async def _ts_connection(app: SyncApp) -> int:
    return await add_connection(app, exchange="tradestation", label="ts", api_key=TS_CLIENT_ID,
                                api_secret=TS_CLIENT_SECRET, passphrase=TS_REFRESH_TOKEN)


async def test_a_rotated_token_survives_a_scheduled_snapshot_conflict(ts_app: SyncApp, brokers: FakeBrokers) -> None:
    conn_id = await _ts_connection(ts_app)
    conflict_after_fetch(ts_app, "scheduled")
    ts_app.clock.now = RUN
    assert (await run_daily_sync(ts_app.runtime, now=RUN)).outcomes == {"skipped": 1}
    stored = await _stored_refresh_token(ts_app, conn_id)
    assert stored != TS_REFRESH_TOKEN and stored in brokers.state.ts_refresh_tokens  # the live one, not the void
    _, _, events = await _rows(ts_app)
    assert events == [("scheduled", "skipped", "SnapshotExists")]


async def test_a_rotated_token_and_the_audit_survive_a_manual_snapshot_conflict(
    ts_app: SyncApp, brokers: FakeBrokers,
) -> None:
    conn_id = await _ts_connection(ts_app)
    conflict_after_fetch(ts_app, "initial")
    response = await ts_app.client.post("/api/v1/sync", json={"user_uid": USER, "connection_id": conn_id})
    assert response.status_code == 409 and response.json()["error"]["code"] == "snapshot_exists", response.text
    stored = await _stored_refresh_token(ts_app, conn_id)
    assert stored != TS_REFRESH_TOKEN and stored in brokers.state.ts_refresh_tokens
    _, _, events = await _rows(ts_app)
    assert events == [("initial", "skipped", "SnapshotExists")]


# -- 4. two manual syncs at once ----------------------------------------------------------------------


async def test_two_concurrent_manual_syncs_reach_the_venue_once(sync_app: SyncApp) -> None:
    conn_id = await add_connection(sync_app)
    rival = asyncio.Event()

    async def hold_for_a_rival() -> None:
        # Keep the first fetch open until a second one arrives (it must not), or 1 s.
        if len(fetches) > 1:
            rival.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(rival.wait(), 1)

    fetches = hooked(sync_app, hold_for_a_rival)

    async def sync() -> int:
        body = {"user_uid": USER, "connection_id": conn_id}
        return (await sync_app.client.post("/api/v1/sync", json=body)).status_code

    statuses = sorted(await asyncio.gather(sync(), sync()))
    assert len(fetches) == 1
    assert statuses == [200, 409]
    _, snaps, events = await _rows(sync_app)
    assert len(snaps) == 1
    assert sorted(events) == [("initial", "success", None), ("manual", "refused", "sync_in_progress")]
