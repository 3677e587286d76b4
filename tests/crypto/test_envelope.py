"""E2E envelopes: the existing clients' vector, every rejection path, round trips."""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.connectors.base import Credentials
from app.errors import BadRequest
from app.services.crypto import E2EKey, EnvelopeError, decrypt_envelope, open_envelope, seal_bytes, seal_credentials

from .conftest import load_vector

VECTOR = load_vector("e2e-ecies.json")


@pytest.fixture(scope="module")
def vector_key() -> E2EKey:
    return E2EKey.from_private_pem(VECTOR["enclave_private_key_pem"])


@pytest.fixture(scope="module")
def key() -> E2EKey:
    return E2EKey.generate()


def payload(**changes: Any) -> dict[str, Any]:
    return {**VECTOR["payload"], **changes}


def rejection(key: E2EKey, envelope: Any) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as info:
        key.open(envelope)
    assert isinstance(info.value, BadRequest) and info.value.status_code == 400
    return info.value


def test_vector_decrypts_exactly(vector_key: E2EKey) -> None:
    assert vector_key.decrypt(VECTOR["payload"]) == VECTOR["plaintext"].encode()
    creds = vector_key.open(VECTOR["payload"])
    assert (creds.api_key, creds.api_secret, creds.passphrase) == ("AK", "AS", "PP")
    assert repr(creds) == "Credentials(<redacted>)" and "AK" not in str(creds)


def test_vector_public_key_and_fingerprint(vector_key: E2EKey) -> None:
    assert vector_key.public_key_pem == VECTOR["enclave_public_key_pem"]
    assert vector_key.pem_fingerprint == VECTOR["enclave_public_key_pem_sha256"]
    assert len(vector_key.spki_sha256) == 64


def test_module_functions_match_methods(vector_key: E2EKey) -> None:
    assert decrypt_envelope(vector_key.private_key, VECTOR["payload"]) == VECTOR["plaintext"].encode()
    assert open_envelope(vector_key.private_key, VECTOR["payload"]).api_key == "AK"


@pytest.mark.parametrize(
    "tag", ["744eedf8", "744eedf8b3e1e82d5cf781c2471c25", "744eedf8b3e1e82d5cf781c2471c25af00", ""]
)
def test_tag_not_16_bytes_rejected(vector_key: E2EKey, tag: str) -> None:
    # The original accepted the 4-byte truncation ('744eedf8'); a forgeable tag must never pass.
    assert rejection(vector_key, payload(tag=tag)).code == "envelope_bad_tag"


@pytest.mark.parametrize("iv", ["000102030405060708090a", "000102030405060708090a0b0c0d0e0f", ""])
def test_iv_not_12_bytes_rejected(vector_key: E2EKey, iv: str) -> None:
    assert rejection(vector_key, payload(iv=iv)).code == "envelope_bad_iv"


@pytest.mark.parametrize("field", ["iv", "tag", "ciphertext"])
@pytest.mark.parametrize("bad", ["zz", "abc", "00 01", "0x00", "ab\n", "é0"])
def test_bad_hex_rejected(vector_key: E2EKey, field: str, bad: str) -> None:
    assert rejection(vector_key, payload(**{field: bad})).code == "envelope_bad_hex"


def _pem(public: Any) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: _pem(ec.generate_private_key(ec.SECP384R1()).public_key()),
        lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()),
        lambda: "not a key",
        lambda: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        lambda: VECTOR["enclave_private_key_pem"],
        lambda: VECTOR["payload"]["ephemeralPublicKey"].replace("MFkw", "MFkx"),
        lambda: VECTOR["payload"]["ephemeralPublicKey"] * 20,
    ],
    ids=["p384", "rsa", "garbage", "truncated", "private-key", "corrupt-der", "oversized"],
)
def test_key_not_p256_spki_pem_rejected(vector_key: E2EKey, make_key: Any) -> None:
    assert rejection(vector_key, payload(ephemeralPublicKey=make_key())).code == "envelope_bad_public_key"


def _flip(hex_text: str, index: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_text))
    raw[index] ^= 0x01
    return raw.hex()


