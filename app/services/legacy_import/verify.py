"""`zka import-legacy --verify`: compare zka's rows with the source, per imported user.

For every day between a user's first and last day in the source, the original's aggregated equity is
recomputed from the source rows (the daily rows classify.py keeps, summed over the user's connections,
each carried forward over days it lacks, as the original's report generator did: ts-original.md §28.3)
and compared with the same sum over zka's rows of the connections the import made for that user.
Every imported connection's credentials must decrypt in zka to what the source's decrypt to.
Nothing is written.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import check_reachable, create_engine, create_sessionmaker
from app.models import ExchangeConnection, LegacyImportRow, Snapshot
from app.services.crypto.credentials_cipher import decrypt_credentials, import_legacy_credentials
from app.services.crypto.dek import Dek
from app.services.crypto.errors import CredentialDecryptError
from app.services.crypto.keyring import open_or_create_dek
from app.services.legacy_import.classify import plan_connection
from app.services.legacy_import.keys import unwrap_active_dek
from app.services.legacy_import.source import LegacyConnection, LegacySnapshot, LegacySource, LegacyUser, batched
from app.services.legacy_import.writer import USERS

TOLERANCE = Decimal("0.000001")  # DOUBLE PRECISION → NUMERIC(28, 8) (REAL on SQLite) may round the last digits


@dataclass
class VerifyResult:
    users: int = 0
    days: int = 0
    connections: int = 0
    differences: list[str] = field(default_factory=list)


async def verify_import(source_url: str, target_url: str, *, legacy_master_key: bytes, zka_master_key: bytes,
                        zka_wrapping: str, batch_size: int = 50) -> VerifyResult:
    source = await asyncio.to_thread(LegacySource, source_url)
    engine = create_engine(target_url)
    try:
        legacy_dek = unwrap_active_dek(await asyncio.to_thread(source.active_deks), legacy_master_key)
        await check_reachable(engine)
        result = VerifyResult()
        async with create_sessionmaker(engine)() as session:
            dek = await open_or_create_dek(session, zka_master_key, wrapping=zka_wrapping)
            await session.rollback()
            imported = await _markers(session)
            users = [u for u in await asyncio.to_thread(source.users) if u.id in imported.get(USERS, {})]
            for group in batched(users, batch_size):
                await _verify_batch(session, source, group, imported, legacy_dek, dek, result)
        return result
    finally:
        await engine.dispose()
        await asyncio.to_thread(source.close)


async def _markers(session: AsyncSession) -> dict[str, dict[str, int | None]]:
    out: dict[str, dict[str, int | None]] = defaultdict(dict)
    for row in (await session.exec(select(LegacyImportRow))).all():
        out[row.source_table][row.source_id] = row.target_id
    return out


async def _verify_batch(session: AsyncSession, source: LegacySource, users: Sequence[LegacyUser],
                        imported: dict[str, dict[str, int | None]], legacy_dek: bytes, dek: Dek,
                        result: VerifyResult) -> None:
    uids = [u.uid for u in users]
    conns, snaps = await asyncio.gather(asyncio.to_thread(source.connections, uids),
                                        asyncio.to_thread(source.snapshots, uids))
    made = imported.get("exchange_connections", {})
    for conn in conns:
        target_id = made.get(conn.id)
        if target_id is None:
            result.differences.append(f"connection {conn.id}: not imported")
            continue
        result.connections += 1
        row = await session.get(ExchangeConnection, target_id)
        if row is None or not _same_credentials(row, conn, legacy_dek, dek):
            result.differences.append(f"connection {conn.id}: credentials in zka do not decrypt to the source's")
    for user in users:
        source_series = []
        legacy_by_exchange = {c.exchange: c for c in conns if c.user_uid == user.uid}
        rows_by_exchange: dict[str, list[LegacySnapshot]] = defaultdict(list)
        for s in snaps:
            if s.user_uid == user.uid:
                rows_by_exchange[s.exchange].append(s)
        for exchange, rows in rows_by_exchange.items():
            plan = plan_connection(user.uid, exchange, legacy_by_exchange.get(exchange), rows)
            source_series.append({d.day: d.total_equity for d in plan.days})
        zka_series = await _zka_series(session, user.uid, [made.get(c.id) for c in conns if c.user_uid == user.uid])
        expected, actual = _aggregate(source_series), _aggregate(zka_series)
        days = sorted(expected)
        result.users += 1
        result.days += len(days)
        for day in days:
            got = actual.get(day)
            if got is None or abs(got - expected[day]) > TOLERANCE:
                result.differences.append(f"user row {user.id} on {day}: source {expected[day]}, zka "
                                          f"{got if got is not None else 'missing'}")


async def _zka_series(session: AsyncSession, user_uid: str,
                      connection_ids: Iterable[int | None]) -> list[dict[date, Decimal]]:
    """The user's imported connections: those mapped from a source connection, plus those kept for
    connections deleted in the original."""
    ids = {i for i in connection_ids if i is not None}
    deleted = (await session.exec(select(ExchangeConnection.id).where(
        ExchangeConnection.user_uid == user_uid, col(ExchangeConnection.legacy_deleted).is_(True)))).all()
    ids |= {i for i in deleted if i is not None}
    series: dict[int, dict[date, Decimal]] = defaultdict(dict)
    if ids:
        rows = await session.exec(select(Snapshot).where(col(Snapshot.connection_id).in_(ids)))
        for snap in rows.all():
            series[snap.connection_id][snap.day] = Decimal(str(snap.total_equity))
    return list(series.values())


def _aggregate(series: Sequence[dict[date, Decimal]]) -> dict[date, Decimal]:
    """Σ over connections per day, each carried forward after its first day (the original's rule)."""
    days = sorted({d for s in series for d in s})
    if not days:
        return {}
    out: dict[date, Decimal] = {}
    last: dict[int, Decimal] = {}
    day = days[0]
    while day <= days[-1]:
        for index, s in enumerate(series):
            if day in s:
                last[index] = s[day]
        if any(day in s for s in series):
            out[day] = sum(last.values(), Decimal(0))
        day += timedelta(days=1)
    return out


def _same_credentials(row: ExchangeConnection, legacy: LegacyConnection, legacy_dek: bytes, dek: Dek) -> bool:
    assert row.id is not None
    try:
        theirs = import_legacy_credentials(legacy_dek, legacy.encrypted_api_key, legacy.encrypted_api_secret,
                                           legacy.encrypted_passphrase)
    except (CredentialDecryptError, UnicodeDecodeError):
        return row.credentials is None  # unreadable in the source: imported without credentials
    if row.credentials is None:
        return False
    try:
        ours = decrypt_credentials(dek, row.id, row.credentials)
    except CredentialDecryptError:
        return False
    return (ours.api_key, ours.api_secret, ours.passphrase) == (theirs.api_key, theirs.api_secret, theirs.passphrase)
