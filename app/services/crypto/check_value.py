"""A known-plaintext check value stored beside each DEK wrapping.

An instance that receives a candidate DEK (by handoff) cannot unwrap any stored row yet; the check value
lets it prove the candidate is the DEK with that id before it stores a wrapping: AES-256-GCM under the
DEK of a fixed plaintext, with the DEK id as AAD. It reveals nothing about the key (a random nonce, an
authenticated encryption of a public constant).
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag

from app.services.crypto.dek import Dek

_PLAINTEXT = b"zka/dek-check/v1"
_NONCE_LEN = 12


def _aad(dek_id: str) -> bytes:
    return b"zka/dek-check/v1|" + dek_id.encode()


def make_check_value(dek: Dek) -> bytes:
    nonce = os.urandom(_NONCE_LEN)
    return nonce + dek.aead.encrypt(nonce, _PLAINTEXT, _aad(dek.dek_id))


def check_value_matches(dek: Dek, value: bytes) -> bool:
    try:
        plain = dek.aead.decrypt(value[:_NONCE_LEN], value[_NONCE_LEN:], _aad(dek.dek_id))
    except (InvalidTag, ValueError):
        return False
    return hmac.compare_digest(plain, _PLAINTEXT)
