"""The TypeScript original's key hierarchy, only as far as opening its DEK: master key → DEK.

Read from the original at commit 100cf59, src/services/key-derivation.service.ts (deriveMasterKey,
unwrapKey, getMasterKeyId) and src/repositories/dek-repository.ts (getActiveDEK); SPEC reference
ts-original.md §7–9. The keys live in memory for one run: never stored, logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_INFO = b"track-record-enclave-dek"
KEY_LEN = 32
_HEX_PAIRS = re.compile(r"(?:[0-9a-fA-F]{2})*")


class LegacyKeyError(Exception):
    """The legacy key material does not open the original's DEK; the message is one line for the operator."""


@dataclass(frozen=True)
class WrappedDek:
    """A `data_encryption_keys` row of the original (base64 fields, 12-byte IV, no AAD)."""

    id: str
    encrypted_dek: str
    iv: str
    auth_tag: str
    key_version: str
    master_key_id: str


def node_hex(text: str) -> bytes:
    """Node's Buffer.from(text, 'hex'): decodes pairs up to the first invalid one (lenient), as the original
    did with the measurement string."""
    match = _HEX_PAIRS.match(text)
    return bytes.fromhex(match.group(0) if match else "")


def master_key_from_measurement(measurement_hex: str, platform_version: str = "") -> bytes:
    """HKDF-SHA256(ikm = measurement bytes, salt = platformVersion or empty, info = track-record-enclave-dek)."""
    ikm = node_hex(measurement_hex.strip())
    if not ikm:
        raise LegacyKeyError("--legacy-measurement is not hex: give the original's launch measurement (96 hex chars)")
    salt = platform_version.encode() if platform_version else None
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=HKDF_INFO).derive(ikm)


def master_key_from_file(path: Path) -> bytes:
    """32 raw bytes, or 64 hex characters (a trailing newline allowed)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LegacyKeyError(f"cannot read --legacy-master-key-file {path}: {exc.strerror or 'unreadable'}") from None
    if len(raw) == KEY_LEN:
        return raw
    text = raw.strip()
    if len(text) == 2 * KEY_LEN:
        try:
            return binascii.unhexlify(text)
        except binascii.Error:
            pass
    raise LegacyKeyError(f"--legacy-master-key-file {path} must hold the 32-byte master key (raw, or 64 hex chars)")


def master_key_id(master_key: bytes) -> str:
    """getMasterKeyId: the first 8 bytes of SHA-256(master key), lowercase hex."""
    return hashlib.sha256(master_key).hexdigest()[:16]


def unwrap_active_dek(rows: list[WrappedDek], master_key: bytes) -> bytes:
    """Open the active DEK: its masterKeyId must match the given key (checked first, so a wrong key is named
    as such rather than as tampering), then AES-256-GCM must authenticate."""
    if not rows:
        raise LegacyKeyError("the source has no active data encryption key: is it a database of the original?")
    given = master_key_id(master_key)
    row = next((r for r in rows if r.master_key_id == given), None)
    if row is None:
        wanted = ", ".join(sorted({r.master_key_id for r in rows}))
        raise LegacyKeyError(f"the legacy key (master key id {given}) does not open the original's DEK (wrapped for "
                             f"master key id {wanted}): check --legacy-measurement / --legacy-master-key-file; "
                             "nothing was written")
    try:
        iv, body, tag = (base64.b64decode(v, validate=True) for v in (row.iv, row.encrypted_dek, row.auth_tag))
    except (binascii.Error, ValueError):
        raise LegacyKeyError("the original's DEK row is not base64: the source is damaged; "
                             "nothing was written") from None
    dek = b""
    try:
        dek = AESGCM(master_key).decrypt(iv, body + tag, None)
    except (InvalidTag, ValueError):
        pass  # raised below, outside the handler: no exception context carrying key material
    if len(dek) != KEY_LEN:
        raise LegacyKeyError("the legacy key does not open the original's DEK (authentication failed): check "
                             "--legacy-measurement / --legacy-master-key-file; nothing was written")
    return dek


def wrap_dek_like_original(dek: bytes, master_key: bytes, iv: bytes) -> dict[str, str]:
    """wrapKey of the original (for tests and fixtures that build a TS-era database)."""
    sealed = AESGCM(master_key).encrypt(iv, dek, None)
    return {
        "encryptedDEK": base64.b64encode(sealed[:-16]).decode(),
        "iv": base64.b64encode(iv).decode(),
        "authTag": base64.b64encode(sealed[-16:]).decode(),
        "keyVersion": "v1",
        "masterKeyId": master_key_id(master_key),
    }
