"""Exchange connections: connect (check live, refuse withdrawal keys, store encrypted, first snapshot),
list, delete. Everything runs in the caller's transaction: when any step fails nothing is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import Connector, ConnectorError, Credentials, DayWindow, Permission
from app.connectors.registry import SUPPORTED_VENUES
from app.core.logging import get_logger
from app.core.redaction import secret_values
from app.errors import AppError, BadRequest, Conflict, NotFound, ServiceUnavailable, UpstreamError
from app.models import ExchangeConnection, Snapshot, User, utcnow
from app.services.crypto import E2EKey, credentials_hash, encrypt_credentials
from app.services.flow_memory import fresh_flow_memory
from app.services.snapshots import initial_day, initial_window
from app.services.sync import Fetched, SyncContext, add_initial_rows, backfill_days, record_event, secrets_of

log = get_logger("zka.connections")


class WithdrawPermission(BadRequest):
    code = "withdraw_permission"


@dataclass
class Connected:
    connection: ExchangeConnection
    snapshot: Snapshot
    backfilled: int


def check_venue(exchange: str) -> None:
    if exchange not in SUPPORTED_VENUES:
        raise BadRequest(f"unsupported exchange {exchange!r}; supported: {', '.join(SUPPORTED_VENUES)}",
                         code="unsupported_exchange")


async def connect(
    session: AsyncSession, ctx: SyncContext, *, e2e: E2EKey, user_uid: str, exchange: str, label: str,
    envelope: Mapping[str, Any], exclude_from_report: bool,
) -> Connected:
    check_venue(exchange)
    credentials = await asyncio.to_thread(e2e.open, envelope)
    with secret_values(*secrets_of(credentials)):
        digest = credentials_hash(ctx.dek, credentials)
        await _refuse_duplicates(session, user_uid=user_uid, exchange=exchange, label=label, digest=digest)
        await _end_read_only_transaction(session)
        started = ctx.clock()
        fetched, is_paper = await _check_and_fetch(ctx, exchange, credentials, initial_window(started))
        assert fetched.state is not None
        # Again: a concurrent connect may have stored this label or key while the venue answered.
        await _refuse_duplicates(session, user_uid=user_uid, exchange=exchange, label=label, digest=digest)
        await _ensure_user(session, user_uid)
        conn = ExchangeConnection(user_uid=user_uid, exchange=exchange, label=label, credentials_hash=digest,
                                  permissions=sorted(p.value for p in fetched.permissions), is_paper=is_paper,
                                  exclude_from_report=exclude_from_report, created_at=started, updated_at=started)
        session.add(conn)
        await session.flush()  # the id is part of the ciphertext's AAD
        assert conn.id is not None
        conn.credentials = encrypt_credentials(ctx.dek, conn.id, fetched.rotated or credentials)
    finished = ctx.clock()
    day = initial_day(started)
    snapshot, backfill = add_initial_rows(session, conn, fetched, started=started, finished=finished)
    record_event(session, conn, trigger="initial", scheduled_for=day, started_at=started, finished_at=finished,
                 outcome="success")
    await session.flush()
    ctx.count(exchange, "initial", "success", snapshots=1)
    if backfill:
        ctx.count(exchange, "backfill", "success", snapshots=len(backfill))
    log.info("connection added", venue=exchange, connection_id=conn.id, backfilled=len(backfill))
    return Connected(conn, snapshot, len(backfill))


async def _end_read_only_transaction(session: AsyncSession) -> None:
    """The live venue check can take seconds: a transaction left open across it would hold a pooled
    connection the whole time, and a burst of connects would starve every other request of the pool.
    Nothing is written yet, so ending the read (a rollback) loses nothing; the request's unit of work
    begins a new transaction at the next statement and commits it as usual."""
    assert not (session.new or session.dirty or session.deleted), "only reads before the venue check"
    await session.rollback()


async def _refuse_duplicates(
    session: AsyncSession, *, user_uid: str, exchange: str, label: str, digest: str
) -> None:
    """One query for both rules: the caller's active connections with this label or this key."""
    clashes = (await session.exec(select(ExchangeConnection).where(
        ExchangeConnection.user_uid == user_uid, col(ExchangeConnection.is_active),
        or_(and_(col(ExchangeConnection.exchange) == exchange, col(ExchangeConnection.label) == label),
            col(ExchangeConnection.credentials_hash) == digest),
    ))).all()
    if any(c.exchange == exchange and c.label == label for c in clashes):
        raise Conflict(f"an active {exchange} connection labelled {label!r} already exists; delete it first or "
                       "choose another label", code="duplicate_connection")
    same_key = next((c for c in clashes if c.credentials_hash == digest), None)
    if same_key is not None:
        raise Conflict(f"this API key is already connected (connection {same_key.id}); connecting it twice would "
                       "count its equity twice", code="duplicate_credentials")


