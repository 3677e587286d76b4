"""The 00:00 UTC job, driven with an explicit `now`: day semantics, idempotence, failure isolation,
retries, bounded concurrency, rotated credentials kept even when the sync fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.connectors.base import (
    AccountState,
    ConnectorOptions,
    Credentials,
    DayWindow,
    EquityPoint,
    MalformedResponse,
    Permission,
    VenueUnavailable,
)
from app.models import ExchangeConnection, Snapshot, SyncEvent
from app.services.crypto import decrypt_credentials
from app.services.scheduler import run_daily_sync
from app.services.snapshots import build_backfill, build_snapshot
from app.services.sync import SyncRuntime
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import EQUITY, SyncApp, add_connection

RUN = datetime(2024, 5, 6, 0, 0, 5, tzinfo=UTC)  # the run at 2024-05-06 00:00 closes 2024-05-05


async def _rows(app: SyncApp) -> tuple[list[Snapshot], list[SyncEvent]]:
    async with app.state.sessionmaker() as s:
        snaps = list((await s.exec(select(Snapshot).order_by(col(Snapshot.day)))).all())
        events = list((await s.exec(select(SyncEvent).order_by(col(SyncEvent.id)))).all())
    return snaps, events


async def test_the_run_at_midnight_writes_the_previous_day_once(sync_app: SyncApp) -> None:
    assert (await sync_app.connect()).status_code == 201  # 2024-05-05 14:30: initial row is 2024-05-04
    sync_app.clock.now = RUN
    result = await run_daily_sync(sync_app.runtime, now=RUN)
    assert result.day == date(2024, 5, 5) and result.outcomes == {"success": 1}
    again = await run_daily_sync(sync_app.runtime, now=RUN + timedelta(minutes=5))
    assert again.outcomes == {}  # idempotent: nothing due
    snaps, events = await _rows(sync_app)
    assert [(s.day, s.trigger) for s in snaps] == [(date(2024, 5, 4), "initial"), (date(2024, 5, 5), "scheduled")]
    assert snaps[1].total_equity == Decimal(EQUITY)
    assert [(e.trigger, e.outcome, e.scheduled_for) for e in events] == [
        ("initial", "success", date(2024, 5, 4)), ("scheduled", "success", date(2024, 5, 5))]
    assert events[1].finished_at is not None and events[1].started_at <= events[1].finished_at
    exposed = sync_app.state.metrics.render().decode()
    assert 'zka_sync_outcomes_total{outcome="success",trigger="scheduled",venue="binance"} 1.0' in exposed
    assert 'zka_snapshots_taken_total{trigger="initial"} 1.0' in exposed


async def test_the_first_run_after_connecting_counts_from_the_initial_snapshot(sync_app: SyncApp,
                                                                              binance: FakeVenue) -> None:
    assert (await sync_app.connect()).status_code == 201
    seen: list[DayWindow] = []
    runtime = _spy_windows(sync_app.runtime, seen)
    sync_app.clock.now = RUN
    await run_daily_sync(runtime, now=RUN)
    # From the initial snapshot's fetch instant to this fetch's (tests/sync/test_windows.py: the chain).
    assert seen == [DayWindow(datetime(2024, 5, 5, 14, 30, tzinfo=UTC), RUN)]
    seen.clear()
    sync_app.clock.now = RUN + timedelta(days=1)
    await run_daily_sync(runtime, now=RUN + timedelta(days=1))
    assert seen == [DayWindow(RUN, RUN + timedelta(days=1))]


def _spy_windows(rt: SyncRuntime, seen: list[DayWindow]) -> SyncRuntime:
    real = rt.ctx.build

    def build(venue: str, creds: Credentials, options: ConnectorOptions) -> Any:
        connector = real(venue, creds, options)
        fetch = connector.fetch_account_state

        async def spy(window: DayWindow) -> AccountState:
            seen.append(window)
            return await fetch(window)

        connector.fetch_account_state = spy  # type: ignore[method-assign]
        return connector

    return dataclasses.replace(rt, ctx=dataclasses.replace(rt.ctx, build=build))


async def test_one_failure_does_not_block_the_others(sync_app: SyncApp) -> None:
    good = await add_connection(sync_app)
    bad = await add_connection(sync_app, label="dead", api_key="dead-key-0000000001")
    dead = await add_connection(sync_app, exchange="bybit", label="unreachable")
    sync_app.state.settings.sync.venue_urls["bybit"] = "http://127.0.0.1:9"  # nothing listens there
    result = await run_daily_sync(sync_app.runtime, now=RUN)
    assert result.outcomes == {"success": 1, "failed": 2}
    snaps, events = await _rows(sync_app)
    assert [s.connection_id for s in snaps] == [good]
    by_conn = {e.connection_id: e for e in events}
    assert by_conn[bad].outcome == "failed" and by_conn[bad].error_class == "AuthError"
    assert by_conn[dead].outcome == "failed" and by_conn[dead].error_class == "VenueUnavailable"


async def test_transient_errors_are_retried_without_sleeping(sync_app: SyncApp, binance: FakeVenue) -> None:
    await add_connection(sync_app)
    account = binance.scenario.responses["/api/v3/account"]
    calls = Counter[str]()

    def flaky(_query: dict[str, str]) -> Any:
        calls["account"] += 1
        if calls["account"] <= 2:
            raise RuntimeError("venue hiccup")  # the fake answers 500
        return account

    binance.scenario.responses["/api/v3/account"] = flaky
    result = await run_daily_sync(sync_app.runtime, now=RUN)
    assert result.outcomes == {"success": 1}
    assert calls["account"] == 3
    _, events = await _rows(sync_app)
    assert [(e.trigger, e.outcome) for e in events] == [("scheduled", "success")]


class FakeConnector:
    """Our own protocol, for what no venue replica can show (concurrency peaks, token rotation)."""

    def __init__(self, venue: str, creds: Credentials, probe: Probe) -> None:
        self.venue, self._creds, self._probe = venue, creds, probe
        self.rotated_credentials: Credentials | None = None

    async def check_credentials(self) -> None: ...

    async def permissions(self) -> set[Permission]:
        return {Permission.READ}

    async def fetch_account_state(self, window: DayWindow) -> AccountState:
        return await self._probe.fetch(self, window)

    async def close(self) -> None: ...


@dataclasses.dataclass
class Probe:
    running: Counter[str] = dataclasses.field(default_factory=Counter)
    peak: Counter[str] = dataclasses.field(default_factory=Counter)
    total_peak: int = 0
    fail: bool = False
    rotate: bool = False
    hold_until: int = 0  # keep fetches open until this many run at once (or 2 s), so peaks are reached
    _full: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def fetch(self, conn: FakeConnector, _window: DayWindow) -> AccountState:
        self.running[conn.venue] += 1
        self.peak[conn.venue] = max(self.peak[conn.venue], self.running[conn.venue])
        self.total_peak = max(self.total_peak, sum(self.running.values()))
        if self.total_peak >= self.hold_until:
            self._full.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), 2)
        self.running[conn.venue] -= 1
        if self.rotate:
            c = conn._creds
            conn.rotated_credentials = Credentials(c.api_key, c.api_secret, "rotated-refresh-token-02")
        if self.fail:
            raise VenueUnavailable("down")
        return AccountState(total_equity=Decimal(100))


def _with_fake(rt: SyncRuntime, probe: Probe) -> SyncRuntime:
    def build(venue: str, creds: Credentials, _options: ConnectorOptions) -> Any:
        return FakeConnector(venue, creds, probe)

    return dataclasses.replace(rt, ctx=dataclasses.replace(rt.ctx, build=build))


async def test_concurrency_is_bounded_overall_and_per_venue(sync_app: SyncApp) -> None:
    settings = sync_app.state.settings.sync
    settings.sync_concurrency, settings.sync_per_venue_concurrency = 5, 3
    for i in range(12):
        await add_connection(sync_app, exchange="okx" if i % 4 == 0 else "binance", label=f"acct{i}",
                             api_key=f"key-{i:016d}")
    probe = Probe(hold_until=5)
    result = await run_daily_sync(_with_fake(sync_app.runtime, probe), now=RUN)
    assert result.outcomes == {"success": 12}
    assert probe.total_peak == 5
    assert probe.peak == {"binance": 3, "okx": 2}


async def test_a_rotated_token_is_kept_even_when_the_sync_fails(sync_app: SyncApp) -> None:
    conn_id = await add_connection(sync_app, exchange="tradestation", passphrase="first-refresh-token-01")
    probe = Probe(fail=True, rotate=True)
    result = await run_daily_sync(_with_fake(sync_app.runtime, probe), now=RUN)
    assert result.outcomes == {"failed": 1}
    async with sync_app.state.sessionmaker() as s:
        conn = await s.get(ExchangeConnection, conn_id)
    assert conn is not None and conn.credentials is not None and sync_app.state.keys is not None
    creds = decrypt_credentials(sync_app.state.keys.dek, conn_id, conn.credentials)
    assert creds.passphrase == "rotated-refresh-token-02"
    _, events = await _rows(sync_app)
    assert [(e.outcome, e.error_class) for e in events] == [("failed", "VenueUnavailable")]


async def test_deleted_and_new_connections_are_not_synced(sync_app: SyncApp) -> None:
    gone = await add_connection(sync_app)
    assert (await sync_app.client.delete(f"/api/v1/connections/{gone}", params={"user_uid": "user_synctest0001"})
            ).status_code == 204
    late = await add_connection(sync_app, label="late", api_key="late-key-000000001")
    async with sync_app.state.sessionmaker() as s:  # created after the run's instant
        conn = await s.get(ExchangeConnection, late)
        assert conn is not None
        conn.created_at = RUN + timedelta(seconds=1)
        s.add(conn)
        await s.commit()
    result = await run_daily_sync(sync_app.runtime, now=RUN)
    assert result.outcomes == {}


async def test_a_negative_deposit_or_withdrawal_is_refused_and_nothing_is_stored(sync_app: SyncApp) -> None:
    # A flow is a non-negative amount with a direction: −50 "deposits" would act as a 50 withdrawal.
    await add_connection(sync_app, exchange="binance", label="neg-flow")

    class NegativeFlow(Probe):
        async def fetch(self, conn: FakeConnector, _window: DayWindow) -> AccountState:
            return AccountState(total_equity=Decimal(100), deposits=Decimal(-50))

    result = await run_daily_sync(_with_fake(sync_app.runtime, NegativeFlow()), now=RUN)
    assert result.outcomes == {"failed": 1}
    snaps, events = await _rows(sync_app)
    assert snaps == [] and [(e.outcome, e.error_class) for e in events] == [("failed", "MalformedResponse")]


def test_snapshot_writing_refuses_a_negative_flow() -> None:
    conn = ExchangeConnection(id=1, user_uid="u", exchange="binance", label="x", permissions=["read"])
    with pytest.raises(MalformedResponse, match="non-negative"):
        build_snapshot(conn, day=date(2024, 5, 5), trigger="scheduled", taken_at=RUN,
                       state=AccountState(total_equity=Decimal(100), withdrawals=Decimal("-0.01")))
    with pytest.raises(MalformedResponse, match="non-negative"):
        build_backfill(conn, [EquityPoint(date(2024, 5, 1), Decimal(100), deposits=Decimal(-1))], taken_at=RUN,
                       before=date(2024, 5, 5))
