"""Credentials at rest (SPEC §5): AES-256-GCM under the DEK, bound to the connection row.

Stored form: "v1." + base64(nonce(12) ‖ ciphertext ‖ tag(16)), AAD = "zka/cred/v1|<connection_id>",
so a ciphertext copied into another row does not decrypt. Also: the keyed duplicate-detection hash
and a decrypt-only importer for the TypeScript enclave's format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.connectors.base import Credentials
from app.services.canonical_json import canonical_json
from app.services.crypto.codec import CodecError, credentials_from_json, credentials_to_json
from app.services.crypto.dek import Dek
from app.services.crypto.errors import CredentialDecryptError

PREFIX = "v1."
NONCE_LEN = 12
TAG_LEN = 16
LEGACY_IV_LEN = 16


def aad_for(connection_id: int | str) -> bytes:
    text = str(connection_id)
    # An empty or None id would give every unsaved row the same AAD; flush the row first to get its id.
    if not text or text == "None":
        raise ValueError("connection_id is required (flush the row to obtain its id before encrypting)")
    return f"zka/cred/v1|{text}".encode()


def encrypt(dek: Dek | bytes, connection_id: int | str, plaintext: bytes) -> str:
    nonce = os.urandom(NONCE_LEN)
    sealed = _aead(dek).encrypt(nonce, plaintext, aad_for(connection_id))
    return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt(dek: Dek | bytes, connection_id: int | str, stored: str) -> bytes:
    raw = _decode_stored(stored)
    ok = True
    plaintext = b""
    try:
        plaintext = _aead(dek).decrypt(raw[:NONCE_LEN], raw[NONCE_LEN:], aad_for(connection_id))
    except InvalidTag:
        ok = False
    if not ok:
        raise CredentialDecryptError()
    return plaintext


def encrypt_credentials(dek: Dek | bytes, connection_id: int | str, credentials: Credentials) -> str:
    return encrypt(dek, connection_id, credentials_to_json(credentials))


def decrypt_credentials(dek: Dek | bytes, connection_id: int | str, stored: str) -> Credentials:
    plaintext = decrypt(dek, connection_id, stored)
    ok = True
    credentials: Credentials | None = None
    try:
        credentials = credentials_from_json(plaintext)
    except CodecError:
        ok = False
    if not ok or credentials is None:
        raise CredentialDecryptError("stored credentials decrypted but are not in the expected format")
    return credentials


def credentials_hash(dek: Dek | bytes, credentials: Credentials) -> str:
    """HMAC-SHA256 (key derived from the DEK) of a canonical encoding; detects the same key added twice.

    Keyed, unlike the original's bare SHA-256, so the hash column cannot be brute-forced offline.
    `extra` is left out: it carries account selectors, not the identity of the key.
    """
    canonical = canonical_json(
        {
            "api_key": credentials.api_key,
            "api_secret": credentials.api_secret,
            "passphrase": credentials.passphrase,
        }
    )
    return hmac.new(_as_dek(dek).hash_key, canonical, hashlib.sha256).hexdigest()


def decrypt_legacy(dek: bytes, stored_hex: str) -> bytes:
    """One field in the TypeScript enclave's format: hex(iv(16) ‖ tag(16) ‖ ciphertext), no AAD."""
    ok = True
    raw = b""
    try:
        raw = bytes.fromhex(stored_hex)
    except ValueError:
        ok = False
    if not ok or len(raw) < LEGACY_IV_LEN + TAG_LEN:
        raise CredentialDecryptError("legacy credential is not iv(16)‖tag(16)‖ciphertext hex")
    iv, tag, body = (
        raw[:LEGACY_IV_LEN],
        raw[LEGACY_IV_LEN : LEGACY_IV_LEN + TAG_LEN],
        raw[LEGACY_IV_LEN + TAG_LEN :],
    )
    try:
        return AESGCM(dek).decrypt(iv, body + tag, None)
    except InvalidTag:
        pass  # raised below, outside the handler, so no exception context is attached
    raise CredentialDecryptError("legacy credential could not be decrypted with this key")


def import_legacy_credentials(
    dek: bytes, encrypted_api_key: str, encrypted_api_secret: str, encrypted_passphrase: str | None = None
) -> Credentials:
    """Rebuild Credentials from the three separately encrypted columns of a TypeScript-era row."""
    passphrase = decrypt_legacy(dek, encrypted_passphrase).decode() if encrypted_passphrase else None
    return Credentials(
        decrypt_legacy(dek, encrypted_api_key).decode(),
        decrypt_legacy(dek, encrypted_api_secret).decode(),
        passphrase or None,
    )


def legacy_credentials_hash(api_key: str, api_secret: str, passphrase: str | None = None) -> str:
    """The original's unsalted hash, only to check an imported row against its stored hash; never store it."""
    return hashlib.sha256(f"{api_key}:{api_secret}:{passphrase or ''}".encode()).hexdigest()


def _decode_stored(stored: str) -> bytes:
    if not isinstance(stored, str) or not stored.startswith(PREFIX):
        raise CredentialDecryptError("stored credentials are not in the v1 format")
    body = stored[len(PREFIX) :]
    ok = True
    raw = b""
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        ok = False
    # Re-encoding rejects non-canonical base64 (altered padding bits), so every character is covered.
    if not ok or base64.b64encode(raw).decode("ascii") != body or len(raw) < NONCE_LEN + TAG_LEN:
        raise CredentialDecryptError("stored credentials are not valid v1 base64")
    return raw


def _as_dek(dek: Dek | bytes) -> Dek:
    return dek if isinstance(dek, Dek) else Dek("adhoc", dek)


def _aead(dek: Dek | bytes) -> AESGCM:
    return dek.aead if isinstance(dek, Dek) else AESGCM(dek)
