"""Wrapping secrets under the master key: AES-256-GCM with a per-purpose subkey and a binding AAD.

The master key is never used directly: HKDF gives one subkey per purpose (DEK wrapping, sealed keys),
and the AAD names what is wrapped and for which master key, so a wrapped blob cannot be swapped
between rows.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_LEN = 12


class UnwrapError(Exception):
    """The wrapped blob did not authenticate under this master key and binding."""


def _subkey(master_key: bytes, purpose: bytes) -> AESGCM:
    if len(master_key) != 32:
        raise ValueError("the master key must be 32 bytes")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"zka/master/" + purpose).derive(
        master_key
    )
    return AESGCM(key)


def wrap(master_key: bytes, purpose: bytes, aad: bytes, secret: bytes) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return nonce + _subkey(master_key, purpose).encrypt(nonce, secret, aad)


def unwrap(master_key: bytes, purpose: bytes, aad: bytes, blob: bytes) -> bytes:
    ok = True
    secret = b""
    try:
        secret = _subkey(master_key, purpose).decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], aad)
    except (InvalidTag, ValueError):
        ok = False
    if not ok:
        raise UnwrapError("wrapped key did not authenticate")
    return secret
