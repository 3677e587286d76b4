"""Issue 12 item 9: a connection the 00:00 run could not snapshot is tried again later the same day
(ZKA_SYNC_RETRY_DELAYS), each retry a late run visible in sync_events, with a fresh connector (and so a
fresh token) per attempt. Driven by the scheduler's own jobs at their fire times on the injected clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import col, select

from app.config import parse_retry_delays
from app.connectors.base import AccountState, ConnectorOptions, Credentials, DayWindow, VenueUnavailable
from app.models import Snapshot, SyncEvent
from app.services.scheduler import JOB_ID, RETRY, SyncScheduler, run_daily_sync
from app.services.sync import SyncRuntime
from tests.fakes.ccxt_venues import FakeVenue
from tests.sync.conftest import EQUITY, SyncApp, add_connection

MIDNIGHT = datetime(2024, 5, 6, tzinfo=UTC)  # closes 2024-05-05
DAY = date(2024, 5, 5)


async def _rows(app: SyncApp) -> tuple[list[Snapshot], list[SyncEvent]]:
    async with app.state.sessionmaker() as s:
        snaps = list((await s.exec(select(Snapshot).where(Snapshot.day == DAY))).all())
        events = list((await s.exec(select(SyncEvent).where(col(SyncEvent.trigger).startswith("scheduled"))
                                    .order_by(col(SyncEvent.id)))).all())
    return snaps, events


def _jobs_of_the_day(scheduler: SyncScheduler) -> list[tuple[datetime, Any]]:
    """(fire time, job) of the 00:00 run and its retries on the day starting at MIDNIGHT, in order."""
    jobs = [scheduler._scheduler.get_job(JOB_ID), *scheduler.retry_jobs()]
    fired = [(job.trigger.get_next_fire_time(None, MIDNIGHT), job) for job in jobs]
    return sorted(fired, key=lambda pair: pair[0])


async def test_a_venue_down_from_midnight_to_0020_still_gets_the_days_row(sync_app: SyncApp,
                                                                          binance: FakeVenue) -> None:
    assert (await sync_app.connect()).status_code == 201  # 2024-05-05 14:30
    account = binance.scenario.responses["/api/v3/account"]
    back_at = MIDNIGHT + timedelta(minutes=20)

    def down_until_0020(_query: dict[str, str]) -> Any:
        if sync_app.clock.now < back_at:
            raise RuntimeError("venue down")  # the fake answers 500
        return account

    binance.scenario.responses["/api/v3/account"] = down_until_0020
    scheduler = SyncScheduler(sync_app.state)  # not started: its jobs are run here at their fire times
    fired = _jobs_of_the_day(scheduler)
    assert [at for at, _ in fired] == [MIDNIGHT + d for d in (timedelta(0), *parse_retry_delays("5m,30m,2h,6h"))]
    outcomes = []
    for at, job in fired:
        sync_app.clock.now = at + timedelta(seconds=1)
        result = await job.func()
        outcomes.append(result.outcomes)
    # 00:00 and 00:05 fail, 00:30 writes the row; 02:00 and 06:00 find nothing due and touch nothing.
    assert outcomes == [{"failed": 1}, {"failed": 1}, {"success": 1}, {}, {}]
    snaps, events = await _rows(sync_app)
    assert len(snaps) == 1 and snaps[0].trigger == "scheduled" and snaps[0].total_equity == Decimal(EQUITY)
    # A late run: the balance at its instant, the window (and so the flows) up to it; the next run starts there.
    assert snaps[0].taken_at.replace(tzinfo=UTC) == MIDNIGHT + timedelta(minutes=30, seconds=1)
    assert [(e.trigger, e.outcome, e.error_class, e.scheduled_for) for e in events] == [
        ("scheduled", "failed", "VenueUnavailable", DAY),
        ("scheduled_retry", "failed", "VenueUnavailable", DAY),
        ("scheduled_retry", "success", None, DAY)]
    assert events[2].started_at.replace(tzinfo=UTC) == MIDNIGHT + timedelta(minutes=30, seconds=1)
    exposed = sync_app.state.metrics.render().decode()
    assert 'zka_sync_outcomes_total{outcome="success",trigger="scheduled_retry",venue="binance"} 1.0' in exposed


async def test_retries_follow_the_configured_delays_and_can_be_turned_off(sync_app: SyncApp) -> None:
    sync_app.state.settings.sync.sync_retry_delays = "90s,45m"
    assert [at for at, _ in _jobs_of_the_day(SyncScheduler(sync_app.state))] == [
        MIDNIGHT, MIDNIGHT + timedelta(seconds=90), MIDNIGHT + timedelta(minutes=45)]
    sync_app.state.settings.sync.sync_retry_delays = "off"
    assert SyncScheduler(sync_app.state).retry_jobs() == []


@pytest.mark.parametrize("text", ["", "5m,", "0m", "5m,5m", "24h", "1d", "-5m", ",".join(["1m"] * 2)])
def test_bad_retry_delays_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="increasing delays"):
        parse_retry_delays(text)


async def test_each_attempt_builds_a_new_connector_with_the_latest_token(sync_app: SyncApp) -> None:
    """TradeStation rotates the refresh token at the failed 00:00 attempt: the retry starts from the new
    one (the old may be void) with a connector of its own, so it gets a fresh access token."""
    await add_connection(sync_app, exchange="tradestation", passphrase="first-refresh-token-01")
    built: list[str | None] = []

    class Venue:
        def __init__(self, creds: Credentials) -> None:
            self._creds, self.rotated_credentials = creds, None
            self.fetches = 0

        async def fetch_account_state(self, _window: DayWindow) -> AccountState:
            self.fetches += 1
            n = len(built)
            self.rotated_credentials = Credentials(self._creds.api_key, self._creds.api_secret,
                                                   f"refresh-token-after-attempt-{n}")
            if n == 1:
                raise VenueUnavailable("down at midnight")
            return AccountState(total_equity=Decimal(100))

        async def close(self) -> None: ...

    connectors: list[Venue] = []

    def build(_venue: str, creds: Credentials, _options: ConnectorOptions) -> Any:
        built.append(creds.passphrase)
        connectors.append(Venue(creds))
        return connectors[-1]

    rt: SyncRuntime = dataclasses.replace(sync_app.runtime, ctx=dataclasses.replace(sync_app.runtime.ctx, build=build))
    sync_app.clock.now = MIDNIGHT
    assert (await run_daily_sync(rt, now=MIDNIGHT)).outcomes == {"failed": 1}
    sync_app.clock.now = MIDNIGHT + timedelta(minutes=5)
    assert (await run_daily_sync(rt, now=sync_app.clock.now, trigger=RETRY)).outcomes == {"success": 1}
    assert built == ["first-refresh-token-01", "refresh-token-after-attempt-1"]
    assert connectors[0] is not connectors[1]
