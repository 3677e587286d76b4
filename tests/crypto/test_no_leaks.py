"""Whole key flow with DEBUG logging on: no secret reaches logs, stdout/stderr, errors or DB columns."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import DataEncryptionKey, ExchangeConnection, SealedKey
from app.services.crypto import (
    CredentialDecryptError,
    E2EKey,
    EnvelopeError,
    FileMasterKeyProvider,
    KeyUnavailable,
    credentials_hash,
    decrypt_credentials,
    encrypt_credentials,
    key_status,
    load_or_create_sealed_key,
    open_or_create_dek,
    rotate_dek,
    seal_credentials,
)

API_KEY = "LEAKCHECK-API-KEY-5f2a9c"
API_SECRET = "LEAKCHECK-API-SECRET-81d7e3"
PASSPHRASE = "LEAKCHECK-PASS-42"


async def test_no_secret_leaves_through_logs_errors_or_rows(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # bound parameters of every statement
    errors: list[str] = []
    master_key = await FileMasterKeyProvider(tmp_path).load()
    e2e = E2EKey.generate()
    envelope = seal_credentials(e2e.public_key_pem, {"api_key": API_KEY, "api_secret": API_SECRET,
                                                     "passphrase": PASSPHRASE})
    async with sessions() as session:
        dek = await open_or_create_dek(session, master_key, "file")
        creds = e2e.open(envelope)
        conn = ExchangeConnection(user_uid="user_1", exchange="okx", label="main")
        session.add(conn)
        await session.flush()
        assert conn.id is not None
        conn.credentials = encrypt_credentials(dek, conn.id, creds)
        conn.credentials_hash = credentials_hash(dek, creds)
        await load_or_create_sealed_key(session, master_key)
        await session.commit()
        conn_id = conn.id
    for attempt in (
        lambda: e2e.open({**envelope, "tag": envelope["tag"][:8]}),
        lambda: E2EKey.generate().open(envelope),
        lambda: decrypt_credentials(dek, conn_id + 1, conn.credentials or ""),
    ):
        try:
            attempt()
        except (EnvelopeError, CredentialDecryptError) as exc:
            errors.append("".join(traceback.format_exception(exc)))
    async with sessions() as session:
        new = (await rotate_dek(session, dek, master_key, "file")).dek
        status = await key_status(session)
        await session.commit()
    async with sessions() as session:
        try:
            await open_or_create_dek(session, bytes(32), "file")
        except KeyUnavailable as exc:
            errors.append("".join(traceback.format_exception(exc)))
        stored = (await session.scalars(select(ExchangeConnection))).one()
        dek_rows = list((await session.scalars(select(DataEncryptionKey))).all())
        sealed = (await session.scalars(select(SealedKey))).one()
    assert len(errors) == 4
    assert decrypt_credentials(new, conn_id, stored.credentials or "").api_secret == API_SECRET

    captured = capsys.readouterr()
    haystack = "\n".join([caplog.text, captured.out, captured.err, *errors, repr(status), repr(dek), repr(new),
                          repr(creds), str(creds), repr(stored)])
    row_bytes = b"".join([r.wrapped_dek for r in dek_rows] + [sealed.sealed_private_key, sealed.public_key_der])
    for secret in (API_KEY, API_SECRET, PASSPHRASE):
        assert secret not in haystack
        assert secret not in (stored.credentials or "") and secret.encode() not in row_bytes
    for key in (master_key, dek.key, new.key):
        assert key.hex() not in haystack and key.hex().upper() not in haystack
        assert key not in row_bytes
