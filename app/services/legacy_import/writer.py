"""Writing one batch of the original's users into zka's database, in the caller's transaction.

A user is the unit: their connections (credentials re-encrypted under zka's DEK with zka's AAD), daily
rows (classify.py), sync history, signed reports, then the user's marker in legacy_import_rows. The batch
commits all of it or none, so a crash leaves whole users imported and a rerun (--resume) skips them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import Credentials
from app.models import ExchangeConnection, LegacyImportRow, LegacyReport, Snapshot, SyncEvent, User
from app.services.crypto.credentials_cipher import (
    credentials_hash,
    encrypt_credentials,
    import_legacy_credentials,
    legacy_credentials_hash,
)
from app.services.crypto.dek import Dek
from app.services.crypto.errors import CredentialDecryptError
from app.services.legacy_import.classify import ConnectionPlan, plan_connection
from app.services.legacy_import.source import (
    LegacyConnection,
    LegacySignedReport,
    LegacySnapshot,
    LegacySyncRecord,
    LegacyUser,
)
from app.services.legacy_import.venues import zka_venue
from app.services.sync import record_event

USERS = "users"


@dataclass
class Batch:
    users: Sequence[LegacyUser]
    connections: Sequence[LegacyConnection]
    snapshots: Sequence[LegacySnapshot]
    sync_records: Sequence[LegacySyncRecord]
    reports: Sequence[LegacySignedReport]


@dataclass
class Summary:
    """What a run imported (or would import); every list names source rows, never user data."""

    imported: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    unsupported: list[str] = field(default_factory=list)  # "<venue> (connection <source id>)"
    deleted: list[str] = field(default_factory=list)  # "<venue> of user row <source id>"
    inactive_conflicts: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "<snapshot row id>: <reason>"
    jumps: list[str] = field(default_factory=list)
    uncarried: list[str] = field(default_factory=list)
    carried_flows: int = 0
    skipped_users: int = 0

    def log_fields(self) -> dict[str, int]:
        """Counts only: what the logs may carry."""
        return {**{f"imported_{k}": v for k, v in sorted(self.imported.items())},
                **{f"rows_{k}": v for k, v in sorted(self.classes.items())},
                "unsupported_venues": len(self.unsupported), "deleted_connections": len(self.deleted),
                "rejected_rows": len(self.rejected), "jumps_without_flow": len(self.jumps),
                "carried_flows": self.carried_flows, "uncarried_flows": len(self.uncarried)}


async def imported_user_ids(session: AsyncSession) -> set[str]:
    rows = await session.exec(select(LegacyImportRow.source_id).where(LegacyImportRow.source_table == USERS))
    return set(rows.all())


async def marker(session: AsyncSession, table: str, source_id: str) -> LegacyImportRow | None:
    query = select(LegacyImportRow).where(LegacyImportRow.source_table == table, LegacyImportRow.source_id == source_id)
    return (await session.exec(query)).first()


def mark(session: AsyncSession, table: str, source_id: str, target_id: int | None) -> None:
    session.add(LegacyImportRow(source_table=table, source_id=source_id, target_id=target_id))


@dataclass
class UserRows:
    connections: list[LegacyConnection] = field(default_factory=list)
    snapshots: list[LegacySnapshot] = field(default_factory=list)
    sync_records: list[LegacySyncRecord] = field(default_factory=list)
    reports: list[LegacySignedReport] = field(default_factory=list)


def _by_user(batch: Batch) -> dict[str, UserRows]:
    out: dict[str, UserRows] = defaultdict(UserRows)
    for c in batch.connections:
        out[c.user_uid].connections.append(c)
    for s in batch.snapshots:
        out[s.user_uid].snapshots.append(s)
    for r in batch.sync_records:
        out[r.user_uid].sync_records.append(r)
    for p in batch.reports:
        out[p.user_uid].reports.append(p)
    return out


async def write_batch(session: AsyncSession, batch: Batch, *, legacy_dek: bytes, dek: Dek, summary: Summary) -> None:
    by_user = _by_user(batch)
    for user in batch.users:
        if await marker(session, USERS, user.id) is not None:
            summary.skipped_users += 1
            continue
        await _write_user(session, user, by_user[user.uid], legacy_dek=legacy_dek, dek=dek, summary=summary)


async def _write_user(session: AsyncSession, user: LegacyUser, parts: UserRows, *,
                      legacy_dek: bytes, dek: Dek, summary: Summary) -> None:
    existing = (await session.exec(select(User).where(User.uid == user.uid))).first()
    if existing is None:
        existing = User(uid=user.uid, created_at=user.created_at)
        session.add(existing)
        summary.imported["users"] += 1
    connections = {c.exchange: c for c in parts.connections}
    snapshots: dict[str, list[LegacySnapshot]] = defaultdict(list)
    for s in parts.snapshots:
        snapshots[s.exchange].append(s)
    made: dict[str, ExchangeConnection] = {}
    for exchange in sorted(connections.keys() | snapshots.keys()):
        plan = plan_connection(user.uid, exchange, connections.get(exchange), snapshots.get(exchange, []))
        made[exchange] = await _write_connection(session, user, plan, legacy_dek=legacy_dek, dek=dek, summary=summary)
    for record in parts.sync_records:
        _write_sync_record(session, record, made, summary)
    for report in parts.reports:
        await _write_report(session, report, summary)
    await session.flush()
    mark(session, USERS, user.id, existing.id)


async def _write_connection(session: AsyncSession, user: LegacyUser, plan: ConnectionPlan, *, legacy_dek: bytes,
                            dek: Dek, summary: Summary) -> ExchangeConnection:
    legacy = plan.legacy
    venue = zka_venue(plan.exchange)
    credentials = _credentials(legacy, legacy_dek, summary) if legacy is not None else None
    label = legacy.label if legacy is not None else f"{plan.exchange} (deleted in the original)"
    conn = ExchangeConnection(
        user_uid=user.uid, exchange=(venue or plan.exchange.strip().lower())[:32], label=label[:64],
        is_active=bool(legacy and legacy.is_active and venue and credentials is not None),
        legacy_deleted=legacy is None, exclude_from_report=bool(legacy and legacy.exclude_from_report),
        created_at=legacy.created_at if legacy else _first_created(plan),
        updated_at=legacy.updated_at if legacy else _first_created(plan),
    )
    if venue is None:
        summary.unsupported.append(f"{plan.exchange} (connection {legacy.id if legacy else 'deleted'})")
    if legacy is None:
        summary.deleted.append(f"{plan.exchange} of user row {user.id}: {len(plan.days)} daily rows kept under an "
                               "inactive connection")
    if conn.is_active and await _active_label_taken(session, conn):
        conn.is_active = False
        summary.inactive_conflicts.append(f"{plan.exchange} (connection {legacy.id if legacy else '-'}): zka already "
                                          "has an active connection with this venue and label")
    session.add(conn)
    await session.flush()
    assert conn.id is not None
    if credentials is not None:
        conn.credentials = encrypt_credentials(dek, conn.id, credentials)
        conn.credentials_hash = credentials_hash(dek, credentials)
    if legacy is not None:
        mark(session, "exchange_connections", legacy.id, conn.id)
    summary.imported["connections"] += 1
    summary.imported["inactive_connections"] += int(not conn.is_active)
    if plan.days:
        await _insert_days(session, conn, plan)
    summary.imported["snapshots"] += len(plan.days)
    summary.imported["import_events"] += len(plan.days)
    summary.classes.update(plan.classes)
    summary.rejected += [f"{source}: {reason}" for source, reason in plan.rejected]
    where = f"{plan.exchange} (connection {legacy.id if legacy else 'deleted'})"
    summary.jumps += [f"{where} on {day}" for day in plan.jumps]
    summary.uncarried += [f"{source}: flows after the connection's last close" for source in plan.uncarried_flows]
    summary.carried_flows += plan.carried_flows
    return conn


async def _insert_days(session: AsyncSession, conn: ExchangeConnection, plan: ConnectionPlan) -> None:
    """Years of days per connection: one multi-row INSERT each for the rows and their audit marks (the ORM's
    unit of work, one object per row, made a 146,000-row import take minutes). Append-only, as record_event."""
    assert conn.id is not None
    await session.execute(insert(Snapshot), [
        {"user_uid": conn.user_uid, "connection_id": conn.id, "exchange": conn.exchange, "label": conn.label,
         "day": row.day, "taken_at": row.taken_at, "trigger": row.trigger, "total_equity": row.total_equity,
         "cash": row.cash, "unrealized_pnl": row.unrealized_pnl, "deposits": row.deposits,
         "withdrawals": row.withdrawals, "breakdown": row.breakdown, "currency": "USD"}
        for row in plan.days])
    # The mark reports and audits read: this day came from the original.
    await session.execute(insert(SyncEvent), [
        {"user_uid": conn.user_uid, "connection_id": conn.id, "trigger": "import", "scheduled_for": row.day,
         "started_at": row.taken_at, "finished_at": row.taken_at, "outcome": "success", "error_class": None}
        for row in plan.days])


def _credentials(legacy: LegacyConnection, legacy_dek: bytes, summary: Summary) -> Credentials | None:
    try:
        credentials = import_legacy_credentials(legacy_dek, legacy.encrypted_api_key, legacy.encrypted_api_secret,
                                                legacy.encrypted_passphrase)
    except (CredentialDecryptError, UnicodeDecodeError):
        summary.unreadable.append(f"connection {legacy.id}: credentials do not decrypt; imported inactive without them")
        return None
    if legacy.credentials_hash and legacy.credentials_hash != legacy_credentials_hash(
            credentials.api_key, credentials.api_secret, credentials.passphrase):
        summary.unreadable.append(f"connection {legacy.id}: credentials decrypt but differ from the original's "
                                  "credentialsHash (kept, check them)")
    return credentials


async def _active_label_taken(session: AsyncSession, conn: ExchangeConnection) -> bool:
    query = select(ExchangeConnection.id).where(
        ExchangeConnection.user_uid == conn.user_uid, ExchangeConnection.exchange == conn.exchange,
        ExchangeConnection.label == conn.label, col(ExchangeConnection.is_active).is_(True))
    return (await session.exec(query)).first() is not None


def _first_created(plan: ConnectionPlan) -> datetime:
    return min((d.taken_at for d in plan.days), default=datetime.now().astimezone())


def _write_sync_record(session: AsyncSession, record: LegacySyncRecord, made: dict[str, ExchangeConnection],
                       summary: Summary) -> None:
    """A sync the original ran (sync_statuses, sync_rate_limit_logs) becomes an `initial` attempt at its time:
    in the original a requested sync was only ever a connection's first (its manual-sync guard, §26.2), and
    zka's own guard spaces `initial` attempts 23 h apart and refuses any once a snapshot exists."""
    conn = made.get(record.exchange)
    if conn is None or record.last_sync_time is None:
        return
    failed = record.status == "error"
    record_event(session, conn, trigger="initial", scheduled_for=None, started_at=record.last_sync_time,
                 finished_at=record.last_sync_time, outcome="failed" if failed else "success",
                 error_class=f"legacy_{record.table}" + ("_error" if failed else ""))
    summary.imported["sync_events"] += 1


async def _write_report(session: AsyncSession, report: LegacySignedReport, summary: Summary) -> None:
    if not isinstance(report.report_data, dict):
        summary.rejected.append(f"signed report {report.id}: reportData is not a JSON object")
        return
    taken = (await session.exec(select(LegacyReport.id).where(LegacyReport.report_id == report.report_id))).first()
    if taken is not None:
        return
    session.add(LegacyReport(
        report_id=report.report_id, user_uid=report.user_uid, period_start=report.start_date.date(),
        period_end=report.end_date.date(), benchmark=report.benchmark, document=report.report_data,
        report_hash=report.report_hash, enclave_version=report.enclave_version[:32], created_at=report.created_at))
    summary.imported["legacy_reports"] += 1
