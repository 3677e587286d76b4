"""DEK lifecycle on the database (SPEC §4, §5). Services flush, the caller commits.

One DEK is active at a time; `data_encryption_keys` holds one row per wrapping of it (one per master
key that can open it). An instance opens the wrapping made for its own master key, and otherwise
stops: it never re-keys silently and never puts a fresh DEK over existing credentials.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import DataEncryptionKey, ExchangeConnection, utcnow
from app.services.crypto.check_value import make_check_value
from app.services.crypto.credentials_cipher import credentials_hash, decrypt_credentials, encrypt_credentials
from app.services.crypto.dek import KEY_LEN, Dek
from app.services.crypto.errors import CredentialDecryptError, KeyUnavailable, NoWrappingHere, RotationRefused
from app.services.crypto.master_key import master_key_id
from app.services.crypto.wrap import UnwrapError, unwrap, wrap

_PURPOSE = b"dek-wrap/v1"
# Arbitrary constant: the PostgreSQL advisory lock serializing keyring changes across replicas.
_PG_LOCK_ID = 0x7A6B615F6B657973  # "zka_keys"

Progress = Callable[[int, int], None]


@dataclass
class RotationResult:
    dek: Dek
    reencrypted: int
    dropped_wrappings: list[str] = field(default_factory=list)


def new_dek() -> Dek:
    return Dek(secrets.token_hex(8), os.urandom(KEY_LEN))


def _aad(dek_id: str, mk_id: str) -> bytes:
    return f"zka/dek/v1|{dek_id}|{mk_id}".encode()


def wrap_dek(dek: Dek, master_key: bytes) -> bytes:
    return wrap(master_key, _PURPOSE, _aad(dek.dek_id, master_key_id(master_key)), dek.key)


def unwrap_dek(row: DataEncryptionKey, master_key: bytes) -> Dek:
    try:
        key = unwrap(master_key, _PURPOSE, _aad(row.dek_id, row.master_key_id), row.wrapped_dek)
    except UnwrapError:
        raise KeyUnavailable(
            f"the wrapping of DEK {row.dek_id} for master_key_id {row.master_key_id} does not authenticate "
            "(row altered or corrupted); refusing to continue"
        ) from None
    return Dek(row.dek_id, key)


async def open_or_create_dek(session: AsyncSession, master_key: bytes, wrapping: str) -> Dek:
    """Open the active DEK with this master key, or create the first DEK on an empty keyring."""
    await _lock_keyring(session)
    rows = await _all_rows(session)
    if not rows:
        await _refuse_if_orphaned_credentials(session)
        dek = new_dek()
        session.add(_new_row(dek, master_key, wrapping))
        await session.flush()
        return dek
    active_id = _active_dek_id(rows)
    mk_id = master_key_id(master_key)
    for row in rows:
        if row.dek_id == active_id and row.master_key_id == mk_id:
            dek = unwrap_dek(row, master_key)
            _fill_missing_check_values(rows, dek)
            return dek
    available = sorted({row.master_key_id for row in rows if row.dek_id == active_id})
    raise NoWrappingHere(
        f"the active DEK {active_id} is wrapped only for master_key_id(s) {', '.join(available)}; this "
        f"instance's {wrapping} master key has id {mk_id}. Stored credentials stay unreadable until the DEK "
        "is handed over to this master key (ZKA_KEY_PEERS or `zka keys handoff --from URL`, see "
        "docs/key-handoff.md); no new DEK is created over existing credentials",
        dek_id=active_id, master_key_ids=available,
    )


async def active_dek_rows(session: AsyncSession) -> list[DataEncryptionKey]:
    """The wrappings of the active DEK (for a handoff requester, which can open none of them)."""
    rows = await _all_rows(session)
    if not rows:
        return []
    active_id = _active_dek_id(rows)
    return [row for row in rows if row.dek_id == active_id]


def _fill_missing_check_values(rows: Sequence[DataEncryptionKey], dek: Dek) -> None:
    # Rows written before check values existed get one from the first instance that opens the DEK.
    for row in rows:
        if row.dek_id == dek.dek_id and row.check_value is None:
            row.check_value = make_check_value(dek)


async def add_wrapping(
    session: AsyncSession, dek: Dek, master_key: bytes, wrapping: str
) -> DataEncryptionKey:
    """Wrap an open DEK for another master key (e.g. a new chip or build). Idempotent."""
    await _lock_keyring(session)
    rows = [row for row in await _all_rows(session) if row.dek_id == dek.dek_id]
    if not rows:
        raise KeyUnavailable(f"DEK {dek.dek_id} is not in the keyring")
    mk_id = master_key_id(master_key)
    for row in rows:
        if row.master_key_id == mk_id:
            return row
    row = _new_row(dek, master_key, wrapping, active=any(r.is_active for r in rows))
    session.add(row)
    await session.flush()
    return row


async def rotate_dek(
    session: AsyncSession,
    current_dek: Dek,
    master_key: bytes,
    wrapping: str,
    *,
    allow_dropping_wrappings: bool = False,
    progress: Progress | None = None,
) -> RotationResult:
    """New DEK; re-encrypt every stored credential and its hash; keep the old DEK rows inactive.

    Everything happens in the caller's transaction: on any exception the caller rolls back and the
    old DEK still opens every credential.
    """
    await _lock_keyring(session)
    old_rows = [row for row in await _all_rows(session) if row.dek_id == current_dek.dek_id]
    if not any(row.is_active for row in old_rows):
        raise RotationRefused(f"DEK {current_dek.dek_id} is not the active DEK")
    dropped = sorted({row.master_key_id for row in old_rows} - {master_key_id(master_key)})
    if dropped and not allow_dropping_wrappings:
        raise RotationRefused(
            f"the active DEK is also wrapped for master_key_id(s) {', '.join(dropped)}; "
            "the new DEK can only be wrapped for this instance's master key, "
            "so those instances would lose access. Confirm explicitly to rotate anyway (--allow-dropping-wrappings)"
        )
    dek = new_dek()
    count = await _reencrypt_all(session, current_dek, dek, progress)
    now = utcnow()
    for row in old_rows:
        row.is_active = False
        row.rotated_at = now
    session.add(_new_row(dek, master_key, wrapping))
    await session.flush()
    return RotationResult(dek=dek, reencrypted=count, dropped_wrappings=dropped)


async def key_status(session: AsyncSession, current_master_key_id: str | None = None) -> list[dict[str, Any]]:
    """Every wrapping: ids, kind, master_key_id, ages, activity. Never key bytes."""
    now = datetime.now(UTC)
    out = []
    for row in await _all_rows(session):
        created = _aware(row.created_at)
        rotated = _aware(row.rotated_at) if row.rotated_at else None
        out.append(
            {
                "dek_id": row.dek_id,
                "wrapping": row.wrapping,
                "master_key_id": row.master_key_id,
                "is_active": row.is_active,
                "created_at": created.isoformat(),
                "rotated_at": rotated.isoformat() if rotated else None,
                "age_days": round((now - created).total_seconds() / 86400, 3),
                "opens_here": None
                if current_master_key_id is None
                else row.master_key_id == current_master_key_id,
            }
        )
    return out


async def _reencrypt_all(session: AsyncSession, old: Dek, new: Dek, progress: Progress | None) -> int:
    stmt = (
        select(ExchangeConnection)
        .where(col(ExchangeConnection.credentials).is_not(None))
        .order_by(col(ExchangeConnection.id))
        .with_for_update()
    )
    connections = list((await session.scalars(stmt)).all())
    for index, conn in enumerate(connections, start=1):
        assert conn.id is not None and conn.credentials is not None
        try:
            credentials = decrypt_credentials(old, conn.id, conn.credentials)
        except CredentialDecryptError:
            raise RotationRefused(
                f"connection {conn.id}: credentials do not decrypt under DEK {old.dek_id}; rotation aborted, "
                "roll back (nothing is changed)"
            ) from None
        conn.credentials = encrypt_credentials(new, conn.id, credentials)
        conn.credentials_hash = credentials_hash(new, credentials)
        if progress:
            progress(index, len(connections))
    return len(connections)


def _new_row(dek: Dek, master_key: bytes, wrapping: str, *, active: bool = True) -> DataEncryptionKey:
    return DataEncryptionKey(
        dek_id=dek.dek_id,
        wrapping=wrapping,
        master_key_id=master_key_id(master_key),
        wrapped_dek=wrap_dek(dek, master_key),
        check_value=make_check_value(dek),
        is_active=active,
    )


def _active_dek_id(rows: Sequence[DataEncryptionKey]) -> str:
    active = sorted({row.dek_id for row in rows if row.is_active})
    if len(active) == 1:
        return active[0]
    if not active:
        raise KeyUnavailable("the keyring has DEK rows but none is active; refusing to create a new DEK")
    raise KeyUnavailable(
        f"the keyring has several active DEKs ({', '.join(active)}); resolve before starting"
    )


async def _all_rows(session: AsyncSession) -> list[DataEncryptionKey]:
    stmt = select(DataEncryptionKey).order_by(col(DataEncryptionKey.created_at), col(DataEncryptionKey.id))
    return list((await session.scalars(stmt)).all())


async def _refuse_if_orphaned_credentials(session: AsyncSession) -> None:
    stmt = (
        select(func.count())
        .select_from(ExchangeConnection)
        .where(col(ExchangeConnection.credentials).is_not(None))
    )
    count = (await session.scalars(stmt)).one()
    if count:
        raise KeyUnavailable(
            f"{count} stored credential(s) exist but the keyring is empty; refusing to create a DEK they "
            "were not encrypted with (restore data_encryption_keys)"
        )


async def _lock_keyring(session: AsyncSession) -> None:
    # Replicas starting together on an empty PostgreSQL must not each create a DEK. The lock is held
    # until the caller's transaction ends. SQLite serializes writers itself.
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; every timestamp we write is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
