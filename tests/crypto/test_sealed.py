"""Sealed report-signing (and E2E) keys: stable across restarts with the same master key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import SealedKey
from app.services.crypto import (
    PURPOSE_E2E,
    PURPOSE_REPORT_SIGNING,
    E2EKey,
    KeyUnavailable,
    load_or_create_sealed_key,
    master_key_id,
    seal_credentials,
)

Sessions = async_sessionmaker[AsyncSession]
MK_A = bytes(range(32))
MK_B = bytes(range(1, 33))


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


async def load(
    sessions: Sessions, master_key: bytes, purpose: str = PURPOSE_REPORT_SIGNING
) -> ec.EllipticCurvePrivateKey:
    async with sessions() as session:
        key = await load_or_create_sealed_key(session, master_key, purpose)
        await session.commit()
        return key


async def rows(sessions: Sessions) -> list[SealedKey]:
    async with sessions() as session:
        return list((await session.scalars(select(SealedKey))).all())


async def test_same_key_after_restart(sessions: Sessions) -> None:
    first = await load(sessions, MK_A)
    second = await load(sessions, MK_A)
    assert isinstance(first.curve, ec.SECP256R1)
    assert spki(first) == spki(second)
    signature = second.sign(b"report-hash", ec.ECDSA(hashes.SHA256()))
    first.public_key().verify(signature, b"report-hash", ec.ECDSA(hashes.SHA256()))
    (row,) = await rows(sessions)
    assert (row.purpose, row.master_key_id, row.public_key_der) == (PURPOSE_REPORT_SIGNING, master_key_id(MK_A),
                                                                    spki(first))
    private_der = first.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    assert private_der not in row.sealed_private_key


async def test_other_master_key_gets_its_own_key(sessions: Sessions) -> None:
    a = await load(sessions, MK_A)
    b = await load(sessions, MK_B)
    assert spki(a) != spki(b)
    assert len(await rows(sessions)) == 2
    assert spki(await load(sessions, MK_A)) == spki(a)


async def test_purposes_are_separate_and_e2e_key_usable(sessions: Sessions) -> None:
    signing = await load(sessions, MK_A)
    e2e = E2EKey(await load(sessions, MK_A, PURPOSE_E2E))
    assert spki(signing) != e2e.public_spki_der
    again = E2EKey(await load(sessions, MK_A, PURPOSE_E2E))
    envelope = seal_credentials(e2e.public_key_pem, {"api_key": "k", "api_secret": "s"})
    assert again.open(envelope).api_key == "k"


async def test_tampered_or_moved_row_refused(sessions: Sessions) -> None:
    await load(sessions, MK_A)
    async with sessions() as session:
        row = (await session.scalars(select(SealedKey))).one()
        row.purpose = PURPOSE_E2E  # moved to another purpose: the AAD no longer matches
        await session.commit()
    with pytest.raises(KeyUnavailable):
        await load(sessions, MK_A, PURPOSE_E2E)
    async with sessions() as session:
        row = (await session.scalars(select(SealedKey))).one()
        row.purpose = PURPOSE_REPORT_SIGNING
        blob = bytearray(row.sealed_private_key)
        blob[-1] ^= 1
        row.sealed_private_key = bytes(blob)
        await session.commit()
    with pytest.raises(KeyUnavailable):
        await load(sessions, MK_A)


async def test_public_key_mismatch_refused(sessions: Sessions) -> None:
    await load(sessions, MK_A)
    async with sessions() as session:
        row = (await session.scalars(select(SealedKey))).one()
        row.public_key_der = spki(ec.generate_private_key(ec.SECP256R1()))
        await session.commit()
    with pytest.raises(KeyUnavailable, match="public key"):
        await load(sessions, MK_A)
