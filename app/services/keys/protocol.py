"""The attested DEK handoff, wire format and cryptography (docs/key-handoff.md is the prose version).

1. The donor issues a one-time nonce (short-lived).
2. The requester makes an ephemeral P-256 key pair and fresh evidence whose REPORT_DATA is
   `request_report_data(ephemeral SPKI, nonce, requester master_key_id)`.
3. The donor verifies that evidence (AMD chain, signature, policy, TCB, VMPL, MEASUREMENT on the
   allow-list, REPORT_DATA), then encrypts the DEK to the ephemeral key: ECDH with its own ephemeral key,
   HKDF-SHA256, AES-256-GCM with `aad(...)` naming the DEK id, the nonce and both chip ids; and returns
   it with its own fresh evidence whose REPORT_DATA is `response_report_data(...)` over the transcript.
4. The requester verifies the donor's evidence the same way, decrypts, and checks the DEK against the
   check value stored beside it before storing its own wrapping.

Nothing here touches the database or the network: pure functions, easy to test and to audit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.attestation.providers import Evidence

PROTOCOL: Final = "zka-key-handoff-v1"
NONCE_LEN: Final = 32
IV_LEN: Final = 12
_CERT_NAMES: Final = ("VCEK", "VLEK", "ASK", "ASVK", "ARK")


class ProtocolError(Exception):
    """A handoff message is malformed or does not decrypt. Safe to show and to record."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_p256_spki(der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        raise ProtocolError("ephemeral_public_key is not a DER SubjectPublicKeyInfo") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ProtocolError("ephemeral_public_key must be a P-256 key")
    return key


def request_report_data(ephemeral_spki: bytes, nonce: bytes, requester_master_key_id: str) -> bytes:
    """REPORT_DATA of the requester's evidence: binds its ephemeral key, the donor's nonce, its key id."""
    return hashlib.sha512(
        PROTOCOL.encode() + b"/request\x00" + _sha256(ephemeral_spki) + _sha256(nonce)
        + _sha256(requester_master_key_id.encode())
    ).digest()


def aad(dek_id: str, nonce: bytes, requester_chip_id: bytes, donor_chip_id: bytes) -> bytes:
    return f"{PROTOCOL}|{dek_id}|{nonce.hex()}|{requester_chip_id.hex()}|{donor_chip_id.hex()}".encode()


def response_report_data(
    *, requester_spki: bytes, donor_spki: bytes, nonce: bytes, iv: bytes, ciphertext: bytes, aad_bytes: bytes,
    donor_master_key_id: str,
) -> bytes:
    """REPORT_DATA of the donor's evidence: binds the whole response to the request, so only an attested
    donor on the allow-list can have produced this ciphertext (no planted DEK)."""
    transcript = b"".join(_sha256(part) for part in (
        requester_spki, donor_spki, nonce, iv + ciphertext, aad_bytes, donor_master_key_id.encode()))
    return hashlib.sha512(PROTOCOL.encode() + b"/response\x00" + _sha256(transcript)).digest()


def _key(private: ec.EllipticCurvePrivateKey, peer: ec.EllipticCurvePublicKey, nonce: bytes,
         requester_spki: bytes, donor_spki: bytes) -> AESGCM:
    shared = private.exchange(ec.ECDH(), peer)
    info = PROTOCOL.encode() + b"/key" + _sha256(requester_spki) + _sha256(donor_spki)
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=info).derive(shared))


@dataclass(frozen=True)
class Sealed:
    donor_spki: bytes
    iv: bytes
    ciphertext: bytes  # includes the 16-byte GCM tag


def seal_dek(dek_key: bytes, *, requester_spki: bytes, nonce: bytes, aad_bytes: bytes) -> Sealed:
    """Donor side: encrypt the DEK to the requester's attested ephemeral key."""
    peer = load_p256_spki(requester_spki)
    mine = ec.generate_private_key(ec.SECP256R1())
    donor_spki = spki_der(mine.public_key())
    iv = os.urandom(IV_LEN)
    ciphertext = _key(mine, peer, nonce, requester_spki, donor_spki).encrypt(iv, dek_key, aad_bytes)
    return Sealed(donor_spki, iv, ciphertext)


def open_dek(private: ec.EllipticCurvePrivateKey, sealed: Sealed, *, nonce: bytes, aad_bytes: bytes) -> bytes:
    """Requester side: decrypt with the ephemeral private key (the AAD must match exactly)."""
    requester_spki = spki_der(private.public_key())
    peer = load_p256_spki(sealed.donor_spki)
    try:
        key = _key(private, peer, nonce, requester_spki, sealed.donor_spki).decrypt(sealed.iv, sealed.ciphertext,
                                                                                      aad_bytes)
    except (InvalidTag, ValueError):
        raise ProtocolError("the sealed DEK does not authenticate (wrong key, AAD or altered bytes)") from None
    if len(key) != 32:
        raise ProtocolError("the sealed DEK is not 32 bytes")
    return key


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(value: Any, name: str, *, max_len: int = 16384) -> bytes:
    if not isinstance(value, str) or len(value) > max_len:
        raise ProtocolError(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{name} is not valid base64") from None


def evidence_to_json(evidence: Evidence) -> dict[str, Any]:
    return {"platform": evidence.platform, "report": b64(evidence.report),
            "certificates": {name: b64(der) for name, der in evidence.certs.items() if name in _CERT_NAMES}}


def evidence_from_json(value: Any) -> Evidence:
    if not isinstance(value, dict) or set(value) != {"platform", "report", "certificates"}:
        raise ProtocolError("evidence must be {platform, report, certificates}")
    certs = value["certificates"]
    if not isinstance(certs, dict) or not set(certs) <= set(_CERT_NAMES):
        raise ProtocolError(f"evidence.certificates may only name {', '.join(_CERT_NAMES)}")
    platform = value["platform"]
    if not isinstance(platform, str) or len(platform) > 32:
        raise ProtocolError("evidence.platform must be a short string")
    return Evidence(platform=platform, provider="peer", report=unb64(value["report"], "evidence.report"),
                    certs={name: unb64(der, f"evidence.certificates.{name}") for name, der in certs.items()})


def hex_of_length(value: Any, length: int) -> bytes | None:
    """`value` as bytes when it is a hex string of exactly `length` bytes, else None (the caller words the
    refusal: a protocol field and an allow-list entry fail with different errors)."""
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        return None
    return raw if len(raw) == length else None


def hex_field(value: Any, name: str, length: int) -> bytes:
    raw = hex_of_length(value, length)
    if raw is None:
        raise ProtocolError(f"{name} must be {length} bytes of hex")
    return raw
