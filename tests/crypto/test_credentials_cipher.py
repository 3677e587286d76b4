"""Credentials at rest: format, tamper resistance, row binding, keyed hash, legacy import."""

from __future__ import annotations

import base64
import hashlib
import os
import string

import pytest

from app.connectors.base import Credentials
from app.services.crypto import (
    CredentialDecryptError,
    Dek,
    credentials_hash,
    decrypt,
    decrypt_credentials,
    decrypt_legacy,
    encrypt,
    encrypt_credentials,
    import_legacy_credentials,
    legacy_credentials_hash,
)

from .conftest import load_vector

LEGACY = load_vector("credential-at-rest-legacy.json")
B64 = string.ascii_letters + string.digits + "+/"


@pytest.fixture
def dek() -> Dek:
    return Dek("test", os.urandom(32))


def test_round_trip_bytes_and_format(dek: Dek) -> None:
    stored = encrypt(dek, 42, b"hello")
    assert stored.startswith("v1.")
    raw = base64.b64decode(stored[3:], validate=True)
    assert len(raw) == 12 + 5 + 16
    assert decrypt(dek, 42, stored) == b"hello"
    assert decrypt(dek.key, "42", stored) == b"hello"  # raw key bytes and str ids work too


def test_round_trip_credentials(dek: Dek) -> None:
    creds = Credentials("key", "secret", "pass", {"account": "7"})
    assert decrypt_credentials(dek, 1, encrypt_credentials(dek, 1, creds)) == creds
    plain = Credentials("key", "secret")
    assert decrypt_credentials(dek, 1, encrypt_credentials(dek, 1, plain)) == plain


def test_nonce_is_fresh(dek: Dek) -> None:
    assert encrypt(dek, 1, b"x") != encrypt(dek, 1, b"x")


def test_every_character_of_stored_value_is_authenticated(dek: Dek) -> None:
    stored = encrypt_credentials(dek, 7, Credentials("k", "s"))
    for index in range(len(stored)):
        for replacement in {B64[(B64.find(stored[index]) + 1) % 64], "="}:
            tampered = stored[:index] + replacement + stored[index + 1:]
            if tampered == stored:
                continue
            with pytest.raises(CredentialDecryptError):
                decrypt(dek, 7, tampered)


def test_every_byte_of_payload_is_authenticated(dek: Dek) -> None:
    stored = encrypt(dek, 7, b"payload")
    raw = base64.b64decode(stored[3:])
    for index in range(len(raw)):
        for bit in (0x01, 0x80):
            flipped = bytearray(raw)
            flipped[index] ^= bit
            with pytest.raises(CredentialDecryptError):
                decrypt(dek, 7, "v1." + base64.b64encode(bytes(flipped)).decode())


@pytest.mark.parametrize("bad", ["", "v1.", "v2." + "A" * 40, "v1.@@@@", "v1." + "A" * 8, "plain-text"])
def test_malformed_stored_values(dek: Dek, bad: str) -> None:
    with pytest.raises(CredentialDecryptError):
        decrypt(dek, 1, bad)


def test_moving_to_another_connection_fails(dek: Dek) -> None:
    stored = encrypt(dek, 1, b"secret")
    for other in (2, 11, "1 ", "01", "x"):
        with pytest.raises(CredentialDecryptError):
            decrypt(dek, other, stored)


def test_other_dek_fails(dek: Dek) -> None:
    with pytest.raises(CredentialDecryptError):
        decrypt(Dek("other", os.urandom(32)), 1, encrypt(dek, 1, b"secret"))


@pytest.mark.parametrize("connection_id", [None, ""])
def test_connection_id_required(dek: Dek, connection_id: object) -> None:
    with pytest.raises(ValueError, match="connection_id"):
        encrypt(dek, connection_id, b"x")  # type: ignore[arg-type]


def test_decrypt_error_is_generic(dek: Dek) -> None:
    stored = encrypt(dek, 1, b"my-very-secret")
    with pytest.raises(CredentialDecryptError) as info:
        decrypt(dek, 2, stored)
    assert "my-very-secret" not in str(info.value) and stored not in str(info.value)
    assert info.value.__context__ is None


def test_undecodable_plaintext_reports_format_error(dek: Dek) -> None:
    with pytest.raises(CredentialDecryptError, match="expected format"):
        decrypt_credentials(dek, 1, encrypt(dek, 1, b"not json"))


def test_credentials_hash(dek: Dek) -> None:
    base = Credentials("apiKey", "apiSecret", "passphrase")
    value = credentials_hash(dek, base)
    assert len(value) == 64 and int(value, 16) >= 0
    assert credentials_hash(dek, Credentials("apiKey", "apiSecret", "passphrase", {"a": "b"})) == value
    assert credentials_hash(dek.key, base) == value
    assert credentials_hash(dek, Credentials("apiKey", "apiSecret")) != value
    assert credentials_hash(dek, Credentials("apiKey", "apiSecret2", "passphrase")) != value
    # Unambiguous encoding: moving a separator between fields changes the hash.
    assert credentials_hash(dek, Credentials("a:b", "c")) != credentials_hash(dek, Credentials("a", "b:c"))
    assert credentials_hash(Dek("x", os.urandom(32)), base) != value
    # Keyed: not the original's bare SHA-256 of "key:secret:passphrase".
    assert value != LEGACY["credentials_hash"]["sha256('apiKey:apiSecret:passphrase')"]
    assert value != hashlib.sha256(dek.key).hexdigest()


def test_legacy_vector_decrypts() -> None:
    dek = bytes.fromhex(LEGACY["dek_hex"])
    assert decrypt_legacy(dek, LEGACY["stored"]) == LEGACY["plaintext"].encode()


def test_legacy_tamper_and_malformed_fail() -> None:
    dek = bytes.fromhex(LEGACY["dek_hex"])
    stored = LEGACY["stored"]
    for index in range(0, len(stored), 2):
        flipped = stored[:index] + format(int(stored[index:index + 2], 16) ^ 1, "02x") + stored[index + 2:]
        with pytest.raises(CredentialDecryptError):
            decrypt_legacy(dek, flipped)
    for bad in ("zz", stored[:40], ""):
        with pytest.raises(CredentialDecryptError):
            decrypt_legacy(dek, bad)
    with pytest.raises(CredentialDecryptError):
        decrypt_legacy(os.urandom(32), stored)


def test_legacy_import_and_hash() -> None:
    dek = bytes.fromhex(LEGACY["dek_hex"])
    creds = import_legacy_credentials(dek, LEGACY["stored"], LEGACY["stored"], None)
    assert creds == Credentials("my-api-key", "my-api-key", None)
    assert legacy_credentials_hash("apiKey", "apiSecret", "passphrase") == (
        LEGACY["credentials_hash"]["sha256('apiKey:apiSecret:passphrase')"]
    )
