"""Private keys sealed under the master key in `sealed_keys` (SPEC §5): the report-signing key, and
optionally the E2E key. The same master key gives back the same key pair after a restart; a different
master key (another chip or build) gets its own key pair, which its attestation then vouches for.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import SealedKey
from app.services.crypto.errors import KeyUnavailable
from app.services.crypto.master_key import master_key_id
from app.services.crypto.wrap import UnwrapError, unwrap, wrap

PURPOSE_REPORT_SIGNING = "report-signing"
PURPOSE_E2E = "e2e"
_WRAP_PURPOSE = b"sealed-key/v1"


def _aad(purpose: str, mk_id: str) -> bytes:
    return f"zka/sealed/v1|{purpose}|{mk_id}".encode()


def _spki_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def seal_private_key(master_key: bytes, purpose: str, key: ec.EllipticCurvePrivateKey) -> SealedKey:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    mk_id = master_key_id(master_key)
    return SealedKey(
        purpose=purpose,
        master_key_id=mk_id,
        public_key_der=_spki_der(key),
        sealed_private_key=wrap(master_key, _WRAP_PURPOSE, _aad(purpose, mk_id), der),
    )


def unseal_private_key(master_key: bytes, row: SealedKey) -> ec.EllipticCurvePrivateKey:
    try:
        der = unwrap(master_key, _WRAP_PURPOSE, _aad(row.purpose, row.master_key_id), row.sealed_private_key)
    except UnwrapError:
        raise KeyUnavailable(
            f"sealed {row.purpose} key for master_key_id {row.master_key_id} does not "
            "authenticate (row altered or corrupted)"
        ) from None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _spki_der(key) != row.public_key_der:
        raise KeyUnavailable(f"sealed {row.purpose} key does not match its stored public key")
    return key


async def load_or_create_sealed_key(
    session: AsyncSession, master_key: bytes, purpose: str = PURPOSE_REPORT_SIGNING
) -> ec.EllipticCurvePrivateKey:
    """The P-256 key for `purpose` sealed under this master key; created (and flushed) on first use."""
    row = await _find(session, master_key, purpose)
    if row is not None:
        return unseal_private_key(master_key, row)
    key = ec.generate_private_key(ec.SECP256R1())
    row = seal_private_key(master_key, purpose, key)
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        # SQLite has a single writer, so there is no creation race; (pysqlite's SAVEPOINT handling
        # would also commit early, against our "caller commits" rule).
        session.add(row)
        await session.flush()
        return key
    try:
        # A savepoint, so a replica that loses the creation race keeps its transaction usable.
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = await _find(session, master_key, purpose)
        if existing is None:
            raise
        return unseal_private_key(master_key, existing)
    return key


async def _find(session: AsyncSession, master_key: bytes, purpose: str) -> SealedKey | None:
    stmt = select(SealedKey).where(
        col(SealedKey.purpose) == purpose, col(SealedKey.master_key_id) == master_key_id(master_key)
    )
    return (await session.scalars(stmt)).first()
