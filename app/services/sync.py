"""One sync of one connection: decrypt, fetch (with retries), build rows, audit.

Decrypted credentials exist only inside `fetch_account` and are registered with the redaction layer
for that time. Everything leaving this module is an aggregate or an error *class* — never an
exception message from a venue library, never a credential.

Functions taking a session only add and flush; the caller's unit of work commits. `sync_events` rows
are only ever inserted, one per attempt once it has finished (started_at and finished_at together).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import SyncSettings
from app.connectors.base import (
    AccountState,
    Connector,
    ConnectorError,
    ConnectorOptions,
    Credentials,
    DayWindow,
    EquityPoint,
    FlowMemory,
    Permission,
    RateLimited,
    VenueUnavailable,
)
from app.connectors.registry import DemoRefused, build_connector, check_allowed
from app.core.logging import get_logger
from app.core.redaction import secret_values
from app.db import SessionMaker
from app.models import ExchangeConnection, Snapshot, SyncEvent, utcnow
from app.services.crypto import Dek, decrypt_credentials, encrypt_credentials
from app.services.flow_memory import remember_flows
from app.services.snapshots import build_backfill, build_snapshot, initial_day, with_history_of_day

if TYPE_CHECKING:
    from app.core.metrics import Metrics
    from app.state import AppState

log = get_logger("zka.sync")
T = TypeVar("T")
ConnectorFactory = Callable[[str, Credentials, ConnectorOptions], Connector]
TRANSIENT: tuple[type[ConnectorError], ...] = (VenueUnavailable, RateLimited)
BACKFILL_DAYS = 365


@dataclass(frozen=True)
class SyncContext:
    """What a sync needs from the process: the DEK, venue settings, the shared connector cache, a clock."""

    dek: Dek
    settings: SyncSettings
    cache: dict[str, object] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    build: ConnectorFactory = build_connector
    metrics: Metrics | None = None
    production: bool = False  # refuses the demo venue

    def count(self, venue: str, trigger: str, outcome: str, *, snapshots: int = 0) -> None:
        """Prometheus counters: attempts by venue/trigger/outcome, snapshots stored by trigger (no user data)."""
        if self.metrics is not None:
            self.metrics.sync_outcomes.labels(venue=venue, trigger=trigger, outcome=outcome).inc()
            if snapshots:
                self.metrics.snapshots.labels(trigger=trigger).inc(snapshots)

    def options(self, venue: str, *, is_paper: bool = False, flow_memory: FlowMemory | None = None
                ) -> ConnectorOptions:
        return ConnectorOptions(base_url=self.settings.venue_urls.get(venue), is_paper=is_paper, cache=self.cache,
                                flow_memory=flow_memory)

    def connector(self, venue: str, credentials: Credentials, *, is_paper: bool = False,
                  flow_memory: FlowMemory | None = None) -> Connector:
        """The venue's connector, unless this mode refuses the venue (the demo in production)."""
        check_allowed(venue, production=self.production)
        return self.build(venue, credentials, self.options(venue, is_paper=is_paper, flow_memory=flow_memory))


def sync_context(state: AppState) -> SyncContext:
    assert state.keys is not None, "keys are loaded by the lifespan"
    return SyncContext(dek=state.keys.dek, settings=state.settings.sync, cache=state.connector_cache,
                       clock=state.clock, build=state.connector_factory, metrics=getattr(state, "metrics", None),
                       production=state.settings.server.is_production)


@dataclass(frozen=True)
class SyncRuntime:
    """What a sync *job* needs: it opens its own units of work (an attempt is audited even when it fails)."""

    ctx: SyncContext
    engine: AsyncEngine
    sessionmaker: SessionMaker


def sync_runtime(state: AppState) -> SyncRuntime:
    return SyncRuntime(sync_context(state), state.engine, state.sessionmaker)


def backfill_days(connector: Connector) -> int:
    """How far back a first sync reads a venue's history (the demo's two years, else a year)."""
    return int(getattr(connector, "backfill_days", BACKFILL_DAYS))


def secrets_of(credentials: Credentials) -> tuple[str | None, ...]:
    return (credentials.api_key, credentials.api_secret, credentials.passphrase, *credentials.extra.values())


@dataclass
class Fetched:
    """The outcome of talking to the venue: aggregates, or the error's class; maybe rotated credentials."""

    state: AccountState | None = None
    history: list[EquityPoint] = field(default_factory=list)
    permissions: set[Permission] = field(default_factory=set)
    rotated: Credentials | None = None
    error_class: str | None = None
    error_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.state is not None and self.error_class is None


async def with_retries(call: Callable[[], Awaitable[T]], *, retries: int) -> T:
    """Retry transient venue errors (unavailable, rate limited) with exponential backoff and jitter."""
    import stamina  # noqa: PLC0415 - only syncs need it; keeps service start-up light

    async for attempt in stamina.retry_context(on=TRANSIENT, attempts=retries + 1, timeout=None,
                                               wait_initial=1.0, wait_max=30.0):
        with attempt:
            return await call()
    raise AssertionError("unreachable: retry_context re-raises the last error")


