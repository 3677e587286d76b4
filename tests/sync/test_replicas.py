"""Two replicas (two engines, two connection pools) on one PostgreSQL run the daily job at the same
moment: every connection is fetched and snapshotted exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.db import create_engine, create_sessionmaker
from app.models import Snapshot, SyncEvent
from app.services.scheduler import RETRY, run_daily_sync
from app.services.sync import SyncRuntime
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import SyncApp, add_connection

RUN = datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC)
N = 24


async def test_two_replicas_snapshot_each_connection_once(sync_app: SyncApp, binance: FakeVenue) -> None:
    if sync_app.state.engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite serves a single process (set TEST_DATABASE_URL)")
    for i in range(N):
        await add_connection(sync_app, label=f"acct{i}")
    settings = sync_app.state.settings.sync
    settings.sync_concurrency = settings.sync_per_venue_concurrency = 6
    before = binance.paths().count("/api/v3/account")
    engine_b = create_engine(sync_app.state.settings.database_url)
    replica_b = SyncRuntime(sync_app.runtime.ctx, engine_b, create_sessionmaker(engine_b))
    try:
        a, b = await asyncio.gather(run_daily_sync(sync_app.runtime, now=RUN), run_daily_sync(replica_b, now=RUN))
    finally:
        await engine_b.dispose()
    assert a.outcomes.get("success", 0) + b.outcomes.get("success", 0) == N
    assert "failed" not in a.outcomes and "failed" not in b.outcomes
    assert binance.paths().count("/api/v3/account") - before == N  # no connection fetched twice
    async with sync_app.state.sessionmaker() as s:
        per_conn = (await s.exec(select(Snapshot.connection_id, func.count()).group_by(Snapshot.connection_id))).all()
        events = (await s.exec(select(func.count()).select_from(SyncEvent))).one()
    assert len(per_conn) == N and {count for _, count in per_conn} == {1}
    assert events == N


async def test_two_replicas_retrying_the_same_day_snapshot_each_failed_connection_once(
    sync_app: SyncApp, binance: FakeVenue
) -> None:
    """Issue 12 item 9: the venue is down at 00:00; both replicas' 00:30 retries fire at once."""
    if sync_app.state.engine.dialect.name != "postgresql":
        pytest.skip("replicas share a PostgreSQL database; SQLite serves a single process (set TEST_DATABASE_URL)")
    n = 8
    for i in range(n):
        await add_connection(sync_app, label=f"acct{i}")
    account = binance.scenario.responses["/api/v3/account"]
    binance.scenario.responses["/api/v3/account"] = _down
    assert (await run_daily_sync(sync_app.runtime, now=RUN)).outcomes == {"failed": n}
    binance.scenario.responses["/api/v3/account"] = account
    before = binance.paths().count("/api/v3/account")
    engine_b = create_engine(sync_app.state.settings.database_url)
    replica_b = SyncRuntime(sync_app.runtime.ctx, engine_b, create_sessionmaker(engine_b))
    at = RUN + timedelta(minutes=30)
    try:
        a, b = await asyncio.gather(run_daily_sync(sync_app.runtime, now=at, trigger=RETRY),
                                    run_daily_sync(replica_b, now=at, trigger=RETRY))
    finally:
        await engine_b.dispose()
    assert a.outcomes.get("success", 0) + b.outcomes.get("success", 0) == n
    assert binance.paths().count("/api/v3/account") - before == n  # no connection fetched twice
    async with sync_app.state.sessionmaker() as s:
        per_conn = (await s.exec(select(Snapshot.connection_id, func.count()).group_by(Snapshot.connection_id))).all()
        retries = (await s.exec(select(SyncEvent.outcome, func.count()).where(SyncEvent.trigger == RETRY)
                                .group_by(SyncEvent.outcome))).all()
    assert len(per_conn) == n and {count for _, count in per_conn} == {1}
    assert dict(retries) == {"success": n}


def _down(_query: dict[str, str]) -> Any:
    raise RuntimeError("venue down")  # the fake answers 500
