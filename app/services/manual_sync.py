"""Manual sync (anti-cherry-picking, SPEC §8) and the sync status a user sees.

A user cannot choose when snapshots are taken. A manual sync is allowed only for a connection's first
snapshot (`initial`), never twice within 23 h, and never over an existing snapshot; every request —
run or refused — lands in sync_events. The rules are checked under the per-connection lock, held for
the whole attempt, so two requests at once cannot both reach the venue. Like the scheduled job, this
opens its own units of work: a failed or refused attempt must be audited even though the request then
fails, and a rotated token is kept whatever happens to the snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NoReturn

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import unit_of_work
from app.errors import AppError, Conflict, NotFound, TooManyRequests, UpstreamError
from app.models import ExchangeConnection, Snapshot, SyncEvent
from app.services.connections import get_connection, list_connections
from app.services.flow_memory import fresh_flow_memory
from app.services.replica_locks import ConnectionLocks
from app.services.snapshots import (
    as_utc,
    initial_day,
    initial_window,
    last_snapshots,
)
from app.services.sync import (
    Fetched,
    SyncRuntime,
    add_initial_rows,
    fetch_account,
    live_connection,
    record_event,
    store_rotated,
)

MANUAL_SPACING = timedelta(hours=23)
RAN = ("success", "failed")


@dataclass
class ManualResult:
    snapshot: Snapshot
    backfilled: int


async def manual_sync(rt: SyncRuntime, *, user_uid: str, connection_id: int) -> ManualResult:
    now = rt.ctx.clock()
    async with rt.sessionmaker() as session:
        conn = _active(await get_connection(session, user_uid, connection_id))
    async with ConnectionLocks.open(rt.engine) as locks, locks.hold(connection_id) as mine:
        # Decided under the lock, held for the whole attempt: a sync that finished just before must
        # refuse this one, and two requests at once must not both reach the venue.
        if not mine:
            await _refuse(rt, conn, now, Conflict("a sync of this connection is running right now",
                                                  code="sync_in_progress"))
        async with rt.sessionmaker() as session:
            conn = _active(await session.get(ExchangeConnection, connection_id))  # fresh: a rotated token
            refusal = await _refusal(session, conn, now)
        if refusal is not None:
            await _refuse(rt, conn, now, refusal)
        fetched = await fetch_account(rt.ctx, conn, initial_window(now), backfill=True,
                                      memory=fresh_flow_memory(rt.ctx.dek))
        return await _store(rt, conn, fetched, started=now)


def _active(conn: ExchangeConnection | None) -> ExchangeConnection:
    if conn is None or not conn.is_active or conn.credentials is None:
        raise NotFound(f"connection {conn.id if conn else ''} was deleted", code="connection_deleted")
    return conn


async def _refuse(rt: SyncRuntime, conn: ExchangeConnection, now: datetime, refusal: AppError) -> NoReturn:
    """Every request lands in sync_events, a refused one too."""
    async with unit_of_work(rt.sessionmaker) as session:
        record_event(session, conn, trigger="manual", scheduled_for=None, started_at=now, finished_at=now,
                     outcome="refused", error_class=refusal.code)
    rt.ctx.count(conn.exchange, "manual", "refused")
    raise refusal


async def _refusal(session: AsyncSession, conn: ExchangeConnection, now: datetime) -> AppError | None:
    assert conn.id is not None
    last = (await last_snapshots(session, [conn.id])).get(conn.id)
    if last is not None:
        return Conflict(
            f"manual sync is only allowed for a connection's first snapshot; this one has daily snapshots "
            f"(latest {last.day.isoformat()}) and the next is taken automatically at 00:00 UTC",
            code="manual_sync_not_allowed")
    ran = await last_manual_run(session, conn.id)
    if ran is not None and now - ran < MANUAL_SPACING:
        wait = int((ran + MANUAL_SPACING - now).total_seconds()) + 1
        return TooManyRequests(f"a manual sync of this connection ran less than 23 h ago; retry in {wait} s",
                               retry_after=wait, code="manual_sync_too_soon")
    return None


async def last_manual_run(session: AsyncSession, connection_id: int) -> datetime | None:
    query = (select(SyncEvent.started_at)
             .where(SyncEvent.connection_id == connection_id, SyncEvent.trigger == "initial",
                    col(SyncEvent.outcome).in_(RAN))
             .order_by(col(SyncEvent.started_at).desc()).limit(1))
    value = (await session.exec(query)).first()
    return as_utc(value) if value is not None else None


async def _store(rt: SyncRuntime, conn: ExchangeConnection, fetched: Fetched, *, started: datetime) -> ManualResult:
    finished = rt.ctx.clock()
    assert conn.id is not None
    async with unit_of_work(rt.sessionmaker) as session:  # first and alone: the old token is void already
        await store_rotated(session, rt.ctx.dek, conn.id, fetched.rotated, finished)
    day = initial_day(started)
    audit = partial(_audit, rt, conn, day=day, started=started, finished=finished)
    try:
        snapshot, backfill = await _write(rt, conn, fetched, started=started, finished=finished, audit=audit)
    except IntegrityError as exc:
        # The day's row appeared meanwhile (the 00:00 run, or a connect): it stays, and this attempt is audited.
        await audit("skipped", "SnapshotExists")
        rt.ctx.count(conn.exchange, "initial", "skipped")
        raise Conflict("this connection's snapshot for the day exists already", code="snapshot_exists") from exc
    except Exception as exc:
        await audit("failed", type(exc).__name__)  # whatever happens to the snapshot, the attempt is audited
        raise
    if snapshot is None and fetched.ok:
        rt.ctx.count(conn.exchange, "initial", "skipped")
        raise NotFound(f"connection {conn.id} was deleted during the sync; nothing was stored",
                       code="connection_deleted")
    rt.ctx.count(conn.exchange, "initial", "success" if snapshot else "failed", snapshots=int(snapshot is not None))
    if backfill:
        rt.ctx.count(conn.exchange, "backfill", "success", snapshots=len(backfill))
    if snapshot is None:
        raise UpstreamError(f"{conn.exchange} could not be read ({fetched.error_class}); the attempt is recorded",
                            code="sync_failed")
    return ManualResult(snapshot, len(backfill))


async def _write(rt: SyncRuntime, conn: ExchangeConnection, fetched: Fetched, *, started: datetime,
                 finished: datetime, audit: Callable[..., Awaitable[None]]) -> tuple[Snapshot | None, list[Snapshot]]:
    """The snapshot, backfill and audit rows in one transaction, for a connection that still exists."""
    assert conn.id is not None
    async with unit_of_work(rt.sessionmaker) as session:
        if await live_connection(session, conn.id) is None:
            # Deleted while its venue was being read: store nothing for it, but say so.
            await audit("skipped", "ConnectionDeleted", session=session)
            return None, []
        await audit("success" if fetched.ok else "failed", fetched.error_class, session=session)
        if not fetched.ok or fetched.state is None:
            return None, []
        snapshot, backfill = add_initial_rows(session, conn, fetched, started=started, finished=finished)
    return snapshot, backfill


async def _audit(rt: SyncRuntime, conn: ExchangeConnection, outcome: str, reason: str | None, *, day: date,
                 started: datetime, finished: datetime, session: AsyncSession | None = None) -> None:
    """One sync_events row: in the caller's unit of work, or in one of its own when that one failed."""
    if session is not None:
        record_event(session, conn, trigger="initial", scheduled_for=day, started_at=started, finished_at=finished,
                     outcome=outcome, error_class=reason)
        return
    async with unit_of_work(rt.sessionmaker) as own:
        await _audit(rt, conn, outcome, reason, day=day, started=started, finished=finished, session=own)