async def fetch_account(
    ctx: SyncContext, conn: ExchangeConnection, window: DayWindow, *, backfill: bool = False,
    memory: FlowMemory | None = None,
) -> Fetched:
    """Decrypt, build the connector, fetch the window's state (and history for a backfill), close.
    `memory`: the flows already counted for this connection (flow_memory.py)."""
    assert conn.id is not None and conn.credentials is not None
    credentials = decrypt_credentials(ctx.dek, conn.id, conn.credentials)
    with secret_values(*secrets_of(credentials)):
        fetched = Fetched()
        try:
            connector = ctx.connector(conn.exchange, credentials, is_paper=conn.is_paper, flow_memory=memory)
        except DemoRefused as exc:
            return Fetched(error_class=type(exc).__name__, error_kind=exc.kind)
        try:
            fetched.state = state = await with_retries(lambda: connector.fetch_account_state(window),
                                                       retries=ctx.settings.sync_retries)
            if backfill and hasattr(connector, "fetch_history"):
                fetched.history = await connector.fetch_history(days=backfill_days(connector))
            state.check_flows()  # a negative deposit/withdrawal is refused here: nothing is stored
            for point in fetched.history:
                point.check_flows()
        except Exception as exc:  # noqa: BLE001 - one connection's failure must never escape the sync
            fetched.state = None
            fetched.error_class = type(exc).__name__
            fetched.error_kind = exc.kind if isinstance(exc, ConnectorError) else "internal"
        finally:
            await _close(connector)
        fetched.rotated = getattr(connector, "rotated_credentials", None)
    if fetched.error_kind == "internal":
        log.error("sync failed unexpectedly", venue=conn.exchange, error_class=fetched.error_class)
    return fetched


async def _close(connector: Connector) -> None:
    try:
        await connector.close()
    except Exception as exc:  # noqa: BLE001 - closing must not turn a result into a failure
        logging.getLogger(__name__).warning("connector close failed: %s", type(exc).__name__)


def _live(connection_id: int) -> tuple[ColumnElement[bool], ...]:
    """A connection the user has not deleted: deletion deactivates the row and wipes its ciphertext."""
    return (col(ExchangeConnection.id) == connection_id, col(ExchangeConnection.is_active).is_(True),
            col(ExchangeConnection.credentials).is_not(None))


async def store_rotated(
    session: AsyncSession, dek: Dek, connection_id: int, rotated: Credentials | None, now: datetime
) -> None:
    """A venue rotated a token during the sync (TradeStation): keep the new one, even if the sync failed.

    One conditional UPDATE, so a connection deleted meanwhile never gets ciphertext back (the check and
    the write are one statement: no race with a delete on either database). The caller runs this in a
    unit of work of its own right after the fetch: the venue has already voided the old token, so the
    new one must not share the fate of the snapshot's transaction."""
    if rotated is None:
        return
    ciphertext = encrypt_credentials(dek, connection_id, rotated)
    await session.execute(
        update(ExchangeConnection).where(*_live(connection_id)).values(credentials=ciphertext, updated_at=now))


async def live_connection(session: AsyncSession, connection_id: int) -> ExchangeConnection | None:
    """The row if the connection still exists, locked (PostgreSQL) until the caller's unit of work ends,
    so a delete cannot slip between this check and the snapshot written with it. None if deleted."""
    query = select(ExchangeConnection).where(*_live(connection_id)).with_for_update()
    return (await session.exec(query)).first()


def record_event(
    session: AsyncSession, conn: ExchangeConnection, *, trigger: str, scheduled_for: date | None,
    started_at: datetime, finished_at: datetime, outcome: str, error_class: str | None = None,
) -> SyncEvent:
    """Append one audit row. The only way the application writes sync_events (no update, no delete)."""
    assert conn.id is not None
    event = SyncEvent(user_uid=conn.user_uid, connection_id=conn.id, trigger=trigger, scheduled_for=scheduled_for,
                      started_at=started_at, finished_at=finished_at, outcome=outcome,
                      error_class=error_class[:64] if error_class else None)
    session.add(event)
    return event


def add_initial_rows(
    session: AsyncSession, conn: ExchangeConnection, fetched: Fetched, *, started: datetime, finished: datetime,
) -> tuple[Snapshot, list[Snapshot]]:
    """A connection's first snapshot (and, for IBKR and the demo, its backfill with its audit row).

    taken_at = the fetch instant (the empty initial window's end): the first scheduled window starts there,
    so an initial snapshot finishing after midnight is not followed by a window counting its day again."""
    assert fetched.state is not None
    day = initial_day(started)
    backfill = build_backfill(conn, fetched.history, taken_at=started, before=day)
    state = with_history_of_day(fetched.state, fetched.history, day)
    snapshot = build_snapshot(conn, day=day, trigger="initial", state=state, taken_at=started)
    session.add_all([*backfill, snapshot])
    assert conn.id is not None
    remember_flows(session, conn.id, fetched.state)
    if backfill:
        record_event(session, conn, trigger="backfill", scheduled_for=None, started_at=started,
                     finished_at=finished, outcome="success")
    return snapshot, backfill


async def has_snapshot(session: AsyncSession, connection_id: int, day: date | None = None) -> bool:
    query = select(Snapshot.id).where(Snapshot.connection_id == connection_id)
    if day is not None:
        query = query.where(Snapshot.day == day)
    return (await session.exec(query.limit(1))).first() is not None


async def latest_snapshot(session: AsyncSession, connection_id: int) -> Snapshot | None:
    query = select(Snapshot).where(Snapshot.connection_id == connection_id).order_by(col(Snapshot.day).desc())
    return (await session.exec(query.limit(1))).first()