@pytest.mark.parametrize(
    "changes",
    [
        {"ciphertext": _flip(VECTOR["payload"]["ciphertext"])},
        {"ciphertext": _flip(VECTOR["payload"]["ciphertext"], -1)},
        {"tag": _flip(VECTOR["payload"]["tag"], 15)},
        {"iv": _flip(VECTOR["payload"]["iv"], 11)},
        {"ciphertext": VECTOR["payload"]["ciphertext"][:-2]},
    ],
    ids=["ct-first", "ct-last", "tag", "iv", "ct-truncated"],
)
def test_decryption_failure_rejected(vector_key: E2EKey, changes: dict[str, str]) -> None:
    assert rejection(vector_key, payload(**changes)).code == "envelope_decrypt_failed"


def test_envelope_for_another_enclave_key_rejected(key: E2EKey) -> None:
    assert rejection(key, VECTOR["payload"]).code == "envelope_decrypt_failed"


@pytest.mark.parametrize(
    "plaintext",
    [b"not json", b"[1,2]", b'"text"', b"\xff\xfe", b"", b'{"api_key": "AK", "api_secret": "AS"'],
    ids=["text", "array", "string", "not-utf8", "empty", "truncated"],
)
def test_plaintext_not_json_object_rejected(key: E2EKey, plaintext: bytes) -> None:
    error = rejection(key, seal_bytes(key.public_key_pem, plaintext))
    assert error.code == "envelope_invalid_credentials_json"


@pytest.mark.parametrize(
    "doc",
    [{"api_secret": "AS"}, {"api_key": "AK"}, {"api_key": "", "api_secret": "AS"}, {"api_key": "AK", "api_secret": 5},
     {"api_key": "AK", "api_secret": "  "}, {}],
)
def test_plaintext_lacking_key_or_secret_rejected(key: E2EKey, doc: dict[str, Any]) -> None:
    assert rejection(key, seal_credentials(key.public_key_pem, doc)).code == "envelope_missing_credentials"


@pytest.mark.parametrize(
    ("doc", "code"),
    [
        ({"api_key": "AK", "api_secret": "AS", "apiKey": "x"}, "envelope_unknown_credentials_field"),
        ({"api_key": "AK", "api_secret": "AS", "passphrase": 7}, "envelope_invalid_credentials_field"),
        ({"api_key": "AK", "api_secret": "AS", "extra": {"a": 1}}, "envelope_invalid_credentials_field"),
        ({"api_key": "AK" * 5000, "api_secret": "AS"}, "envelope_invalid_credentials_field"),
        ({"api_key": "AK\x00", "api_secret": "AS"}, "envelope_invalid_credentials_field"),
        ({"api_key": "AK", "api_secret": "AS\n"}, "envelope_invalid_credentials_field"),
        ({"api_key": "AK", "api_secret": "AS", "passphrase": "p\r\nX-Injected: 1"},
         "envelope_invalid_credentials_field"),
    ],
)
def test_plaintext_bad_fields_rejected(key: E2EKey, doc: dict[str, Any], code: str) -> None:
    error = rejection(key, seal_credentials(key.public_key_pem, doc))
    assert error.code == code and error.status_code == 400


@pytest.mark.parametrize(
    "envelope",
    [
        "a string",
        ["list"],
        {k: v for k, v in VECTOR["payload"].items() if k != "tag"},
        {**VECTOR["payload"], "iv": 12},
        {**VECTOR["payload"], "aad": "x"},
    ],
    ids=["string", "list", "missing-tag", "iv-not-string", "unknown-field"],
)
def test_malformed_envelope_rejected(vector_key: E2EKey, envelope: Any) -> None:
    assert rejection(vector_key, envelope).code == "envelope_malformed"


def test_oversized_ciphertext_rejected(vector_key: E2EKey) -> None:
    assert rejection(vector_key, payload(ciphertext="00" * (33 * 1024))).code in {
        "envelope_too_large", "envelope_bad_hex"
    }


