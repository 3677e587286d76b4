"""The data-encryption key (DEK) as an in-memory value, with the primitives derived from it cached."""

from __future__ import annotations

from functools import cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_LEN = 32
# Distinct label so the duplicate-detection HMAC key is never the encryption key itself.
_HASH_KEY_INFO = b"zka/cred-hash/v1"


class Dek:
    """A 32-byte AES-256-GCM key plus its public id. repr never shows the key."""

    __slots__ = ("dek_id", "_key", "__dict__")

    def __init__(self, dek_id: str, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ValueError("a DEK must be 32 bytes")
        self.dek_id = dek_id
        self._key = bytes(key)

    @property
    def key(self) -> bytes:
        return self._key

    @cached_property
    def aead(self) -> AESGCM:
        # Built once per DEK: key scheduling is a measurable part of a single small encryption.
        return AESGCM(self._key)

    @cached_property
    def hash_key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HASH_KEY_INFO).derive(self._key)

    def __repr__(self) -> str:
        return f"Dek(dek_id={self.dek_id!r}, key=<redacted>)"

    __str__ = __repr__
