"""The daily snapshot job (SPEC §8) and the APScheduler that runs it at 00:00 UTC.

`run_daily_sync(runtime, now=…)` is the job: it snapshots every active connection that has no row for
the day the run closes (see app/services/snapshots.py for day semantics). Per connection: take the
replica lock, re-check, call the venue with no database connection held, then write the snapshot and
the audit event in one short transaction. Bounded concurrency overall and per venue; transient venue
errors are retried with backoff; one connection's failure never stops another's. The job is
idempotent, so a late or repeated run only fills what is missing. Tests call it with an explicit `now`.

A connection the 00:00 run could not snapshot (a venue down at midnight, a quota, a voided token) is
tried again later the same UTC day, at ZKA_SYNC_RETRY_DELAYS after 00:00: each retry is the same job
run late (`trigger="scheduled_retry"` in sync_events), so it only touches connections still without the
day's row, under the same per-connection locks (idempotent across replicas), with a new connector and
so a fresh token, and its window ends at its own fetch instant (README: a late run).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.logging import get_logger
from app.db import unit_of_work
from app.models import ExchangeConnection, Snapshot
from app.services.flow_memory import load_flow_memory, remember_flows
from app.services.replica_locks import ConnectionLocks
from app.services.snapshots import build_snapshot, midnight, scheduled_day, scheduled_window
from app.services.sync import (
    Fetched,
    SyncRuntime,
    fetch_account,
    latest_snapshot,
    live_connection,
    record_event,
    store_rotated,
    sync_runtime,
)

if TYPE_CHECKING:
    from app.state import AppState

log = get_logger("zka.scheduler")
JOB_ID = "sync.daily_snapshots"
SCHEDULED, RETRY = "scheduled", "scheduled_retry"  # sync_events.trigger of the 00:00 run and of its retries


@dataclass(frozen=True)
class DailyResult:
    day: date
    outcomes: dict[str, int]  # success | failed | skipped (already done / another replica) | error
    duration_s: float


async def run_daily_sync(rt: SyncRuntime, *, now: datetime, trigger: str = SCHEDULED) -> DailyResult:
    """`trigger` labels the attempts in sync_events (a retry's rows say so); snapshots stay `scheduled`."""
    started = time.perf_counter()
    day = scheduled_day(now)
    due = await due_connections(rt, day)
    settings = rt.ctx.settings
    overall = asyncio.Semaphore(settings.sync_concurrency)
    per_venue: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.sync_per_venue_concurrency))

    async def one(connection_id: int, venue: str) -> str:
        async with per_venue[venue], overall:
            try:
                return await sync_scheduled(rt, locks, connection_id, day, trigger=trigger)
            except Exception as exc:  # noqa: BLE001 - the loop survives anything one connection does
                log.error("scheduled sync crashed", connection_id=connection_id, error_class=type(exc).__name__)
                return "error"

    async with ConnectionLocks.open(rt.engine) as locks:
        outcomes = Counter(await asyncio.gather(*(one(cid, venue) for cid, venue in due)))
    result = DailyResult(day, dict(outcomes), round(time.perf_counter() - started, 3))
    log.info("daily sync finished", day=day.isoformat(), trigger=trigger, due=len(due), duration_s=result.duration_s,
             **outcomes)
    return result


async def due_connections(rt: SyncRuntime, day: date) -> list[tuple[int, str]]:
    """Active connections created before the run's instant that have no row for `day` yet."""
    cutoff = midnight(day + timedelta(days=1))
    done = exists().where(col(Snapshot.connection_id) == col(ExchangeConnection.id), col(Snapshot.day) >= day)
    query = (
        select(ExchangeConnection.id, ExchangeConnection.exchange)
        .where(col(ExchangeConnection.is_active), col(ExchangeConnection.credentials).is_not(None),
               col(ExchangeConnection.created_at) < cutoff, ~done)
        .order_by(col(ExchangeConnection.id))
    )
    async with rt.sessionmaker() as session:
        return [(int(cid), venue) for cid, venue in (await session.exec(query)).all() if cid is not None]


async def sync_scheduled(rt: SyncRuntime, locks: ConnectionLocks, connection_id: int, day: date, *,
                         trigger: str = SCHEDULED) -> str:
    async with locks.hold(connection_id) as mine:
        if not mine:
            return "skipped"
        async with rt.sessionmaker() as session:
            conn = await session.get(ExchangeConnection, connection_id)
            previous = await latest_snapshot(session, connection_id)
            memory = await load_flow_memory(session, rt.ctx.dek, connection_id)
        if conn is None or not conn.is_active or conn.credentials is None:
            return "skipped"
        if previous is not None and previous.day >= day:
            return "skipped"
        started = rt.ctx.clock()
        # Chained on fetch instants: flows of missed days and of a late run's extra hours are fetched too.
        window = scheduled_window(day, previous, started)
        try:
            fetched = await fetch_account(rt.ctx, conn, window, memory=memory)
        except Exception as exc:  # noqa: BLE001 - e.g. credentials that no longer decrypt: audited as a failure
            fetched = Fetched(error_class=type(exc).__name__, error_kind="internal")
        return await _store(rt, conn, fetched, day=day, started=started, observed=window.end, trigger=trigger)


