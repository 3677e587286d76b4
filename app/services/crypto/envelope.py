"""End-to-end credential envelopes (ECIES), wire-compatible with the existing clients (SPEC §5).

P-256 ECDH (shared secret = x-coordinate) -> HKDF-SHA256(salt empty, info "enclave-e2e-encryption",
32 bytes) -> AES-256-GCM with a 12-byte IV, a 16-byte tag and no AAD. Envelope fields are strings:
{"ephemeralPublicKey": SPKI PEM, "iv": hex, "ciphertext": hex, "tag": hex}.

Unlike the original we reject truncated tags and odd IV lengths: a 4-byte GCM tag can be forged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.connectors.base import Credentials
from app.services.crypto.codec import CodecError, credentials_from_json
from app.services.crypto.errors import EnvelopeError

HKDF_INFO = b"enclave-e2e-encryption"
IV_LEN = 12
TAG_LEN = 16
ENVELOPE_FIELDS = ("ephemeralPublicKey", "iv", "ciphertext", "tag")
MAX_CIPHERTEXT_BYTES = 32 * 1024
MAX_PEM_CHARS = 1024
_HEX = re.compile(r"[0-9a-fA-F]*")


class E2EKey:
    """The enclave's P-256 key pair that clients encrypt credentials to."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError("the E2E key must be a P-256 key")
        self.private_key = private_key

    @classmethod
    def generate(cls) -> E2EKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_private_pem(cls, pem: bytes | str) -> E2EKey:
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the E2E key must be an EC private key")
        return cls(key)

    @cached_property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @cached_property
    def public_spki_der(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def pem_fingerprint(self) -> str:
        """SHA-256 hex of the PEM text: the `publicKeyFingerprint` existing clients compare."""
        return hashlib.sha256(self.public_key_pem.encode()).hexdigest()

    @property
    def spki_sha256(self) -> str:
        return hashlib.sha256(self.public_spki_der).hexdigest()

    def decrypt(self, envelope: Mapping[str, Any]) -> bytes:
        return decrypt_envelope(self.private_key, envelope)

    def open(self, envelope: Mapping[str, Any]) -> Credentials:
        return open_envelope(self.private_key, envelope)

    def __repr__(self) -> str:
        return f"E2EKey(spki_sha256={self.spki_sha256[:16]}…)"


def open_envelope(private_key: ec.EllipticCurvePrivateKey, envelope: Mapping[str, Any]) -> Credentials:
    """Decrypt an envelope and parse the credentials JSON inside it."""
    plaintext = decrypt_envelope(private_key, envelope)
    failure: CodecError | None = None
    try:
        return credentials_from_json(plaintext)
    except CodecError as exc:
        failure = exc
    # Raised outside the except block so nothing chains to the plaintext-bearing original.
    raise EnvelopeError(failure.message, code=f"envelope_{failure.code}")


def decrypt_envelope(private_key: ec.EllipticCurvePrivateKey, envelope: Mapping[str, Any]) -> bytes:
    fields = _fields(envelope)
    iv = _hex_field("iv", fields["iv"])
    tag = _hex_field("tag", fields["tag"])
    ciphertext = _hex_field("ciphertext", fields["ciphertext"])
    if len(iv) != IV_LEN:
        raise EnvelopeError(
            f"iv must be exactly {IV_LEN} bytes ({IV_LEN * 2} hex characters), got {len(iv)}",
            code="envelope_bad_iv",
        )
    if len(tag) != TAG_LEN:
        raise EnvelopeError(
            f"tag must be exactly {TAG_LEN} bytes ({TAG_LEN * 2} hex characters), got {len(tag)}",
            code="envelope_bad_tag",
        )
    if len(ciphertext) > MAX_CIPHERTEXT_BYTES:
        raise EnvelopeError("ciphertext is too large", code="envelope_too_large")
    peer = _load_ephemeral_key(fields["ephemeralPublicKey"])
    aes_key = _derive_key(private_key, peer)
    ok = True
    plaintext = b""
    try:
        plaintext = AESGCM(aes_key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag:
        ok = False
    if not ok:
        raise EnvelopeError(
            "failed to decrypt credentials; encrypt to the E2E public key from /api/v1/attestation",
            code="envelope_decrypt_failed",
        )
    return plaintext


def seal_credentials(enclave_public_key_pem: str | bytes, credentials: Mapping[str, Any]) -> dict[str, str]:
    """Client side: build an envelope exactly as the existing clients do (used by the CLI and tests)."""
    plaintext = json.dumps(dict(credentials), separators=(",", ":")).encode()
    return seal_bytes(enclave_public_key_pem, plaintext)


def seal_bytes(enclave_public_key_pem: str | bytes, plaintext: bytes) -> dict[str, str]:
    pem = (
        enclave_public_key_pem.encode() if isinstance(enclave_public_key_pem, str) else enclave_public_key_pem
    )
    enclave_key = serialization.load_pem_public_key(pem)
    if not isinstance(enclave_key, ec.EllipticCurvePublicKey) or not isinstance(
        enclave_key.curve, ec.SECP256R1
    ):
        raise ValueError("the enclave E2E key must be a P-256 public key")
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    iv = os.urandom(IV_LEN)
    sealed = AESGCM(_derive_key(ephemeral, enclave_key)).encrypt(iv, plaintext, None)
    ephemeral_pem = ephemeral.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "ephemeralPublicKey": ephemeral_pem.decode(),
        "iv": iv.hex(),
        "ciphertext": sealed[:-TAG_LEN].hex(),
        "tag": sealed[-TAG_LEN:].hex(),
    }


def _derive_key(private_key: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey) -> bytes:
    shared = private_key.exchange(ec.ECDH(), peer)  # the x-coordinate, as Node's ECDH returns it
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(shared)


def _fields(envelope: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(envelope, Mapping):
        raise EnvelopeError("envelope must be a JSON object", code="envelope_malformed")
    unknown = [k for k in envelope if k not in ENVELOPE_FIELDS]
    if unknown:
        # Names are not echoed: a confused client could send plaintext credentials as field names.
        raise EnvelopeError(
            f"{len(unknown)} unexpected envelope field(s); expected exactly {', '.join(ENVELOPE_FIELDS)}",
            code="envelope_malformed",
        )
    missing = [name for name in ENVELOPE_FIELDS if not isinstance(envelope.get(name), str)]
    if missing:
        raise EnvelopeError(
            f"envelope field(s) missing or not strings: {', '.join(missing)}", code="envelope_malformed"
        )
    return {name: envelope[name] for name in ENVELOPE_FIELDS}


def _hex_field(name: str, value: str) -> bytes:
    # bytes.fromhex alone would accept embedded whitespace; insist on plain hex digits.
    if len(value) % 2 or not _HEX.fullmatch(value) or len(value) > 2 * MAX_CIPHERTEXT_BYTES + 2:
        raise EnvelopeError(f"{name} must be an even-length hex string", code="envelope_bad_hex")
    return bytes.fromhex(value)


def _load_ephemeral_key(pem: str) -> ec.EllipticCurvePublicKey:
    key: object = None
    if len(pem) <= MAX_PEM_CHARS and "-----BEGIN PUBLIC KEY-----" in pem:
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            key = None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise EnvelopeError(
            "ephemeralPublicKey must be a P-256 public key in SPKI PEM form", code="envelope_bad_public_key"
        )
    return key