def test_each_rejection_has_its_own_code(vector_key: E2EKey, key: E2EKey) -> None:
    codes = {
        rejection(vector_key, payload(tag="744eedf8")).code,
        rejection(vector_key, payload(iv="00")).code,
        rejection(vector_key, payload(iv="zz")).code,
        rejection(vector_key, payload(ephemeralPublicKey="x")).code,
        rejection(key, VECTOR["payload"]).code,
        rejection(key, seal_bytes(key.public_key_pem, b"nope")).code,
        rejection(key, seal_credentials(key.public_key_pem, {"api_key": "AK"})).code,
        rejection(vector_key, {"iv": "00"}).code,
    }
    assert len(codes) == 8
    assert all(code.startswith("envelope_") for code in codes)


def test_round_trip(key: E2EKey) -> None:
    envelope = seal_credentials(key.public_key_pem, {"api_key": "k1", "api_secret": "s1", "passphrase": "p1"})
    assert set(envelope) == {"ephemeralPublicKey", "iv", "ciphertext", "tag"}
    assert len(bytes.fromhex(envelope["iv"])) == 12 and len(bytes.fromhex(envelope["tag"])) == 16
    assert envelope["ephemeralPublicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert key.open(envelope) == Credentials("k1", "s1", "p1")


def test_round_trip_optional_fields(key: E2EKey) -> None:
    plain = key.open(seal_credentials(key.public_key_pem, {"api_key": "k", "api_secret": "s"}))
    assert plain.passphrase is None and plain.extra == {}
    empty = key.open(seal_credentials(key.public_key_pem, {"api_key": "k", "api_secret": "s", "passphrase": ""}))
    assert empty.passphrase is None
    extra = {"account_id": "123", "query_id": "9"}
    doc = {"api_key": "k", "api_secret": "s", "passphrase": None, "extra": extra}
    assert key.open(seal_credentials(key.public_key_pem, doc)).extra == extra


def test_fresh_envelopes_differ(key: E2EKey) -> None:
    doc = {"api_key": "k", "api_secret": "s"}
    first, second = seal_credentials(key.public_key_pem, doc), seal_credentials(key.public_key_pem, doc)
    assert first["ephemeralPublicKey"] != second["ephemeralPublicKey"] and first["iv"] != second["iv"]


def test_uppercase_hex_accepted(vector_key: E2EKey) -> None:
    upper = {k: (v.upper() if k != "ephemeralPublicKey" else v) for k, v in VECTOR["payload"].items()}
    assert vector_key.open(upper).api_key == "AK"


def test_seal_refuses_non_p256_enclave_key() -> None:
    with pytest.raises(ValueError):
        seal_credentials(_pem(ec.generate_private_key(ec.SECP384R1()).public_key()), {"api_key": "k"})


SECRET_KEY = "AKIA-SECRET-KEY-0123456789"
SECRET = "super-secret-value-9876543210"


@pytest.mark.parametrize(
    "plaintext",
    [
        f'{{"api_key": "{SECRET_KEY}", "api_secret": "{SECRET}"'.encode(),  # truncated JSON
        f'["{SECRET_KEY}", "{SECRET}"]'.encode(),
        f'{{"api_key": "{SECRET_KEY}", "api_secret": 1}}'.encode(),
        f'{{"api_key": "{SECRET_KEY}", "api_secret": "{SECRET}", "{SECRET}": "x"}}'.encode(),
        f'{{"api_key": "{SECRET_KEY}", "api_secret": "{SECRET}", "passphrase": ["{SECRET}"]}}'.encode(),
        SECRET.encode() + b"\xff",
    ],
)
def test_rejections_never_echo_secrets(key: E2EKey, plaintext: bytes, caplog: pytest.LogCaptureFixture,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level("DEBUG")
    with pytest.raises(EnvelopeError) as info:
        key.open(seal_bytes(key.public_key_pem, plaintext))
    error = info.value
    rendered = "".join(traceback.format_exception(error)) + repr(error) + str(error.message)
    captured = capsys.readouterr()
    for secret in (SECRET_KEY, SECRET, SECRET[:12]):
        assert secret not in rendered
        assert secret not in caplog.text
        assert secret not in captured.out + captured.err
    # Nothing chained: a JSONDecodeError/UnicodeDecodeError would carry the whole plaintext.
    assert error.__cause__ is None and error.__context__ is None