async def _store(rt: SyncRuntime, conn: ExchangeConnection, fetched: Fetched, *, day: date, started: datetime,
                 observed: datetime, trigger: str) -> str:
    finished = rt.ctx.clock()
    assert conn.id is not None
    async with unit_of_work(rt.sessionmaker) as session:
        await store_rotated(session, rt.ctx.dek, conn.id, fetched.rotated, finished)
    audit = partial(_audit, rt, conn, day=day, started=started, finished=finished, trigger=trigger)
    try:
        outcome, reason = await _write(rt, conn, fetched, day=day, observed=observed, audit=audit)
    except IntegrityError:
        # The day's row appeared meanwhile (e.g. a connect at 00:00:01): the existing row stays.
        outcome, reason = "skipped", "SnapshotExists"
        await audit(outcome, reason)
    except Exception as exc:
        # Whatever happened to the snapshot, the attempt is audited (then the job counts it as an error).
        await audit("failed", type(exc).__name__)
        raise
    rt.ctx.count(conn.exchange, trigger, outcome, snapshots=int(outcome == "success"))
    if outcome == "failed":
        log.warning("scheduled sync failed", connection_id=conn.id, venue=conn.exchange, trigger=trigger,
                    error_class=reason)
    return outcome


async def _write(rt: SyncRuntime, conn: ExchangeConnection, fetched: Fetched, *, day: date, observed: datetime,
                 audit: Callable[..., Awaitable[None]]) -> tuple[str, str | None]:
    """The snapshot and its audit row in one short transaction, for a connection that still exists."""
    assert conn.id is not None
    async with unit_of_work(rt.sessionmaker) as session:
        outcome: str
        reason: str | None
        if await live_connection(session, conn.id) is None:
            # Deleted while its venue was being read: store nothing for it, but say so.
            outcome, reason = "skipped", "ConnectionDeleted"
        else:
            outcome, reason = ("success", None) if fetched.ok else ("failed", fetched.error_class)
            if fetched.state is not None and fetched.ok:
                # taken_at = the window's end: the next window starts exactly there.
                session.add(build_snapshot(conn, day=day, trigger="scheduled", state=fetched.state,
                                           taken_at=observed))
                remember_flows(session, conn.id, fetched.state)
        await audit(outcome, reason, session=session)
    return outcome, reason


async def _audit(rt: SyncRuntime, conn: ExchangeConnection, outcome: str, reason: str | None, *, day: date,
                 started: datetime, finished: datetime, trigger: str, session: AsyncSession | None = None) -> None:
    """One sync_events row: in the caller's unit of work, or in one of its own when that one failed."""
    if session is not None:
        record_event(session, conn, trigger=trigger, scheduled_for=day, started_at=started,
                     finished_at=finished, outcome=outcome, error_class=reason)
        return
    async with unit_of_work(rt.sessionmaker) as own:
        await _audit(rt, conn, outcome, reason, day=day, started=started, finished=finished, trigger=trigger,
                     session=own)


# -- the scheduler ------------------------------------------------------------------------------------


class SyncScheduler:
    """APScheduler (AsyncIOScheduler) with one cron job at 00:00 UTC, its retries later the same day
    (ZKA_SYNC_RETRY_DELAYS), plus a catch-up run at start-up (idempotent: it only fills yesterday's rows
    that are missing, e.g. after a restart over midnight)."""

    def __init__(self, state: AppState) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: PLC0415 - keep start-up light
        from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

        self._state = state
        # One run at a time in this process: a retry due while the 00:00 run is still going waits for it,
        # so the concurrency bounds hold and it only sees what that run could not do.
        self._running = asyncio.Lock()
        self._scheduler: Any = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(self.tick, CronTrigger(hour=0, minute=0, second=0, timezone=UTC), id=JOB_ID,
                                max_instances=1, coalesce=True, misfire_grace_time=6 * 3600)
        for n, delay in enumerate(state.settings.sync.retry_delays, start=1):
            at = midnight(date(2000, 1, 1)) + delay  # the time of day of the retry
            self._scheduler.add_job(self.retry, CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                                                            timezone=UTC),
                                    id=f"{JOB_ID}.retry.{n}", max_instances=1, coalesce=True,
                                    misfire_grace_time=3600)
        self._scheduler.add_job(self.tick, "date", run_date=datetime.now(UTC) + timedelta(seconds=5),
                                id=f"{JOB_ID}.catch_up", misfire_grace_time=3600)

    async def tick(self) -> DailyResult | None:
        return await self._run(SCHEDULED)

    async def retry(self) -> DailyResult | None:
        """Another attempt for the connections still without the day's row (nothing due: nothing runs)."""
        return await self._run(RETRY)

    async def _run(self, trigger: str) -> DailyResult | None:
        async with self._running:
            try:
                return await run_daily_sync(sync_runtime(self._state), now=self._state.clock(), trigger=trigger)
            except Exception as exc:  # noqa: BLE001 - the scheduler must keep running tomorrow
                log.error("daily sync run failed", trigger=trigger, error_class=type(exc).__name__)
                return None

    def retry_jobs(self) -> list[Any]:
        """The retry jobs in the order of ZKA_SYNC_RETRY_DELAYS (the order they fire after 00:00)."""
        prefix = f"{JOB_ID}.retry."
        jobs = [job for job in self._scheduler.get_jobs() if job.id.startswith(prefix)]
        return sorted(jobs, key=lambda job: int(job.id.removeprefix(prefix)))

    def start(self) -> None:
        self._scheduler.start()
        upcoming = self.next_run()
        log.info("scheduler started", next_run=upcoming.isoformat() if upcoming else None)

    def next_run(self) -> datetime | None:
        job = self._scheduler.get_job(JOB_ID)
        return job.next_run_time if job is not None else None

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def start_scheduler(state: AppState) -> SyncScheduler:
    scheduler = SyncScheduler(state)
    scheduler.start()
    return scheduler


def next_midnight(now: datetime) -> datetime:
    return midnight(now.astimezone(UTC).date() + timedelta(days=1))