# -- status -------------------------------------------------------------------------------------------


async def sync_status(session: AsyncSession, *, user_uid: str, now: datetime) -> list[dict[str, Any]]:
    conns = await list_connections(session, user_uid)
    ids = [c.id for c in conns if c.id is not None]
    latest = await last_snapshots(session, ids)
    out = []
    for conn in conns:
        assert conn.id is not None
        attempt = await _last_attempt(session, conn.id)
        last = latest.get(conn.id)
        refusal = await _refusal(session, conn, now)
        out.append({
            "connection_id": conn.id, "exchange": conn.exchange, "label": conn.label,
            "last_snapshot": None if last is None else
            {"day": last.day, "trigger": last.trigger, "taken_at": as_utc(last.taken_at)},
            "last_attempt": None if attempt is None else
            {"trigger": attempt.trigger, "outcome": attempt.outcome, "scheduled_for": attempt.scheduled_for,
             "started_at": as_utc(attempt.started_at),
             "finished_at": as_utc(attempt.finished_at) if attempt.finished_at else None,
             "error_class": attempt.error_class},
            "manual_sync_allowed": refusal is None,
            "manual_sync_refusal": None if refusal is None else refusal.message,
        })
    return out


async def _last_attempt(session: AsyncSession, connection_id: int) -> SyncEvent | None:
    query = (select(SyncEvent).where(SyncEvent.connection_id == connection_id)
             .order_by(col(SyncEvent.id).desc()).limit(1))
    return (await session.exec(query)).first()
