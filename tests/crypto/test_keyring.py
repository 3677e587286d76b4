"""DEK lifecycle on a real database (SQLite; PostgreSQL too with TEST_DATABASE_URL)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import Credentials
from app.models import DataEncryptionKey, ExchangeConnection
from app.services.crypto import (
    CredentialDecryptError,
    Dek,
    KeyUnavailable,
    RotationRefused,
    add_wrapping,
    credentials_hash,
    decrypt_credentials,
    encrypt_credentials,
    key_status,
    master_key_id,
    open_or_create_dek,
    rotate_dek,
)

Sessions = async_sessionmaker[AsyncSession]
MK_A = bytes(range(32))
MK_B = bytes(range(32, 64))


async def open_dek(sessions: Sessions, master_key: bytes = MK_A, wrapping: str = "file") -> Dek:
    async with sessions() as session:
        dek = await open_or_create_dek(session, master_key, wrapping)
        await session.commit()
        return dek


async def dek_rows(sessions: Sessions) -> list[DataEncryptionKey]:
    async with sessions() as session:
        return list((await session.scalars(select(DataEncryptionKey).order_by(DataEncryptionKey.id))).all())


async def add_connections(sessions: Sessions, dek: Dek, count: int) -> dict[int, Credentials]:
    """Insert connections the way the service must: flush for the id, then encrypt bound to it."""
    stored: dict[int, Credentials] = {}
    async with sessions() as session:
        for index in range(count):
            creds = Credentials(f"key-{index}", f"secret-{index}", "pass" if index % 2 else None)
            conn = ExchangeConnection(user_uid="user_1", exchange="binance", label=f"acct {index}")
            session.add(conn)
            await session.flush()
            assert conn.id is not None
            conn.credentials = encrypt_credentials(dek, conn.id, creds)
            conn.credentials_hash = credentials_hash(dek, creds)
            stored[conn.id] = creds
        session.add(ExchangeConnection(user_uid="user_1", exchange="kraken", label="deleted", credentials=None))
        await session.commit()
    return stored


async def connections(sessions: Sessions) -> list[ExchangeConnection]:
    async with sessions() as session:
        stmt = select(ExchangeConnection).order_by(ExchangeConnection.id)
        return list((await session.scalars(stmt)).all())


async def assert_readable(sessions: Sessions, dek: Dek, expected: dict[int, Credentials]) -> None:
    rows = {row.id: row for row in await connections(sessions) if row.credentials is not None}
    assert set(rows) == set(expected)
    for conn_id, creds in expected.items():
        row = rows[conn_id]
        assert row.credentials is not None
        assert decrypt_credentials(dek, conn_id, row.credentials) == creds
        assert row.credentials_hash == credentials_hash(dek, creds)


async def test_first_start_creates_one_wrapped_dek(sessions: Sessions) -> None:
    dek = await open_dek(sessions)
    rows = await dek_rows(sessions)
    assert len(rows) == 1
    row = rows[0]
    assert (row.dek_id, row.wrapping, row.master_key_id, row.is_active) == (
        dek.dek_id, "file", master_key_id(MK_A), True
    )
    assert dek.key not in row.wrapped_dek and len(row.wrapped_dek) == 12 + 32 + 16
    again = await open_dek(sessions)
    assert (again.dek_id, again.key) == (dek.dek_id, dek.key)
    assert len(await dek_rows(sessions)) == 1


async def test_service_does_not_commit(sessions: Sessions) -> None:
    async with sessions() as session:
        await open_or_create_dek(session, MK_A, "file")
        await session.rollback()
    assert await dek_rows(sessions) == []


async def test_other_master_key_stops_with_clear_error(sessions: Sessions) -> None:
    dek = await open_dek(sessions)
    with pytest.raises(KeyUnavailable) as info:
        await open_dek(sessions, MK_B, "snp-derived")
    message = info.value.message
    assert master_key_id(MK_A) in message and master_key_id(MK_B) in message and dek.dek_id in message
    assert info.value.status_code == 503
    assert len(await dek_rows(sessions)) == 1  # never re-keyed


async def test_add_wrapping_lets_another_master_key_open_the_same_dek(sessions: Sessions) -> None:
    dek = await open_dek(sessions)
    async with sessions() as session:
        row = await add_wrapping(session, dek, MK_B, "snp-derived")
        again = await add_wrapping(session, dek, MK_B, "snp-derived")
        assert again is row
        await session.commit()
    opened = await open_dek(sessions, MK_B, "snp-derived")
    assert (opened.dek_id, opened.key) == (dek.dek_id, dek.key)
    rows = await dek_rows(sessions)
    assert {(r.master_key_id, r.wrapping, r.is_active) for r in rows} == {
        (master_key_id(MK_A), "file", True), (master_key_id(MK_B), "snp-derived", True)
    }


async def test_add_wrapping_for_unknown_dek(sessions: Sessions) -> None:
    await open_dek(sessions)
    async with sessions() as session:
        with pytest.raises(KeyUnavailable):
            await add_wrapping(session, Dek("nope", os.urandom(32)), MK_B, "file")


async def test_no_new_dek_over_orphaned_credentials(sessions: Sessions) -> None:
    async with sessions() as session:
        session.add(ExchangeConnection(user_uid="u", exchange="binance", label="a", credentials="v1.AAAA"))
        await session.commit()
    with pytest.raises(KeyUnavailable, match="keyring is empty"):
        await open_dek(sessions)
    assert await dek_rows(sessions) == []


async def test_tampered_wrapping_refused(sessions: Sessions) -> None:
    await open_dek(sessions)
    async with sessions() as session:
        row = (await session.scalars(select(DataEncryptionKey))).one()
        blob = bytearray(row.wrapped_dek)
        blob[20] ^= 1
        row.wrapped_dek = bytes(blob)
        await session.commit()
    with pytest.raises(KeyUnavailable, match="does not authenticate"):
        await open_dek(sessions)


async def test_swapped_dek_id_refused(sessions: Sessions) -> None:
    # The AAD binds the wrapped bytes to their dek_id: relabelling a row does not yield a usable key.
    await open_dek(sessions)
    async with sessions() as session:
        row = (await session.scalars(select(DataEncryptionKey))).one()
        row.dek_id = "someotherid"
        await session.commit()
    with pytest.raises(KeyUnavailable):
        await open_dek(sessions)


@pytest.mark.parametrize("active", [(False, False), (True, True)])
async def test_inconsistent_active_flags_refused(sessions: Sessions, active: tuple[bool, bool]) -> None:
    async with sessions() as session:
        for flag in active:
            dek = Dek(os.urandom(4).hex(), os.urandom(32))
            from app.services.crypto.keyring import wrap_dek

            session.add(DataEncryptionKey(dek_id=dek.dek_id, wrapping="file", master_key_id=master_key_id(MK_A),
                                          wrapped_dek=wrap_dek(dek, MK_A), is_active=flag))
        await session.commit()
    with pytest.raises(KeyUnavailable):
        await open_dek(sessions)


async def test_rotate_reencrypts_everything_in_one_transaction(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    stored = await add_connections(sessions, old, 4)
    calls: list[tuple[int, int]] = []
    async with sessions() as session:
        result = await rotate_dek(session, old, MK_A, "file", progress=lambda d, t: calls.append((d, t)))
        await session.commit()
    new = result.dek
    assert result.reencrypted == 4 and calls[-1] == (4, 4) and result.dropped_wrappings == []
    assert new.dek_id != old.dek_id and new.key != old.key
    await assert_readable(sessions, new, stored)
    for row in await connections(sessions):
        if row.credentials is not None:
            with pytest.raises(CredentialDecryptError):
                decrypt_credentials(old, row.id or 0, row.credentials)
    rows = await dek_rows(sessions)
    by_id = {r.dek_id: r for r in rows}
    assert by_id[old.dek_id].is_active is False and isinstance(by_id[old.dek_id].rotated_at, datetime)
    assert by_id[new.dek_id].is_active is True and by_id[new.dek_id].rotated_at is None
    reopened = await open_dek(sessions)
    assert (reopened.dek_id, reopened.key) == (new.dek_id, new.key)


async def test_rotate_failure_half_way_leaves_old_dek_working(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    stored = await add_connections(sessions, old, 4)

    def explode(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("injected failure")

    async with sessions() as session:
        with pytest.raises(RuntimeError, match="injected"):
            await rotate_dek(session, old, MK_A, "file", progress=explode)
        await session.rollback()
    await assert_readable(sessions, old, stored)
    assert [(r.dek_id, r.is_active) for r in await dek_rows(sessions)] == [(old.dek_id, True)]
    assert (await open_dek(sessions)).key == old.key


async def test_rotate_aborts_on_undecryptable_row(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    stored = await add_connections(sessions, old, 3)
    bad_id = sorted(stored)[1]
    async with sessions() as session:
        row = await session.get(ExchangeConnection, bad_id)
        assert row is not None
        row.credentials = encrypt_credentials(old, bad_id + 100, stored[bad_id])  # bound to another row
        await session.commit()
    async with sessions() as session:
        with pytest.raises(RotationRefused, match=f"connection {bad_id}"):
            await rotate_dek(session, old, MK_A, "file")
        await session.rollback()
    del stored[bad_id]
    rows = {r.id: r for r in await connections(sessions)}
    for conn_id, creds in stored.items():
        assert decrypt_credentials(old, conn_id, rows[conn_id].credentials or "") == creds
    assert len(await dek_rows(sessions)) == 1


async def test_rotate_refuses_to_drop_other_wrappings_unless_confirmed(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    async with sessions() as session:
        await add_wrapping(session, old, MK_B, "snp-derived")
        await session.commit()
    async with sessions() as session:
        with pytest.raises(RotationRefused, match=master_key_id(MK_B)):
            await rotate_dek(session, old, MK_A, "file")
        await session.rollback()
    async with sessions() as session:
        result = await rotate_dek(session, old, MK_A, "file", allow_dropping_wrappings=True)
        await session.commit()
    assert result.dropped_wrappings == [master_key_id(MK_B)]
    with pytest.raises(KeyUnavailable):
        await open_dek(sessions, MK_B, "snp-derived")


async def test_rotate_refuses_inactive_dek(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    async with sessions() as session:
        await rotate_dek(session, old, MK_A, "file")
        await session.commit()
    async with sessions() as session:
        with pytest.raises(RotationRefused, match="not the active"):
            await rotate_dek(session, old, MK_A, "file")


async def test_key_status_never_contains_key_bytes(sessions: Sessions) -> None:
    old = await open_dek(sessions)
    async with sessions() as session:
        new = (await rotate_dek(session, old, MK_A, "file")).dek
        await add_wrapping(session, new, MK_B, "snp-derived")
        await session.commit()
        status = await key_status(session, master_key_id(MK_A))
    assert len(status) == 3
    for entry in status:
        assert set(entry) == {"dek_id", "wrapping", "master_key_id", "is_active", "created_at", "rotated_at",
                              "age_days", "opens_here"}
        assert not any(isinstance(value, bytes) for value in entry.values())
        text = repr(entry)
        for secret in (old.key, new.key, MK_A, MK_B):
            assert secret.hex() not in text
    assert sorted((e["dek_id"] == new.dek_id, e["is_active"], e["opens_here"]) for e in status) == [
        (False, False, True), (True, True, False), (True, True, True)
    ]
    assert all(e["age_days"] >= 0 for e in status)
