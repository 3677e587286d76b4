"""Key encodings and fingerprints shared by the attestation document and its verifier.

Compatibility formats (reference/ts-original.md §31.3, go-rewrite.md): TLS fingerprint = SHA-256 of
the certificate DER as upper-case colon hex; E2E fingerprint = SHA-256 hex of the SPKI PEM *text*;
signing key = base64 DER SPKI, fingerprint = first 16 hex of SHA-256 of that base64 string.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from app.attestation.certs import load_cert

_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def spki_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(*_SPKI)


def spki_pem(key: PublicKeyTypes) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def cert_spki_der(cert_der: bytes) -> bytes:
    return spki_der(load_cert(cert_der).public_key())


def pem_to_spki_der(pem: str) -> bytes:
    return spki_der(serialization.load_pem_public_key(pem.encode()))


def b64_to_spki_der(b64: str) -> bytes:
    der = base64.b64decode(b64, validate=True)
    return spki_der(serialization.load_der_public_key(der))


def tls_fingerprint(cert_der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(cert_der).digest())


def e2e_fingerprint(public_key_pem: str) -> str:
    return hashlib.sha256(public_key_pem.encode()).hexdigest()


def signing_fingerprint(public_key_b64: str) -> str:
    return hashlib.sha256(public_key_b64.encode()).hexdigest()[:16]


def cert_pem(cert_der: bytes) -> str:
    return load_cert(cert_der).public_bytes(serialization.Encoding.PEM).decode()


def pem_to_der_cert(pem: str) -> bytes:
    return load_cert(pem.encode()).public_bytes(serialization.Encoding.DER)