async def _check_and_fetch(
    ctx: SyncContext, exchange: str, credentials: Credentials, window: DayWindow
) -> tuple[Fetched, bool]:
    """Live credential check, permission check, first state (and IBKR history). Errors are safe to show."""
    connector: Connector | None = None
    failure: AppError | None = None
    fetched = Fetched()
    try:
        connector = ctx.connector(exchange, credentials, flow_memory=fresh_flow_memory(ctx.dek))
        await connector.check_credentials()
        fetched.permissions = await connector.permissions() or {Permission.UNKNOWN}
        _refuse_withdrawal(exchange, fetched.permissions)
        fetched.state = await connector.fetch_account_state(window)
        if hasattr(connector, "fetch_history"):
            fetched.history = await connector.fetch_history(days=backfill_days(connector))
    except AppError as exc:
        failure = exc
    except ConnectorError as exc:
        failure = _connector_failure(exchange, exc)
    except Exception as exc:  # noqa: BLE001 - a library error may carry request details: only its class leaves
        log.error("connect failed unexpectedly", venue=exchange, error_class=type(exc).__name__)
        failure = UpstreamError(f"{exchange}: the account could not be read ({type(exc).__name__})",
                                code="venue_error")
    finally:
        if connector is not None:
            await connector.close()
    if failure is not None or connector is None:
        raise failure or AssertionError("no connector")
    fetched.rotated = getattr(connector, "rotated_credentials", None)
    return fetched, bool(getattr(connector, "is_paper", False))


def _refuse_withdrawal(exchange: str, permissions: set[Permission]) -> None:
    if Permission.WITHDRAW in permissions:
        raise WithdrawPermission(
            f"this {exchange} API key has withdrawal permission. zka only stores keys that cannot move funds "
            "out of the account: create a key without withdrawal permission (read-only, trading may stay on) "
            "and connect again")


def _connector_failure(exchange: str, exc: ConnectorError) -> AppError:
    """Connector messages are credential-free by construction; they say what the venue objected to."""
    detail = str(exc)[:300]
    if exc.kind == "auth":
        return BadRequest(f"{exchange} rejected these credentials: {detail}", code="invalid_credentials")
    if exc.kind == "permission":
        return BadRequest(f"{exchange} refused access with this key: {detail}", code="insufficient_permission")
    if exc.kind == "demo_refused":
        return BadRequest(detail, code="demo_venue_refused")
    if exc.kind == "rate_limited":
        return ServiceUnavailable(f"{exchange} is rate limiting us; try again in a few minutes",
                                  code="venue_rate_limited")
    return UpstreamError(f"{exchange} could not be reached or answered unexpectedly: {detail}",
                         code="venue_unavailable")


async def _ensure_user(session: AsyncSession, uid: str) -> None:
    """Idempotent, and safe when two first connects of one new user race (a SELECT-then-INSERT was not)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(User).values(uid=uid, created_at=utcnow()).on_conflict_do_nothing(index_elements=["uid"])
    await session.execute(statement)


# -- list / delete ------------------------------------------------------------------------------------


async def list_connections(
    session: AsyncSession, user_uid: str, *, include_deleted: bool = False
) -> Sequence[ExchangeConnection]:
    query = select(ExchangeConnection).where(ExchangeConnection.user_uid == user_uid)
    if not include_deleted:
        query = query.where(col(ExchangeConnection.is_active))
    return (await session.exec(query.order_by(col(ExchangeConnection.id)))).all()


async def get_connection(session: AsyncSession, user_uid: str, connection_id: int) -> ExchangeConnection:
    """Another user's connection is indistinguishable from a missing one."""
    conn = await session.get(ExchangeConnection, connection_id)
    if conn is None or conn.user_uid != user_uid:
        raise NotFound(f"no connection {connection_id}", code="connection_not_found")
    return conn


async def delete_connection(session: AsyncSession, ctx: SyncContext, *, user_uid: str, connection_id: int) -> None:
    """Deactivate and wipe the ciphertext and its hash; snapshots stay (they are the track record)."""
    conn = await get_connection(session, user_uid, connection_id)
    conn.is_active = False
    conn.credentials = None
    conn.credentials_hash = None
    conn.updated_at = ctx.clock()
    await session.flush()
    log.info("connection deleted", venue=conn.exchange, connection_id=conn.id)
